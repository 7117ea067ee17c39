/**
 * Scenario 3: Infobip slower than the service's timeout for a while, accepting each request at receipt (so every
 * timed-out hand-over did reach Infobip), with message logs lagging acceptance. No message handed over twice;
 * every record ends in Infobip's status, before and after delivery reports.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { metricValue } from '../api.js'
import type { DatabaseServer } from '../databases.js'
import { firstArrivalAfter } from '../fake.js'
import { count, type Harness, type ScenarioResult } from '../harness.js'
import { addTally, checkCampaign, checkStatuses } from '../verify.js'
import { expectThat, finish, launchCampaign, newResult, stage, type StagePlan } from './common.js'

const TIMEOUT_MS = 1000
const SETTINGS = { INFOBIP_TIMEOUT_MS: String(TIMEOUT_MS), OUTCOME_SETTLE_MS: '4000', SEND_RATE_PER_SECOND: '200', DISPATCH_LEASE_MS: '5000' }
const LOG_LAG_MS = 500

export const slowStage = (h: Harness): StagePlan => ({ name: 'slow', size: h.quick ? 600 : 2000, settings: SETTINGS })

export async function slowScenario (h: Harness, server: DatabaseServer): Promise<ScenarioResult> {
  const { name, size, settings } = slowStage(h)
  const slowMs = h.quick ? 8000 : 30_000
  const result = newResult(`3. Infobip slower than the timeout for ${slowMs / 1000} s`, server.label, 1, SETTINGS)
  const s = await stage(h, server, name, size, settings)
  try {
    const marker = '#slow#'
    await h.fake.logLag({ ms: LOG_LAG_MS })
    const { id } = await launchCampaign(s, marker)
    await sleep(h.rng.between(1000, 2000))
    const slowAt = Date.now()
    await h.fake.mode({ kind: 'slow', ms: TIMEOUT_MS * 2.5 }, slowMs)
    const slowEnd = slowAt + slowMs
    h.idle()
    const { truth, records } = await finish(s, id, marker, 120_000 + slowMs)
    addTally(result.tally, checkCampaign({ required: s.numbers, truth, records }))
    const first = firstArrivalAfter(truth, slowEnd)
    if (first !== null) result.recoverMs.push(first - slowEnd)
    const metrics = await s.instance.api.metrics()
    const timeouts = metricValue(metrics, 'sms_provider_failures_total', { kind: 'timeout' })
    const lookups = (await h.fake.requests()).lookups.length
    result.checks.push(`${count(size)} recipients; Infobip accepted at receipt and answered after ${count(TIMEOUT_MS * 2.5)} ms for ${slowMs / 1000} s, its message logs ${LOG_LAG_MS} ms behind`)
    result.checks.push(`${timeouts} send requests timed out (Infobip had their messages), ${lookups} message-log look-ups`)
    expectThat(result, timeouts > 0, 'no request timed out: the scenario did not test anything')

    // Infobip's delivery reports for every message: the records follow, also for hand-overs that timed out.
    const reports = truth.map((t) => ({ messageId: t.messageId, status: h.rng.next() < 0.8 ? 'DELIVERED' as const : 'UNDELIVERABLE' as const }))
    const statuses = await h.fake.reports(reports, 100)
    expectThat(result, statuses.every((code) => code === 200), `delivery-report webhooks answered ${[...new Set(statuses)].join(', ')}`)
    const after = checkStatuses(await h.fake.truth(marker), await s.db.records({ campaignId: id }))
    result.tally.wrongStatus += after.wrongStatus
    result.tally.examples.push(...after.examples)
    result.checks.push(`after ${reports.length} delivery reports: ${after.wrongStatus} records differ from Infobip`)
  } finally {
    await s.close()
  }
  return result
}
