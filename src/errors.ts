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
