import { sql, type ExpressionBuilder, type Kysely } from 'kysely'
import type { MessageStatus } from '../../domain/message-status.js'
import type { Message } from '../../schemas/common.js'
import type { Dialect } from '../database.js'
import type { Database, MessageOrigin, MessageRow } from '../schema.js'
import { insertRows } from './bulk.js'
import { jsonList } from './json-rows.js'

type Executor = Kysely<Database>

export type Purpose = 'marketing' | 'transactional'

export type { Message }

export type NewMessage =
  Pick<Message, 'id' | 'to' | 'text' | 'senderId' | 'purpose' | 'status' | 'segments' | 'encoding' | 'createdAt'> &
  Partial<Pick<Message, 'campaignId' | 'contactId' | 'decisionReason' | 'error'>> & {
    /** Outbox fields: when it is due (default createdAt), its priority and origin, and a lease when the
     *  inserting process hands it over itself (a single send admitted and claimed in one transaction). */
    dueAt?: string | undefined
    priority?: number | undefined
    origin?: MessageOrigin | undefined
    lease?: { owner: string, expiresAt: string } | undefined
    validUntil?: string | null | undefined
  }

function toMessage (row: MessageRow): Message {
  return {
    id: row.id,
    to: row.to_number,
    text: row.text,
    senderId: row.sender_id,
    purpose: row.purpose as Purpose,
    status: row.status as MessageStatus,
    campaignId: row.campaign_id,
    contactId: row.contact_id,
    segments: Number(row.segments),
    encoding: row.encoding,
    infobipMessageId: row.infobip_message_id,
    bulkId: row.bulk_id,
    providerStatus: row.provider_status,
    error: row.error === null ? null : JSON.parse(row.error) as Message['error'],
    price: row.price_amount === null || row.price_currency === null ? null : { amount: Number(row.price_amount), currency: row.price_currency },
    decisionReason: row.decision_reason,
    origin: row.origin,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    sentAt: row.sent_at,
    doneAt: row.done_at
  }
}

const MESSAGE_COLUMNS = [
  'id', 'to_number', 'text', 'sender_id', 'purpose', 'status', 'campaign_id', 'contact_id', 'segments', 'encoding',
  'decision_reason', 'error', 'created_at', 'updated_at', 'due_at', 'priority', 'origin', 'valid_until',
  'lease_owner', 'lease_expires_at', 'attempted_at', 'sent_at', 'attempts'
] as const

/**
 * Inserts messages as multi-row statements the connection keeps prepared (`insertRows`): a batch of admissions
 * costs a few statements and no per-value query building. Every row names every column, so a batch mixing a
 * leased send and a refused one gets each column's value, never a NULL in place of a default.
 */
export async function insertMessages (db: Executor, messages: NewMessage[]): Promise<void> {
  if (messages.length === 0) return
  const values: unknown[] = []
  for (const m of messages) {
    const leased = m.lease !== undefined
    values.push(
      m.id, m.to, m.text, m.senderId, m.purpose, m.status, m.campaignId ?? null, m.contactId ?? null, m.segments, m.encoding,
      m.decisionReason ?? null, m.error === undefined || m.error === null ? null : JSON.stringify(m.error),
      m.createdAt, m.createdAt, m.dueAt ?? m.createdAt, m.priority ?? 1, m.origin ?? 'api', m.validUntil ?? null,
      m.lease?.owner ?? null, m.lease?.expiresAt ?? null,
      // A leased row is handed over now: attempted and counted as sent (for frequency caps) from this instant.
      leased ? m.createdAt : null, leased ? m.createdAt : null, leased ? 1 : 0
    )
  }
  await insertRows(db, 'messages', MESSAGE_COLUMNS, values)
}

export async function findMessage (db: Executor, id: string): Promise<Message | null> {
  const row = await db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst()
  return row === undefined ? null : toMessage(row)
}

