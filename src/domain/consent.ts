/**
 * The consent rules, as pure functions of a number's ledger. Every path that records consent — the
 * API (POST /contacts, /contacts/:id/consent, /contacts/:id/opt-out, /opt-outs), CSV imports and
 * inbound keywords — goes through `applyConsentEvent`, so they cannot drift apart.
 *
 * 1. The ledger is append-only: every opt-in, opt-out and HELP is an event, kept for at least four
 *    years (the TCPA's limitation period, 28 U.S.C. 1658) and never edited.
 * 2. The latest decision governs, by its `decisionTime` (ties by id, which is time-ordered): when it
 *    *happened* (`occurredAt`), so an opt-in or START that arrives late (a delayed webhook, a
 *    back-dated form) is recorded but lifts nothing when a newer decision is on record. An opt-out by
 *    text (an inbound STOP) counts from when it *reached the service* (`recordedAt`) instead: revocation
 *    by any reasonable means must be honoured (47 CFR 64.1200(a)(10); FCC 24-18), the person has just
 *    sent it, and a decision recorded while it was on its way (an opt-in dated after the STOP was sent)
 *    could not take it into account. So a delayed STOP suppresses over such an opt-in (the one
 *    confirmation tells the person, and how to START again); only a decision made after it reached the
 *    service (a later START, an opt-in recorded since) lifts it. This is the ledger's own order (the
 *    order events were appended), which is also what replaying the ledger gives.
 * 3. Nothing happens after it was recorded: `occurredAt` is never later than `recordedAt`.
 * 4. An opt-in whose time is unknown (a CSV row without consentAt, re-sent every night by a CRM)
 *    cannot be shown to be newer than an opt-out, so it is not recorded over one.
 * 5. The number is suppressed exactly while its governing decision is an opt-out; a suppression
 *    blocks every message, a missing opt-in only marketing (47 CFR 64.1200(a)(10)-(12); FCC 24-18).
 */

export type ConsentEventType = 'opt_in' | 'opt_out' | 'help'

/** Who recorded an event (never the person's evidence): the API key's label, the request, the file. */
export interface Recorder {
  /** 'api-key:<first 12 hex of the key's SHA-256>', 'api:open' when no keys are configured, or 'infobip-webhook'. */
  recordedBy: string
  requestId: string | null
  /** The uploaded file's name, for imports that give one. */
  fileName: string | null
}

/** One ledger entry, the same shape from every path. Timestamps are ISO-8601 UTC. */
export interface ConsentEvent extends Recorder {
  id: string
  phoneNumber: string
  contactId: string | null
  type: ConsentEventType
  /** How the consent or revocation was given: web_form, keyword, import, api, paper, … */
  source: string
  /** The exact disclosure agreed to, the raw inbound text, or the opt-out reason. */
  text: string | null
  /** The subscriber's own evidence, where known. */
  ip: string | null
  userAgent: string | null
  /** Canonical keyword of an inbound reply ('STOP', 'ARRET', 'HELP', …). */
  keyword: string | null
  occurredAt: string
  recordedAt: string
}

/** The decision that counts for a number: its latest opt-in or opt-out, `at` its decisionTime. */
export interface LatestDecision { type: 'opt_in' | 'opt_out', at: string, id: string }

/** The source of consent events that come by text (inbound keywords). */
export const TEXT_SOURCE = 'keyword'

/** What a decision is ordered by (rule 2): `recordedAt` for an opt-out by text, `occurredAt` otherwise. */
export function decisionTime (event: { type: ConsentEventType, source: string, occurredAt: string, recordedAt: string }): string {
  return event.type === 'opt_out' && event.source === TEXT_SOURCE ? event.recordedAt : event.occurredAt
}

export interface LedgerState {
  latest: LatestDecision | null
  suppressed: boolean
}

/** A number's ledger before anything was recorded for it: no decision, not suppressed. */
export const BLANK_LEDGER: Readonly<LedgerState> = Object.freeze({ latest: null, suppressed: false })

/** True when nothing was ever recorded for the number (no consent decision, no suppression). */
export function isBlankLedger (state: LedgerState): boolean {
  return state.latest === null && !state.suppressed
}

/** Whether decision `a` comes after `b` (by decisionTime `at`, then by id). */
export function isLater (a: { at: string, id: string }, b: { at: string, id: string } | null): boolean {
  return b === null || a.at > b.at || (a.at === b.at && a.id > b.id)
}

/** What a contact's `subscribed` flag says: the governing decision is an opt-in and nothing suppresses the number. */
export function isSubscribed (state: LedgerState): boolean {
  return state.latest?.type === 'opt_in' && !state.suppressed
}

/**
 * The event's time, never after it was recorded (rule 3). Compared as instants, not as text: an ISO 8601
 * expanded year (`+010000-01-01T…`) sorts before `2026-…` as text though it is later.
 */
export function occurredAtMost (occurredAt: string, recordedAt: string): string {
  return Date.parse(occurredAt) > Date.parse(recordedAt) ? recordedAt : occurredAt
}

export interface ConsentEffect {
  /** The ledger after the event. */
  state: LedgerState
  /** False when the event is not written at all (rule 4). */
  recorded: boolean
  /** The event is now the governing decision. */
  governs: boolean
  /** The number became suppressed by this event (it was not before): confirm the opt-out once. */
  suppress: boolean
  /** A suppression was lifted by this event. */
  lift: boolean
  /**
   * An opt-out by text took effect over an opt-in dated after the STOP was sent, recorded while the STOP was
   * on its way (rule 2): worth a word in the log, since the trail lists the opt-in last.
   */
  overridesNewer: boolean
}

/**
 * Applies one event to a number's ledger state (rules 2, 4 and 5). `source` and `recordedAt` place it in the
 * ledger's order (decisionTime); `undated` (default false): the opt-in's time is unknown (rule 4). The caller writes the
 * event when `recorded`, and the suppression changes.
 */
export function applyConsentEvent (
  state: LedgerState,
  event: { type: ConsentEventType, source: string, occurredAt: string, recordedAt: string, id: string },
  undated = false
): ConsentEffect {
  const unchanged = { state, recorded: true, governs: false, suppress: false, lift: false, overridesNewer: false }
  if (event.type === 'help') return unchanged
  if (event.type === 'opt_in' && undated && state.latest?.type === 'opt_out') return { ...unchanged, recorded: false }
  const latest: LatestDecision = { type: event.type, at: decisionTime(event), id: event.id }
  if (!isLater(latest, state.latest)) return unchanged
  if (event.type === 'opt_out') {
    const overridesNewer = state.latest?.type === 'opt_in' && state.latest.at > event.occurredAt
    return { state: { latest, suppressed: true }, recorded: true, governs: true, suppress: !state.suppressed, lift: false, overridesNewer }
  }
  return { state: { latest, suppressed: false }, recorded: true, governs: true, suppress: false, lift: state.suppressed, overridesNewer: false }
}
