import * as consent from '../db/repositories/consent.js'
import * as contacts from '../db/repositories/contacts.js'
import * as messages from '../db/repositories/messages.js'
import type { Db } from '../db/schema.js'
import { applyConsentEvent, BLANK_LEDGER, isSubscribed, occurredAtMost, TEXT_SOURCE, type ConsentEvent, type ConsentEventType, type LedgerState, type Recorder } from '../domain/consent.js'
import { newId } from '../domain/ids.js'
import type { Clock } from './clock.js'

/** One consent decision to record, from any path (API, import, inbound keyword). */
export interface ConsentRecord {
  /** The event's id (UUIDv7) when the caller made it beforehand (an import's reader thread); made on recording otherwise. */
  id?: string | undefined
  phoneNumber: string
  contactId: string | null
  type: ConsentEventType
  /** web_form, paper, import, api, keyword, … */
  source: string
  /** The exact disclosure agreed to, the raw inbound text, or the opt-out reason. */
  text?: string | null | undefined
  /** The subscriber's own evidence. */
  ip?: string | null | undefined
  userAgent?: string | null | undefined
  keyword?: string | null | undefined
  /** When it happened (ISO-8601); now when unknown. Never later than now. */
  occurredAt?: string | undefined
  /** The opt-in's time is unknown: it is not recorded over an opt-out (src/domain/consent.ts, rule 4). */
  undated?: boolean | undefined
}

export interface RecordOutcome {
  /** The event written; null when the rules did not record it. */
  event: ConsentEvent | null
  /** The event is the number's governing decision now. */
  governs: boolean
  /** This event suppressed the number (it was not before): the one confirmation is owed. */
  suppressed: boolean
  /** This event lifted the number's suppression. */
  lifted: boolean
  /** An opt-out by text took effect over an opt-in recorded while it was on its way (src/domain/consent.ts, rule 2). */
  overridesNewer: boolean
}

/**
 * The one consent module every path records through. `record` runs inside the caller's transaction,
 * after the caller locked the numbers (lockPhoneNumbers), and applies the rules of
 * src/domain/consent.ts: appends the events (one shape, with who recorded them), suppresses or lifts
 * the numbers, stops messages still waiting for a number that became suppressed, and keeps each
 * contact's `subscribed` flag equal to what the compliance gate will decide.
 */
export function createConsentLedger ({ clock }: { clock: Clock }) {
  /**
   * `unwritten`: numbers whose contact rows the caller inserts after this call, with the flag the
   * returned `states` give (an import's new contacts); no UPDATE is run for them.
   * `known`: the ledger states of (at least) the records' numbers, when the caller read them in this
   * transaction after locking the numbers (an import reads a batch's numbers at once); they are
   * updated in place and returned as `states`.
   */
  async function record (trx: Db, records: ConsentRecord[], recorder: Recorder, unwritten?: ReadonlyMap<string, unknown>, known?: Map<string, LedgerState>): Promise<{ outcomes: RecordOutcome[], states: Map<string, LedgerState> }> {
    const now = clock.now().toISOString()
    const numbers = [...new Set(records.map((r) => r.phoneNumber))]
    const states = known ?? await consent.ledgerStates(trx, numbers)
    const before = new Map(numbers.map((number) => [number, states.get(number)!]))
    const lastOptOut = new Map<string, ConsentRecord>()
    const events: ConsentEvent[] = []
    const outcomes: RecordOutcome[] = []

    for (const input of records) {
      const event = eventOf(input, now, recorder)
      const effect = applyConsentEvent(states.get(input.phoneNumber)!, event, input.undated === true)
      states.set(input.phoneNumber, effect.state)
      if (!effect.recorded) {
        outcomes.push({ event: null, governs: false, suppressed: false, lifted: false, overridesNewer: false })
        continue
      }
      events.push(event)
      if (effect.suppress) lastOptOut.set(input.phoneNumber, input)
      outcomes.push({ event, governs: effect.governs, suppressed: effect.suppress, lifted: effect.lift, overridesNewer: effect.overridesNewer })
    }

    await consent.appendConsentEvents(trx, events)
    const lifted: string[] = []
    const subscribedNow: string[] = []
    const unsubscribedNow: string[] = []
    for (const number of numbers) {
      const was = before.get(number)!
      const is = states.get(number)!
      if (is.suppressed && !was.suppressed) {
        const cause = lastOptOut.get(number)!
        const reply = cause.source === TEXT_SOURCE
        await consent.suppress(trx, number, cause.source, reply ? `Replied "${(cause.text ?? '').slice(0, 160)}"` : cause.text ?? null, now)
        await messages.suppressPending(trx, number, reply ? 'RECIPIENT_OPTED_OUT: the recipient replied with an opt-out' : 'RECIPIENT_OPTED_OUT: opted out before sending', now)
      }
      if (!is.suppressed && was.suppressed) lifted.push(number)
      if (isSubscribed(is) !== isSubscribed(was) && unwritten?.has(number) !== true) (isSubscribed(is) ? subscribedNow : unsubscribedNow).push(number)
    }
    await consent.unsuppressMany(trx, lifted)
    await contacts.setSubscribedMany(trx, subscribedNow, true, now)
    await contacts.setSubscribedMany(trx, unsubscribedNow, false, now)
    return { outcomes, states }
  }

  /**
   * Opt-ins for numbers whose ledger the caller read blank in this transaction after locking them (no
   * consent event, no suppression: an import's numbers new to the service). On a blank ledger an opt-in
   * is always recorded and governs, and the number is then subscribed (src/domain/consent.ts: rules 2, 4
   * and 5 have nothing to weigh it against, and nothing is suppressed or lifted), so the events are
   * appended as they are, in one multi-row INSERT, with no state kept per number; a new contact of such
   * a number is inserted subscribed. Throws Error if the rules decide otherwise for a record (a caller
   * bug: not an opt-in, or a number given twice).
   */
  async function recordOnBlank (trx: Db, records: ConsentRecord[], recorder: Recorder): Promise<void> {
    const now = clock.now().toISOString()
    const events = new Array<ConsentEvent>(records.length)
    for (let i = 0; i < records.length; i++) {
      const input = records[i]!
      const event = eventOf(input, now, recorder)
      const effect = applyConsentEvent(BLANK_LEDGER, event, input.undated === true)
      if (!effect.recorded || !effect.governs || !isSubscribed(effect.state)) throw new Error(`recordOnBlank: a ${input.type} on a blank ledger does not subscribe`)
      events[i] = event
    }
    await consent.appendConsentEvents(trx, events)
  }

  return { record, recordOnBlank }
}

/** The event a record appends, recorded `now` (ISO-8601) by `recorder`; its time never after now (rule 3). */
function eventOf (input: ConsentRecord, now: string, recorder: Recorder): ConsentEvent {
  return {
    id: input.id ?? newId(),
    phoneNumber: input.phoneNumber,
    contactId: input.contactId,
    type: input.type,
    source: input.source,
    text: input.text ?? null,
    ip: input.ip ?? null,
    userAgent: input.userAgent ?? null,
    keyword: input.keyword ?? null,
    occurredAt: occurredAtMost(input.occurredAt ?? now, now),
    recordedAt: now,
    recordedBy: recorder.recordedBy,
    requestId: recorder.requestId,
    fileName: recorder.fileName
  }
}

export type ConsentLedger = ReturnType<typeof createConsentLedger>
