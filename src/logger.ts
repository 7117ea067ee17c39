import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import type { DestinationStream } from 'pino'
import type { Config } from './config.js'

export type Log = FastifyBaseLogger

/** Shows only the last 4 digits of a phone number: "+14155550123" → "*******0123". */
export function maskPhone (number: string | null | undefined): string {
  if (number === null || number === undefined) return ''
  const digits = number.replace(/\D/g, '')
  if (digits.length <= 4) return '*'.repeat(digits.length)
  return '*'.repeat(digits.length - 4) + digits.slice(-4)
}

// A run of 7 or more digits, whatever separates them (spaces, dots, dashes, plus signs, brackets,
// slashes, underscores): the shape of a phone number written by a person. ISO dates are matched
// first and kept, so "2026-06-15" is not taken for a number.
const ISO_DATE_OR_NUMBER = /(\d{4}-\d{2}-\d{2}(?!\d)(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)|\d(?:[\s.\-+()[\]/_]{0,2}\d){6,}/g

/**
 * Masks every phone number in free text (a provider's error text, a database error, a URL) to its
 * last 4 digits: "Invalid destination 1 (415) 555-2671" → "Invalid destination *******2671".
 */
export function maskPhoneNumbers (text: string): string {
  return text.replace(ISO_DATE_OR_NUMBER, (match: string, date: string | undefined) => date ?? maskPhone(match))
}

/** Decodes a URL component as the server does (`+` is a space in a query string); leaves malformed escapes as they are. */
function safeDecode (value: string, plusIsSpace: boolean): string {
  try {
    return decodeURIComponent(plusIsSpace ? value.replace(/\+/g, ' ') : value)
  } catch {
    return value
  }
}

const clip = (text: string, max: number): string => text.length > max ? `${text.slice(0, max)}…` : text

/**
 * Query parameters whose values are logged, and the shape a value must have to be shown: none can
 * carry a secret or a person's data (a value of another shape, say a token sent as `limit`, is redacted).
 */
const SHOWN_PARAMS = new Map<string, RegExp>([
  ['limit', /^-?\d{1,6}$/],
  ['status', /^[a-z_]{1,20}$/],
  ['purpose', /^[a-z_]{1,20}$/],
  ['subscribed', /^(true|false|0|1)$/],
  ['campaignId', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i]
])
/** Query parameters holding a phone number: logged masked to the last 4 digits. */
const PHONE_PARAMS = new Set(['to', 'from', 'phonenumber', 'destinationnumber', 'number', 'msisdn'])
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** A path segment logged as it is: a route's own words, or a short token (a masked number included); longer ones may be secrets. */
const SAFE_SEGMENT = /^(?!.*\d(?:[.\-+_~]{0,2}\d){6})[\w.~+*-]{0,24}$/

/**
 * A URL as it may appear in a log line. Path segments are decoded and their phone numbers masked
 * (ids and a route's own words stay readable, anything long enough to be a secret is redacted); in the query string every value is replaced by [REDACTED] except an
 * allow-list, so a secret sent by mistake under any name (`?access_token=`, `?x-api-key=`,
 * `?%74oken=`) never reaches the logs, and phone numbers keep only their last 4 digits however they
 * are encoded (`%2B1+415…`, `%20`, dots, brackets).
 */
export function redactUrl (url: string): string {
  const question = url.indexOf('?')
  const path = (question === -1 ? url : url.slice(0, question)).split('/').map((segment) => {
    if (UUID.test(segment) || SAFE_SEGMENT.test(segment)) return segment
    const masked = maskPhoneNumbers(safeDecode(segment, false))
    return SAFE_SEGMENT.test(masked) ? masked : '[REDACTED]'
  }).join('/')
  if (question === -1) return path
  const query = url.slice(question + 1).split('&').map((pair) => {
    const equals = pair.indexOf('=')
    const name = safeDecode(equals === -1 ? pair : pair.slice(0, equals), true).trim()
    const shownName = clip(maskPhoneNumbers(name), 40)
    if (equals === -1) return shownName
    const value = safeDecode(pair.slice(equals + 1), true)
    if (SHOWN_PARAMS.get(name)?.test(value) === true) return `${shownName}=${value}`
    if (PHONE_PARAMS.has(name.toLowerCase())) return `${shownName}=${maskPhone(value)}`
    return `${shownName}=[REDACTED]`
  })
  return `${path}?${query.join('&')}`
}

const CLIENT_TOKEN = /^[A-Za-z0-9][\w.-]{0,19}$/

/**
 * A client's x-request-id when it has a safe form: a UUID, or a short token (up to 20 letters,
 * digits, `.`, `_` and `-`, too short for most secrets) that holds no phone number (no 7 digits in a
 * row, separators ignored). Anything else is replaced by an id of our own, since the id is written
 * on every log line of the request and returned in x-request-id.
 */
export function safeRequestId (header: unknown): string | null {
  if (typeof header !== 'string') return null
  if (UUID.test(header)) return header
  return CLIENT_TOKEN.test(header) && maskPhoneNumbers(header) === header ? header : null
}

/** Routes polled by load balancers and scrapers: their request lines are logged at debug, not info. */
const PROBE_ROUTES = new Set(['/health', '/health/ready', '/metrics'])

/**
 * Fastify's request lines, with /health and /metrics at debug (a probe every few seconds would
 * otherwise fill the logs), and the not-found line with its URL redacted like every other.
 */
export class RequestLogController extends LogController {
  override incomingRequest (request: FastifyRequest): void {
    if (PROBE_ROUTES.has(request.routeOptions.url ?? '')) request.log.debug({ req: request }, 'incoming request')
    else request.log.info({ req: request }, 'incoming request')
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error !== null && error !== undefined) {
      reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored')
    } else if (PROBE_ROUTES.has(request.routeOptions.url ?? '') && reply.statusCode < 400) {
      reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed')
    } else {
      reply.log.info({ res: reply, responseTime: reply.elapsedTime }, 'request completed')
    }
  }

  override routeNotFound (request: FastifyRequest): void {
    request.log.info(`Route ${request.method}:${redactUrl(request.url)} not found`)
  }
}

/**
 * An error as a log line shows it: its kind, code and message with phone numbers masked, never the
 * request or response an HTTP client attached to it; the stack only outside production.
 */
function errorSerializer (withStack: boolean) {
  return (error: unknown): unknown => {
    if (error === null || typeof error !== 'object') return typeof error === 'string' ? maskPhoneNumbers(error) : error
    const { name, type, message, code, stack } = error as Record<string, unknown>
    return {
      type: typeof name === 'string' ? name : typeof type === 'string' ? type : 'Error',
      message: maskPhoneNumbers(String(message ?? '')),
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      ...(withStack && typeof stack === 'string' ? { stack: maskPhoneNumbers(stack) } : {})
    }
  }
}

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'config.headers.Authorization',
  'err.config',
  'err.request',
  'err.response',
  'apiKey',
  'webhookSecret',
  '*.apiKey',
  '*.webhookSecret'
]

export function loggerOptions (config: Config, stream?: DestinationStream): FastifyServerOptions['logger'] {
  const base = {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: {
      req (request: { method: string, url: string, id: string, ip?: string }) {
        return { method: request.method, url: redactUrl(request.url), id: request.id }
      },
      err: errorSerializer(!config.isProduction)
    }
  }
  if (stream !== undefined) return { ...base, stream } as FastifyServerOptions['logger']
  if (!config.isProduction && config.env !== 'test') {
    return { ...base, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } as FastifyServerOptions['logger']
  }
  return base as FastifyServerOptions['logger']
}
