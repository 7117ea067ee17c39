import { describe, expect, it } from 'vitest'
import { checkQuietHours, parseWindow, type QuietHoursDecision, type TimeWindow } from '../../src/domain/quiet-hours.js'
import { locateNumber, type RecipientLocation } from '../../src/domain/recipient-location.js'
import { STATE_RULES, frequencyCapFor, stateRule } from '../../src/domain/rules.js'

// Calendar facts used below (2026): 2026-06-13 is a Saturday, 2026-06-14 a
// Sunday, 2026-06-15 a Monday. US DST starts 2026-03-08 and ends 2026-11-01.
// In June: EDT = UTC-4, CDT = UTC-5, MDT = UTC-6, PDT = UTC-7.

const DEFAULT = parseWindow('08:00-21:00')

function check (now: string, where: RecipientLocation | string, defaultWindow: TimeWindow = DEFAULT): QuietHoursDecision {
  const loc = typeof where === 'string' ? locateNumber(where) : where
  return checkQuietHours({ now: new Date(now), ...loc, defaultWindow })
}

/** nextAllowedAt as ISO, or 'allowed'. */
function next (now: string, where: RecipientLocation | string, defaultWindow?: TimeWindow): string {
  const d = check(now, where, defaultWindow)
  return d.allowed ? 'allowed' : d.nextAllowedAt.toISOString()
}

const NY = '+12125550123'
const FL = '+13055550123'
const FL_PANHANDLE = '+18505550123'
const OK = '+14055550123'
const MD = '+14105550123'
const WA = '+12065550123'
const CT = '+12035550123'
const TX = '+15125550123'

/** A location with only the given zone and no country: only defaultWindow applies. */
const zoneOnly = (zone: string): RecipientLocation => ({ country: null, region: null, timeZones: [zone] })

describe('parseWindow', () => {
  it('parses and normalizes', () => {
    expect(parseWindow('08:00-21:00')).toEqual({ start: '08:00', end: '21:00' })
    expect(parseWindow(' 8:00 - 21:30 ')).toEqual({ start: '08:00', end: '21:30' })
    expect(parseWindow('09:00–20:00')).toEqual({ start: '09:00', end: '20:00' })
    expect(parseWindow('00:00-24:00')).toEqual({ start: '00:00', end: '24:00' })
  })

  it.each(['', 'abc', '08:00', '08:00-', '21:00-08:00', '08:00-08:00', '25:00-26:00', '08:60-09:00', '24:00-24:00', '08:00-24:30', '8-21', '08:00-12:00-13:00'])(
    'throws on %j', (spec) => {
      expect(() => parseWindow(spec)).toThrow(RangeError)
    })
})

describe('rule table', () => {
  it('looks up state rules case-insensitively', () => {
    expect(stateRule('FL')?.windows[1]).toEqual({ start: '08:00', end: '20:00' })
    expect(stateRule('ct')?.windows[3]).toEqual({ start: '09:00', end: '20:00' })
    expect(stateRule('TX')?.windows[0]).toEqual({ start: '12:00', end: '21:00' })
    expect(stateRule('TX')?.windows[6]).toEqual({ start: '09:00', end: '21:00' })
    expect(stateRule('NY')).toBeUndefined()
    expect(stateRule(undefined)).toBeUndefined()
    expect(STATE_RULES.map((r) => r.state).sort()).toEqual(['CT', 'FL', 'MD', 'OK', 'TX', 'WA'])
  })

  it('has frequency caps for FL, OK and MD only', () => {
    expect(frequencyCapFor('FL')).toEqual({ max: 3, windowHours: 24 })
    expect(frequencyCapFor('OK')).toEqual({ max: 3, windowHours: 24 })
    expect(frequencyCapFor('md')).toEqual({ max: 3, windowHours: 24 })
    for (const s of ['WA', 'CT', 'TX', 'NY', undefined]) expect(frequencyCapFor(s), String(s)).toBeNull()
  })
})

