import { Infobip, AuthType } from '@infobip-api/sdk'
import retry from 'async-retry'
import CircuitBreaker from 'opossum'
import { circuitTrip, nextFailureRun, type CircuitRule, type CircuitTrip } from '../domain/circuit.js'
import { AppError } from '../errors.js'
import { maskPhoneNumbers, type Log } from '../logger.js'
import type { Metrics } from '../metrics.js'
import {
  ProviderError,
  type CircuitState,
  type DeliveryReport,
  type HandoverOutcome,
  type ProviderMessage,
  type ProviderSendResponse,
  type SmsProvider
} from './provider.js'

export interface InfobipOptions {
  baseUrl: string
  apiKey: string
  /** Per HTTP request, ms (the SDK sets none). */
  timeoutMs: number
  /** async-retry: retries after the first attempt; exponential backoff (factor 2) between the two delays, ms. */
  retry: { retries: number, minDelayMs: number, maxDelayMs: number }
  /** Longest Retry-After (ms) that is waited out; a longer one makes sends fail fast with PROVIDER_UNAVAILABLE. */
  retryAfterMaxMs: number
  /**
   * The breaker over every HTTP attempt (rule: src/domain/circuit.ts): opens when the last `consecutiveFailures`
   * attempts failed, or when within the last `windowMs` at least `volumeThreshold` attempts were made and more
   * than `errorThresholdPercentage` % of them failed; half-opens after `resetTimeoutMs` (one probe).
   */
  circuit: CircuitRule & { resetTimeoutMs: number, windowMs: number }
  log: Log
  metrics?: Metrics | undefined
}

/** What the SDK resolves to on failure: axios's error (with `response` when Infobip answered), or a plain Error. */
interface SdkHttpError extends Error {
  code?: string
  response?: { status: number, data?: unknown, headers?: Record<string, unknown> }
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3); returns ms, or null when absent or unreadable. */
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

/**
 * Whether Infobip may hold a request it answered with this HTTP status.
 * - Below 500 (4xx, including 408 and 429; a 3xx, which Infobip's API never sends): the request was refused
 *   before it was processed (RFC 9110 §15.5: the client's error; 429: RFC 6585 §4) → 'not-sent'.
 * - 503 with Infobip's own error body (`requestError.serviceException`): Infobip answering that it is not
 *   taking requests → 'not-sent'. A 503 without that body comes from something in between that may have
 *   passed the request on → 'unknown'.
 * - 502 and 504 come from a gateway whose upstream may have processed the request (RFC 9110 §15.6.3, §15.6.5) → 'unknown'.
 * - 500, decided deliberately: it is raised by the server that accepts the messages, possibly after it
 *   accepted some of a request's messages, and Infobip documents no guarantee that a 500 accepted nothing.
 *   Treating it as 'unknown' costs one message-log look-up; treating it as 'not-sent' risks a second SMS.
 * - Any other 5xx → 'unknown', for the same reason.
 */
export function outcomeOfStatus (status: number, hasInfobipBody: boolean): HandoverOutcome {
  if (status < 500) return 'not-sent'
  if (status === 503 && hasInfobipBody) return 'not-sent'
  return 'unknown'
}

/**
 * Failures that can only happen before a connection exists (refused, no DNS answer), or that a connect or
 * DNS system call reports: no byte of the request reached Infobip.
 */
const NO_CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'])
const CONNECT_SYSCALLS = new Set(['connect', 'getaddrinfo'])
/** axios's own timeout (ECONNABORTED, or ETIMEDOUT with transitional.clarifyTimeoutError). */
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT'])

/**
 * Turns what the SDK resolved to (it never throws) into our typed error, keeping nothing of the SDK's
 * error (it holds the API key). Refused and reset connections are told apart: a refused connection (or a
 * failed DNS look-up or connect) proves nothing was sent; a reset or a timeout after the connection was made
 * may come after Infobip read the request, so its outcome is unknown.
 */
