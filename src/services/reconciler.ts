import type { Db } from '../db/schema.js'
import * as messages from '../db/repositories/messages.js'
import type { Log } from '../logger.js'
import type { Clock } from './clock.js'
import type { DeliveryReports } from './delivery-reports.js'
import type { SmsProvider } from './provider.js'

const BATCH = 500

export interface ReconcilerOptions {
  db: Db
  provider: SmsProvider
  deliveryReports: DeliveryReports
  clock: Clock
  log: Log
  /** A message is stale when it has not moved for this long. */
  staleAfterMs: number
  /** Ids this process is still working on: never touched, however old. */
  busy: () => ReadonlySet<string>
}

export interface ReconcileResult { interrupted: number, found: number, notSent: number }

/**
 * Settles what a crash (or a kill mid-request) leaves behind. A message is marked `sending` before
 * Infobip is called, so one still `queued` was never handed over: it failed, and is marked so. One
 * still `sending` may or may not have reached Infobip: Infobip's message logs say which — found ones
 * are updated through the delivery-report path, the others failed and are marked so, never resent.
 */
export function createReconciler ({ db, provider, deliveryReports, clock, log, staleAfterMs, busy }: ReconcilerOptions) {
  async function run (): Promise<ReconcileResult> {
    const now = clock.now()
    const cutoff = new Date(now.getTime() - staleAfterMs).toISOString()
    const at = now.toISOString()
    const inProcess = busy()
    const idle = (ids: string[]): string[] => ids.filter((id) => !inProcess.has(id))

    const queued = idle(await messages.findStale(db, 'queued', cutoff, BATCH))
    const interrupted = await messages.failMessages(db, queued, 'queued', {
      code: 'INTERRUPTED', name: null, description: 'The service stopped before this message was handed to Infobip; it was not sent', permanent: false
    }, at)

    const sending = idle(await messages.findStale(db, 'sending', cutoff, BATCH))
    let found = 0
    let notSent = 0
    if (sending.length > 0) {
      const reports = await provider.lookup(sending)
      found = (await deliveryReports.apply(reports)).processed
      const known = new Set(reports.map((r) => r.messageId))
      notSent = await messages.failMessages(db, sending.filter((id) => !known.has(id)), 'sending', {
        code: 'NOT_SENT', name: null, description: 'Infobip has no record of this message; it was not sent', permanent: false
      }, at)
    }
    if (interrupted + found + notSent > 0) log.warn({ interrupted, found, notSent }, 'Reconciled messages left unfinished')
    return { interrupted, found, notSent }
  }

  return { run }
}

export type Reconciler = ReturnType<typeof createReconciler>
