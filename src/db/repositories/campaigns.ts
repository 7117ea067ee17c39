import { sql, type ExpressionBuilder, type Kysely } from 'kysely'
import type { CampaignStatus } from '../../domain/campaign-status.js'
import { MESSAGE_STATUSES, type MessageStatus } from '../../domain/message-status.js'
import type { Dialect } from '../database.js'
import type { CampaignRow, Database } from '../schema.js'

type Executor = Kysely<Database>

/** Who a campaign goes to: contacts with any of `tags` (none: every contact), minus those with any of `excludeTags`. */
export interface Audience {
  tags: string[]
  excludeTags: string[]
}

export interface Campaign {
  id: string
  name: string
  /** The Liquid template. */
  message: string
  audience: Audience
  senderId: string | null
  sendAt: string | null
  validUntil: string | null
  status: CampaignStatus
  createdAt: string
  updatedAt: string
  launchedAt: string | null
  completedAt: string | null
}

function toCampaign (row: CampaignRow): Campaign {
  const audience = JSON.parse(row.audience) as Partial<Audience>
  return {
    id: row.id,
    name: row.name,
    message: row.message,
    audience: { tags: audience.tags ?? [], excludeTags: audience.excludeTags ?? [] },
    senderId: row.sender_id,
    sendAt: row.send_at,
    validUntil: row.valid_until,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    launchedAt: row.launched_at,
    completedAt: row.completed_at
  }
}

export async function insertCampaign (db: Executor, campaign: Campaign): Promise<void> {
  await db.insertInto('campaigns').values({
    id: campaign.id,
    name: campaign.name,
    message: campaign.message,
    audience: JSON.stringify(campaign.audience),
    sender_id: campaign.senderId,
    send_at: campaign.sendAt,
    valid_until: campaign.validUntil,
    status: campaign.status,
    created_at: campaign.createdAt,
    updated_at: campaign.updatedAt,
    launched_at: campaign.launchedAt,
    completed_at: campaign.completedAt
  }).execute()
}

export async function findCampaign (db: Executor, id: string): Promise<Campaign | null> {
  const row = await db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst()
  return row === undefined ? null : toCampaign(row)
}

/**
 * Reads a campaign inside a transaction and keeps others from changing it until the transaction ends:
 * a row lock on PostgreSQL; SQLite runs one write transaction at a time anyway.
 */
export async function lockCampaign (trx: Executor, dialect: Dialect, id: string): Promise<Campaign | null> {
  let query = trx.selectFrom('campaigns').selectAll().where('id', '=', id)
  if (dialect === 'postgres') query = query.forUpdate()
  const row = await query.executeTakeFirst()
  return row === undefined ? null : toCampaign(row)
}

export interface CampaignFilter {
  status?: CampaignStatus | undefined
  /** Exclusive upper bound on id: ids are time-ordered, newest first. */
  before?: string | undefined
  limit: number
}

export async function listCampaigns (db: Executor, filter: CampaignFilter): Promise<Campaign[]> {
  let query = db.selectFrom('campaigns').selectAll()
  if (filter.status !== undefined) query = query.where('status', '=', filter.status)
  if (filter.before !== undefined) query = query.where('id', '<', filter.before)
  const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute()
  return rows.map(toCampaign)
}

export type CampaignChanges = Partial<Pick<Campaign, 'name' | 'message' | 'audience' | 'senderId' | 'sendAt' | 'validUntil' | 'status' | 'launchedAt' | 'completedAt'>>

