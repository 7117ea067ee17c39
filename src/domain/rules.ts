/**
 * THE rule table for "when may marketing messages reach a recipient".
 *
 * Every legal calling-hour / frequency rule the service enforces lives in this
 * file as data. A change in the law must be a change to the table below and
 * nothing else: `quiet-hours.ts` and the frequency-cap callers only interpret it.
 *
 * Sources (checked against the statute text; re-check when a law changes):
 * - US federal: TCPA rules, 47 CFR § 64.1200(c)(1) — no telephone solicitation
 *   before 8 a.m. or after 9 p.m. local time at the called party's location.
 * - FL: Florida Telephone Solicitation Act (FTSA), Fla. Stat. § 501.616(6),
 *   as amended by SB 1120 (2021), effective 2021-07-01 — 8 a.m.–8 p.m., and at
 *   most 3 commercial telephone solicitation calls/texts on the same subject
 *   matter in a 24-hour period.
 * - OK: Oklahoma Telephone Solicitation Act of 2022 (HB 3168), 15 O.S.
 *   § 775C.4, effective 2022-11-01 — 8 a.m.–8 p.m., at most 3 per 24 hours.
 * - MD: Stop the Spam Calls Act of 2023 (SB 90 / HB 37), Md. Code, Com. Law
 *   § 14-4503, effective 2024-01-01 — 8 a.m.–8 p.m., at most 3 per 24 hours.
 * - WA: RCW 19.158.040(1) — no telephone solicitation before 8 a.m. or after
 *   8 p.m.
 * - CT: Public Act 23-98 (SB 1058), Conn. Gen. Stat. § 42-288a, effective
 *   2023-10-01 — 9 a.m.–8 p.m.
 * - TX: Tex. Bus. & Com. Code § 301.051 (hours), extended to text messages by
 *   SB 140 (89th Leg., 2025), effective 2025-09-01 — Monday–Saturday
 *   9 a.m.–9 p.m., Sunday noon–9 p.m.
 *
 * Conventions:
 * - Windows are local wall-clock times at the recipient, 'HH:MM' 24 h,
 *   start inclusive, end exclusive (a rule "until 9 p.m." is `end: '21:00'`:
 *   21:00:00 itself is outside).
 * - `windows` is indexed by weekday, 0 = Sunday … 6 = Saturday; `null` means
 *   no sending at all that day.
 * - `effectiveFrom` is the first local calendar date (YYYY-MM-DD) on which
 *   the rule applies; before that date the rule is ignored.
 * - `frequencyCap`: at most `max` marketing messages per rolling
 *   `windowHours` hours; `null` when the law sets no cap.
 */
import type { TimeWindow } from './quiet-hours.js'

/** 0 = Sunday … 6 = Saturday (same numbering as `Date.prototype.getUTCDay`). */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6

/** One entry per weekday, Sunday first; `null` = no window that day. */
export type WeeklyWindows = readonly [
  TimeWindow | null, TimeWindow | null, TimeWindow | null, TimeWindow | null,
  TimeWindow | null, TimeWindow | null, TimeWindow | null
]

export interface FrequencyCap {
  max: number
  windowHours: number
}

export interface CallingHoursRule {
  /** 'US' for the federal rule, otherwise the USPS state code. */
  jurisdiction: string
  /** Human-readable name of the law. */
  law: string
  /** Statute / regulation citation. */
  citation: string
  /** First local date (YYYY-MM-DD) the rule applies. */
  effectiveFrom: string
  windows: WeeklyWindows
  frequencyCap: FrequencyCap | null
}

export interface StateRule extends CallingHoursRule {
  /** USPS two-letter state code, e.g. 'FL'. */
  state: string
}

// --- helpers to keep the table readable (still pure data) ---------------------

const w = (start: string, end: string): TimeWindow => ({ start, end })

