import { AppError, appErrorResponse, errorBody, type ErrorCode } from '../errors.js'
import type { Config } from '../config.js'
import type { Purpose } from '../db/repositories/messages.js'
import { newId } from '../domain/ids.js'
import { isPendingGroup, providerStatusByName, statusFromProvider } from '../domain/message-status.js'
import { mustReadPhoneNumber } from '../domain/phone.js'
import type { Log } from '../logger.js'
import { maskPhone } from '../logger.js'
import type { Clock } from './clock.js'
import type { Compliance } from './compliance.js'
import type { ProviderSendResponse } from './provider.js'
import type { OutboxRow } from '../db/repositories/outbox.js'
import type { Dispatcher, HandoverResult } from './dispatcher.js'
import type { MessageAnswer } from './idempotency.js'
import * as messages from '../db/repositories/messages.js'
import type { Db, MessageOrigin } from '../db/schema.js'

export interface SendRequest {
  destinationNumber: string
  message: string
  senderId?: string | undefined
  purpose?: Purpose | undefined
}

export interface SendResponse {
  statusCode: 200 | 202
  body: {
    message: string
    id: string
    status: string
    to: string
    segments: number
    encoding: string
    infobipResponse: ProviderSendResponse
  }
}

export interface SendingOptions {
  config: Config
  clock: Clock
  compliance: Compliance
  dispatcher: Dispatcher
  db: Db
  log: Log
}

export function notifyUrl (config: Config): string | undefined {
  if (config.publicBaseUrl === undefined || config.webhookSecret === undefined) return undefined
  return `${config.publicBaseUrl}/webhooks/infobip/delivery-reports?token=${encodeURIComponent(config.webhookSecret)}`
}

