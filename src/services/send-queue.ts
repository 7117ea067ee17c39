import { AppError } from '../errors.js'
import type { Log } from '../logger.js'
import type { Metrics } from '../metrics.js'
import { ProviderError, type ProviderMessage, type ProviderSendResponse, type SmsProvider } from './provider.js'

export interface SendResult {
  bulkId: string | undefined
  entry: ProviderSendResponse['messages'][number]
}

export interface SendQueueHooks {
  /** Called just before a batch is handed to the provider; returns the ids that may still go. */
  beforeSend: (messages: ProviderMessage[]) => Promise<Set<string>>
  /** Called (and awaited) with every message's outcome before the callers hear of it. */
  afterSend: (outcomes: Array<{ message: ProviderMessage, result: SendResult | null, error: unknown }>) => Promise<void>
}

export interface SendQueueOptions {
  provider: SmsProvider
  ratePerSecond: number
  maxBatch: number
  maxInFlight: number
  hooks: SendQueueHooks
  log: Log
  metrics?: Metrics | undefined
}

interface Pending {
  message: ProviderMessage
  resolve: (result: SendResult) => void
  reject: (error: unknown) => void
}

/**
 * Hands messages to the provider no faster than the account's rate. While fewer than `maxInFlight`
 * requests are out, a message goes at once; when they are all out, the waiting messages are sent
 * together in one request. So a quiet service adds no latency, and a busy one pays one provider
 * round trip per batch instead of per message.
 */
export function createSendQueue (options: SendQueueOptions) {
  const { provider, hooks, log, metrics } = options
  const capacity = Math.max(1, options.ratePerSecond)
  let tokens = capacity
  let lastRefill = performance.now()
  const queue: Pending[] = []
  // Every message submitted and not yet settled, queued or in flight: the reconciler leaves these alone.
  const active = new Set<string>()
  let inFlight = 0
  let timer: NodeJS.Timeout | null = null
  let idleWaiters: Array<() => void> = []

  function refill (): void {
    const now = performance.now()
    tokens = Math.min(capacity, tokens + ((now - lastRefill) / 1000) * options.ratePerSecond)
    lastRefill = now
  }

  function pump (): void {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      refill()
      const size = Math.min(queue.length, options.maxBatch, Math.floor(tokens))
      if (size < 1) {
        if (timer === null) {
          const waitMs = Math.ceil(((1 - tokens) / options.ratePerSecond) * 1000)
          timer = setTimeout(() => { timer = null; pump() }, Math.max(1, waitMs))
        }
        break
      }
      tokens -= size
      const batch = queue.splice(0, size)
      inFlight++
      dispatch(batch).finally(() => {
        inFlight--
        pump()
        if (inFlight === 0 && queue.length === 0) {
          const waiters = idleWaiters
          idleWaiters = []
          for (const wake of waiters) wake()
        }
      }).catch((error: unknown) => log.error({ err: error }, 'Send batch failed unexpectedly'))
    }
    metrics?.dispatchQueueDepth.set(queue.length)
  }

  async function dispatch (batch: Pending[]): Promise<void> {
    const messages = batch.map((p) => p.message)
    const outcomes: Array<{ message: ProviderMessage, result: SendResult | null, error: unknown }> = []
    try {
      const cleared = await hooks.beforeSend(messages)
      const going = messages.filter((m) => cleared.has(m.messageId))
      const sent = going.length > 0 ? await sendAll(going) : []
      const byId = new Map(sent.map((o) => [o.message.messageId, o]))
      for (const message of messages) {
        outcomes.push(byId.get(message.messageId) ?? { message, result: null, error: new AppError('RECIPIENT_OPTED_OUT', 'The recipient opted out before the message was sent') })
      }
    } catch (error) {
      // Hooks failing (e.g. the database) fail the whole batch before or after the provider saw it.
      for (const message of messages) outcomes.push({ message, result: null, error })
    }
    try {
      await hooks.afterSend(outcomes)
    } catch (error) {
      log.error({ err: error }, 'Could not record send outcomes; messages stay in sending for reconciliation')
    }
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i]!
      active.delete(batch[i]!.message.messageId)
      if (outcome.result !== null) batch[i]!.resolve(outcome.result)
      else batch[i]!.reject(outcome.error)
    }
  }

  async function sendAll (messages: ProviderMessage[]): Promise<Array<{ message: ProviderMessage, result: SendResult | null, error: unknown }>> {
    try {
      const response = await provider.send(messages)
      metrics?.messagesSent.inc(messages.length)
      const byId = new Map(response.messages.map((entry) => [entry.messageId, entry]))
      return messages.map((message) => {
        const entry = byId.get(message.messageId)
        return entry === undefined
          ? { message, result: null, error: new ProviderError('Infobip did not report on this message', 'invalid-response', false) }
          : { message, result: { bulkId: response.bulkId, entry }, error: null }
      })
    } catch (error) {
      // A request Infobip refused outright may have been refused for one message: retry each alone,
      // so one bad message cannot sink the others sent with it.
      if (messages.length > 1 && error instanceof ProviderError && !error.retryable && error.httpStatus === 400) {
        const results = []
        for (const message of messages) results.push(...await sendAll([message]))
        return results
      }
      return messages.map((message) => ({ message, result: null, error }))
    }
  }

  return {
    submit (message: ProviderMessage): Promise<SendResult> {
      return new Promise<SendResult>((resolve, reject) => {
        active.add(message.messageId)
        queue.push({ message, resolve, reject })
        pump()
      })
    },
    depth: (): number => queue.length + inFlight,
    activeIds: (): ReadonlySet<string> => active,
    /** Resolves once every submitted message has been handed over and recorded. */
    async drain (): Promise<void> {
      if (inFlight === 0 && queue.length === 0) return
      await new Promise<void>((resolve) => idleWaiters.push(resolve))
    },
    stop (): void {
      if (timer !== null) clearTimeout(timer)
      timer = null
    }
  }
}

export type SendQueue = ReturnType<typeof createSendQueue>
