import { describe, expect, it } from 'vitest'
import {
  canTransition,
  isDuplicateRejection,
  isFinal,
  isPendingGroup,
  MESSAGE_STATUSES,
  providerProgress,
  settle,
  statusFromProvider,
  UNRESOLVED_FAILURE_CODES,
  type MessageStatus,
  type ProviderStatusLike,
  type RecordedStatus,
  type Settlement,
  type StatusEvidence
} from '../../src/domain/message-status.js'

const FINAL: MessageStatus[] = ['delivered', 'undeliverable', 'expired', 'rejected', 'failed', 'suppressed', 'cancelled']
const NOT_FINAL: MessageStatus[] = ['queued', 'deferred', 'sending', 'accepted']

describe('isFinal', () => {
  it('covers every status exactly once', () => {
    expect([...FINAL, ...NOT_FINAL].sort()).toEqual([...MESSAGE_STATUSES].sort())
  })

  it.each(FINAL)('%s is final', (status) => {
    expect(isFinal(status)).toBe(true)
  })

  it.each(NOT_FINAL)('%s is not final', (status) => {
    expect(isFinal(status)).toBe(false)
  })
})

describe('canTransition', () => {
  const rows: Array<[from: MessageStatus, to: MessageStatus, allowed: boolean]> = [
    // The normal life cycle moves forward.
    ['queued', 'sending', true],
    ['deferred', 'sending', true],
    ['deferred', 'queued', true],
    ['sending', 'accepted', true],
    ['accepted', 'delivered', true],
    ['accepted', 'undeliverable', true],
    ['accepted', 'expired', true],
    ['accepted', 'rejected', true],
    // A delivery report can overtake the send response.
    ['sending', 'delivered', true],
    ['sending', 'undeliverable', true],
    ['queued', 'suppressed', true],
    ['queued', 'cancelled', true],
    ['deferred', 'cancelled', true],
    ['sending', 'failed', true],
    // A non-final status may be refreshed (e.g. DELIVERED_TO_OPERATOR while accepted).
    ['accepted', 'accepted', true],
    // Never backwards.
    ['accepted', 'sending', false],
    ['accepted', 'queued', false],
    ['sending', 'queued', false],
    ['sending', 'deferred', false],
    // A final status never changes, not even to itself or to another final status.
    ['delivered', 'accepted', false],
    ['delivered', 'delivered', false],
    ['delivered', 'undeliverable', false],
    ['undeliverable', 'delivered', false],
    ['expired', 'delivered', false],
    ['rejected', 'accepted', false],
    ['failed', 'accepted', false],
    ['suppressed', 'sending', false],
    ['cancelled', 'queued', false]
  ]

  it.each(rows)('%s → %s: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed)
  })

  it.each(FINAL)('nothing leaves the final status %s', (from) => {
    for (const to of MESSAGE_STATUSES) expect(canTransition(from, to), `${from} → ${to}`).toBe(false)
  })

  it.each(NOT_FINAL)('every final status can be reached from %s', (from) => {
    for (const to of FINAL) expect(canTransition(from, to), `${from} → ${to}`).toBe(true)
  })
})

