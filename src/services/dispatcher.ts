import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Dialect } from '../db/database.js'
import type { Db } from '../db/schema.js'
import * as consent from '../db/repositories/consent.js'
import * as contacts from '../db/repositories/contacts.js'
import * as messages from '../db/repositories/messages.js'
import * as outbox from '../db/repositories/outbox.js'
import type { OutboxRow } from '../db/repositories/outbox.js'
import { capWindowStart, decide, type Policy } from '../domain/compliance.js'
import { isDuplicateRejection, settle, statusFromProvider, type RecordedStatus } from '../domain/message-status.js'
import { analyzeSegments } from '../domain/segments.js'
import { AppError } from '../errors.js'
import type { Log } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { Clock } from './clock.js'
import type { DeliveryReports } from './delivery-reports.js'
import { ProviderError, type DeliveryReport, type ProviderMessage, type ProviderSendResponse, type SmsProvider } from './provider.js'
import type { Throttle } from './throttle.js'

/**
 * The outbox dispatcher: the one place messages are handed to the provider.
 *
 * Cycle: take tokens from the throttle → claim that many due rows (single sends and replies first, then each
 * sending campaign in turn), re-checking compliance for the batch at claim time → hand the batch to the provider
 * in one request (messages with the same text grouped) → record each outcome. The lease on a claimed row
 * (owner, expiry) is renewed while this process holds it; if the process dies, the lease expires and any
 * dispatcher settles the row.
 *
 * Exactly once: a hand-over whose outcome is unknown (timeout, reset, 502/504, a crash mid-request) is never
 * re-sent blind. Its ids are looked up in Infobip's logs: found → recorded with Infobip's status; not found →
 * re-sent with the same messageId only after `settleMs` (at once when Infobip's idempotent sending is enabled,
 * since Infobip then refuses a second copy itself).
 */

export type DispatchStep = 'claimed' | 'handed-over' | 'recorded'

/** Named points in the cycle where tests inject a crash: a thrown error there abandons the batch as a kill would. */
export interface FaultInjector { at: (step: DispatchStep, ids: string[]) => void }

export interface HandoverResult { bulkId: string | undefined, entry: ProviderSendResponse['messages'][number] }

export interface CampaignTemplate { id: string, message: string, senderId: string | null }

export interface DispatcherOptions {
  db: Db
  dialect: Dialect
  provider: SmsProvider
  throttle: Throttle
  deliveryReports: DeliveryReports
  clock: Clock
  log: Log
  metrics?: Metrics | undefined
  policy: Policy
  /** Messages per provider request (SEND_BATCH_SIZE). */
  batchSize: number
  /** Provider requests in flight at once. */
  maxInFlight: number
  /** Lease length in ms; renewed every third of it while held. */
  leaseMs: number
  /** How long a message whose hand-over is unknown, and that Infobip's logs do not show, waits before a re-send (ms). */
  settleMs: number
  /** Infobip's idempotent sending is enabled on the account: a not-found message may be re-sent at once. */
  idempotent: boolean
  notifyUrl?: string | undefined
  /** The sending campaigns (dispatch order is round-robin among them). */
  sendingCampaigns: () => Promise<CampaignTemplate[]>
  /**
   * Renders a campaign's template for one recipient (synchronous: it runs per message). Throws an AppError
   * when that recipient's message cannot be rendered; the row is then refused with the error as its reason.
   */
  render: (campaign: CampaignTemplate, fields: RecipientFields) => string
  /** SQLite: this dispatcher is the only one on its database file, so leases found at start are orphans. */
  soleDispatcher: boolean
  faults?: FaultInjector | undefined
}

export interface RecipientFields { firstName: string | null, lastName: string | null, phoneNumber: string, attributes: Record<string, string> }

const IDLE_POLL_MS = 200
/** Rows in hand longer than this since their compliance check get another look at the suppression list (ms). */
const LAST_LOOK_AFTER_MS = 50
const LOOKUP_INTERVAL_MS = 1000
const RESOLVE_BATCH = 500
const RETRY_BACKOFF_MS = 30_000
const MAX_ATTEMPTS = 10
/** The longest an opt-out's answer waits for a request in progress to its number (ms): a request's own timeouts end it sooner. */
const HAND_OVER_SETTLE_WAIT_MS = 10_000

