import { Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { createImportReader, type ImportReader } from '../../src/services/contact-import-reader.js'
import { isId } from '../../src/domain/ids.js'
import { IMPORT_BATCH, ImportReadStopped, readPackedBatches, type PackedReadEvent } from '../../src/services/contact-import-rows.js'

/**
 * The import reader thread (src/services/contact-import-reader.ts) over real worker threads: it reads
 * exactly what readPackedBatches reads in-process, never runs ahead of the batches taken by more than
 * its bounds, and a reading stopped early, or a thread ended mid-reading, fails cleanly.
 */

const NOW = new Date('2026-06-02T12:00:00.000Z')
const options = { defaultCountry: 'US', now: () => NOW }

/** A file with rows to import, lines to reject, a repeated number, a number only the NANP table knows, and an unknown column. */
function mixedFile (rows: number): string {
  const lines = ['phoneNumber,firstName,tags,consentSource,consentText,consentAt,email']
  for (let i = 0; i < rows; i++) {
    if (i % 97 === 5) lines.push(`not-a-number,Row${i},,,,,`)
    else if (i % 101 === 7) lines.push('+12122000000,Again,,,,,')
    else if (i % 89 === 3) lines.push(`+1624555${String(1000 + i).slice(-4)},New overlay,,,,,`)
    else lines.push(`+1212${String(2000000 + i)},Row${i},vip;spring,web_form,"Yes, text me",2026-06-01T12:00:00Z,x@example.com`)
  }
  return lines.join('\r\n') + '\r\n'
}

/** The file as an upload arriving in pieces of `size` bytes, counting the bytes read from it. */
function upload (text: string, size: number): { stream: Readable, maxBytes: number, read: () => number } {
  const bytes = Buffer.from(text)
  let offset = 0
  const stream = new Readable({
    read () {
      if (offset >= bytes.length) {
        this.push(null)
        return
      }
      this.push(bytes.subarray(offset, offset + size))
      offset += size
    }
  })
  return { stream, maxBytes: 50 * 1024 * 1024, read: () => Math.min(offset, bytes.length) }
}

async function all (events: AsyncIterable<PackedReadEvent>): Promise<PackedReadEvent[]> {
  const list: PackedReadEvent[] = []
  for await (const event of events) list.push(event)
  return list
}

describe('the import reader thread', () => {
  let reader: ImportReader | null = null
  afterEach(async () => {
    await reader?.close()
    reader = null
  })

  it('reads what readPackedBatches reads in-process: the same header warnings, batches, rejections and notes', async () => {
    reader = createImportReader()
    const text = mixedFile(2500)
    const threaded = await all(reader.read(upload(text, 1000), options))
    const inProcess = await all(readPackedBatches(upload(text, 1000), options))
    // The same but for the ids each side made for new contacts and their consent events.
    const withoutIds = (events: PackedReadEvent[]): unknown[] => events.map((event) => event.kind === 'batch' ? { ...event, batch: { ...event.batch, contactIds: event.batch.contactIds.length, consentIds: event.batch.consentIds.map((id) => id === null) } } : event)
    expect(withoutIds(threaded)).toEqual(withoutIds(inProcess))
    const batches = threaded.flatMap((event) => event.kind === 'batch' ? [event.batch] : [])
    const ids = batches.flatMap((batch) => [...batch.contactIds, ...batch.consentIds.filter((id) => id !== null)])
    expect(ids.every(isId)).toBe(true)
    expect(new Set(ids).size).toBe(ids.length)
    expect(threaded[0]).toEqual({ kind: 'header', warnings: [expect.stringContaining('"email"')] })
    expect(batches.map((batch) => batch.phoneNumbers.length)).toEqual([IMPORT_BATCH, IMPORT_BATCH, expect.any(Number)])
    expect(batches.flatMap((batch) => batch.rejected).length).toBeGreaterThan(40)
    expect(batches.flatMap((batch) => batch.notes)).toContainEqual({ phoneNumber: '*******1003', basis: 'area_code', why: expect.stringContaining('area code 624') })
  })

  it('reads the upload no further ahead of the batches taken than its bounds, however large the file', async () => {
    reader = createImportReader()
    // About 60 bytes a row: 100 batches of 1,000 rows, sent in 1 KiB pieces.
    const text = Array.from({ length: 100 * IMPORT_BATCH }, (_, i) => `+1212${String(2000000 + i)},First${i},Last${i},vip;spring;customer`).join('\n')
    const source = upload(`phoneNumber,firstName,lastName,tags\n${text}\n`, 1024)
    const rowBytes = Buffer.byteLength(text) / (100 * IMPORT_BATCH)
    let taken = 0
    let furthestAhead = 0
    for await (const event of reader.read(source, options)) {
      if (event.kind !== 'batch') continue
      taken += event.batch.phoneNumbers.length
      furthestAhead = Math.max(furthestAhead, source.read() - taken * rowBytes)
      // A slow writer: the reader must wait for it, not read the file into memory.
      await new Promise((resolve) => setImmediate(resolve))
    }
    expect(taken).toBe(100 * IMPORT_BATCH)
    // Batches waiting to be taken (two, and those on their way from the last pieces read), the batch being
    // filled, the pieces sent and not yet read (four) or being read, the piece being gathered: a few hundred
    // KiB of a 6 MB file.
    expect(furthestAhead).toBeLessThan(4 * IMPORT_BATCH * rowBytes + 6 * 64 * 1024 + 1024)
    expect(furthestAhead).toBeLessThan(Buffer.byteLength(text) / 8)
  })

  it('a reading stopped early stops; the next reading on the same thread is whole', async () => {
    reader = createImportReader()
    const file = mixedFile(50_000)
    const source = upload(file, 4096)
    for await (const event of reader.read(source, options)) {
      if (event.kind === 'batch') break
    }
    const readWhenStopped = source.read()
    expect(readWhenStopped).toBeLessThan(Buffer.byteLength(file) / 4)
    const next = await all(reader.read(upload(mixedFile(100), 4096), options))
    expect(next.filter((event) => event.kind === 'batch')).toHaveLength(1)
    expect(source.read()).toBe(readWhenStopped)
  })

  it('the thread ending mid-reading fails that reading with the reason, and a new reading starts a new thread', async () => {
    reader = createImportReader()
    const events = reader.read(upload(mixedFile(5000), 4096), options)
    expect((await events.next()).value).toMatchObject({ kind: 'header' })
    await reader.close()
    await expect(all(events)).rejects.toThrow(ImportReadStopped)
    const next = await all(reader.read(upload(mixedFile(100), 4096), options))
    expect(next.at(-1)).toMatchObject({ kind: 'batch' })
  })
})