export function toProviderError (error: SdkHttpError): ProviderError {
  const response = error.response
  if (response !== undefined) {
    const status = response.status
    const { messageId, text } = serviceException(response.data)
    const retryable = status >= 500 || status === 429 || status === 408
    const retryAfterMs = parseRetryAfter(response.headers?.['retry-after'])
    // Infobip's text may quote the destination ("Invalid destination address 1415…"); it reaches logs, the message record and the 502 body.
    const description = maskPhoneNumbers(text ?? messageId ?? 'no details')
    return new ProviderError(`Infobip answered ${status}: ${description}`, 'http', retryable, status, messageId ?? null, retryAfterMs,
      outcomeOfStatus(status, messageId !== undefined))
  }
  // axios copies the system error's code; the system call that failed is on its cause.
  const cause = error.cause as { code?: unknown, syscall?: unknown } | undefined
  const code = error.code ?? (typeof cause?.code === 'string' ? cause.code : undefined)
  const syscall = typeof cause?.syscall === 'string' ? cause.syscall : undefined
  if (code !== undefined && (NO_CONNECTION_CODES.has(code) || (syscall !== undefined && CONNECT_SYSCALLS.has(syscall)))) {
    return new ProviderError(`Could not connect to Infobip (${code})`, 'network', true, null, null, null, 'not-sent')
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new ProviderError('Infobip did not answer in time', 'timeout', true, null, null, null, 'unknown')
  }
  if (code !== undefined && /^E[A-Z]+$/.test(code)) {
    return new ProviderError(`Connection to Infobip lost during the request (${code})`, 'network', true, null, null, null, 'unknown')
  }
  if (code === undefined) {
    // The SDK's own input checks produce plain Errors before any request: nothing sent, and retrying cannot help.
    return new ProviderError(`Infobip request rejected before sending: ${maskPhoneNumbers(error.message)}`, 'invalid-request', false, null, null, null, 'not-sent')
  }
  return new ProviderError(`Infobip request failed (${code})`, 'network', false, null, null, null, 'unknown')
}

/** Whether a failure says Infobip (or the way to it) is unwell: only these count against the circuit. */
function countsAgainstCircuit (error: unknown): boolean {
  if (!(error instanceof ProviderError)) return true
  if (error.kind === 'http') return error.httpStatus !== null && (error.httpStatus >= 500 || error.httpStatus === 408)
  return error.kind !== 'invalid-request'
}

/** Infobip takes several ids comma-separated in one `messageId` parameter, up to 2048 characters. */
export const LOOKUP_MAX_CHARS = 2048

/** Splits ids into comma-joined groups of at most LOOKUP_MAX_CHARS characters each. */
export function lookupChunks (messageIds: string[]): string[] {
  const chunks: string[] = []
  let current = ''
  for (const id of messageIds) {
    if (current !== '' && current.length + 1 + id.length > LOOKUP_MAX_CHARS) {
      chunks.push(current)
      current = ''
    }
    current = current === '' ? id : `${current},${id}`
  }
  if (current !== '') chunks.push(current)
  return chunks
}

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

