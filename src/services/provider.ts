import { AppError } from '../errors.js'
import type { ProviderStatusLike } from '../domain/message-status.js'

/**
 * The one interface the rest of the service sees of an SMS provider, and the provider-neutral types around
 * it. Infobip (`infobip.ts`, the only module that imports the SDK) and the in-process sandbox implement it.
 */

export interface ProviderStatus {
  groupId: number
  groupName: string
  id: number
  name: string
  description?: string
}

export interface ProviderMessage {
  /** Our own message id, sent as destinations[].messageId so responses, logs and delivery reports map straight back. */
  messageId: string
  /** E.164 with the leading +. */
  to: string
  text: string
  from?: string | undefined
  notifyUrl?: string | undefined
}

/** Infobip's own response body for POST /sms/2/text/advanced, passed through untouched. */
export interface ProviderSendResponse {
  bulkId?: string
  messages: Array<{ to: string, messageId: string, status: ProviderStatus, [key: string]: unknown }>
  [key: string]: unknown
}

/**
 * What the provider knows of one message: a delivery report (webhook), an entry of the message logs
 * (GET /sms/1/logs) or, reduced to messageId/bulkId/status, an entry of a send answer. Infobip's shape.
 */
export interface DeliveryReport {
  messageId: string
  bulkId?: string | null | undefined
  sentAt?: string | null | undefined
  doneAt?: string | null | undefined
  price?: { pricePerMessage?: number | null | undefined, currency?: string | null | undefined } | null | undefined
  status?: ProviderStatusLike & { description?: string | null | undefined } | undefined
  error?: { groupId?: number, groupName?: string, id?: number, name?: string, description?: string, permanent?: boolean } | null | undefined
}

/**
 * Whether the provider may hold a request that failed:
 * - 'not-sent': proof that nothing of it was accepted (no connection was made, or the provider answered
 *   that it refused the request), so sending it again cannot duplicate anything;
 * - 'unknown': the provider may have accepted some or all of it (timeout, connection reset after the
 *   request was written, a gateway's 502/504, a 500, an unreadable success). Never re-send blind: look
 *   the ids up first (Infobip: "Hand-over exactly once" in the project's Infobip notes).
 */
export type HandoverOutcome = 'not-sent' | 'unknown'

/** 'held': nothing was sent because Infobip's Retry-After hold was in force (only with `waitOutHold: false`). */
export type ProviderFailureKind = 'http' | 'timeout' | 'network' | 'invalid-request' | 'invalid-response' | 'held'

/**
 * A provider failure with what the retry, the dispatcher and the caller need, and nothing else: the SDK's
 * own error object carries the API key in its request headers, so it is never kept, logged or returned.
 * `retryable`: a later attempt may succeed (the failure is transient). `outcome`: whether a later attempt is
 * safe without a look-up. When `outcome` is not given it is 'unknown' unless the request never left this
 * process ('invalid-request'): claiming 'not-sent' needs proof.
 */
export class ProviderError extends AppError {
  override name = 'ProviderError'
  readonly outcome: HandoverOutcome
  constructor (
    message: string,
    readonly kind: ProviderFailureKind,
    readonly retryable: boolean,
    readonly httpStatus: number | null = null,
    readonly providerCode: string | null = null,
    /** Retry-After as the provider sent it, in ms; null when it sent none. */
    readonly retryAfterMs: number | null = null,
    outcome?: HandoverOutcome
  ) {
    const resolved = outcome ?? (kind === 'invalid-request' ? 'not-sent' : 'unknown')
    super('PROVIDER_ERROR', message, { providerStatus: httpStatus, providerCode, outcome: resolved })
    this.outcome = resolved
  }
}

export type CircuitState = 'closed' | 'open' | 'half-open'

export interface SendOptions {
  /**
   * true (default): a Retry-After hold up to RETRY_AFTER_MAX_MS is waited out inside `send`, and a failure
   * that sets one is retried once it has passed. false (the dispatcher, which paces sends with the throttle):
   * neither; `send` throws a not-sent, retryable ProviderError carrying `retryAfterMs` — Infobip's 429 (or 503)
   * itself, or kind 'held' when the hold was already in force and no request was made — so that the caller
   * waits the hold out and takes throttle tokens again for the next attempt.
   */
  waitOutHold?: boolean
}

export interface SmsProvider {
  readonly name: 'infobip' | 'sandbox'
  /**
   * Hands messages over in one HTTP request (messages with the same text, sender and notifyUrl grouped).
   * Retries `not-sent` retryable failures itself (async-retry, RETRY_* backoff; a Retry-After is waited out as
   * sent, up to RETRY_AFTER_MAX_MS, whatever RETRY_MAX_DELAY_MS says, unless `options.waitOutHold` is false).
   * A failure whose outcome is `unknown` is thrown at once, never retried here.
   * @throws ProviderError (code PROVIDER_ERROR) when Infobip refused the request or the outcome is unknown, or
   *   (`waitOutHold: false`) a Retry-After hold stopped it: not-sent, with `retryAfterMs`.
   * @throws AppError('PROVIDER_UNAVAILABLE', …, { retryAfterMs }) without calling Infobip while the circuit is
   *   open (or its one half-open probe is out), or while a Retry-After hold longer than RETRY_AFTER_MAX_MS is in force.
   */
  send: (messages: ProviderMessage[], options?: SendOptions) => Promise<ProviderSendResponse>
  /**
   * What the provider knows of these messages: Infobip's message logs (GET /sms/1/logs, several ids per
   * request, comma-separated within 2048 characters). Ids it does not show are left out: logs lag behind
   * acceptance, so a missing id is not proof that the message was not sent. Same errors as `send`.
   */
  lookup: (messageIds: string[]) => Promise<DeliveryReport[]>
  circuitState: () => CircuitState
  /**
   * ms until sending may resume: the rest of an open circuit's reset time, or of a Retry-After hold (a 429
   * is about the account, so the hold applies to every request); 0 when a request may go now.
   */
  pausedForMs: () => number
  close: () => Promise<void>
}
