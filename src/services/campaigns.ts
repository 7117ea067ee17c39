import type { Config } from '../config.js'
import type { Dialect } from '../db/database.js'
import type { Db } from '../db/schema.js'
import * as campaigns from '../db/repositories/campaigns.js'
import type { Audience, Campaign, CampaignChanges } from '../db/repositories/campaigns.js'
import * as consent from '../db/repositories/consent.js'
import * as contacts from '../db/repositories/contacts.js'
import * as messages from '../db/repositories/messages.js'
import { transition, type CampaignAction, type CampaignStatus } from '../domain/campaign-status.js'
import { capWindowStart, decide, type BlockCode } from '../domain/compliance.js'
import { withOptOutFooter } from '../domain/footer.js'
import { isId, newId } from '../domain/ids.js'
import { mustReadPhoneNumber } from '../domain/phone.js'
import { analyzeSegments, type Encoding } from '../domain/segments.js'
import { compileTemplate, renderTemplate, type CompiledTemplate, type TemplateFields } from '../domain/templates.js'
import { AppError } from '../errors.js'
import type { CampaignView, CreateCampaignBody, UpdateCampaignBody } from '../schemas/campaigns.js'
import type { Clock } from './clock.js'
import { compliancePolicy } from './compliance.js'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { decodeCursor, page } from './pagination.js'
import type { SendingService } from './sending.js'

/** Contacts per INSERT … SELECT when a launch materialises its audience. */
const MATERIALISE_PAGE = 10_000
/** Audience members read per round trip by the preview. */
const PREVIEW_PAGE = 1000
const PREVIEW_SAMPLES = 5
/** Default validity: a message not handed over within 24 h of the campaign's start expires. */
const DEFAULT_VALIDITY_MS = 24 * 60 * 60 * 1000
/** An opt-out this soon after a campaign message counts against the campaign (contract: 72 h). */
const OPT_OUT_WINDOW_HOURS = 72
/** Launch attempts when a message id collides with one another process wrote (see materialiseAudience). */
const LAUNCH_ATTEMPTS = 3

const REASONS = {
  optedOut: 'RECIPIENT_OPTED_OUT: opted out before the campaign was launched',
  noConsent: 'NO_CONSENT: no recorded opt-in when the campaign was launched',
  cancelled: 'CANCELLED: the campaign was cancelled before this message was handed over'
}

const DONE: Record<CampaignAction, string> = {
  edit: 'edited',
  launch: 'launched',
  schedule: 'launched',
  start: 'started',
  pause: 'paused',
  resume: 'resumed',
  cancel: 'cancelled',
  complete: 'completed'
}

export interface CampaignsOptions {
  db: Db
  dialect: Dialect
  config: Config
  clock: Clock
  /** Test sends go through the single-send path (suppression list included). */
  sending: Pick<SendingService, 'sendSingle'>
  /** Source of UUIDv7s (tests inject one to force a message-id collision). */
  newId?: () => string
  /** Tells this instance's dispatcher that rows became due (a launch, a resume), so it claims without waiting to poll. */
  wake?: () => void
}

export interface LaunchResult { id: string, status: CampaignStatus, recipients?: number }

export interface Preview {
  audience: number
  eligible: number
  excluded: Record<string, number>
  deferred: number
  samples: Array<{ contactId: string, text: string, segments: number, encoding: Encoding }>
  segments: { min: number, max: number, total: number }
  encoding: Encoding | null
}

export interface TestSendResult {
  phoneNumber: string
  messageId: string | null
  status: string
  code: string | null
  error: string | null
}

function instant (value: string | null | undefined): string | null | undefined {
  return value === undefined || value === null ? value : new Date(value).toISOString()
}

function audienceOf (input: { tags?: string[] | undefined, excludeTags?: string[] | undefined }): Audience {
  return { tags: input.tags ?? [], excludeTags: input.excludeTags ?? [] }
}

/** sendAt and validUntil as a campaign will hold them: validUntil still to come and after sendAt. */
function checkTimes (sendAt: string | null, validUntil: string | null, now: Date): void {
  if (validUntil === null) return
  if (Date.parse(validUntil) <= now.getTime()) throw new AppError('BAD_REQUEST', 'validUntil lies in the past')
  if (sendAt !== null && Date.parse(validUntil) <= Date.parse(sendAt)) throw new AppError('BAD_REQUEST', 'validUntil must be after sendAt')
}

