import { describe, expect, it } from 'vitest'
import { applyConsentEvent, decisionTime, isSubscribed, occurredAtMost, type ConsentEffect, type ConsentEventType, type LedgerState } from '../../src/domain/consent.js'

type Event = Parameters<typeof applyConsentEvent>[1] & { undated?: boolean }

const T = (minute: number): string => new Date(Date.UTC(2026, 5, 15, 16, minute)).toISOString()
/** An event recorded through the API or an import: `occurredAt` is its evidence, recorded at `recordedAt` (default: then). */
const api = (type: ConsentEventType, occurredAt: string, id: string, extra: Partial<Event> = {}): Event => ({ type, source: 'api', occurredAt, recordedAt: occurredAt, id, ...extra })
/** A keyword by text: sent (Infobip's receivedAt) at `sentAt`, reaching the service at `arrivedAt`. */
const text = (type: ConsentEventType, sentAt: string, arrivedAt: string, id: string): Event => ({ type, source: 'keyword', occurredAt: sentAt, recordedAt: arrivedAt, id })

const optedIn: LedgerState = { latest: { type: 'opt_in', at: T(10), id: 'b' }, suppressed: false }
const optedOut: LedgerState = { latest: { type: 'opt_out', at: T(10), id: 'b' }, suppressed: true }
/** A STOP sent at T(9) that reached the service at T(12), over the opt-in of T(10). */
const stoppedByText: LedgerState = { latest: { type: 'opt_out', at: T(12), id: 'c' }, suppressed: true }
const blank: LedgerState = { latest: null, suppressed: false }

const effect = (governs: boolean, suppress: boolean, lift: boolean, subscribed: boolean, overridesNewer = false) => ({ recorded: true, governs, suppress, lift, overridesNewer, subscribed })

describe('applyConsentEvent', () => {
  it.each<[string, LedgerState, Event, Omit<ConsentEffect, 'state'> & { subscribed: boolean }]>([
    ['a first opt-in governs', blank, api('opt_in', T(5), 'a'), effect(true, false, false, true)],
    ['a first opt-out suppresses', blank, api('opt_out', T(5), 'a'), effect(true, true, false, false)],
    ['a newer opt-out suppresses', optedIn, api('opt_out', T(11), 'c'), effect(true, true, false, false)],
    ['a newer opt-in lifts', optedOut, api('opt_in', T(11), 'c'), effect(true, false, true, true)],
    ['an older START never lifts a newer opt-out', optedOut, text('opt_in', T(9), T(12), 'c'), effect(false, false, false, false)],
    ['an opt-out recorded late, not by text, does not undo a newer opt-in', optedIn, api('opt_out', T(9), 'c', { recordedAt: T(12) }), effect(false, false, false, true)],
    ['same instant: the later-recorded (greater id) governs', optedOut, api('opt_in', T(10), 'c'), effect(true, false, true, true)],
    ['same instant, smaller id: recorded, not governing', optedOut, api('opt_in', T(10), 'a'), effect(false, false, false, false)],
    ['a second opt-out is recorded, not confirmed again', optedOut, api('opt_out', T(11), 'c'), effect(true, false, false, false)],
    ['an undated opt-in is not recorded over an opt-out', optedOut, api('opt_in', T(30), 'c', { undated: true }), { ...effect(false, false, false, false), recorded: false }],
    ['an undated opt-in is recorded otherwise', optedIn, api('opt_in', T(30), 'c', { undated: true }), effect(true, false, false, true)],
    ['HELP changes nothing', optedIn, text('help', T(30), T(30), 'c'), effect(false, false, false, true)],
    // An opt-out by text counts from when it reached the service (rule 2).
    ['a STOP over an older opt-in suppresses', optedIn, text('opt_out', T(11), T(11), 'c'), effect(true, true, false, false)],
    ['a STOP sent before an opt-in recorded while it was on its way suppresses, and says so', optedIn, text('opt_out', T(9), T(12), 'c'), effect(true, true, false, false, true)],
    ['a STOP delivered hours late still suppresses', optedIn, text('opt_out', T(0), T(300), 'c'), effect(true, true, false, false, true)],
    ['a START sent after the STOP reached the service lifts it', stoppedByText, text('opt_in', T(13), T(13), 'd'), effect(true, false, true, true)],
    ['a START sent before the STOP reached the service, delivered later, does not lift it', stoppedByText, text('opt_in', T(11), T(14), 'd'), effect(false, false, false, false)],
    ['the overridden opt-in sent again (a CRM re-sync) does not lift it', stoppedByText, api('opt_in', T(10), 'd', { recordedAt: T(20) }), effect(false, false, false, false)],
    ['an opt-in recorded after the STOP reached the service lifts it', stoppedByText, api('opt_in', T(20), 'd'), effect(true, false, true, true)],
    ['an undated opt-in is not recorded over a STOP', stoppedByText, api('opt_in', T(30), 'd', { undated: true }), { ...effect(false, false, false, false), recorded: false }]
  ])('%s', (_name, state, event, expected) => {
    const { state: after, ...outcome } = applyConsentEvent(state, event, event.undated === true)
    expect({ ...outcome, subscribed: isSubscribed(after) }).toEqual(expected)
  })

  it.each<[string, Event, string]>([
    ['an opt-out by text: when it reached the service', text('opt_out', T(9), T(12), 'a'), T(12)],
    ['an opt-in by text: when it was sent', text('opt_in', T(9), T(12), 'a'), T(9)],
    ['an opt-out through the API: when it happened', api('opt_out', T(9), 'a', { recordedAt: T(12) }), T(9)],
    ['an opt-in with evidence: when it was collected', api('opt_in', T(9), 'a', { recordedAt: T(12) }), T(9)]
  ])('decisionTime of %s', (_name, event, expected) => {
    expect(decisionTime(event)).toBe(expected)
  })

  it('never places an event after it was recorded', () => {
    expect(occurredAtMost(T(12), T(10))).toBe(T(10))
    expect(occurredAtMost(T(8), T(10))).toBe(T(8))
    // An expanded year is later than any four-digit one, whatever its text sorts as.
    expect(occurredAtMost('+010000-01-01T00:00:00.000Z', T(10))).toBe(T(10))
  })
})
