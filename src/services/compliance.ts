import type { Config } from '../config.js'
import type { Dialect } from '../db/database.js'
import type { Db, MessageOrigin } from '../db/schema.js'
import * as consent from '../db/repositories/consent.js'
import * as contacts from '../db/repositories/contacts.js'
import { heldKeys } from '../db/repositories/idempotency.js'
import { lockPhoneNumbers } from '../db/repositories/locks.js'
import * as messages from '../db/repositories/messages.js'
import { capWindowStart, decide, type Decision, type Policy, type Purpose } from '../domain/compliance.js'
import { analyzeSegments } from '../domain/segments.js'
import type { Metrics } from '../metrics.js'
import { createBatcher } from './batcher.js'

export type { Decision } from '../domain/compliance.js'

const ADMISSION_BATCH = 500

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
  /** When allowed, insert the row already leased to this dispatcher (claimed in the same transaction). */
  lease?: { owner: string, expiresAt: string } | undefined
  /** Where the message comes from (default 'api'), and a note kept on the record (e.g. which campaign a test send tried). */
  origin?: MessageOrigin | undefined
  note?: string | undefined
  /**
   * The Idempotency-Key (scoped) this message was claimed under, its id being the message id the key names: the
   * message is admitted only while the key still names it (a repeat that took the key over after 5 s without a
   * message — the request looked dead — must not meet a second copy, src/services/idempotency.ts).
   */
  idempotencyKey?: string | undefined
}

/**
 * The decision, and the segments of the text as recorded (footer included). `superseded`: nothing was decided
 * or recorded, because the admission's Idempotency-Key no longer names it (a repeat took it over).
 */
export type Admitted = { superseded: false, decision: Decision, segments: number, encoding: string, contactId: string | null } | { superseded: true }

export interface ComplianceOptions {
  db: Db
  dialect: Dialect
  config: Config
  metrics?: Metrics | undefined
}

/** The rules the gate applies, as configured (MARKETING_CONSENT_REQUIRED, QUIET_HOURS, DEFAULT_TIMEZONE, OPT_OUT_FOOTER). */
export function compliancePolicy (config: Config): Policy {
  return {
    consentRequired: config.marketingConsentRequired,
    quietHours: config.quietHours,
    defaultTimeZone: config.defaultTimeZone,
    optOutFooter: config.optOutFooter
  }
}

/**
 * The one compliance gate. Admissions arriving together are decided and recorded in one transaction:
 * every number is locked, the facts about all of them are read in a few queries, each admission is
 * decided in arrival order (counting the ones admitted before it, so a frequency cap cannot be raced
 * past), and all resulting messages are written at once — queued when allowed, suppressed or deferred
 * with the reason otherwise.
 */
export function createCompliance ({ db, dialect, config, metrics }: ComplianceOptions) {
  const policy = compliancePolicy(config)

  async function admitBatch (batch: Admission[]): Promise<Admitted[]> {
    return await db.transaction().execute(async (trx) => {
      const numbers = [...new Set(batch.map((a) => a.to))]
      const marketing = [...new Set(batch.filter((a) => a.purpose === 'marketing').map((a) => a.to))]
      await lockPhoneNumbers(trx, dialect, numbers)
      const fenced = batch.filter((a) => a.idempotencyKey !== undefined).map((a) => ({ key: a.idempotencyKey!, messageId: a.id }))
      const held = await heldKeys(trx, dialect, fenced)
      // Consent decides only marketing; every message is checked against suppression.
      const ledger = await consent.ledgerStates(trx, numbers, new Set(marketing))
      const routing = await contacts.findRoutingAmong(trx, marketing)
      const recent = await recentMarketing(trx, batch)

      const admitted: Admitted[] = []
      const rows: messages.NewMessage[] = []
      for (const input of batch) {
        if (input.idempotencyKey !== undefined && !held.has(input.idempotencyKey)) {
          admitted.push({ superseded: true })
          continue
        }
        const state = ledger.get(input.to)
        const contact = input.purpose === 'marketing' ? routing.get(input.to) ?? null : null
        const counted = recent.get(input.to)
        const decision = decide(input, {
          suppressed: state?.suppressed ?? false,
          consent: state?.latest?.type ?? null,
          timezone: contact?.timezone ?? null,
          recentMarketing: counted?.count ?? 0,
          recentMarketingOldestAt: counted?.oldestAt ?? null
        }, policy)
        if (decision.outcome === 'allow' && input.purpose === 'marketing') {
          recent.set(input.to, { count: (counted?.count ?? 0) + 1, oldestAt: counted?.oldestAt ?? input.now.toISOString() })
        }
        const row = messageFor(input, decision, contact?.id ?? null)
        rows.push(row)
        // The label says what happened to the message: a quiet-hours refusal of a direct send is a block
        // (status suppressed), only a message that waits is a deferral (status deferred).
        const outcome = row.status === 'deferred' ? 'defer' : row.status === 'suppressed' ? 'block' : 'allow'
        metrics?.complianceDecisions.inc({ outcome, reason: decision.outcome === 'allow' ? 'none' : decision.code })
        admitted.push({ superseded: false, decision, segments: row.segments, encoding: row.encoding, contactId: row.contactId ?? null })
      }
      await messages.insertMessages(trx, rows)
      return admitted
    })
  }

  /** Marketing already handed over to each capped number within its window (the earliest window in the batch: the stricter count). */
  async function recentMarketing (trx: Db, batch: Admission[]): Promise<Map<string, messages.MarketingCount>> {
    let since: Date | null = null
    const capped = new Set<string>()
    for (const input of batch) {
      if (input.purpose !== 'marketing') continue
      const start = capWindowStart(input.to, input.now)
      if (start === null) continue
      capped.add(input.to)
      if (since === null || start < since) since = start
    }
    return since === null ? new Map() : await messages.countMarketingSince(trx, [...capped], since.toISOString())
  }

  function messageFor (input: Admission, decision: Decision, contactId: string | null): messages.NewMessage {
    const text = decision.outcome === 'allow' ? decision.text : input.text
    const segments = analyzeSegments(text)
    const deferred = decision.outcome === 'defer' && input.deferOutsideWindow === true
    const leased = decision.outcome === 'allow' && input.lease !== undefined
    return {
      id: input.id,
      to: input.to,
      text,
      senderId: input.senderId,
      purpose: input.purpose,
      status: leased ? 'sending' : decision.outcome === 'allow' ? 'queued' : deferred ? 'deferred' : 'suppressed',
      ...(leased ? { lease: input.lease } : {}),
      campaignId: input.campaignId ?? null,
      contactId,
      segments: segments.segments,
      encoding: segments.encoding,
      decisionReason: decision.outcome === 'allow' ? input.note ?? null : `${decision.code}: ${decision.reason}`,
      createdAt: input.now.toISOString(),
      ...(input.origin !== undefined ? { origin: input.origin } : {})
    }
  }

  const batcher = createBatcher(admitBatch, ADMISSION_BATCH)

  return {
    /** Decides and records one message; resolves once the record is committed. */
    admit: async (input: Admission): Promise<Admitted> => await batcher.submit(input),
    drain: batcher.drain
  }
}

export type Compliance = ReturnType<typeof createCompliance>