describe('checkQuietHours: US federal and state windows', () => {
  it('NY at 23:00 local → 08:00 local next day', () => {
    expect(check('2026-06-16T03:00:00Z', NY)).toEqual({
      allowed: false,
      nextAllowedAt: new Date('2026-06-16T12:00:00.000Z'),
      reason: 'outside 08:00–21:00 in America/New_York (NY)'
    })
    // winter: EST
    expect(next('2026-01-16T04:00:00Z', NY)).toBe('2026-01-16T13:00:00.000Z')
  })

  it('NY at noon is allowed', () => {
    expect(check('2026-06-15T16:00:00Z', NY)).toEqual({ allowed: true })
  })

  it('FL at 20:30 local is refused until 08:00 (NY would be allowed)', () => {
    expect(check('2026-06-16T00:30:00Z', FL)).toEqual({
      allowed: false,
      nextAllowedAt: new Date('2026-06-16T12:00:00.000Z'),
      reason: 'outside 08:00–20:00 in America/New_York (FL)'
    })
    expect(next('2026-06-16T00:30:00Z', NY)).toBe('allowed')
  })

  it('CT at 08:30 is refused until 09:00', () => {
    expect(check('2026-06-15T12:30:00Z', CT)).toEqual({
      allowed: false,
      nextAllowedAt: new Date('2026-06-15T13:00:00.000Z'),
      reason: 'outside 09:00–20:00 in America/New_York (CT)'
    })
  })

  it('OK, MD and WA close at 20:00 and open at 08:00', () => {
    expect(next('2026-06-16T01:15:00Z', OK)).toBe('2026-06-16T13:00:00.000Z') // 20:15 CDT
    expect(next('2026-06-15T11:59:00Z', MD)).toBe('2026-06-15T12:00:00.000Z') // 07:59 EDT
    expect(next('2026-06-16T03:00:00Z', WA)).toBe('2026-06-16T15:00:00.000Z') // 20:00 PDT
  })

  it('TX on Sunday at 10:00 → noon the same day', () => {
    expect(check('2026-06-14T15:00:00Z', TX)).toEqual({
      allowed: false,
      nextAllowedAt: new Date('2026-06-14T17:00:00.000Z'),
      reason: 'outside 12:00–21:00 in America/Chicago (TX)'
    })
  })

  it('TX on Saturday at 10:00 is allowed; on Monday at 08:30 it waits for 09:00', () => {
    expect(check('2026-06-13T15:00:00Z', TX)).toEqual({ allowed: true })
    expect(next('2026-06-15T13:30:00Z', TX)).toBe('2026-06-15T14:00:00.000Z')
  })

  it('TX Saturday 21:00 → Sunday noon (weekday of the next opening comes from the rule)', () => {
    expect(next('2026-06-14T02:00:00Z', TX)).toBe('2026-06-14T17:00:00.000Z')
  })

  it('state rules apply only from their effective date (TX SB 140: 2025-09-01)', () => {
    expect(next('2025-08-31T15:00:00Z', TX)).toBe('allowed') // Sunday 10:00 CDT, federal 08–21 only
    expect(next('2025-09-07T15:00:00Z', TX)).toBe('2025-09-07T17:00:00.000Z')
  })

  it('window end is exclusive, start inclusive (21:00 federal, 20:00 state)', () => {
    expect(next('2026-06-16T00:59:59Z', NY)).toBe('allowed') // 20:59:59 EDT
    expect(next('2026-06-16T01:00:00Z', NY)).toBe('2026-06-16T12:00:00.000Z') // 21:00:00 EDT
    expect(next('2026-06-15T23:59:59.999Z', FL)).toBe('allowed') // 19:59:59.999 EDT
    expect(next('2026-06-16T00:00:00Z', FL)).toBe('2026-06-16T12:00:00.000Z') // 20:00:00 EDT
    expect(next('2026-06-15T12:00:00Z', FL)).toBe('allowed') // 08:00:00 EDT
    expect(next('2026-06-15T11:59:59Z', FL)).toBe('2026-06-15T12:00:00.000Z')
  })

  it('nextAllowedAt is minute-aligned even when now has seconds', () => {
    expect(next('2026-06-16T03:00:27.123Z', NY)).toBe('2026-06-16T12:00:00.000Z')
  })

  it('the stricter of defaultWindow and the legal window wins', () => {
    // narrow default beats FL's 08:00
    expect(next('2026-06-15T13:00:00Z', FL, parseWindow('10:00-18:00'))).toBe('2026-06-15T14:00:00.000Z')
    // a wide-open default cannot override federal 21:00
    expect(next('2026-06-16T02:00:00Z', NY, parseWindow('00:00-24:00'))).toBe('2026-06-16T12:00:00.000Z')
  })

  it('US territories get the federal window', () => {
    // 21:30 AST in Puerto Rico (UTC-4, no DST)
    expect(next('2026-06-16T01:30:00Z', '+17875550123', parseWindow('00:00-24:00'))).toBe('2026-06-16T12:00:00.000Z')
  })
})

