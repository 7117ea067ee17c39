import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CsvTokenizer, type CsvItem } from '../../src/domain/csv.js'
import { pieceSpans } from '../support/pieces.js'

interface Options { delimiter?: string, maxRecordChars?: number, expectedFields?: number, header?: boolean }

function tokenize (chunks: string | string[], options: Options = {}): CsvItem[] {
  const tokenizer = new CsvTokenizer({ delimiter: options.delimiter ?? ',', maxRecordChars: options.maxRecordChars ?? 1000, header: options.header === true })
  if (options.expectedFields !== undefined) tokenizer.expectedFields = options.expectedFields
  const items: CsvItem[] = []
  for (const chunk of typeof chunks === 'string' ? [chunks] : chunks) items.push(...tokenizer.push(chunk))
  items.push(...tokenizer.end())
  return items
}

const record = (line: number, fields: string[], lines = 1): CsvItem => ({ kind: 'record', line, lines, fields })
const fault = (line: number, reason: string | RegExp): CsvItem => ({ kind: 'fault', line, reason: expect.stringMatching(reason) as unknown as string })

describe('CsvTokenizer: well-formed input', () => {
  it.each<[string, string, Options, CsvItem[]]>([
    ['LF line ends', 'a,b\n1,2\n', {}, [record(1, ['a', 'b']), record(2, ['1', '2'])]],
    ['CRLF line ends (Excel)', 'a,b\r\n1,2\r\n', {}, [record(1, ['a', 'b']), record(2, ['1', '2'])]],
    ['CR line ends (old Mac Excel)', 'a,b\r1,2\r', {}, [record(1, ['a', 'b']), record(2, ['1', '2'])]],
    ['no line break at the end', 'a,b\n1,2', {}, [record(1, ['a', 'b']), record(2, ['1', '2'])]],
    ['an empty line is a record of one empty field', 'a\n\nb\n', {}, [record(1, ['a']), record(2, ['']), record(3, ['b'])]],
    ['empty fields', ',a,,\n', {}, [record(1, ['', 'a', '', ''])]],
    ['unquoted fields are trimmed', '  a , b\t,c  \n', {}, [record(1, ['a', 'b', 'c'])]],
    ['semicolon delimiter (EU Excel)', 'phone;name\n+1;"Lee; Ann"\n', { delimiter: ';' }, [record(1, ['phone', 'name']), record(2, ['+1', 'Lee; Ann'])]],
    ['tab delimiter keeps spaces, splits on tabs', 'a\tb c\t\n', { delimiter: '\t' }, [record(1, ['a', 'b c', ''])]],
    ['a comma inside quotes', '"Lopez, Gil",x\n', {}, [record(1, ['Lopez, Gil', 'x'])]],
    ['doubled quotes', '"say ""hi""",x\n', {}, [record(1, ['say "hi"', 'x'])]],
    ['a quoted empty field', '"",x\n', {}, [record(1, ['', 'x'])]],
    ['spaces around a quoted field are dropped, inside kept', '  " a " ,b\n', {}, [record(1, [' a ', 'b'])]],
    ['a quoted field at the end of the input', 'x,"y"', {}, [record(1, ['x', 'y'])]],
    ['a line break inside quotes (multi-line record)', 'a,"line 1\nline 2",c\nd,e,f\n', {}, [record(1, ['a', 'line 1\nline 2', 'c'], 2), record(3, ['d', 'e', 'f'])]],
    ['CRLF inside quotes counts as one line', 'a,"x\r\ny",c\r\nd,e,f\r\n', { expectedFields: 3 }, [record(1, ['a', 'x\r\ny', 'c'], 2), record(3, ['d', 'e', 'f'])]],
    ['a multi-line record with the header\'s field count is accepted', 'h1,h2\n1,"a\nb"\n', { expectedFields: 2 }, [record(1, ['h1', 'h2']), record(2, ['1', 'a\nb'], 2)]]
  ])('%s', (_name, input, options, expected) => {
    expect(tokenize(input, options)).toEqual(expected)
  })
})

