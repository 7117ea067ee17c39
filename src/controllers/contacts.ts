import { Readable } from 'node:stream'
import { AppError } from '../errors.js'
import type { ConsentEvidence, ContactsQuery, CreateContactBody, UpdateContactBody } from '../schemas/contacts.js'
import type { ContactsService } from '../services/contacts.js'

export interface ImportRequest {
  contentType: string | undefined
  contentLength: string | undefined
  ip: string
  userAgent: string | undefined
}

/** The charset parameter of a Content-Type header (`text/csv; charset="windows-1252"`). */
function charsetOf (contentType: string | undefined): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? '')?.[1]
}

export function createContactsController (contacts: ContactsService, options: { importLimitBytes: number }) {
  return {
    create: async (body: CreateContactBody) => await contacts.create(body),
    list: async (query: ContactsQuery) => await contacts.list(query),
    get: async (id: string) => await contacts.get(id),
    update: async (id: string, body: UpdateContactBody) => await contacts.update(id, body),
    erase: async (id: string) => { await contacts.erase(id) },
    recordConsent: async (id: string, body: ConsentEvidence) => await contacts.recordConsent(id, body),
    optOut: async (id: string, reason: string | undefined) => await contacts.optOut(id, reason),
    events: async (id: string) => await contacts.events(id),
    async importCsv (body: NodeJS.ReadableStream, request: ImportRequest) {
      // A declared size over the limit is refused before a byte is read; an undeclared one is counted.
      if (Number(request.contentLength) > options.importLimitBytes) {
        throw new AppError('FST_ERR_CTP_BODY_TOO_LARGE', `The file is larger than ${options.importLimitBytes} bytes: split it into several imports`)
      }
      const stream = body instanceof Readable ? body : Readable.from(body)
      return await contacts.importCsv(
        { stream, charset: charsetOf(request.contentType), maxBytes: options.importLimitBytes },
        { ip: request.ip, userAgent: request.userAgent }
      )
    },
    suppressions: async (query: { limit: number, cursor?: string | undefined }) => await contacts.suppressions(query),
    suppress: async (phoneNumber: string, reason: string | undefined) => await contacts.suppressNumber(phoneNumber, reason)
  }
}

export type ContactsController = ReturnType<typeof createContactsController>
