import type { Readable } from 'node:stream'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { Dialect } from '../db/database.js'
import type { Db } from '../db/schema.js'
import * as consent from '../db/repositories/consent.js'
import type { ConsentEvent, ConsentEventType } from '../db/repositories/consent.js'
import * as contacts from '../db/repositories/contacts.js'
import type { Contact, ContactFields } from '../db/repositories/contacts.js'
import { lockPhoneNumber, lockPhoneNumbers } from '../db/repositories/locks.js'
import * as messages from '../db/repositories/messages.js'
import { newId, isId } from '../domain/ids.js'
import { parsePhone } from '../domain/phone.js'
import { isTimeZone } from '../domain/quiet-hours.js'
import { AppError } from '../errors.js'
import { maskPhone, maskPhoneNumbers } from '../logger.js'
import type { Clock } from './clock.js'
import { readContactCsv } from './contact-csv.js'
import { decodeCursor, page } from './pagination.js'

export interface ConsentEvidence {
  source: string
  text: string
  ip?: string | undefined
  userAgent?: string | undefined
  collectedAt?: string | undefined
}

export interface NewContact extends ContactFields {
  phoneNumber: string
  consent?: ConsentEvidence | undefined
}

export interface ImportReport {
  created: number
  updated: number
  /** Lines not imported, with why; at most MAX_REJECTIONS_REPORTED (a warning counts the rest). */
  rejected: Array<{ line: number, error: string }>
  /** Columns ignored, a guessed charset, rejections not listed. */
  warnings: string[]
}

export interface ImportUpload {
  stream: Readable
  /** The charset parameter of the Content-Type, if any. */
  charset?: string | undefined
  /** Largest upload accepted, in bytes. */
  maxBytes: number
}

/** Rows read but not yet written, and the rejections that go with them (reported once the batch is written). */
interface ImportBatch {
  firstLine: number | null
  items: ImportItem[]
  rejected: Array<{ line: number, error: string }>
  now: Date
  at: string
}

