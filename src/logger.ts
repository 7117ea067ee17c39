import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'
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

const SECRET_QUERY = /([?&](?:token|api_key|apikey|key)=)[^&#]*/gi
// Any run of 7+ digits, optionally led by + or its encodings: phone numbers in paths and query strings.
const LONG_NUMBER = /(?:\+|%2B)?\d[\d\s-]{5,}\d/gi

/** Removes secrets and full phone numbers from a URL before it reaches a log line. */
export function redactUrl (url: string): string {
  return url.replace(SECRET_QUERY, '$1[REDACTED]').replace(LONG_NUMBER, (match) => maskPhone(decodeURIComponent(match)))
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
      }
    }
  }
  if (stream !== undefined) return { ...base, stream } as FastifyServerOptions['logger']
  if (!config.isProduction && config.env !== 'test') {
    return { ...base, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } }
  }
  return base
}
