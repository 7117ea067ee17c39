import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify'
import { AppError, appErrorResponse, errorBody as body } from '../errors.js'
import { maskPhoneNumbers, redactUrl } from '../logger.js'
import { securityHeaders } from './security.js'

/** Fastify's own 4xx codes the API documents (README "Errors"), some under a name of ours. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_VALIDATION: 'FST_ERR_VALIDATION',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'FST_ERR_VALIDATION',
  FST_ERR_CTP_INVALID_JSON_BODY: 'FST_ERR_CTP_INVALID_JSON_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH',
  FST_ERR_BAD_URL: 'FST_ERR_BAD_URL',
  FST_ERR_MAX_PARAM_LENGTH: 'FST_ERR_MAX_PARAM_LENGTH',
  FST_ERR_CTP_BODY_TOO_LARGE: 'FST_ERR_CTP_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE'
}

/** Any other 4xx Fastify raises, by status: every code a client sees is one README lists. */
const CODE_BY_STATUS: Record<number, string> = {
  404: 'NOT_FOUND',
  413: 'FST_ERR_CTP_BODY_TOO_LARGE',
  414: 'FST_ERR_MAX_PARAM_LENGTH',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED'
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * How to send this route's body, added to Fastify's 415 (which names only the type refused); routes that
     * take JSON need none (the default says so). The CSV import's: a file sent as a form is the usual mistake.
     */
    mediaTypeHint?: string
  }
}

/** The 415 hint of a route that takes JSON (every route but those that name their own). */
const JSON_MEDIA_TYPE_HINT = 'Send a JSON body with content-type application/json'

/** The one error boundary: every error leaves as { statusCode, error, message, code }, without stack or secrets. */
export function registerErrorHandler (app: FastifyInstance, options: { exposeDetails: boolean }): void {
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (error instanceof AppError) {
      if (error.statusCode >= 500) {
        // The cause (a database error behind IMPORT_INTERRUPTED) goes to the log only, masked by the err serializer.
        request.log.warn({ code: error.code, reason: maskPhoneNumbers(error.message), ...(error.cause !== undefined ? { err: error.cause } : {}) }, 'Request failed')
      }
      // `retryAfterMs` (a busy Idempotency-Key, an Infobip hold) becomes the Retry-After header, in seconds (RFC 9110 §10.2.3).
      const { body: answer, retryAfterMs } = appErrorResponse(error)
      if (retryAfterMs !== null) reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1000))))
      return reply.code(error.statusCode).send(answer)
    }
    const fastifyError = error as FastifyError
    if (fastifyError.validation !== undefined) {
      return reply.code(400).send(body(400, 'FST_ERR_VALIDATION', error.message))
    }
    const status = fastifyError.statusCode
    if (status !== undefined && status >= 400 && status < 500) {
      const code = FASTIFY_CODES[fastifyError.code] ?? CODE_BY_STATUS[status] ?? 'BAD_REQUEST'
      // Fastify's messages are safe and useful ("Body is not valid JSON…"), but may quote a header.
      const hint = code === 'UNSUPPORTED_MEDIA_TYPE' ? `. ${request.routeOptions.config.mediaTypeHint ?? JSON_MEDIA_TYPE_HINT}` : ''
      const message = maskPhoneNumbers(error.message) + hint
      return reply.code(status).send(body(status, code, message))
    }
    request.log.error({ err: { type: error.name, message: error.message, code: fastifyError.code } }, 'Unhandled error')
    const message = options.exposeDetails ? maskPhoneNumbers(error.message) : 'An unexpected error occurred'
    return reply.code(500).send(body(500, 'INTERNAL_ERROR', message))
  })
}

/**
 * Unknown paths answer 404 NOT_FOUND, counted by `limit` (the rate limiter, app.rateLimit()) first, so that
 * paths cannot be probed faster than API keys can be guessed (@fastify/rate-limit's setNotFoundHandler recipe).
 */
export function registerNotFound (app: FastifyInstance, limit: preHandlerHookHandler): void {
  app.setNotFoundHandler({ preHandler: limit }, (request, reply) => {
    // The path as the logs show it (redactUrl): numbers masked however encoded, anything like a secret redacted.
    return reply.code(404).send(body(404, 'NOT_FOUND', `Route ${request.method} ${redactUrl(request.url.split('?')[0]!.slice(0, 200))} not found`))
  })
}

/**
 * Fastify's `frameworkErrors`: what it answers itself, before routing or any hook — a URL with a malformed
 * percent-encoding (400 FST_ERR_BAD_URL) or a path parameter over the router's length limit (414
 * FST_ERR_MAX_PARAM_LENGTH). Fastify's own answer quotes the URL, which may hold the webhook secret or a phone
 * number; this one names neither, carries the security headers and `x-request-id` like every response, and is
 * logged with the URL redacted (`redactUrl`).
 */
export function answerFrameworkError (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  securityHeaders(request.raw, reply.raw, () => undefined)
  const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
  const status = tooLong ? 414 : 400
  request.log.info({ url: redactUrl(request.raw.url ?? ''), code: error.code }, 'Refused a malformed URL')
  return reply.code(status).header('x-request-id', request.id).send(body(status, tooLong ? 'FST_ERR_MAX_PARAM_LENGTH' : 'FST_ERR_BAD_URL',
    tooLong ? 'A part of the path is too long for this service' : 'The URL is not valid: a percent sign must start a valid %XX escape'))
}
