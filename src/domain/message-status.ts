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
