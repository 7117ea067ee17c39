import { Type, type Static } from 'typebox'
import type { App } from '../app.js'
import type { SmsController } from '../controllers/sms.js'
import { errorResponses, InfobipResponse, PhoneNumber, Purpose } from '../schemas.js'

export const SendSmsBody = Type.Object({
  destinationNumber: PhoneNumber,
  message: Type.String({ minLength: 1, maxLength: 1600, description: 'Text to send; marketing text without an opt-out instruction gets the opt-out footer' }),
  senderId: Type.Optional(Type.String({ minLength: 1, maxLength: 16, description: 'Alphanumeric (≤11) or numeric sender; defaults to INFOBIP_SENDER_ID' })),
  purpose: Type.Optional(Purpose)
}, { additionalProperties: false })
export type SendSmsBody = Static<typeof SendSmsBody>

export const SendSmsHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'A repeat with the same key returns the first response and sends nothing (24 h)' }))
})

const SendSmsResponse = Type.Object({
  message: Type.String(),
  id: Type.String(),
  status: Type.String(),
  to: Type.String(),
  segments: Type.Integer(),
  encoding: Type.String(),
  infobipResponse: InfobipResponse
})

export const PreviewBody = Type.Object({
  message: Type.String({ minLength: 1, maxLength: 1600 }),
  purpose: Type.Optional(Purpose)
}, { additionalProperties: false })
export type PreviewBody = Static<typeof PreviewBody>

const SegmentCount = {
  encoding: Type.Union([Type.Literal('GSM-7'), Type.Literal('UCS-2')]),
  segments: Type.Integer(),
  characters: Type.Integer(),
  perSegment: Type.Integer(),
  remainingInSegment: Type.Integer()
}

const PreviewResponse = Type.Object({
  ...SegmentCount,
  nonGsmCharacters: Type.Array(Type.String()),
  text: Type.String({ description: 'The text that would be sent, footer included' }),
  footerApplied: Type.Boolean(),
  smartEncoding: Type.Object({
    ...SegmentCount,
    text: Type.String(),
    segmentsSaved: Type.Integer({ description: 'Segments saved per recipient by replacing typographic look-alikes' })
  })
})

export function smsRoutes (app: App, controller: SmsController): void {
  app.post('/send-sms', {
    schema: {
      tags: ['sending'],
      summary: 'Send one SMS through Infobip',
      body: SendSmsBody,
      headers: SendSmsHeaders,
      response: { 200: SendSmsResponse, 202: SendSmsResponse, ...errorResponses(409, 413, 422, 502, 503) }
    }
  }, async (request, reply) => {
    const result = await controller.send(request.body, request.headers['idempotency-key'], request.apiKey)
    if (result.replayed) reply.header('idempotent-replayed', 'true')
    return reply.code(result.statusCode).send(result.body)
  })

  app.post('/sms/preview', {
    schema: {
      tags: ['sending'],
      summary: 'Encoding and segment count of a text, with the footer and smart encoding',
      body: PreviewBody,
      response: { 200: PreviewResponse, ...errorResponses() }
    }
  }, async (request) => controller.preview(request.body))
}
