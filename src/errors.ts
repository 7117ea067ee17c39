import { STATUS_CODES } from 'node:http'

/** Every error a service may raise, with its HTTP status. The one error handler maps these; nothing else does. */
export const errorStatus = {
  INVALID_PHONE_NUMBER: 400,
  AMBIGUOUS_PHONE_NUMBER: 400,
  INVALID_TIME_ZONE: 400,
  INVALID_CURSOR: 400,
  INVALID_TEXT: 400,
  BAD_REQUEST: 400,
  INVALID_TEMPLATE: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FST_ERR_CTP_BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  RECIPIENT_OPTED_OUT: 422,
  NO_CONSENT: 422,
  QUIET_HOURS: 422,
  FREQUENCY_CAP: 422,
  PROVIDER_ERROR: 502,
  PROVIDER_UNAVAILABLE: 503,
  NOT_READY: 503,
  IMPORT_INTERRUPTED: 503
} as const

export type ErrorCode = keyof typeof errorStatus

export class AppError extends Error {
  override name = 'AppError'
  readonly statusCode: number
  constructor (
    readonly code: ErrorCode,
    message: string,
    /** Extra, non-secret fields merged into the error body (e.g. nextAllowedAt). */
    readonly details?: Record<string, unknown>
  ) {
    super(message)
    this.statusCode = errorStatus[code]
  }

  /** A copy with more details: one error shared by a batch must not carry one message's id to the others. */
  withDetails (extra: Record<string, unknown>): this {
    const copy = Object.create(Object.getPrototypeOf(this) as object) as this
    Object.assign(copy, this, { details: { ...this.details, ...extra } })
    copy.message = this.message
    copy.stack = this.stack
    return copy
  }
}

export const notFound = (what: string): AppError => new AppError('NOT_FOUND', `${what} not found`)

/** The body every error leaves with: `{ statusCode, error, message, code, ...extra }` (README "Errors"). */
export interface ErrorBody {
  statusCode: number
  error: string
  message: string
  code: string
  [key: string]: unknown
}

export function errorBody (statusCode: number, code: string, message: string, extra?: Record<string, unknown>): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, code, ...extra }
}

/**
 * The body an AppError is answered with, and its Retry-After in ms when it names one (`details.retryAfterMs`,
 * sent as a header, never in the body).
 */
export function appErrorResponse (error: AppError): { body: ErrorBody, retryAfterMs: number | null } {
  const { retryAfterMs, ...details } = error.details ?? {}
  return { body: errorBody(error.statusCode, error.code, error.message, details), retryAfterMs: typeof retryAfterMs === 'number' ? retryAfterMs : null }
}

/** The AppError an error body was made from (appErrorResponse's inverse): a remembered answer, given again. */
export function appErrorFromBody (body: ErrorBody): AppError {
  const { statusCode, error, message, code, ...details } = body
  if (!(code in errorStatus) || errorStatus[code as ErrorCode] !== statusCode) throw new Error(`Not an error body of this service: ${error} ${code}`)
  return new AppError(code as ErrorCode, message, details)
}
