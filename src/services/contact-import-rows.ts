import { mustReadPhoneNumber, type PhoneBasis } from '../domain/phone.js'
import { AppError } from '../errors.js'
import { maskPhone, maskPhoneNumbers } from '../logger.js'
import { checkEvidence, checkFields, checkLength, instant, type LastInstant } from './contact-fields.js'
import { readContactCsv, type ContactCsvUpload, type ContactRow } from './contact-csv.js'
import type { ConsentRecord } from './consent.js'

/**
 * An import's rows read and checked, in batches ready to write: each row of the upload
 * (src/services/contact-csv.ts) becomes a contact's fields and, when it holds a consent, the opt-in
 * with the subscriber's own evidence; or the reason its line is rejected. Pure apart from reading
 * the upload: no database, no clock of its own, no logging — which is what lets it run in the
 * import's reader thread (src/services/contact-import-reader.ts) while the service writes.
 */

/** Rows a batch holds (valid ones; rejected lines ride along): one transaction each. */
export const IMPORT_BATCH = 1000

export interface ImportItem {
  /** E.164. */
  phoneNumber: string
  /** Only the fields the row gives (undefined: leave as it is). */
  fields: { firstName: string | undefined, lastName: string | undefined, timezone: string | undefined, tags: string[] | undefined }
  /** The row's opt-in with the subscriber's own evidence (consentIp, consentUserAgent, consentAt). */
  consent: Pick<ConsentRecord, 'source' | 'text' | 'ip' | 'userAgent' | 'occurredAt' | 'undated'> | null
}

/** A number accepted on the NANP table alone, for the log: why (holds no digits). */
export interface NumberNote { phoneNumber: string, basis: PhoneBasis, why: string }

/** Rows read and checked but not yet written, and the rejections that go with them (reported once the batch is written). */
export interface ImportBatch {
  /** The first and the last line the batch holds, rows or rejections. */
  firstLine: number
  lastLine: number
  items: ImportItem[]
  rejected: Array<{ line: number, error: string }>
  /** When the batch was read, ISO-8601: the contacts' created_at / updated_at. */
  at: string
  notes: NumberNote[]
}

export type ImportReadEvent =
  | { kind: 'header', warnings: string[] }
  /** Full batches (IMPORT_BATCH rows) in line order, then the rest (unless there is none). */
  | { kind: 'batch', batch: ImportBatch }

/**
 * Reading stopped after the header row: `cause` is why (a 413, the upload failing, …). Every line
 * before `resumeFromLine` is in a batch already yielded; nothing at or after it is.
 */
export class ImportReadStopped extends Error {
  override name = 'ImportReadStopped'
  constructor (override readonly cause: unknown, readonly resumeFromLine: number) {
    super(`Reading stopped at line ${resumeFromLine}`)
  }
}

export interface ImportReadOptions {
  /** DEFAULT_COUNTRY: how numbers written without + are read. */
  defaultCountry: string
  /** The service's clock: a batch's time, and the bound for consentAt (not in the future). */
  now: () => Date
}

/** A value of the row, with an empty one read as absent. */
function given (value: string | undefined): string | undefined {
  return value === '' ? undefined : value
}

/** The tags of a `tags` cell ("vip; spring"): trimmed, empty ones dropped, each once, in order. */
function readTags (cell: string): string[] {
  const tags: string[] = []
  for (const part of cell.split(';')) {
    const tag = part.trim()
    if (tag !== '' && !tags.includes(tag)) tags.push(tag)
  }
  return tags
}

/**
 * One CSV row → the contact's fields and, when the row holds a consent, the opt-in with the
 * subscriber's own evidence: consentIp, consentUserAgent and consentAt are the person's, never the
 * uploader's (the upload's API key, request id and file name are recorded as who recorded it).
 * `number`: the phoneNumber cell, already read. `seen`: time zones already found valid in this
 * import (checking one costs an Intl lookup), the last consentAt read. Throws AppError (400) naming
 * the first field the row cannot hold.
 */
