import { Readable } from 'node:stream'
import type { ConsentEvidence, ContactsQuery, CreateContactBody, UpdateContactBody } from '../schemas/contacts.js'
import type { ContactsService } from '../services/contacts.js'

export function createContactsController (contacts: ContactsService) {
  return {
    create: async (body: CreateContactBody) => await contacts.create(body),
    list: async (query: ContactsQuery) => await contacts.list(query),
    get: async (id: string) => await contacts.get(id),
    update: async (id: string, body: UpdateContactBody) => await contacts.update(id, body),
    erase: async (id: string) => { await contacts.erase(id) },
    recordConsent: async (id: string, body: ConsentEvidence) => await contacts.recordConsent(id, body),
    optOut: async (id: string, reason: string | undefined) => await contacts.optOut(id, reason),
    events: async (id: string) => await contacts.events(id),
    importCsv: async (body: NodeJS.ReadableStream, meta: { ip: string, userAgent: string | undefined }) =>
      await contacts.importCsv(body instanceof Readable ? body : Readable.from(body), meta),
    suppressions: async (query: { limit: number, cursor?: string | undefined }) => await contacts.suppressions(query),
    suppress: async (phoneNumber: string, reason: string | undefined) => await contacts.suppressNumber(phoneNumber, reason)
  }
}

export type ContactsController = ReturnType<typeof createContactsController>
