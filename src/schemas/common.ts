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
  position: Type.Optional(Type.Integer({ description: 'INVALID_TEXT: 1-based position of the refused character' })),
  outcome: Type.Optional(Type.Union([Type.Literal('not-sent'), Type.Literal('unknown')], {
    description: "PROVIDER_ERROR: 'not-sent' when Infobip provably accepted nothing; 'unknown' when it may have accepted the message (timeout, reset, 5xx)"
  })),
  candidates: Type.Optional(Type.Array(Type.Object({
    phoneNumber: Type.String(),
    country: Type.Union([Type.String(), Type.Null()])
  }), { description: 'AMBIGUOUS_PHONE_NUMBER: every reading of the number; resend it with + and the country code' }))
}, { $id: 'ErrorResponse', additionalProperties: false })

const errorRef = Type.Ref('ErrorResponse')

/** The error statuses every authenticated route can answer, plus the route's own. */
export function errorResponses (...statuses: number[]): Record<number, TSchema> {
  const all = new Set([400, 401, 429, 500, ...statuses])
  return Object.fromEntries([...all].map((status) => [status, errorRef]))
}

export const Id = Type.String({ format: 'uuid', description: 'Time-ordered UUID (v7)' })
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false })

/**
 * Only bounded here: the one phone-number reader (src/domain/phone.ts) checks the rest, so that a bad
 * number gets its precise 400 (INVALID_PHONE_NUMBER with the reason, or AMBIGUOUS_PHONE_NUMBER naming
 * both readings) instead of a pattern failure.
 */
export const PhoneNumber = Type.String({
  minLength: 1,
  maxLength: 32,
  description: 'E.164 (+14155552671), or without + in national notation of DEFAULT_COUNTRY ((415) 555-2671); ' +
    'digits valid both nationally and internationally are refused as AMBIGUOUS_PHONE_NUMBER',
  examples: ['+14155552671', '(415) 555-2671', '+44 7400 123456']
})

/**
 * A sender id (Infobip's `from`): alphanumeric, 1–11 characters of letters, digits, space and . _ & ' -, starting
 * with a letter or digit and not ending with a space ("Shop " would be another sender than "Shop") (the GSM TP-OA alphanumeric address holds 11 GSM-7 characters, 3GPP TS 23.040 §9.1.2.5),
 * or numeric, up to 15 digits with an optional leading + (an E.164 number or a short code). Anything else is
 * refused here rather than by Infobip at hand-over.
 */
export const SenderId = Type.String({
  minLength: 1,
  maxLength: 16,
  pattern: "^(?:\\+?[0-9]{1,15}|[A-Za-z0-9](?:[A-Za-z0-9 ._&'-]{0,9}[A-Za-z0-9._&'-])?)$",
  description: "Alphanumeric (1–11 of A–Z, a–z, 0–9, space, . _ & ' -) or numeric (up to 15 digits, optional +); defaults to INFOBIP_SENDER_ID"
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
  origin: Type.Union([Type.Literal('api'), Type.Literal('reply'), Type.Literal('campaign'), Type.Literal('campaign_test')], { description: 'What created the message: a send through the API, a reply the service owed, a campaign, a campaign\'s test send' }),
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
