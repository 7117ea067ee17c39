import { sql, type ExpressionBuilder, type Kysely } from 'kysely'
import type { Message } from '../../schemas/common.js'
import type { Dialect } from '../database.js'
import type { Database, MessageOrigin } from '../schema.js'
import { jsonList, jsonRows } from './json-rows.js'

/**
 * The outbox's SQL: claiming due rows under a lease kept in the row, recording what a hand-over did, and
 * settling what an expired lease left. A lease is (`lease_owner`, `lease_expires_at`); only its owner records
 * outcomes for a leased row, so a dispatcher that lost its lease (it stalled and another took over) cannot
 * overwrite what the new owner found.
 */

type Executor = Kysely<Database>

export interface Lease { owner: string, expiresAt: string }

/** A row a dispatcher holds for hand-over, with what rendering and the compliance re-check need. */
export interface OutboxRow {
  id: string
  to: string
  text: string
  senderId: string | null
  purpose: 'marketing' | 'transactional'
  origin: MessageOrigin
  campaignId: string | null
  contactId: string | null
  validUntil: string | null
  dueAt: string | null
  attemptedAt: string | null
  attempts: number
  outcomeUnknownSince: string | null
}

const ROW_COLUMNS = [
  'id', 'to_number', 'text', 'sender_id', 'purpose', 'origin', 'campaign_id', 'contact_id',
  'valid_until', 'due_at', 'attempted_at', 'attempts', 'outcome_unknown_since'
] as const

function toRow (row: {
  id: string,
  to_number: string,
  text: string,
  sender_id: string | null,
  purpose: string,
  origin: MessageOrigin,
  campaign_id: string | null,
  contact_id: string | null,
  valid_until: string | null,
  due_at: string | null,
  attempted_at: string | null,
  attempts: number,
  outcome_unknown_since: string | null
}): OutboxRow {
  return {
    id: row.id,
    to: row.to_number,
    text: row.text,
    senderId: row.sender_id,
    purpose: row.purpose === 'transactional' ? 'transactional' : 'marketing',
    origin: row.origin,
    campaignId: row.campaign_id,
    contactId: row.contact_id,
    validUntil: row.valid_until,
    dueAt: row.due_at,
    attemptedAt: row.attempted_at,
    attempts: Number(row.attempts),
    outcomeUnknownSince: row.outcome_unknown_since
  }
}

/**
 * Locks up to `limit` due rows of one campaign (or, with `campaignId` null, the single sends and replies
 * waiting: replies first) inside the caller's transaction. On PostgreSQL the rows are locked `FOR UPDATE SKIP
 * LOCKED`, so dispatchers on several instances claim disjoint batches; SQLite runs one write transaction at a
 * time. The caller decides each row and then calls `applyClaim` in the same transaction.
 */
export async function selectDue (trx: Executor, dialect: Dialect, campaignId: string | null, nowIso: string, limit: number): Promise<OutboxRow[]> {
  if (limit <= 0) return []
  let query = trx.selectFrom('messages').select(ROW_COLUMNS)
    // Literal statuses, not parameters: only then can SQLite (and PostgreSQL's generic plans) prove the partial
    // index messages_due_idx applies, and walk it in due order instead of sorting every queued row per claim.
    .where(sql<boolean>`status in ('queued', 'deferred')`)
    .where('due_at', '<=', nowIso)
  query = campaignId === null ? query.where('campaign_id', 'is', null).orderBy('priority').orderBy('due_at') : query.where('campaign_id', '=', campaignId).orderBy('due_at')
  query = query.limit(limit)
  if (dialect === 'postgres') query = query.forUpdate().skipLocked()
  return (await query.execute()).map(toRow)
}

export interface ClaimedRow { id: string, text: string, segments: number, encoding: string }
export interface DeferredRow { id: string, dueAt: string, reason: string }
export interface RefusedRow { id: string, status: 'suppressed' | 'expired' | 'failed', reason: string }

/**
 * Writes a claim's decisions: rows that go are leased to `lease.owner` as `sending` with their final text (campaign
 * rows are rendered per recipient here); deferred rows wait for `dueAt`; refused rows end with their reason. Rows
 * whose text did not change share one statement; rendered rows are written with one `UPDATE … FROM` a JSON batch
 * (json-rows.ts).
 */
