import { Worker } from 'node:worker_threads'
import type { Readable } from 'node:stream'
import { ImportReadStopped, type ImportReadOptions, type PackedReadEvent } from './contact-import-rows.js'
import { fromWire, type FromReader, type ToReader, type WireError } from './contact-import-wire.js'

/**
 * Reads imports in a thread of their own, so that reading one batch overlaps writing the one before.
 *
 * An import's work is reading (decoding, tokenizing, checking each row; validating a number with
 * libphonenumber-js alone costs more than parsing the file) and writing (SQLite runs its statements
 * on the calling thread). On one thread they take turns; here the reader thread
 * (src/services/contact-import-worker.ts running readPackedBatches) reads batch n+1 while the
 * service writes batch n, and the service's event loop stays free for other requests while a file
 * is read. The same on PostgreSQL, where the writes already wait on the server.
 *
 * The service keeps the upload: it forwards the body in pieces of at least FORWARD_BYTES (a client
 * streaming line by line sends a few hundred bytes at a time; each message has a cost), never more
 * than CHUNKS_AHEAD pieces the reader has not taken, and none while BATCHES_AHEAD batches wait to be
 * written — so an import holds a few hundred KiB however large its file, and the socket is read no
 * faster than the rows are written. If the upload fails, what arrived before is read first.
 *
 * One thread serves every import of the service, started with the service's background workers
 * (or by the first import, if that comes first) and ended by `close`; if it dies, the imports it was
 * reading fail and the next import starts another.
 */

/** Upload bytes are forwarded in pieces of at least this much (the end of the upload excepted). */
const FORWARD_BYTES = 64 * 1024
/** Pieces sent that the reader has not started on. */
const CHUNKS_AHEAD = 4
/** Batches read that the service has not taken yet. */
const BATCHES_AHEAD = 2

export interface ImportReaderUpload {
  stream: Readable
  /** The charset parameter of the request's Content-Type, if any. */
  charset?: string | undefined
  /** Largest upload accepted, in bytes. */
  maxBytes: number
}

/** One import's side of the conversation with the reader thread. */
class Session {
  /** Events and the end (null) not yet taken, and the error if reading failed. */
  readonly queue: Array<PackedReadEvent | null> = []
  failure: WireError | null = null
  /** Pieces sent that the reader has not taken. */
  inFlight = 0
  /** The reader said it is done, or failed. */
  finished = false
  /** The service reads no more of it. */
  closed = false
  /** The upload's own error, when it failed. */
  uploadError: unknown = undefined
  private wakeConsumer: (() => void) | null = null
  private wakeForwarder: (() => void) | null = null

  constructor (readonly id: number, readonly worker: Worker) {}

  get batchesQueued (): number {
    return this.queue.filter((event) => event !== null && event.kind === 'batch').length
  }

  roomToSend (): boolean {
    return this.closed || this.failure !== null || (this.inFlight < CHUNKS_AHEAD && this.batchesQueued < BATCHES_AHEAD)
  }

  receive (message: FromReader): void {
    switch (message.type) {
      case 'taken': this.inFlight--; break
      case 'event': this.queue.push(message.event); break
      case 'done':
        this.queue.push(null)
        this.finished = true
        break
      case 'error': this.fail(message.error); return
    }
    this.wake()
  }

  fail (failure: WireError): void {
    this.failure ??= failure
    this.finished = true
    this.wake()
  }

  wake (): void {
    const consumer = this.wakeConsumer
    const forwarder = this.wakeForwarder
    this.wakeConsumer = null
    this.wakeForwarder = null
    consumer?.()
    forwarder?.()
  }

  async untilReceived (): Promise<void> {
    await new Promise<void>((resolve) => { this.wakeConsumer = resolve })
  }

  async untilRoom (): Promise<void> {
    while (!this.roomToSend()) await new Promise<void>((resolve) => { this.wakeForwarder = resolve })
  }
}

export interface ImportReader {
  /**
   * The upload read and checked in the reader thread, as readPackedBatches yields it, with its
   * errors: AppError before the header, ImportReadStopped after it (the upload's own error as its
   * cause when the upload failed). Stopping early (return or throw) stops the reading.
   */
  read: (upload: ImportReaderUpload, options: ImportReadOptions) => AsyncGenerator<PackedReadEvent>
  /** Starts the thread now (it loads the CSV and number modules), so the first import does not wait for it. */
  start: () => void
  /** Ends the thread; readings still under way fail. */
  close: () => Promise<void>
}