export function createSendingService ({ config, clock, compliance, dispatcher, db, log }: SendingOptions) {
  // Long enough for a hand-over that timed out to be looked up in Infobip's logs (ms).
  const maxWaitMs = 2 * config.provider.timeoutMs + 2000
  /**
   * POST /send-sms: validate, decide and record the message already leased to this instance's dispatcher (one
   * transaction), then wait for the dispatcher to hand it over and for Infobip's answer.
   */
  async function sendSingle (request: SendRequest, messageId?: string, source: { origin: MessageOrigin, note: string } = { origin: 'api', note: '' }, idempotencyKey?: string): Promise<SendResponse> {
    const phone = mustReadPhoneNumber(request.destinationNumber, 'destinationNumber', { defaultCountry: config.defaultCountry, use: 'recipient' })
    if (phone.note !== null) log.info({ to: maskPhone(phone.e164), basis: phone.basis, why: phone.note }, 'Number accepted although the number library does not list it')
    const purpose = request.purpose ?? 'marketing'
    const id = messageId ?? newId()
    const now = clock.now()
    const senderId = request.senderId ?? config.senderId ?? null

    const admitted = await compliance.admit({
      id,
      to: phone.e164,
      text: request.message,
      purpose,
      senderId,
      now,
      lease: dispatcher.leaseFor(),
      origin: source.origin,
      ...(source.note !== '' ? { note: source.note } : {}),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {})
    })
    if (admitted.superseded) {
      // A repeat with the same Idempotency-Key found no message after 5 s, took this request for dead and took the
      // key over: it is the one that sends. This request records and sends nothing.
      throw new AppError('CONFLICT', 'A repeat of this request with the same Idempotency-Key took it over; nothing was sent by this one', { retryAfterMs: 1000 })
    }
    const { decision, segments, encoding, contactId } = admitted
    if (decision.outcome !== 'allow') {
      log.info({ messageId: id, to: maskPhone(phone.e164), code: decision.code }, 'Send refused by compliance gate')
      throw new AppError(decision.code, decision.reason, {
        messageId: id,
        ...('nextAllowedAt' in decision ? { nextAllowedAt: decision.nextAllowedAt.toISOString() } : {})
      })
    }

    const at = now.toISOString()
    const row: OutboxRow = {
      id,
      to: phone.e164,
      text: decision.text,
      senderId,
      purpose,
      origin: source.origin,
      campaignId: null,
      contactId,
      validUntil: null,
      dueAt: at,
      attemptedAt: at,
      attempts: 1,
      outcomeUnknownSince: null
    }
    let result: HandoverResult | null
    try {
      result = await waitAtMost(dispatcher.submitLeased(row), maxWaitMs)
    } catch (error) {
      log.warn({ messageId: id, to: maskPhone(phone.e164), code: (error as AppError).code }, 'Send failed')
      throw error instanceof AppError ? error.withDetails({ messageId: id }) : error
    }
    if (result === null) {
      // Infobip's answer is still being confirmed (a timeout is being resolved through its message logs): the
      // message is in the outbox and will be recorded exactly once; GET /messages/:id tells the outcome.
      dispatcher.forget(id)
      return {
        statusCode: 202,
        body: { message: 'SMS handed to Infobip; its acceptance is being confirmed. Check GET /messages/{id}.', id, status: 'sending', to: phone.e164, segments, encoding, infobipResponse: { messages: [] } }
      }
    }
    return responseFor(id, phone.e164, segments, encoding, result)
  }

  /**
   * The answer a repeated Idempotency-Key gets when its first request did not live to answer (a crash): built
   * from the message's record — in flight, never handed over, or settled (Infobip's status as recorded, or the
   * compliance refusal recorded with it: its 422 without `nextAllowedAt`, which the record does not keep).
   */
  async function answerFor (id: string): Promise<MessageAnswer> {
    const message = await messages.findMessage(db, id)
    if (message === null) return null
    switch (message.status) {
      case 'queued': case 'deferred': case 'sending': return 'in-flight'
      case 'suppressed': return refusalFrom(id, message.decisionReason)
      case 'cancelled': return 'not-sent'
      case 'failed':
        if (message.error?.code !== 'PROVIDER_ERROR') return 'not-sent'
        return { statusCode: 502, body: errorBody(502, 'PROVIDER_ERROR', message.error.description ?? 'Infobip refused the message', { messageId: id }) }
      default: {
        const status = providerStatusByName(message.providerStatus, message.status)
        return responseFor(id, message.to, message.segments, message.encoding, {
          bulkId: message.bulkId ?? undefined,
          entry: { to: message.to.replace(/^\+/, ''), messageId: message.infobipMessageId ?? id, status }
        })
      }
    }
  }

  return { sendSingle, answerFor }
}

/** Compliance refusals a single send is answered with (422), as recorded on a suppressed message ("CODE: reason"). */
const REFUSALS = new Set<ErrorCode>(['RECIPIENT_OPTED_OUT', 'NO_CONSENT', 'QUIET_HOURS', 'FREQUENCY_CAP'])

function refusalFrom (id: string, decisionReason: string | null): MessageAnswer {
  const separator = decisionReason?.indexOf(': ') ?? -1
  const code = decisionReason?.slice(0, separator) as ErrorCode | undefined
  if (decisionReason === null || separator < 0 || code === undefined || !REFUSALS.has(code)) return 'not-sent'
  const refusal = new AppError(code, decisionReason.slice(separator + 2), { messageId: id })
  return { statusCode: refusal.statusCode, body: appErrorResponse(refusal).body }
}

function responseFor (id: string, to: string, segments: number, encoding: string, result: HandoverResult): SendResponse {
  const infobipResponse: ProviderSendResponse = { ...(result.bulkId !== undefined ? { bulkId: result.bulkId } : {}), messages: [result.entry] }
  const pending = isPendingGroup(result.entry.status)
  return {
    statusCode: pending ? 202 : 200,
    body: {
      message: pending ? 'SMS accepted for delivery.' : 'SMS processed by Infobip, check response status details.',
      id,
      status: statusFromProvider(result.entry.status),
      to,
      segments,
      encoding,
      infobipResponse
    }
  }
}

async function waitAtMost<T> (work: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([work, new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), ms) })])
  } finally {
    clearTimeout(timer)
  }
}

export type SendingService = ReturnType<typeof createSendingService>
