import { Type, type Static } from 'typebox'
import { InfobipResponse, PhoneNumber, Purpose, SenderId } from './common.js'

export const SendSmsBody = Type.Object({
  destinationNumber: PhoneNumber,
  message: Type.String({ minLength: 1, maxLength: 1600, description: 'Text to send; marketing text without an opt-out instruction gets the opt-out footer' }),
  senderId: Type.Optional(SenderId),
  purpose: Type.Optional(Purpose)
}, { additionalProperties: false })
export type SendSmsBody = Static<typeof SendSmsBody>

export const SendSmsHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'A repeat with the same key returns the first response and sends nothing (24 h)' }))
})

export const SendSmsResponse = Type.Object({
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

export const SegmentCount = {
  encoding: Type.Union([Type.Literal('GSM-7'), Type.Literal('UCS-2')]),
  segments: Type.Integer(),
  characters: Type.Integer(),
  perSegment: Type.Integer(),
  remainingInSegment: Type.Integer()
}

export const PreviewResponse = Type.Object({
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
