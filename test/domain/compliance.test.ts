import { describe, expect, it } from 'vitest'
import { capWindowStart, decide, type Policy, type RecipientFacts, type Request } from '../../src/domain/compliance.js'

const policy: Policy = {
  consentRequired: true,
  quietHours: { start: '08:00', end: '21:00' },
  defaultTimeZone: 'America/New_York',
  optOutFooter: 'Reply STOP to opt out.'
}
const consenting: RecipientFacts = { suppressed: false, consent: 'opt_in', timezone: null, recentMarketing: 0, recentMarketingOldestAt: null }
// Monday 2026-06-15 16:00 UTC: noon in New York, 09:00 in Los Angeles.
const noon = new Date('2026-06-15T16:00:00.000Z')
const marketing = (to: string, now = noon, text = 'Sale today'): Request => ({ to, text, purpose: 'marketing', now })

describe('decide', () => {
  it.each([
    ['suppressed beats everything, transactional too', { ...marketing('+12125550123'), purpose: 'transactional' as const }, { ...consenting, suppressed: true }, 'block', 'RECIPIENT_OPTED_OUT'],
    ['suppressed marketing', marketing('+12125550123'), { ...consenting, suppressed: true }, 'block', 'RECIPIENT_OPTED_OUT'],
    ['no consent on record', marketing('+12125550123'), { ...consenting, consent: null }, 'block', 'NO_CONSENT'],
    ['latest decision an opt-out', marketing('+12125550123'), { ...consenting, consent: 'opt_out' as const }, 'block', 'NO_CONSENT'],
    ['transactional needs no consent', { ...marketing('+12125550123'), purpose: 'transactional' as const }, { ...consenting, consent: null }, 'allow', null],
    ['consenting NY number at noon', marketing('+12125550123'), consenting, 'allow', null],
    ['third FL message in 24 h still goes', marketing('+13055550123'), { ...consenting, recentMarketing: 2 }, 'allow', null],
    ['fourth FL message in 24 h', marketing('+13055550123'), { ...consenting, recentMarketing: 3 }, 'block', 'FREQUENCY_CAP'],
    ['fourth NY message: no cap in New York', marketing('+12125550123'), { ...consenting, recentMarketing: 3 }, 'allow', null],
    ['23:00 in New York', marketing('+12125550123', new Date('2026-06-16T03:00:00.000Z')), consenting, 'defer', 'QUIET_HOURS'],
    ['transactional at 23:00', { ...marketing('+12125550123', new Date('2026-06-16T03:00:00.000Z')), purpose: 'transactional' as const }, consenting, 'allow', null],
    ['stored zone wins: 07:00 in Los Angeles for a NY number', marketing('+12125550123', new Date('2026-06-15T14:00:00.000Z')), { ...consenting, timezone: 'America/Los_Angeles' }, 'defer', 'QUIET_HOURS']
  ])('%s', (_name, request, facts, outcome, code) => {
    const decision = decide(request, facts, policy)
    expect(decision.outcome).toBe(outcome)
    expect(decision.outcome === 'allow' ? null : decision.code).toBe(code)
  })

  it('names the next allowed moment: 08:00 EDT the next morning', () => {
    const decision = decide(marketing('+12125550123', new Date('2026-06-16T03:00:00.000Z')), consenting, policy)
    expect(decision).toMatchObject({ outcome: 'defer', code: 'QUIET_HOURS', nextAllowedAt: new Date('2026-06-16T12:00:00.000Z') })
  })

  it('names when the frequency cap lets the next message go: the oldest counted one leaves the 24 h window', () => {
    const facts = { ...consenting, recentMarketing: 3, recentMarketingOldestAt: '2026-06-15T09:30:00.000Z' }
    expect(decide(marketing('+13055550123'), facts, policy)).toEqual({
      outcome: 'block',
      code: 'FREQUENCY_CAP',
      reason: 'At most 3 marketing messages per 24 h may go to numbers in FL',
      nextAllowedAt: new Date('2026-06-16T09:30:00.000Z')
    })
  })

  it('appends the footer to marketing only, and only once', () => {
    expect(decide(marketing('+12125550123'), consenting, policy)).toEqual({ outcome: 'allow', text: 'Sale today\nReply STOP to opt out.' })
    expect(decide(marketing('+12125550123', noon, 'Sale today. Reply STOP to opt out'), consenting, policy)).toEqual({ outcome: 'allow', text: 'Sale today. Reply STOP to opt out' })
    expect(decide({ ...marketing('+12125550123'), purpose: 'transactional' }, consenting, policy)).toEqual({ outcome: 'allow', text: 'Sale today' })
  })

  it('lets marketing go without consent when the policy does not require it', () => {
    expect(decide(marketing('+12125550123'), { ...consenting, consent: null }, { ...policy, consentRequired: false }).outcome).toBe('allow')
  })
})

describe('capWindowStart', () => {
  it.each([
    ['+13055550123', '2026-06-14T16:00:00.000Z'],
    ['+14055550123', '2026-06-14T16:00:00.000Z'],
    ['+14105550123', '2026-06-14T16:00:00.000Z'],
    ['+12125550123', null],
    ['+447911123456', null]
  ])('%s → %s', (to, expected) => {
    expect(capWindowStart(to, noon)?.toISOString() ?? null).toBe(expected)
  })
})