export async function applyClaim (trx: Executor, claim: { dialect: Dialect, going: ClaimedRow[], rendered: boolean, deferred: DeferredRow[], refused: RefusedRow[], lease: Lease, nowIso: string }): Promise<void> {
  const { lease, nowIso } = claim
  const leased = {
    status: 'sending',
    lease_owner: lease.owner,
    lease_expires_at: lease.expiresAt,
    attempted_at: nowIso,
    sent_at: nowIso,
    updated_at: nowIso
  } as const
  for (let i = 0; i < claim.going.length; i += VALUES_CHUNK) {
    const chunk = claim.going.slice(i, i + VALUES_CHUNK)
    if (!claim.rendered) {
      await trx.updateTable('messages')
        .set((eb) => ({ ...leased, attempts: eb('attempts', '+', 1) }))
        .where('id', 'in', chunk.map((r) => r.id)).execute()
      continue
    }
    const rendered = jsonRows(claim.dialect, RENDERED_COLUMNS, chunk.map((r) => [r.id, r.text, r.segments, r.encoding]))
    await sql`update messages set status = ${leased.status}, lease_owner = ${lease.owner}, lease_expires_at = ${lease.expiresAt},
        attempted_at = ${nowIso}, sent_at = ${nowIso}, updated_at = ${nowIso}, attempts = attempts + 1,
        text = v.text, segments = v.segments, encoding = v.encoding
      from ${rendered} as v where messages.id = v.id`.execute(trx)
  }
  for (const row of claim.deferred) {
    await trx.updateTable('messages')
      .set({ status: 'deferred', due_at: row.dueAt, decision_reason: row.reason, updated_at: nowIso })
      .where('id', '=', row.id).execute()
  }
  for (const status of ['suppressed', 'expired', 'failed'] as const) {
    const rows = claim.refused.filter((r) => r.status === status)
    const reasons = new Map<string, string[]>()
    for (const row of rows) reasons.set(row.reason, [...(reasons.get(row.reason) ?? []), row.id])
    for (const [reason, ids] of reasons) {
      await trx.updateTable('messages')
        .set({ status, decision_reason: reason, updated_at: nowIso, done_at: nowIso })
        .where('id', 'in', ids).execute()
    }
  }
}

const VALUES_CHUNK = 500
const RENDERED_COLUMNS = [['id', 'text'], ['text', 'text'], ['segments', 'integer'], ['encoding', 'text']] as const

/**
 * Rows whose hand-over outcome must be settled: `sending` with an expired lease (a dispatcher died or stalled
 * mid-hand-over) or released as outcome-unknown and due for a look-up. They are leased to `lease.owner` and
 * returned; rows with no recorded unknown-since get it now (from their last attempt).
 */
export async function claimUnresolved (db: Executor, dialect: Dialect, lease: Lease, nowIso: string, limit: number): Promise<OutboxRow[]> {
  return await db.transaction().execute(async (trx) => {
    let query = trx.selectFrom('messages').select(ROW_COLUMNS)
      .where('status', '=', 'sending')
      .where((eb) => eb.or([
        eb.and([eb('lease_owner', 'is', null), eb('due_at', '<=', nowIso)]),
        eb('lease_expires_at', '<', nowIso)
      ]))
      .orderBy('due_at')
      .limit(limit)
    if (dialect === 'postgres') query = query.forUpdate().skipLocked()
    const rows = (await query.execute()).map(toRow)
    if (rows.length === 0) return rows
    await trx.updateTable('messages')
      .set((eb) => ({
        lease_owner: lease.owner,
        lease_expires_at: lease.expiresAt,
        outcome_unknown_since: eb.fn.coalesce('outcome_unknown_since', 'attempted_at', eb.val(nowIso)),
        updated_at: nowIso
      }))
      .where('id', 'in', rows.map((r) => r.id)).execute()
    for (const row of rows) row.outcomeUnknownSince ??= row.attemptedAt ?? nowIso
    return rows
  })
}

/** Extends `owner`'s lease on these rows and returns the ids it still holds (a lost lease is not re-sent). */
export async function extendLeases (db: Executor, ids: string[], owner: string, expiresAt: string): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const rows = await db.updateTable('messages').set({ lease_expires_at: expiresAt })
    .where('id', 'in', ids).where('lease_owner', '=', owner).where('status', '=', 'sending')
    .returning('id').execute()
  return new Set(rows.map((r) => r.id))
}

/**
 * The dispatcher's heartbeat: extends `owner`'s lease on the rows it holds (`ids`: in flight, waiting for tokens,
 * being settled) and returns how many it renewed. On PostgreSQL, rows another transaction is writing at that moment
 * are skipped (`FOR UPDATE SKIP LOCKED`, in id order), never waited for: they are being recorded or settled, and a
 * heartbeat waiting for one while holding others deadlocks with the recording of a batch that wants those. A
 * skipped row is renewed by the next heartbeat, a third of a lease later. The ids go as one JSON parameter.
 */
export async function renewLeases (db: Executor, dialect: Dialect, ids: string[], owner: string, expiresAt: string): Promise<number> {
  if (ids.length === 0) return 0
  const held = (eb: ExpressionBuilder<Database, 'messages'>) => eb.and([eb('id', 'in', jsonList(dialect, ids)), eb('lease_owner', '=', owner), eb('status', '=', 'sending')])
  let query = db.updateTable('messages').set({ lease_expires_at: expiresAt })
  query = dialect === 'postgres'
    ? query.where('id', 'in', (eb) => eb.selectFrom('messages').select('id').where(held).orderBy('id').forUpdate().skipLocked())
    : query.where(held)
  const result = await query.executeTakeFirst()
  return Number(result.numUpdatedRows)
}

