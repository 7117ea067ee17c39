import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import { isPhoneCountry } from './domain/phone.js'
import { isTimeZone, parseWindow, type TimeWindow } from './domain/quiet-hours.js'
import { SenderId } from './schemas/common.js'

/** The default of BRAND_NAME: a service still using it names no real sender in its replies. */
export const DEFAULT_BRAND_NAME = 'Our Brand'

const Env = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], { default: 'development' }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  INFOBIP_BASE_URL: Type.Optional(Type.String({ minLength: 1 })),
  INFOBIP_API_KEY: Type.Optional(Type.String({ minLength: 1 })),
  INFOBIP_SENDER_ID: Type.Optional(SenderId),
  INFOBIP_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
  RETRY_ATTEMPTS: Type.Integer({ minimum: 0, maximum: 10, default: 3 }),
  RETRY_MIN_DELAY_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 1000 }),
  RETRY_MAX_DELAY_MS: Type.Integer({ minimum: 0, maximum: 300_000, default: 5000 }),
  RETRY_AFTER_MAX_MS: Type.Integer({ minimum: 0, maximum: 3_600_000, default: 60_000 }),
  INFOBIP_IDEMPOTENCY: Type.Boolean({ default: false }),
  OUTCOME_SETTLE_MS: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
  CIRCUIT_ERROR_THRESHOLD: Type.Integer({ minimum: 1, maximum: 99, default: 50 }),
  CIRCUIT_VOLUME_THRESHOLD: Type.Integer({ minimum: 1, maximum: 10_000, default: 3 }),
  CIRCUIT_WINDOW_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 2000 }),
  CIRCUIT_RESET_MS: Type.Integer({ minimum: 100, maximum: 600_000, default: 10_000 }),
  API_KEYS: Type.Optional(Type.String({ minLength: 1 })),
  WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  PUBLIC_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  DATABASE_URL: Type.String({ pattern: '^(sqlite:.+|postgres(ql)?://.+)$', default: 'sqlite:./data/sms.sqlite' }),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: 100 }),
  RATE_LIMIT_WINDOW: Type.String({ minLength: 1, default: '1 minute' }),
  SEND_RATE_PER_SECOND: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000, default: 50 }),
  SEND_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 1000, default: 500 }),
  SEND_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 256, default: 4 }),
  QUIET_HOURS: Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$', default: '08:00-21:00' }),
  DEFAULT_TIMEZONE: Type.String({ minLength: 1, default: 'America/New_York' }),
  DEFAULT_COUNTRY: Type.String({ pattern: '^[A-Za-z]{2}$', default: 'US' }),
  MARKETING_CONSENT_REQUIRED: Type.Boolean({ default: true }),
  BRAND_NAME: Type.String({ minLength: 1, default: DEFAULT_BRAND_NAME }),
  SUPPORT_CONTACT: Type.Optional(Type.String({ minLength: 1 })),
  OPT_OUT_FOOTER: Type.String({ minLength: 1, default: 'Reply STOP to opt out.' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 50 * 1024 * 1024, default: 1024 * 1024 }),
  IMPORT_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024, default: 100 * 1024 * 1024 }),
  DISPATCH_LEASE_MS: Type.Integer({ minimum: 1000, maximum: 3_600_000, default: 30_000 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, maximum: 600_000, default: 10_000 })
})
export type Env = Static<typeof Env>