describe('statusFromProvider', () => {
  const rows: Array<[label: string, status: ProviderStatusLike | undefined, expected: MessageStatus]> = [
    ['PENDING_ACCEPTED (1/26)', { groupId: 1, groupName: 'PENDING', id: 26, name: 'PENDING_ACCEPTED' }, 'accepted'],
    ['PENDING_ENROUTE (1/7)', { groupId: 1, groupName: 'PENDING', id: 7, name: 'PENDING_ENROUTE' }, 'accepted'],
    ['PENDING_WAITING_DELIVERY (1/3)', { groupId: 1, groupName: 'PENDING', id: 3, name: 'PENDING_WAITING_DELIVERY' }, 'accepted'],
    ['UNDELIVERABLE_REJECTED_OPERATOR (2/4)', { groupId: 2, groupName: 'UNDELIVERABLE', id: 4, name: 'UNDELIVERABLE_REJECTED_OPERATOR' }, 'undeliverable'],
    ['UNDELIVERABLE_NOT_DELIVERED (2/9)', { groupId: 2, groupName: 'UNDELIVERABLE', id: 9, name: 'UNDELIVERABLE_NOT_DELIVERED' }, 'undeliverable'],
    ['DELIVERED_TO_HANDSET (3/5)', { groupId: 3, groupName: 'DELIVERED', id: 5, name: 'DELIVERED_TO_HANDSET' }, 'delivered'],
    ['DELIVERED_TO_OPERATOR (3/2) is not final', { groupId: 3, groupName: 'DELIVERED', id: 2, name: 'DELIVERED_TO_OPERATOR' }, 'accepted'],
    ['EXPIRED_EXPIRED (4/15)', { groupId: 4, groupName: 'EXPIRED', id: 15, name: 'EXPIRED_EXPIRED' }, 'expired'],
    ['EXPIRED_DLR_UNKNOWN (4/29)', { groupId: 4, groupName: 'EXPIRED', id: 29, name: 'EXPIRED_DLR_UNKNOWN' }, 'expired'],
    ['REJECTED_NETWORK (5/6)', { groupId: 5, groupName: 'REJECTED', id: 6, name: 'REJECTED_NETWORK' }, 'rejected'],
    ['REJECTED_PREFIX_MISSING (5/8)', { groupId: 5, groupName: 'REJECTED', id: 8, name: 'REJECTED_PREFIX_MISSING' }, 'rejected'],
    ['REJECTED_DND (5/10)', { groupId: 5, groupName: 'REJECTED', id: 10, name: 'REJECTED_DND' }, 'rejected'],
    ['REJECTED_NOT_ENOUGH_CREDITS (5/12)', { groupId: 5, groupName: 'REJECTED', id: 12, name: 'REJECTED_NOT_ENOUGH_CREDITS' }, 'rejected'],
    ['REJECTED_DESTINATION_BLOCKLISTED (5/14)', { groupId: 5, groupName: 'REJECTED', id: 14, name: 'REJECTED_DESTINATION_BLOCKLISTED' }, 'rejected'],
    ['REJECTED_FLOODING_FILTER (5/20)', { groupId: 5, groupName: 'REJECTED', id: 20, name: 'REJECTED_FLOODING_FILTER' }, 'rejected'],
    ['REJECTED_DUPLICATE_MESSAGE_ID (5/23)', { groupId: 5, groupName: 'REJECTED', id: 23, name: 'REJECTED_DUPLICATE_MESSAGE_ID' }, 'rejected'],
    ['REJECTED_MESSAGE_TOO_LONG (5/25)', { groupId: 5, groupName: 'REJECTED', id: 25, name: 'REJECTED_MESSAGE_TOO_LONG' }, 'rejected'],
    ['MISSING_TO (5/51)', { groupId: 5, groupName: 'REJECTED', id: 51, name: 'MISSING_TO' }, 'rejected'],
    ['REJECTED_DESTINATION (5/52)', { groupId: 5, groupName: 'REJECTED', id: 52, name: 'REJECTED_DESTINATION' }, 'rejected'],
    // The group name alone is enough when the id is missing.
    ['groupName PENDING only', { groupName: 'PENDING' }, 'accepted'],
    ['groupName UNDELIVERABLE only', { groupName: 'UNDELIVERABLE' }, 'undeliverable'],
    ['groupName DELIVERED only', { groupName: 'DELIVERED' }, 'delivered'],
    ['groupName DELIVERED with name DELIVERED_TO_OPERATOR', { groupName: 'DELIVERED', name: 'DELIVERED_TO_OPERATOR' }, 'accepted'],
    ['groupName EXPIRED only', { groupName: 'EXPIRED' }, 'expired'],
    ['groupName REJECTED only', { groupName: 'REJECTED' }, 'rejected'],
    // Anything unrecognisable is a failure, never a success.
    ['undefined', undefined, 'failed'],
    ['empty object', {}, 'failed'],
    ['unknown group id', { groupId: 99, groupName: 'MYSTERY', id: 1, name: 'MYSTERY' }, 'failed'],
    ['unknown group name', { groupName: 'SOMETHING_ELSE' }, 'failed']
  ]

  it.each(rows)('%s → %s', (_label, status, expected) => {
    expect(statusFromProvider(status)).toBe(expected)
  })

  it('the group id wins over a contradicting group name', () => {
    expect(statusFromProvider({ groupId: 5, groupName: 'DELIVERED', id: 6, name: 'REJECTED_NETWORK' })).toBe('rejected')
  })
})

