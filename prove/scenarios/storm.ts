/**
 * Scenario 4: a storm of 429 Too Many Requests with `Retry-After` mid-campaign. Dispatch holds (a few requests per
 * Retry-After, not a retry loop), no message is burned (none failed, none lost), and afterwards the rate Infobip
 * sees stays within SEND_RATE_PER_SECOND.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { DatabaseServer } from '../databases.js'
import { firstArrivalAfter } from '../fake.js'
import { count, type Harness, type ScenarioResult } from '../harness.js'
import { addTally, checkCampaign } from '../verify.js'
import { aimFor, busiestWindow, expectThat, finish, launchCampaign, newResult, stage, type StagePlan } from './common.js'

const RATE = 100
const CONCURRENCY = 4
const RETRY_AFTER_S = 2
const SETTINGS = { SEND_RATE_PER_SECOND: String(RATE), SEND_CONCURRENCY: String(CONCURRENCY), OUTCOME_SETTLE_MS: '2000', DISPATCH_LEASE_MS: '5000' }

export const stormStage = (h: Harness): StagePlan => ({ name: 'storm', size: h.quick ? 600 : 2000, settings: SETTINGS })

export async function stormScenario (h: Harness, server: DatabaseServer): Promise<ScenarioResult> {
  const { name, size, settings } = stormStage(h)
  const stormMs = h.quick ? 5000 : 15_000
  const result = newResult(`4. 429 storm for ${stormMs / 1000} s (Retry-After: ${RETRY_AFTER_S})`, server.label, 1, SETTINGS)
  const s = await stage(h, server, name, size, settings)
  try {
    const marker = '#storm#'
    const { id } = await launchCampaign(s, marker)
    await sleep(h.rng.between(1500, 3000))
    const stormAt = Date.now()
    await h.fake.mode({ kind: 'error', status: 429, headers: { 'retry-after': String(RETRY_AFTER_S) } }, stormMs)
    const stormEnd = stormAt + stormMs
    h.idle()
    const { truth, records } = await finish(s, id, marker, 120_000 + stormMs + (size / RATE) * 1000)
    addTally(result.tally, checkCampaign({ required: s.numbers, truth, records }))
    const first = firstArrivalAfter(truth, stormEnd)
    if (first !== null) result.recoverMs.push(first - stormEnd)

    const failed = records.filter((r) => r.status === 'failed').length
    expectThat(result, failed === 0, `${failed} messages marked failed`)
    const inStorm = (await h.fake.requests()).sends.filter((r) => r.receivedAt >= stormAt && r.receivedAt < stormEnd).length
    // Each 429 holds every request for Retry-After; requests already waiting on the hold go together when it ends.
    const maxInStorm = CONCURRENCY * (Math.ceil(stormMs / (RETRY_AFTER_S * 1000)) + 1)
    aimFor(result, inStorm <= maxInStorm, `${inStorm} send requests during the storm (target: at most ${maxInStorm})`)
    const accepted = truth.flatMap((t) => t.acceptedAt)
    const after = accepted.filter((at) => at >= stormEnd)
    // The bucket holds 0.1 s of rate; one second can carry at most a second of rate plus that burst.
    const busiest = busiestWindow(after, 1000)
    const before = busiestWindow(accepted.filter((at) => at < stormAt), 1000)
    const allowed = Math.ceil(RATE * 1.1)
    const offset = `${((busiest.startAt - stormEnd) / 1000).toFixed(1)} s after the storm`
    aimFor(result, busiest.count <= allowed, `${busiest.count} messages in the busiest second after the storm (${offset}; throttle ${RATE}/s: target at most ${allowed}; ` +
      `before the storm the busiest second had ${before.count}). The throttle grants at most a second of rate plus its bucket (0.1 s) in any second; ` +
      'arrivals at Infobip can bunch beyond that by the spread of request latencies')
    const spanS = after.length > 1 ? (Math.max(...after) - Math.min(...after)) / 1000 : 0
    result.checks.push(`${count(size)} recipients; ${inStorm} send requests during the storm (at most ${maxInStorm}); ${failed} failed`)
    result.checks.push(`after it: busiest second ${busiest.count} messages (${offset}), mean ${spanS > 0 ? (after.length / spanS).toFixed(0) : '—'}/s (throttle ${RATE}/s); before it: busiest second ${before.count}`)
  } finally {
    await s.close()
  }
  return result
}
