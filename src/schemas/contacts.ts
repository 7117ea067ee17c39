import { Type, type Static } from 'typebox'
import { Cursor, Id, Limit, Nullable, PhoneNumber } from './common.js'

export const Tag = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^;,]+$' })
export const Tags = Type.Array(Tag, { maxItems: 50, uniqueItems: true })
export const TimeZone = Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. America/Chicago' })
export const Attributes = Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' }), Type.String({ maxLength: 500 }), {
  description: 'Extra fields usable in message templates ({{field}})'
})

export const ConsentEvidence = Type.Object({
  source: Type.String({ minLength: 1, maxLength: 32, description: 'web_form, keyword, import, api, paper, …' }),
  text: Type.String({ minLength: 1, maxLength: 4000, description: 'The exact disclosure text the person agreed to' }),
  ip: Type.Optional(Type.String({ maxLength: 64 })),
  userAgent: Type.Optional(Type.String({ maxLength: 1000 })),
  collectedAt: Type.Optional(Type.String({ format: 'date-time' }))
}, { additionalProperties: false })
export type ConsentEvidence = Static<typeof ConsentEvidence>

export const CreateContactBody = Type.Object({
  phoneNumber: PhoneNumber,
  firstName: Type.Optional(Type.String({ maxLength: 200 })),
  lastName: Type.Optional(Type.String({ maxLength: 200 })),
  tags: Type.Optional(Tags),
  timezone: Type.Optional(TimeZone),
  attributes: Type.Optional(Attributes),
  consent: Type.Optional(ConsentEvidence)
}, { additionalProperties: false })
export type CreateContactBody = Static<typeof CreateContactBody>

export const UpdateContactBody = Type.Object({
  firstName: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  lastName: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  tags: Type.Optional(Tags),
  timezone: Type.Optional(Nullable(TimeZone)),
  attributes: Type.Optional(Attributes)
}, { additionalProperties: false, minProperties: 1 })
export type UpdateContactBody = Static<typeof UpdateContactBody>

export const ContactsQuery = Type.Object({
  tag: Type.Optional(Tag),
  subscribed: Type.Optional(Type.Boolean()),
  phoneNumber: Type.Optional(PhoneNumber),
  limit: Limit,
  cursor: Type.Optional(Cursor)
}, { additionalProperties: false })
export type ContactsQuery = Static<typeof ContactsQuery>

export const Contact = Type.Object({
  id: Id,
  phoneNumber: Type.String(),
  firstName: Nullable(Type.String()),
  lastName: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  timezone: Nullable(Type.String()),
  attributes: Type.Record(Type.String(), Type.String()),
  subscribed: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String()
})

export const ConsentEvent = Type.Object({
  id: Type.String(),
  type: Type.Union([Type.Literal('opt_in'), Type.Literal('opt_out'), Type.Literal('help')]),
  phoneNumber: Type.String(),
  source: Type.String(),
  text: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  keyword: Nullable(Type.String()),
  occurredAt: Type.String({ description: 'When it happened: the latest decision by this time governs' }),
  recordedAt: Type.String(),
  recordedBy: Type.String({ description: "Who recorded it: 'api-key:<key fingerprint>', 'api:open' or 'infobip-webhook' ('unknown' for older events)" }),
  requestId: Nullable(Type.String({ description: 'The id (x-request-id) of the request that recorded it' })),
  fileName: Nullable(Type.String({ description: 'The imported file it came from, when the upload named one' }))
})

export const ConsentEventsQuery = Type.Object({
  phoneNumber: PhoneNumber,
  limit: Limit,
  cursor: Type.Optional(Cursor)
}, { additionalProperties: false })
export type ConsentEventsQuery = Static<typeof ConsentEventsQuery>

export const OptOutBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })
export const SuppressBody = Type.Object({ phoneNumber: PhoneNumber, reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })
export const Suppression = Type.Object({ phoneNumber: Type.String(), reason: Nullable(Type.String()), source: Type.String(), createdAt: Type.String() })

const importReport = {
  created: Type.Integer({ description: 'Contacts created' }),
  updated: Type.Integer({ description: 'Existing contacts updated' }),
  rejected: Type.Array(Type.Object({ line: Type.Integer(), error: Type.String() }), { description: 'Lines not imported (at most 1,000 listed), by line number' }),
  warnings: Type.Array(Type.String(), { description: 'Columns ignored, a guessed charset, rejected lines not listed' })
}
export const ImportReport = Type.Object(importReport)

/**
 * 413 or 503: the error and, once the header was read, what was written and where to resume
 * (IMPORT_INTERRUPTED; FST_ERR_CTP_BODY_TOO_LARGE past the size limit).
 */
export const ImportStopped = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String(),
  code: Type.String(),
  created: Type.Optional(importReport.created),
  updated: Type.Optional(importReport.updated),
  rejected: Type.Optional(importReport.rejected),
  warnings: Type.Optional(importReport.warnings),
  resumeFromLine: Type.Optional(Type.Integer({ description: 'Every line before it was imported or rejected as reported; nothing at or after it was written' }))
})

export const ImportFile = Type.String({
  description: 'A header row naming the columns (phoneNumber or Phone, Mobile…; firstName, lastName, tags (;-separated), timezone, consentSource, consentText, consentAt, consentIp, consentUserAgent), then one contact per line; comma, semicolon or tab separated'
})

/** Content types an import accepts: what CSV and TSV files are sent as (browsers send Excel's CSV as application/vnd.ms-excel). */
export const CSV_CONTENT_TYPES = ['text/csv', 'text/plain', 'text/tab-separated-values', 'application/csv', 'application/vnd.ms-excel']