describe('checkQuietHours: several candidate zones', () => {
  it('FL panhandle (850): refused while Central time is before 08:00, even if Eastern is inside', () => {
    // 08:30 EDT / 07:30 CDT
    expect(check('2026-06-15T12:30:00Z', FL_PANHANDLE)).toEqual({
      allowed: false,
      nextAllowedAt: new Date('2026-06-15T13:00:00.000Z'),
      reason: 'outside 08:00–20:00 in America/Chicago (FL)'
    })
    expect(next('2026-06-15T13:00:00Z', FL_PANHANDLE)).toBe('allowed')
  })

  it('FL panhandle (850) in the evening: Eastern closes first, next is when Central opens', () => {
    // 20:00 EDT / 19:00 CDT → next day 08:00 CDT (Eastern opened an hour earlier)
    expect(check('2026-06-16T00:00:00Z', FL_PANHANDLE)).toEqual({
      allowed: false,
      nextAllowedAt: new Date('2026-06-16T13:00:00.000Z'),
      reason: 'outside 08:00–20:00 in America/New_York (FL)'
    })
  })

  it('Idaho (208): waits for Pacific time', () => {
    expect(next('2026-06-15T14:30:00Z', '+12085550123')).toBe('2026-06-15T15:00:00.000Z') // 08:30 MDT, 07:30 PDT
  })

  it('+61 Australia: every mainland zone must be inside the window (June, no DST)', () => {
    const au = locateNumber('+61255550123')
    const w = parseWindow('09:00-20:00')
    // 10:00 in Sydney but 08:00 in Perth
    expect(check('2026-06-15T00:00:00Z', au, w)).toEqual({
      allowed: false,
      nextAllowedAt: new Date('2026-06-15T01:00:00.000Z'),
      reason: 'outside 09:00–20:00 in Australia/Perth'
    })
    expect(next('2026-06-15T09:59:00Z', au, w)).toBe('allowed') // 19:59 Sydney, 17:59 Perth
    expect(next('2026-06-15T10:00:00Z', au, w)).toBe('2026-06-16T01:00:00.000Z')
  })

  it('+61 Australia in January: Sydney on DST (UTC+11) closes at 09:00Z', () => {
    const au = locateNumber('+61255550123')
    expect(next('2026-01-15T09:00:00Z', au, parseWindow('09:00-20:00'))).toBe('2026-01-16T01:00:00.000Z')
  })

  it('deduplicates zones', () => {
    const loc = { country: 'US', region: 'NY', timeZones: ['America/New_York', 'America/New_York'] }
    expect(next('2026-06-16T03:00:00Z', loc)).toBe('2026-06-16T12:00:00.000Z')
  })
})

