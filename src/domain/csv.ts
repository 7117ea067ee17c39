/**
 * An incremental CSV tokenizer (RFC 4180, plus what spreadsheets write: `;` or tab delimiters, CRLF,
 * LF or CR line ends, spaces around quoted fields) that survives malformed input line by line.
 *
 * Why not csv-parse, which the service otherwise would use: after a malformed quote csv-parse either
 * stops (fatal error) or, with `skip_records_with_error`, stays inside the "quoted field" and swallows
 * the lines after it; after `max_record_size` it drops the rest of the chunk; and its line-ending
 * detection scans a long first line slowly (a 5 MB line took 3 s). An import must instead reject the
 * malformed line *by its number* and carry on with the next one, in bounded time and memory:
 *
 * - a record is one physical line, or several when a quoted field holds line breaks; it is accepted
 *   only if it is well formed, and a multi-line record only if it has the header's number of fields;
 * - anything else (a quote inside an unquoted field, text after a closing quote, a quote never
 *   closed, a record longer than `maxRecordChars`) is a fault *of the line the record started on*:
 *   that line is reported and tokenizing resumes at the next physical line, so a stray quote costs
 *   exactly one line;
 * - a line longer than `maxRecordChars` is skipped without being held in memory.
 *
 * Unquoted fields are trimmed; quoted fields are kept exactly, with `""` read as `"`.
 * Pure: no I/O; `push` returns what the text completed, `end` flushes the rest.
 */

export type CsvItem =
  /** `line`: the 1-based physical line the record starts on; `lines`: how many it spans. */
  | { kind: 'record', line: number, lines: number, fields: string[] }
  | { kind: 'fault', line: number, reason: string }

export interface CsvTokenizerOptions {
  /** One character: `,`, `;` or `\t`. */
  delimiter: string
  /** Longest record accepted, in characters (line breaks included). */
  maxRecordChars: number
  /** Number of the first line pushed (default 1), when lines before it were read by the caller. */
  firstLine?: number
  /**
   * The first record that is not blank (isBlankRecord) is the header: its field count becomes
   * `expectedFields` before the record after it is read, so how the text is cut into pushes
   * cannot change what the records after the header are.
   */
  header?: boolean
}

type Step =
  | { kind: 'record', fields: string[], next: number, breaks: number }
  | { kind: 'fault', reason: string }
  | { kind: 'more' }

const QUOTE = 34 // "
const LF = 10
const CR = 13
const SPACE = 32
const TAB = 9

export class CsvTokenizer {
  /** Fields the header has; a record spanning several lines must have as many (null: not known yet). */
  expectedFields: number | null = null
  private readonly delimiter: string
  private readonly delimiterCode: number
  private readonly maxRecordChars: number
  /** The header is still to come (options.header): the next record that is not blank sets expectedFields. */
  private awaitingHeader: boolean
  private buffer = ''
  /** Physical line number of buffer[0]. */
  private line = 1
  /** Discarding the rest of an over-long line. */
  private skipping = false
  private final = false
  // LF, CR, `"` and the delimiter, found in the buffer: searching afresh from every line or field
  // would rescan the whole buffer each time when the character does not occur.
  private readonly nextLf = new NextOf('\n')
  private readonly nextCr = new NextOf('\r')
  private readonly nextQuote = new NextOf('"')
  private readonly nextDelimiter: NextOf

  constructor (options: CsvTokenizerOptions) {
    if (options.delimiter.length !== 1) throw new Error('delimiter must be one character')
    this.delimiter = options.delimiter
    this.delimiterCode = options.delimiter.charCodeAt(0)
    this.nextDelimiter = new NextOf(options.delimiter)
    this.maxRecordChars = options.maxRecordChars
    this.line = options.firstLine ?? 1
    this.awaitingHeader = options.header === true
  }

  /** Feeds more decoded text; returns the records and faults it completed, in order. */
  push (text: string): CsvItem[] {
    if (this.skipping) text = this.skipLine(text)
    this.buffer = this.buffer.length === 0 ? text : this.buffer + text
    return this.drain()
  }

  /** End of input: returns what remains (a last line without a line break, an unclosed quote's fault). */
  end (): CsvItem[] {
    this.final = true
    const items = this.drain()
    this.buffer = ''
    return items
  }

  /** The physical line the next record will start on (for callers reporting a failure mid-file). */
  get currentLine (): number {
    return this.line
  }

  /** Drops text up to and including the next line break; stays in skipping mode if there is none. */
  private skipLine (text: string): string {
    const end = firstLineBreak(text)
    if (end === -1) return ''
    this.skipping = false
    this.line++
    return text.slice(end + lineBreakLength(text, end))
  }

