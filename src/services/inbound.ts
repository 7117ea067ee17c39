import type { Config } from '../config.js'
import type { Dialect } from '../db/database.js'
import type { Db } from '../db/schema.js'
import * as contacts from '../db/repositories/contacts.js'
import * as inbound from '../db/repositories/inbound-messages.js'
import type { InboundMessage as StoredInbound } from '../db/repositories/inbound-messages.js'
import { lockPhoneNumber } from '../db/repositories/locks.js'
import * as messages from '../db/repositories/messages.js'
import { TEXT_SOURCE, type Recorder } from '../domain/consent.js'
import { isId, newId } from '../domain/ids.js'
import { classifyInbound, type KeywordIntent, type KeywordMatch } from '../domain/keywords.js'
import { mustReadPhoneNumber, readPhoneNumber } from '../domain/phone.js'
import type { Log } from '../logger.js'
import { maskPhone } from '../logger.js'
import type { Clock } from './clock.js'
import type { ConsentLedger } from './consent.js'
import { normaliseTimestamp } from './delivery-reports.js'
import { decodeCursor, page } from './pagination.js'
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
  ledger: ConsentLedger
  replies: SystemReplies
  log: Log
  /**
   * Resolves once no hand-over to this number is on its way to Infobip in this process (the dispatcher's
   * `handOversSettled`). An opt-out is answered only after that, so no message reaches the number after its
   * STOP was answered: what was claimed before the opt-out either reached Infobip before the answer, or sees the
   * suppression at its last look.
   */
  handOversSettled?: (phoneNumber: string) => Promise<void>
}

/** The language of a reply: French for a French keyword (CWTA), English otherwise. */
export type ReplyLanguage = 'en' | 'fr'

/** HELP / AIDE: brand, support contact, "Msg & data rates may apply" and how to opt out (CTIA 5.1.2; CWTA). */
export function helpText (config: Config, language: ReplyLanguage = 'en'): string {
  if (language === 'fr') {
    const support = config.supportContact !== undefined ? ` Aide : ${config.supportContact}.` : ''
    return `${config.brandName} :${support} Des frais de messagerie et de données peuvent s'appliquer. Répondez ARRÊT pour vous désabonner.`
  }
  const support = config.supportContact !== undefined ? ` Help: ${config.supportContact}.` : ''
  return `${config.brandName}:${support} Msg & data rates may apply. Reply STOP to opt out.`
}

/** The one confirmation allowed after an opt-out, with no marketing in it (47 CFR 64.1200(a)(10); FCC 24-18). */
export function optOutConfirmation (config: Config, language: ReplyLanguage = 'en'): string {
  if (language === 'fr') {
    return `${config.brandName} : Vous êtes désabonné et ne recevrez plus de messages. Répondez START pour vous réabonner.`
  }
  return `${config.brandName}: You are unsubscribed and will receive no more messages. Reply START to resubscribe.`
}

export function optInConfirmation (config: Config): string {
  return `${config.brandName}: You are subscribed again. Msg & data rates may apply. Reply HELP for help, STOP to opt out.`
}

/** Who records consent that arrives by SMS. */
const INBOUND_RECORDER = 'infobip-webhook'

/** What the webhook answers for one inbound message. */
export interface InboundResult { messageId: string | null, intent: KeywordIntent, keyword: string | null }

/**
 * Inbound replies. Every message is stored (GET /inbound-messages) with the intent found and the
 * campaign it most likely answers; keywords go through the one consent ledger in the same
 * transaction, so an opt-out takes effect (queued messages to the number are suppressed too) before
 * the webhook answers. A message Infobip delivers twice (same messageId) is handled once.
 */
