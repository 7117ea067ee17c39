import { Readable } from 'node:stream'
import type { FastifyRequest } from 'fastify'
import { AppError } from '../errors.js'
import type { Recorder } from '../domain/consent.js'
import type { ConsentEventsQuery, ConsentEvidence, ContactsQuery, CreateContactBody, UpdateContactBody } from '../schemas/contacts.js'
import type { ContactsService } from '../services/contacts.js'

/** The file name an upload gives in Content-Disposition (RFC 6266: filename*=UTF-8''… or filename="…"). */
export function uploadFileName (header: string | undefined): string | null {
  if (header === undefined) return null
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header)
  let name: string | undefined
  if (extended?.[1] !== undefined) {
    try {
      name = decodeURIComponent(extended[1].trim())
    } catch {
      name = undefined
    }
  }
  name ??= /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/.exec(header)?.slice(1).find((v) => v !== undefined)?.replace(/\\(.)/g, '$1')
  const base = name?.split(/[\\/]/).pop()?.trim()
  return base === undefined || base === '' ? null : base.slice(0, 255)
}

/** Who records consent through this request: the API key's label (never the key), the request id, the file. */
export function recorderOf (request: FastifyRequest, fileName: string | null = null): Recorder {
  return { recordedBy: request.apiKeyLabel ?? 'api:open', requestId: request.id, fileName }
}

/** The charset parameter of a Content-Type header (`text/csv; charset="windows-1252"`). */
function charsetOf (contentType: string | undefined): string | undefined {
  return /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? '')?.[1]
}

export function createContactsController (contacts: ContactsService, options: { importLimitBytes: number }) {
  return {
    create: async (body: CreateContactBody, request: FastifyRequest) => await contacts.create(body, recorderOf(request)),
    list: async (query: ContactsQuery) => await contacts.list(query),
    get: async (id: string) => await contacts.get(id),
    update: async (id: string, body: UpdateContactBody) => await contacts.update(id, body),
    erase: async (id: string) => { await contacts.erase(id) },
    recordConsent: async (id: string, body: ConsentEvidence, request: FastifyRequest) => await contacts.recordConsent(id, body, recorderOf(request)),
    optOut: async (id: string, reason: string | undefined, request: FastifyRequest) => await contacts.optOut(id, reason, recorderOf(request)),
    events: async (id: string) => await contacts.events(id),
    eventsOfNumber: async (query: ConsentEventsQuery) => await contacts.eventsOfNumber(query),
    async importCsv (body: NodeJS.ReadableStream | undefined, request: FastifyRequest) {
      // A declared size over the limit is refused before a byte is read; an undeclared one is counted.
      if (Number(request.headers['content-length']) > options.importLimitBytes) {
        throw new AppError('FST_ERR_CTP_BODY_TOO_LARGE', `The file is larger than ${options.importLimitBytes} bytes: split it into several imports`)
      }
      // No body at all (no Content-Type, nothing sent) reads as an empty file: 400, not a crash.
      const stream = body instanceof Readable ? body : Readable.from(body ?? [])
      return await contacts.importCsv(
        { stream, charset: charsetOf(request.headers['content-type']), maxBytes: options.importLimitBytes },
        recorderOf(request, uploadFileName(request.headers['content-disposition']))
      )
    },
    suppressions: async (query: { limit: number, cursor?: string | undefined }) => await contacts.suppressions(query),
    suppress: async (phoneNumber: string, reason: string | undefined, request: FastifyRequest) => await contacts.suppressNumber(phoneNumber, reason, recorderOf(request))
  }
}

export type ContactsController = ReturnType<typeof createContactsController>
