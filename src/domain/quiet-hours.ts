/**
 * Quiet hours: may a marketing message reach the recipient right now, and if
 * not, when is the earliest moment it may? Pure: the clock is passed in.
 *
 * The effective window for a zone on a local calendar day is the
 * intersection of the configured `defaultWindow` with, for US recipients
 * (country 'US', territories included), the federal TCPA window and the
 * state rule for `region` (see rules.ts; the stricter wins, rules apply from
 * their `effectiveFrom` local date). Other countries get `defaultWindow` only.
 *
 * A message may go only while EVERY candidate zone is inside its window.
 * Windows are start-inclusive, end-exclusive ('21:00' end: 20:59:59 is in,
 * 21:00:00 is out). Local wall time comes from Intl.DateTimeFormat, so DST
 * gaps (spring forward) and overlaps (fall back) follow the tz database: a
 * window opening inside a gap opens at the first instant after it, and after
 * a fall-back the repeated hour is judged by its (repeated) wall time.
 *
 * An empty `timeZones` list is treated as ['UTC']: the function stays total,
 * but callers are expected to pass the configured default zone instead.
 */
import { US_FEDERAL_RULE, stateRule, type CallingHoursRule, type Weekday } from './rules.js'

export interface TimeWindow {
  /** 'HH:MM', 24 h, inclusive. */
  start: string
  /** 'HH:MM', 24 h, exclusive; '24:00' allowed for "until midnight". */
  end: string
}

export type QuietHoursDecision =
  | { allowed: true }
  | { allowed: false; nextAllowedAt: Date; reason: string }

export interface QuietHoursInput {
  now: Date
  /** Candidate IANA zones of the recipient (see locateNumber); [] → ['UTC']. */
  timeZones: string[]
  /** State / province code, e.g. 'FL'; selects the state rule for US numbers. */
  region: string | null
  /** ISO country code; 'US' enables the federal and state rules. */
  country: string | null
  /** Operator-configured window, applied everywhere. */
  defaultWindow: TimeWindow
}

// --- windows ------------------------------------------------------------------------

const HHMM = /^(\d{1,2}):(\d{2})$/

/** 'HH:MM' → minutes after midnight; end may be '24:00'. Throws on bad input. */
function toMinutes (hhmm: string, allowMidnightEnd: boolean): number {
  const m = HHMM.exec(hhmm.trim())
  if (!m) throw new RangeError(`invalid time '${hhmm}', expected HH:MM`)
  const h = Number(m[1])
  const min = Number(m[2])
  if (min > 59 || h > 24 || (h === 24 && (min !== 0 || !allowMidnightEnd))) {
    throw new RangeError(`invalid time '${hhmm}'`)
  }
  return h * 60 + min
}

