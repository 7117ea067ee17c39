import { createHash } from 'node:crypto'
import stableStringify from 'safe-stable-stringify'
import { AppError } from '../errors.js'
import type { Dialect } from '../db/database.js'
import type { Db } from '../db/schema.js'
import * as keys from '../db/repositories/idempotency.js'
import { newId } from '../domain/ids.js'
import type { Clock } from './clock.js'

export interface StoredResponse { statusCode: number, body: unknown }

/**
 * What the message a pending key admitted says about the request: a settled answer, still in flight, never
 * handed over (the request may run again), or no message yet.
 */
export type MessageAnswer = StoredResponse | 'in-flight' | 'not-sent' | null

const TTL_MS = 24 * 60 * 60 * 1000
const POLL_MS = 20
/** How long a repeat waits for a first request still in flight before answering 409 with Retry-After (ms). */
const IN_FLIGHT_WAIT_MS = 5000
/**
 * A key still pending this long after its claim belongs to a request that died (ms): its settled message answers
 * for it (sooner, the first request is still alive and about to store its own response, which repeats get).
 */
const ABANDONED_AFTER_MS = 5000

/**
 * The fingerprint of a request body that an Idempotency-Key is bound to: SHA-256 of its JSON with object keys in a
 * fixed order (safe-stable-stringify), so a client that re-serialises the same body with its keys in another
 * order is answered as a repeat, not refused as a different request.
 */
export function hashRequest (value: unknown): string {
  return createHash('sha256').update(stableStringify(value) ?? '').digest('hex')
}

/** Scopes a client's key to its API key, so two clients can never see each other's responses. */
export function scopedKey (apiKey: string | undefined, key: string): string {
  const scope = apiKey === undefined ? 'open' : createHash('sha256').update(apiKey).digest('hex').slice(0, 16)
  return `${scope}:${key}`
}

export interface IdempotencyOptions {
  db: Db
  dialect: Dialect
  clock: Clock
}

export function createIdempotency ({ db, dialect, clock }: IdempotencyOptions) {
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

  /**
   * Runs `work` at most once per key (24 h). The key names, from its claim on, the id of the message `work` will
   * record, so the key is settled together with its message: a repeat gets the stored response, or — when the
   * first request died (a crash) — the answer built from that message's record by `answer`. While the message is
   * genuinely in flight a repeat waits at most 5 s, then gets `409 CONFLICT` with `Retry-After: 1`.
   * A thrown error releases the key unless `keepOnError` says the outcome must be remembered.
   * Throws AppError IDEMPOTENCY_KEY_REUSED (same key, other body) or CONFLICT.
   */
  async function run (
    key: string,
    requestHash: string,
    work: (messageId: string) => Promise<StoredResponse>,
    keepOnError: (error: unknown) => StoredResponse | null,
    answer: (messageId: string) => Promise<MessageAnswer>
  ): Promise<StoredResponse & { replayed: boolean }> {
    const deadline = Date.now() + IN_FLIGHT_WAIT_MS
    for (;;) {
      const now = clock.now()
      await keys.deleteExpiredKeys(db, now.toISOString(), key)
      const messageId = newId()
      const claimed = await keys.claimKey(db, key, requestHash, now.toISOString(), new Date(now.getTime() + TTL_MS).toISOString(), messageId)
      if (claimed) {
        let response: StoredResponse
        try {
          response = await work(messageId)
        } catch (error) {
          const kept = keepOnError(error)
          if (kept === null) await keys.releaseKey(db, key, messageId)
          else await keys.completeKey(db, key, kept.statusCode, kept.body)
          throw error
        }
        await keys.completeKey(db, key, response.statusCode, response.body)
        return { ...response, replayed: false }
      }
      const existing = await keys.findKey(db, key)
      if (existing === null) continue
      if (existing.requestHash !== requestHash) {
        throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request body')
      }
      if (existing.state === 'done') return { statusCode: existing.statusCode, body: existing.body, replayed: true }
      const found = existing.messageId === null ? null : await answer(existing.messageId)
      const abandoned = now.getTime() - Date.parse(existing.createdAt) > ABANDONED_AFTER_MS
      if (found !== null && typeof found === 'object' && abandoned) {
        await keys.completeKey(db, key, found.statusCode, found.body)
        return { ...found, replayed: true }
      }
      if (found === 'not-sent') {
        // Nothing was handed over: the request may run again (the release names the message, so it cannot
        // remove a newer claim).
        if (existing.messageId !== null) await keys.releaseKey(db, key, existing.messageId)
        continue
      }
      if (found === null && abandoned && existing.messageId !== null) {
        // No message after 5 s: the first request is taken for dead. Its key is released only if that message
        // still does not exist once the key row is locked, and a first request that was merely slow finds the key
        // no longer naming its message when it comes to admit it, so it records and sends nothing (the fence in
        // src/services/compliance.ts): one of the two sends, never both.
        await keys.releaseUnadmittedKey(db, dialect, key, existing.messageId)
        continue
      }
      if (Date.now() > deadline) {
        throw new AppError('CONFLICT', 'A request with this Idempotency-Key is still being processed; retry later', { retryAfterMs: 1000 })
      }
      await sleep(POLL_MS)
    }
  }

  return { run, purgeExpired: async () => await keys.deleteExpiredKeys(db, clock.now().toISOString()) }
}

export type Idempotency = ReturnType<typeof createIdempotency>
