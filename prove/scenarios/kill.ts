/**
 * Scenario 1: `kill -9` at a random moment of a campaign (the launch included), restart, repeated; and on
 * PostgreSQL two instances sharing the campaign, one of them killed. Every recipient exactly once.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { waitCompleted, type CampaignView } from '../api.js'
import type { DatabaseServer } from '../databases.js'
import { firstArrivalAfter } from '../fake.js'
import { campaignMessage, contactsCsv, count, median, seconds, type Harness, type Instance, type ScenarioResult } from '../harness.js'
import { addTally, checkCampaign, emptyTally } from '../verify.js'
import { poll } from './common.js'

const SETTINGS = { SEND_RATE_PER_SECOND: '5000', DISPATCH_LEASE_MS: '3000', OUTCOME_SETTLE_MS: '2000' }

export async function killScenario (h: Harness, server: DatabaseServer, instances: 1 | 2): Promise<ScenarioResult> {
  const size = h.quick ? 2000 : 20_000
  const runs = instances === 1 ? (h.quick ? 2 : 10) : (h.quick ? 1 : 3)
  const name = instances === 1 ? 'kill' : 'kill2'
  const result: ScenarioResult = {
    scenario: instances === 1 ? '1. kill -9 mid-campaign, restart' : '1b. two instances, one killed',
    database: server.label,
    runs,
    tally: emptyTally(),
    leaked: null,
    recoverMs: [],
    checks: [],
    failures: [],
    missed: [],
    settings: SETTINGS
  }
  const db = await server.create(name)
  const fleet: Instance[] = []
  for (let i = 0; i < instances; i++) fleet.push(await h.service(`${server.label}-${name}-${String.fromCharCode(97 + i)}`, db.url, SETTINGS))
  try {
    for (const instance of fleet) await instance.process.start()
    const numbers = h.numbers(size)
    const tag = `${name}-${server.label}`.toLowerCase()
    await fleet[0]!.api.importContacts(contactsCsv(numbers, tag), size)
    const killedAt: string[] = []
    const restarts: number[] = []
    for (let run = 1; run <= runs; run++) {
      const marker = `#${name}${run}#`
      const victim = fleet[h.rng.int(0, fleet.length - 1)]!
      const survivors = fleet.filter((i) => i !== victim)
      const id = await fleet[0]!.api.createCampaign(`Prove ${name} ${run}`, campaignMessage(marker), tag)
      // The last run of several kills during the launch (its transaction writes every recipient's row); the others
      // once a random share of the campaign has been handed over.
      const duringLaunch = runs > 1 && run === runs
      const share = h.rng.between(0, 0.95)
      const launch = victim.api.launch(id).catch(() => 0)
      if (duringLaunch) await sleep(h.rng.between(5, 150))
      else await poll(async () => claimedShare(await victim.api.campaign(id)) >= share ? true : null, 50, Date.now() + 120_000)
      const killAt = Date.now()
      await victim.process.kill()
      await launch
      let restartAt = Date.now()
      // One instance: restart it at once. Two: the survivor carries on alone (it takes over the dead one's leased
      // rows when their lease expires); the victim comes back after the campaign.
      if (survivors.length === 0) {
        await victim.process.start()
        restarts.push(Date.now() - restartAt)
        restartAt = Date.now()
      }
      await waitCompleted((survivors.length > 0 ? survivors : [victim]).map((i) => i.api), id, 120_000 + size)
      if (survivors.length > 0) await victim.process.start()
      const truth = await h.fake.truth(marker)
      const records = await db.records({ campaignId: id })
      addTally(result.tally, checkCampaign({ required: numbers, truth, records }))
      const handedOver = truth.filter((t) => t.acceptedAt.some((at) => at < killAt)).length
      if (!duringLaunch) killedAt.push(percent(handedOver / size))
      const first = firstArrivalAfter(truth, restartAt)
      if (first !== null) result.recoverMs.push(first - killAt)
    }
    const when = `with ${killedAt.join(', ')} of the campaign accepted by Infobip${runs > 1 ? ', and once during the launch (the transaction that writes every recipient\'s row)' : ''}`
    result.checks.push(instances === 1
      ? `${count(size)} recipients per run; killed ${when}; restarted at once`
      : `two instances on one database, ${count(size)} recipients per run; one killed ${when}; the other finished alone, taking over the dead one's rows when their lease expired`)
    if (restarts.length > 0) result.checks.push(`a restart (process start to /health answering) took ${seconds(median(restarts)!)} (median) of the time to recover; rows left mid-hand-over were looked up in Infobip's logs before any re-send`)
  } finally {
    for (const instance of fleet) await instance.process.stop()
    await db.drop()
    await h.fake.reset()
  }
  return result
}

const percent = (share: number): string => `${Math.round(100 * share)}%`

/** The share of a campaign's rows no longer waiting (claimed, sent or settled), from its stats; 0 before its launch commits. */
function claimedShare (campaign: CampaignView): number {
  const { total, queued, deferred } = campaign.stats
  return total === 0 ? 0 : (total - queued - deferred) / total
}