export interface MessageFilter {
  status?: MessageStatus | undefined
  campaignId?: string | undefined
  to?: string | undefined
  /** Exclusive upper bound on id: ids are time-ordered, newest first. */
  before?: string | undefined
  limit: number
}

export async function listMessages (db: Executor, filter: MessageFilter): Promise<Message[]> {
  let query = db.selectFrom('messages').selectAll()
  if (filter.status !== undefined) query = query.where('status', '=', filter.status)
  if (filter.campaignId !== undefined) query = query.where('campaign_id', '=', filter.campaignId)
  if (filter.to !== undefined) query = query.where('to_number', '=', filter.to)
  if (filter.before !== undefined) query = query.where('id', '<', filter.before)
  const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute()
  return rows.map(toMessage)
}

/**
 * Moves messages that are still queued to sending, just before they are handed to the provider, and
 * returns those it moved: a message suppressed meanwhile (an opt-out) is not among them and must not go.
 */
export async function markSending (db: Executor, ids: string[], at: string): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const rows = await db.updateTable('messages')
    .set({ status: 'sending', updated_at: at })
    .where('id', 'in', ids)
    .where('status', 'in', ['queued', 'deferred'])
    .returning('id')
    .execute()
  return new Set(rows.map((r) => r.id))
}

export interface SendOutcome {
  id: string
  status: MessageStatus
  infobipMessageId: string | null
  bulkId: string | null
  providerStatus: string | null
  error: Message['error']
  at: string
}

/**
 * Records what the provider answered. A delivery report can overtake the send response, so the status
 * only changes while the message is still in flight; the provider ids are stored either way. Outcomes
 * that differ only by message id (the usual batch: Infobip echoes our ids) share one statement.
 */
export async function recordSendOutcomes (db: Executor, dialect: Dialect, outcomes: SendOutcome[], leaseOwner: string): Promise<void> {
  if (outcomes.length === 0) return
  const groups = new Map<string, { outcome: SendOutcome, ids: string[] }>()
  for (const o of outcomes) {
    // Infobip normally echoes our id as its own; only a different one needs a statement of its own.
    const ownId = o.infobipMessageId === null || o.infobipMessageId === o.id ? '' : o.id
    const key = JSON.stringify([o.status, o.providerStatus, o.error, o.bulkId, o.at, o.infobipMessageId === null, ownId])
    const group = groups.get(key)
    if (group === undefined) groups.set(key, { outcome: o, ids: [o.id] })
    else group.ids.push(o.id)
  }
  await db.transaction().execute(async (trx) => {
    // Rows are locked in id order first, the order every multi-row writer of messages uses, so recording a batch
    // cannot deadlock with a delivery report applied to the same messages (PostgreSQL; SQLite has one writer).
    if (dialect === 'postgres') await trx.selectFrom('messages').select('id').where('id', 'in', jsonList(dialect, outcomes.map((o) => o.id))).orderBy('id').forUpdate().execute()
    for (const { outcome: o, ids } of groups.values()) {
      const inFlight = (eb: ExpressionBuilder<Database, 'messages'>) => eb('status', 'in', ['queued', 'sending'])
      await trx.updateTable('messages')
        .set((eb) => ({
          status: eb.case().when(inFlight(eb)).then(o.status).else(eb.ref('status')).end(),
          provider_status: eb.case().when(inFlight(eb)).then(o.providerStatus).else(eb.ref('provider_status')).end(),
          error: eb.case().when(inFlight(eb)).then(o.error === null ? null : JSON.stringify(o.error)).else(eb.ref('error')).end(),
          infobip_message_id: o.infobipMessageId === null
            ? eb.ref('infobip_message_id')
            : eb.fn.coalesce('infobip_message_id', o.infobipMessageId === o.id ? eb.ref('id') : eb.val(o.infobipMessageId)),
          bulk_id: eb.fn.coalesce('bulk_id', eb.val(o.bulkId)),
          // sent_at was set when the row was claimed (or admitted) for this hand-over.
          lease_owner: null,
          lease_expires_at: null,
          outcome_unknown_since: null,
          updated_at: o.at
        }))
        .where('id', 'in', jsonList(dialect, ids))
        // A dispatcher that lost its lease (another settled the row meanwhile) records nothing.
        .where((eb) => eb.or([eb('lease_owner', '=', leaseOwner), eb('lease_owner', 'is', null)]))
        .execute()
    }
  })
}

