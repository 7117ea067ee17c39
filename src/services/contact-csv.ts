import { isAscii } from 'node:buffer'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import iconv from 'iconv-lite'
import { charsetFromBom, charsetFromLabel, utf16WithoutBom, utf8OrWindows1252, type SupportedCharset } from '../domain/charset.js'
import { IMPORT_COLUMNS, detectDelimiter, mapHeader, readSepLine, type ImportColumn } from '../domain/contact-csv.js'
import { CsvTokenizer, firstLineBreak, lineBreakLength } from '../domain/csv.js'
import { describeTextFault, findTextFault } from '../domain/text.js'
import { AppError } from '../errors.js'
import { maskPhoneNumbers } from '../logger.js'

/**
 * Reads a contacts CSV upload as it streams in: decodes it (declared charset, byte-order mark, or
 * detection), finds its delimiter and header, and yields its rows by line number — each either the
 * row's values by contact field, or the reason the line is rejected. Never holds more than one
 * chunk of the upload and one record; never blocks the event loop for more than one 1 MiB slice.
 */

/** Longest record accepted, in characters: a contact row is a few hundred; consent text is at most 4,000. */
export const MAX_RECORD_CHARS = 64 * 1024
/** Decoded and tokenized at most this much at a time, yielding to other requests in between. */
const SLICE_BYTES = 1024 * 1024

/** A row's values by contact field (IMPORT_COLUMNS); fields the file has no column for are undefined. */
export type ContactRow = { [column in ImportColumn]: string | undefined }

/** Every row has every field, so every row object has the same shape (cheaper for the engine to read and write). */
function emptyRow (): ContactRow {
  return { phoneNumber: undefined, firstName: undefined, lastName: undefined, tags: undefined, timezone: undefined, consentSource: undefined, consentText: undefined, consentAt: undefined, consentIp: undefined, consentUserAgent: undefined }
}

/** True when every character is printable ASCII or a tab (most values): nothing for the text checks to find. */
function plainAscii (value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if ((code < 0x20 && code !== 0x09) || code >= 0x7f) return false
  }
  return true
}

export type ContactCsvItem =
  | { line: number, row: ContactRow }
  | { line: number, error: string }

export type ContactCsvEvent =
  | { kind: 'header', warnings: string[] }
  | { kind: 'rows', items: ContactCsvItem[] }

export interface ContactCsvUpload {
  /** The upload's bytes as they arrive (chunks of any size; strings are UTF-8). */
  stream: AsyncIterable<Buffer | string>
  /** The charset parameter of the request's Content-Type, if any. */
  charset?: string | undefined
  /** Largest upload accepted, in bytes. */
  maxBytes: number
}

/** A short, safe rendering of a value from the file for a message: numbers masked, length bounded. */
export function quoteValue (value: string): string {
  const clipped = value.length > 40 ? `${value.slice(0, 40)}…` : value
  return JSON.stringify(maskPhoneNumbers(clipped))
}

/** Decodes the upload's bytes as they come, deciding the charset from the first ones. */
class UploadDecoder {
  charset: SupportedCharset | null
  /** How the charset was chosen: it is worth a warning only when it was a guess. */
  guessed = false
  private decoder: iconv.DecoderStream | null = null
  private head: Buffer = Buffer.alloc(0)

  constructor (declared: SupportedCharset | null) {
    this.charset = declared
  }

  write (chunk: Buffer): string {
    return this.decode(chunk, false)
  }

  end (): string {
    const text = this.decode(Buffer.alloc(0), true)
    return text + (this.decoder?.end() ?? '')
  }