/**
 * Expires every lease at once. Only for SQLite at startup, where one dispatcher serves a database file: any
 * lease found then belongs to a process that is gone, and waiting out its expiry would only delay recovery.
 */
export async function expireAllLeases (db: Executor, nowIso: string): Promise<number> {
  const result = await db.updateTable('messages')
    .set((eb) => ({
      lease_owner: null,
      lease_expires_at: null,
      outcome_unknown_since: eb.fn.coalesce('outcome_unknown_since', 'attempted_at', eb.val(nowIso)),
      due_at: nowIso
    }))
    .where('status', '=', 'sending').where('lease_owner', 'is not', null).executeTakeFirst()
  return Number(result.numUpdatedRows)
}

/**
 * Outcome unknown (timeout, reset after the request was written, 500/502/504): the rows stay `sending` under
 * the same lease, with the time this attempt's doubt began; the owner looks them up, and if it dies the lease expires and any
 * dispatcher's `claimUnresolved` takes them over.
 */
export async function noteUnknown (db: Executor, ids: string[], owner: string, nowIso: string): Promise<void> {
  if (ids.length === 0) return
  await db.updateTable('messages')
    // The doubt starts again with every attempt: the settle delay counts from the latest hand-over.
    .set({ outcome_unknown_since: nowIso, updated_at: nowIso })
    .where('id', 'in', ids).where('lease_owner', '=', owner).where('status', '=', 'sending').execute()
}

/**
 * Puts rows that provably did not reach Infobip back in the queue for `dueAt` (an outage, a 429, a retryable
 * failure after retries). The attempt is not counted as a hand-over: `sent_at` is cleared.
 */
export async function requeue (db: Executor, ids: string[], owner: string, dueAt: string, nowIso: string, countAttempt: boolean): Promise<void> {
  if (ids.length === 0) return
  await db.updateTable('messages')
    .set((eb) => ({
      status: 'queued',
      lease_owner: null,
      lease_expires_at: null,
      outcome_unknown_since: null,
      sent_at: null,
      due_at: dueAt,
      updated_at: nowIso,
      ...(countAttempt ? {} : { attempts: eb('attempts', '-', 1) })
    }))
    .where('id', 'in', ids).where('lease_owner', '=', owner).where('status', '=', 'sending').execute()
}

/** Ends leased rows that did not go, with their error or reason (`failed`, `expired`, `suppressed`). */
export async function settleUnsent (db: Executor, ids: string[], owner: string, status: 'failed' | 'expired' | 'suppressed', detail: { error?: Message['error'], reason?: string }, nowIso: string): Promise<void> {
  if (ids.length === 0) return
  await db.updateTable('messages')
    .set({
      status,
      lease_owner: null,
      lease_expires_at: null,
      outcome_unknown_since: null,
      sent_at: null,
      error: detail.error === undefined || detail.error === null ? null : JSON.stringify(detail.error),
      ...(detail.reason !== undefined ? { decision_reason: detail.reason } : {}),
      updated_at: nowIso,
      done_at: nowIso
    })
    .where('id', 'in', ids).where('lease_owner', '=', owner).where('status', '=', 'sending').execute()
}

/** Clears the lease of rows whose outcome was settled by another path (a delivery report, a look-up). */
export async function clearLeases (db: Executor, ids: string[], owner: string): Promise<void> {
  if (ids.length === 0) return
  await db.updateTable('messages')
    .set({ lease_owner: null, lease_expires_at: null, outcome_unknown_since: null })
    .where('id', 'in', ids).where('lease_owner', '=', owner).execute()
}

/** Outbox depth by status for the rows not yet final, plus the oldest due row waiting (for dispatch lag). */
export async function pendingDepth (db: Executor): Promise<Array<{ status: string, count: number }>> {
  const rows = await db.selectFrom('messages')
    .select(['status', db.fn.countAll<number | string>().as('count')])
    .where('status', 'in', ['queued', 'deferred', 'sending'])
    .groupBy('status').execute()
  return rows.map((r) => ({ status: r.status, count: Number(r.count) }))
}

/** Campaigns whose rows may be claimed now (status `sending`), oldest launch first. */
export async function listSendingCampaigns (db: Executor): Promise<Array<{ id: string, message: string, senderId: string | null }>> {
  const rows = await db.selectFrom('campaigns').select(['id', 'message', 'sender_id'])
    .where('status', '=', 'sending').orderBy('launched_at').execute()
  return rows.map((r) => ({ id: r.id, message: r.message, senderId: r.sender_id }))
}
