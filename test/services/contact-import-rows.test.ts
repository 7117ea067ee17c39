import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { IMPORT_BATCH, packedItem, readPackedBatches, tagStarts, type ImportItem, type PackedBatch } from '../../src/services/contact-import-rows.js'

/**
 * readPackedBatches over files whose rows repeat values — in runs, alternating, and with a bad value
 * inside a run — as spreadsheet exports do: every row reads as if it were alone in the file.
 */

const NOW = new Date('2026-06-02T12:00:00.000Z')
const options = { defaultCountry: 'US', now: () => NOW }

/** A batch read, with its items as objects. */
type ReadBatch = Omit<PackedBatch, 'phoneNumbers'> & { items: ImportItem[] }

async function batches (lines: string[], pieceBytes = 64 * 1024): Promise<ReadBatch[]> {
  const bytes = Buffer.from(lines.join('\n') + '\n')
  const pieces: Buffer[] = []
  for (let offset = 0; offset < bytes.length; offset += pieceBytes) pieces.push(bytes.subarray(offset, offset + pieceBytes))
  const read: ReadBatch[] = []
  for await (const event of readPackedBatches({ stream: Readable.from(pieces), maxBytes: 50 * 1024 * 1024 }, options)) {
    if (event.kind !== 'batch') continue
    const tagStart = tagStarts(event.batch)
    read.push({ ...event.batch, items: event.batch.phoneNumbers.map((_, i) => packedItem(event.batch, i, tagStart)) })
  }
  return read
}

const HEADER = 'phoneNumber,firstName,tags,timezone,consentSource,consentText,consentAt'

function item (phoneNumber: string, firstName: string | undefined, tags: string[] | undefined, timezone: string | undefined, consent: ImportItem['consent']): ImportItem {
  return { phoneNumber, fields: { firstName, lastName: undefined, timezone, tags }, consent }
}

const optIn = (text: string, occurredAt: string, undated = false): ImportItem['consent'] => ({ source: 'web_form', text, ip: null, userAgent: null, occurredAt, undated })

describe('readPackedBatches: repeated values', () => {
  it('reads each row on its own whatever the rows before it held: runs, alternations, and a bad value inside a run', async () => {
    const [batch, ...more] = await batches([
      HEADER,
      '+12125550101,Ann,vip;spring,America/New_York,web_form,"Yes, texts",2026-06-01T12:00:00Z',
      '+12125550102,Bob,vip;spring,America/New_York,web_form,"Yes, texts",2026-06-01T12:00:00Z',
      '+12125550103,Cy,vip;spring,Mars/Base,web_form,"Yes, texts",2026-06-01T12:00:00Z',
      '+12125550104,Di,vip;spring,America/New_York,web_form,"Yes, texts",2026-06-01T12:00:00Z',
      '+12125550105,Ed,"a,b",America/New_York,web_form,"Yes, texts",2026-06-01T12:00:00Z',
      '+12125550106,Flo,"a,b",Europe/Paris,,,',
      '+12125550107,Gus, spring ; vip;spring ,Europe/Paris,web_form,"Yes, texts",',
      '+12125550108,Hal,vip;spring,America/New_York,web_form,"Other text",2026-05-01T00:00:00Z',
      '+12125550109,Ivy,vip;spring,Europe/Paris,web_form,"Yes, texts",2026-06-01T12:00:00Z',
      '+12125550110,Jo,,Europe/Paris,web_form,"Yes, texts",2026-06-01T12:00:00Z',
      '+12125550111,Kim,vip;spring,,,,',
      '+12125550101,Ann again,vip;spring,America/New_York,,,',
      '+12125550112,Lu,vip;spring,Mars/Base,,,',
      '+12125550113,Mo,vip;spring,America/New_York,,,'
    ])
    expect(more).toEqual([])
    const texts = optIn('Yes, texts', '2026-06-01T12:00:00.000Z')
    expect(batch!.items).toEqual([
      item('+12125550101', 'Ann', ['vip', 'spring'], 'America/New_York', texts),
      item('+12125550102', 'Bob', ['vip', 'spring'], 'America/New_York', texts),
      item('+12125550104', 'Di', ['vip', 'spring'], 'America/New_York', texts),
      item('+12125550107', 'Gus', ['spring', 'vip'], 'Europe/Paris', optIn('Yes, texts', NOW.toISOString(), true)),
      item('+12125550108', 'Hal', ['vip', 'spring'], 'America/New_York', optIn('Other text', '2026-05-01T00:00:00.000Z')),
      item('+12125550109', 'Ivy', ['vip', 'spring'], 'Europe/Paris', texts),
      item('+12125550110', 'Jo', undefined, 'Europe/Paris', texts),
      item('+12125550111', 'Kim', ['vip', 'spring'], undefined, null),
      item('+12125550113', 'Mo', ['vip', 'spring'], 'America/New_York', null)
    ])
    expect(batch!.rejected).toEqual([
      { line: 4, error: 'timezone Mars/Base is not an IANA time zone (e.g. America/New_York)' },
      { line: 6, error: 'tag "a,b" contains a comma' },
      { line: 7, error: 'tag "a,b" contains a comma' },
      { line: 13, error: 'phoneNumber *******0101 repeats line 2 of this file, which is the one imported' },
      { line: 14, error: 'timezone Mars/Base is not an IANA time zone (e.g. America/New_York)' }
    ])
    // Every item's tags are an array of its own, however many rows repeat them.
    const [first, second] = batch!.items
    first!.fields.tags!.push('changed')
    expect(second!.fields.tags).toEqual(['vip', 'spring'])
  })

  it('reads a long file of repeated values the same in every batch, however the upload is cut', async () => {
    const rows = 2 * IMPORT_BATCH + 500
    const lines = [HEADER]
    for (let i = 0; i < rows; i++) {
      const zone = ['America/New_York', 'America/Chicago', 'America/Chicago', 'Europe/Paris'][i % 4]
      const tags = i % 3 === 0 ? 'vip;spring' : i % 3 === 1 ? 'vip' : ''
      const consent = i % 5 === 0 ? ',,,' : `,web_form,"Yes, texts ${i % 2}",2026-06-01T12:00:00Z`
      lines.push(`+1212${2000000 + i},Row${i},${tags},${zone}${consent}`)
    }
    const expected = (i: number): ImportItem => item(
      `+1212${2000000 + i}`,
      `Row${i}`,
      i % 3 === 0 ? ['vip', 'spring'] : i % 3 === 1 ? ['vip'] : undefined,
      ['America/New_York', 'America/Chicago', 'America/Chicago', 'Europe/Paris'][i % 4],
      i % 5 === 0 ? null : optIn(`Yes, texts ${i % 2}`, '2026-06-01T12:00:00.000Z')
    )
    for (const pieceBytes of [64 * 1024, 1000, 7]) {
      const read = await batches(lines, pieceBytes)
      expect(read.map((batch) => [batch.firstLine, batch.lastLine, batch.items.length, batch.rejected.length])).toEqual([
        [2, IMPORT_BATCH + 1, IMPORT_BATCH, 0],
        [IMPORT_BATCH + 2, 2 * IMPORT_BATCH + 1, IMPORT_BATCH, 0],
        [2 * IMPORT_BATCH + 2, rows + 1, 500, 0]
      ])
      expect(read.flatMap((batch) => batch.items)).toEqual(Array.from({ length: rows }, (_, i) => expected(i)))
    }
  })
})
