import { describe, expect, it } from 'vitest'
import { createLocalThrottle, createSharedThrottle } from '../../src/services/throttle.js'
import { migratedDatabasePerTest, testDialect } from '../support/database.js'

/** Drains `total` messages through a throttle on a simulated clock, taking at most `batch` at a time. */
async function drain (total: number, ratePerSecond: number, batch: number, min = 1): Promise<{ lastAtMs: number, grants: Array<{ atMs: number, granted: number }> }> {
  let now = 0
  const throttle = createLocalThrottle({ ratePerSecond, nowMs: () => now })
  const grants: Array<{ atMs: number, granted: number }> = []
  let sent = 0
  while (sent < total) {
    const { granted, waitMs } = await throttle.take(Math.min(batch, total - sent), min)
    if (granted > 0) {
      grants.push({ atMs: now, granted })
      sent += granted
    } else {
      now += waitMs
    }
  }
  return { lastAtMs: grants.at(-1)!.atMs, grants }
}

describe('token bucket throttle (SEND_RATE_PER_SECOND)', () => {
  it.each([
    // total, rate (messages/s), batch, expected time of the last grant (s): (total - burst) / rate
    [1000, 100, 500, 9.9],
    [1000, 50, 500, (1000 - 5) / 50],
    [20, 1, 500, 19],
    [100_000, 10_000, 500, (100_000 - 1000) / 10_000]
  ])('%i messages at %i/s (batches ≤ %i) finish at %f s', async (total, rate, batch, seconds) => {
    const { lastAtMs } = await drain(total, rate, batch)
    expect(lastAtMs / 1000).toBeCloseTo(seconds, 1)
  })

  it('never grants more than the rate over any second after the first burst', async () => {
    const { grants } = await drain(2000, 100, 500)
    for (const start of [1000, 2500, 7000, 12_000]) {
      const inWindow = grants.filter((g) => g.atMs >= start && g.atMs < start + 1000).reduce((n, g) => n + g.granted, 0)
      expect(inWindow).toBeLessThanOrEqual(100 + 10)
      expect(inWindow).toBeGreaterThanOrEqual(99)
    }
  })

  it.each([
    // rate (messages/s), batch, min: a claim waits for a batch's worth, capped at the bucket (0.1 s of rate)
    [100, 500, 500, 10],
    [100, 4, 4, 4],
    [10_000, 500, 500, 500],
    [5, 500, 500, 1]
  ])('at %i/s with batches ≤ %i and min %i, grants are %i messages each and the rate is unchanged', async (rate, batch, min, size) => {
    const total = 1000
    const { lastAtMs, grants } = await drain(total, rate, batch, min)
    // Every grant but the last (the remainder) is a whole batch's worth: few requests, not one per message.
    expect(grants.slice(0, -1).every((g) => g.granted === size)).toBe(true)
    expect(grants.length).toBe(Math.ceil(total / size))
    const burst = Math.max(1, rate * 0.1)
    expect(lastAtMs / 1000).toBeCloseTo((total - burst) / rate, 1)
  })

  it('grants nothing below the minimum and says when the minimum will be there', async () => {
    let now = 0
    const throttle = createLocalThrottle({ ratePerSecond: 100, nowMs: () => now })
    expect((await throttle.take(500, 500)).granted).toBe(10)
    now += 50
    expect(await throttle.take(500, 500)).toEqual({ granted: 0, waitMs: 50 })
    expect((await throttle.take(500, 1)).granted).toBe(5)
    now += 100
    expect((await throttle.take(500, 500)).granted).toBe(10)
  })

  it('refunded tokens go again, up to the burst', async () => {
    let now = 0
    const throttle = createLocalThrottle({ ratePerSecond: 100, nowMs: () => now })
    expect((await throttle.take(50)).granted).toBe(10)
    expect((await throttle.take(50)).granted).toBe(0)
    await throttle.refund(4)
    expect((await throttle.take(50)).granted).toBe(4)
    await throttle.refund(1000)
    expect((await throttle.take(50)).granted).toBe(10)
    now += 50
    expect((await throttle.take(50)).granted).toBe(5)
  })
})

describe.skipIf(testDialect() !== 'postgres')('the shared bucket on PostgreSQL (several instances, one SEND_RATE_PER_SECOND)', () => {
  const databases = migratedDatabasePerTest()

  it('grants like the local bucket, minimum included, to two instances drawing from one row', async () => {
    const { db } = await databases.open()
    let now = 1_000_000
    const a = createSharedThrottle(db, { ratePerSecond: 100, nowMs: () => now })
    const b = createSharedThrottle(db, { ratePerSecond: 100, nowMs: () => now })
    expect((await a.take(500, 500)).granted).toBe(10)
    expect(await b.take(500, 500)).toEqual({ granted: 0, waitMs: 100 })
    now += 50
    expect(await b.take(500, 500)).toEqual({ granted: 0, waitMs: 50 })
    expect((await a.take(500, 1)).granted).toBe(5)
    now += 100
    expect((await b.take(500, 500)).granted).toBe(10)
    expect((await a.take(500, 1)).granted).toBe(0)
    await a.refund(3)
    expect((await b.take(2)).granted).toBe(2)
  })
})