  private decode (chunk: Buffer, final: boolean): string {
    if (this.decoder !== null) return this.decoder.write(chunk)
    const bytes = this.head.length > 0 ? Buffer.concat([this.head, chunk]) : chunk
    this.head = Buffer.alloc(0)
    // A byte-order mark, when there is one, says what the file is (the WHATWG rule: it wins over a label).
    if (bytes.length < 3 && !final) {
      this.head = bytes
      return ''
    }
    const bom = charsetFromBom(bytes)
    if (bom !== null) return this.start(bom.charset, bytes)
    if (this.charset !== null) return this.start(this.charset, bytes)
    if (bytes.length < 64 && !final) {
      this.head = bytes
      return ''
    }
    const utf16 = utf16WithoutBom(bytes)
    if (utf16 !== null) {
      this.guessed = true
      return this.start(utf16, bytes)
    }
    // UTF-8 or Windows-1252: plain ASCII reads the same in both, so the choice waits for the first other byte.
    if (isAscii(bytes)) return bytes.toString('latin1')
    const choice = utf8OrWindows1252(bytes, final)
    if (choice === null) {
      let firstHigh = 0
      while (bytes[firstHigh]! < 0x80) firstHigh++
      this.head = bytes.subarray(firstHigh)
      return bytes.toString('latin1', 0, firstHigh)
    }
    this.guessed = choice === 'windows-1252'
    return this.start(choice, bytes)
  }

  private start (charset: SupportedCharset, bytes: Buffer): string {
    this.charset = charset
    this.decoder = iconv.getDecoder(charset, { stripBOM: true })
    return this.decoder.write(bytes)
  }
}

/** Why the header row cannot be used, as a 400 a person can act on. */
function headerError (message: string): AppError {
  return new AppError('BAD_REQUEST', message)
}

const FIELDS = IMPORT_COLUMNS.join(', ')

/**
 * The upload as events: first `header` (with warnings about ignored columns or a guessed charset),
 * then `rows` in line order. Throws AppError: 415 for a charset it cannot decode, 400 when there is
 * no usable header row, 413 (FST_ERR_CTP_BODY_TOO_LARGE) past `maxBytes` — possibly after rows
 * were yielded, which the caller must account for.
 */