export interface Config {
  readonly env: 'development' | 'production' | 'test'
  readonly isProduction: boolean
  readonly host: string
  readonly port: number
  readonly logLevel: string
  /** null selects the in-process sandbox transport. */
  readonly infobip: { readonly baseUrl: string, readonly apiKey: string } | null
  readonly senderId: string | undefined
  readonly provider: {
    readonly timeoutMs: number
    readonly retry: { readonly retries: number, readonly minDelayMs: number, readonly maxDelayMs: number }
    /** Longest Retry-After (ms) waited out; beyond it sends fail fast and dispatch pauses for that long. */
    readonly retryAfterMaxMs: number
    /** Infobip's idempotent message sending is enabled on the account: a re-send of a messageId is then refused by Infobip. */
    readonly idempotency: boolean
    /** After an unknown hand-over outcome, how long (ms) a message Infobip's logs do not show waits before it is re-sent. */
    readonly outcomeSettleMs: number
    readonly circuit: {
      readonly errorThresholdPercentage: number
      readonly volumeThreshold: number
      /** Rolling window (ms) over which attempts and failures are counted. */
      readonly windowMs: number
      readonly resetTimeoutMs: number
    }
  }
  readonly apiKeys: readonly string[]
  readonly webhookSecret: string | undefined
  readonly publicBaseUrl: string | undefined
  readonly databaseUrl: string
  readonly rateLimit: { readonly max: number, readonly timeWindow: string }
  readonly sendRatePerSecond: number
  readonly sendBatchSize: number
  /** Infobip requests in flight at once; messages arriving while all are busy go together in the next. */
  readonly sendConcurrency: number
  readonly quietHours: TimeWindow
  readonly defaultTimeZone: string
  /** ISO 3166 alpha-2 country in which a number written without + or an international prefix is read. */
  readonly defaultCountry: string
  readonly marketingConsentRequired: boolean
  readonly brandName: string
  readonly supportContact: string | undefined
  readonly optOutFooter: string
  readonly bodyLimitBytes: number
  /** Largest CSV import, in bytes (imports stream; BODY_LIMIT_BYTES does not apply to them). */
  readonly importLimitBytes: number
  readonly shutdownGraceMs: number
  /**
   * The outbox dispatcher: how long a claimed row's lease lasts (ms; renewed every third of it while held, so a
   * dead instance's rows are taken over within about this long). What it does with an unknown hand-over
   * (`provider.outcomeSettleMs`, `provider.idempotency`) is read from `provider`.
   */
  readonly dispatch: { readonly leaseMs: number }
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

function deepFreeze<T> (value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/** The SDK prefixes anything not starting with "http" with https://, so normalise here and refuse nonsense. */
function normaliseBaseUrl (raw: string): string {
  // Another scheme would otherwise become https://ftp//host.
  if (/^[a-z][a-z\d+.-]*:\/\//i.test(raw) && !/^https?:\/\//i.test(raw)) throw new ConfigError('INFOBIP_BASE_URL must be an http(s) URL')
  const candidate = /^https?:\/\//i.test(raw) ? raw : `https://${raw}`
  let url: URL
  try {
    url = new URL(candidate)
  } catch {
    throw new ConfigError(`INFOBIP_BASE_URL is not a valid URL: ${raw}`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('INFOBIP_BASE_URL must be an http(s) URL')
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`
}

/**
 * OUTCOME_SETTLE_MS when unset: twice the request timeout, and at least 5 s. A request that timed out may
 * still be in Infobip's hands for about another timeout, and its message-log entry can lag acceptance by
 * seconds; a re-send before both have passed could duplicate a message Infobip did take.
 */
export function defaultOutcomeSettleMs (timeoutMs: number): number {
  return Math.max(2 * timeoutMs, 5000)
}

/**
 * Validates the environment once. Throws ConfigError whose message is one line naming the variable.
 * Empty strings count as unset, as they do in most .env files.
 */
export function loadConfig (source: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(Env.properties)) {
    const value = source[key]
    if (value !== undefined && value.trim() !== '') raw[key] = value.trim()
  }
  // Value.Convert is lenient ('true' → 1, '3000.5' → 3000, '0x10' → 16): numbers must look like numbers.
  for (const [key, value] of Object.entries(raw)) {
    const type = (Env.properties as Record<string, { type?: unknown }>)[key]?.type
    if (type === 'integer' && !/^-?\d+$/.test(value as string)) throw new ConfigError(`Invalid configuration: ${key} must be an integer`)
    if (type === 'number' && !/^-?(\d+(\.\d+)?|\.\d+)$/.test(value as string)) throw new ConfigError(`Invalid configuration: ${key} must be a number`)
  }
  const withDefaults = Value.Default(Env, raw)
  const converted = Value.Convert(Env, withDefaults)
  const first = [...Value.Errors(Env, converted)][0]
  if (first !== undefined) {
    const name = first.instancePath.replace(/^\//, '') || 'environment'
    throw new ConfigError(`Invalid configuration: ${name} ${first.message}`)
  }
  const env = converted as Env

  const isProduction = env.NODE_ENV === 'production'
  const hasUrl = env.INFOBIP_BASE_URL !== undefined
  const hasKey = env.INFOBIP_API_KEY !== undefined
  if (hasUrl !== hasKey) {
    throw new ConfigError(`Invalid configuration: ${hasUrl ? 'INFOBIP_API_KEY' : 'INFOBIP_BASE_URL'} is required when ${hasUrl ? 'INFOBIP_BASE_URL' : 'INFOBIP_API_KEY'} is set`)
  }
  if (isProduction) {
    for (const name of ['INFOBIP_BASE_URL', 'INFOBIP_API_KEY', 'API_KEYS', 'WEBHOOK_SECRET'] as const) {
      if (env[name] === undefined) throw new ConfigError(`Invalid configuration: ${name} is required when NODE_ENV=production`)
    }
  }
  if (env.RETRY_MIN_DELAY_MS > env.RETRY_MAX_DELAY_MS) {
    throw new ConfigError('Invalid configuration: RETRY_MIN_DELAY_MS must not exceed RETRY_MAX_DELAY_MS')
  }
  // Failures counted before the circuit opened must have left the window when its probe closes it again.
  if (env.CIRCUIT_WINDOW_MS > env.CIRCUIT_RESET_MS) {
    throw new ConfigError('Invalid configuration: CIRCUIT_WINDOW_MS must not exceed CIRCUIT_RESET_MS')
  }
  let quietHours: TimeWindow
  try {
    quietHours = parseWindow(env.QUIET_HOURS)
  } catch (error) {
    throw new ConfigError(`Invalid configuration: QUIET_HOURS ${(error as Error).message}`)
  }
  if (!isTimeZone(env.DEFAULT_TIMEZONE)) throw new ConfigError('Invalid configuration: DEFAULT_TIMEZONE is not an IANA time zone')
  const defaultCountry = env.DEFAULT_COUNTRY.toUpperCase()
  if (!isPhoneCountry(defaultCountry)) throw new ConfigError('Invalid configuration: DEFAULT_COUNTRY is not an ISO 3166 country code the phone-number library knows (e.g. US)')
  const apiKeys = (env.API_KEYS ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '')
  if (env.API_KEYS !== undefined && apiKeys.length === 0) throw new ConfigError('Invalid configuration: API_KEYS has no key')

  return deepFreeze({
    env: env.NODE_ENV,
    isProduction,
    host: env.HOST,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    infobip: hasUrl && hasKey ? { baseUrl: normaliseBaseUrl(env.INFOBIP_BASE_URL!), apiKey: env.INFOBIP_API_KEY! } : null,
    senderId: env.INFOBIP_SENDER_ID,
    provider: {
      timeoutMs: env.INFOBIP_TIMEOUT_MS,
      retry: { retries: env.RETRY_ATTEMPTS, minDelayMs: env.RETRY_MIN_DELAY_MS, maxDelayMs: env.RETRY_MAX_DELAY_MS },
      retryAfterMaxMs: env.RETRY_AFTER_MAX_MS,
      idempotency: env.INFOBIP_IDEMPOTENCY,
      outcomeSettleMs: env.OUTCOME_SETTLE_MS ?? defaultOutcomeSettleMs(env.INFOBIP_TIMEOUT_MS),
      circuit: {
        errorThresholdPercentage: env.CIRCUIT_ERROR_THRESHOLD,
        volumeThreshold: env.CIRCUIT_VOLUME_THRESHOLD,
        windowMs: env.CIRCUIT_WINDOW_MS,
        resetTimeoutMs: env.CIRCUIT_RESET_MS
      }
    },
    apiKeys,
    webhookSecret: env.WEBHOOK_SECRET,
    publicBaseUrl: env.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
    databaseUrl: env.DATABASE_URL,
    rateLimit: { max: env.RATE_LIMIT_MAX, timeWindow: env.RATE_LIMIT_WINDOW },
    sendRatePerSecond: env.SEND_RATE_PER_SECOND,
    sendBatchSize: env.SEND_BATCH_SIZE,
    sendConcurrency: env.SEND_CONCURRENCY,
    quietHours,
    defaultTimeZone: env.DEFAULT_TIMEZONE,
    defaultCountry,
    marketingConsentRequired: env.MARKETING_CONSENT_REQUIRED,
    brandName: env.BRAND_NAME,
    supportContact: env.SUPPORT_CONTACT,
    optOutFooter: env.OPT_OUT_FOOTER,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    importLimitBytes: env.IMPORT_LIMIT_BYTES,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    dispatch: { leaseMs: env.DISPATCH_LEASE_MS }
  })
}

/**
 * Settings that are allowed but leave part of the compliance duty undone; logged once at startup.
 * - No WEBHOOK_SECRET (allowed outside production): Infobip's inbound webhook answers 401, so STOP
 *   replies never arrive and nobody can opt out by SMS.
 * - BRAND_NAME left at its default: HELP and STOP replies must identify the sender (CTIA Messaging
 *   Principles and Best Practices, 5.1).
 * - No SUPPORT_CONTACT in production: HELP replies must say how to get help (CTIA, 5.1.2).
 */
export function startupWarnings (config: Config): string[] {
  const warnings: string[] = []
  if (config.webhookSecret === undefined) {
    warnings.push('WEBHOOK_SECRET is not set: Infobip webhooks are refused with 401, so STOP replies cannot arrive and opt-outs by SMS are lost')
  }
  if (config.brandName === DEFAULT_BRAND_NAME) {
    warnings.push(`BRAND_NAME is not set: HELP and STOP replies and the opt-out footer name the sender as "${DEFAULT_BRAND_NAME}"`)
  }
  if (config.isProduction && config.supportContact === undefined) {
    warnings.push('SUPPORT_CONTACT is not set: HELP replies give no way to reach support')
  }
  return warnings
}