function formatMinutes (minutes: number): string {
  const h = Math.floor(minutes / 60)
  const m = minutes % 60
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`
}

/**
 * Parse '08:00-21:00' (also '8:00 - 21:00', or with an en dash) into a
 * normalized window. Throws RangeError unless start < end.
 */
export function parseWindow (spec: string): TimeWindow {
  const parts = spec.split(/\s*[-–]\s*/)
  if (parts.length !== 2) throw new RangeError(`invalid window '${spec}', expected HH:MM-HH:MM`)
  const start = toMinutes(parts[0] ?? '', false)
  const end = toMinutes(parts[1] ?? '', true)
  if (start >= end) throw new RangeError(`invalid window '${spec}': start must be before end`)
  return { start: formatMinutes(start), end: formatMinutes(end) }
}

interface MinuteWindow { start: number; end: number }

function minuteWindow (w: TimeWindow): MinuteWindow {
  const start = toMinutes(w.start, false)
  const end = toMinutes(w.end, true)
  if (start >= end) throw new RangeError(`invalid window ${w.start}-${w.end}: start must be before end`)
  return { start, end }
}

// --- wall clock -------------------------------------------------------------------

const MINUTE = 60_000
const DAY = 86_400_000
/** How far ahead nextAllowedAt is searched: a full week plus a day. */
const HORIZON_DAYS = 8

interface Wall {
  /** The wall-clock reading as if it were UTC, in ms (second precision). */
  ms: number
  /** Local calendar date 'YYYY-MM-DD'. */
  date: string
  weekday: Weekday
  /** Minutes after local midnight, 0…1439. */
  minute: number
  /** Date.UTC of local midnight of this date. */
  midnight: number
}

const MAX_CACHED_ZONES = 1000
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor (zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone)
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit'
      })
    } catch {
      throw new RangeError(`unknown time zone '${zone}'`)
    }
    // Zone names are case-insensitive, so spellings are unbounded: cap what is kept.
    if (formatters.size < MAX_CACHED_ZONES) formatters.set(zone, f)
  }
  return f
}

/** An IANA zone this runtime knows. Valid zones keep their formatter, so checking many rows costs one build each. */
export function isTimeZone (zone: string): boolean {
  try {
    formatterFor(zone)
    return true
  } catch {
    return false
  }
}

function wallAt (zone: string, ms: number): Wall {
  const fields: Record<string, number> = {}
  for (const p of formatterFor(zone).formatToParts(ms)) {
    if (p.type !== 'literal') fields[p.type] = Number(p.value)
  }
  const year = fields.year ?? 0
  const month = fields.month ?? 1
  const day = fields.day ?? 1
  const hour = (fields.hour ?? 0) % 24 // some ICU versions print midnight as 24
  const minute = fields.minute ?? 0
  const second = fields.second ?? 0
  const midnight = Date.UTC(year, month - 1, day)
  return {
    ms: midnight + hour * 3_600_000 + minute * MINUTE + second * 1000,
    date: isoDate(midnight),
    weekday: new Date(midnight).getUTCDay() as Weekday,
    minute: hour * 60 + minute,
    midnight
  }
}

function isoDate (utcMidnight: number): string {
  return new Date(utcMidnight).toISOString().slice(0, 10)
}

/** UTC offset of `zone` at instant `ms`, in ms (wall − UTC). */
function offsetAt (zone: string, ms: number): number {
  const whole = Math.floor(ms / 1000) * 1000
  return wallAt(zone, whole).ms - whole
}

/**
 * Instants at which `zone`'s wall clock reads exactly `wall` (ms as if UTC):
 * one normally, two in a fall-back overlap. In a spring-forward gap the wall
 * time never occurs; then the single result is the first instant after the
 * gap (the transition), when the wall clock first reads `wall` or later.
 */
function instantsForWall (zone: string, wall: number): number[] {
  const before = offsetAt(zone, wall - DAY)
  const after = offsetAt(zone, wall + DAY)
  const hits = [...new Set([wall - before, wall - after])]
    .filter((t) => wallAt(zone, t).ms === wall)
    .sort((a, b) => a - b)
  if (hits.length > 0) return hits
  // Gap: the wall clock is below `wall` at `lo` and past it at `hi`.
  let lo = Math.min(wall - before, wall - after)
  let hi = Math.max(wall - before, wall - after)
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE
    if (wallAt(zone, mid).ms >= wall) hi = mid
    else lo = mid
  }
  return [hi]
}

// --- rules → effective window -------------------------------------------------

interface Context {
  region: string | null
  defaultWindow: MinuteWindow
  rules: CallingHoursRule[]
}

function applicableRules (country: string | null, region: string | null): CallingHoursRule[] {
  if (country?.toUpperCase() !== 'US') return []
  const state = stateRule(region ?? undefined)
  return state ? [US_FEDERAL_RULE, state] : [US_FEDERAL_RULE]
}

/** Effective window on a local date, or null when no sending is allowed that day. */
function windowOn (ctx: Context, date: string, weekday: Weekday): MinuteWindow | null {
  let { start, end } = ctx.defaultWindow
  for (const rule of ctx.rules) {
    if (date < rule.effectiveFrom) continue
    const w = rule.windows[weekday]
    if (!w) return null
    const r = minuteWindow(w)
    start = Math.max(start, r.start)
    end = Math.min(end, r.end)
  }
  return start < end ? { start, end } : null
}

function insideAt (ctx: Context, zone: string, ms: number): boolean {
  const wall = wallAt(zone, ms)
  const w = windowOn(ctx, wall.date, wall.weekday)
  return w !== null && wall.minute >= w.start && wall.minute < w.end
}

/** Earliest instant > t at which `zone` is inside its window (zone is outside at t); null if none within the horizon. */
function nextOpening (ctx: Context, zone: string, t: number): number | null {
  const now = wallAt(zone, t)
  for (let i = 0; i <= HORIZON_DAYS; i++) {
    const midnight = now.midnight + i * DAY
    const date = isoDate(midnight)
    const weekday = new Date(midnight).getUTCDay() as Weekday
    const w = windowOn(ctx, date, weekday)
    if (!w || (i === 0 && now.minute >= w.end)) continue
    for (const candidate of instantsForWall(zone, midnight + w.start * MINUTE)) {
      if (candidate <= t) continue
      const wall = wallAt(zone, candidate)
      // A DST gap can swallow the whole window: then try the next day.
      if (wall.date === date && wall.minute >= w.start && wall.minute < w.end) return candidate
    }
  }
  return null
}

function reasonFor (ctx: Context, zone: string, ms: number): string {
  const wall = wallAt(zone, ms)
  const w = windowOn(ctx, wall.date, wall.weekday)
  const where = `${zone}${ctx.region ? ` (${ctx.region})` : ''}`
  return w
    ? `outside ${formatMinutes(w.start)}–${formatMinutes(w.end)} in ${where}`
    : `no sending window on ${WEEKDAYS[wall.weekday]} ${wall.date} in ${where}`
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const

// --- public -------------------------------------------------------------------------

/**
 * Decide whether a marketing message may be sent at `now`.
 *
 * If not, `nextAllowedAt` is the earliest instant ≥ now at which every zone is
 * inside its effective window (minute-aligned), and `reason` names the zone(s)
 * currently outside, e.g. 'outside 08:00–20:00 in America/New_York (FL)'.
 *
 * Throws RangeError for an invalid `now`, window or zone, and when the zones'
 * windows never overlap within the next 8 days (e.g. a one-hour default
 * window for candidate zones three hours apart) — a configuration problem
 * that must not turn into an endless reschedule loop.
 */
export function checkQuietHours (input: QuietHoursInput): QuietHoursDecision {
  // A dispatcher decides hundreds of recipients at one instant, nearly all in a few zones: the same question
  // gets the same answer (pure function), so recent answers are reused.
  const key = `${input.now.getTime()}|${input.timeZones.join(',')}|${input.region ?? ''}|${input.country ?? ''}|${input.defaultWindow.start}-${input.defaultWindow.end}`
  const known = recentDecisions.get(key)
  if (known !== undefined) return known
  const decision = decideQuietHours(input)
  if (recentDecisions.size >= RECENT_DECISIONS) recentDecisions.clear()
  recentDecisions.set(key, decision)
  return decision
}

const RECENT_DECISIONS = 512
const recentDecisions = new Map<string, QuietHoursDecision>()

function decideQuietHours (input: QuietHoursInput): QuietHoursDecision {
  const nowMs = input.now.getTime()
  if (!Number.isFinite(nowMs)) throw new RangeError('checkQuietHours: invalid now')
  const zones = input.timeZones.length > 0 ? [...new Set(input.timeZones)] : ['UTC']
  const ctx: Context = {
    region: input.region,
    defaultWindow: minuteWindow(input.defaultWindow),
    rules: applicableRules(input.country, input.region)
  }

  const outside = zones.filter((z) => !insideAt(ctx, z, nowMs))
  if (outside.length === 0) return { allowed: true }
  const reason = outside.map((z) => reasonFor(ctx, z, nowMs)).join('; ')

  // Jump from opening to opening: while some zone is outside, no instant
  // before that zone's next opening can work, so advancing to the latest of
  // those openings never skips the answer.
  const limit = nowMs + HORIZON_DAYS * DAY
  let t = nowMs
  for (let guard = 0; guard < 10_000; guard++) {
    let next = t
    let allInside = true
    for (const zone of zones) {
      if (insideAt(ctx, zone, t)) continue
      allInside = false
      const opening = nextOpening(ctx, zone, t)
      if (opening === null) { next = Infinity; break }
      next = Math.max(next, opening)
    }
    if (allInside) return { allowed: false, nextAllowedAt: new Date(t), reason }
    if (!(next > t) || next > limit) break
    t = next
  }
  throw new RangeError(
    `checkQuietHours: no instant within ${HORIZON_DAYS} days at which ${zones.join(', ')} are all inside their windows`
  )
}