  private drain (): CsvItem[] {
    const items: CsvItem[] = []
    this.nextLf.forget()
    this.nextCr.forget()
    this.nextQuote.forget()
    this.nextDelimiter.forget()
    let start = 0
    const text = this.buffer
    while (start < text.length) {
      const step = this.record(text, start)
      if (step.kind === 'record') {
        if (step.next - start > this.maxRecordChars) {
          items.push({ kind: 'fault', line: this.line, reason: `is longer than ${this.maxRecordChars} characters` })
          start = this.resync(text, start)
          continue
        }
        if (step.breaks > 0 && this.expectedFields !== null && step.fields.length !== this.expectedFields) {
          // A quote left open on this line swallowed the lines after it: report this line alone.
          items.push({ kind: 'fault', line: this.line, reason: 'opens a quoted field that runs over several lines and does not fit the header; check its quotes' })
          start = this.resync(text, start)
          continue
        }
        items.push({ kind: 'record', line: this.line, lines: step.breaks + 1, fields: step.fields })
        if (this.awaitingHeader && !isBlankRecord(step.fields)) {
          this.awaitingHeader = false
          this.expectedFields = step.fields.length
        }
        this.line += step.breaks + (step.next > start && this.endsWithBreak(text, step.next) ? 1 : 0)
        start = step.next
        continue
      }
      if (step.kind === 'fault') {
        items.push({ kind: 'fault', line: this.line, reason: step.reason })
        start = this.resync(text, start)
        continue
      }
      // More text is needed to finish the record.
      if (text.length - start > this.maxRecordChars) {
        items.push({ kind: 'fault', line: this.line, reason: `is longer than ${this.maxRecordChars} characters` })
        start = this.resync(text, start)
        continue
      }
      break
    }
    this.buffer = text.slice(start)
    return items
  }

  private endsWithBreak (text: string, next: number): boolean {
    const previous = text.charCodeAt(next - 1)
    return previous === LF || previous === CR
  }

  /**
   * Resumes after the first physical line of the record at `start`: that line is the one reported.
   * When its end is not in the buffer yet, the rest of the line is skipped as it arrives.
   */
  private resync (text: string, start: number): number {
    const end = this.lineEnd(text, start)
    if (end === -1) {
      this.skipping = !this.final
      return text.length
    }
    this.line++
    return end + lineBreakLength(text, end)
  }

