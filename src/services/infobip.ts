import { Infobip, AuthType } from '@infobip-api/sdk'
import retry from 'async-retry'
import CircuitBreaker from 'opossum'
import { AppError } from '../errors.js'
import { maskPhoneNumbers, type Log } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { DeliveryReport } from './delivery-reports.js'
import type { CircuitState, ProviderMessage, ProviderSendResponse, SmsProvider } from './provider.js'

export type ProviderFailureKind = 'http' | 'timeout' | 'network' | 'invalid-request' | 'invalid-response'

/**
 * A provider failure with what the retry and the caller need, and nothing else: the SDK's own error
 * object carries the API key in its request headers, so it is never kept, logged or returned.
 */
export class ProviderError extends AppError {
  override name = 'ProviderError'
  constructor (
    message: string,
    readonly kind: ProviderFailureKind,
    readonly retryable: boolean,
    readonly httpStatus: number | null = null,
    readonly providerCode: string | null = null,
    readonly retryAfterMs: number | null = null
  ) {
    super('PROVIDER_ERROR', message, { providerStatus: httpStatus, providerCode })
  }
}

export interface InfobipOptions {
  baseUrl: string
  apiKey: string
  timeoutMs: number
  retry: { retries: number, minDelayMs: number, maxDelayMs: number }
  circuit: { errorThresholdPercentage: number, volumeThreshold: number, resetTimeoutMs: number }
  log: Log
  metrics?: Metrics | undefined
}

interface SdkHttpError extends Error {
  code?: string
  response?: { status: number, data?: unknown, headers?: Record<string, unknown> }
}

const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT'])

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter (value: unknown, now = Date.now()): number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null
  const text = String(value).trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  const at = Date.parse(text)
  return Number.isNaN(at) ? null : Math.max(0, at - now)
}

function serviceException (data: unknown): { messageId?: string, text?: string } {
  const requestError = (data as { requestError?: { serviceException?: { messageId?: unknown, text?: unknown } } } | null)?.requestError
  const exception = requestError?.serviceException
  return {
    ...(typeof exception?.messageId === 'string' ? { messageId: exception.messageId } : {}),
    ...(typeof exception?.text === 'string' ? { text: exception.text } : {})
  }
}

/** Turns what the SDK resolved to (it never throws) into our typed error. */
export function toProviderError (error: SdkHttpError): ProviderError {
  const response = error.response
  if (response !== undefined) {
    const status = response.status
    const { messageId, text } = serviceException(response.data)
    const retryable = status >= 500 || status === 429 || status === 408
    const retryAfterMs = parseRetryAfter(response.headers?.['retry-after'])
    // Infobip's text may quote the destination ("Invalid destination address 1415…"); it reaches logs, the message record and the 502 body.
    const description = maskPhoneNumbers(text ?? messageId ?? 'no details')
    return new ProviderError(`Infobip answered ${status}: ${description}`, 'http', retryable, status, messageId ?? null, retryAfterMs)
  }
  if (error.code !== undefined && TIMEOUT_CODES.has(error.code)) {
    return new ProviderError('Infobip did not answer in time', 'timeout', true)
  }
  if (error.code !== undefined && /^(E[A-Z_]+)$/.test(error.code) && error.code !== 'ERR_BAD_REQUEST') {
    return new ProviderError(`Network error talking to Infobip (${error.code})`, 'network', true)
  }
  // The SDK's own input checks produce plain Errors; retrying them cannot help.
  return new ProviderError(`Infobip request rejected before sending: ${maskPhoneNumbers(error.message)}`, 'invalid-request', false)
}

const LOOKUP_CHUNK = 50

function isLogsResponse (data: unknown): data is { results: DeliveryReport[] } {
  return typeof data === 'object' && data !== null && Array.isArray((data as { results?: unknown }).results)
}

