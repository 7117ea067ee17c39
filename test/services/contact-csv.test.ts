import { Readable } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readContactCsv, type ContactCsvItem } from '../../src/services/contact-csv.js'
import { pieceSpans } from '../support/pieces.js'

/**
 * readContactCsv gives one reading of a file however its upload is cut into pieces: the same
 * rows and rejections by line, the same warnings, the same decoding.
 */

interface Reading { warnings: string[], items: ContactCsvItem[], error: string | null }

async function read (pieces: Buffer[]): Promise<Reading> {
  const reading: Reading = { warnings: [], items: [], error: null }
  try {
    for await (const event of readContactCsv({ stream: Readable.from(pieces), maxBytes: 1024 * 1024 })) {
      if (event.kind === 'header') reading.warnings.push(...event.warnings)
      else reading.items.push(...event.items)
    }
  } catch (error) {
    reading.error = (error as Error).message
  }
  return reading
}

describe('readContactCsv: the reading does not depend on how the upload is cut', () => {
  it('rows, rejections, warnings and decoding (property)', async () => {
    // Plain rows (the charset is decided past the first ones), then text with quotes, line breaks, and
    // é as UTF-8 (C3 A9), as Windows-1252 (E9) or cut in two.
    const part = fc.constantFrom('+12125550100', 'Ann', ',', ',', '"', '\n', '\r\n', Buffer.from([0xc3, 0xa9]), Buffer.from([0xe9]), Buffer.from([0xc3]), ' ')
    const file = fc.tuple(fc.nat({ max: 90 }), fc.array(part, { maxLength: 40 })).map(([plain, parts]) => {
      const rows = ['phoneNumber,firstName,lastName']
      for (let i = 0; i < plain; i++) rows.push(`+1212555${String(1000 + i)},First,Last`)
      return Buffer.concat([Buffer.from(rows.join('\n') + '\n'), ...parts.map((p) => typeof p === 'string' ? Buffer.from(p) : p)])
    })
    await fc.assert(fc.asyncProperty(file, fc.array(fc.nat(), { maxLength: 8 }), async (bytes, at) => {
      expect(await read(pieceSpans(bytes.length, at).map(([from, to]) => bytes.subarray(from, to)))).toEqual(await read([bytes]))
    }), { numRuns: 300 })
  })
})