  private lineEnd (text: string, from: number): number {
    const lf = this.nextLf.find(text, from)
    const cr = this.nextCr.find(text, from)
    return lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr)
  }

  private quoteFrom (text: string, from: number): number {
    return this.nextQuote.find(text, from)
  }

  private isBlank (code: number): boolean {
    return code === SPACE || (code === TAB && this.delimiterCode !== TAB)
  }

  /** Tokenizes the record starting at `start`. */
  private record (text: string, start: number): Step {
    const end = this.lineEnd(text, start)
    if (end === -1 && !this.final) return { kind: 'more' }
    // A CR as the buffer's last character may be the first half of a CRLF.
    if (end !== -1 && !this.final && end === text.length - 1 && text.charCodeAt(end) === CR) return { kind: 'more' }
    const stop = end === -1 ? text.length : end
    const next = end === -1 ? text.length : end + lineBreakLength(text, end)
    const quote = this.quoteFrom(text, start)
    if (quote === -1 || quote >= stop) {
      // The common case: no quote on the line, so its fields are what lies between delimiters.
      if (stop - start > this.maxRecordChars) return { kind: 'record', fields: [], next, breaks: 0 }
      const fields = text.slice(start, stop).split(this.delimiter)
      for (let i = 0; i < fields.length; i++) {
        const field = fields[i]!
        if (field.length > 0 && (this.isBlank(field.charCodeAt(0)) || this.isBlank(field.charCodeAt(field.length - 1)))) fields[i] = this.trim(field)
      }
      return { kind: 'record', fields, next, breaks: 0 }
    }
    return this.quotedRecord(text, start)
  }

  private trim (field: string): string {
    let a = 0
    let b = field.length
    while (a < b && this.isBlank(field.charCodeAt(a))) a++
    while (b > a && this.isBlank(field.charCodeAt(b - 1))) b--
    return field.slice(a, b)
  }

  /** Field by field, for a record with at least one quote. */
  private quotedRecord (text: string, start: number): Step {
    const fields: string[] = []
    let breaks = 0
    let p = start
    for (;;) {
      let q = p
      while (q < text.length && this.isBlank(text.charCodeAt(q))) q++
      if (q < text.length && text.charCodeAt(q) === QUOTE) {
        // Quoted field: up to the quote that is not doubled.
        let value = ''
        let from = q + 1
        let r: number
        for (;;) {
          const k = text.indexOf('"', from)
          if (k === -1 || (k === text.length - 1 && !this.final)) {
            if (!this.final) return { kind: 'more' }
            return { kind: 'fault', reason: 'opens a quote that is never closed' }
          }
          if (text.charCodeAt(k + 1) === QUOTE) {
            value += text.slice(from, k + 1)
            from = k + 2
            continue
          }
          value += text.slice(from, k)
          r = k + 1
          break
        }
        // Most quoted fields hold no line break: the next one in the text lies past the field.
        const lineBreak = this.lineEnd(text, q + 1)
        if (lineBreak !== -1 && lineBreak < r - 1) breaks += countBreaks(text, lineBreak, r - 1)
        while (r < text.length && this.isBlank(text.charCodeAt(r))) r++
        if (r >= text.length) {
          if (!this.final) return { kind: 'more' }
          fields.push(value)
          return { kind: 'record', fields, next: r, breaks }
        }
        const c = text.charCodeAt(r)
        if (c === this.delimiterCode) {
          fields.push(value)
          p = r + 1
          continue
        }
        if (c === LF || c === CR) {
          if (c === CR && r === text.length - 1 && !this.final) return { kind: 'more' }
          fields.push(value)
          return { kind: 'record', fields, next: r + lineBreakLength(text, r), breaks }
        }
        return { kind: 'fault', reason: `has text after the closing quote of field ${fields.length + 1}` }
      }
      // Unquoted field: up to the next delimiter or line break, with no quote before either.
      const delimiter = this.nextDelimiter.find(text, q)
      const lineBreak = this.lineEnd(text, q)
      let e = delimiter === -1 ? text.length : delimiter
      if (lineBreak !== -1 && lineBreak < e) e = lineBreak
      const quote = this.quoteFrom(text, q)
      if (quote !== -1 && quote < e) return { kind: 'fault', reason: `has a quote inside unquoted field ${fields.length + 1} (quote the whole field and double the quote)` }
      if (e >= text.length && !this.final) return { kind: 'more' }
      fields.push(this.trim(text.slice(p, e)))
      if (e >= text.length) return { kind: 'record', fields, next: e, breaks }
      const c = text.charCodeAt(e)
      if (c === this.delimiterCode) {
        p = e + 1
        continue
      }
      if (c === CR && e === text.length - 1 && !this.final) return { kind: 'more' }
      return { kind: 'record', fields, next: e + lineBreakLength(text, e), breaks }
    }
  }
}

/**
 * Where one character next occurs in a text from a position on, remembering the last answer: the
 * first occurrence at or after `from` is also the first at or after any position between `from`
 * and it, so searches from positions that mostly move forward scan the text about once.
 */
class NextOf {
  /** The last search: from where, and what it found (-1: nothing; -2: no search yet). */
  private from = 0
  private at = -2

  constructor (private readonly char: string) {}

  /** The text changed: what was found no longer holds. */
  forget (): void {
    this.at = -2
  }

  /** Position of the first occurrence of the character at or after `from` in `text`, or -1. */
  find (text: string, from: number): number {
    if (this.at === -2 || from < this.from || (this.at !== -1 && from > this.at)) {
      this.from = from
      this.at = text.indexOf(this.char, from)
    }
    return this.at
  }
}

/** A record that holds nothing: an empty line, or only delimiters and blanks. */
export function isBlankRecord (fields: readonly string[]): boolean {
  for (let i = 0; i < fields.length; i++) if (fields[i] !== '') return false
  return true
}

/** Position of the first line break (LF or CR) in `text`, or -1. */
export function firstLineBreak (text: string): number {
  const lf = text.indexOf('\n')
  const cr = text.indexOf('\r')
  return lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr)
}

/** Length of the line break at `at`: 2 for CRLF, else 1. */
export function lineBreakLength (text: string, at: number): number {
  return text.charCodeAt(at) === CR && text.charCodeAt(at + 1) === LF ? 2 : 1
}

/** Line breaks (CRLF, LF or CR) in text[from, to). */
function countBreaks (text: string, from: number, to: number): number {
  let count = 0
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i)
    if (c === LF) count++
    else if (c === CR && text.charCodeAt(i + 1) !== LF) count++
  }
  return count
}
