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
