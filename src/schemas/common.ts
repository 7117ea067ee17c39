import { Type, type Static, type TSchema } from 'typebox'
import { MESSAGE_STATUSES } from '../domain/message-status.js'

/** Shared building blocks for every route schema (validation, types and the OpenAPI document). */

export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  code: Type.String({ description: 'Stable UPPER_SNAKE code a program can branch on' }),
  nextAllowedAt: Type.Optional(Type.String({ format: 'date-time' })),
  messageId: Type.Optional(Type.String()),
  providerStatus: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  providerCode: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  position: Type.Optional(Type.Integer({ description: 'INVALID_TEXT: 1-based position of the refused character' }))
}, { $id: 'ErrorResponse', additionalProperties: false })

const errorRef = Type.Ref('ErrorResponse')

/** The error statuses every authenticated route can answer, plus the route's own. */
export function errorResponses (...statuses: number[]): Record<number, TSchema> {
  const all = new Set([400, 401, 429, 500, ...statuses])
  return Object.fromEntries([...all].map((status) => [status, errorRef]))
}

export const Id = Type.String({ format: 'uuid', description: 'Time-ordered UUID (v7)' })
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false })

export const PhoneNumber = Type.String({
  minLength: 6,
  maxLength: 20,
  pattern: '^\\+?[0-9 ()-]{6,19}$',
  description: 'International number in E.164 form; the leading + is optional',
  examples: ['+14155552671']
})

export const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 50 })
export const Cursor = Type.String({ minLength: 1, maxLength: 200, description: 'nextCursor from the previous page' })

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

export const MessageStatus = Type.Enum(MESSAGE_STATUSES)
export const Purpose = Type.Union([Type.Literal('marketing'), Type.Literal('transactional')], { default: 'marketing' })

export const ProviderStatus = Type.Object({
  groupId: Type.Integer(),
  groupName: Type.String(),
  id: Type.Integer(),
  name: Type.String(),
  description: Type.Optional(Type.String())
}, { additionalProperties: true })

export const InfobipResponse = Type.Object({
  bulkId: Type.Optional(Type.String()),
  messages: Type.Array(Type.Object({
    to: Type.String(),
    messageId: Type.String(),
    status: ProviderStatus
  }, { additionalProperties: true }))
}, { additionalProperties: true, description: "Infobip's own response for this message" })

export const Message = Type.Object({
  id: Id,
  to: Type.String(),
  text: Type.String(),
  senderId: Nullable(Type.String()),
  purpose: Type.Union([Type.Literal('marketing'), Type.Literal('transactional')]),
  status: MessageStatus,
  campaignId: Nullable(Type.String()),
  contactId: Nullable(Type.String()),
  segments: Type.Integer(),
  encoding: Type.String(),
  infobipMessageId: Nullable(Type.String()),
  bulkId: Nullable(Type.String()),
  providerStatus: Nullable(Type.String()),
  error: Nullable(Type.Object({
    code: Type.String(),
    name: Nullable(Type.String()),
    description: Nullable(Type.String()),
    permanent: Nullable(Type.Boolean())
  })),
  price: Nullable(Type.Object({ amount: Type.Number(), currency: Type.String() })),
  decisionReason: Nullable(Type.String()),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  sentAt: Nullable(Type.String()),
  doneAt: Nullable(Type.String())
})

/** A message as the API and the repositories see it: one schema, one type. */
export type Message = Static<typeof Message>

export const Page = <T extends TSchema>(item: T) => Type.Object({
  items: Type.Array(item),
  nextCursor: Nullable(Type.String())
})