export async function updateCampaign (db: Executor, id: string, changes: CampaignChanges, at: string): Promise<void> {
  await db.updateTable('campaigns').set({
    ...(changes.name !== undefined ? { name: changes.name } : {}),
    ...(changes.message !== undefined ? { message: changes.message } : {}),
    ...(changes.audience !== undefined ? { audience: JSON.stringify(changes.audience) } : {}),
    ...(changes.senderId !== undefined ? { sender_id: changes.senderId } : {}),
    ...(changes.sendAt !== undefined ? { send_at: changes.sendAt } : {}),
    ...(changes.validUntil !== undefined ? { valid_until: changes.validUntil } : {}),
    ...(changes.status !== undefined ? { status: changes.status } : {}),
    ...(changes.launchedAt !== undefined ? { launched_at: changes.launchedAt } : {}),
    ...(changes.completedAt !== undefined ? { completed_at: changes.completedAt } : {}),
    updated_at: at
  }).where('id', '=', id).execute()
}

/** Scheduled campaigns whose send time has come, oldest first. */
export async function listDueScheduled (db: Executor, nowIso: string): Promise<string[]> {
  const rows = await db.selectFrom('campaigns').select('id')
    .where('status', '=', 'scheduled').where('send_at', '<=', nowIso)
    .orderBy('send_at').orderBy('id').execute()
  return rows.map((r) => r.id)
}

const UNFINISHED: MessageStatus[] = ['queued', 'deferred', 'sending']

/** Marks `sending` campaigns with no message left queued, deferred or sending as completed; returns their ids. */
export async function completeFinishedCampaigns (db: Executor, nowIso: string): Promise<string[]> {
  const rows = await db.updateTable('campaigns')
    .set({ status: 'completed', completed_at: nowIso, updated_at: nowIso })
    .where('status', '=', 'sending')
    .where((eb) => eb.not(eb.exists(eb.selectFrom('messages').select(sql<number>`1`.as('one'))
      .whereRef('messages.campaign_id', '=', 'campaigns.id')
      .where('messages.status', 'in', UNFINISHED))))
    .returning('id')
    .execute()
  return rows.map((r) => r.id)
}

/** Moves a campaign's messages not yet handed over to `cancelled`, in one statement; returns how many. */
export async function cancelPendingMessages (db: Executor, campaignId: string, reason: string, at: string): Promise<number> {
  const result = await db.updateTable('messages')
    .set({ status: 'cancelled', decision_reason: reason, updated_at: at })
    .where('campaign_id', '=', campaignId)
    .where('status', 'in', ['queued', 'deferred'])
    .executeTakeFirst()
  return Number(result.numUpdatedRows)
}

/** The audience rule, for a query over `contacts as c`; the one definition launch, preview and test sends share. */
function inAudience (audience: Audience) {
  return (eb: ExpressionBuilder<Database & { c: Database['contacts'] }, 'c'>) => {
    const withTag = (tags: string[]) => eb.exists(eb.selectFrom('contact_tags as t').select(sql<number>`1`.as('one'))
      .whereRef('t.contact_id', '=', 'c.id').where('t.tag', 'in', tags))
    const rules = []
    if (audience.tags.length > 0) rules.push(withTag(audience.tags))
    if (audience.excludeTags.length > 0) rules.push(eb.not(withTag(audience.excludeTags)))
    return eb.and(rules)
  }
}

/** An audience member with the fields a template and the compliance decision need. */
export interface AudienceContact {
  id: string
  phoneNumber: string
  firstName: string | null
  lastName: string | null
  timezone: string | null
  attributes: Record<string, string>
}

/** The next `limit` audience members after contact id `after` (null: from the start), by contact id. */
export async function audiencePage (db: Executor, audience: Audience, after: string | null, limit: number): Promise<AudienceContact[]> {
  let query = db.selectFrom('contacts as c')
    .select(['c.id', 'c.phone_number', 'c.first_name', 'c.last_name', 'c.timezone', 'c.attributes'])
    .where(inAudience(audience))
  if (after !== null) query = query.where('c.id', '>', after)
  const rows = await query.orderBy('c.id').limit(limit).execute()
  return rows.map((r) => ({
    id: r.id,
    phoneNumber: r.phone_number,
    firstName: r.first_name,
    lastName: r.last_name,
    timezone: r.timezone,
    attributes: JSON.parse(r.attributes) as Record<string, string>
  }))
}

