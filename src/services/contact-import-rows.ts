import { newId } from '../domain/ids.js'
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

/**
 * Rows read and checked but not yet written, and the rejections that go with them (reported once
 * the batch is written), as the reader builds it and posts it to the service's thread: its items as
 * one array per field, item i at index i of each (`packedItem` makes one an ImportItem). Structured
 * clone copies a dozen arrays of strings several times faster than a thousand objects of a dozen
 * properties each, on both sides (measured: 100,000 items serialized in ~90 ms instead of ~170, read
 * back in ~30 instead of ~180), and neither thread allocates an object per row.
 */
export interface PackedBatch {
  /** The first and the last line the batch holds, rows or rejections. */
  firstLine: number
  lastLine: number
  rejected: Array<{ line: number, error: string }>
  /** When the batch was read, ISO-8601: the contacts' created_at / updated_at. */
  at: string
  notes: NumberNote[]
  /**
   * Ids made here for item i's contact and its consent event (UUIDv7, src/domain/ids.ts), used if the
   * number is new to the service; the service's thread then has none to make (the event id is null
   * when the row holds no consent).
   */
  contactIds: string[]
  consentIds: Array<string | null>
  phoneNumbers: string[]
  firstNames: Array<string | undefined>
  lastNames: Array<string | undefined>
  timezones: Array<string | undefined>
  /** How many of `tags`, in order, are item i's; -1 when its row gives no tags (tags undefined). */
  tagCounts: number[]
  tags: string[]
  /** Item i's consent source, or null when it holds no consent (the other consent arrays then hold null, and false). */
  consentSources: Array<string | null>
  consentTexts: Array<string | null>
  consentIps: Array<string | null>
  consentUserAgents: Array<string | null>
  consentOccurredAt: Array<string | null>
  consentUndated: boolean[]
}

export type PackedReadEvent =
  /** The header row's warnings; a later one carries the charset warning alone when the charset was guessed past the header row (ContactCsvEvent). */
  | { kind: 'header', warnings: string[] }
  | { kind: 'batch', batch: PackedBatch }

/** Where item i's tags start in a packed batch's `tags` (entry i), and where they end (entry i + 1). */
export function tagStarts (packed: PackedBatch): Int32Array {
  const start = new Int32Array(packed.tagCounts.length + 1)
  for (let i = 0; i < packed.tagCounts.length; i++) start[i + 1] = start[i]! + Math.max(packed.tagCounts[i]!, 0)
  return start
}

/** Item i of a packed batch as an object of its own (its tags array its own); `tagStart`: tagStarts(packed). */
export function packedItem (packed: PackedBatch, i: number, tagStart: ArrayLike<number>): ImportItem {
  const source = packed.consentSources[i]!
  return {
    phoneNumber: packed.phoneNumbers[i]!,
    fields: {
      firstName: packed.firstNames[i],
      lastName: packed.lastNames[i],
      timezone: packed.timezones[i],
      tags: packed.tagCounts[i]! < 0 ? undefined : packed.tags.slice(tagStart[i], tagStart[i + 1])
    },
    consent: source === null
      ? null
      : { source, text: packed.consentTexts[i]!, ip: packed.consentIps[i]!, userAgent: packed.consentUserAgents[i]!, occurredAt: packed.consentOccurredAt[i]!, undated: packed.consentUndated[i]! }
  }
}

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

/** A value of the row, with an empty one (or one of spaces only) read as absent: the row leaves that field as it is. */
function given (value: string | undefined): string | undefined {
  return value === undefined || value === '' || value.trim() === '' ? undefined : value
}

/**
 * What one import has read so far that later rows repeat. Most rows of a file repeat the row before
 * them in time zone, tags and consent (source, text, date), so each is compared with the last one
 * read (cheaper than looking it up) and, when equal, the row takes the string read before it: a
 * batch then holds one string for a run of equal values rather than one per row (each a slice of
 * the decoded piece of the upload it was read from, keeping that piece alive), and a run of equal
 * `tags` cells is split and checked once. The time zones found valid are kept (checking one costs
 * an Intl lookup).
 */
class ImportValues {
  readonly consentAt: LastInstant = { value: '', parsed: Number.NaN, iso: '' }
  readonly source = new LastValue()
  readonly text = new LastValue()
  /** Valid time zones, each a string of its own (see `detached`): a file names a few hundred at most. */
  private readonly zones = new Set<string>()
  private lastZone = ''
  private lastCell = ''
  private lastTags: TagCell = { tags: [], error: null }

  /** `timezone`, or the equal string read before it, once it is known to be an IANA time zone: 400 INVALID_TIME_ZONE otherwise (checkFields). */
  zone (timezone: string): string {
    if (timezone === this.lastZone) return this.lastZone
    if (!this.zones.has(timezone)) {
      checkFields({ timezone })
      this.zones.add(detached(timezone))
    }
    this.lastZone = timezone
    return timezone
  }