interface Waiter { resolve: (result: HandoverResult) => void, reject: (error: unknown) => void }

export function createDispatcher (options: DispatcherOptions) {
  const { db, dialect, provider, throttle, clock, log, metrics, faults } = options
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  /** Rows this process holds under its lease, waiting for tokens (single sends and re-sends), with when they came. */
  const ready: OutboxRow[] = []
  const readySince = new Map<string, number>()
  const waiters = new Map<string, Waiter>()
  const held = new Set<string>()
  /** Numbers with a request to Infobip in progress (how many), and who waits for them to settle. */
  const onTheWay = new Map<string, number>()
  const settledWaiters = new Map<string, Array<() => void>>()
  /** Rows whose unknown outcome this process is settling (looked up, waiting for the settle delay). */
  const resolving = new Set<string>()
  let inFlight = 0
  let running = false
  let loop: Promise<void> | null = null
  let wake: (() => void) | null = null
  let nextDbClaimAt = 0
  let campaignCursor = 0
  const timers = new Set<NodeJS.Timeout>()
  const pendingWork = new Set<Promise<unknown>>()
  let lastTickAt = 0
  /** Until when (epoch ms) Infobip's Retry-After holds the rows in hand: they take their tokens after it. */
  let heldUntil = 0

  const nowIso = (): string => clock.now().toISOString()
  const leaseUntil = (): string => new Date(clock.now().getTime() + options.leaseMs).toISOString()
  const lease = (): outbox.Lease => ({ owner, expiresAt: leaseUntil() })

  function track<T> (work: Promise<T>): Promise<T> {
    pendingWork.add(work)
    work.finally(() => pendingWork.delete(work)).catch(() => undefined)
    return work
  }

  function later (ms: number, run: () => Promise<void>): void {
    const timer = setTimeout(() => {
      timers.delete(timer)
      if (running) track(run()).catch((error: unknown) => log.error({ err: error }, 'Outbox follow-up failed'))
    }, ms)
    timers.add(timer)
  }

  function signal (): void {
    const w = wake
    wake = null
    w?.()
  }

  async function pause (ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { wake = null; resolve() }, Math.max(1, ms))
      wake = () => { clearTimeout(timer); resolve() }
    })
  }

  // ---- claiming -------------------------------------------------------------------------------------------

  /** Claims up to `limit` due rows from the database, deciding each at claim time. */
  async function claimDue (limit: number): Promise<OutboxRow[]> {
    const now = clock.now()
    const at = now.toISOString()
    const claimed: OutboxRow[] = []
    const campaigns = await options.sendingCampaigns()
    const sources: Array<CampaignTemplate | null> = [null]
    for (let i = 0; i < campaigns.length; i++) sources.push(campaigns[(campaignCursor + i) % campaigns.length]!)
    campaignCursor++
    for (const campaign of sources) {
      if (claimed.length >= limit) break
      const rows = await db.transaction().execute(async (trx) => {
        const due = await outbox.selectDue(trx, dialect, campaign?.id ?? null, at, limit - claimed.length)
        if (due.length === 0) return []
        return await decideClaim(trx, due, campaign, now)
      })
      claimed.push(...rows)
    }
    return claimed
  }

  /** The compliance re-check at claim time, and rendering; writes every row's decision in the same transaction. */
  async function decideClaim (trx: Db, due: OutboxRow[], campaign: CampaignTemplate | null, now: Date): Promise<OutboxRow[]> {
    const at = now.toISOString()
    const numbers = [...new Set(due.map((r) => r.to))]
    const ledger = await consent.ledgerStates(trx, numbers)
    const fields = campaign === null ? new Map() : await contacts.findRecipientFields(trx, due.map((r) => r.contactId).filter((id): id is string => id !== null))
    const marketing = due.filter((r) => r.purpose === 'marketing')
    const capSince = earliest(marketing.map((r) => capWindowStart(r.to, now)))
    const recent = capSince === null ? new Map<string, messages.MarketingCount>() : await messages.countMarketingSince(trx, [...new Set(marketing.map((r) => r.to))], capSince.toISOString())

    const going: outbox.ClaimedRow[] = []
    const deferred: outbox.DeferredRow[] = []
    const refused: outbox.RefusedRow[] = []
    const out: OutboxRow[] = []
    for (const row of due) {
      if (row.validUntil !== null && row.validUntil <= at) {
        refused.push({ id: row.id, status: 'expired', reason: 'EXPIRED: not handed over before its validUntil; never sent late' })
        continue
      }
      const state = ledger.get(row.to)
      // A reply the service owes (an opt-out confirmation, HELP) goes even to a suppressed number.
      if (row.origin === 'reply') {
        going.push({ id: row.id, text: row.text, segments: 0, encoding: '' })
        out.push(row)
        continue
      }
      const contact = row.contactId === null ? undefined : fields.get(row.contactId)
      let text = row.text
      if (campaign !== null) {
        if (contact === undefined) {
          refused.push({ id: row.id, status: 'suppressed', reason: 'CONTACT_ERASED: the contact was deleted before hand-over' })
          continue
        }
        try {
          text = options.render(campaign, contact)
        } catch (error) {
          // This recipient's fields make the template fail (its memory limit): refuse the row, not the batch.
          if (!(error instanceof AppError)) throw error
          refused.push({ id: row.id, status: 'suppressed', reason: `${error.code}: ${error.message}` })
          continue
        }
        // Nothing but white space once rendered (fields this contact lacks): an empty SMS is never sent.
        if (text.trim() === '') {
          refused.push({ id: row.id, status: 'suppressed', reason: 'EMPTY_MESSAGE: the template rendered no text for this recipient' })
          continue
        }
      }
      const decision = decide({ to: row.to, text, purpose: row.purpose, now }, {
        suppressed: state?.suppressed ?? false,
        consent: state?.latest?.type ?? null,
        timezone: contact?.timezone ?? null,
        recentMarketing: recent.get(row.to)?.count ?? 0,
        recentMarketingOldestAt: recent.get(row.to)?.oldestAt ?? null
      }, options.policy)
      if (decision.outcome === 'block') {
        refused.push({ id: row.id, status: 'suppressed', reason: `${decision.code}: ${decision.reason}` })
        metrics?.complianceDecisions.inc({ outcome: 'block', reason: decision.code })
        continue
      }
      if (decision.outcome === 'defer') {
        deferred.push({ id: row.id, dueAt: decision.nextAllowedAt.toISOString(), reason: `${decision.code}: ${decision.reason}` })
        metrics?.complianceDecisions.inc({ outcome: 'defer', reason: decision.code })
        continue
      }
      if (row.purpose === 'marketing') recent.set(row.to, { count: (recent.get(row.to)?.count ?? 0) + 1, oldestAt: recent.get(row.to)?.oldestAt ?? at })
      const info = analyzeSegments(decision.text)
      going.push({ id: row.id, text: decision.text, segments: info.segments, encoding: info.encoding })
      out.push({ ...row, text: decision.text, senderId: row.senderId ?? campaign?.senderId ?? null })
      if (row.dueAt !== null) metrics?.dispatchLag.observe(Math.max(0, now.getTime() - Date.parse(row.dueAt)) / 1000)
    }
    await outbox.applyClaim(trx, { dialect, going, rendered: campaign !== null, deferred, refused, lease: lease(), nowIso: at })
    return out
  }

  // ---- hand-over ----------------------------------------------------------------------------------------

  function toProviderMessage (row: OutboxRow): ProviderMessage {
    return {
      messageId: row.id,
      to: row.to,
      text: row.text,
      ...(row.senderId !== null ? { from: row.senderId } : {}),
      ...(options.notifyUrl !== undefined ? { notifyUrl: options.notifyUrl } : {})
    }
  }

  /**
   * The last look before hand-over: rows that waited in this process longer than LAST_LOOK_AFTER_MS since their
   * compliance check (single sends held up by the throttle or busy request slots, re-sends) are checked against
   * the suppression list once more, so an opt-out that arrived meanwhile still stops them.
   */
  async function lastLook (batch: OutboxRow[]): Promise<OutboxRow[]> {
    const now = Date.now()
    const waited = batch.filter((r) => r.origin !== 'reply' && now - (readySince.get(r.id) ?? 0) >= LAST_LOOK_AFTER_MS)
    for (const row of batch) readySince.delete(row.id)
    const numbers = [...new Set(waited.map((r) => r.to))]
    if (numbers.length === 0) return batch
    const suppressed = await consent.suppressedAmong(db, numbers)
    if (suppressed.size === 0) return batch
    const [stopped, going] = partition(batch, (r) => waited.includes(r) && suppressed.has(r.to))
    await outbox.settleUnsent(db, stopped.map((r) => r.id), owner, 'suppressed', { reason: 'RECIPIENT_OPTED_OUT: the recipient opted out before the message was handed over' }, nowIso())
    for (const row of stopped) rejectWaiter(row.id, new AppError('RECIPIENT_OPTED_OUT', 'The recipient opted out before the message was sent'))
    return going
  }

  async function handOver (claimed: OutboxRow[], checked = false): Promise<void> {
    const batch = checked ? claimed : await lastLook(claimed)
    if (batch.length === 0) return
    const ids = batch.map((r) => r.id)
    for (const id of ids) held.add(id)
    try {
      faults?.at('claimed', ids)
      let response: ProviderSendResponse
      for (const row of batch) onTheWay.set(row.to, (onTheWay.get(row.to) ?? 0) + 1)
      try {
        response = await provider.send(batch.map(toProviderMessage), { waitOutHold: false })
      } catch (error) {
        leftTheWay(batch)
        await handOverFailed(batch, error)
        return
      }
      leftTheWay(batch)
      metrics?.messagesSent.inc(batch.length)
      faults?.at('handed-over', ids)
      const byId = new Map(response.messages.map((entry) => [entry.messageId, entry]))
      const at = nowIso()
      const outcomes: messages.SendOutcome[] = []
      const missing: OutboxRow[] = []
      for (const row of batch) {
        const entry = byId.get(row.id)
        if (entry === undefined) { missing.push(row); continue }
        outcomes.push(outcomeOf(row.id, response.bulkId, entry, at))
      }
      await messages.recordSendOutcomes(db, dialect, outcomes, owner)
      faults?.at('recorded', ids)
      for (const row of batch) {
        const entry = byId.get(row.id)
        // A duplicate-id refusal of a re-send means the first hand-over went: the caller hears "accepted".
        if (entry !== undefined) settleWaiter(row.id, { bulkId: response.bulkId, entry: isDuplicateRejection(entry.status) ? { ...entry, status: ACCEPTED_EARLIER } : entry })
      }
      // Infobip answered without a word on these: it may or may not have them.
      if (missing.length > 0) await outcomeUnknown(missing)
    } catch (error) {
      if (error instanceof InjectedCrash) throw error
      log.error({ err: error, count: batch.length }, 'Recording a hand-over failed; the lease will expire and the outcome be looked up')
    } finally {
      for (const id of ids) held.delete(id)
    }
  }

  /** The batch's request is over (answered or failed): wakes whoever waits for those numbers to settle. */
  function leftTheWay (batch: OutboxRow[]): void {
    for (const row of batch) {
      const left = (onTheWay.get(row.to) ?? 1) - 1
      if (left > 0) { onTheWay.set(row.to, left); continue }
      onTheWay.delete(row.to)
      for (const settled of settledWaiters.get(row.to) ?? []) settled()
      settledWaiters.delete(row.to)
    }
  }

  async function handOverFailed (batch: OutboxRow[], error: unknown): Promise<void> {
    const at = clock.now()
    if (error instanceof ProviderError && error.outcome === 'unknown') {
      log.warn({ count: batch.length, kind: error.kind, status: error.httpStatus }, 'Hand-over outcome unknown; looking the messages up before any re-send')
      await outcomeUnknown(batch)
      return
    }
    if (error instanceof ProviderError && error.outcome === 'not-sent' && error.retryable && error.retryAfterMs !== null) {
      // Infobip asked us to wait (Retry-After, 429 or 503): nothing was sent. The rows stay in hand (a waiting
      // caller keeps waiting) and go once the hold has passed, on tokens taken then: tokens taken before a hold
      // are never spent after it, so the rate after a 429 storm stays within SEND_RATE_PER_SECOND. They get the
      // last look at the suppression list again.
      heldUntil = Math.max(heldUntil, Date.now() + error.retryAfterMs)
      for (const row of batch) readySince.set(row.id, 0)
      ready.unshift(...batch)
      // Nor does the bucket release a burst when it ends: the account was just told it went too fast.
      await throttle.pauseUntil(heldUntil)
      return
    }
    if (error instanceof AppError && error.code === 'PROVIDER_UNAVAILABLE') {
      // Nothing reached Infobip. A waiting caller hears it now; queued work waits for the provider.
      const [single, rest] = partition(batch, (r) => waiters.has(r.id))
      await outbox.settleUnsent(db, single.map((r) => r.id), owner, 'failed', { error: { code: 'PROVIDER_UNAVAILABLE', name: null, description: error.message, permanent: false } }, at.toISOString())
      for (const row of single) rejectWaiter(row.id, error)
      const resumeAt = new Date(at.getTime() + Math.max(provider.pausedForMs(), 1000)).toISOString()
      await outbox.requeue(db, rest.map((r) => r.id), owner, resumeAt, at.toISOString(), false)
      return
    }
    if (error instanceof ProviderError && !error.retryable && error.httpStatus === 400 && batch.length > 1) {
      // Infobip refused the request, perhaps for one message: each goes alone so one cannot sink the rest.
      for (const row of batch) await handOver([row], true)
      return
    }
    const failure = error instanceof AppError ? error : new ProviderError('Unexpected failure while sending', 'invalid-response', false)
    const retryable = error instanceof ProviderError && error.retryable
    const [single, rest] = partition(batch, (r) => waiters.has(r.id) || !retryable || r.attempts >= MAX_ATTEMPTS)
    await outbox.settleUnsent(db, single.map((r) => r.id), owner, 'failed', {
      error: { code: failure.code, name: error instanceof ProviderError ? error.providerCode : null, description: failure.message, permanent: !retryable }
    }, at.toISOString())
    for (const row of single) rejectWaiter(row.id, failure)
    await outbox.requeue(db, rest.map((r) => r.id), owner, new Date(at.getTime() + RETRY_BACKOFF_MS).toISOString(), at.toISOString(), true)
  }

  async function outcomeUnknown (rows: OutboxRow[]): Promise<void> {
    await outbox.noteUnknown(db, rows.map((r) => r.id), owner, nowIso())
    // This hand-over is over for them; from here on they are being settled (and may be re-sent).
    for (const row of rows) held.delete(row.id)
    const since = nowIso()
    for (const row of rows) row.outcomeUnknownSince = since
    await resolve(rows)
  }

  // ---- resolving unknown outcomes ---------------------------------------------------------------------------

  /**
   * Looks rows of unknown outcome up in Infobip's logs. Found → recorded through the delivery-report path.
   * Not found → looked up again every second until `settleMs` after the doubt began (logs lag), then re-sent
   * with the same messageId; with idempotent sending enabled, re-sent at once.
   */
  async function resolve (candidates: OutboxRow[], continuing = false): Promise<void> {
    // A row already being settled in this process is never settled twice at once.
    const rows = continuing ? candidates : candidates.filter((r) => !resolving.has(r.id))
    if (rows.length === 0) return
    for (const row of rows) resolving.add(row.id)
    const done = (settled: OutboxRow[]): void => { for (const row of settled) resolving.delete(row.id) }
    let reports: DeliveryReport[]
    try {
      reports = await provider.lookup(rows.map((r) => r.id))
    } catch (error) {
      log.warn({ count: rows.length, code: (error as AppError).code }, 'Message-log look-up failed; will try again')
      later(Math.max(provider.pausedForMs(), LOOKUP_INTERVAL_MS), async () => await resolve(rows, true))
      return
    }
    // Only rows still leased to this dispatcher go on (a stall past the lease lets another take over).
    const owned = await outbox.extendLeases(db, rows.map((r) => r.id), owner, leaseUntil())
    const lost = rows.filter((r) => !owned.has(r.id))
    done(lost)
    rows.splice(0, rows.length, ...rows.filter((r) => owned.has(r.id)))
    const found = new Map(reports.map((r) => [r.messageId, r]))
    const [known, unseen] = partition(rows, (r) => found.has(r.id))
    done(known)
    if (known.length > 0) {
      await options.deliveryReports.apply(known.map((r) => found.get(r.id)!))
      await outbox.clearLeases(db, known.map((r) => r.id), owner)
      for (const row of known) {
        const report = found.get(row.id)!
        settleWaiter(row.id, { bulkId: report.bulkId ?? undefined, entry: { to: row.to.replace(/^\+/, ''), messageId: row.id, status: reportStatus(report) } })
      }
    }
    if (unseen.length === 0) return
    const now = clock.now()
    const at = now.toISOString()
    // Never sooner than a second after the latest attempt, even with idempotent sending: an Infobip failing
    // every request must not be hammered with the same message.
    const settleMs = options.idempotent ? Math.min(options.settleMs, LOOKUP_INTERVAL_MS) : options.settleMs
    const [settled, waiting] = partition(unseen, (r) => now.getTime() - Date.parse(r.outcomeUnknownSince ?? at) >= settleMs)
    if (waiting.length > 0) later(LOOKUP_INTERVAL_MS, async () => await resolve(waiting, true))
    done(settled)
    if (settled.length === 0) return
    const [late, resend] = partition(settled, (r) => r.validUntil !== null && r.validUntil <= at)
    await outbox.settleUnsent(db, late.map((r) => r.id), owner, 'expired', { reason: 'EXPIRED: Infobip has no record of it and its validUntil has passed; never sent late' }, at)
    for (const row of late) rejectWaiter(row.id, new AppError('PROVIDER_ERROR', 'The message could not be handed over before it expired'))
    if (resend.length === 0) return
    log.warn({ count: resend.length }, 'Infobip has no record of messages whose hand-over was unknown; re-sending with the same ids')
    ready.push(...resend.filter((r) => !held.has(r.id) && !ready.includes(r)))
    for (const row of resend) readySince.set(row.id, 0)
    signal()
  }

  /** Settles rows whose lease expired (their dispatcher died) or that were left for a look-up. */
  async function resolveOrphans (): Promise<number> {
    const rows = await outbox.claimUnresolved(db, dialect, lease(), nowIso(), RESOLVE_BATCH)
    if (rows.length > 0) {
      log.warn({ count: rows.length }, 'Settling messages whose hand-over a stopped dispatcher left unfinished')
      await resolve(rows)
    }
    return rows.length
  }

  // ---- waiters (POST /send-sms waits for its own row) ---------------------------------------------------------

  function settleWaiter (id: string, result: HandoverResult): void {
    const waiter = waiters.get(id)
    if (waiter === undefined) return
    waiters.delete(id)
    waiter.resolve(result)
  }

  function rejectWaiter (id: string, error: unknown): void {
    const waiter = waiters.get(id)
    if (waiter === undefined) return
    waiters.delete(id)
    waiter.reject(error)
  }

  // ---- the loop -----------------------------------------------------------------------------------------------

  /** One dispatch step; returns how long to wait before the next (0: go on at once). */
  async function tick (): Promise<number> {
    lastTickAt = Date.now()
    if (inFlight >= options.maxInFlight) return IDLE_POLL_MS
    // Rows in hand wait out Infobip's Retry-After hold here, holding no tokens.
    if (heldUntil > Date.now()) return Math.min(heldUntil - Date.now(), 1000)
    const paused = provider.pausedForMs()
    // While the provider is paused only rows already in hand go (and fail fast); nothing new is claimed.
    const mayClaim = paused === 0 && Date.now() >= nextDbClaimAt
    if (ready.length === 0 && !mayClaim) return paused > 0 ? Math.min(paused, 1000) : Math.max(1, nextDbClaimAt - Date.now())
    // Rows in hand (a caller waiting) go with the first token; a claim from the outbox waits for a batch's worth.
    const { granted, waitMs } = await throttle.take(options.batchSize, ready.length > 0 ? 1 : options.batchSize)
    if (granted === 0) return Math.max(1, waitMs)
    const batch = takeReady(granted)
    const fromReady = batch.length
    if (batch.length < granted && mayClaim) {
      const claimed = await claimDue(granted - batch.length)
      if (claimed.length < granted - batch.length) nextDbClaimAt = Date.now() + IDLE_POLL_MS
      batch.push(...claimed)
    }
    await throttle.refund(granted - batch.length)
    if (batch.length === 0) return ready.length > 0 ? 0 : IDLE_POLL_MS
    inFlight++
    // Claimed rows were checked in their claim transaction; rows that waited in hand get a last look.
    const work = fromReady === batch.length ? handOver(batch) : fromReady === 0 ? handOver(batch, true) : handOver(batch.slice(0, fromReady)).then(async () => await handOver(batch.slice(fromReady), true))
    track(work).catch((error: unknown) => {
      if (!(error instanceof InjectedCrash)) log.error({ err: error }, 'Hand-over failed unexpectedly')
    }).finally(() => {
      inFlight--
      signal()
    })
    return 0
  }

  function takeReady (max: number): OutboxRow[] {
    if (ready.length === 0) return []
    return ready.splice(0, max)
  }

  async function run (): Promise<void> {
    // `running` is cleared by stop() while this loop awaits.
    // eslint-disable-next-line no-unmodified-loop-condition
    while (running) {
      let waitMs: number
      try {
        waitMs = await tick()
      } catch (error) {
        log.error({ err: error }, 'Dispatch step failed; retrying')
        waitMs = 1000
      }
      if (waitMs > 0 && running) await pause(waitMs)
    }
  }

  let renewTimer: NodeJS.Timeout | null = null
  let orphanTimer: NodeJS.Timeout | null = null

  return {
    owner,

    /** Starts dispatching: settles what an earlier process left, then claims and hands over until stopped. */
    async start (): Promise<void> {
      if (running) return
      running = true
      if (options.soleDispatcher) {
        const orphans = await outbox.expireAllLeases(db, nowIso())
        if (orphans > 0) log.warn({ count: orphans }, 'Found messages a stopped process left mid-hand-over; looking them up')
      }
      await track(resolveOrphans()).catch((error: unknown) => log.warn({ err: error }, 'Could not settle orphaned messages yet'))
      loop = run()
      renewTimer = setInterval(() => {
        const ids = new Set([...held, ...ready.map((r) => r.id), ...waiters.keys(), ...resolving])
        if (ids.size === 0) return
        track(outbox.renewLeases(db, dialect, [...ids], owner, leaseUntil())).catch((error: unknown) => log.warn({ err: error }, 'Could not renew leases'))
      }, Math.max(100, Math.floor(options.leaseMs / 3)))
      orphanTimer = setInterval(() => {
        track(resolveOrphans()).catch((error: unknown) => log.warn({ err: error }, 'Could not settle orphaned messages'))
      }, Math.max(250, Math.floor(options.leaseMs / 3)))
    },

    /** Stops claiming; waits for batches in flight to be recorded. Rows still in hand keep their lease. */
    async stop (): Promise<void> {
      if (!running) return
      running = false
      if (renewTimer !== null) clearInterval(renewTimer)
      if (orphanTimer !== null) clearInterval(orphanTimer)
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      signal()
      await loop
      while (pendingWork.size > 0) await Promise.allSettled([...pendingWork])
      for (const [id, waiter] of waiters) {
        waiter.reject(new AppError('NOT_READY', 'The service is shutting down; the message stays in the outbox'))
        waiters.delete(id)
      }
    },

    /** Something became due (a reply, a launch, a resume): claim without waiting for the next poll. */
    wake (): void {
      nextDbClaimAt = 0
      signal()
    },

    /**
     * Hands over a row already leased to this dispatcher (a single send admitted in the same transaction) and
     * resolves with Infobip's answer for it; rejects with the error that ended it.
     */
    submitLeased (row: OutboxRow): Promise<HandoverResult> {
      return new Promise<HandoverResult>((resolve, reject) => {
        waiters.set(row.id, { resolve, reject })
        ready.push(row)
        readySince.set(row.id, Date.now())
        signal()
      })
    },

    /**
     * Resolves once no request to Infobip carrying a message to `phoneNumber` (E.164) is in progress in this
     * process, or after HAND_OVER_SETTLE_WAIT_MS (ms) at the most. The inbound webhook answers an opt-out only
     * then (src/services/inbound.ts).
     */
    handOversSettled (phoneNumber: string): Promise<void> {
      if (!onTheWay.has(phoneNumber)) return Promise.resolve()
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, HAND_OVER_SETTLE_WAIT_MS)
        const list = settledWaiters.get(phoneNumber) ?? []
        list.push(() => { clearTimeout(timer); resolve() })
        settledWaiters.set(phoneNumber, list)
      })
    },

    leaseFor: lease,
    /** The caller stopped waiting (it answered already); the row is handed over and recorded all the same. */
    forget (id: string): void { waiters.delete(id) },
    /** Rows in hand and waiting for tokens (single sends, re-sends). */
    depth: (): number => ready.length + held.size,
    isRunning: (): boolean => running,
    /** ms since the loop last ran a step (readiness). */
    idleForMs: (): number => running ? Date.now() - lastTickAt : Infinity,
    /** For tests driving the dispatcher step by step. */
    tick,
    resolveOrphans
  }
}

