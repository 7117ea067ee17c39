/**
 * Scenario 6 (PostgreSQL only): the service's database connections killed mid-campaign
 * (`pg_terminate_backend` on every connection to its database), several times, and the PostgreSQL server restarted
 * mid-campaign when the harness runs a server of its own. The service recovers by itself — no restart, no crash —
 * and nothing is lost or sent twice.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { startPrivatePostgres, type DatabaseServer } from '../databases.js'
import { firstArrivalAfter } from '../fake.js'
import { count, type Harness, type ScenarioResult } from '../harness.js'
import { addTally, checkCampaign } from '../verify.js'
import { expectThat, finish, launchCampaign, newResult, poll, stage } from './common.js'

const RATE = 500
const SETTINGS = { SEND_RATE_PER_SECOND: String(RATE), DISPATCH_LEASE_MS: '3000', OUTCOME_SETTLE_MS: '2000' }

export async function postgresScenario (h: Harness, shared: DatabaseServer | null): Promise<ScenarioResult> {
  const size = h.quick ? 2000 : 6000
  const kills = h.quick ? 2 : 3
  const downMs = h.quick ? 1000 : 3000
  const own = await startPrivatePostgres()
  const restartable = !('reason' in own)
  const server = restartable ? own.server : shared
  const result = newResult(`6. database connections killed ${kills}×${restartable ? ', server restarted' : ''}`, 'PostgreSQL', 1, SETTINGS)
  if (!restartable) result.note = `server restart skipped: ${own.reason}`
  if (server === null) {
    result.runs = 0
    result.note = `not run: no PostgreSQL server (${restartable ? '' : own.reason})`
    return result
  }
  const s = await stage(h, server, 'pgfaults', size, SETTINGS)
  try {
    const marker = '#pgfaults#'
    const durationMs = (size / RATE) * 1000
    const { id, launchedAt } = await launchCampaign(s, marker)
    // Fault moments spread over the first two thirds of the campaign, in order.
    const faults = kills + (restartable ? 1 : 0)
    const moments = Array.from({ length: faults }, (_, i) => launchedAt + ((i + h.rng.between(0.2, 0.8)) / faults) * durationMs * 0.66)
    const faultEnds: number[] = []
    let terminated = 0
    for (const [i, at] of moments.entries()) {
      await sleep(Math.max(0, at - Date.now()))
      if (restartable && i === moments.length - 1) {
        await own.restart(downMs)
      } else {
        terminated += await s.db.terminateConnections!()
      }
      faultEnds.push(Date.now())
    }
    const readyAgain = await poll(async () => (await s.instance.api.ready()).status === 200 ? Date.now() : null, 100, Date.now() + 30_000)
    expectThat(result, readyAgain !== null, '/health/ready never answered 200 again')
    const { truth, records } = await finish(s, id, marker, 120_000 + durationMs)
    addTally(result.tally, checkCampaign({ required: s.numbers, truth, records }))
    for (const end of faultEnds) {
      const first = firstArrivalAfter(truth, end)
      if (first !== null) result.recoverMs.push(first - end)
    }
    const crashes = h.crashes().filter((c) => c.includes('pgfaults'))
    expectThat(result, crashes.length === 0, `the service crashed: ${crashes.join(', ')}`)
    result.checks.push(`${count(size)} recipients; ${terminated} connections terminated in ${kills} rounds${restartable ? `; server stopped for ${downMs} ms and started` : ''}; ${crashes.length} crashes, ready again without a restart`)
  } finally {
    await s.close()
    if (restartable) await own.stop()
  }
  return result
}
