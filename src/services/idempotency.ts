import { createHash } from 'node:crypto'
import { AppError } from '../errors.js'
import type { Db } from '../db/schema.js'
import * as keys from '../db/repositories/idempotency.js'
import type { Clock } from './clock.js'

export interface StoredResponse { statusCode: number, body: unknown }

const TTL_MS = 24 * 60 * 60 * 1000
const POLL_MS = 20

export function hashRequest (value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex')
}

/** Scopes a client's key to its API key, so two clients can never see each other's responses. */
export function scopedKey (apiKey: string | undefined, key: string): string {
  const scope = apiKey === undefined ? 'open' : createHash('sha256').update(apiKey).digest('hex').slice(0, 16)
  return `${scope}:${key}`
}

export interface IdempotencyOptions {
  db: Db
  clock: Clock
  /** How long a second request waits for the first one to finish before giving up with 409. */
  waitMs: number
}

export function createIdempotency ({ db, clock, waitMs }: IdempotencyOptions) {
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

  /**
   * Runs `work` at most once per key. A repeat gets the stored response; a repeat that races the first
   * waits for it. `work` decides what is kept: it returns a response to store, or throws — and a thrown
   * error releases the key unless `keepOnError` says the outcome must be remembered.
   */
  async function run (
    key: string,
    requestHash: string,
    work: () => Promise<StoredResponse>,
    keepOnError: (error: unknown) => StoredResponse | null
  ): Promise<StoredResponse & { replayed: boolean }> {
    const deadline = Date.now() + waitMs
    for (;;) {
      const now = clock.now()
      await keys.deleteExpiredKeys(db, now.toISOString(), key)
      const claimed = await keys.claimKey(db, key, requestHash, now.toISOString(), new Date(now.getTime() + TTL_MS).toISOString())
      if (claimed) {
        let response: StoredResponse
        try {
          response = await work()
        } catch (error) {
          const kept = keepOnError(error)
          if (kept === null) await keys.releaseKey(db, key)
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
      if (Date.now() > deadline) throw new AppError('CONFLICT', 'A request with this Idempotency-Key is still being processed; retry later')
      await sleep(POLL_MS)
    }
  }

  return { run, purgeExpired: async () => await keys.deleteExpiredKeys(db, clock.now().toISOString()) }
}

export type Idempotency = ReturnType<typeof createIdempotency>