export interface Materialisation {
  campaignId: string
  audience: Audience
  senderId: string | null
  /** When the messages may first be handed over (the launch). */
  dueAt: string
  validUntil: string
  at: string
  /** MARKETING_CONSENT_REQUIRED: contacts without a recorded opt-in get a suppressed row. */
  consentRequired: boolean
  /** Contacts per INSERT … SELECT statement. */
  pageSize: number
  /** A fresh UUIDv7 per page: its first 19 characters (time and sequence) prefix that page's message ids. */
  newId: () => string
  /** Reasons recorded on the rows of contacts who will not be sent the campaign. */
  reasons: { optedOut: string, noConsent: string }
}

/**
 * Writes one outbox row per audience member, set-based: one `INSERT … SELECT … ON CONFLICT DO NOTHING`
 * per range of `pageSize` contact ids, so the database does the work and memory stays flat whatever
 * the audience size. Rows are `queued` (origin 'campaign', priority 2, purpose 'marketing', text ''
 * and 0 segments until rendered at hand-over); a contact whose number is suppressed, or (with
 * `consentRequired`) who is not subscribed, gets a `suppressed` row with the reason instead, so every
 * refusal shows in the campaign's stats and in GET /messages. The unique key (campaign_id, contact_id)
 * makes a second launch, a retry or a concurrent launch write nothing twice. Returns the rows written.
 *
 * Message ids: the first 19 characters of a fresh UUIDv7 per page (48-bit millisecond time, version,
 * 12-bit sequence) followed by the last 17 characters of the contact's id (variant and its 62 random
 * bits). The result is UUID-shaped, and time-ordered by launch like every other id. Unique because:
 * - within a page, contact ids differ in their random 62 bits (two contacts of one page sharing them:
 *   about n²/2⁶³, 10⁻¹¹ for a page of 10,000);
 * - pages of one process never share a prefix: newId() is strictly increasing within a process;
 * - ids of another process can share a prefix only in the same millisecond with the same 12-bit
 *   sequence, and then collide only for the same contact; that violates the primary key, fails the
 *   statement (see `isMessageIdCollision`) and the launch is retried with fresh prefixes. Nothing is
 *   ever silently skipped or duplicated.
 */
export async function materialiseAudience (db: Executor, m: Materialisation): Promise<number> {
  let after: string | null = null
  let written = 0
  for (;;) {
    // The last contact id of this page's range; null when the rest of the table fits in one page.
    let bound = db.selectFrom('contacts').select('id').orderBy('id').limit(1).offset(m.pageSize - 1)
    if (after !== null) bound = bound.where('id', '>', after)
    const upper = (await bound.executeTakeFirst())?.id ?? null
    const prefix = m.newId().slice(0, 19)
    const from: string | null = after

    const select = db.selectFrom('contacts as c')
      .leftJoin('suppressions as s', 's.phone_number', 'c.phone_number')
      .select((eb) => {
        const refused = (optedOut: string, noConsent: string | null) => {
          let decision = eb.case().when('s.phone_number', 'is not', null).then(text(optedOut))
          if (m.consentRequired) decision = decision.when('c.subscribed', '=', 0).then(text(noConsent))
          return decision
        }
        return [
          sql<string>`${text(prefix)} || substr(c.id, 20)`.as('id'),
          'c.phone_number as to_number',
          text('').as('text'),
          text(m.senderId).as('sender_id'),
          text('marketing').as('purpose'),
          refused('suppressed', 'suppressed').else(text('queued')).end().as('status'),
          text(m.campaignId).as('campaign_id'),
          'c.id as contact_id',
          integer(0).as('segments'),
          text('GSM-7').as('encoding'),
          refused(m.reasons.optedOut, m.reasons.noConsent).else(text(null)).end().as('decision_reason'),
          text(m.at).as('created_at'),
          text(m.at).as('updated_at'),
          text(m.dueAt).as('due_at'),
          integer(2).as('priority'),
          text('campaign').as('origin'),
          text(m.validUntil).as('valid_until')
        ]
      })
      .where(inAudience(m.audience))
      .$if(from !== null, (q) => q.where('c.id', '>', from!))
      .$if(upper !== null, (q) => q.where('c.id', '<=', upper!))

    const result = await db.insertInto('messages')
      .columns(['id', 'to_number', 'text', 'sender_id', 'purpose', 'status', 'campaign_id', 'contact_id', 'segments', 'encoding',
        'decision_reason', 'created_at', 'updated_at', 'due_at', 'priority', 'origin', 'valid_until'])
      .expression(select)
      // The unique key is partial (rows without a campaign are not in it): the conflict target names its predicate.
      .onConflict((oc) => oc.columns(['campaign_id', 'contact_id']).where('campaign_id', 'is not', null).doNothing())
      .executeTakeFirst()
    written += Number(result.numInsertedOrUpdatedRows ?? 0n)
    if (upper === null) return written
    after = upper
  }
}