describe('isPendingGroup', () => {
  const rows: Array<[status: ProviderStatusLike | undefined, pending: boolean]> = [
    [{ groupId: 1, groupName: 'PENDING', id: 26, name: 'PENDING_ACCEPTED' }, true],
    [{ groupName: 'PENDING' }, true],
    [{ groupId: 3, groupName: 'DELIVERED', id: 2, name: 'DELIVERED_TO_OPERATOR' }, false],
    [{ groupId: 5, groupName: 'REJECTED', id: 6, name: 'REJECTED_NETWORK' }, false],
    [undefined, false]
  ]

  it.each(rows)('%o → %s', (status, pending) => {
    expect(isPendingGroup(status)).toBe(pending)
  })
})

describe('providerProgress', () => {
  const rows: Array<[label: string, status: ProviderStatusLike | string | null | undefined, progress: number]> = [
    ['DELIVERED_TO_OPERATOR report', { groupId: 3, groupName: 'DELIVERED', id: 2, name: 'DELIVERED_TO_OPERATOR' }, 1],
    ['DELIVERED_TO_OPERATOR by ids only', { groupId: 3, id: 2 }, 1],
    ['DELIVERED_TO_OPERATOR by name only', { name: 'DELIVERED_TO_OPERATOR' }, 1],
    ['stored name DELIVERED_TO_OPERATOR', 'DELIVERED_TO_OPERATOR', 1],
    ['PENDING_ACCEPTED report', { groupId: 1, groupName: 'PENDING', id: 26, name: 'PENDING_ACCEPTED' }, 0],
    ['PENDING_ENROUTE report', { groupId: 1, groupName: 'PENDING', id: 7, name: 'PENDING_ENROUTE' }, 0],
    ['id 2 in another group is not the operator', { groupId: 1, groupName: 'PENDING', id: 2, name: 'SOMETHING' }, 0],
    ['stored name PENDING_ACCEPTED', 'PENDING_ACCEPTED', 0],
    ['nothing stored', null, 0],
    ['no status', undefined, 0]
  ]

  it.each(rows)('%s → %s', (_label, status, progress) => {
    expect(providerProgress(status)).toBe(progress)
  })
})

describe('isDuplicateRejection', () => {
  it.each([
    [{ groupId: 5, groupName: 'REJECTED', id: 23, name: 'REJECTED_DUPLICATE_MESSAGE_ID' }, true],
    [{ groupId: 5, id: 23 }, true],
    [{ groupName: 'REJECTED', id: 23 }, true],
    [{ name: 'REJECTED_DUPLICATE_MESSAGE_ID' }, true],
    [{ groupId: 5, groupName: 'REJECTED', id: 6, name: 'REJECTED_NETWORK' }, false],
    [{ groupId: 1, groupName: 'PENDING', id: 23, name: 'PENDING_SOMETHING' }, false],
    [undefined, false]
  ] as Array<[ProviderStatusLike | undefined, boolean]>)('%j → %s', (status, expected) => {
    expect(isDuplicateRejection(status)).toBe(expected)
  })
})