describe('checkQuietHours: DST transitions (America/New_York 2026)', () => {
  it('spring forward 2026-03-08: 08:00 EDT is 12:00Z, not 13:00Z', () => {
    expect(next('2026-03-08T04:00:00Z', NY)).toBe('2026-03-08T12:00:00.000Z') // 23:00 EST Mar 7
    expect(next('2026-03-08T06:30:00Z', NY)).toBe('2026-03-08T12:00:00.000Z') // 01:30 EST
    expect(next('2026-03-07T12:59:00Z', NY)).toBe('2026-03-07T13:00:00.000Z') // day before, still EST
  })

  it('spring forward: a window opening in the skipped hour opens when the clock jumps to 03:00', () => {
    expect(next('2026-03-08T06:00:00Z', zoneOnly('America/New_York'), parseWindow('02:30-05:00')))
      .toBe('2026-03-08T07:00:00.000Z')
  })

  it('spring forward: a window lying wholly in the skipped hour moves to the next day', () => {
    expect(next('2026-03-08T06:00:00Z', zoneOnly('America/New_York'), parseWindow('02:00-02:45')))
      .toBe('2026-03-09T06:00:00.000Z') // 02:00 EDT on Mar 9
  })

  it('fall back 2026-11-01: 08:00 EST is 13:00Z', () => {
    expect(next('2026-11-01T04:00:00Z', NY)).toBe('2026-11-01T13:00:00.000Z') // 00:00 EDT
    expect(next('2026-10-31T01:00:00Z', NY)).toBe('2026-10-31T12:00:00.000Z') // 21:00 EDT Oct 30
    expect(next('2026-11-02T02:00:00Z', NY)).toBe('2026-11-02T13:00:00.000Z') // 21:00 EST Nov 1
  })

  it('fall back: the repeated hour is judged by wall time both times', () => {
    const ny = zoneOnly('America/New_York')
    const w = parseWindow('01:30-05:00')
    expect(next('2026-11-01T05:10:00Z', ny, w)).toBe('2026-11-01T05:30:00.000Z') // 01:10 EDT → 01:30 EDT
    expect(next('2026-11-01T05:40:00Z', ny, w)).toBe('allowed') // 01:40 EDT
    expect(next('2026-11-01T06:10:00Z', ny, w)).toBe('2026-11-01T06:30:00.000Z') // 01:10 EST → 01:30 EST
    expect(next('2026-11-01T06:30:00Z', ny, w)).toBe('allowed')
  })
})

describe('checkQuietHours: non-US and unknown', () => {
  it('+44: only the default window, in Europe/London', () => {
    const gb = locateNumber('+447700900123')
    expect(check('2026-06-15T07:30:00Z', gb, parseWindow('09:00-20:00'))).toEqual({
      allowed: false,
      nextAllowedAt: new Date('2026-06-15T08:00:00.000Z'), // 09:00 BST
      reason: 'outside 09:00–20:00 in Europe/London'
    })
    // 21:30 BST: the US federal 21:00 limit does not apply abroad
    expect(next('2026-06-15T20:30:00Z', gb, parseWindow('08:00-22:00'))).toBe('allowed')
  })

  it('unknown area code → no zones → treated as UTC', () => {
    const unknown = locateNumber('+19995550123')
    expect(unknown.timeZones).toEqual([])
    expect(check('2026-06-15T07:00:00Z', unknown)).toEqual({
      allowed: false,
      nextAllowedAt: new Date('2026-06-15T08:00:00.000Z'),
      reason: 'outside 08:00–21:00 in UTC'
    })
    expect(next('2026-06-15T20:59:00Z', unknown)).toBe('allowed')
  })
})

describe('checkQuietHours: errors', () => {
  it('throws when the candidate zones never share an allowed instant', () => {
    // 867: Whitehorse … Iqaluit span three hours; a one-hour window cannot fit
    expect(() => check('2026-06-15T12:00:00Z', '+18675550123', parseWindow('10:00-11:00'))).toThrow(RangeError)
    // CT's 09:00–20:00 and a 06:00–08:30 default never overlap
    expect(() => check('2026-06-15T12:00:00Z', CT, parseWindow('06:00-08:30'))).toThrow(RangeError)
  })

  it('throws on an unknown zone, an invalid now or an invalid default window', () => {
    expect(() => check('2026-06-15T12:00:00Z', zoneOnly('Mars/Olympus_Mons'))).toThrow(RangeError)
    expect(() => check('not a date', NY)).toThrow(RangeError)
    expect(() => check('2026-06-15T12:00:00Z', NY, { start: '21:00', end: '08:00' })).toThrow(RangeError)
  })
})
