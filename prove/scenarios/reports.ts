/**
 * Scenario 5: a storm of delivery reports — every message gets one or two intermediate reports and its final
 * one, each posted once or twice, in random order (an intermediate may come after the final), in POSTs of random
 * size, while the campaign is still sending — plus forged webhooks (a wrong secret, as ?token= or Basic, or none)
 * and genuine ones replayed at the end. Every record ends in the status Infobip reported; forged ones change nothing.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { DatabaseServer } from '../databases.js'
import { count, type Harness, type ScenarioResult } from '../harness.js'
import { deliveryReportBody, inboundBody, type DeliveryReportStatus } from '../../test/support/fake-infobip.js'
import { addTally, checkCampaign } from '../verify.js'
import { expectThat, launchCampaign, newResult, stage, type StagePlan } from './common.js'
import { waitCompleted } from '../api.js'

type Report = { messageId: string, status: DeliveryReportStatus }

const FINALS: DeliveryReportStatus[] = ['DELIVERED', 'DELIVERED', 'DELIVERED', 'DELIVERED', 'DELIVERED', 'DELIVERED', 'UNDELIVERABLE', 'UNDELIVERABLE', 'EXPIRED', 'REJECTED']

/** About ten seconds of sending (four in quick), so reports and sends interleave. */
export const reportsStage = (h: Harness): StagePlan => ({ name: 'reports', size: h.quick ? 400 : 4000, settings: { SEND_RATE_PER_SECOND: String(h.quick ? 100 : 400) } })

export async function reportsScenario (h: Harness, server: DatabaseServer): Promise<ScenarioResult> {
  const { name, size, settings } = reportsStage(h)
  const result = newResult(`5. ${h.quick ? '1,000' : '10,000'} delivery reports: repeated, reordered, forged, replayed`, server.label, 1, settings)
  const s = await stage(h, server, name, size, settings)
  const { rng } = h
  try {
    const marker = '#reports#'
    const { id } = await launchCampaign(s, marker)
    const planned = new Map<string, { to: string, final: DeliveryReportStatus }>()
    const posted: Report[] = []
    const n = { distinct: 0, posts: 0, forged: 0, forgedPosts: 0, forgedRefused: 0, whileSending: 0 }
    for (;;) {
      const campaign = await s.instance.api.campaign(id)
      const fresh = (await h.fake.truth(marker)).filter((t) => !planned.has(t.messageId))
      const chunk: Report[] = []
      for (const entry of fresh) {
        const final = rng.pick(FINALS)
        planned.set(entry.messageId, { to: entry.to, final })
        const reports: Report[] = [{ messageId: entry.messageId, status: 'PENDING' }]
        if (final === 'DELIVERED' && rng.next() < 0.6) reports.push({ messageId: entry.messageId, status: 'DELIVERED_TO_OPERATOR' })
        reports.push({ messageId: entry.messageId, status: final })
        n.distinct += reports.length
        for (const report of reports) {
          chunk.push(report)
          if (rng.next() < 0.3) chunk.push(report)
        }
      }
      // Reordered: a message's reports arrive in any order, mixed with other messages' reports.
      const shuffled = rng.shuffle(chunk)
      for (let i = 0; i < shuffled.length;) {
        const batch = shuffled.slice(i, i + rng.int(1, 100))
        i += batch.length
        const statuses = await h.fake.reports(batch, 100)
        n.posts += statuses.length
        expectThat(result, statuses.every((code) => code === 200), `a delivery-report webhook answered ${statuses.join(', ')}`)
        posted.push(...batch)
        if (campaign.status !== 'completed') n.whileSending += batch.length
        // A forgery now and then: final statuses that contradict what Infobip will say, with a wrong or no secret.
        if (rng.next() < 0.5 && planned.size > 0) {
          const targets = rng.sample([...planned.entries()], Math.min(5, planned.size))
          const body = deliveryReportBody(targets.map(([messageId, p]) => ({ messageId, to: p.to, status: p.final === 'DELIVERED' ? 'REJECTED' : 'DELIVERED' })))
          const answer = await s.instance.api.webhook('delivery-reports', body, rng.pick(['forged-token', 'forged-basic', 'none'] as const))
          n.forged += targets.length
          n.forgedPosts++
          if (answer.status === 401) n.forgedRefused += targets.length
        }
      }
      if (campaign.status === 'completed' && fresh.length === 0) break
      await sleep(200)
    }
    await waitCompleted([s.instance.api], id, 60_000)

    // A forged STOP: nobody is suppressed by it.
    const forgedStop = await s.instance.api.webhook('inbound', inboundBody([{ from: s.numbers[0]!.slice(1), text: 'STOP' }]), 'forged-token')
    expectThat(result, forgedStop.status === 401, `a forged inbound STOP answered ${forgedStop.status}`)
    const optOuts = await s.instance.api.optOutCount()
    expectThat(result, optOuts === 0, `${optOuts} numbers suppressed after a forged STOP`)

    // Replays of genuine webhooks once every final report is in: through Infobip's notifyUrl (?token=) and with
    // the secret as a Basic password; nothing may change.
    const replays = rng.sample(posted, Math.ceil(posted.length / 5))
    const replayStatuses = await h.fake.reports(replays, 100)
    expectThat(result, replayStatuses.every((code) => code === 200), `a replayed webhook answered ${replayStatuses.join(', ')}`)
    let replayApplied = 0
    const direct = rng.sample(posted, Math.min(200, posted.length))
    for (let i = 0; i < direct.length; i += 50) {
      const body = deliveryReportBody(direct.slice(i, i + 50).map((r) => ({ messageId: r.messageId, to: planned.get(r.messageId)!.to, status: r.status })))
      const answer = await s.instance.api.webhook('delivery-reports', body, 'basic')
      expectThat(result, answer.status === 200, `a replayed webhook (Basic) answered ${answer.status}`)
      replayApplied += (answer.body as { processed?: number }).processed ?? 0
    }
    expectThat(result, replayApplied === 0, `${replayApplied} replayed reports changed a record`)
    expectThat(result, n.forgedRefused === n.forged, `${n.forged - n.forgedRefused} forged reports were not refused`)

    const truth = await h.fake.truth(marker)
    const records = await s.db.records({ campaignId: id })
    addTally(result.tally, checkCampaign({ required: s.numbers, truth, records }))
    result.checks.push(`${count(n.distinct)} distinct reports for ${count(planned.size)} messages (an intermediate or two and the final each), ${count(posted.length)} posted by Infobip in ${count(n.posts)} POSTs of 1–100, shuffled (${count(posted.length - n.distinct)} repeats; ${count(n.whileSending)} while the campaign was still sending)`)
    result.checks.push(`${n.forged} forged reports (contradicting what Infobip says) in ${n.forgedPosts} POSTs with a wrong secret or none: ${n.forgedRefused} refused with 401; a forged STOP refused, nobody suppressed`)
    result.checks.push(`${count(replays.length + direct.length)} genuine reports replayed after the finals (as ?token= and as a Basic password): ${replayApplied} applied`)
  } finally {
    await s.close()
  }
  return result
}