  /** The tags a `tags` cell holds, checked (readTags). */
  tags (cell: string): TagCell {
    if (cell === this.lastCell) return this.lastTags
    const verdict = readTags(cell)
    this.lastCell = cell
    this.lastTags = verdict
    return verdict
  }
}

/** The last value of a field: a value equal to it is answered with it. */
class LastValue {
  private last = ''

  /** `value`, or the equal string read just before it. */
  share (value: string): string {
    if (value === this.last) return this.last
    this.last = value
    return value
  }
}

/**
 * A copy of `value` that is a string of its own. A value cut from a larger string (a field of the
 * decoded upload) may be kept by the engine as a slice of it, holding all of it; a JSON round trip
 * builds a new string with the same characters (lone surrogates included).
 */
function detached (value: string): string {
  return JSON.parse(JSON.stringify(value)) as string
}

/** A `tags` cell read: its tags, or why the row cannot hold them (the message of a 400). */
type TagCell = { tags: readonly string[], error: null } | { tags: null, error: string }

/**
 * The tags of a `tags` cell ("vip; spring"): trimmed, empty ones dropped, each once, in order; or
 * the first reason they cannot be a contact's tags (more than 50, one longer than 100 characters or
 * holding a comma: the limits POST /contacts applies).
 */
function readTags (cell: string): TagCell {
  const tags: string[] = []
  for (const part of cell.split(';')) {
    const tag = part.trim()
    if (tag !== '' && !tags.includes(tag)) tags.push(tag)
  }
  if (tags.length > 50) return { tags: null, error: 'tags holds more than 50 tags' }
  for (const tag of tags) {
    if (tag.length > 100) return { tags: null, error: 'a tag is longer than 100 characters' }
    if (tag.includes(',')) return { tags: null, error: `tag "${tag}" contains a comma` }
  }
  return { tags, error: null }
}

/**
 * A row's values once checked: what `readRow` fills for one row at a time (one object for the
 * whole import, so reading a row allocates none), copied into the batch if the row is kept.
 */
interface RowValues {
  firstName: string | undefined
  lastName: string | undefined
  timezone: string | undefined
  /** Shared between rows (from ImportValues.tags): copied, never handed out. */
  tags: readonly string[] | undefined
  /** null: the row holds no consent (the other consent values are then null). */
  source: string | null
  text: string | null
  ip: string | null
  userAgent: string | null
  occurredAt: string | null
  undated: boolean
}

/**
 * One CSV row → the contact's fields and, when the row holds a consent, the opt-in with the
 * subscriber's own evidence: consentIp, consentUserAgent and consentAt are the person's, never the
 * uploader's (the upload's API key, request id and file name are recorded as who recorded it).
 * Only the fields the row gives are set (undefined: an update leaves the field as it is). Written
 * into `out`; `now`, `at`: the batch's time, and as ISO-8601. Throws AppError (400) naming the first
 * field the row cannot hold, having written into `out` what it had read.
 */
function readRow (row: ContactRow, now: Date, at: string, values: ImportValues, out: RowValues): void {
  const firstName = given(row.firstName)
  const lastName = given(row.lastName)
  const timezone = given(row.timezone)
  const tagCell = given(row.tags)
  checkLength(firstName, 200, 'firstName')
  checkLength(lastName, 200, 'lastName')
  checkLength(timezone, 64, 'timezone')
  let tags: readonly string[] | undefined
  if (tagCell !== undefined) {
    const cell = values.tags(tagCell)
    if (cell.error !== null) throw new AppError('BAD_REQUEST', cell.error)
    tags = cell.tags
  }
  const zone = timezone === undefined ? undefined : values.zone(timezone)
  out.firstName = firstName
  out.lastName = lastName
  out.timezone = zone
  out.tags = tags
  const source = given(row.consentSource)
  const text = given(row.consentText)
  const ip = given(row.consentIp)
  const userAgent = given(row.consentUserAgent)
  const consentAt = given(row.consentAt)
  if (source === undefined) {
    const stray = ip !== undefined ? 'consentIp' : userAgent !== undefined ? 'consentUserAgent' : consentAt !== undefined ? 'consentAt' : null
    if (stray !== null) throw new AppError('BAD_REQUEST', `${stray} is evidence of a consent: give consentSource and consentText with it`)
    out.source = out.text = out.ip = out.userAgent = out.occurredAt = null
    out.undated = false
    return
  }
  if (text === undefined) throw new AppError('BAD_REQUEST', 'consentText is required with consentSource: the exact disclosure the person agreed to')
  checkLength(source, 32, 'consentSource')
  checkLength(text, 4000, 'consentText')
  checkEvidence(ip, userAgent, { ip: 'consentIp', userAgent: 'consentUserAgent' })
  // No consentAt: the evidence cannot be shown to be newer than anything already in the ledger (dated now, as `instant` does).
  out.occurredAt = consentAt === undefined ? at : instant(consentAt, now, 'consentAt', values.consentAt)
  out.source = values.source.share(source)
  out.text = values.text.share(text)
  out.ip = ip ?? null
  out.userAgent = userAgent ?? null
  out.undated = consentAt === undefined
}

