export const MESSAGE_STATUSES = [
  'queued', 'sending', 'accepted', 'delivered', 'undeliverable', 'expired',
  'rejected', 'failed', 'suppressed', 'deferred', 'cancelled'
] as const
export type MessageStatus = typeof MESSAGE_STATUSES[number]

const FINAL = new Set<MessageStatus>(['delivered', 'undeliverable', 'expired', 'rejected', 'failed', 'suppressed', 'cancelled'])

export function isFinal (status: MessageStatus): boolean {
  return FINAL.has(status)
}

const RANK: Record<MessageStatus, number> = {
  queued: 0,
  deferred: 0,
  sending: 1,
  accepted: 2,
  delivered: 3,
  undeliverable: 3,
  expired: 3,
  rejected: 3,
  failed: 3,
  suppressed: 3,
  cancelled: 3
}

/** A status only moves forward, and never leaves a final status: late or repeated reports change nothing. */
export function canTransition (from: MessageStatus, to: MessageStatus): boolean {
  if (isFinal(from)) return false
  return RANK[to] >= RANK[from]
}

export interface ProviderStatusLike { groupId?: number, groupName?: string, id?: number, name?: string }

/**
 * How far the provider got within one of our non-final statuses: DELIVERED_TO_OPERATOR (3/2) is past
 * any PENDING status, though both are 'accepted' to us. Takes a report's status or a stored status name.
 */
export function providerProgress (status: ProviderStatusLike | string | null | undefined): number {
  if (status === null || status === undefined) return 0
  if (typeof status === 'string') return status === 'DELIVERED_TO_OPERATOR' ? 1 : 0
  return status.name === 'DELIVERED_TO_OPERATOR' || (status.id === 2 && (status.groupId === 3 || status.groupName === 'DELIVERED')) ? 1 : 0
}

/** Infobip status groups: 1 PENDING, 2 UNDELIVERABLE, 3 DELIVERED, 4 EXPIRED, 5 REJECTED. */
export function statusFromProvider (status: ProviderStatusLike | undefined): MessageStatus {
  const group = status?.groupId ?? groupIdByName[status?.groupName ?? '']
  switch (group) {
    case 1: return 'accepted'
    // DELIVERED_TO_OPERATOR (id 2) is not final: the handset report is still to come.
    case 3: return status?.id === 2 || status?.name === 'DELIVERED_TO_OPERATOR' ? 'accepted' : 'delivered'
    case 2: return 'undeliverable'
    case 4: return 'expired'
    case 5: return 'rejected'
    default: return 'failed'
  }
}

const groupIdByName: Record<string, number> = { PENDING: 1, UNDELIVERABLE: 2, DELIVERED: 3, EXPIRED: 4, REJECTED: 5 }

export function isPendingGroup (status: ProviderStatusLike | undefined): boolean {
  return (status?.groupId ?? groupIdByName[status?.groupName ?? '']) === 1
}

/** Infobip's answer or report for a re-send of a messageId it already took (idempotent sending enabled): status 5/23. */
export function isDuplicateRejection (status: ProviderStatusLike | undefined): boolean {
  if (status === undefined) return false
  if (status.name === 'REJECTED_DUPLICATE_MESSAGE_ID') return true
  return status.id === 23 && (status.groupId ?? groupIdByName[status.groupName ?? '']) === 5
}

/**
 * Error codes of a `failed` (or `expired`) record that the service concluded for lack of knowledge, not from
 * anything Infobip said: `OUTCOME_UNKNOWN` (a hand-over whose outcome could not be resolved), `NOT_SENT`
 * (Infobip's logs did not show it when looked up; they can lag), `INTERRUPTED` (the service stopped
 * mid-hand-over). Infobip's own word about such a message may still settle it.
 */
export const UNRESOLVED_FAILURE_CODES = ['OUTCOME_UNKNOWN', 'NOT_SENT', 'INTERRUPTED'] as const
export type UnresolvedFailureCode = typeof UNRESOLVED_FAILURE_CODES[number]

const UNRESOLVED = new Set<string>(UNRESOLVED_FAILURE_CODES)
const IN_FLIGHT = new Set<MessageStatus>(['queued', 'deferred', 'sending'])

/** What the record holds now. `errorCode` is the code of its stored error, if any. */
export interface RecordedStatus {
  status: MessageStatus
  providerStatus: string | null
  errorCode: string | null
}

/**
 * A new word about a message: from Infobip (a send answer's per-message status, a delivery report, a
 * message-log entry) or the service's own conclusion (a failure, an expiry, a suppression).
 */
export type StatusEvidence =
  | { from: 'provider', status: ProviderStatusLike }
  | { from: 'service', status: MessageStatus }

export type Settlement =
  | { apply: true, status: MessageStatus, /** only the status moves: Infobip's duplicate answer says nothing of the message that went */ statusOnly: boolean }
  | { apply: false, reason: 'final' | 'backwards' | 'no-news' | 'duplicate' }