export async function * readContactCsv (upload: ContactCsvUpload): AsyncGenerator<ContactCsvEvent> {
  let declared: SupportedCharset | null = null
  if (upload.charset !== undefined) {
    declared = charsetFromLabel(upload.charset)
    if (declared === null) {
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', `charset ${quoteValue(upload.charset)} is not supported: send UTF-8, UTF-16 or Windows-1252`)
    }
  }
  const decoder = new UploadDecoder(declared)
  let bytes = 0
  let pending = ''
  let tokenizer: CsvTokenizer | null = null
  let header: { columns: Array<ImportColumn | null>, fieldCount: number } | null = null
  let delimiter = ','

  /** Decoded text until the header line is complete; then the tokenizer takes over. */
  function start (text: string, final: boolean): ContactCsvEvent[] {
    pending += text
    let firstLine = 1
    let body = pending
    let end = firstLineBreak(body)
    if (end === -1 && !final) {
      if (body.length > MAX_RECORD_CHARS) throw headerError(`The header row is longer than ${MAX_RECORD_CHARS} characters: is this a CSV file?`)
      return []
    }
    const sep = readSepLine(end === -1 ? body : body.slice(0, end))
    if (sep !== null) {
      delimiter = sep
      body = body.slice(end === -1 ? body.length : end + lineBreakLength(body, end))
      firstLine = 2
      end = firstLineBreak(body)
      if (end === -1 && !final) return []
    } else {
      delimiter = detectDelimiter(end === -1 ? body : body.slice(0, end))
    }
    pending = ''
    tokenizer = new CsvTokenizer({ delimiter, maxRecordChars: MAX_RECORD_CHARS, firstLine })
    return tokenize(body, final)
  }

  function tokenize (text: string, final: boolean): ContactCsvEvent[] {
    const events: ContactCsvEvent[] = []
    const items: ContactCsvItem[] = []
    const found = [...tokenizer!.push(text), ...(final ? tokenizer!.end() : [])]
    for (const item of found) {
      if (header === null) {
        if (item.kind === 'fault') throw headerError(`The header row (line ${item.line}) ${item.reason}`)
        if (item.fields.every((name) => name === '')) continue
        const mapped = useHeader(item.fields)
        header = { columns: mapped.columns, fieldCount: item.fields.length }
        tokenizer!.expectedFields = item.fields.length
        events.push({ kind: 'header', warnings: mapped.warnings })
        continue
      }
      if (item.kind === 'fault') {
        items.push({ line: item.line, error: `The line ${item.reason}` })
        continue
      }
      if (item.fields.every((value) => value === '')) continue
      items.push(toRow(item.line, item.fields, header))
    }
    if (items.length > 0) events.push({ kind: 'rows', items })
    return events
  }

  function useHeader (names: string[]): { columns: Array<ImportColumn | null>, warnings: string[] } {
    const mapped = mapHeader(names)
    if (mapped.conflicts.length > 0) {
      const { column, positions } = mapped.conflicts[0]!
      throw headerError(`Columns ${positions.map((p) => `${p} (${quoteValue(names[p - 1]!)})`).join(' and ')} all hold ${column}: keep one of them`)
    }
    if (!mapped.columns.includes('phoneNumber')) {
      if (names.some((name) => /\d{6}/.test(name.replace(/\D/g, '')))) {
        throw headerError(`The first line looks like data, not a header row: add a header row naming the columns (${FIELDS}); phoneNumber is required`)
      }
      const shown = names.slice(0, 10).map(quoteValue).join(', ')
      throw headerError(`The CSV header row must include a phoneNumber column (or "Phone", "Mobile", "Phone Number"); it has ${shown}${names.length > 10 ? ', …' : ''}`)
    }
    const warnings = mapped.unknown.slice(0, 20).map(({ position, name }) =>
      `Column ${position} (${quoteValue(name)}) is not a contact field and was ignored; the fields are ${FIELDS}`)
    if (mapped.unknown.length > 20) warnings.push(`${mapped.unknown.length - 20} more columns were ignored`)
    if (decoder.guessed) {
      warnings.push(`The file is not declared as UTF-8 and is not valid UTF-8: it was read as ${decoder.charset}; add "charset=…" to the Content-Type if that is wrong`)
    }
    return { columns: mapped.columns, warnings }
  }

  function toRow (line: number, fields: string[], known: { columns: Array<ImportColumn | null>, fieldCount: number }): ContactCsvItem {
    if (fields.length !== known.fieldCount) {
      return { line, error: `The line has ${fields.length} fields where the header has ${known.fieldCount}; a value holding "${delimiter === '\t' ? '\\t' : delimiter}" must be quoted` }
    }
    const row = emptyRow()
    for (let i = 0; i < fields.length; i++) {
      const column = known.columns[i]
      if (column === null || column === undefined) continue
      const value = fields[i]!
      if (plainAscii(value)) {
        row[column] = value
        continue
      }
      const fault = findTextFault(value)
      if (fault !== null) return { line, error: describeTextFault(column, fault) }
      if (value.includes('\uFFFD')) {
        return { line, error: `${column} holds bytes that are not valid ${decoder.charset ?? 'text'}: save the file as UTF-8, or declare its charset in the Content-Type` }
      }
      row[column] = value
    }
    return { line, row }
  }

  const feed = (text: string, final: boolean): ContactCsvEvent[] => tokenizer === null ? start(text, final) : tokenize(text, final)

  for await (const chunk of upload.stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
    for (let offset = 0; offset < buffer.length; offset += SLICE_BYTES) {
      const slice = buffer.subarray(offset, offset + SLICE_BYTES)
      bytes += slice.length
      if (bytes > upload.maxBytes) {
        throw new AppError('FST_ERR_CTP_BODY_TOO_LARGE', `The file is larger than ${upload.maxBytes} bytes: split it into several imports`)
      }
      yield * feed(decoder.write(slice), false)
      if (offset + SLICE_BYTES < buffer.length) await yieldToEventLoop()
    }
  }
  yield * feed(decoder.end(), true)
  if (header === null) throw headerError(`The CSV is empty: it needs a header row naming its columns (${FIELDS}); phoneNumber is required`)
}