export interface ReportUpdate {
  status: MessageStatus
  providerStatus: string | null
  error: Message['error']
  price: Message['price']
  sentAt: string | null
  doneAt: string | null
  infobipMessageId: string
  bulkId: string | null
}

/** `attempts`: hand-overs that may have reached Infobip (0: it cannot know the message). */
export interface RecordedStatusRow { id: string, status: MessageStatus, providerStatus: string | null, errorCode: string | null, attempts: number }

/**
 * Current status (and stored error code) of the messages a batch of reports refers to, by our id or Infobip's.
 * Infobip echoes our id as its message id, so reports are found by primary key; only ids not found that way are
 * looked up among the messages Infobip gave an id of its own (a partial index holds just those, migration 007).
 */
export async function findStatuses (db: Executor, ids: string[]): Promise<Map<string, RecordedStatusRow>> {
  const found = new Map<string, RecordedStatusRow>()
  if (ids.length === 0) return found
  const columns = ['id', 'status', 'provider_status', 'infobip_message_id', 'error', 'attempts'] as const
  const keep = (row: Pick<MessageRow, typeof columns[number]>): void => {
    const error = row.error === null ? null : JSON.parse(row.error) as { code?: unknown }
    const entry = { id: row.id, status: row.status as MessageStatus, providerStatus: row.provider_status, errorCode: typeof error?.code === 'string' ? error.code : null, attempts: Number(row.attempts) }
    found.set(row.id, entry)
    if (row.infobip_message_id !== null) found.set(row.infobip_message_id, entry)
  }
  for (const row of await db.selectFrom('messages').select(columns).where('id', 'in', ids).execute()) keep(row)
  const rest = ids.filter((id) => !found.has(id))
  if (rest.length === 0) return found
  const byProviderId = await db.selectFrom('messages').select(columns)
    .where('infobip_message_id', 'in', rest)
    .where('infobip_message_id', 'is not', null)
    .where(sql<boolean>`infobip_message_id <> id`)
    .execute()
  for (const row of byProviderId) keep(row)
  return found
}