export function createInbound ({ db, dialect, config, clock, ledger, replies, log, handOversSettled }: InboundOptions) {
  const context = { ownText: [config.optOutFooter] }

  /** The reply owed for a keyword, or null: one confirmation per opt-out; an opt-in only when it took effect. */
  function replyFor (match: KeywordMatch, outcome: { governs: boolean, suppressed: boolean }): string | null {
    const language: ReplyLanguage = match.language ?? 'en'
    if (match.intent === 'opt_out') return outcome.suppressed ? optOutConfirmation(config, language) : null
    if (match.intent === 'opt_in') return outcome.governs ? optInConfirmation(config) : null
    if (match.intent === 'help') return helpText(config, language)
    return null
  }

  async function handle (message: InboundMessage, requestId: string | null): Promise<InboundResult> {
    const now = clock.now().toISOString()
    const text = message.text ?? ''
    const receivedAt = normaliseTimestamp(message.receivedAt) ?? now
    // Infobip gives numbers in international form without the +; an opt-out is never refused for a
    // number the library does not know yet.
    const phone = readPhoneNumber(message.from, { defaultCountry: config.defaultCountry, use: 'opt_out', notation: 'international' })
    const match = phone.ok ? classifyInbound(text, context) : { intent: 'none' as const, keyword: null }
    const stored: StoredInbound = {
      id: newId(),
      // An empty id is no id: it must not make two different messages look like one delivered twice.
      messageId: message.messageId === undefined || message.messageId === '' ? null : message.messageId,
      // A sender that is not a phone number (an alias) is kept as given; it can be neither suppressed nor answered.
      phoneNumber: phone.ok ? phone.e164 : message.from,
      to: message.to ?? null,
      text,
      intent: match.intent,
      keyword: match.keyword,
      campaignId: null,
      consentEventId: null,
      receivedAt,
      recordedAt: now
    }
    const result = (m: { intent: KeywordIntent, keyword: string | null }): InboundResult => ({ messageId: stored.messageId, intent: m.intent, keyword: m.keyword })

    let overridesNewer = false
    const handled = await db.transaction().execute(async (trx) => {
      // The admission of a send to this number holds the same lock until it commits, so an opt-out
      // either sees that message (and suppresses it) or is seen by it.
      if (phone.ok) await lockPhoneNumber(trx, dialect, phone.e164)
      const earlier = stored.messageId === null ? null : await inbound.findByInfobipId(trx, stored.messageId)
      if (earlier !== null) return { duplicate: earlier, reply: null }
      if (!phone.ok) {
        await inbound.insertInboundMessage(trx, stored)
        return { duplicate: null, reply: null }
      }
      stored.campaignId = await messages.campaignOfLastHandedOver(trx, phone.e164, receivedAt)
      let reply: string | null = null
      if (match.intent !== 'none') {
        const contact = await contacts.findContactByPhone(trx, phone.e164)
        const recorder: Recorder = { recordedBy: INBOUND_RECORDER, requestId, fileName: null }
        const { outcomes: [outcome] } = await ledger.record(trx, [{
          phoneNumber: phone.e164,
          contactId: contact?.id ?? null,
          type: match.intent,
          source: TEXT_SOURCE,
          text,
          keyword: match.keyword,
          occurredAt: receivedAt
        }], recorder)
        stored.consentEventId = outcome?.event?.id ?? null
        reply = outcome === undefined ? null : replyFor(match, outcome)
        overridesNewer = outcome?.overridesNewer === true
      }
      await inbound.insertInboundMessage(trx, stored)
      return { duplicate: null, reply }
    })

    if (handled.duplicate !== null) {
      log.info({ messageId: stored.messageId }, 'Inbound message delivered again; already handled')
      return result(handled.duplicate)
    }
    if (!phone.ok) return result(match)
    if (phone.note !== null) log.info({ from: maskPhone(phone.e164), basis: phone.basis, why: phone.note }, 'Inbound sender accepted although the number library does not list it')
    log.info({ from: maskPhone(phone.e164), intent: match.intent, keyword: match.keyword, language: match.language ?? 'en' }, match.intent === 'none' ? 'Inbound reply stored' : 'Inbound keyword handled')
    if (overridesNewer) log.warn({ from: maskPhone(phone.e164), receivedAt }, 'Opt-out by text honoured over an opt-in recorded while it was on its way')
    if (handled.reply !== null) await replies.send({ to: phone.e164, text: handled.reply, from: message.to, reason: `${match.intent.toUpperCase()}_REPLY` })
    if (match.intent === 'opt_out') await handOversSettled?.(phone.e164)
    return result(match)
  }

  return {
    /** `requestId`: the webhook request's id, kept on the consent events it records. */
    async receive (results: InboundMessage[], requestId: string | null = null) {
      const handled: InboundResult[] = []
      for (const message of results) handled.push(await handle(message, requestId))
      return { processed: handled.filter((h) => h.intent !== 'none').length, results: handled }
    },
    /** GET /inbound-messages: newest first, by the sender's number and/or the campaign answered. */
    async list (query: { phoneNumber?: string | undefined, campaignId?: string | undefined, limit: number, cursor?: string | undefined }) {
      const phoneNumber = query.phoneNumber === undefined ? undefined : mustReadPhoneNumber(query.phoneNumber, 'phoneNumber', { defaultCountry: config.defaultCountry, use: 'lookup' }).e164
      const before = decodeCursor(query.cursor, isId)
      return await page(query.limit, async (limit) => await inbound.listInboundMessages(db, { phoneNumber, campaignId: query.campaignId, before, limit }), (m) => m.id)
    }
  }
}

export type Inbound = ReturnType<typeof createInbound>