function parseImportRow (row: ContactRow, number: string, now: Date, seen: { zones: Set<string>, consentAt: LastInstant }): ImportItem {
  const firstName = given(row.firstName)
  const lastName = given(row.lastName)
  const timezone = given(row.timezone)
  const tagCell = given(row.tags)
  const tags = tagCell === undefined ? undefined : readTags(tagCell)
  checkLength(firstName, 200, 'firstName')
  checkLength(lastName, 200, 'lastName')
  checkLength(timezone, 64, 'timezone')
  if (tags !== undefined) {
    if (tags.length > 50) throw new AppError('BAD_REQUEST', 'tags holds more than 50 tags')
    for (const tag of tags) {
      checkLength(tag, 100, 'a tag')
      if (tag.includes(',')) throw new AppError('BAD_REQUEST', `tag "${tag}" contains a comma`)
    }
  }
  if (timezone !== undefined && !seen.zones.has(timezone)) {
    checkFields({ timezone })
    seen.zones.add(timezone)
  }
  // Only the fields the row gives: an update leaves the others as they are.
  const fields = { firstName, lastName, timezone, tags }
  const source = given(row.consentSource)
  const text = given(row.consentText)
  const ip = given(row.consentIp)
  const userAgent = given(row.consentUserAgent)
  const at = given(row.consentAt)
  if (source === undefined) {
    const stray = ip !== undefined ? 'consentIp' : userAgent !== undefined ? 'consentUserAgent' : at !== undefined ? 'consentAt' : null
    if (stray !== null) throw new AppError('BAD_REQUEST', `${stray} is evidence of a consent: give consentSource and consentText with it`)
    return { phoneNumber: number, fields, consent: null }
  }
  if (text === undefined) throw new AppError('BAD_REQUEST', 'consentText is required with consentSource: the exact disclosure the person agreed to')
  checkLength(source, 32, 'consentSource')
  checkLength(text, 4000, 'consentText')
  checkEvidence(ip, userAgent, { ip: 'consentIp', userAgent: 'consentUserAgent' })
  return {
    phoneNumber: number,
    fields,
    // No consentAt: the evidence cannot be shown to be newer than anything already in the ledger.
    consent: { source, text, ip: ip ?? null, userAgent: userAgent ?? null, occurredAt: instant(at, now, 'consentAt', seen.consentAt), undated: at === undefined }
  }
}

/**
 * The upload as a header event, then batches of checked rows in line order. A line is rejected with
 * its number when it is malformed, invalid (the number as libphonenumber-js reads it for a recipient,
 * or any other field), or repeats a phone number an earlier line of the file holds (the first one
 * is kept). Throws AppError before the header is read (400 no usable header, 415 charset, 413 too
 * large); after it, ImportReadStopped with the cause (a 413, or the upload's own error).
 */
export async function * readImportBatches (upload: ContactCsvUpload, options: ImportReadOptions): AsyncGenerator<ImportReadEvent> {
  // Phone numbers seen so far (keyed by their E.164 digits as a number: no string kept per row), with the line that holds each.
  const firstLineOf = new Map<number, number>()
  const seen = { zones: new Set<string>(), consentAt: { value: '', parsed: Number.NaN, iso: '' } }
  const newBatch = (): Omit<ImportBatch, 'firstLine'> & { firstLine: number | null, now: Date } => {
    const now = options.now()
    return { firstLine: null, lastLine: 0, items: [], rejected: [], at: now.toISOString(), notes: [], now }
  }
  const finished = ({ lastLine, items, rejected, at, notes }: ReturnType<typeof newBatch>, firstLine: number): ImportBatch => ({ firstLine, lastLine, items, rejected, at, notes })
  let batch = newBatch()
  /**
   * The full batch as an event, a new one begun. Called within `yield`, so that no local of this
   * generator holds the batch while the next one fills: a batch kept alive through the next would
   * survive two collections of the young generation, be copied by both and promoted to the old one.
   */
  const nextBatch = (): ImportReadEvent => {
    const full = batch
    batch = newBatch()
    return { kind: 'batch', batch: finished(full, full.firstLine!) }
  }
  let headerRead = false
  let lastLine = 0
  try {
    for await (const event of readContactCsv(upload)) {
      if (event.kind === 'header') {
        headerRead = true
        yield event
        continue
      }
      for (const entry of event.items) {
        lastLine = entry.line
        batch.firstLine ??= entry.line
        batch.lastLine = entry.line
        if ('error' in entry) {
          batch.rejected.push({ line: entry.line, error: entry.error })
          continue
        }
        let item: ImportItem
        try {
          const reading = mustReadPhoneNumber(entry.row.phoneNumber ?? '', 'phoneNumber', { defaultCountry: options.defaultCountry, use: 'recipient' })
          if (reading.note !== null) batch.notes.push({ phoneNumber: maskPhone(reading.e164), basis: reading.basis, why: reading.note })
          item = parseImportRow(entry.row, reading.e164, batch.now, seen)
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
        if (batch.items.length >= IMPORT_BATCH) yield nextBatch()
      }
    }
  } catch (error) {
    if (!headerRead) throw error
    throw new ImportReadStopped(error, batch.firstLine ?? lastLine + 1)
  }
  if (batch.firstLine !== null) yield { kind: 'batch', batch: finished(batch, batch.firstLine) }
}