const IMPORT_BATCH = 1000
/** Errors of a request body that stopped arriving (the client went away). */
const UPLOAD_FAILURES = new Set(['ECONNRESET', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED'])
const MAX_REJECTIONS_REPORTED = 1000

function e164 (input: string, field = 'phoneNumber'): string {
  const phone = parsePhone(input)
  if (!phone.ok) throw new AppError('INVALID_PHONE_NUMBER', `${field} ${phone.reason}`)
  return phone.e164
}

function checkFields (fields: ContactFields): void {
  if (fields.timezone !== undefined && fields.timezone !== null && !isTimeZone(fields.timezone)) {
    throw new AppError('INVALID_TIME_ZONE', `timezone ${fields.timezone} is not an IANA time zone (e.g. America/New_York)`)
  }
}

function instant (value: string | undefined, now: Date, field: string): string {
  if (value === undefined) return now.toISOString()
  const parsed = Date.parse(value)
  if (Number.isNaN(parsed)) throw new AppError('BAD_REQUEST', `${field} is not a valid date-time`)
  if (parsed > now.getTime() + 5 * 60 * 1000) throw new AppError('BAD_REQUEST', `${field} lies in the future`)
  return new Date(parsed).toISOString()
}

interface ImportItem {
  phoneNumber: string
  fields: ContactFields
  consent: Pick<ConsentEvent, 'source' | 'text' | 'ip' | 'userAgent' | 'occurredAt'> | null
  /** No consentAt: the evidence cannot be shown to be newer than anything already in the ledger. */
  undated: boolean
}

/** The limits POST /contacts applies, so an imported row can hold nothing the API would refuse. */
function checkLength (value: string | undefined, max: number, column: string): void {
  if (value !== undefined && value.length > max) throw new AppError('BAD_REQUEST', `${column} is longer than ${max} characters`)
}

function parseImportRow (row: Record<string, string>, now: Date, meta: { ip?: string | undefined, userAgent?: string | undefined }): ImportItem {
  const value = (column: string): string | undefined => row[column] !== undefined && row[column] !== '' ? row[column] : undefined
  const phoneNumber = e164(row.phoneNumber ?? '')
  const tags = value('tags') === undefined ? undefined : [...new Set(value('tags')!.split(';').map((t) => t.trim()).filter((t) => t !== ''))]
  const fields: ContactFields = {
    ...(value('firstName') !== undefined ? { firstName: value('firstName') } : {}),
    ...(value('lastName') !== undefined ? { lastName: value('lastName') } : {}),
    ...(value('timezone') !== undefined ? { timezone: value('timezone') } : {}),
    ...(tags !== undefined ? { tags } : {})
  }
  checkLength(value('firstName'), 200, 'firstName')
  checkLength(value('lastName'), 200, 'lastName')
  checkLength(value('timezone'), 64, 'timezone')
  if (tags !== undefined) {
    if (tags.length > 50) throw new AppError('BAD_REQUEST', 'tags holds more than 50 tags')
    for (const tag of tags) {
      checkLength(tag, 100, 'a tag')
      if (tag.includes(',')) throw new AppError('BAD_REQUEST', `tag "${tag}" contains a comma`)
    }
  }
  checkFields(fields)
  const source = value('consentSource')
  const text = value('consentText')
  if (source === undefined) return { phoneNumber, fields, consent: null, undated: true }
  if (text === undefined) throw new AppError('BAD_REQUEST', 'consentText is required with consentSource: the exact disclosure the person agreed to')
  checkLength(source, 32, 'consentSource')
  checkLength(text, 4000, 'consentText')
  return {
    phoneNumber,
    fields,
    consent: { source, text, ip: meta.ip ?? null, userAgent: meta.userAgent ?? null, occurredAt: instant(value('consentAt'), now, 'consentAt') },
    undated: value('consentAt') === undefined
  }
}

/**
 * Contacts and the consent ledger. Every opt-in or opt-out is an appended event; the contact's
 * `subscribed` flag and the suppression list follow from the events and are changed in the same
 * transaction, so the ledger and the gate can never disagree.
 */
export function createContactsService ({ db, dialect, clock }: { db: Db, dialect: Dialect, clock: Clock }) {
  async function appendEvent (trx: Db, phoneNumber: string, contactId: string | null, type: ConsentEventType, fields: Partial<ConsentEvent> & { source: string }, occurredAt: string): Promise<ConsentEvent> {
    const event: ConsentEvent = {
      id: newId(),
      phoneNumber,
      contactId,
      type,
      source: fields.source,
      text: fields.text ?? null,
      ip: fields.ip ?? null,
      userAgent: fields.userAgent ?? null,
      keyword: fields.keyword ?? null,
      occurredAt,
      recordedAt: clock.now().toISOString()
    }
    await consent.appendConsentEvent(trx, event)
    return event
  }

  /** An opt-in lifts a suppression only when it is newer than the opt-out behind it. */
  async function applyOptIn (trx: Db, phoneNumber: string, contactId: string | null, evidence: ConsentEvidence): Promise<ConsentEvent> {
    const now = clock.now()
    const occurredAt = instant(evidence.collectedAt, now, 'consent.collectedAt')
    const event = await appendEvent(trx, phoneNumber, contactId, 'opt_in', evidence, occurredAt)
    if ((await ledgerOf(trx, phoneNumber)).latest?.type === 'opt_in') {
      await consent.unsuppressMany(trx, [phoneNumber])
      await contacts.setSubscribed(trx, phoneNumber, true, now.toISOString())
    }
    return event
  }

  async function applyOptOut (trx: Db, phoneNumber: string, contactId: string | null, source: string, reason: string | null): Promise<ConsentEvent> {
    const now = clock.now().toISOString()
    const event = await appendEvent(trx, phoneNumber, contactId, 'opt_out', { source, text: reason }, now)
    await consent.suppress(trx, phoneNumber, source, reason, now)
    await contacts.setSubscribed(trx, phoneNumber, false, now)
    await messages.suppressPending(trx, phoneNumber, 'RECIPIENT_OPTED_OUT: opted out before sending', now)
    return event
  }

  /** A new profile for a number starts from the number's ledger, so its flag says what the gate will decide. */
  async function subscribedByLedger (trx: Db, phoneNumber: string): Promise<boolean> {
    const state = await ledgerOf(trx, phoneNumber)
    return state.latest?.type === 'opt_in' && !state.suppressed
  }

  async function ledgerOf (trx: Db, phoneNumber: string): Promise<{ latest: consent.LatestDecision | null, suppressed: boolean }> {
    return (await consent.ledgerStates(trx, [phoneNumber])).get(phoneNumber)!
  }

  async function mustFind (trx: Db, id: string): Promise<Contact> {
    const contact = await contacts.findContact(trx, id)
    if (contact === null) throw new AppError('NOT_FOUND', `Contact ${id} not found`)
    return contact
  }

  async function create (input: NewContact): Promise<Contact> {
    const phoneNumber = e164(input.phoneNumber)
    checkFields(input)
    return await db.transaction().execute(async (trx) => {
      await lockPhoneNumber(trx, dialect, phoneNumber)
      if (await contacts.findContactByPhone(trx, phoneNumber) !== null) {
        throw new AppError('CONFLICT', `A contact with phone number ${phoneNumber} already exists`)
      }
      const id = newId()
      await contacts.insertContact(trx, { ...input, id, phoneNumber, subscribed: await subscribedByLedger(trx, phoneNumber), at: clock.now().toISOString() })
      if (input.consent !== undefined) await applyOptIn(trx, phoneNumber, id, input.consent)
      return await mustFind(trx, id)
    })
  }

  /**
   * POST /contacts/import: reads the upload as it streams (src/services/contact-csv.ts) and writes
   * its valid rows in batches of IMPORT_BATCH, one transaction each, while the next batch is read.
   * A line is rejected with its number when it is malformed, invalid, or repeats a phone number an
   * earlier line of the file holds (the first one is imported). If the upload or the database fails
   * after a batch was written, the error carries the report so far and `resumeFromLine`: every line
   * before it was imported or rejected as reported, nothing at or after it was written.
   */
  async function importCsv (upload: ImportUpload, meta: { ip?: string | undefined, userAgent?: string | undefined }): Promise<ImportReport> {
    const report: ImportReport = { created: 0, updated: 0, rejected: [], warnings: [] }
    let rejectedTotal = 0
    // Phone numbers seen so far (keyed by their E.164 digits as a number: no string kept per row), with the line that holds each.
    const firstLineOf = new Map<number, number>()
    let batch = newBatch()
    let writing: { batch: ImportBatch, done: Promise<void> } | null = null
    let headerRead = false
    let lastLine = 0

    const write = async (written: ImportBatch): Promise<void> => {
      if (written.items.length > 0) {
        const outcome = await db.transaction().execute(async (trx) => await importItems(trx, written.items, written.at))
        report.created += outcome.created
        report.updated += outcome.updated
      }
      for (const rejection of written.rejected) {
        rejectedTotal++
        if (report.rejected.length < MAX_REJECTIONS_REPORTED) report.rejected.push(rejection)
      }
      // SQLite commits without leaving the event loop: let other requests in between batches.
      await yieldToEventLoop()
    }
    const settle = async (): Promise<void> => {
      const previous = writing
      writing = null
      if (previous === null) return
      try {
        await previous.done
      } catch (error) {
        throw interrupted(previous.batch.firstLine ?? lastLine + 1, error)
      }
    }
    const interrupted = (resumeFromLine: number, cause: unknown, code: 'IMPORT_INTERRUPTED' | 'FST_ERR_CTP_BODY_TOO_LARGE' = 'IMPORT_INTERRUPTED', reason = 'the import could not be completed'): AppError => {
      const error = new AppError(code, `Stopped at line ${resumeFromLine}: ${reason}. Lines before it were imported or rejected as reported; send the file again from line ${resumeFromLine}`, { ...report, resumeFromLine })
      error.cause = cause
      return error
    }

    try {
      for await (const event of readContactCsv(upload)) {
        if (event.kind === 'header') {
          headerRead = true
          report.warnings.push(...event.warnings)
          continue
        }
        for (const entry of event.items) {
          lastLine = entry.line
          batch.firstLine ??= entry.line
          if ('error' in entry) {
            batch.rejected.push({ line: entry.line, error: entry.error })
            continue
          }
          let item: ImportItem
          try {
            item = parseImportRow(entry.row, batch.now, meta)
          } catch (error) {
            if (!(error instanceof AppError)) throw error
            batch.rejected.push({ line: entry.line, error: maskPhoneNumbers(error.message) })
            continue
          }
          const key = Number(item.phoneNumber.slice(1))
          const first = firstLineOf.get(key)
          if (first !== undefined) {
            batch.rejected.push({ line: entry.line, error: `phoneNumber ${maskPhone(item.phoneNumber)} repeats line ${first} of this file, which is the one imported` })
            continue
          }
          firstLineOf.set(key, entry.line)
          batch.items.push(item)
          if (batch.items.length >= IMPORT_BATCH) {
            await settle()
            const full = batch
            writing = { batch: full, done: write(full) }
            // Awaited by settle(); a failure must not count as unhandled before then.
            writing.done.catch(() => {})
            batch = newBatch()
          }
        }
      }
    } catch (error) {
      if (!headerRead) throw error
      await settle()
      if (error instanceof AppError && error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        throw interrupted(batch.firstLine ?? lastLine + 1, error, error.code, error.message.charAt(0).toLowerCase() + error.message.slice(1))
      }
      if (error instanceof AppError && error.code === 'IMPORT_INTERRUPTED') throw error
      const cutOff = UPLOAD_FAILURES.has(String((error as { code?: unknown }).code))
      throw interrupted(batch.firstLine ?? lastLine + 1, error, 'IMPORT_INTERRUPTED', cutOff ? 'the upload was cut off' : undefined)
    }
    await settle()
    try {
      await write(batch)
    } catch (error) {
      throw interrupted(batch.firstLine ?? lastLine + 1, error)
    }
    if (rejectedTotal > report.rejected.length) report.warnings.push(`${rejectedTotal - report.rejected.length} more rejected lines are not listed`)
    return report
  }

  function newBatch (): ImportBatch {
    const now = clock.now()
    return { firstLine: null, items: [], rejected: [], now, at: now.toISOString() }
  }

  /** Writes a batch of checked rows; rows for the same number apply in file order, as if imported one by one. */
  async function importItems (trx: Db, items: ImportItem[], at: string): Promise<{ created: number, updated: number }> {
    const numbers = [...new Set(items.map((item) => item.phoneNumber))].sort()
    await lockPhoneNumbers(trx, dialect, numbers)
    const existing = await contacts.findContactIdsByPhone(trx, numbers)
    const ledger = await consent.ledgerStates(trx, numbers)
    const fresh = new Map<string, contacts.NewContactRecord>()
    const events: ConsentEvent[] = []
    const optedIn = new Set<string>()
    let created = 0
    let updated = 0

    for (const item of items) {
      const state = ledger.get(item.phoneNumber)!
      let contactId = existing.get(item.phoneNumber)
      const pending = fresh.get(item.phoneNumber)
      if (contactId !== undefined) {
        await contacts.updateContact(trx, contactId, item.fields, at)
        updated++
      } else if (pending !== undefined) {
        Object.assign(pending, item.fields)
        contactId = pending.id
        updated++
      } else {
        contactId = newId()
        fresh.set(item.phoneNumber, { ...item.fields, id: contactId, phoneNumber: item.phoneNumber, subscribed: false, at })
        created++
      }
      // An undated consent (a CRM export re-sent every night) must never undo a recorded opt-out:
      // the profile is updated, but no opt-in is recorded for such a number.
      if (item.consent !== null && !(item.undated && state.latest?.type === 'opt_out')) {
        const event: ConsentEvent = { ...item.consent, id: newId(), phoneNumber: item.phoneNumber, contactId, type: 'opt_in', keyword: null, recordedAt: at }
        events.push(event)
        if (consent.isLater(event, state.latest)) state.latest = { type: 'opt_in', occurredAt: event.occurredAt, id: event.id }
        // As for one opt-in: it lifts a suppression only when it is newer than the opt-out behind it.
        if (state.latest?.type === 'opt_in') optedIn.add(item.phoneNumber)
      }
    }

    const lifted = [...optedIn].filter((number) => ledger.get(number)!.suppressed)
    for (const number of lifted) ledger.get(number)!.suppressed = false
    for (const contact of fresh.values()) {
      const state = ledger.get(contact.phoneNumber)!
      contact.subscribed = state.latest?.type === 'opt_in' && !state.suppressed
    }
    await contacts.insertContacts(trx, [...fresh.values()])
    await consent.appendConsentEvents(trx, events)
    await consent.unsuppressMany(trx, lifted)
    await contacts.setSubscribedMany(trx, [...optedIn].filter((number) => existing.has(number)), true, at)
    return { created, updated }
  }

  return {
    create,
    importCsv,
    get: async (id: string) => await mustFind(db, id),
    async update (id: string, fields: ContactFields): Promise<Contact> {
      checkFields(fields)
      return await db.transaction().execute(async (trx) => {
        await mustFind(trx, id)
        await contacts.updateContact(trx, id, fields, clock.now().toISOString())
        return await mustFind(trx, id)
      })
    },
    async list (query: { tag?: string | undefined, subscribed?: boolean | undefined, phoneNumber?: string | undefined, limit: number, cursor?: string | undefined }) {
      const phoneNumber = query.phoneNumber !== undefined ? e164(query.phoneNumber) : undefined
      const after = decodeCursor(query.cursor, isId)
      return await page(query.limit, async (limit) => await contacts.listContacts(db, { tag: query.tag, subscribed: query.subscribed, phoneNumber, after, limit }), (c) => c.id)
    },
    /** Erases the person's profile; the ledger and any suppression stay, as the law requires. */
    async erase (id: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        await mustFind(trx, id)
        await contacts.deleteContact(trx, id)
      })
    },
    async recordConsent (id: string, evidence: ConsentEvidence): Promise<ConsentEvent> {
      return await db.transaction().execute(async (trx) => {
        const contact = await mustFind(trx, id)
        await lockPhoneNumber(trx, dialect, contact.phoneNumber)
        return await applyOptIn(trx, contact.phoneNumber, contact.id, evidence)
      })
    },
    async optOut (id: string, reason: string | undefined): Promise<ConsentEvent> {
      return await db.transaction().execute(async (trx) => {
        const contact = await mustFind(trx, id)
        await lockPhoneNumber(trx, dialect, contact.phoneNumber)
        return await applyOptOut(trx, contact.phoneNumber, contact.id, 'api', reason ?? null)
      })
    },
    async suppressNumber (phoneNumberInput: string, reason: string | undefined): Promise<consent.Suppression> {
      const phoneNumber = e164(phoneNumberInput)
      return await db.transaction().execute(async (trx) => {
        await lockPhoneNumber(trx, dialect, phoneNumber)
        const contact = await contacts.findContactByPhone(trx, phoneNumber)
        await applyOptOut(trx, phoneNumber, contact?.id ?? null, 'api', reason ?? null)
        const [suppression] = await consent.listSuppressions(trx, undefined, 1, phoneNumber)
        return suppression!
      })
    },
    async events (id: string): Promise<ConsentEvent[]> {
      const contact = await mustFind(db, id)
      return await consent.listConsentEvents(db, contact.phoneNumber)
    },
    async suppressions (query: { limit: number, cursor?: string | undefined }) {
      const after = decodeCursor(query.cursor, (v) => v.startsWith('+'))
      return await page(query.limit, async (limit) => await consent.listSuppressions(db, after, limit), (s) => s.phoneNumber)
    }
  }
}

export type ContactsService = ReturnType<typeof createContactsService>
