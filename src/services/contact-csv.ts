import { isAscii } from 'node:buffer'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import iconv from 'iconv-lite'
import { charsetFromBom, charsetFromLabel, utf16WithoutBom, utf8OrWindows1252, type SupportedCharset } from '../domain/charset.js'
import { IMPORT_COLUMNS, detectDelimiter, mapHeader, readSepLine, type ImportColumn } from '../domain/contact-csv.js'
import { CsvTokenizer, firstLineBreak, isBlankRecord, lineBreakLength } from '../domain/csv.js'
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

/**
 * `header`: the header row was read, with warnings about ignored columns and a guessed charset; when
 * the charset is guessed only after the header row (the file's first byte that is not ASCII comes
 * later), one more `header` event carries that warning alone, before the rows decoded with it.
 */
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

/** Bytes a charset is detected on (UTF-16 without a byte-order mark), when the file has as many. */
const SNIFF_BYTES = 1024
/**
 * Bytes, from the first one that is not ASCII, that UTF-8 or Windows-1252 is decided on when the file
 * has as many: a fixed span of the file, never what happens to have arrived, so however the upload
 * is cut into pieces the same file is decoded the same way.
 */
const CHARSET_DECISION_BYTES = 64 * 1024

/**
 * Decodes the upload's bytes as they come. The charset is the declared one, a byte-order mark's, or
 * detected: UTF-16 on the first SNIFF_BYTES; else, since ASCII reads the same in UTF-8 and
 * Windows-1252, the plain ASCII bytes are passed on as they come and the choice is taken on the
 * CHARSET_DECISION_BYTES that begin with the first other byte — wherever in the file that is. Every
 * byte is decoded once, by the charset chosen (or as ASCII before it).
 */
class UploadDecoder {
  charset: SupportedCharset | null
  /** How the charset was chosen: it is worth a warning only when it was a guess. */
  guessed = false
  private decoder: iconv.DecoderStream | null = null
  /** Bytes held until the charset can be decided: the file's first ones, or from its first byte that is not ASCII on. */
  private held: Buffer[] = []
  private heldBytes = 0
  /** Past the byte-order mark, the declared charset and UTF-16 detection: UTF-8 or Windows-1252 is left to decide. */
  private sniffed = false

  constructor (private readonly declared: SupportedCharset | null) {
    this.charset = declared
  }

  write (chunk: Buffer): string {
    if (this.decoder !== null) return this.decoder.write(chunk)
    return this.decode(chunk, false)
  }

  end (): string {
    const text = this.decoder === null ? this.decode(Buffer.alloc(0), true) : ''
    return text + (this.decoder?.end() ?? '')
  }

  private hold (chunk: Buffer): void {
    if (chunk.length === 0) return
    this.held.push(chunk)
    this.heldBytes += chunk.length
  }

  private takeHeld (): Buffer {
    const bytes = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes)
    this.held = []
    this.heldBytes = 0
    return bytes
  }

  private decode (chunk: Buffer, final: boolean): string {
    if (!this.sniffed) {
      this.hold(chunk)
      // A byte-order mark, when there is one, says what the file is (the WHATWG rule: it wins over a label).
      if (!final && this.heldBytes < (this.declared === null ? SNIFF_BYTES : 3)) return ''
      const bytes = this.takeHeld()
      this.sniffed = true
      const bom = charsetFromBom(bytes)
      if (bom !== null) return this.start(bom.charset, bytes)
      if (this.declared !== null) return this.start(this.declared, bytes)
      const utf16 = utf16WithoutBom(bytes)
      if (utf16 !== null) {
        this.guessed = true
        return this.start(utf16, bytes)
      }
      chunk = bytes
    }
    // UTF-8 or Windows-1252: plain ASCII is passed on until the first other byte.
    let text = ''
    if (this.heldBytes === 0) {
      if (isAscii(chunk)) return chunk.toString('latin1')
      let firstHigh = 0
      while (chunk[firstHigh]! < 0x80) firstHigh++
      text = chunk.toString('latin1', 0, firstHigh)
      chunk = chunk.subarray(firstHigh)
    }
    this.hold(chunk)
    // Decided on exactly CHARSET_DECISION_BYTES when more follow them, else on the rest of the file.
    if (!final && this.heldBytes <= CHARSET_DECISION_BYTES) return text
    const bytes = this.takeHeld()
    if (bytes.length === 0) return text
    const cut = bytes.length > CHARSET_DECISION_BYTES
    const choice = utf8OrWindows1252(cut ? bytes.subarray(0, CHARSET_DECISION_BYTES) : bytes, !cut) ?? 'utf-8'
    this.guessed = choice === 'windows-1252'
    return text + this.start(choice, bytes)
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
 * then `rows` in line order (with the late `header` of ContactCsvEvent among them when the charset
 * is guessed past the header row). Throws AppError: 415 for a charset it cannot decode, 400 when there is
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
  /** The warning about a guessed charset was given (it is given once, whenever the guess is taken). */
  let charsetWarned = false
  const charsetWarning = (): string =>
    `The file is not declared as UTF-8 and is not valid UTF-8: it was read as ${decoder.charset}; add "charset=…" to the Content-Type if that is wrong`

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
    tokenizer = new CsvTokenizer({ delimiter, maxRecordChars: MAX_RECORD_CHARS, firstLine, header: true })
    return tokenize(body, final)
  }

  function tokenize (text: string, final: boolean): ContactCsvEvent[] {
    const events: ContactCsvEvent[] = []
    const items: ContactCsvItem[] = []
    if (header !== null && decoder.guessed && !charsetWarned) {
      // Decided past the header row (see UploadDecoder): the warning comes before any row decoded by the guess.
      charsetWarned = true
      events.push({ kind: 'header', warnings: [charsetWarning()] })
    }
    const found = [...tokenizer!.push(text), ...(final ? tokenizer!.end() : [])]
    for (const item of found) {
      if (header === null) {
        if (item.kind === 'fault') throw headerError(`The header row (line ${item.line}) ${item.reason}`)
        // The tokenizer took the same record as the header (CsvTokenizerOptions.header).
        if (isBlankRecord(item.fields)) continue
        const mapped = useHeader(item.fields)
        header = { columns: mapped.columns, fieldCount: item.fields.length }
        events.push({ kind: 'header', warnings: mapped.warnings })
        continue
      }
      if (item.kind === 'fault') {
        items.push({ line: item.line, error: `The line ${item.reason}` })
        continue
      }
      if (isBlankRecord(item.fields)) continue
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
      charsetWarned = true
      warnings.push(charsetWarning())
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
