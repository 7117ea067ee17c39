/**
 * Seeds a campaign straight into the outbox (contacts with consent, a `sending` campaign, one queued row per
 * contact), so dispatcher tests do not depend on the campaign API, and reads what the fake Infobip received.
 */
import { openDatabase } from '../../src/db/database.js'
import type { Db } from '../../src/db/schema.js'
import type { CampaignStatus } from '../../src/domain/campaign-status.js'
import { newId } from '../../src/domain/ids.js'
import type { TestContext } from './app.js'
import type { RecordedRequest } from './fake-infobip.js'

export interface SeedOptions {
  count: number
  /** Numbers are `${prefix}` + four digits from `first` (default +1212555, 2000: New York). */
  prefix?: string
  first?: number
  message?: string
  /** Indexes of contacts with no opt-in on record, and of numbers on the suppression list. */
  noConsent?: number[]
  suppressed?: number[]
  status?: 'sending' | 'paused'
  validUntil?: string
  timezone?: string
}

export interface SeededCampaign { campaignId: string, numbers: string[], messageIds: string[] }

export async function seedCampaign (ctx: TestContext, options: SeedOptions): Promise<SeededCampaign> {
  const handle = openDatabase(ctx.config.databaseUrl)
  const now = ctx.clock.now().toISOString()
  const prefix = options.prefix ?? '+1212555'
  const first = options.first ?? 2000
  const campaignId = newId()
  const numbers = Array.from({ length: options.count }, (_, i) => `${prefix}${String(first + i).padStart(4, '0')}`)
  const contactIds = numbers.map(() => newId())
  const messageIds = numbers.map(() => newId())
  try {
    // One transaction: a campaign seen `sending` before its rows exist would be completed by the scheduler's tick.
    await handle.db.transaction().execute(async (db) => { await seed(db) })
  } finally {
    await handle.close()
  }
  return { campaignId, numbers, messageIds }

  async function seed (db: Db): Promise<void> {
    await db.insertInto('campaigns').values({
      id: campaignId,
      name: 'Seeded',
      message: options.message ?? 'Hello {{firstName}}',
      audience: '{}',
      sender_id: null,
      send_at: null,
      valid_until: options.validUntil ?? null,
      status: options.status ?? 'sending',
      created_at: now,
      updated_at: now,
      launched_at: now,
      completed_at: null
    }).execute()
    for (let i = 0; i < numbers.length; i += 200) {
      const slice = numbers.slice(i, i + 200)
      await db.insertInto('contacts').values(slice.map((phone, j) => ({
        id: contactIds[i + j]!,
        phone_number: phone,
        first_name: `Ann${i + j}`,
        last_name: null,
        timezone: options.timezone ?? null,
        attributes: '{}',
        subscribed: options.suppressed?.includes(i + j) === true ? 0 : 1,
        created_at: now,
        updated_at: now
      }))).execute()
      const consenting = slice.map((phone, j) => ({ phone, index: i + j })).filter(({ index }) => options.noConsent?.includes(index) !== true)
      if (consenting.length > 0) {
        await db.insertInto('consent_events').values(consenting.map(({ phone, index }) => ({
          id: newId(),
          phone_number: phone,
          contact_id: contactIds[index]!,
          type: 'opt_in',
          source: 'web_form',
          text: 'Yes to offers',
          ip: null,
          user_agent: null,
          keyword: null,
          occurred_at: now,
          recorded_at: now
        }))).execute()
      }
      await db.insertInto('messages').values(slice.map((phone, j) => ({
        id: messageIds[i + j]!,
        to_number: phone,
        text: '',
        sender_id: null,
        purpose: 'marketing',
        status: 'queued',
        campaign_id: campaignId,
        contact_id: contactIds[i + j]!,
        segments: 0,
        encoding: 'GSM-7',
        created_at: now,
        updated_at: now,
        due_at: now,
        priority: 2,
        origin: 'campaign',
        valid_until: options.validUntil ?? null
      }))).execute()
    }
    const suppressed = (options.suppressed ?? []).map((i) => numbers[i]!)
    if (suppressed.length > 0) {
      await db.insertInto('suppressions').values(suppressed.map((phone) => ({ phone_number: phone, reason: 'STOP', source: 'keyword', created_at: now }))).execute()
    }
  }
}

/** Sets a campaign's status directly (pause, resume) — the dispatcher only claims rows of `sending` campaigns. */
export async function setCampaignStatus (ctx: TestContext, campaignId: string, status: CampaignStatus): Promise<void> {
  const handle = openDatabase(ctx.config.databaseUrl)
  try {
    await handle.db.updateTable('campaigns').set({ status }).where('id', '=', campaignId).execute()
  } finally {
    await handle.close()
  }
}

/** Every destination Infobip received, as [messageId, to, text], in arrival order. */
export function destinations (requests: RecordedRequest[]): Array<{ messageId: string, to: string, text: string, receivedAt: number }> {
  return requests.flatMap((request) => {
    const body = request.body as { messages: Array<{ text: string, destinations: Array<{ to: string, messageId: string }> }> }
    return body.messages.flatMap((m) => m.destinations.map((d) => ({ messageId: d.messageId, to: d.to, text: m.text, receivedAt: request.receivedAt })))
  })
}

/** How many times each messageId reached Infobip. */
export function handoverCounts (requests: RecordedRequest[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const d of destinations(requests)) counts.set(d.messageId, (counts.get(d.messageId) ?? 0) + 1)
  return counts
}

/** Messages by status, read straight from the database (tests poll it without spending the API's rate limit). */
export async function statusCounts (ctx: TestContext, filter: { campaignId?: string, ids?: string[] }): Promise<Record<string, number>> {
  const handle = openDatabase(ctx.config.databaseUrl)
  try {
    let query = handle.db.selectFrom('messages').select(['status', handle.db.fn.countAll<number | string>().as('count')])
    if (filter.campaignId !== undefined) query = query.where('campaign_id', '=', filter.campaignId)
    if (filter.ids !== undefined) query = query.where('id', 'in', filter.ids)
    const rows = await query.groupBy('status').execute()
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.count)]))
  } finally {
    await handle.close()
  }
}
