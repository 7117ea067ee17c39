import { Type, type Static } from 'typebox'
import type { App } from '../app.js'
import type { ContactsController } from '../controllers/contacts.js'
import { Cursor, errorResponses, Id, IdParams, Limit, Nullable, Page, PhoneNumber } from '../schemas.js'

const Tag = Type.String({ minLength: 1, maxLength: 100, pattern: '^[^;,]+$' })
const Tags = Type.Array(Tag, { maxItems: 50, uniqueItems: true })
const TimeZone = Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. America/Chicago' })
const Attributes = Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' }), Type.String({ maxLength: 500 }), {
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

const Contact = Type.Object({
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

const ConsentEvent = Type.Object({
  id: Type.String(),
  type: Type.Union([Type.Literal('opt_in'), Type.Literal('opt_out'), Type.Literal('help')]),
  phoneNumber: Type.String(),
  source: Type.String(),
  text: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  keyword: Nullable(Type.String()),
  occurredAt: Type.String(),
  recordedAt: Type.String()
})

export const OptOutBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })
export const SuppressBody = Type.Object({ phoneNumber: PhoneNumber, reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false })
const Suppression = Type.Object({ phoneNumber: Type.String(), reason: Nullable(Type.String()), source: Type.String(), createdAt: Type.String() })

const ImportReport = Type.Object({
  created: Type.Integer(),
  updated: Type.Integer(),
  rejected: Type.Array(Type.Object({ line: Type.Integer(), error: Type.String() }))
})

/** CSV imports stream; this bounds one upload (about a million rows). */
const IMPORT_LIMIT_BYTES = 100 * 1024 * 1024

export function contactRoutes (app: App, controller: ContactsController): void {
  const tags = ['contacts']
  app.post('/contacts', {
    schema: { tags, summary: 'Create a contact, optionally with the consent it gave', body: CreateContactBody, response: { 201: Contact, ...errorResponses(409) } }
  }, async (request, reply) => reply.code(201).send(await controller.create(request.body)))

  app.get('/contacts', {
    schema: { tags, summary: 'Contacts, filtered and paginated by cursor', querystring: ContactsQuery, response: { 200: Page(Contact), ...errorResponses() } }
  }, async (request) => await controller.list(request.query))

  app.get('/contacts/:id', {
    schema: { tags, params: IdParams, response: { 200: Contact, ...errorResponses(404) } }
  }, async (request) => await controller.get(request.params.id))

  app.patch('/contacts/:id', {
    schema: { tags, params: IdParams, body: UpdateContactBody, response: { 200: Contact, ...errorResponses(404) } }
  }, async (request) => await controller.update(request.params.id, request.body))

  app.delete('/contacts/:id', {
    schema: { tags, summary: "Erase a person's profile; an opted-out number stays suppressed", params: IdParams, response: { 204: Type.Null(), ...errorResponses(404) } }
  }, async (request, reply) => {
    await controller.erase(request.params.id)
    return reply.code(204).send(null)
  })

  app.post('/contacts/:id/consent', {
    schema: { tags, summary: 'Record an opt-in with its evidence', params: IdParams, body: ConsentEvidence, response: { 201: ConsentEvent, ...errorResponses(404) } }
  }, async (request, reply) => reply.code(201).send(await controller.recordConsent(request.params.id, request.body)))

  app.post('/contacts/:id/opt-out', {
    schema: { tags, summary: 'Opt the contact out; suppression is immediate', params: IdParams, body: OptOutBody, response: { 201: ConsentEvent, ...errorResponses(404) } }
  }, async (request, reply) => reply.code(201).send(await controller.optOut(request.params.id, request.body.reason)))

  app.get('/contacts/:id/consent-events', {
    schema: { tags, summary: 'The append-only consent trail for the contact’s number', params: IdParams, response: { 200: Type.Object({ items: Type.Array(ConsentEvent) }), ...errorResponses(404) } }
  }, async (request) => ({ items: await controller.events(request.params.id) }))

  app.register(async (csv) => {
    // The body is handed over as a stream and parsed row by row: 100k rows never sit in memory.
    // Only CSV here: a JSON (or any other) body is refused with 415 instead of reaching the importer.
    csv.removeAllContentTypeParsers()
    csv.addContentTypeParser('text/csv', (_request, payload, done) => { done(null, payload) })
    csv.post('/contacts/import', {
      bodyLimit: IMPORT_LIMIT_BYTES,
      schema: {
        tags,
        summary: 'Import contacts from CSV (header row; phoneNumber required)',
        consumes: ['text/csv'],
        response: { 200: ImportReport, ...errorResponses(413, 415) }
      }
    }, async (request) => await controller.importCsv(request.body as NodeJS.ReadableStream, { ip: request.ip, userAgent: request.headers['user-agent'] }))
  })

  app.get('/opt-outs', {
    schema: { tags: ['opt-outs'], summary: 'Suppressed numbers', querystring: Type.Object({ limit: Limit, cursor: Type.Optional(Cursor) }, { additionalProperties: false }), response: { 200: Page(Suppression), ...errorResponses() } }
  }, async (request) => await controller.suppressions(request.query))

  app.post('/opt-outs', {
    schema: { tags: ['opt-outs'], summary: 'Suppress a number that need not be a contact', body: SuppressBody, response: { 201: Suppression, ...errorResponses() } }
  }, async (request, reply) => reply.code(201).send(await controller.suppress(request.body.phoneNumber, request.body.reason)))
}
