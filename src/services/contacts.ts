import type { Readable } from 'node:stream'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type { Dialect } from '../db/database.js'
import type { Db } from '../db/schema.js'
import * as consent from '../db/repositories/consent.js'
import * as contacts from '../db/repositories/contacts.js'
import type { Contact, ContactFields } from '../db/repositories/contacts.js'
import { deleteInboundMessagesFrom } from '../db/repositories/inbound-messages.js'
import { lockPhoneNumber, lockPhoneNumbers } from '../db/repositories/locks.js'
import { isBlankLedger, isSubscribed, type ConsentEvent, type LedgerState, type Recorder } from '../domain/consent.js'
import { newId, isId } from '../domain/ids.js'
import { mustReadPhoneNumber, type NumberUse } from '../domain/phone.js'
import { AppError } from '../errors.js'
import { maskPhone, type Log } from '../logger.js'
import type { Clock } from './clock.js'
import type { ConsentLedger, ConsentRecord } from './consent.js'
import { checkEvidence, checkFields, instant } from './contact-fields.js'
import type { ImportReader } from './contact-import-reader.js'
import { ImportReadStopped, packedItem, tagStarts, type ImportItem, type PackedBatch } from './contact-import-rows.js'
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

/** Errors of a request body that stopped arriving (the client went away). */
const UPLOAD_FAILURES = new Set(['ECONNRESET', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED'])
const MAX_REJECTIONS_REPORTED = 1000

/** The opt-in to record for a number, from the subscriber's own evidence (an API call's or a CSV row's). */
function optInRecord (phoneNumber: string, contactId: string, evidence: Pick<ConsentRecord, 'source' | 'text' | 'ip' | 'userAgent' | 'occurredAt' | 'undated'>): ConsentRecord {
  return { phoneNumber, contactId, type: 'opt_in', source: evidence.source, text: evidence.text, ip: evidence.ip, userAgent: evidence.userAgent, occurredAt: evidence.occurredAt, undated: evidence.undated }
}

/** A position in a number's consent trail, as a cursor: occurredAt and id. */
const TRAIL_CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)\|([0-9a-f-]{36})$/

/**
 * Contacts and their consent. Every opt-in or opt-out goes through the one consent ledger
 * (services/consent.ts), which appends the event and changes the contact's `subscribed` flag and the
 * suppression list in the same transaction, so the ledger and the gate can never disagree.
 * `defaultCountry` (DEFAULT_COUNTRY) is how numbers written without + are read.
 */
export function createContactsService ({ db, dialect, clock, ledger, defaultCountry, log, importReader }: {
  db: Db
  dialect: Dialect
  clock: Clock
  ledger: ConsentLedger
  defaultCountry: string
  log: Log
  /** Where imports are read and checked (a thread of their own: src/services/contact-import-reader.ts). */
  importReader: ImportReader
}) {
  /** A number as the one reader reads it; a number accepted on the NANP table alone is logged with why. */
  function readNumber (input: string, field: string, use: NumberUse): string {
    const reading = mustReadPhoneNumber(input, field, { defaultCountry, use })
    if (reading.note !== null) log.info({ phoneNumber: maskPhone(reading.e164), basis: reading.basis, why: reading.note }, 'Number accepted although the number library does not list it')
    return reading.e164
  }

  async function mustFind (trx: Db, id: string): Promise<Contact> {
    const contact = await contacts.findContact(trx, id)
    if (contact === null) throw new AppError('NOT_FOUND', `Contact ${id} not found`)
    return contact
  }

  /** The one event a single API call records (an API opt-in or opt-out is always recorded). */
  async function recordOne (trx: Db, input: ConsentRecord, recorder: Recorder): Promise<ConsentEvent> {
    const { outcomes } = await ledger.record(trx, [input], recorder)
    return outcomes[0]!.event!
  }

  function optInOf (phoneNumber: string, contactId: string, evidence: ConsentEvidence): ConsentRecord {
    checkEvidence(evidence.ip, evidence.userAgent, { ip: 'consent.ip', userAgent: 'consent.userAgent' })
    return optInRecord(phoneNumber, contactId, { ...evidence, occurredAt: instant(evidence.collectedAt, clock.now(), 'consent.collectedAt') })
  }

  async function create (input: NewContact, recorder: Recorder): Promise<Contact> {
    const phoneNumber = readNumber(input.phoneNumber, 'phoneNumber', 'recipient')
    checkFields(input)
    return await db.transaction().execute(async (trx) => {
      await lockPhoneNumber(trx, dialect, phoneNumber)
      if (await contacts.findContactByPhone(trx, phoneNumber) !== null) {
        throw new AppError('CONFLICT', `A contact with phone number ${phoneNumber} already exists`)
      }
      const id = newId()
      const optIn = input.consent === undefined ? null : optInOf(phoneNumber, id, input.consent)
      // A new profile for a number starts from the number's ledger, so its flag says what the gate will decide.
      const state = (await consent.ledgerStates(trx, [phoneNumber])).get(phoneNumber)!
      await contacts.insertContact(trx, { ...input, id, phoneNumber, subscribed: isSubscribed(state), at: clock.now().toISOString() })
      if (optIn !== null) await recordOne(trx, optIn, recorder)
      return await mustFind(trx, id)
    })
  }

  /**
   * POST /contacts/import: the upload is read and checked as it streams, in the import reader's
   * thread (src/services/contact-import-rows.ts, in batches of IMPORT_BATCH rows), and each batch is
   * written in one transaction here while the next is read. A line is rejected with its number when
   * it is malformed, invalid, or repeats a phone number an earlier line of the file holds (the first
   * one is imported). If the upload or the database fails after a batch was written, the error
   * carries the report so far and `resumeFromLine`: every line before it was imported or rejected as
   * reported, nothing at or after it was written.
   * `recorder`: the upload's API key label, request id and file name — who recorded the rows, not their evidence.
   */
  async function importCsv (upload: ImportUpload, recorder: Recorder): Promise<ImportReport> {
    const report: ImportReport = { created: 0, updated: 0, rejected: [], warnings: [] }
    let rejectedTotal = 0
    let writing: { batch: PackedBatch, done: Promise<void> } | null = null

    const write = async (written: PackedBatch): Promise<void> => {
      for (const { phoneNumber, basis, why } of written.notes) log.info({ phoneNumber, basis, why }, 'Number accepted although the number library does not list it')
      if (written.phoneNumbers.length > 0) {
        const outcome = await db.transaction().execute(async (trx) => await importBatch(trx, written, recorder))
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
    const interrupted = (resumeFromLine: number, cause: unknown, code: 'IMPORT_INTERRUPTED' | 'FST_ERR_CTP_BODY_TOO_LARGE' = 'IMPORT_INTERRUPTED', reason = 'the import could not be completed'): AppError => {
      const error = new AppError(code, `Stopped at line ${resumeFromLine}: ${reason}. Lines before it were imported or rejected as reported; send the file again from line ${resumeFromLine}`, { ...report, resumeFromLine })
      error.cause = cause
      return error
    }
    /** Waits for the batch being written; its failure stops the import at the batch's first line. */
    const settle = async (): Promise<void> => {
      const previous = writing
      writing = null
      if (previous === null) return
      try {
        await previous.done
      } catch (error) {
        throw interrupted(previous.batch.firstLine, error)
      }
    }

    try {
      for await (const event of importReader.read(upload, { defaultCountry, now: () => clock.now() })) {
        if (event.kind === 'header') {
          report.warnings.push(...event.warnings)
          continue
        }
        // One transaction at a time, in line order; the reader goes on with the next batch meanwhile.
        await settle()
        writing = { batch: event.batch, done: write(event.batch) }
        // Awaited by settle(); a failure must not count as unhandled before then.
        writing.done.catch(() => {})
      }
    } catch (error) {
      if (!(error instanceof ImportReadStopped)) throw error
      await settle()
      const cause = error.cause
      if (cause instanceof AppError && cause.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        throw interrupted(error.resumeFromLine, cause, cause.code, cause.message.charAt(0).toLowerCase() + cause.message.slice(1))
      }
      const cutOff = UPLOAD_FAILURES.has(String((cause as { code?: unknown } | null)?.code))
      throw interrupted(error.resumeFromLine, cause, 'IMPORT_INTERRUPTED', cutOff ? 'the upload was cut off' : undefined)
    }
    await settle()
    if (rejectedTotal > report.rejected.length) report.warnings.push(`${rejectedTotal - report.rejected.length} more rejected lines are not listed`)
    return report
  }

  /**
   * Writes a batch of checked rows; rows for the same number apply in file order, as if imported one by one.
   * Numbers new to the service — no contact, nothing in the consent ledger, once in the batch: most rows of
   * most files — are written in bulk from the packed batch (writeNewNumbers); the others go through the
   * ledger's general rules (writeKnownNumbers).
   */
  async function importBatch (trx: Db, batch: PackedBatch, recorder: Recorder): Promise<{ created: number, updated: number }> {
    const numbers = [...new Set(batch.phoneNumbers)].sort()
    await lockPhoneNumbers(trx, dialect, numbers)
    const existing = await contacts.findContactIdsByPhone(trx, numbers)
    // The ledger of every number in the batch, read once: the opt-ins are decided on it, and a new profile's flag says what the gate will decide.
    const known = await consent.ledgerStates(trx, numbers)
    const once = numbers.length === batch.phoneNumbers.length
    const fresh: number[] = []
    const others: number[] = []
    batch.phoneNumbers.forEach((phoneNumber, i) => {
      (once && !existing.has(phoneNumber) && isBlankLedger(known.get(phoneNumber)!) ? fresh : others).push(i)
    })
    const tagStart = tagStarts(batch)
    const outcome = others.length === 0
      ? { created: 0, updated: 0 }
      : await writeKnownNumbers(trx, others.map((i) => packedItem(batch, i, tagStart)), existing, known, batch.at, recorder)
    await writeNewNumbers(trx, batch, fresh, tagStart, recorder)
    return { created: outcome.created + fresh.length, updated: outcome.updated }
  }

  /**
   * Rows `rows` of a packed batch, whose numbers are new to the service and appear once in it (see
   * importBatch): each becomes a contact, and its opt-in, if it has one, is recorded on the blank
   * ledger, which subscribes the contact (ConsentLedger.recordOnBlank). A few multi-row INSERTs, no
   * object per contact and no ledger state per number.
   */
  async function writeNewNumbers (trx: Db, batch: PackedBatch, rows: number[], tagStart: Int32Array, recorder: Recorder): Promise<void> {
    if (rows.length === 0) return
    const subscribed = new Array<boolean>(batch.phoneNumbers.length)
    const optIns: ConsentRecord[] = []
    for (const i of rows) {
      const source = batch.consentSources[i]!
      subscribed[i] = source !== null
      if (source !== null) {
        optIns.push({ id: batch.consentIds[i]!, phoneNumber: batch.phoneNumbers[i]!, contactId: batch.contactIds[i]!, type: 'opt_in', source, text: batch.consentTexts[i], ip: batch.consentIps[i], userAgent: batch.consentUserAgents[i], occurredAt: batch.consentOccurredAt[i]!, undated: batch.consentUndated[i] })
      }
    }
    await ledger.recordOnBlank(trx, optIns, recorder)
    const { contactIds: id, phoneNumbers: phoneNumber, firstNames: firstName, lastNames: lastName, timezones: timezone, tags, at } = batch
    await contacts.insertContactColumns(trx, { id, phoneNumber, firstName, lastName, timezone, attributes: null, subscribed, tagStart, tags, at }, rows)
  }

  /** Rows for numbers with a contact or a consent history (or repeated in the batch), in file order, through the ledger's rules. */
  async function writeKnownNumbers (trx: Db, items: ImportItem[], existing: Map<string, string>, known: Map<string, LedgerState>, at: string, recorder: Recorder): Promise<{ created: number, updated: number }> {
    const fresh = new Map<string, contacts.NewContactRecord>()
    const optIns: ConsentRecord[] = []
    let created = 0
    let updated = 0

    for (const item of items) {
      let contactId = existing.get(item.phoneNumber)
      const pending = fresh.get(item.phoneNumber)
      if (contactId !== undefined) {
        await contacts.updateContact(trx, contactId, item.fields, at)
        updated++
      } else if (pending !== undefined) {
        const { firstName, lastName, timezone, tags } = item.fields
        if (firstName !== undefined) pending.firstName = firstName
        if (lastName !== undefined) pending.lastName = lastName
        if (timezone !== undefined) pending.timezone = timezone
        if (tags !== undefined) pending.tags = tags
        contactId = pending.id
        updated++
      } else {
        contactId = newId()
        const { firstName, lastName, timezone, tags } = item.fields
        fresh.set(item.phoneNumber, { id: contactId, phoneNumber: item.phoneNumber, firstName, lastName, timezone, tags, subscribed: false, at })
        created++
      }
      if (item.consent !== null) optIns.push(optInRecord(item.phoneNumber, contactId, item.consent))
    }

    const { states } = await ledger.record(trx, optIns, recorder, fresh, known)
    for (const contact of fresh.values()) contact.subscribed = isSubscribed(states.get(contact.phoneNumber)!)
    await contacts.insertContacts(trx, [...fresh.values()])
    return { created, updated }
  }

  /** A number's consent trail in the order things happened, one page at a time. */
  async function trail (phoneNumber: string, query: { limit: number, cursor?: string | undefined }) {
    const cursor = decodeCursor(query.cursor, (value) => TRAIL_CURSOR.test(value))
    const match = cursor === undefined ? null : TRAIL_CURSOR.exec(cursor)
    const after = match === null ? undefined : { occurredAt: match[1]!, id: match[2]! }
    return await page(query.limit, async (limit) => await consent.listConsentEvents(db, phoneNumber, { after, limit }), (e) => `${e.occurredAt}|${e.id}`)
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
      const phoneNumber = query.phoneNumber !== undefined ? readNumber(query.phoneNumber, 'phoneNumber', 'lookup') : undefined
      const after = decodeCursor(query.cursor, isId)
      return await page(query.limit, async (limit) => await contacts.listContacts(db, { tag: query.tag, subscribed: query.subscribed, phoneNumber, after, limit }), (c) => c.id)
    },
    /**
     * Erases the person's profile and the replies they sent; the consent ledger (keyword replies
     * included) and any suppression stay, as the law requires.
     */
    async erase (id: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const contact = await mustFind(trx, id)
        await contacts.deleteContact(trx, id)
        await deleteInboundMessagesFrom(trx, contact.phoneNumber)
      })
    },
    async recordConsent (id: string, evidence: ConsentEvidence, recorder: Recorder): Promise<ConsentEvent> {
      return await db.transaction().execute(async (trx) => {
        const contact = await mustFind(trx, id)
        await lockPhoneNumber(trx, dialect, contact.phoneNumber)
        return await recordOne(trx, optInOf(contact.phoneNumber, contact.id, evidence), recorder)
      })
    },
    async optOut (id: string, reason: string | undefined, recorder: Recorder): Promise<ConsentEvent> {
      return await db.transaction().execute(async (trx) => {
        const contact = await mustFind(trx, id)
        await lockPhoneNumber(trx, dialect, contact.phoneNumber)
        return await recordOne(trx, { phoneNumber: contact.phoneNumber, contactId: contact.id, type: 'opt_out', source: 'api', text: reason ?? null }, recorder)
      })
    },
    /** Suppresses any number of a possible length, contact or not: an opt-out is never refused for a number the library does not know yet. */
    async suppressNumber (phoneNumberInput: string, reason: string | undefined, recorder: Recorder): Promise<consent.Suppression> {
      const phoneNumber = readNumber(phoneNumberInput, 'phoneNumber', 'opt_out')
      return await db.transaction().execute(async (trx) => {
        await lockPhoneNumber(trx, dialect, phoneNumber)
        const contact = await contacts.findContactByPhone(trx, phoneNumber)
        await recordOne(trx, { phoneNumber, contactId: contact?.id ?? null, type: 'opt_out', source: 'api', text: reason ?? null }, recorder)
        const [suppression] = await consent.listSuppressions(trx, undefined, 1, phoneNumber)
        return suppression!
      })
    },
    /**
     * The consent trail of the contact's number, in the order things happened. After the contact was
     * erased its trail is kept and still answered here; 404 only for an id that never had events or a profile.
     */
    async events (id: string): Promise<ConsentEvent[]> {
      const contact = await contacts.findContact(db, id)
      const phoneNumber = contact?.phoneNumber ?? await consent.phoneNumberOfContactEvents(db, id)
      if (phoneNumber === null) throw new AppError('NOT_FOUND', `Contact ${id} not found`)
      return await consent.listConsentEvents(db, phoneNumber)
    },
    /** GET /consent-events: a number's trail by number, contact or not, erased or not. */
    async eventsOfNumber (query: { phoneNumber: string, limit: number, cursor?: string | undefined }) {
      return await trail(readNumber(query.phoneNumber, 'phoneNumber', 'lookup'), query)
    },
    async suppressions (query: { limit: number, cursor?: string | undefined }) {
      const after = decodeCursor(query.cursor, (v) => v.startsWith('+'))
      return await page(query.limit, async (limit) => await consent.listSuppressions(db, after, limit), (s) => s.phoneNumber)
    }
  }
}

export type ContactsService = ReturnType<typeof createContactsService>