/** The reader thread's module: compiled JavaScript in production, TypeScript run through tsx in development and tests. */
function startWorker (): Worker {
  const fromSource = import.meta.url.endsWith('.ts')
  const entry = new URL(fromSource ? './contact-import-worker.ts' : './contact-import-worker.js', import.meta.url)
  if (!fromSource) return new Worker(entry)
  // tsx's loader is registered in the new thread before the module is loaded (a loader given by --import does not reach workers on Node 20).
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}) })`, { eval: true })
}

export function createImportReader (): ImportReader {
  let worker: Worker | null = null
  let nextId = 1
  const sessions = new Map<number, Session>()

  function thread (): Worker {
    if (worker !== null) return worker
    const started = startWorker()
    started.unref()
    started.on('message', (message: FromReader) => { sessions.get(message.id)?.receive(message) })
    const lost = (error: Error): void => {
      if (worker === started) worker = null
      for (const session of sessions.values()) {
        if (session.worker === started) session.fail({ kind: 'other', name: error.name, message: `The import reader thread stopped: ${error.message}`, stack: error.stack })
      }
    }
    started.on('error', lost)
    started.on('exit', (code) => { lost(new Error(`exit code ${code}`)) })
    worker = started
    return started
  }

  /** Sends the upload's bytes to the reader, coalesced, as the reader makes room (see the top of this file). */
  async function forward (upload: ImportReaderUpload, session: Session, post: (message: ToReader) => void, now: () => number): Promise<void> {
    let held: Buffer[] = []
    let heldBytes = 0
    let sentBytes = 0
    const send = async (): Promise<void> => {
      await session.untilRoom()
      if (session.closed || session.failure !== null || heldBytes === 0) return
      const bytes = held.length === 1 ? held[0]! : Buffer.concat(held, heldBytes)
      sentBytes += heldBytes
      held = []
      heldBytes = 0
      session.inFlight++
      post({ type: 'chunk', id: session.id, bytes, now: now() })
    }
    try {
      for await (const chunk of upload.stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer | string>) {
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
        // The bytes within the size limit are read before a piece past it, which the reader refuses (413).
        if (sentBytes + heldBytes + buffer.length > upload.maxBytes) await send()
        held.push(buffer)
        heldBytes += buffer.length
        if (heldBytes >= FORWARD_BYTES || sentBytes + heldBytes > upload.maxBytes) await send()
        if (session.closed || session.failure !== null) return
      }
      await send()
      if (!session.closed) post({ type: 'end', id: session.id, now: now() })
    } catch (error) {
      // What arrived before the failure is read first, as if it had been read as it came.
      await send()
      session.uploadError = error
      if (!session.closed) post({ type: 'fail', id: session.id })
    }
  }

  async function * read (upload: ImportReaderUpload, options: ImportReadOptions): AsyncGenerator<PackedReadEvent> {
    const reader = thread()
    const session = new Session(nextId++, reader)
    sessions.set(session.id, session)
    const post = (message: ToReader): void => { reader.postMessage(message) }
    const now = (): number => options.now().getTime()
    post({ type: 'start', id: session.id, charset: upload.charset, maxBytes: upload.maxBytes, defaultCountry: options.defaultCountry, now: now() })
    forward(upload, session, post, now).catch((error: unknown) => {
      const { name, message, stack } = error instanceof Error ? error : new Error(String(error))
      session.fail({ kind: 'other', name, message, stack })
    })
    // Where the reading stands: after the header, a failure leaves every line from `nextLine` on unread.
    let headerSeen = false
    let nextLine = 1
    try {
      for (;;) {
        const event = session.queue.shift()
        if (event === null) return
        if (event !== undefined) {
          session.wake()
          if (event.kind === 'header') headerSeen = true
          else nextLine = event.batch.lastLine + 1
          yield event
          continue
        }
        if (session.failure !== null) {
          // The reader reports an upload's failure after reading what came before it, which is after the forwarder kept the upload's error.
          const error = fromWire(session.failure, session.uploadError)
          // The thread itself failing (it ended, or the forwarding broke) stops the reading like any other failure after the header.
          throw headerSeen && !(error instanceof ImportReadStopped) ? new ImportReadStopped(error, nextLine) : error
        }
        await session.untilReceived()
      }
    } finally {
      if (!session.finished) post({ type: 'cancel', id: session.id })
      session.closed = true
      session.wake()
      sessions.delete(session.id)
    }
  }

  return {
    read,
    start: () => { thread() },
    async close (): Promise<void> {
      const running = worker
      if (running === null) return
      worker = null
      await running.terminate()
    }
  }
}
