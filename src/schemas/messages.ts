import { Type, type Static } from 'typebox'
import { Cursor, Limit, MessageStatus, PhoneNumber } from './common.js'

export const MessagesQuery = Type.Object({
  status: Type.Optional(MessageStatus),
  campaignId: Type.Optional(Type.String({ minLength: 1, maxLength: 36 })),
  to: Type.Optional(PhoneNumber),
  limit: Limit,
  cursor: Type.Optional(Cursor)
}, { additionalProperties: false })
export type MessagesQuery = Static<typeof MessagesQuery>