/**
 * Campaigns as a resource: creation and editing (templates checked at once), the status machine
 * (launch, schedule, pause, resume, cancel, completion), the launch that writes every recipient's
 * outbox row set-based, the pre-flight preview, test sends and per-campaign stats. Handing the rows
 * over is the dispatcher's job; it claims rows of `sending` campaigns only and renders each recipient's
 * text with `createCampaignRenderer`. `tick` is the scheduler step the workers run once a second.
 */
export function createCampaignsService ({ db, dialect, config, clock, sending, newId: makeId = newId, wake = () => {} }: CampaignsOptions) {
  const policy = compliancePolicy(config)

  async function views (list: Campaign[]): Promise<CampaignView[]> {
    const ids = list.map((c) => c.id)
    const [counts, optOuts] = await Promise.all([
      campaigns.countByStatusFor(db, ids),
      campaigns.countOptOutsFor(db, dialect, ids, OPT_OUT_WINDOW_HOURS)
    ])
    return list.map((campaign) => {
      const byStatus = counts.get(campaign.id)!
      const total = Object.values(byStatus).reduce((sum, n) => sum + n, 0)
      return {
        ...campaign,
        stats: {
          total,
          queued: byStatus.queued,
          deferred: byStatus.deferred,
          sending: byStatus.sending,
          accepted: byStatus.accepted,
          delivered: byStatus.delivered,
          undeliverable: byStatus.undeliverable,
          expired: byStatus.expired,
          rejected: byStatus.rejected,
          failed: byStatus.failed,
          suppressed: byStatus.suppressed,
          cancelled: byStatus.cancelled,
          optOuts: optOuts.get(campaign.id) ?? 0
        }
      }
    })
  }

  async function view (campaign: Campaign): Promise<CampaignView> {
    return (await views([campaign]))[0]!
  }

  async function mustFind (id: string): Promise<Campaign> {
    const campaign = await campaigns.findCampaign(db, id)
    if (campaign === null) throw new AppError('NOT_FOUND', `Campaign ${id} not found`)
    return campaign
  }

  async function mustLock (trx: Db, id: string): Promise<Campaign> {
    const campaign = await campaigns.lockCampaign(trx, dialect, id)
    if (campaign === null) throw new AppError('NOT_FOUND', `Campaign ${id} not found`)
    return campaign
  }

  function next (campaign: Campaign, action: CampaignAction): CampaignStatus {
    const status = transition(campaign.status, action)
    if (status === null) throw new AppError('CONFLICT', `Campaign ${campaign.id} is ${campaign.status}: it cannot be ${DONE[action]}`)
    return status
  }

  /**
   * Moves a campaign to `sending` and writes its recipients' outbox rows, in the caller's transaction.
   * validUntil defaults to the start (sendAt for a scheduled campaign, or when it was set if later; else now) + 24 h.
   */
  async function startSending (trx: Db, campaign: Campaign, now: Date, from: 'launch' | 'schedule'): Promise<number> {
    // A scheduled start counts from sendAt (a service down past it does not send more than a day late), or from
    // when the schedule was last set if sendAt was moved into the past (the operator asked for "now").
    const start = from === 'schedule' && campaign.sendAt !== null ? Math.max(Date.parse(campaign.sendAt), Date.parse(campaign.updatedAt)) : now.getTime()
    const validUntil = campaign.validUntil ?? new Date(start + DEFAULT_VALIDITY_MS).toISOString()
    const at = now.toISOString()
    await campaigns.updateCampaign(trx, campaign.id, { status: 'sending', launchedAt: at, validUntil }, at)
    return await campaigns.materialiseAudience(trx, {
      campaignId: campaign.id,
      audience: campaign.audience,
      senderId: campaign.senderId ?? config.senderId ?? null,
      dueAt: at,
      validUntil,
      at,
      consentRequired: config.marketingConsentRequired,
      pageSize: MATERIALISE_PAGE,
      newId: makeId,
      reasons: REASONS
    })
  }

  /** Runs a launch transaction again when a message id collided with another process's (never twice the same row). */
  async function withFreshIds<T> (work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work()
      } catch (error) {
        if (attempt >= LAUNCH_ATTEMPTS || !campaigns.isMessageIdCollision(error)) throw error
      }
    }
  }

  async function changeStatus (id: string, action: 'pause' | 'resume' | 'cancel'): Promise<LaunchResult> {
    return await db.transaction().execute(async (trx) => {
      const campaign = await mustLock(trx, id)
      const status = next(campaign, action)
      const at = clock.now().toISOString()
      await campaigns.updateCampaign(trx, id, { status }, at)
      if (action === 'cancel') await campaigns.cancelPendingMessages(trx, id, REASONS.cancelled, at)
      return { id, status }
    }).then((result) => {
      if (result.status === 'sending') wake()
      return result
    })
  }

  /** Marketing already counted against each capped number's window (as the compliance gate counts it). */
  async function recentMarketing (numbers: string[], now: Date): Promise<Map<string, messages.MarketingCount>> {
    let since: Date | null = null
    const capped: string[] = []
    for (const to of numbers) {
      const start = capWindowStart(to, now)
      if (start === null) continue
      capped.push(to)
      if (since === null || start < since) since = start
    }
    return since === null ? new Map() : await messages.countMarketingSince(db, capped, since.toISOString())
  }

  return {
    /** POST /campaigns: a draft. @throws INVALID_TEMPLATE, BAD_REQUEST (times) */
    async create (body: CreateCampaignBody): Promise<CampaignView> {
      compileTemplate(body.message)
      const now = clock.now()
      const sendAt = instant(body.sendAt) ?? null
      const validUntil = instant(body.validUntil) ?? null
      checkTimes(sendAt, validUntil, now)
      const at = now.toISOString()
      const campaign: Campaign = {
        id: makeId(),
        name: body.name,
        message: body.message,
        audience: audienceOf(body.audience),
        senderId: body.senderId ?? null,
        sendAt,
        validUntil,
        status: 'draft',
        createdAt: at,
        updatedAt: at,
        launchedAt: null,
        completedAt: null
      }
      await campaigns.insertCampaign(db, campaign)
      return await view(campaign)
    },

    get: async (id: string): Promise<CampaignView> => await view(await mustFind(id)),

    async list (query: { status?: CampaignStatus | undefined, limit: number, cursor?: string | undefined }) {
      const before = decodeCursor(query.cursor, isId)
      const result = await page(query.limit, async (limit) => await campaigns.listCampaigns(db, { status: query.status, before, limit }), (c) => c.id)
      return { items: await views(result.items), nextCursor: result.nextCursor }
    },

    /** PATCH while draft or scheduled. @throws CONFLICT otherwise; INVALID_TEMPLATE; BAD_REQUEST (times) */
    async update (id: string, body: UpdateCampaignBody): Promise<CampaignView> {
      if (body.message !== undefined) compileTemplate(body.message)
      const updated = await db.transaction().execute(async (trx) => {
        const campaign = await mustLock(trx, id)
        next(campaign, 'edit')
        const changes: CampaignChanges = {
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.message !== undefined ? { message: body.message } : {}),
          ...(body.audience !== undefined ? { audience: audienceOf(body.audience) } : {}),
          ...(body.senderId !== undefined ? { senderId: body.senderId } : {}),
          ...(body.sendAt !== undefined ? { sendAt: instant(body.sendAt) } : {}),
          ...(body.validUntil !== undefined ? { validUntil: instant(body.validUntil) } : {})
        }
        const result: Campaign = { ...campaign, ...changes }
        if (result.status === 'scheduled' && result.sendAt === null) {
          throw new AppError('CONFLICT', `Campaign ${id} is scheduled: it needs a sendAt (set it to now to start at once)`)
        }
        const now = clock.now()
        if (body.sendAt !== undefined || body.validUntil !== undefined) checkTimes(result.sendAt, result.validUntil, now)
        await campaigns.updateCampaign(trx, id, changes, now.toISOString())
        return (await campaigns.findCampaign(trx, id))!
      })
      return await view(updated)
    },

    /**
     * POST /campaigns/:id/launch: `scheduled` when sendAt is still to come; otherwise `sending`, with
     * every recipient's outbox row written in the same transaction (all or nothing: a crash mid-launch
     * leaves the campaign a draft with no rows). A concurrent second launch waits for the first and
     * then gets 409. @throws CONFLICT (status, or validUntil already passed), NOT_FOUND
     */
    async launch (id: string): Promise<LaunchResult> {
      return await withFreshIds(async () => await db.transaction().execute(async (trx) => {
        const campaign = await mustLock(trx, id)
        const now = clock.now()
        const action = campaign.sendAt !== null && Date.parse(campaign.sendAt) > now.getTime() ? 'schedule' : 'launch'
        const status = next(campaign, action)
        if (campaign.validUntil !== null && Date.parse(campaign.validUntil) <= now.getTime()) {
          throw new AppError('CONFLICT', `Campaign ${id} is valid until ${campaign.validUntil}, which has passed: change validUntil first`)
        }
        if (status === 'scheduled') {
          await campaigns.updateCampaign(trx, id, { status }, now.toISOString())
          return { id, status }
        }
        return { id, status, recipients: await startSending(trx, campaign, now, 'launch') }
      })).then((result) => {
        if (result.status === 'sending') wake()
        return result
      })
    },

    pause: async (id: string) => await changeStatus(id, 'pause'),
    resume: async (id: string) => await changeStatus(id, 'resume'),
    /** Cancels the campaign and, in the same transaction, every message of it not yet handed over. */
    cancel: async (id: string) => await changeStatus(id, 'cancel'),

    /**
     * The scheduler's step, meant to run about once a second on every instance (all state is in the
     * database, so schedules survive restarts and two instances never start a campaign twice):
     * starts scheduled campaigns whose sendAt has come, and completes sending campaigns with no message
     * left queued, deferred or sending. Returns the ids it started and completed.
     */
    async tick (now: Date = clock.now()): Promise<{ started: string[], completed: string[] }> {
      const started: string[] = []
      for (const id of await campaigns.listDueScheduled(db, now.toISOString())) {
        const didStart = await withFreshIds(async () => await db.transaction().execute(async (trx) => {
          const campaign = await campaigns.lockCampaign(trx, dialect, id)
          // Another instance started (or someone cancelled) it meanwhile.
          if (campaign === null || transition(campaign.status, 'start') === null || campaign.sendAt === null || Date.parse(campaign.sendAt) > now.getTime()) return false
          await startSending(trx, campaign, now, 'schedule')
          return true
        }))
        if (didStart) started.push(id)
      }
      if (started.length > 0) wake()
      const completed = await campaigns.completeFinishedCampaigns(db, now.toISOString())
      return { started, completed }
    },

    /**
     * GET /campaigns/:id/preview: what the campaign would do now, computed with the compliance gate's
     * own decision (`decide`) and footer on each rendered message, reading the audience page by page
     * (PREVIEW_PAGE contacts, yielding to other requests between pages), writing nothing and sending nothing.
     */
    async preview (id: string): Promise<Preview> {
      const campaign = await mustFind(id)
      const compiled = compileTemplate(campaign.message)
      const now = clock.now()
      const excluded: Record<BlockCode | 'INVALID_TEMPLATE', number> = { RECIPIENT_OPTED_OUT: 0, NO_CONSENT: 0, FREQUENCY_CAP: 0, INVALID_TEMPLATE: 0 }
      const report: Preview = { audience: 0, eligible: 0, excluded, deferred: 0, samples: [], segments: { min: 0, max: 0, total: 0 }, encoding: null }
      let after: string | null = null
      for (;;) {
        const members = await campaigns.audiencePage(db, campaign.audience, after, PREVIEW_PAGE)
        if (members.length === 0) break
        const numbers = [...new Set(members.map((m) => m.phoneNumber))]
        const [ledger, recent] = await Promise.all([consent.ledgerStates(db, numbers), recentMarketing(numbers, now)])
        for (const member of members) {
          const state = ledger.get(member.phoneNumber)
          report.audience++
          let rendered: string
          try {
            rendered = renderTemplate(compiled, member)
          } catch (error) {
            // As at hand-over: this recipient's message cannot be rendered, so it is refused.
            if (!(error instanceof AppError)) throw error
            excluded.INVALID_TEMPLATE++
            continue
          }
          const decision = decide({ to: member.phoneNumber, text: rendered, purpose: 'marketing', now }, {
            suppressed: state?.suppressed ?? false,
            consent: state?.latest?.type ?? null,
            timezone: member.timezone,
            recentMarketing: recent.get(member.phoneNumber)?.count ?? 0,
            recentMarketingOldestAt: recent.get(member.phoneNumber)?.oldestAt ?? null
          }, policy)
          if (decision.outcome === 'block') {
            excluded[decision.code]++
            continue
          }
          if (decision.outcome === 'defer') report.deferred++
          else report.eligible++
          const text = decision.outcome === 'allow' ? decision.text : withOptOutFooter(rendered, policy.optOutFooter)
          const { segments, encoding } = analyzeSegments(text)
          const counted = report.eligible + report.deferred
          report.segments.min = counted === 1 ? segments : Math.min(report.segments.min, segments)
          report.segments.max = Math.max(report.segments.max, segments)
          report.segments.total += segments
          if (report.encoding !== 'UCS-2') report.encoding = encoding
          if (report.samples.length < PREVIEW_SAMPLES) report.samples.push({ contactId: member.id, text, segments, encoding })
        }
        if (members.length < PREVIEW_PAGE) break
        after = members[members.length - 1]!.id
        // SQLite answers without leaving the event loop: let other requests (health checks) in between pages.
        await yieldToEventLoop()
      }
      return report
    },

    /**
     * POST /campaigns/:id/test: renders the message for each test number (with the number's own
     * contact fields, else the first audience member's) and sends it now through the single-send path:
     * the suppression list applies, consent and quiet hours do not, and the messages are not the
     * campaign's (not in its stats). Every number is checked before anything is sent.
     * @throws INVALID_PHONE_NUMBER, AMBIGUOUS_PHONE_NUMBER, INVALID_TEMPLATE (a text that cannot be rendered), NOT_FOUND
     */
    async sendTest (id: string, phoneNumbers: string[]): Promise<{ results: TestSendResult[] }> {
      const campaign = await mustFind(id)
      const numbers = [...new Set(phoneNumbers.map((n, i) => mustReadPhoneNumber(n, `phoneNumbers[${i}]`, { defaultCountry: config.defaultCountry, use: 'recipient' }).e164))]
      const compiled: CompiledTemplate = compileTemplate(campaign.message)
      const [first] = await campaigns.audiencePage(db, campaign.audience, null, 1)
      const own = await Promise.all(numbers.map(async (n) => await contacts.findContactByPhone(db, n)))
      // Every text is rendered before anything is sent: a render failure (400) sends nothing.
      const texts = numbers.map((to, i) => withOptOutFooter(renderTemplate(compiled, own[i] ?? first ?? { phoneNumber: to }), policy.optOutFooter))
      const results = await Promise.all(numbers.map(async (to, i): Promise<TestSendResult> => {
        const text = texts[i]!
        try {
          // A test send is an outbox row of its own (origin campaign_test), outside the campaign's stats.
          const sent = await sending.sendSingle({
            destinationNumber: to,
            message: text,
            purpose: 'transactional',
            ...(campaign.senderId !== null ? { senderId: campaign.senderId } : {})
          }, undefined, { origin: 'campaign_test', note: `Test send of campaign ${campaign.id}` })
          return { phoneNumber: to, messageId: sent.body.id, status: sent.body.status, code: null, error: null }
        } catch (error) {
          if (!(error instanceof AppError)) throw error
          const messageId = typeof error.details?.messageId === 'string' ? error.details.messageId : null
          const status = error.code === 'RECIPIENT_OPTED_OUT' ? 'suppressed' : 'failed'
          return { phoneNumber: to, messageId, status, code: error.code, error: error.message }
        }
      }))
      return { results }
    }
  }
}

export type CampaignsService = ReturnType<typeof createCampaignsService>

/** Compiled templates kept per campaign; a campaign's message cannot change once it is sending. */
const RENDER_CACHE_SIZE = 1000

/**
 * The dispatcher's per-recipient rendering: parses a campaign's template once and renders it synchronously
 * (about 100,000 recipients/s for a one-line template). `campaign.message` was checked when the campaign
 * was created or edited.
 * @throws AppError INVALID_TEMPLATE when one recipient's render exceeds the template memory limit (a
 *   pathological template on that recipient's fields): that recipient's message cannot be sent.
 */
export function createCampaignRenderer () {
  const compiled = new Map<string, CompiledTemplate>()
  return (campaign: { id: string, message: string }, fields: TemplateFields): string => {
    let template = compiled.get(campaign.id)
    if (template === undefined || template.source !== campaign.message) {
      template = compileTemplate(campaign.message)
      if (compiled.size >= RENDER_CACHE_SIZE) compiled.delete(compiled.keys().next().value!)
      compiled.set(campaign.id, template)
    }
    return renderTemplate(template, fields)
  }
}
