import { Type } from 'typebox'
import { errorResponses, IdParams, Limit, Cursor, Page } from '../schemas/common.js'
import type { App } from '../app-type.js'
import type { ContactsController } from '../controllers/contacts.js'
import { ConsentEvent, ConsentEventsQuery, ConsentEvidence, Contact, ContactsQuery, CreateContactBody, CSV_CONTENT_TYPES, ImportFile, ImportReport, ImportStopped, OptOutBody, SuppressBody, Suppression, UpdateContactBody } from '../schemas/contacts.js'

export function contactRoutes (app: App, controller: ContactsController): void {
  const tags = ['contacts']
  app.post('/contacts', {
    schema: { tags, summary: 'Create a contact, optionally with the consent it gave', body: CreateContactBody, response: { 201: Contact, ...errorResponses(409) } }
  }, async (request, reply) => reply.code(201).send(await controller.create(request.body, request)))

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
  }, async (request, reply) => reply.code(201).send(await controller.recordConsent(request.params.id, request.body, request)))

  app.post('/contacts/:id/opt-out', {
    schema: { tags, summary: 'Opt the contact out; suppression is immediate', params: IdParams, body: OptOutBody, response: { 201: ConsentEvent, ...errorResponses(404) } }
  }, async (request, reply) => reply.code(201).send(await controller.optOut(request.params.id, request.body.reason, request)))

  app.get('/contacts/:id/consent-events', {
    schema: {
      tags,
      summary: 'The append-only consent trail of the contact’s number, in the order things happened; kept and readable after the contact was erased',
      params: IdParams,
      response: { 200: Type.Object({ items: Type.Array(ConsentEvent) }), ...errorResponses(404) }
    }
  }, async (request) => ({ items: await controller.events(request.params.id) }))

  app.get('/consent-events', {
    schema: {
      tags,
      summary: 'The consent trail of a number, contact or not, also after its contact was erased; in the order things happened',
      querystring: ConsentEventsQuery,
      response: { 200: Page(ConsentEvent), ...errorResponses() }
    }
  }, async (request) => await controller.eventsOfNumber(request.query))

  app.register(async (csv) => {
    // The body is handed over as a stream and parsed row by row: 100k rows never sit in memory, and
    // its size is counted as it arrives (IMPORT_LIMIT_BYTES). Only CSV here: a JSON (or any other)
    // body is refused with 415 instead of reaching the importer.
    csv.removeAllContentTypeParsers()
    csv.addContentTypeParser(CSV_CONTENT_TYPES, (_request, payload, done) => { done(null, payload) })
    csv.post('/contacts/import', {
      // The body schema documents the upload; the body itself is a stream, checked as it is read.
      validatorCompiler: () => () => true,
      config: { mediaTypeHint: "Send the CSV file itself as the body, with content-type text/csv: curl --data-binary @contacts.csv -H 'content-type: text/csv'" },
      schema: {
        tags,
        summary: 'Import contacts from CSV or TSV (header row naming a phone number column; UTF-8, UTF-16 or Windows-1252)',
        consumes: CSV_CONTENT_TYPES,
        body: ImportFile,
        response: { 200: ImportReport, ...errorResponses(415), 413: ImportStopped, 503: ImportStopped }
      }
    }, async (request) => await controller.importCsv(request.body as NodeJS.ReadableStream | undefined, request))
  })

  app.get('/opt-outs', {
    schema: { tags: ['opt-outs'], summary: 'Suppressed numbers', querystring: Type.Object({ limit: Limit, cursor: Type.Optional(Cursor) }, { additionalProperties: false }), response: { 200: Page(Suppression), ...errorResponses() } }
  }, async (request) => await controller.suppressions(request.query))

  app.post('/opt-outs', {
    schema: { tags: ['opt-outs'], summary: 'Suppress a number that need not be a contact', body: SuppressBody, response: { 201: Suppression, ...errorResponses() } }
  }, async (request, reply) => reply.code(201).send(await controller.suppress(request.body.phoneNumber, request.body.reason, request)))
}