/** Applies a report (compare-and-set on the status it was decided from); false when another writer moved the message first. */
export async function applyReport (db: Executor, id: string, fromStatus: MessageStatus, update: ReportUpdate, at: string): Promise<boolean> {
  const result = await db.updateTable('messages')
    .set((eb) => ({
      status: update.status,
      provider_status: update.providerStatus,
      error: update.error === null ? null : JSON.stringify(update.error),
      price_amount: update.price?.amount ?? null,
      price_currency: update.price?.currency ?? null,
      infobip_message_id: eb.fn.coalesce('infobip_message_id', eb.val(update.infobipMessageId)),
      bulk_id: eb.fn.coalesce('bulk_id', eb.val(update.bulkId)),
      sent_at: eb.fn.coalesce('sent_at', eb.val(update.sentAt)),
      done_at: update.doneAt,
      updated_at: at
    }))
    .where('id', '=', id)
    // Compare-and-set: a concurrent writer that moved the message first wins, and this report is dropped.
    .where('status', '=', fromStatus)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/**
 * Marks a message accepted on the strength of Infobip's duplicate answer (its first hand-over happened):
 * the status moves, a failure we concluded for lack of knowledge is cleared, and nothing of the duplicate
 * (its REJECTED status, zero price) is written. Compare-and-set like applyReport.
 */
export async function markAcceptedByDuplicate (db: Executor, id: string, fromStatus: MessageStatus, at: string): Promise<boolean> {
  const result = await db.updateTable('messages')
    .set((eb) => ({
      status: 'accepted',
      error: null,
      done_at: null,
      infobip_message_id: eb.fn.coalesce('infobip_message_id', eb.ref('id')),
      updated_at: at
    }))
    .where('id', '=', id)
    .where('status', '=', fromStatus)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

export async function countByStatus (db: Executor): Promise<Array<{ status: string, count: number }>> {
  const rows = await db.selectFrom('messages').select(['status', db.fn.countAll<number | string>().as('count')]).groupBy('status').execute()
  return rows.map((r) => ({ status: r.status, count: Number(r.count) }))
}

const NOT_SENT: MessageStatus[] = ['suppressed', 'failed', 'rejected', 'deferred', 'cancelled']

/** Marketing counted against a number's frequency cap: how many, and when the oldest of them was handed over. */
export interface MarketingCount { count: number, oldestAt: string }

/**
 * Marketing messages handed over (or being handed over) to each number since an instant — for frequency caps —
 * with the hand-over time of the oldest counted one (when it leaves the window, the count drops).
 */
export async function countMarketingSince (db: Executor, numbers: string[], sinceIso: string): Promise<Map<string, MarketingCount>> {
  const counts = new Map<string, MarketingCount>()
  if (numbers.length === 0) return counts
  const rows = await db.selectFrom('messages')
    .select((eb) => ['to_number', eb.fn.countAll<number | string>().as('count'), eb.fn.min('sent_at').as('oldest_at')])
    .where('to_number', 'in', numbers)
    .where('sent_at', '>=', sinceIso)
    .where('purpose', '=', 'marketing')
    .where('status', 'not in', NOT_SENT)
    .groupBy('to_number')
    .execute()
  for (const row of rows) counts.set(row.to_number, { count: Number(row.count), oldestAt: row.oldest_at ?? sinceIso })
  return counts
}

/**
 * The campaign of the last message handed over to a number at or before an instant (null when that
 * message was not a campaign's, or there is none): what a reply from the number most likely answers.
 * The service's own replies (confirmations, HELP) are skipped: nobody answers those.
 */
export async function campaignOfLastHandedOver (db: Executor, to: string, atOrBefore: string): Promise<string | null> {
  const row = await db.selectFrom('messages').select('campaign_id')
    .where('to_number', '=', to)
    .where('sent_at', 'is not', null)
    .where('sent_at', '<=', atOrBefore)
    .where('origin', '<>', 'reply')
    .orderBy('sent_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst()
  return row?.campaign_id ?? null
}

/** Stops messages to a number that have not yet been handed to the provider. */
export async function suppressPending (db: Executor, to: string, reason: string, at: string): Promise<number> {
  const result = await db.updateTable('messages')
    .set({ status: 'suppressed', decision_reason: reason, updated_at: at })
    .where('to_number', '=', to)
    .where('status', 'in', ['queued', 'deferred'])
    .executeTakeFirst()
  return Number(result.numUpdatedRows)
}

/** Messages left in a status since before a cutoff, oldest first (what a crash can leave behind). */
export async function findStale (db: Executor, status: 'queued' | 'sending', beforeIso: string, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('messages').select('id')
    .where('status', '=', status)
    .where('updated_at', '<', beforeIso)
    .orderBy('updated_at', 'asc')
    .limit(limit)
    .execute()
  return rows.map((r) => r.id)
}

/** Fails messages still in the given status (a concurrent change wins). */
export async function failMessages (db: Executor, ids: string[], fromStatus: 'queued' | 'sending', error: NonNullable<Message['error']>, at: string): Promise<number> {
  if (ids.length === 0) return 0
  const result = await db.updateTable('messages')
    .set({ status: 'failed', error: JSON.stringify(error), updated_at: at, done_at: at })
    .where('id', 'in', ids)
    .where('status', '=', fromStatus)
    .executeTakeFirst()
  return Number(result.numUpdatedRows)
}
