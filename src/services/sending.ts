import { AppError } from '../errors.js'
import type { Config } from '../config.js'
import * as messages from '../db/repositories/messages.js'
import type { Purpose } from '../db/repositories/messages.js'
import { newId } from '../domain/ids.js'
import { isPendingGroup, statusFromProvider } from '../domain/message-status.js'
import { mustReadPhoneNumber } from '../domain/phone.js'
import type { Log } from '../logger.js'
import { maskPhone } from '../logger.js'
import type { Clock } from './clock.js'
import type { Compliance } from './compliance.js'
import { ProviderError } from './infobip.js'
import type { ProviderMessage, ProviderSendResponse } from './provider.js'
import type { SendQueue, SendQueueHooks } from './send-queue.js'
import type { Db } from '../db/schema.js'

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
  queue: SendQueue
  log: Log
}

export function notifyUrl (config: Config): string | undefined {
  if (config.publicBaseUrl === undefined || config.webhookSecret === undefined) return undefined
  return `${config.publicBaseUrl}/webhooks/infobip/delivery-reports?token=${encodeURIComponent(config.webhookSecret)}`
}

/** The outcome the send queue hands back, turned into what the message record keeps. */
export function outcomeFor (id: string, result: { bulkId: string | undefined, entry: ProviderSendResponse['messages'][number] } | null, error: unknown, at: string): messages.SendOutcome {
  if (result !== null) {
    return {
      id,
      status: statusFromProvider(result.entry.status),
      infobipMessageId: result.entry.messageId,
      bulkId: result.bulkId ?? null,
      providerStatus: result.entry.status.name,
      error: null,
      at
    }
  }
  const failure = error instanceof AppError ? error : null
  return {
    id,
    status: 'failed',
    infobipMessageId: null,
    bulkId: null,
    providerStatus: null,
    error: {
      code: failure?.code ?? 'INTERNAL',
      name: error instanceof ProviderError ? error.providerCode : null,
      description: failure?.message ?? 'Unexpected failure while sending',
      permanent: error instanceof ProviderError ? !error.retryable : null
    },
    at
  }
}

export function createSendingService ({ config, clock, compliance, queue, log }: SendingOptions) {
  const callbackUrl = notifyUrl(config)

  /** POST /send-sms: validate, decide, record, then hand to the provider and wait for its answer. */
  async function sendSingle (request: SendRequest): Promise<SendResponse> {
    const phone = mustReadPhoneNumber(request.destinationNumber, 'destinationNumber', { defaultCountry: config.defaultCountry, use: 'recipient' })
    if (phone.note !== null) log.info({ to: maskPhone(phone.e164), basis: phone.basis, why: phone.note }, 'Number accepted although the number library does not list it')
    const purpose = request.purpose ?? 'marketing'
    const id = newId()
    const now = clock.now()
    const senderId = request.senderId ?? config.senderId ?? null

    const { decision, segments, encoding } = await compliance.admit({ id, to: phone.e164, text: request.message, purpose, senderId, now })
    if (decision.outcome !== 'allow') {
      log.info({ messageId: id, to: maskPhone(phone.e164), code: decision.code }, 'Send refused by compliance gate')
      throw new AppError(decision.code, decision.reason, {
        messageId: id,
        ...('nextAllowedAt' in decision ? { nextAllowedAt: decision.nextAllowedAt.toISOString() } : {})
      })
    }

    const providerMessage: ProviderMessage = {
      messageId: id,
      to: phone.e164,
      text: decision.text,
      ...(senderId !== null ? { from: senderId } : {}),
      ...(callbackUrl !== undefined ? { notifyUrl: callbackUrl } : {})
    }
    let result
    try {
      result = await queue.submit(providerMessage)
    } catch (error) {
      log.warn({ messageId: id, to: maskPhone(phone.e164), code: (error as AppError).code }, 'Send failed')
      throw error instanceof AppError ? error.withDetails({ messageId: id }) : error
    }
    const infobipResponse: ProviderSendResponse = { ...(result.bulkId !== undefined ? { bulkId: result.bulkId } : {}), messages: [result.entry] }
    const pending = isPendingGroup(result.entry.status)
    return {
      statusCode: pending ? 202 : 200,
      body: {
        message: pending ? 'SMS accepted for delivery.' : 'SMS processed by Infobip, check response status details.',
        id,
        status: statusFromProvider(result.entry.status),
        to: phone.e164,
        segments,
        encoding,
        infobipResponse
      }
    }
  }

  return { sendSingle }
}

export type SendingService = ReturnType<typeof createSendingService>

/** The send queue's bookkeeping: mark messages sending before the provider call, record outcomes after. */
export function createSendRecorder ({ db, clock }: { db: Db, clock: Clock }): SendQueueHooks {
  return {
    beforeSend: async (batch) => await messages.markSending(db, batch.map((m) => m.messageId), clock.now().toISOString()),
    afterSend: async (outcomes) => {
      const at = clock.now().toISOString()
      await messages.recordSendOutcomes(db, outcomes
        .filter((o) => !(o.error instanceof AppError && o.error.code === 'RECIPIENT_OPTED_OUT'))
        .map((o) => outcomeFor(o.message.messageId, o.result, o.error, at)))
    }
  }
}