describe('CsvTokenizer: a malformed line is reported by its number and the next line is read', () => {
  it.each<[string, string, Options, CsvItem[]]>([
    ['a stray quote inside an unquoted field', 'a,b\n1,Bo"b\n3,4\n', {}, [record(1, ['a', 'b']), fault(2, /quote inside unquoted field 2/), record(3, ['3', '4'])]],
    ['text after a closing quote', 'a,b\n"x"y,2\n3,4\n', {}, [record(1, ['a', 'b']), fault(2, /text after the closing quote of field 1/), record(3, ['3', '4'])]],
    ['a quote never closed on the last line', 'a,b\n1,2\n3,"4\n', {}, [record(1, ['a', 'b']), record(2, ['1', '2']), fault(3, /never closed/)]],
    ['a quote never closed in the middle: only that line is lost', 'a,b\n1,"2\n3,4\n5,6\n', {}, [record(1, ['a', 'b']), fault(2, /never closed/), record(3, ['3', '4']), record(4, ['5', '6'])]],
    ['an open quote closed lines later, by a quote followed by text', 'a,b\n1,"2\n3,4\n5,"6",7\n8,9\n', { expectedFields: 2 },
      [record(1, ['a', 'b']), fault(2, /text after the closing quote of field 2/), record(3, ['3', '4']), record(4, ['5', '6', '7']), record(5, ['8', '9'])]],
    ['an open quote that swallows lines into a record that does not fit the header', 'a,b\n1,"2\n3,4\n5",6,7\n8,9\n', { expectedFields: 2 },
      [record(1, ['a', 'b']), fault(2, /does not fit the header/), record(3, ['3', '4']), fault(4, /quote inside unquoted field 1/), record(5, ['8', '9'])]],
    ['the same with the header read from the text, pushed at once', 'a,b\n1,"2\n3,4\n5",6,7\n8,9\n', { header: true },
      [record(1, ['a', 'b']), fault(2, /does not fit the header/), record(3, ['3', '4']), fault(4, /quote inside unquoted field 1/), record(5, ['8', '9'])]],
    ['the header is the first line that is not blank', '\n,\na,b\n1,"2\n3",4\n', { header: true },
      [record(1, ['']), record(2, ['', '']), record(3, ['a', 'b']), fault(4, /does not fit the header/), fault(5, /quote inside unquoted field 1/)]],
    ['a line longer than the limit', 'a,b\n' + 'x'.repeat(50) + '\n1,2\n', { maxRecordChars: 20 }, [record(1, ['a', 'b']), fault(2, /longer than 20 characters/), record(3, ['1', '2'])]],
    ['a quoted field longer than the limit', 'a,b\n1,"' + 'x'.repeat(50) + '"\n1,2\n', { maxRecordChars: 20 }, [record(1, ['a', 'b']), fault(2, /longer than 20/), record(3, ['1', '2'])]]
  ])('%s', (_name, input, options, expected) => {
    expect(tokenize(input, options)).toEqual(expected)
  })

  it('skips an over-long line arriving in pieces without holding it', () => {
    const tokenizer = new CsvTokenizer({ delimiter: ',', maxRecordChars: 100 })
    const items = [...tokenizer.push('h\n'), ...tokenizer.push('x'.repeat(150))]
    expect(items).toEqual([record(1, ['h']), fault(2, /longer than 100/)])
    for (let i = 0; i < 100; i++) expect(tokenizer.push('y'.repeat(10_000))).toEqual([])
    expect([...tokenizer.push('z\n+1,ok\n'), ...tokenizer.end()]).toEqual([record(3, ['+1', 'ok'])])
  })

  it('skips a 5 MB line in well under half a second (of CPU time)', () => {
    const line = 'x'.repeat(5 * 1024 * 1024)
    const started = process.cpuUsage()
    const items = tokenize(['phone\n', line, '\n+12122346001\n'], { maxRecordChars: 64 * 1024 })
    const used = process.cpuUsage(started)
    expect((used.user + used.system) / 1000).toBeLessThan(500)
    expect(items).toEqual([record(1, ['phone']), fault(2, /longer than 65536/), record(3, ['+12122346001'])])
  })

  it('numbers lines from firstLine', () => {
    const tokenizer = new CsvTokenizer({ delimiter: ';', maxRecordChars: 100, firstLine: 2 })
    expect([...tokenizer.push('a;b\n"x\n'), ...tokenizer.end()]).toEqual([record(2, ['a', 'b']), fault(3, /never closed/)])
  })
})

describe('CsvTokenizer: chunking', () => {
  it.each([
    ['CRLF split between CR and LF', ['a,b\r', '\n1,2\r\n']],
    ['a doubled quote split in two', ['"say "', '"hi""",x\n']],
    ['a closing quote at the end of a chunk', ['"ab"', ',c\n']],
    ['a quoted line break split', ['1,"a\r', '\nb"\n']]
  ])('%s gives what one push gives', (_name, chunks) => {
    expect(tokenize(chunks)).toEqual(tokenize(chunks.join('')))
  })

  it('gives the same items however the text is cut into chunks (property)', () => {
    const text = fc.array(fc.constantFrom('a', 'b', ' ', ',', ';', '"', '""', '\n', '\r\n', '\r', 'é', '😀'), { maxLength: 60 }).map((parts) => parts.join(''))
    fc.assert(fc.property(text, fc.array(fc.nat(), { maxLength: 6 }), fc.constantFrom(',', ';'), fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }), fc.boolean(), (input, cuts, delimiter, expectedFields, header) => {
      const chunks = pieceSpans(input.length, cuts).map(([from, to]) => input.slice(from, to))
      const options = { delimiter, maxRecordChars: 40, header, ...(expectedFields !== undefined && !header ? { expectedFields } : {}) }
      expect(tokenize(chunks, options)).toEqual(tokenize(input, options))
    }), { numRuns: 2000 })
  })

  it('accounts for every line: records and faults cover each line once, in order (property)', () => {
    const line = fc.array(fc.constantFrom('a', ',', '"', ' ', '""'), { maxLength: 8 }).map((parts) => parts.join(''))
    fc.assert(fc.property(fc.array(line, { minLength: 1, maxLength: 30 }), (lines) => {
      const items = tokenize(lines.join('\n') + '\n', { expectedFields: 2 })
      let next = 1
      for (const item of items) {
        expect(item.line).toBe(next)
        next += item.kind === 'record' ? item.lines : 1
      }
      expect(next).toBe(lines.length + 1)
    }), { numRuns: 2000 })
  })
})
