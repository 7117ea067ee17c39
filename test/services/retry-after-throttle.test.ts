import { afterEach, describe, expect, it } from 'vitest'
import { startTestApp, type TestContext } from '../support/app.js'
import { seedCampaign, statusCounts } from '../support/outbox.js'
import { sleep, waitFor } from '../support/wait.js'

let ctx: TestContext | undefined
afterEach(async () => {
  await ctx?.close()
  ctx = undefined
})

/** The most arrivals within any `windowMs` (sliding over epoch-ms times). */
function busiest (times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b)
  let best = 0
  let start = 0
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++
    best = Math.max(best, end - start + 1)
  }
  return best
}

const RATE = 20
/** The bucket holds 0.1 s of rate (src/services/throttle.ts). */
const BURST = RATE / 10

describe('the throttle across a 429 storm (Retry-After)', () => {
  /**
   * SEND_RATE_PER_SECOND 20 (a bucket of 2), SEND_CONCURRENCY 16, an Infobip answering after 900 ms, so that
   * when a 429 storm with Retry-After: 1 begins (each 429 also after 900 ms) all sixteen requests slots are busy
   * with batches holding tokens taken before it. Those batches must take their tokens again once the hold ends:
   * any second after the storm then carries at most a second of rate plus the bucket (22; 25 allowed for
   * arrival jitter on a loaded machine). Retrying them as soon as the hold ends, on the tokens taken before it,
   * beside what the throttle releases then, makes it 33–37.
   */
  it('tokens taken before a hold are not spent after it: the rate after the storm stays within the throttle', async () => {
    ctx = await startTestApp({ env: { SEND_RATE_PER_SECOND: String(RATE), SEND_CONCURRENCY: '16', SEND_BATCH_SIZE: '500' } })
    ctx.fake.setDefault({ kind: 'slow', ms: 900 })
    const seeded = await seedCampaign(ctx, { count: 150 })
    await waitFor(() => ctx!.fake.truth().length >= 20, 'sending under way')
    const stormAt = Date.now()
    ctx.fake.setDefault({ kind: 'ok' })
    // Each 429 after 450 ms, as the answers before it: every request in flight carries a full bucket when it is refused.
    ctx.fake.setModeFor({ kind: 'delay', ms: 900, then: { kind: 'error', status: 429, headers: { 'Retry-After': '1' } } }, 1500)
    await sleep(1500)
    const stormEnd = Date.now()
    await waitFor(async () => (await statusCounts(ctx!, { campaignId: seeded.campaignId })).accepted === 150, 'every message accepted', 30_000)

    const truth = ctx.fake.truth()
    expect(truth).toHaveLength(150)
    expect(truth.every((t) => t.acceptances === 1)).toBe(true)
    const after = truth.flatMap((t) => t.acceptedAt).filter((at) => at >= stormEnd)
    expect(after.length).toBeGreaterThan(RATE * 2)
    const inStorm = ctx.fake.sendRequests().filter((r) => r.receivedAt >= stormAt && r.receivedAt < stormEnd)
    expect(inStorm.length).toBeGreaterThan(0)
    expect(busiest(after, 1000)).toBeLessThanOrEqual(RATE + BURST + 3)
  }, 60_000)
})
