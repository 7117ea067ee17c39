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

const SECRET_PARAMS = new Set(['token', 'api_key', 'apikey', 'key', 'secret', 'password'])
// A standalone run of 7+ digits, optionally led by + or its encoding: phone numbers in paths and
// query strings (but not digit runs inside ids).
const LONG_NUMBER = /(?<![\w%])(?:\+|%2B)?\d[\d\s-]{5,}\d(?!\w)/gi

function safeDecode (value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return value
  }
}

const maskNumbers = (text: string): string => text.replace(LONG_NUMBER, (match) => maskPhone(safeDecode(match)))

/**
 * Removes secrets and full phone numbers from a URL before it reaches a log line. Parameter names are
 * decoded first, as the server decodes them: `?%74oken=` is the token too.
 */
export function redactUrl (url: string): string {
  const question = url.indexOf('?')
  if (question === -1) return maskNumbers(url)
  const query = url.slice(question + 1).split('&').map((pair) => {
    const equals = pair.indexOf('=')
    const name = safeDecode(equals === -1 ? pair : pair.slice(0, equals)).trim().toLowerCase()
    if (SECRET_PARAMS.has(name)) return `${name}=[REDACTED]`
    return maskNumbers(pair)
  })
  return `${maskNumbers(url.slice(0, question))}?${query.join('&')}`
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
