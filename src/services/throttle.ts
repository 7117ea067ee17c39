import { sql } from 'kysely'
import type { Db } from '../db/schema.js'

/**
 * The account's send throttle: a token bucket refilled at `ratePerSecond` (SEND_RATE_PER_SECOND, the Infobip
 * account's MPS — messages per second, every message counted once whatever its segments), holding at most
 * `burstSeconds` worth of tokens so that a quiet account cannot release a long burst at once.
 *
 * `take(max, min)` grants up to `max` tokens now, or none while fewer than `min` (default 1; at most the bucket size)
 * are there, and says how long until it could grant (ms). A dispatcher claiming from the outbox asks for a
 * batch's worth (`min` = batch size, capped at the bucket), so a slow rate still goes out as a few requests of
 * several messages a second rather than one request per message; a single send waiting asks for one.
 * `refund(n)` gives back tokens taken for messages that turned out not to go (deferred, suppressed, nothing due).
 * `pauseUntil(ms)` empties the bucket and lets no token accrue before that epoch ms (Infobip's Retry-After: the
 * account was told it went too fast, so sending resumes at the rate, without a burst).
 * Times come from `nowMs` (milliseconds; wall-clock by default so that instances sharing a database agree).
 */
export interface Throttle {
  take: (max: number, min?: number) => Promise<{ granted: number, waitMs: number }>
  refund: (count: number) => Promise<void>
  pauseUntil: (untilMs: number) => Promise<void>
}

export interface ThrottleOptions {
  ratePerSecond: number
  /** Bucket size in seconds of rate (default 0.1 s): the largest burst, and so the largest batch at low rates. */
  burstSeconds?: number
  nowMs?: () => number
}

function capacityOf ({ ratePerSecond, burstSeconds = 0.1 }: ThrottleOptions): number {
  return Math.max(1, ratePerSecond * burstSeconds)
}

/** Tokens needed before anything is granted: `min`, within [1, max] and at most the whole bucket. */
function needed (max: number, min: number, capacity: number): number {
  return Math.max(1, Math.min(min, max, Math.floor(capacity)))
}

/** How long until a bucket holding `tokens` holds `need` at `ratePerSecond` (ms; 0 when it already does). */
function msUntil (tokens: number, need: number, ratePerSecond: number): number {
  return tokens >= need ? 0 : Math.max(1, Math.ceil(((need - tokens) / ratePerSecond) * 1000))
}

function grant (tokens: number, max: number, need: number, ratePerSecond: number): { granted: number, waitMs: number, left: number } {
  if (Math.floor(tokens) < need) return { granted: 0, waitMs: msUntil(tokens, need, ratePerSecond), left: tokens }
  const granted = Math.max(0, Math.min(max, Math.floor(tokens)))
  const left = tokens - granted
  return { granted, waitMs: msUntil(left, need, ratePerSecond), left }
}

/** An in-process bucket: exact for one dispatcher (SQLite, where one dispatcher serves a database file). */
export function createLocalThrottle (options: ThrottleOptions): Throttle {
  const nowMs = options.nowMs ?? Date.now
  const capacity = capacityOf(options)
  let tokens = capacity
  let refilledAt = nowMs()
  /** Tokens accrue from `refilledAt` on; while it is in the future (a pause), none do. */
  function refill (): void {
    const now = nowMs()
    if (now <= refilledAt) return
    tokens = Math.min(capacity, tokens + ((now - refilledAt) / 1000) * options.ratePerSecond)
    refilledAt = now
  }
  return {
    async take (max, min = 1) {
      refill()
      const result = grant(tokens, max, needed(max, min, capacity), options.ratePerSecond)
      tokens = result.left
      return { granted: result.granted, waitMs: Math.max(result.waitMs, refilledAt - nowMs()) }
    },
    async refund (count) {
      if (count > 0) tokens = Math.min(capacity, tokens + count)
    },
    async pauseUntil (untilMs) {
      refill()
      tokens = 0
      refilledAt = Math.max(refilledAt, untilMs)
    }
  }
}

/**
 * A bucket kept in one database row (`throttle_buckets`), so every instance dispatching from one PostgreSQL
 * database draws from the same SEND_RATE_PER_SECOND. Each take is one atomic UPDATE … RETURNING (the row lock
 * serialises instances); instances' clocks are assumed NTP-synchronised (a skew of s seconds lets at most
 * s × rate extra tokens through, once).
 */
export function createSharedThrottle (db: Db, options: ThrottleOptions & { name?: string }): Throttle {
  const nowMs = options.nowMs ?? Date.now
  const capacity = capacityOf(options)
  const rate = options.ratePerSecond
  const name = options.name ?? 'infobip'
  let created = false

  async function ensureRow (): Promise<void> {
    if (created) return
    await db.insertInto('throttle_buckets').values({ name, tokens: capacity, refilled_at_ms: nowMs() })
      .onConflict((oc) => oc.column('name').doNothing()).execute()
    created = true
  }

  return {
    async take (max, min = 1) {
      await ensureRow()
      const now = nowMs()
      const need = needed(max, min, capacity)
      // Refill and take in one statement: the row lock serialises instances, and nothing is read twice.
      const { rows } = await sql<{ granted: number, left: number, resume_at: string | number }>`
        with b as (
          select name, least(${capacity}::double precision,
                             tokens + greatest(0, ${now}::bigint - refilled_at_ms) / 1000.0 * ${rate}::double precision) as t
          from throttle_buckets where name = ${name} for update
        )
        , g as (select name, t, case when floor(t) >= ${need} then least(${max}::double precision, floor(t)) else 0 end as granted from b)
        update throttle_buckets set tokens = g.t - g.granted,
                                    refilled_at_ms = greatest(throttle_buckets.refilled_at_ms, ${now}::bigint)
        from g where throttle_buckets.name = g.name
        returning g.granted as granted, g.t - g.granted as left, throttle_buckets.refilled_at_ms as resume_at`.execute(db)
      const row = rows[0]
      if (row === undefined) return { granted: 0, waitMs: 1000 / rate }
      const left = Number(row.left)
      const paused = Math.max(0, Number(row.resume_at) - now)
      return { granted: Number(row.granted), waitMs: Math.max(paused, msUntil(left, need, rate)) }
    },
    async pauseUntil (untilMs) {
      await ensureRow()
      // Every instance drawing from this bucket pauses: no tokens until then (take's refill counts from refilled_at_ms).
      await db.updateTable('throttle_buckets')
        .set({ tokens: 0, refilled_at_ms: sql`greatest(refilled_at_ms, ${untilMs}::bigint)` })
        .where('name', '=', name)
        .execute()
    },
    async refund (count) {
      if (count <= 0) return
      await db.updateTable('throttle_buckets')
        .set({ tokens: sql`least(${capacity}::double precision, tokens + ${count}::double precision)` })
        .where('name', '=', name)
        .execute()
    }
  }
}