describe('settle (the status lattice)', () => {
  const PENDING = { groupId: 1, groupName: 'PENDING', id: 26, name: 'PENDING_ACCEPTED' }
  const ENROUTE = { groupId: 1, groupName: 'PENDING', id: 7, name: 'PENDING_ENROUTE' }
  const TO_OPERATOR = { groupId: 3, groupName: 'DELIVERED', id: 2, name: 'DELIVERED_TO_OPERATOR' }
  const DELIVERED = { groupId: 3, groupName: 'DELIVERED', id: 5, name: 'DELIVERED_TO_HANDSET' }
  const UNDELIVERABLE = { groupId: 2, groupName: 'UNDELIVERABLE', id: 9, name: 'UNDELIVERABLE_NOT_DELIVERED' }
  const EXPIRED = { groupId: 4, groupName: 'EXPIRED', id: 15, name: 'EXPIRED_EXPIRED' }
  const REJECTED = { groupId: 5, groupName: 'REJECTED', id: 6, name: 'REJECTED_NETWORK' }
  const DUPLICATE = { groupId: 5, groupName: 'REJECTED', id: 23, name: 'REJECTED_DUPLICATE_MESSAGE_ID' }
  const UNREADABLE = { groupId: 9, groupName: 'MARTIAN', id: 1, name: 'WHO_KNOWS' }

  const at = (status: MessageStatus, errorCode: string | null = null, providerStatus: string | null = null): RecordedStatus => ({ status, providerStatus, errorCode })
  const infobip = (status: ProviderStatusLike): StatusEvidence => ({ from: 'provider', status })
  const ours = (status: MessageStatus): StatusEvidence => ({ from: 'service', status })
  const goes = (status: MessageStatus, statusOnly = false): Settlement => ({ apply: true, status, statusOnly })
  const stays = (reason: 'final' | 'backwards' | 'no-news' | 'duplicate'): Settlement => ({ apply: false, reason })

  const rows: Array<[label: string, current: RecordedStatus, evidence: StatusEvidence, expected: Settlement]> = [
    // Infobip's word moves a message forward.
    ['send answer PENDING on a message being sent', at('sending'), infobip(PENDING), goes('accepted')],
    ['send answer REJECTED on a message being sent', at('sending'), infobip(REJECTED), goes('rejected')],
    ['report DELIVERED on an accepted message', at('accepted', null, 'PENDING_ACCEPTED'), infobip(DELIVERED), goes('delivered')],
    ['report overtaking the send answer', at('sending'), infobip(DELIVERED), goes('delivered')],
    ['report on a message still queued (a crash requeued it)', at('queued'), infobip(PENDING), goes('accepted')],
    ['DELIVERED_TO_OPERATOR after PENDING', at('accepted', null, 'PENDING_ACCEPTED'), infobip(TO_OPERATOR), goes('accepted')],
    ['DELIVERED after DELIVERED_TO_OPERATOR', at('accepted', null, 'DELIVERED_TO_OPERATOR'), infobip(DELIVERED), goes('delivered')],
    ['an unreadable status while sending', at('sending'), infobip(UNREADABLE), goes('failed')],
    // Nothing moves backwards or out of a final status.
    ['a repeated PENDING', at('accepted', null, 'PENDING_ACCEPTED'), infobip(ENROUTE), stays('no-news')],
    ['a late PENDING after DELIVERED_TO_OPERATOR', at('accepted', null, 'DELIVERED_TO_OPERATOR'), infobip(PENDING), stays('no-news')],
    ['a late PENDING after DELIVERED', at('delivered', null, 'DELIVERED_TO_HANDSET'), infobip(PENDING), stays('final')],
    ['UNDELIVERABLE after DELIVERED', at('delivered', null, 'DELIVERED_TO_HANDSET'), infobip(UNDELIVERABLE), stays('final')],
    ['DELIVERED after EXPIRED from Infobip', at('expired', 'HANDSET_ERRORS', 'EXPIRED_EXPIRED'), infobip(DELIVERED), stays('final')],
    ['DELIVERED after REJECTED from Infobip', at('rejected', null, 'REJECTED_NETWORK'), infobip(DELIVERED), stays('final')],
    ['DELIVERED after our definitive failure (Infobip refused the request)', at('failed', 'PROVIDER_ERROR'), infobip(DELIVERED), stays('final')],
    ['DELIVERED after an opt-out stopped it', at('suppressed'), infobip(DELIVERED), stays('final')],
    ['DELIVERED after a cancel', at('cancelled'), infobip(DELIVERED), stays('final')],
    // A failure concluded for lack of knowledge is settled by Infobip's word.
    ['DELIVERED after OUTCOME_UNKNOWN', at('failed', 'OUTCOME_UNKNOWN'), infobip(DELIVERED), goes('delivered')],
    ['PENDING after NOT_SENT (the log lagged)', at('failed', 'NOT_SENT'), infobip(PENDING), goes('accepted')],
    ['UNDELIVERABLE after INTERRUPTED', at('failed', 'INTERRUPTED'), infobip(UNDELIVERABLE), goes('undeliverable')],
    ['REJECTED after OUTCOME_UNKNOWN', at('failed', 'OUTCOME_UNKNOWN'), infobip(REJECTED), goes('rejected')],
    ['DELIVERED after an expiry concluded because the logs did not show it', at('expired', 'NOT_SENT'), infobip(DELIVERED), goes('delivered')],
    ['an unreadable status after OUTCOME_UNKNOWN', at('failed', 'OUTCOME_UNKNOWN'), infobip(UNREADABLE), stays('no-news')],
    // A duplicate-id rejection proves the first hand-over and never overwrites it.
    ['duplicate answer on a re-send whose first outcome was unknown', at('sending'), infobip(DUPLICATE), goes('accepted', true)],
    ['duplicate answer after OUTCOME_UNKNOWN', at('failed', 'OUTCOME_UNKNOWN'), infobip(DUPLICATE), goes('accepted', true)],
    ['duplicate report on an accepted message', at('accepted', null, 'PENDING_ACCEPTED'), infobip(DUPLICATE), stays('duplicate')],
    ['duplicate report after DELIVERED', at('delivered', null, 'DELIVERED_TO_HANDSET'), infobip(DUPLICATE), stays('duplicate')],
    ['duplicate report after UNDELIVERABLE', at('undeliverable', 'HANDSET_ERRORS', 'UNDELIVERABLE_NOT_DELIVERED'), infobip(DUPLICATE), stays('duplicate')],
    ['duplicate report after our definitive failure', at('failed', 'PROVIDER_ERROR'), infobip(DUPLICATE), stays('duplicate')],
    // The service's own conclusions apply only while the message is in flight.
    ['our failure while sending', at('sending'), ours('failed'), goes('failed')],
    ['our expiry while queued', at('queued'), ours('expired'), goes('expired')],
    ['a suppression while deferred', at('deferred'), ours('suppressed'), goes('suppressed')],
    ['our failure after Infobip accepted it', at('accepted', null, 'PENDING_ACCEPTED'), ours('failed'), stays('backwards')],
    ['our failure after DELIVERED', at('delivered'), ours('failed'), stays('final')],
    ['a cancel after OUTCOME_UNKNOWN', at('failed', 'OUTCOME_UNKNOWN'), ours('cancelled'), stays('final')],
    ['queued again while sending', at('sending'), ours('queued'), stays('backwards')]
  ]

  it.each(rows)('%s', (_label, current, evidence, expected) => {
    expect(settle(current, evidence)).toEqual(expected)
  })

  it('never leaves a provider-final status, whatever Infobip says next', () => {
    const evidence = [PENDING, ENROUTE, TO_OPERATOR, DELIVERED, UNDELIVERABLE, EXPIRED, REJECTED, DUPLICATE, UNREADABLE]
    for (const status of ['delivered', 'undeliverable', 'expired', 'rejected'] as const) {
      for (const next of evidence) expect(settle(at(status, null, 'X'), infobip(next)).apply, `${status} ← ${next.name}`).toBe(false)
    }
  })

  it('never records a duplicate-id rejection as the message\'s status', () => {
    for (const status of MESSAGE_STATUSES) {
      for (const errorCode of [null, ...UNRESOLVED_FAILURE_CODES, 'PROVIDER_ERROR']) {
        const decision = settle(at(status, errorCode), infobip(DUPLICATE))
        if (decision.apply) expect(decision, `${status}/${String(errorCode)}`).toEqual(goes('accepted', true))
      }
    }
  })
})