const skip = (reason: 'final' | 'backwards' | 'no-news' | 'duplicate'): Settlement => ({ apply: false, reason })

/**
 * The status lattice: what a record becomes when new evidence arrives, for delivery reports, message-log
 * look-ups and the recording of send outcomes alike. Rules (Infobip: "Hand-over exactly once"):
 * 1. A REJECTED_DUPLICATE_MESSAGE_ID (5/23) proves the *first* hand-over of that messageId happened: it never
 *    overwrites the record of the message that went. A record still in flight, or failed for lack of
 *    knowledge, becomes `accepted` (status only); any other record is left alone.
 * 2. Infobip's word settles a record the service marked failed/expired only for lack of knowledge
 *    (UNRESOLVED_FAILURE_CODES).
 * 3. Otherwise a final status never changes, and a status only moves forward (`canTransition`); the same
 *    non-final status again is news only when Infobip got further (DELIVERED_TO_OPERATOR after PENDING).
 * 4. The service's own conclusion applies only while the message is in flight (queued, deferred, sending):
 *    it never overwrites what Infobip said.
 */
export function settle (current: RecordedStatus, evidence: StatusEvidence): Settlement {
  const unresolved = current.errorCode !== null && UNRESOLVED.has(current.errorCode) && (current.status === 'failed' || current.status === 'expired')
  if (evidence.from === 'service') {
    if (!IN_FLIGHT.has(current.status)) return skip(isFinal(current.status) ? 'final' : 'backwards')
    if (!canTransition(current.status, evidence.status)) return skip('backwards')
    return { apply: true, status: evidence.status, statusOnly: false }
  }
  if (isDuplicateRejection(evidence.status)) {
    return IN_FLIGHT.has(current.status) || unresolved ? { apply: true, status: 'accepted', statusOnly: true } : skip('duplicate')
  }
  const next = statusFromProvider(evidence.status)
  if (unresolved) {
    // A status we cannot read ('failed' from an unknown group) tells nothing about what Infobip did.
    return next === 'failed' ? skip('no-news') : { apply: true, status: next, statusOnly: false }
  }
  if (isFinal(current.status)) return skip('final')
  if (!canTransition(current.status, next)) return skip('backwards')
  if (next === current.status && providerProgress(evidence.status) <= providerProgress(current.providerStatus)) return skip('no-news')
  return { apply: true, status: next, statusOnly: false }
}

/** Infobip's status names (reference/infobip.md "Status groups") → their full status object. */
const PROVIDER_STATUSES: Record<string, { groupId: number, groupName: string, id: number }> = {
  PENDING_ACCEPTED: { groupId: 1, groupName: 'PENDING', id: 26 },
  PENDING_ENROUTE: { groupId: 1, groupName: 'PENDING', id: 7 },
  PENDING_WAITING_DELIVERY: { groupId: 1, groupName: 'PENDING', id: 3 },
  UNDELIVERABLE_REJECTED_OPERATOR: { groupId: 2, groupName: 'UNDELIVERABLE', id: 4 },
  UNDELIVERABLE_NOT_DELIVERED: { groupId: 2, groupName: 'UNDELIVERABLE', id: 9 },
  DELIVERED_TO_OPERATOR: { groupId: 3, groupName: 'DELIVERED', id: 2 },
  DELIVERED_TO_HANDSET: { groupId: 3, groupName: 'DELIVERED', id: 5 },
  EXPIRED_EXPIRED: { groupId: 4, groupName: 'EXPIRED', id: 15 },
  EXPIRED_UNKNOWN: { groupId: 4, groupName: 'EXPIRED', id: 29 },
  REJECTED_NETWORK: { groupId: 5, groupName: 'REJECTED', id: 6 },
  REJECTED_DESTINATION: { groupId: 5, groupName: 'REJECTED', id: 52 }
}

const GROUP_OF_STATUS: Partial<Record<MessageStatus, { groupId: number, groupName: string }>> = {
  accepted: { groupId: 1, groupName: 'PENDING' },
  delivered: { groupId: 3, groupName: 'DELIVERED' },
  undeliverable: { groupId: 2, groupName: 'UNDELIVERABLE' },
  expired: { groupId: 4, groupName: 'EXPIRED' },
  rejected: { groupId: 5, groupName: 'REJECTED' }
}

/** A recorded provider status name as Infobip's status object (for answers rebuilt from a message's record). */
export function providerStatusByName (name: string | null, status: MessageStatus): { groupId: number, groupName: string, id: number, name: string } {
  const known = name === null ? undefined : PROVIDER_STATUSES[name]
  if (known !== undefined) return { ...known, name: name! }
  const group = GROUP_OF_STATUS[status] ?? { groupId: 1, groupName: 'PENDING' }
  return { ...group, id: 0, name: name ?? group.groupName }
}
