import { describe, expect, it } from 'vitest'
import { applyConsentEvent, isSubscribed, occurredAtMost, type ConsentEffect, type LedgerState } from '../../src/domain/consent.js'

const T = (minute: number): string => new Date(Date.UTC(2026, 5, 15, 16, minute)).toISOString()
const optedIn: LedgerState = { latest: { type: 'opt_in', occurredAt: T(10), id: 'b' }, suppressed: false }
const optedOut: LedgerState = { latest: { type: 'opt_out', occurredAt: T(10), id: 'b' }, suppressed: true }
const blank: LedgerState = { latest: null, suppressed: false }

describe('applyConsentEvent', () => {
  it.each<[string, LedgerState, Parameters<typeof applyConsentEvent>[1], Omit<ConsentEffect, 'state'> & { subscribed: boolean }]>([
    ['a first opt-in governs', blank, { type: 'opt_in', occurredAt: T(5), id: 'a' }, { recorded: true, governs: true, suppress: false, lift: false, subscribed: true }],
    ['a first opt-out suppresses', blank, { type: 'opt_out', occurredAt: T(5), id: 'a' }, { recorded: true, governs: true, suppress: true, lift: false, subscribed: false }],
    ['a newer opt-out suppresses', optedIn, { type: 'opt_out', occurredAt: T(11), id: 'c' }, { recorded: true, governs: true, suppress: true, lift: false, subscribed: false }],
    ['a newer opt-in lifts', optedOut, { type: 'opt_in', occurredAt: T(11), id: 'c' }, { recorded: true, governs: true, suppress: false, lift: true, subscribed: true }],
    ['an older START never lifts a newer opt-out', optedOut, { type: 'opt_in', occurredAt: T(9), id: 'c' }, { recorded: true, governs: false, suppress: false, lift: false, subscribed: false }],
    ['an older STOP does not undo a newer opt-in', optedIn, { type: 'opt_out', occurredAt: T(9), id: 'c' }, { recorded: true, governs: false, suppress: false, lift: false, subscribed: true }],
    ['same instant: the later-recorded (greater id) governs', optedOut, { type: 'opt_in', occurredAt: T(10), id: 'c' }, { recorded: true, governs: true, suppress: false, lift: true, subscribed: true }],
    ['same instant, smaller id: recorded, not governing', optedOut, { type: 'opt_in', occurredAt: T(10), id: 'a' }, { recorded: true, governs: false, suppress: false, lift: false, subscribed: false }],
    ['a second opt-out is recorded, not confirmed again', optedOut, { type: 'opt_out', occurredAt: T(11), id: 'c' }, { recorded: true, governs: true, suppress: false, lift: false, subscribed: false }],
    ['an undated opt-in is not recorded over an opt-out', optedOut, { type: 'opt_in', occurredAt: T(30), id: 'c', undated: true }, { recorded: false, governs: false, suppress: false, lift: false, subscribed: false }],
    ['an undated opt-in is recorded otherwise', optedIn, { type: 'opt_in', occurredAt: T(30), id: 'c', undated: true }, { recorded: true, governs: true, suppress: false, lift: false, subscribed: true }],
    ['HELP changes nothing', optedIn, { type: 'help', occurredAt: T(30), id: 'c' }, { recorded: true, governs: false, suppress: false, lift: false, subscribed: true }]
  ])('%s', (_name, state, event, expected) => {
    const { state: after, ...effect } = applyConsentEvent(state, event)
    expect({ ...effect, subscribed: isSubscribed(after) }).toEqual(expected)
  })

  it('never places an event after it was recorded', () => {
    expect(occurredAtMost(T(12), T(10))).toBe(T(10))
    expect(occurredAtMost(T(8), T(10))).toBe(T(8))
  })
})
