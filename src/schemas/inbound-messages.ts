import { Type, type Static } from 'typebox'
import { Cursor, Id, Limit, Nullable, PhoneNumber } from './common.js'

export const InboundMessage = Type.Object({
  id: Id,
  messageId: Nullable(Type.String({ description: "Infobip's id of the inbound message" })),
  phoneNumber: Type.String({ description: 'The sender: E.164, or the sender as Infobip gave it when it is not a phone number' }),
  to: Nullable(Type.String({ description: 'Our number or short code it was sent to' })),
  text: Type.String(),
  intent: Type.Union([Type.Literal('opt_out'), Type.Literal('opt_in'), Type.Literal('help'), Type.Literal('none')]),
  keyword: Nullable(Type.String({ description: "Canonical keyword ('STOP', 'ARRET', 'HELP', …), 'REVOCATION' for opt-out wording without one" })),
  campaignId: Nullable(Type.String({ description: 'The campaign it most likely answers: that of the last message handed over to the number before it arrived' })),
  consentEventId: Nullable(Type.String({ description: 'The consent event a keyword recorded' })),
  receivedAt: Type.String(),
  recordedAt: Type.String()
})

export const InboundMessagesQuery = Type.Object({
  phoneNumber: Type.Optional(PhoneNumber),
  campaignId: Type.Optional(Type.String({ minLength: 1, maxLength: 36 })),
  limit: Limit,
  cursor: Type.Optional(Cursor)
}, { additionalProperties: false })
export type InboundMessagesQuery = Static<typeof InboundMessagesQuery>
