import type { Config } from '../config.js'
import type { Dialect } from '../db/database.js'
import type { Db } from '../db/schema.js'
import { lockPhoneNumber } from '../db/repositories/locks.js'
import * as consent from '../db/repositories/consent.js'
import * as contacts from '../db/repositories/contacts.js'
import * as messages from '../db/repositories/messages.js'
import { newId } from '../domain/ids.js'
import { classifyInbound, type KeywordIntent } from '../domain/keywords.js'
import { parsePhone } from '../domain/phone.js'
import type { Log } from '../logger.js'
import { maskPhone } from '../logger.js'
import type { Clock } from './clock.js'
import { normaliseTimestamp } from './delivery-reports.js'
import type { SystemReplies } from './replies.js'

export interface InboundMessage {
  messageId?: string | undefined
  from: string
  to?: string | undefined
  text?: string | undefined
  receivedAt?: string | undefined
}

export interface InboundOptions {
  db: Db
  dialect: Dialect
  config: Config
  clock: Clock
  replies: SystemReplies
  log: Log
}

export function helpText (config: Config): string {
  const support = config.supportContact !== undefined ? ` Help: ${config.supportContact}.` : ''
  return `${config.brandName}:${support} Msg & data rates may apply. Reply STOP to opt out.`
}

export function optOutConfirmation (config: Config): string {
  return `${config.brandName}: You are unsubscribed and will receive no more messages. Reply START to resubscribe.`
}

export function optInConfirmation (config: Config): string {
  return `${config.brandName}: You are subscribed again. Msg & data rates may apply. Reply HELP for help, STOP to opt out.`
}

/**
 * Inbound replies: opt-outs take effect inside the same transaction that records them (queued messages
 * to the number are suppressed too), so no later send can slip through; every keyword joins the ledger.
 */
export function createInbound ({ db, dialect, config, clock, replies, log }: InboundOptions) {
  async function handle (message: InboundMessage): Promise<{ messageId: string | null, intent: KeywordIntent, keyword: string | null }> {
    const phone = parsePhone(message.from)
    const match = classifyInbound(message.text ?? '')
    const result = { messageId: message.messageId ?? null, intent: match.intent, keyword: match.keyword }
    // A sender that is not a phone number (a short code's alias, say) cannot be suppressed or answered.
    if (!phone.ok) return { ...result, intent: 'none', keyword: null }
    if (match.intent === 'none') return result
    const number = phone.e164
    const now = clock.now().toISOString()
    const occurredAt = normaliseTimestamp(message.receivedAt) ?? now

    const reply = await db.transaction().execute(async (trx) => {
      // The admission of a send to this number holds the same lock until it commits, so an opt-out
      // either sees that message (and suppresses it) or is seen by it.
      await lockPhoneNumber(trx, dialect, number)
      const contact = await contacts.findContactByPhone(trx, number)
      await consent.appendConsentEvent(trx, {
        id: newId(),
        phoneNumber: number,
        contactId: contact?.id ?? null,
        type: match.intent === 'opt_out' ? 'opt_out' : match.intent === 'opt_in' ? 'opt_in' : 'help',
        source: 'keyword',
        text: message.text ?? null,
        ip: null,
        userAgent: null,
        keyword: match.keyword,
        occurredAt,
        recordedAt: now
      })
      if (match.intent === 'opt_out') {
        const newly = await consent.suppress(trx, number, 'keyword', `Replied "${(message.text ?? '').slice(0, 160)}"`, now)
        await contacts.setSubscribed(trx, number, false, now)
        await messages.suppressPending(trx, number, 'RECIPIENT_OPTED_OUT: the recipient replied with an opt-out', now)
        // One confirmation per opt-out: a repeated STOP from a number already suppressed gets none.
        return newly ? optOutConfirmation(config) : null
      }
      if (match.intent === 'opt_in') {
        await consent.unsuppressMany(trx, [number])
        await contacts.setSubscribed(trx, number, true, now)
        return optInConfirmation(config)
      }
      return helpText(config)
    })
    log.info({ from: maskPhone(number), intent: match.intent, keyword: match.keyword }, 'Inbound keyword handled')
    if (reply !== null) await replies.send({ to: number, text: reply, from: message.to, reason: `${match.intent.toUpperCase()}_REPLY` })
    return result
  }

  return {
    async receive (results: InboundMessage[]) {
      const handled = []
      for (const message of results) handled.push(await handle(message))
      return { processed: handled.filter((h) => h.intent !== 'none').length, results: handled }
    }
  }
}

export type Inbound = ReturnType<typeof createInbound>
