/**
 * The figures: the service's records compared with the fake Infobip's truth per messageId.
 * - lost: a recipient who had to get the message and was never accepted by Infobip;
 * - duplicated: every SMS beyond the first that one recipient got of one campaign (a messageId accepted twice,
 *   or two messageIds for one recipient);
 * - wrong final status: a record that differs from what Infobip said of that message (its answer or its last
 *   delivery report, through `statusFromProvider`), a record still in flight at the end, a record that claims a
 *   hand-over Infobip never saw, or a message Infobip took that the service has no record of.
 */
import { statusFromProvider, type MessageStatus } from '../src/domain/message-status.js'
import type { MessageRecord } from './databases.js'
import type { TruthEntry } from './fake.js'

export interface Tally {
  messages: number
  lost: number
  duplicated: number
  wrongStatus: number
  /** A few examples, ids and statuses only (never a phone number). */
  examples: string[]
}

export const emptyTally = (): Tally => ({ messages: 0, lost: 0, duplicated: 0, wrongStatus: 0, examples: [] })

export function addTally (into: Tally, more: Tally): Tally {
  into.messages += more.messages
  into.lost += more.lost
  into.duplicated += more.duplicated
  into.wrongStatus += more.wrongStatus
  for (const example of more.examples) if (into.examples.length < 8) into.examples.push(example)
  return into
}

const digits = (number: string): string => number.replace(/\D/g, '')

const IN_FLIGHT = new Set<MessageStatus>(['queued', 'deferred', 'sending'])
/** Statuses that say Infobip took the message. */
const HANDED_OVER = new Set<MessageStatus>(['accepted', 'delivered', 'undeliverable', 'expired', 'rejected'])

export interface CampaignCheck {
  /** Numbers (E.164) that must each get the campaign exactly once. */
  required: string[]
  /** What Infobip took of this campaign (its texts carry the campaign's marker). */
  truth: TruthEntry[]
  /** The service's records of this campaign. */
  records: MessageRecord[]
}

export function checkCampaign ({ required, truth, records }: CampaignCheck): Tally {
  const tally = emptyTally()
  tally.messages = records.length
  const perRecipient = new Map<string, number>()
  for (const entry of truth) perRecipient.set(digits(entry.to), (perRecipient.get(digits(entry.to)) ?? 0) + entry.acceptances)
  for (const number of required) {
    if (!perRecipient.has(digits(number))) {
      tally.lost++
      if (tally.examples.length < 8) tally.examples.push(`lost: recipient …${digits(number).slice(-4)}`)
    }
  }
  for (const [number, count] of perRecipient) {
    if (count <= 1) continue
    tally.duplicated += count - 1
    if (tally.examples.length < 8) tally.examples.push(`duplicated: recipient …${number.slice(-4)} got ${count} copies`)
  }
  addTally(tally, checkStatuses(truth, records))
  return tally
}

/** Wrong final statuses only: each record against the fake's word on its messageId. */
export function checkStatuses (truth: TruthEntry[], records: MessageRecord[]): Tally {
  const tally = emptyTally()
  const byId = new Map(truth.map((t) => [t.messageId, t]))
  const recorded = new Set<string>()
  const wrong = (why: string): void => {
    tally.wrongStatus++
    if (tally.examples.length < 8) tally.examples.push(why)
  }
  for (const record of records) {
    recorded.add(record.id)
    const entry = byId.get(record.id)
    if (IN_FLIGHT.has(record.status)) {
      wrong(`unsettled: ${record.id} still ${record.status}`)
      continue
    }
    if (entry === undefined) {
      if (HANDED_OVER.has(record.status)) wrong(`phantom: ${record.id} recorded ${record.status}, never accepted by Infobip`)
      continue
    }
    const expected = statusFromProvider(entry.status)
    if (record.status !== expected) wrong(`status: ${record.id} recorded ${record.status}, Infobip says ${entry.status.name} (${expected})`)
  }
  for (const entry of truth) if (!recorded.has(entry.messageId)) wrong(`unrecorded: Infobip took ${entry.messageId}, the service has no such record`)
  return tally
}