function isSendResponse (data: unknown): data is ProviderSendResponse {
  return typeof data === 'object' && data !== null && Array.isArray((data as { messages?: unknown }).messages)
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function stripPlus (number: string): string {
  return number.startsWith('+') ? number.slice(1) : number
}

/** Groups messages with the same text/sender/notifyUrl so one Infobip message carries many destinations. */
function buildPayload (messages: ProviderMessage[]): Record<string, unknown> {
  const groups = new Map<string, { destinations: Array<{ to: string, messageId: string }>, from?: string, text: string, notifyUrl?: string }>()
  const list: Array<{ destinations: Array<{ to: string, messageId: string }>, from?: string, text: string, notifyUrl?: string, notifyContentType?: string }> = []
  for (const message of messages) {
    const key = `${message.from ?? ''}\u0000${message.notifyUrl ?? ''}\u0000${message.text}`
    let group = groups.get(key)
    if (group === undefined) {
      group = {
        destinations: [],
        text: message.text,
        ...(message.from !== undefined ? { from: message.from } : {}),
        ...(message.notifyUrl !== undefined ? { notifyUrl: message.notifyUrl, notifyContentType: 'application/json' } : {})
      }
      groups.set(key, group)
      list.push(group)
    }
    group.destinations.push({ to: stripPlus(message.to), messageId: message.messageId })
  }
  return { messages: list }
}

export function createInfobipProvider (options: InfobipOptions): SmsProvider {
  const client = new Infobip({ baseUrl: options.baseUrl, apiKey: options.apiKey, authType: AuthType.ApiKey })
  const sms = client.channels.sms as {
    send: (payload: Record<string, unknown>) => Promise<unknown>
    logs: { get: (filter: Record<string, unknown>) => Promise<unknown> }
    http: { axios: { defaults: { timeout: number, maxRedirects: number } } }
  }
  // The SDK sets no timeout: a hung Infobip would hang every request.
  sms.http.axios.defaults.timeout = options.timeoutMs
  // Infobip's API does not redirect; never follow one with the API key attached (and skip the
  // redirect-following transport on every request).
  sms.http.axios.defaults.maxRedirects = 0
  const { log, metrics } = options

  /** The SDK resolves to its error instead of throwing; this turns either outcome into data or a typed throw. */
  async function call<T> (request: () => Promise<unknown>, accept: (data: unknown) => data is T): Promise<T> {
    const result = await request()
    if (result instanceof Error) throw toProviderError(result as SdkHttpError)
    const data = (result as { data?: unknown }).data
    if (!accept(data)) throw new ProviderError('Infobip answered with an unexpected body', 'invalid-response', false)
    return data
  }

  async function withRetry<T> (attempt: () => Promise<T>): Promise<T> {
    const { retries, minDelayMs, maxDelayMs } = options.retry
    return await retry(async (bail, attemptNumber) => {
      try {
        const response = await attempt()
        metrics?.providerCalls.inc({ outcome: 'success' })
        return response
      } catch (error) {
        const failure = error as ProviderError
        metrics?.providerCalls.inc({ outcome: 'failure' })
        metrics?.providerFailures.inc({ kind: failure.httpStatus !== null ? String(failure.httpStatus) : failure.kind })
        if (!failure.retryable) {
          bail(failure)
          return undefined as never
        }
        if (attemptNumber <= retries) {
          log.warn({ attempt: attemptNumber, kind: failure.kind, status: failure.httpStatus, code: failure.providerCode }, 'Infobip request failed, retrying')
          // Honour Retry-After (capped): wait out whatever it asks beyond the backoff async-retry adds.
          if (failure.retryAfterMs !== null) await sleep(Math.max(0, Math.min(failure.retryAfterMs, maxDelayMs) - minDelayMs))
        }
        throw failure
      }
    }, { retries, minTimeout: minDelayMs, maxTimeout: maxDelayMs, factor: 2, randomize: false })
  }

  // Every Infobip call goes through the breaker: while it is open, nothing is sent and nothing is asked.
  const breaker = new CircuitBreaker(async (attempt: () => Promise<unknown>) => await withRetry(attempt), {
    timeout: false,
    errorThresholdPercentage: options.circuit.errorThresholdPercentage,
    volumeThreshold: options.circuit.volumeThreshold,
    resetTimeout: options.circuit.resetTimeoutMs,
    // Only failures that say Infobip is unwell open the circuit; our own bad requests do not.
    errorFilter: (error: unknown) => error instanceof ProviderError && !error.retryable
  })
  const state = (): CircuitState => breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed'
  const onStateChange = (): void => {
    metrics?.setCircuitState(state())
    log[breaker.opened ? 'error' : 'info']({ circuit: state() }, `Infobip circuit ${state()}`)
  }
  breaker.on('open', onStateChange)
  breaker.on('halfOpen', onStateChange)
  breaker.on('close', onStateChange)
  metrics?.setCircuitState('closed')

  return {
    name: 'infobip',
    async send (messages) {
      // The SDK mutates its payload, so every attempt gets a fresh one.
      return await fire(async () => await call(async () => await sms.send(buildPayload(messages)), isSendResponse))
    },
    async lookup (messageIds) {
      const found: DeliveryReport[] = []
      // Infobip takes up to 2048 characters of comma-separated ids.
      for (let i = 0; i < messageIds.length; i += LOOKUP_CHUNK) {
        const ids = messageIds.slice(i, i + LOOKUP_CHUNK)
        const logs = await fire(async () => await call(async () => await sms.logs.get({ messageId: ids.join(','), limit: 1000 }), isLogsResponse))
        found.push(...logs.results)
      }
      return found
    },
    circuitState: state,
    async close () {
      breaker.shutdown()
    }
  }

  async function fire<T> (attempt: () => Promise<T>): Promise<T> {
    try {
      return await breaker.fire(attempt) as T
    } catch (error) {
      if (error instanceof ProviderError) throw error
      if ((error as { code?: string }).code === 'EOPENBREAKER') {
        throw new AppError('PROVIDER_UNAVAILABLE', 'Infobip is unavailable; sending is paused until it recovers')
      }
      throw new ProviderError('Unexpected failure calling Infobip', 'invalid-response', false)
    }
  }
}
