/**
 * The import reader thread (started by src/services/contact-import-reader.ts): decodes, tokenizes and
 * checks each upload's rows — number validation included — in batches (readPackedBatches), while
 * the service's own thread writes the batches before them. Any number of readings at once, each by
 * its id; holds no more of one than the service sends ahead (a few chunks) and the batch it is filling.
 */
import { parentPort } from 'node:worker_threads'
import { readPackedBatches, type PackedReadEvent } from './contact-import-rows.js'
import { toWire, UploadFailed, type FromReader, type ToReader } from './contact-import-wire.js'

const port = parentPort!
const post = (message: FromReader): void => { port.postMessage(message) }

/** Why a cancelled reading stops: never reported. */
class Cancelled extends Error {}

/** An upload's chunks as they come from the service, read in order. */
class Reading implements AsyncIterable<Buffer> {
  now: number
  private readonly chunks: Buffer[] = []
  private ended = false
  private failure: Error | null = null
  private wake: (() => void) | null = null

  constructor (readonly id: number, now: number) {
    this.now = now
  }

  /** The service reads no more of it: nothing more is reported. */
  get cancelled (): boolean {
    return this.failure instanceof Cancelled
  }

  push (chunk: Buffer, now: number): void {
    this.chunks.push(chunk)
    this.now = now
    this.signal()
  }

  end (now: number): void {
    this.ended = true
    this.now = now
    this.signal()
  }

  fail (failure: Error): void {
    this.failure ??= failure
    this.signal()
  }

  private signal (): void {
    const wake = this.wake
    this.wake = null
    wake?.()
  }

  async * [Symbol.asyncIterator] (): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.failure !== null && this.cancelled) throw this.failure
      const chunk = this.chunks.shift()
      if (chunk !== undefined) {
        post({ type: 'taken', id: this.id })
        yield chunk
        continue
      }
      // What was sent before a failure is read first.
      if (this.failure !== null) throw this.failure
      if (this.ended) return
      await new Promise<void>((resolve) => { this.wake = resolve })
    }
  }
}

const readings = new Map<number, Reading>()

/** Posts the reading's next event; false at its end, or once the service reads no more of it. */
function forward (reading: Reading, next: IteratorResult<PackedReadEvent>): boolean {
  if (next.done === true || reading.cancelled) return false
  post({ type: 'event', id: reading.id, event: next.value })
  return true
}

/** Reads one upload, reporting its events, its end or its error (never rejects). */
async function read (reading: Reading, start: Extract<ToReader, { type: 'start' }>): Promise<void> {
  try {
    const upload = { stream: reading, charset: start.charset, maxBytes: start.maxBytes }
    const events = readPackedBatches(upload, { defaultCountry: start.defaultCountry, now: () => new Date(reading.now) })
    // Each event is posted (copied) as it comes and held by no variable while the next is read: a batch
    // kept alive through the reading of the next would be copied by the collections in between.
    while (forward(reading, await events.next())) ;
    if (reading.cancelled) {
      await events.return(undefined)
      return
    }
    post({ type: 'done', id: reading.id })
  } catch (error) {
    if (!reading.cancelled) post({ type: 'error', id: reading.id, error: toWire(error) })
  } finally {
    readings.delete(reading.id)
  }
}

port.on('message', (message: ToReader) => {
  if (message.type === 'start') {
    const reading = new Reading(message.id, message.now)
    readings.set(message.id, reading)
    // Runs alongside the messages that feed it; reports its own failure.
    read(reading, message).catch(() => {})
    return
  }
  const reading = readings.get(message.id)
  if (reading === undefined) return
  switch (message.type) {
    case 'chunk': reading.push(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength), message.now); break
    case 'end': reading.end(message.now); break
    case 'fail': reading.fail(new UploadFailed('The upload failed')); break
    case 'cancel': reading.fail(new Cancelled()); break
  }
})
