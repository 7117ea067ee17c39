import { randomUUID } from 'node:crypto'
import type { Log } from '../logger.js'
import type { DeliveryReport, ProviderSendResponse, SmsProvider } from './provider.js'

const PENDING = { groupId: 1, groupName: 'PENDING', id: 26, name: 'PENDING_ACCEPTED', description: 'Message sent to next instance' }
const DELIVERED = { groupId: 3, groupName: 'DELIVERED', id: 5, name: 'DELIVERED_TO_HANDSET', description: 'Message delivered to handset' }
const UNDELIVERABLE = { groupId: 2, groupName: 'UNDELIVERABLE', id: 9, name: 'UNDELIVERABLE_NOT_DELIVERED', description: 'Message sent not delivered' }
const UNKNOWN_SUBSCRIBER = { groupId: 1, groupName: 'HANDSET_ERRORS', id: 1, name: 'EC_UNKNOWN_SUBSCRIBER', description: 'Unknown subscriber', permanent: true }
const NO_ERROR = { groupId: 0, groupName: 'OK', id: 0, name: 'NO_ERROR', description: 'No Error', permanent: false }

const KNOWN_LIMIT = 10_000

export interface SandboxOptions {
  log: Log
  /** Delay before the simulated delivery report. */
  reportDelayMs?: number
}

/**
 * In-process stand-in for Infobip when no credentials are configured (never in production): accepts
 * every message and, shortly after, reports it delivered — or undeliverable for numbers ending in 0000 —
 * through the same code path as Infobip's webhook.
 */
export function createSandboxProvider ({ log, reportDelayMs = 250 }: SandboxOptions) {
  let sink: ((reports: DeliveryReport[]) => Promise<unknown>) | null = null
  const timers = new Set<NodeJS.Timeout>()
  // The sandbox's "message logs": the latest reports, for lookup.
  const known = new Map<string, DeliveryReport>()

  const provider: SmsProvider & { onDeliveryReports: (handler: (reports: DeliveryReport[]) => Promise<unknown>) => void } = {
    name: 'sandbox',
    onDeliveryReports (handler) {
      sink = handler
    },
    async send (messages) {
      const bulkId = `sandbox-${randomUUID()}`
      const response: ProviderSendResponse = {
        bulkId,
        messages: messages.map((m) => ({ to: m.to.replace(/^\+/, ''), messageId: m.messageId, status: PENDING }))
      }
      const timer = setTimeout(() => {
        timers.delete(timer)
        const now = new Date().toISOString()
        const reports: DeliveryReport[] = messages.map((m) => {
          const failed = m.to.endsWith('0000')
          return {
            messageId: m.messageId,
            bulkId,
            sentAt: now,
            doneAt: now,
            price: { pricePerMessage: 0, currency: 'EUR' },
            status: failed ? UNDELIVERABLE : DELIVERED,
            error: failed ? UNKNOWN_SUBSCRIBER : NO_ERROR
          }
        })
        for (const report of reports) {
          if (known.size >= KNOWN_LIMIT) known.delete(known.keys().next().value!)
          known.set(report.messageId, report)
        }
        sink?.(reports).catch((error: unknown) => log.error({ err: error }, 'Sandbox delivery report failed'))
      }, reportDelayMs)
      timers.add(timer)
      return response
    },
    async lookup (messageIds) {
      return messageIds.flatMap((id) => known.has(id) ? [known.get(id)!] : [])
    },
    circuitState: () => 'closed',
    pausedForMs: () => 0,
    async close () {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
    }
  }
  return provider
}