/**
 * The Infobip adapter: SDK calls with a timeout, typed errors, retries of what provably was not sent, a
 * circuit breaker over every HTTP attempt, and the account-wide Retry-After hold.
 */
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

  /** Until when (epoch ms) Infobip asked every request to wait (Retry-After); 0: no hold. */
  let holdUntil = 0
  let openedAt = 0

  /** One HTTP attempt: the SDK resolves to its error instead of throwing; this turns either into data or a typed throw. */
  async function call<T> (request: () => Promise<unknown>, accept: (data: unknown) => data is T): Promise<T> {
    const result = await request()
    if (result instanceof Error) {
      const failure = toProviderError(result as SdkHttpError)
      // A Retry-After (429 or 503) is about the account: every request waits, not only this one.
      if (failure.retryAfterMs !== null) holdUntil = Math.max(holdUntil, Date.now() + failure.retryAfterMs)
      throw failure
    }
    const data = (result as { data?: unknown }).data
    // Infobip answered 2xx with something we cannot read: it may well have accepted the messages.
    if (!accept(data)) throw new ProviderError('Infobip answered with an unexpected body', 'invalid-response', false, null, null, null, 'unknown')
    return data
  }

  // Every HTTP attempt goes through the breaker (not one call spanning all retries), so a burst of failed
  // attempts opens it within the window at any traffic level.
  const breaker = new CircuitBreaker(async (attempt: () => Promise<unknown>) => await attempt(), {
    timeout: false,
    errorThresholdPercentage: options.circuit.errorThresholdPercentage,
    // opossum keeps the counts and the open/half-open/closed states; whether a closed circuit opens is
    // decided below (src/domain/circuit.ts), so opossum's own rate check never fires while closed. A failed
    // half-open probe still re-opens it here.
    volumeThreshold: Number.MAX_SAFE_INTEGER,
    resetTimeout: options.circuit.resetTimeoutMs,
    rollingCountTimeout: options.circuit.windowMs,
    rollingCountBuckets: 10,
    // Percentiles and snapshots would be recomputed on every failure and every bucket; nothing reads them.
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
    // Only failures that say Infobip is unwell count; our own bad requests and a 429 (handled by the hold) do not.
    errorFilter: (error: unknown) => !countsAgainstCircuit(error)
  })
  const state = (): CircuitState => breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed'
  /** Failed attempts since the last success (a filtered error, such as a 429 or a 400, is one). */
  let failureRun = 0
  /** Why it is opening, for the log line. */
  let trip: CircuitTrip | 'failed-probe' | null = null
  breaker.on('success', () => { failureRun = nextFailureRun(failureRun, 'success') })
  breaker.on('failure', () => {
    failureRun = nextFailureRun(failureRun, 'failure')
    if (breaker.halfOpen) trip = 'failed-probe'
    if (!breaker.closed) return
    const stats = breaker.stats
    trip = circuitTrip({ failureRun, windowAttempts: stats.fires, windowFailures: stats.failures }, options.circuit)
    if (trip !== null) breaker.open()
  })
  const onStateChange = (): void => {
    if (breaker.opened) openedAt = Date.now()
    // A closed circuit starts counting its run afresh.
    if (breaker.closed) failureRun = 0
    metrics?.setCircuitState(state())
    log[breaker.opened ? 'error' : 'info']({ circuit: state(), ...(breaker.opened && trip !== null ? { rule: trip } : {}) }, `Infobip circuit ${state()}`)
    trip = null
  }
  breaker.on('open', onStateChange)
  breaker.on('halfOpen', onStateChange)
  breaker.on('close', onStateChange)
  metrics?.setCircuitState('closed')

  const holdRemaining = (): number => Math.max(0, holdUntil - Date.now())

  function circuitWait (): number {
    if (breaker.opened) return Math.max(1, openedAt + options.circuit.resetTimeoutMs - Date.now())
    // Half-open with its one probe out: ask again shortly.
    if (breaker.halfOpen && !breaker.pendingClose) return Math.min(options.timeoutMs, 1000)
    return 0
  }

  const pausedForMs = (): number => Math.max(circuitWait(), holdRemaining())

  function unavailable (): AppError {
    const hold = holdRemaining()
    const circuit = circuitWait()
    const retryAfterMs = Math.max(hold, circuit, 1)
    return circuit >= hold
      ? new AppError('PROVIDER_UNAVAILABLE', 'Infobip is unavailable; sending is paused until it recovers', { retryAfterMs })
      : new AppError('PROVIDER_UNAVAILABLE', `Infobip asked to wait ${Math.ceil(hold / 1000)} s before the next request (Retry-After); sending is paused until then`, { retryAfterMs })
  }

  /**
   * Waits out a Retry-After hold up to retryAfterMaxMs; a longer one fails fast. With `wait` false, a hold
   * within retryAfterMaxMs is reported instead (a not-sent ProviderError of kind 'held' with its retryAfterMs).
   */
  async function waitForHold (wait: boolean): Promise<void> {
    for (let remaining = holdRemaining(); remaining > 0; remaining = holdRemaining()) {
      if (remaining > options.retryAfterMaxMs) throw unavailable()
      if (!wait) {
        throw new ProviderError(`Infobip asked to wait ${Math.ceil(remaining / 1000)} s before the next request (Retry-After); nothing was sent`,
          'held', true, null, null, remaining, 'not-sent')
      }
      await sleep(remaining)
    }
  }

  async function attempt<T> (request: () => Promise<unknown>, accept: (data: unknown) => data is T, waitOutHold: boolean): Promise<T> {
    if (breaker.opened) throw unavailable()
    await waitForHold(waitOutHold)
    try {
      const data = await breaker.fire(async () => await call(request, accept)) as T
      metrics?.providerCalls.inc({ outcome: 'success' })
      return data
    } catch (error) {
      // Open (or its half-open probe already out), or shut down by close(): nothing was sent.
      const code = (error as { code?: string }).code
      if (code === 'EOPENBREAKER' || code === 'ESHUTDOWN') throw unavailable()
      const failure = error instanceof ProviderError ? error : new ProviderError('Unexpected failure calling Infobip', 'invalid-response', false)
      metrics?.providerCalls.inc({ outcome: 'failure' })
      metrics?.providerFailures.inc({ kind: failure.httpStatus !== null ? String(failure.httpStatus) : failure.kind })
      throw failure
    }
  }

  /**
   * Runs attempts with async-retry. `mayRetry` decides which failures are retried; the loop also stops, with
   * PROVIDER_UNAVAILABLE, as soon as the circuit is open or Infobip asked for a wait longer than we wait out.
   * PROVIDER_UNAVAILABLE is only thrown when no attempt of this call can have been accepted: a failure of
   * unknown outcome is never retried by `send`, so it ends the loop first.
   */
  async function withRetry<T> (request: () => Promise<unknown>, accept: (data: unknown) => data is T, mayRetry: (failure: ProviderError) => boolean, waitOutHold = true): Promise<T> {
    const { retries, minDelayMs, maxDelayMs } = options.retry
    return await retry(async (bail, attemptNumber) => {
      try {
        return await attempt(request, accept, waitOutHold)
      } catch (error) {
        if (!(error instanceof ProviderError)) {
          bail(error as Error)
          return undefined as never
        }
        // A hold reported to the caller instead of waited out (`waitOutHold` false): not retried here.
        const reported = !waitOutHold && error.outcome === 'not-sent' && error.retryAfterMs !== null
        // Nothing of this call was accepted, and the circuit opened or Infobip asked for a longer wait than we
        // wait out: answer like any send in that state, whatever attempts are left.
        if ((mayRetry(error) || reported) && (breaker.opened || holdRemaining() > options.retryAfterMaxMs)) {
          bail(unavailable())
          return undefined as never
        }
        if (reported || !mayRetry(error)) {
          bail(error)
          return undefined as never
        }
        if (attemptNumber <= retries) {
          log.warn({ attempt: attemptNumber, kind: error.kind, status: error.httpStatus, code: error.providerCode }, 'Infobip request failed, retrying')
        }
        throw error
      }
    }, { retries, minTimeout: minDelayMs, maxTimeout: maxDelayMs, factor: 2, randomize: false })
  }

  return {
    name: 'infobip',
    async send (messages, sendOptions) {
      // The SDK mutates its payload, so every attempt gets a fresh one. Only what provably was not
      // accepted is sent again: the same messageIds, so Infobip's idempotent sending (when enabled) applies too.
      return await withRetry(async () => await sms.send(buildPayload(messages)), isSendResponse,
        (failure) => failure.retryable && failure.outcome === 'not-sent', sendOptions?.waitOutHold ?? true)
    },
    async lookup (messageIds) {
      const wanted = new Set(messageIds)
      const found: DeliveryReport[] = []
      for (const ids of lookupChunks([...wanted])) {
        // A read changes nothing at Infobip: any transient failure may be retried.
        const logs = await withRetry(async () => await sms.logs.get({ messageId: ids, limit: 1000 }), isLogsResponse,
          (failure) => failure.retryable)
        for (const entry of logs.results) if (wanted.has(entry.messageId)) found.push(entry)
      }
      return found
    },
    circuitState: state,
    pausedForMs,
    async close () {
      breaker.shutdown()
    }
  }
}
