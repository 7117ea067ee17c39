/**
 * Scenario 2: Infobip down mid-campaign — 503s with Infobip's error body, then refused connections — then back.
 * Nothing lost or marked failed; the circuit open within 2 s (read from /metrics); a handful of HTTP attempts
 * while it is open (the breaker's probes); the campaign completes after recovery.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { metricValue } from '../api.js'
import type { DatabaseServer } from '../databases.js'
import { firstArrivalAfter } from '../fake.js'
import { count, type Harness, type ScenarioResult } from '../harness.js'
import { addTally, checkCampaign } from '../verify.js'
import { aimFor, expectThat, finish, launchCampaign, newResult, poll, stage } from './common.js'

const RESET_MS = 10_000
const SETTINGS = { SEND_RATE_PER_SECOND: '200', OUTCOME_SETTLE_MS: '2000', DISPATCH_LEASE_MS: '5000', CIRCUIT_RESET_MS: String(RESET_MS) }
/** The circuit must be open this soon after the first failure (issue #11). */
const OPEN_WITHIN_MS = 2000

export async function outageScenario (h: Harness, server: DatabaseServer): Promise<ScenarioResult> {
  const size = h.quick ? 1000 : 3000
  const outageMs = h.quick ? 10_000 : 60_000
  const unavailableMs = Math.round(outageMs / 4)
  const result = newResult(`2. Infobip down ${outageMs / 1000} s (503, then refused)`, server.label, 1, SETTINGS)
  const s = await stage(h, server, 'outage', size, SETTINGS)
  try {
    const marker = '#outage#'
    const { id } = await launchCampaign(s, marker)
    await sleep(h.rng.between(1500, 3000))
    const before = await s.instance.api.metrics()
    const outageAt = Date.now()
    await h.fake.mode({ kind: 'error', status: 503 }, unavailableMs, outageMs - unavailableMs)
    const outageEnd = outageAt + outageMs
    // The circuit's state and the HTTP attempts the service made, sampled while Infobip is down.
    const openAt = await poll(async () => metricValue(await s.instance.api.metrics(), 'sms_provider_circuit_state') === 2 ? Date.now() : null, 50, outageAt + OPEN_WITHIN_MS * 5)
    const callsAtOpen = metricValue(await s.instance.api.metrics(), 'sms_provider_calls_total')
    const callsBeforeOpen = callsAtOpen - metricValue(before, 'sms_provider_calls_total')
    const readyWhileOpen = await s.instance.api.ready()
    // The opening is measured; the rest of the outage is waited out while the next scenario's stage is made.
    h.idle()
    await sleep(Math.max(0, outageEnd - Date.now()))
    const callsAtEnd = metricValue(await s.instance.api.metrics(), 'sms_provider_calls_total')
    const { truth, records } = await finish(s, id, marker, 120_000 + outageMs)
    addTally(result.tally, checkCampaign({ required: s.numbers, truth, records }))
    const first = firstArrivalAfter(truth, outageEnd)
    if (first !== null) result.recoverMs.push(first - outageEnd)

    const failed = records.filter((r) => r.status === 'failed').length
    const handedBefore = truth.filter((t) => t.acceptedAt[0]! < outageAt).length
    const probes = callsAtEnd - callsAtOpen
    const maxProbes = Math.ceil(outageMs / RESET_MS) + 2
    const sendsDown = (await h.fake.requests()).sends.filter((r) => r.receivedAt >= outageAt && r.receivedAt < outageAt + unavailableMs).length
    result.checks.push(`${count(size)} recipients, ${handedBefore} handed over before the outage`)
    expectThat(result, openAt !== null, 'the circuit never opened')
    if (openAt !== null) {
      aimFor(result, openAt - outageAt <= OPEN_WITHIN_MS, `circuit open ${openAt - outageAt} ms after the outage began (target: within ${OPEN_WITHIN_MS} ms). ` +
        'The run of CIRCUIT_CONSECUTIVE_FAILURES (5) failed attempts is expected at the first retries of the SEND_CONCURRENCY requests in flight, ' +
        'RETRY_MIN_DELAY_MS (1 s) in')
      result.checks.push(`circuit open ${openAt - outageAt} ms after the outage began (/metrics; /health/ready then said provider "${readyWhileOpen.body.checks?.provider ?? '?'}"); ${callsBeforeOpen} HTTP attempts to Infobip before it opened`)
    }
    aimFor(result, probes <= maxProbes, `${probes} HTTP attempts to Infobip while the circuit was open (target: at most ${maxProbes})`)
    result.checks.push(`${probes} HTTP attempts to Infobip while it was open (probes; at most ${maxProbes} expected), ${sendsDown} send requests answered 503 in all`)
    expectThat(result, failed === 0, `${failed} messages marked failed`)
    result.checks.push(`${failed} marked failed; the campaign completed`)
  } finally {
    await s.close()
  }
  return result
}