/** Adds a kept row to the batch (see PackedBatch). */
function pushItem (batch: Omit<PackedBatch, 'firstLine'>, phoneNumber: string, row: RowValues): void {
  batch.contactIds.push(newId())
  batch.consentIds.push(row.source === null ? null : newId())
  batch.phoneNumbers.push(phoneNumber)
  batch.firstNames.push(row.firstName)
  batch.lastNames.push(row.lastName)
  batch.timezones.push(row.timezone)
  const tags = row.tags
  if (tags === undefined) {
    batch.tagCounts.push(-1)
  } else {
    batch.tagCounts.push(tags.length)
    for (let i = 0; i < tags.length; i++) batch.tags.push(tags[i]!)
  }
  batch.consentSources.push(row.source)
  batch.consentTexts.push(row.text)
  batch.consentIps.push(row.ip)
  batch.consentUserAgents.push(row.userAgent)
  batch.consentOccurredAt.push(row.occurredAt)
  batch.consentUndated.push(row.undated)
}

/**
 * The upload as a header event, then batches of checked rows in line order. A line is rejected with
 * its number when it is malformed, invalid (the number as libphonenumber-js reads it for a recipient,
 * or any other field), or repeats a phone number an earlier line of the file holds (the first one
 * is kept). Throws AppError before the header is read (400 no usable header, 415 charset, 413 too
 * large); after it, ImportReadStopped with the cause (a 413, or the upload's own error). Full
 * batches hold IMPORT_BATCH rows; the last holds the rest (none when there is none).
 */
export async function * readPackedBatches (upload: ContactCsvUpload, options: ImportReadOptions): AsyncGenerator<PackedReadEvent> {
  // Phone numbers seen so far (keyed by their E.164 digits as a number: no string kept per row), with the line that holds each.
  const firstLineOf = new Map<number, number>()
  const values = new ImportValues()
  /** The batch being filled: `firstLine` null until it holds a line; `now`, the clock when it was begun. */
  type Filling = Omit<PackedBatch, 'firstLine'> & { firstLine: number | null, now: Date }
  const newBatch = (): Filling => {
    const now = options.now()
    return {
      firstLine: null,
      lastLine: 0,
      rejected: [],
      at: now.toISOString(),
      notes: [],
      contactIds: [],
      consentIds: [],
      phoneNumbers: [],
      firstNames: [],
      lastNames: [],
      timezones: [],
      tagCounts: [],
      tags: [],
      consentSources: [],
      consentTexts: [],
      consentIps: [],
      consentUserAgents: [],
      consentOccurredAt: [],
      consentUndated: [],
      now
    }
  }
  const finished = ({ firstLine, now, ...rest }: Filling): PackedReadEvent => ({ kind: 'batch', batch: { firstLine: firstLine!, ...rest } })
  let batch = newBatch()
  /**
   * The full batch as an event, a new one begun. Called within `yield`, so that no local of this
   * generator holds the batch while the next one fills: a batch kept alive through the next would
   * survive two collections of the young generation, be copied by both and promoted to the old one.
   */
  const nextBatch = (): PackedReadEvent => {
    const full = batch
    batch = newBatch()
    return finished(full)
  }
  const row: RowValues = { firstName: undefined, lastName: undefined, timezone: undefined, tags: undefined, source: null, text: null, ip: null, userAgent: null, occurredAt: null, undated: false }
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
        let phoneNumber: string
        try {
          const reading = mustReadPhoneNumber(entry.row.phoneNumber ?? '', 'phoneNumber', { defaultCountry: options.defaultCountry, use: 'recipient' })
          if (reading.note !== null) batch.notes.push({ phoneNumber: maskPhone(reading.e164), basis: reading.basis, why: reading.note })
          phoneNumber = reading.e164
          readRow(entry.row, batch.now, batch.at, values, row)
        } catch (error) {
          if (!(error instanceof AppError)) throw error
          batch.rejected.push({ line: entry.line, error: maskPhoneNumbers(error.message) })
          continue
        }
        // E.164 digits as an integer ('+' read as the sign).
        const key = Number(phoneNumber)
        const first = firstLineOf.get(key)
        if (first !== undefined) {
          batch.rejected.push({ line: entry.line, error: `phoneNumber ${maskPhone(phoneNumber)} repeats line ${first} of this file, which is the one imported` })
          continue
        }
        firstLineOf.set(key, entry.line)
        pushItem(batch, phoneNumber, row)
        if (batch.phoneNumbers.length >= IMPORT_BATCH) yield nextBatch()
      }
    }
  } catch (error) {
    if (!headerRead) throw error
    throw new ImportReadStopped(error, batch.firstLine ?? lastLine + 1)
  }
  if (batch.firstLine !== null) yield finished(batch)
}
