import type { Db } from '../db/schema.js'
import * as messages from '../db/repositories/messages.js'
import { canTransition, providerProgress, statusFromProvider, type MessageStatus, type ProviderStatusLike } from '../domain/message-status.js'
import type { Clock } from './clock.js'

/** One result of Infobip's delivery-report body, as far as we use it. */
export interface DeliveryReport {
  messageId: string
  bulkId?: string | null | undefined
  sentAt?: string | null | undefined
  doneAt?: string | null | undefined
  price?: { pricePerMessage?: number | null | undefined, currency?: string | null | undefined } | null | undefined
  status?: ProviderStatusLike & { description?: string | null | undefined } | undefined
  error?: { groupId?: number, groupName?: string, id?: number, name?: string, description?: string, permanent?: boolean } | null | undefined
}

/** Infobip writes "2019-11-09T16:00:00.000+0000"; store ISO-8601 UTC like every other timestamp. */
export function normaliseTimestamp (value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null
  const parsed = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
  return Number.isNaN(parsed) ? null : new Date(parsed).toISOString()
}

function errorOf (report: DeliveryReport): messages.Message['error'] {
  const error = report.error
  if (error === null || error === undefined || error.id === 0 || error.name === 'NO_ERROR') return null
  return { code: error.groupName ?? 'PROVIDER', name: error.name ?? null, description: error.description ?? null, permanent: error.permanent ?? null }
}

export function createDeliveryReports ({ db, clock }: { db: Db, clock: Clock }) {
  /**
   * Applies a batch of reports in one transaction. Idempotent: a report that would not move its message
   * forward (repeated, late, or after a final status) changes nothing and counts as ignored, as do
   * reports for messages we never sent.
   */
  async function apply (reports: DeliveryReport[]): Promise<{ processed: number, ignored: number }> {
    const at = clock.now().toISOString()
    return await db.transaction().execute(async (trx) => {
      const known = await messages.findStatuses(trx, [...new Set(reports.map((r) => r.messageId))])
      let processed = 0
      for (const report of reports) {
        const current = known.get(report.messageId)
        if (current === undefined) continue
        const next: MessageStatus = statusFromProvider(report.status)
        if (!canTransition(current.status, next)) continue
        // The same non-final status again (a repeat, or a late PENDING after DELIVERED_TO_OPERATOR) is news
        // only when the provider got further; otherwise it would rewrite providerStatus backwards.
        if (next === current.status && providerProgress(report.status) <= providerProgress(current.providerStatus)) continue
        const applied = await messages.applyReport(trx, current.id, current.status, {
          status: next,
          providerStatus: report.status?.name ?? null,
          error: errorOf(report),
          price: typeof report.price?.pricePerMessage === 'number' && typeof report.price.currency === 'string'
            ? { amount: report.price.pricePerMessage, currency: report.price.currency }
            : null,
          sentAt: normaliseTimestamp(report.sentAt),
          doneAt: normaliseTimestamp(report.doneAt),
          infobipMessageId: report.messageId,
          bulkId: report.bulkId ?? null
        }, at)
        if (applied) {
          current.status = next
          current.providerStatus = report.status?.name ?? null
          processed++
        }
      }
      return { processed, ignored: reports.length - processed }
    })
  }

  return { apply }
}

export type DeliveryReports = ReturnType<typeof createDeliveryReports>
