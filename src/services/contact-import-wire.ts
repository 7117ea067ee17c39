import { AppError, type ErrorCode } from '../errors.js'
import { ImportReadStopped, type PackedReadEvent } from './contact-import-rows.js'

/**
 * The messages between the service and an import's reader thread (src/services/contact-import-reader.ts
 * and contact-import-worker.ts), one reading (`id`) per import. Bytes go one way, batches of checked
 * rows come back; errors cross as plain data and are rebuilt on the other side.
 */

export type ToReader =
  /** `now`: the service clock (ms since the epoch), for the batches read from here on. */
  | { type: 'start', id: number, charset: string | undefined, maxBytes: number, defaultCountry: string, now: number }
  | { type: 'chunk', id: number, bytes: Uint8Array, now: number }
  | { type: 'end', id: number, now: number }
  /** The upload failed: read what was sent, then stop (the service keeps the upload's error). */
  | { type: 'fail', id: number }
  /** The service reads no more of this upload. */
  | { type: 'cancel', id: number }

export type FromReader =
  /** One chunk was taken for reading: room for another. */
  | { type: 'taken', id: number }
  /** A batch crosses packed (PackedBatch), as the service's thread writes it. */
  | { type: 'event', id: number, event: PackedReadEvent }
  | { type: 'done', id: number }
  | { type: 'error', id: number, error: WireError }

export type WireError =
  | { kind: 'app', code: ErrorCode, message: string, details: Record<string, unknown> | undefined }
  /** The upload's own failure, which the service holds. */
  | { kind: 'upload' }
  | { kind: 'stopped', resumeFromLine: number, cause: WireError }
  | { kind: 'other', name: string, message: string, stack: string | undefined }

/** The reader thread's stand-in for the upload's failure. */
export class UploadFailed extends Error {
  override name = 'UploadFailed'
}

export function toWire (error: unknown): WireError {
  if (error instanceof ImportReadStopped) return { kind: 'stopped', resumeFromLine: error.resumeFromLine, cause: toWire(error.cause) }
  if (error instanceof AppError) return { kind: 'app', code: error.code, message: error.message, details: error.details }
  if (error instanceof UploadFailed) return { kind: 'upload' }
  const { name, message, stack } = error instanceof Error ? error : new Error(String(error))
  return { kind: 'other', name, message, stack }
}

/** The error as the service raises it; `uploadError` stands for `{ kind: 'upload' }`. */
export function fromWire (wire: WireError, uploadError: unknown): unknown {
  switch (wire.kind) {
    case 'app': return new AppError(wire.code, wire.message, wire.details)
    case 'upload': return uploadError
    case 'stopped': return new ImportReadStopped(fromWire(wire.cause, uploadError), wire.resumeFromLine)
    case 'other': {
      const error = new Error(wire.message)
      error.name = wire.name
      if (wire.stack !== undefined) error.stack = wire.stack
      return error
    }
  }
}