export type Dispatcher = ReturnType<typeof createDispatcher>

/** Thrown by a fault injector to abandon a batch mid-cycle as a crash would. */
export class InjectedCrash extends Error {
  override name = 'InjectedCrash'
}

function partition<T> (items: T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = []
  const no: T[] = []
  for (const item of items) (test(item) ? yes : no).push(item)
  return [yes, no]
}

function earliest (dates: Array<Date | null>): Date | null {
  let min: Date | null = null
  for (const date of dates) if (date !== null && (min === null || date < min)) min = date
  return min
}

function reportStatus (report: DeliveryReport): ProviderSendResponse['messages'][number]['status'] {
  return {
    groupId: report.status?.groupId ?? 0,
    groupName: report.status?.groupName ?? 'UNKNOWN',
    id: report.status?.id ?? 0,
    name: report.status?.name ?? 'UNKNOWN',
    ...(report.status?.description !== undefined && report.status.description !== null ? { description: report.status.description } : {})
  }
}

/** A leased row whose answer is being recorded: in flight, as far as its record knows. */
/** What a caller is told of a message Infobip already had (its re-send was refused as a duplicate id). */
const ACCEPTED_EARLIER = Object.freeze({ groupId: 1, groupName: 'PENDING', id: 26, name: 'PENDING_ACCEPTED', description: 'Accepted by an earlier hand-over of the same messageId' })

const HANDED_OVER: RecordedStatus = { status: 'sending', providerStatus: null, errorCode: null }

/**
 * What Infobip's answer for one message means for its record, through the status lattice: a
 * REJECTED_DUPLICATE_MESSAGE_ID says the first hand-over went, so the record becomes `accepted` and keeps
 * nothing of the duplicate. (recordSendOutcomes leaves a record a delivery report already moved on.)
 */
export function outcomeOf (id: string, bulkId: string | undefined, entry: ProviderSendResponse['messages'][number], at: string): messages.SendOutcome {
  const settled = settle(HANDED_OVER, { from: 'provider', status: entry.status })
  const statusOnly = settled.apply && settled.statusOnly
  return {
    id,
    status: settled.apply ? settled.status : statusFromProvider(entry.status),
    infobipMessageId: entry.messageId,
    bulkId: bulkId ?? null,
    providerStatus: statusOnly ? null : entry.status.name,
    error: null,
    at
  }
}
