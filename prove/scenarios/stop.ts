/**
 * Scenario 7: a STOP storm during a campaign — opt-outs through Infobip's inbound webhook while the campaign
 * sends, some of them delivered twice by Infobip (same messageId). None of those numbers gets the campaign after its
 * STOP was answered (the fake's arrival time against the webhook's response time), and each gets exactly one
 * confirmation.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { DatabaseServer } from '../databases.js'
import { count, type Harness, type ScenarioResult } from '../harness.js'
import { inboundBody } from '../../test/support/fake-infobip.js'
import { addTally, checkCampaign, checkStatuses } from '../verify.js'
import { expectThat, finish, launchCampaign, newResult, poll, stage } from './common.js'

const RATE = 250
const SETTINGS = { SEND_RATE_PER_SECOND: String(RATE) }
const WORDS = ['STOP', 'Stop', 'stop', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'STOPALL', 'please stop texting me']
/** The confirmation's words (src/services/inbound.ts optOutConfirmation). */
const CONFIRMATION = 'You are unsubscribed'
const PARALLEL = 8

export async function stopScenario (h: Harness, server: DatabaseServer): Promise<ScenarioResult> {
  const size = h.quick ? 1000 : 5000
  const stops = h.quick ? 100 : 1000
  const result = newResult(`7. STOP storm: ${count(stops)} opt-outs during a campaign`, server.label, 1, SETTINGS)
  const s = await stage(h, server, 'stops', size, SETTINGS)
  try {
    const marker = '#stops#'
    const durationMs = (size / RATE) * 1000
    const stopping = h.rng.sample(s.numbers, stops)
    const { id, launchedAt } = await launchCampaign(s, marker)
    // Spread over the middle of the campaign: some numbers were sent to before their STOP, some were not yet.
    const from = launchedAt + durationMs * 0.1
    const to = launchedAt + durationMs * 0.7
    const plan = stopping.map((number, i) => ({ number, at: from + ((to - from) * i) / stops, text: h.rng.pick(WORDS), messageId: `mo-${randomUUID()}`, again: h.rng.next() < 0.1 }))
    const answeredAt = new Map<string, number>()
    let redelivered = 0
    let refused = 0
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < plan.length) {
        const item = plan[next++]!
        await sleep(Math.max(0, item.at - Date.now()))
        const body = inboundBody([{ from: item.number.slice(1), text: item.text, messageId: item.messageId }])
        const answer = await s.instance.api.webhook('inbound', body)
        if (answer.status !== 200) refused++
        else answeredAt.set(item.number, Date.now())
        if (item.again) {
          // Infobip delivers the same inbound message again (its retry): handled once.
          const again = await s.instance.api.webhook('inbound', body)
          if (again.status === 200) redelivered++
          else refused++
        }
      }
    }
    await Promise.all(Array.from({ length: PARALLEL }, worker))
    expectThat(result, refused === 0, `${refused} inbound webhooks were not answered 200`)
    const { truth, records } = await finish(s, id, marker, 120_000 + durationMs)
    const stopped = new Set(stopping.map((n) => n.slice(1)))
    addTally(result.tally, checkCampaign({ required: s.numbers.filter((n) => !stopped.has(n.slice(1))), truth, records }))

    let afterStop = 0
    let beforeStop = 0
    for (const entry of truth) {
      const number = `+${entry.to}`
      const answered = answeredAt.get(number)
      if (answered === undefined) continue
      for (const at of entry.acceptedAt) {
        if (at > answered) afterStop++
        else beforeStop++
      }
    }
    expectThat(result, afterStop === 0, `${afterStop} campaign messages reached a number after its STOP was answered`)

    // Each STOP gets one confirmation: wait for the outbox to hand them all over, then a second more for any extra.
    await poll(async () => (await h.fake.truth(CONFIRMATION)).length >= stops ? true : null, 250, Date.now() + 60_000)
    await sleep(1000)
    const finalConfirmations = await h.fake.truth(CONFIRMATION)
    const perNumber = new Map<string, number>()
    for (const c of finalConfirmations) perNumber.set(c.to, (perNumber.get(c.to) ?? 0) + c.acceptances)
    const wrongCount = stopping.filter((n) => perNumber.get(n.slice(1)) !== 1).length
    const strangers = [...perNumber.keys()].filter((n) => !stopped.has(n)).length
    expectThat(result, wrongCount === 0 && strangers === 0, `${wrongCount} numbers did not get exactly one confirmation; ${strangers} confirmations to numbers that sent no STOP`)
    const replies = await s.db.records({ origin: 'reply' })
    const replyCheck = checkStatuses(finalConfirmations, replies)
    result.tally.messages += replies.length
    result.tally.wrongStatus += replyCheck.wrongStatus
    result.tally.examples.push(...replyCheck.examples)
    result.checks.push(`${count(size)} recipients; ${count(stops)} STOPs (${redelivered} delivered twice by Infobip), ${beforeStop} of those numbers got the campaign before their STOP, ${afterStop} after`)
    result.checks.push(`${count(finalConfirmations.length)} confirmations: ${wrongCount} numbers with other than exactly one`)
  } finally {
    await s.close()
  }
  return result
}
