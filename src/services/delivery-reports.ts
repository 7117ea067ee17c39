import type { Db } from '../db/schema.js'
import * as messages from '../db/repositories/messages.js'
import { settle } from '../domain/message-status.js'
import type { Clock } from './clock.js'
import type { DeliveryReport } from './provider.js'

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

type Executor = Parameters<typeof messages.findStatuses>[0]

const WAITING: ReadonlySet<string> = new Set(['queued', 'deferred'])

export function createDeliveryReports ({ db, clock }: { db: Db, clock: Clock }) {
  /**
   * Applies Infobip's word about messages — delivery reports, message-log entries, or a send answer's
   * per-message statuses reduced to `{ messageId, bulkId, status }` — through the status lattice (`settle`
   * in src/domain/message-status.ts): a duplicate-id rejection never overwrites the message that went, a
   * failure concluded for lack of knowledge can be settled, a final status never moves. Idempotent: what
   * changes nothing counts as ignored, as do reports for messages we never sent. Runs on `executor`, which
   * may be the caller's transaction.
   */
  async function applyIn (executor: Executor, reports: DeliveryReport[]): Promise<{ processed: number, ignored: number }> {
    const at = clock.now().toISOString()
    const known = await messages.findStatuses(executor, [...new Set(reports.map((r) => r.messageId))])
    let processed = 0
    // In our id order (stable, so one message's reports keep theirs): every multi-row writer of messages locks
    // rows in that order, so a batch of reports cannot deadlock with the recording of a hand-over (PostgreSQL).
    const ordered = reports.map((report) => ({ report, current: known.get(report.messageId) }))
      .sort((a, b) => compareIds(a.current?.id ?? '', b.current?.id ?? ''))
    for (const { report, current } of ordered) {
      // A message waiting for its first hand-over (queued or deferred, never attempted) is one Infobip cannot know: a
      // report naming it is forged or mistaken, and must not settle a message that still has to go.
      if (current === undefined || report.status === undefined || (current.attempts === 0 && WAITING.has(current.status))) continue
      const decision = settle(current, { from: 'provider', status: report.status })
      if (!decision.apply) continue
      const applied = decision.statusOnly
        ? await messages.markAcceptedByDuplicate(executor, current.id, current.status, at)
        : await messages.applyReport(executor, current.id, current.status, {
          status: decision.status,
          providerStatus: report.status.name ?? null,
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
        current.status = decision.status
        if (!decision.statusOnly) current.providerStatus = report.status.name ?? null
        current.errorCode = decision.statusOnly ? null : errorOf(report)?.code ?? null
        processed++
      }
    }
    return { processed, ignored: reports.length - processed }
  }

  /** `applyIn` in a transaction of its own. */
  async function apply (reports: DeliveryReport[]): Promise<{ processed: number, ignored: number }> {
    return await db.transaction().execute(async (trx) => await applyIn(trx, reports))
  }

  return { apply, applyIn }
}

export type DeliveryReports = ReturnType<typeof createDeliveryReports>

/** Code-unit order (what `Array.prototype.sort` and PostgreSQL's C collation use for these ASCII ids). */
function compareIds (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
