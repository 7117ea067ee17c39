import type { Config } from '../config.js'
import type { Dialect } from '../db/database.js'
import type { Db } from '../db/schema.js'
import * as consent from '../db/repositories/consent.js'
import * as contacts from '../db/repositories/contacts.js'
import { lockPhoneNumber } from '../db/repositories/locks.js'
import * as messages from '../db/repositories/messages.js'
import type { Purpose } from '../db/repositories/messages.js'
import { withOptOutFooter } from '../domain/footer.js'
import { checkQuietHours } from '../domain/quiet-hours.js'
import { locateNumber } from '../domain/recipient-location.js'
import { frequencyCapFor } from '../domain/rules.js'
import { analyzeSegments } from '../domain/segments.js'
import type { Metrics } from '../metrics.js'
import { createBatcher } from './batcher.js'

const ADMISSION_BATCH = 500

export type BlockCode = 'RECIPIENT_OPTED_OUT' | 'NO_CONSENT' | 'FREQUENCY_CAP'

export type Decision =
  | { outcome: 'allow', text: string }
  | { outcome: 'block', code: BlockCode, reason: string }
  | { outcome: 'defer', code: 'QUIET_HOURS', reason: string, nextAllowedAt: Date }

export interface Admission {
  id: string
  to: string
  text: string
  purpose: Purpose
  senderId: string | null
  now: Date
  campaignId?: string | null
  /** Campaign messages wait for the window (deferred); a direct send is refused instead. */
  deferOutsideWindow?: boolean
}

export interface ComplianceOptions {
  db: Db
  dialect: Dialect
  config: Config
  metrics?: Metrics | undefined
}

/**
 * The one compliance gate. Decides and records in the same transaction, under a per-number lock,
 * so that the decision, the message it produced and the frequency count cannot disagree.
 */
export function createCompliance ({ db, dialect, config, metrics }: ComplianceOptions) {
  async function decide (trx: Db, input: Admission, timezone: string | null): Promise<Decision> {
    if (await consent.isSuppressed(trx, input.to)) {
      return { outcome: 'block', code: 'RECIPIENT_OPTED_OUT', reason: 'The recipient has opted out of messages from this sender' }
    }
    // Transactional messages answer something the person asked for: no consent or quiet-hours rules.
    if (input.purpose === 'transactional') return { outcome: 'allow', text: input.text }

    if (config.marketingConsentRequired && await consent.latestConsent(trx, input.to) !== 'opt_in') {
      return { outcome: 'block', code: 'NO_CONSENT', reason: 'Marketing needs a recorded opt-in from the recipient' }
    }
    const location = locateNumber(input.to)
    const timeZones = timezone !== null ? [timezone] : location.timeZones.length > 0 ? location.timeZones : [config.defaultTimeZone]
    const window = checkQuietHours({ now: input.now, timeZones, region: location.region, country: location.country, defaultWindow: config.quietHours })
    if (!window.allowed) {
      return { outcome: 'defer', code: 'QUIET_HOURS', reason: `Marketing is not allowed now in the recipient's local time: ${window.reason}`, nextAllowedAt: window.nextAllowedAt }
    }
    const cap = frequencyCapFor(location.region ?? undefined)
    if (cap !== null) {
      const since = new Date(input.now.getTime() - cap.windowHours * 60 * 60 * 1000)
      const sent = await messages.countMarketingSince(trx, input.to, since.toISOString())
      if (sent >= cap.max) {
        return { outcome: 'block', code: 'FREQUENCY_CAP', reason: `At most ${cap.max} marketing messages per ${cap.windowHours} h may go to numbers in ${location.region}` }
      }
    }
    return { outcome: 'allow', text: withOptOutFooter(input.text, config.optOutFooter) }
  }

  async function record (trx: Db, input: Admission, decision: Decision, contactId: string | null): Promise<void> {
    const text = decision.outcome === 'allow' ? decision.text : input.text
    const segments = analyzeSegments(text)
    const deferred = decision.outcome === 'defer' && input.deferOutsideWindow === true
    await messages.insertMessages(trx, [{
      id: input.id,
      to: input.to,
      text,
      senderId: input.senderId,
      purpose: input.purpose,
      status: decision.outcome === 'allow' ? 'queued' : deferred ? 'deferred' : 'suppressed',
      campaignId: input.campaignId ?? null,
      contactId,
      segments: segments.segments,
      encoding: segments.encoding,
      decisionReason: decision.outcome === 'allow' ? null : `${decision.code}: ${decision.reason}`,
      createdAt: input.now.toISOString()
    }])
  }

  /**
   * Decides and records a batch of admissions in one transaction. Every number in the batch is locked
   * first, in sorted order (no deadlock between instances); then each admission is decided in arrival
   * order, so it sees the messages recorded before it — a frequency cap cannot be raced past.
   */
  async function admitBatch (batch: Admission[]): Promise<Decision[]> {
    return await db.transaction().execute(async (trx) => {
      for (const number of [...new Set(batch.map((a) => a.to))].sort()) await lockPhoneNumber(trx, dialect, number)
      const decisions: Decision[] = []
      for (const input of batch) {
        const contact = input.purpose === 'marketing' ? await contacts.findContactRouting(trx, input.to) : null
        const decision = await decide(trx, input, contact?.timezone ?? null)
        await record(trx, input, decision, contact?.id ?? null)
        metrics?.complianceDecisions.inc({ outcome: decision.outcome, reason: decision.outcome === 'allow' ? 'none' : decision.code })
        decisions.push(decision)
      }
      return decisions
    })
  }
  const batcher = createBatcher(admitBatch, ADMISSION_BATCH)

  /** Decides, then records the message: queued when allowed, suppressed or deferred with the reason otherwise. */
  async function admit (input: Admission): Promise<Decision> {
    return await batcher.submit(input)
  }

  return { admit, drain: batcher.drain }
}

export type Compliance = ReturnType<typeof createCompliance>