/** A bound value typed for PostgreSQL, which cannot infer a parameter's type in a select list. */
function text (value: string | null) {
  return sql<string>`cast(${value} as text)`
}

function integer (value: number) {
  return sql<number>`cast(${value} as integer)`
}

/** True for the primary-key violation a message-id collision between two processes would raise. */
export function isMessageIdCollision (error: unknown): boolean {
  const e = error as { code?: string, constraint?: string, message?: string }
  if (e.code === '23505') return e.constraint === 'messages_pkey'
  return e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' && (e.message ?? '').includes('messages.id')
}

export type StatusCounts = Record<MessageStatus, number>

/** Messages per status of each campaign, in one grouped query (index on campaign_id, status). */
export async function countByStatusFor (db: Executor, campaignIds: string[]): Promise<Map<string, StatusCounts>> {
  const counts = new Map<string, StatusCounts>(campaignIds.map((id) => [id, zeroCounts()]))
  if (campaignIds.length === 0) return counts
  const rows = await db.selectFrom('messages')
    .select(['campaign_id', 'status', db.fn.countAll<number | string>().as('count')])
    .where('campaign_id', 'in', campaignIds)
    .groupBy(['campaign_id', 'status'])
    .execute()
  for (const row of rows) {
    const entry = counts.get(row.campaign_id!)
    if (entry !== undefined && row.status in entry) entry[row.status as MessageStatus] = Number(row.count)
  }
  return counts
}

function zeroCounts (): StatusCounts {
  return Object.fromEntries(MESSAGE_STATUSES.map((status) => [status, 0])) as StatusCounts
}

/**
 * Recipients of each campaign who opted out (a consent event of type opt_out) within `windowHours`
 * after their message was sent, counted once per number.
 */
export async function countOptOutsFor (db: Executor, dialect: Dialect, campaignIds: string[], windowHours: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>(campaignIds.map((id) => [id, 0]))
  if (campaignIds.length === 0) return counts
  const within = dialect === 'postgres'
    ? sql<boolean>`e.occurred_at::timestamptz >= m.sent_at::timestamptz and e.occurred_at::timestamptz < m.sent_at::timestamptz + make_interval(hours => ${windowHours}::int)`
    // Every timestamp is written by toISOString(), so the strings compare as the instants do.
    : sql<boolean>`e.occurred_at >= m.sent_at and e.occurred_at < strftime('%Y-%m-%dT%H:%M:%fZ', m.sent_at, ${`+${windowHours} hours`})`
  const rows = await db.selectFrom('messages as m')
    .innerJoin('consent_events as e', 'e.phone_number', 'm.to_number')
    .select(['m.campaign_id', sql<number | string>`count(distinct m.to_number)`.as('count')])
    .where('m.campaign_id', 'in', campaignIds)
    .where('m.sent_at', 'is not', null)
    .where('e.type', '=', 'opt_out')
    .where(within)
    .groupBy('m.campaign_id')
    .execute()
  for (const row of rows) counts.set(row.campaign_id!, Number(row.count))
  return counts
}
