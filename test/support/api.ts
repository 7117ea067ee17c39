/**
 * Calls on the service's HTTP API that many route tests make, typed with the service's own types.
 * Each takes the TestContext of the app it talks to (see ./app.ts).
 */
import { createHash } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import type { WebhooksController } from '../../src/controllers/webhooks.js'
import type { ConsentEvent } from '../../src/db/repositories/consent.js'
import type { Message, Purpose } from '../../src/db/repositories/messages.js'
import type { SendSmsBody } from '../../src/schemas/sms.js'
import type { SendResponse } from '../../src/services/sending.js'
import { API_KEY, WEBHOOK_SECRET, type TestContext } from './app.js'
import { deliveryReportBody, inboundBody, infobipTimestamp, type DeliveryReportInput } from './fake-infobip.js'

/** The body of a 200 or 202 from POST /send-sms. */
export type SendSmsResponse = SendResponse['body']

/** A consent event as the API shows it: the ledger's record without its contactId. */
export type ConsentEventView = Omit<ConsentEvent, 'contactId'>

/** How consent events name the test API key that recorded them: a fingerprint, never the key. */
export const API_KEY_LABEL = `api-key:${createHash('sha256').update(API_KEY).digest('hex').slice(0, 12)}`

/** One page of a list route. */
export interface Page<T> { items: T[], nextCursor: string | null }

export const DELIVERY_REPORTS_PATH = '/webhooks/infobip/delivery-reports'
export const INBOUND_PATH = '/webhooks/infobip/inbound'

/** A webhook path with the secret (by default the right one) as ?token=. */
export function withToken (path: string, token: string = WEBHOOK_SECRET): string {
  return `${path}?token=${encodeURIComponent(token)}`
}

/** Fresh valid numbers, `${prefix}` and four digits counting up from `first`, so tests never share a recipient. */
export function numberSequence (prefix: string, first: number): () => string {
  let next = first
  return () => `${prefix}${String(next++).padStart(4, '0')}`
}

/** POST /send-sms with any body, valid or not, and the given headers (the test API key by default). */
export async function postSendSms (ctx: TestContext, payload: object, headers: Record<string, string> = ctx.headers): Promise<LightMyRequestResponse> {
  return await ctx.app.inject({ method: 'POST', url: '/send-sms', headers, payload })
}

/** POST /send-sms of `message` to `to`; without a purpose the API's default (marketing) applies. */
export async function sendSms (ctx: TestContext, to: string, message: string, purpose?: Purpose): Promise<LightMyRequestResponse> {
  const body: SendSmsBody = { destinationNumber: to, message, ...(purpose !== undefined ? { purpose } : {}) }
  return await postSendSms(ctx, body)
}

/** A transactional send that must be accepted (202): its response body. */
export async function sendAccepted (ctx: TestContext, to: string, message: string): Promise<SendSmsResponse> {
  const response = await sendSms(ctx, to, message, 'transactional')
  expect(response.statusCode, response.body).toBe(202)
  return response.json()
}

/** GET /messages/:id, which must answer 200. */
export async function getMessage (ctx: TestContext, id: string): Promise<Message> {
  const response = await ctx.app.inject({ method: 'GET', url: `/messages/${id}`, headers: ctx.headers })
  expect(response.statusCode, response.body).toBe(200)
  return response.json()
}

/** GET /messages with a query string ('' or '?…'), which must answer 200. */
export async function listMessages (ctx: TestContext, query = ''): Promise<Page<Message>> {
  const response = await ctx.app.inject({ method: 'GET', url: `/messages${query}`, headers: ctx.headers })
  expect(response.statusCode, response.body).toBe(200)
  return response.json()
}

/** Up to 100 messages to a number, newest first. */
export async function messagesTo (ctx: TestContext, number: string): Promise<Message[]> {
  return (await listMessages(ctx, `?to=${encodeURIComponent(number)}&limit=100`)).items
}

export type ReportCounts = Awaited<ReturnType<WebhooksController['deliveryReports']>>

/** Posts Infobip delivery reports for `results` with the webhook secret; the webhook must answer 200. */
export async function postDeliveryReports (ctx: TestContext, results: DeliveryReportInput[]): Promise<ReportCounts> {
  const response = await ctx.app.inject({ method: 'POST', url: withToken(DELIVERY_REPORTS_PATH), payload: deliveryReportBody(results) })
  expect(response.statusCode, response.body).toBe(200)
  return response.json()
}

export interface InboundOptions {
  /** The secret to present; null presents none. The right one by default. */
  token?: string | null
  messageId?: string
  /** Our number it was sent to (the fake's default when left out). */
  to?: string
}

/** Posts one inbound SMS from `from` (E.164, the + optional), received now by the test clock. */
export async function postInbound (ctx: TestContext, from: string, text: string, options: InboundOptions = {}): Promise<LightMyRequestResponse> {
  const token = options.token === undefined ? WEBHOOK_SECRET : options.token
  return await ctx.app.inject({
    method: 'POST',
    url: token === null ? INBOUND_PATH : withToken(INBOUND_PATH, token),
    payload: inboundBody([{
      from: from.replace(/^\+/, ''),
      text,
      receivedAt: infobipTimestamp(ctx.clock.now()),
      ...(options.to !== undefined ? { to: options.to } : {}),
      ...(options.messageId !== undefined ? { messageId: options.messageId } : {})
    }])
  })
}

/** GET /contacts/:id/consent-events, which must answer 200. */
export async function consentEvents (ctx: TestContext, contactId: string): Promise<ConsentEventView[]> {
  const response = await ctx.app.inject({ method: 'GET', url: `/contacts/${contactId}/consent-events`, headers: ctx.headers })
  expect(response.statusCode).toBe(200)
  return response.json<{ items: ConsentEventView[] }>().items
}

/** Texts the fake Infobip was asked to send to a number (E.164, the + optional), in order. */
export function textsReceivedBy (ctx: TestContext, number: string): string[] {
  const digits = number.replace(/^\+/, '')
  return ctx.fake.sendRequests().flatMap((request) => {
    const body = request.body as { messages: Array<{ text: string, destinations: Array<{ to: string }> }> }
    return body.messages.filter((m) => m.destinations.some((d) => d.to === digits)).map((m) => m.text)
  })
}
