import type { Kysely } from 'kysely'
import type { Dialect } from '../database.js'
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

/**
 * The fence a message's admission passes (inside its transaction): of `claims` (key → the message id the key was
 * claimed for), the keys that still name that message and are pending. On PostgreSQL their rows stay locked
 * (sorted order) until the admission commits, so `releaseUnadmittedKey` cannot release a key in between.
 */
export async function heldKeys (trx: Executor, dialect: Dialect, claims: Array<{ key: string, messageId: string }>): Promise<Set<string>> {
  if (claims.length === 0) return new Set()
  const wanted = new Map(claims.map((c) => [c.key, c.messageId]))
  let query = trx.selectFrom('idempotency_keys').select(['key', 'message_id'])
    .where('key', 'in', [...wanted.keys()].sort()).where('state', '=', 'pending').orderBy('key')
  if (dialect === 'postgres') query = query.forUpdate()
  const rows = await query.execute()
  return new Set(rows.filter((r) => r.message_id !== null && wanted.get(r.key) === r.message_id).map((r) => r.key))
}

/**
 * Releases a pending key whose message was never admitted (its request is taken for dead), in one transaction: the
 * key row is locked first (PostgreSQL), so an admission of that message in progress finishes before the check, and
 * the key is deleted only if it still names `messageId` and no message with that id exists. True when released.
 */
export async function releaseUnadmittedKey (db: Executor, dialect: Dialect, key: string, messageId: string): Promise<boolean> {
  return await db.transaction().execute(async (trx) => {
    let query = trx.selectFrom('idempotency_keys').select('key').where('key', '=', key).where('message_id', '=', messageId).where('state', '=', 'pending')
    if (dialect === 'postgres') query = query.forUpdate()
    if (await query.executeTakeFirst() === undefined) return false
    if (await trx.selectFrom('messages').select('id').where('id', '=', messageId).executeTakeFirst() !== undefined) return false
    await releaseKey(trx, key, messageId)
    return true
  })
}

/** Deletes one expired key (so a fresh claim can take it) or all of them when key is omitted. */
export async function deleteExpiredKeys (db: Executor, now: string, key?: string): Promise<number> {
  let query = db.deleteFrom('idempotency_keys').where('expires_at', '<=', now)
  if (key !== undefined) query = query.where('key', '=', key)
  const result = await query.executeTakeFirst()
  return Number(result.numDeletedRows)
}
