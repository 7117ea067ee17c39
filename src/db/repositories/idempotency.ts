import type { Kysely } from 'kysely'
import type { Database } from '../schema.js'

type Executor = Kysely<Database>

export type IdempotencyRecord =
  | { state: 'pending', requestHash: string, expiresAt: string, createdAt: string, messageId: string | null }
  | { state: 'done', requestHash: string, expiresAt: string, statusCode: number, body: unknown }

/** Inserts the key, naming the message it will admit, unless it exists; true when this caller now owns it. */
export async function claimKey (db: Executor, key: string, requestHash: string, now: string, expiresAt: string, messageId: string): Promise<boolean> {
  const result = await db.insertInto('idempotency_keys')
    .values({ key, request_hash: requestHash, state: 'pending', response_status: null, response_body: null, created_at: now, expires_at: expiresAt, message_id: messageId })
    .onConflict((oc) => oc.column('key').doNothing())
    .executeTakeFirst()
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0
}

export async function findKey (db: Executor, key: string): Promise<IdempotencyRecord | null> {
  const row = await db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).executeTakeFirst()
  if (row === undefined) return null
  if (row.state === 'done') {
    return { state: 'done', requestHash: row.request_hash, expiresAt: row.expires_at, statusCode: Number(row.response_status), body: JSON.parse(row.response_body ?? 'null') }
  }
  return { state: 'pending', requestHash: row.request_hash, expiresAt: row.expires_at, createdAt: row.created_at, messageId: row.message_id }
}

export async function completeKey (db: Executor, key: string, statusCode: number, body: unknown): Promise<void> {
  await db.updateTable('idempotency_keys')
    .set({ state: 'done', response_status: statusCode, response_body: JSON.stringify(body) })
    .where('key', '=', key)
    .execute()
}

/** Releases a pending key, only while it still names `messageId` (a later claim is left alone). */
export async function releaseKey (db: Executor, key: string, messageId: string): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('key', '=', key).where('message_id', '=', messageId).where('state', '=', 'pending').execute()
}

/** Deletes one expired key (so a fresh claim can take it) or all of them when key is omitted. */
export async function deleteExpiredKeys (db: Executor, now: string, key?: string): Promise<number> {
  let query = db.deleteFrom('idempotency_keys').where('expires_at', '<=', now)
  if (key !== undefined) query = query.where('key', '=', key)
  const result = await query.executeTakeFirst()
  return Number(result.numDeletedRows)
}