/** The same window every day of the week. */
function daily (start: string, end: string): WeeklyWindows {
  const x = w(start, end)
  return [x, x, x, x, x, x, x]
}

/** One window on Sunday, another Monday–Saturday. */
function sundayAndRest (sunday: TimeWindow, mondayToSaturday: TimeWindow): WeeklyWindows {
  const r = mondayToSaturday
  return [sunday, r, r, r, r, r, r]
}

const THREE_PER_DAY: FrequencyCap = { max: 3, windowHours: 24 }

// --- THE TABLE ------------------------------------------------------------------

/** Applies to every US recipient (states and territories). */
export const US_FEDERAL_RULE: CallingHoursRule = {
  jurisdiction: 'US',
  law: 'Telephone Consumer Protection Act (TCPA)',
  citation: '47 CFR 64.1200(c)(1)',
  effectiveFrom: '1992-12-20',
  windows: daily('08:00', '21:00'),
  frequencyCap: null
}

/** State rules; they apply on top of the federal rule (the stricter wins). */
export const STATE_RULES: readonly StateRule[] = [
  {
    state: 'FL',
    jurisdiction: 'FL',
    law: 'Florida Telephone Solicitation Act (FTSA)',
    citation: 'Fla. Stat. 501.616(6)',
    effectiveFrom: '2021-07-01',
    windows: daily('08:00', '20:00'),
    frequencyCap: THREE_PER_DAY
  },
  {
    state: 'OK',
    jurisdiction: 'OK',
    law: 'Oklahoma Telephone Solicitation Act of 2022 (OTSA)',
    citation: '15 O.S. 775C.4',
    effectiveFrom: '2022-11-01',
    windows: daily('08:00', '20:00'),
    frequencyCap: THREE_PER_DAY
  },
  {
    state: 'MD',
    jurisdiction: 'MD',
    law: 'Stop the Spam Calls Act of 2023',
    citation: 'Md. Code, Com. Law 14-4503',
    effectiveFrom: '2024-01-01',
    windows: daily('08:00', '20:00'),
    frequencyCap: THREE_PER_DAY
  },
  {
    state: 'WA',
    jurisdiction: 'WA',
    law: 'Washington Commercial Telephone Solicitation Act',
    citation: 'RCW 19.158.040',
    effectiveFrom: '1989-07-23',
    windows: daily('08:00', '20:00'),
    frequencyCap: null
  },
  {
    state: 'CT',
    jurisdiction: 'CT',
    law: 'Connecticut Public Act 23-98',
    citation: 'Conn. Gen. Stat. 42-288a (PA 23-98)',
    effectiveFrom: '2023-10-01',
    windows: daily('09:00', '20:00'),
    frequencyCap: null
  },
  {
    state: 'TX',
    jurisdiction: 'TX',
    law: 'Texas SB 140 (telephone solicitation incl. text messages)',
    citation: 'Tex. Bus. & Com. Code 301.051 (SB 140, 2025)',
    effectiveFrom: '2025-09-01',
    windows: sundayAndRest(w('12:00', '21:00'), w('09:00', '21:00')),
    frequencyCap: null
  }
]

// --- lookups ----------------------------------------------------------------------

const BY_STATE: ReadonlyMap<string, StateRule> = new Map(STATE_RULES.map((r) => [r.state, r]))

/** The state rule for a USPS state code (case-insensitive), if the table has one. */
export function stateRule (state: string | undefined): StateRule | undefined {
  if (state === undefined) return undefined
  return BY_STATE.get(state.trim().toUpperCase())
}

/**
 * The marketing frequency cap for a state, or null when none applies.
 * (Effective dates are not consulted here: every cap in the table is already
 * in force; add a date parameter if a future cap needs one.)
 */
export function frequencyCapFor (state: string | undefined): { max: number; windowHours: number } | null {
  const cap = stateRule(state)?.frequencyCap
  return cap ? { max: cap.max, windowHours: cap.windowHours } : null
}
