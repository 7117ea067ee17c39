import type { Kysely } from 'kysely'
import { decisionTime, isLater, type ConsentEvent, type LatestDecision, type LedgerState } from '../../domain/consent.js'
import type { ConsentEventRow, Database } from '../schema.js'
import { insertRows } from './bulk.js'

type Executor = Kysely<Database>

export type { ConsentEvent, ConsentEventType, LatestDecision } from '../../domain/consent.js'

function toEvent (row: ConsentEventRow): ConsentEvent {
  return {
    id: row.id,
    phoneNumber: row.phone_number,
    contactId: row.contact_id,
    type: row.type,
    source: row.source,
    text: row.text,
    ip: row.ip,
    userAgent: row.user_agent,
    keyword: row.keyword,
    occurredAt: row.occurred_at,
    recordedAt: row.recorded_at,
    recordedBy: row.recorded_by ?? 'unknown',
    requestId: row.request_id,
    fileName: row.file_name
  }
}

/** Numbers per IN list: an import batch's 1,000 in one query (bound-parameter limits: src/db/repositories/bulk.ts). */
const CHUNK = 1000

/** The ledger is append-only: this module has no update and no delete. */
export async function appendConsentEvent (db: Executor, event: ConsentEvent): Promise<void> {
  await appendConsentEvents(db, [event])
}

/** Appends many events in a few statements (imports). */
export async function appendConsentEvents (db: Executor, events: ConsentEvent[]): Promise<void> {
  const values: unknown[] = []
  for (const event of events) {
    values.push(event.id, event.phoneNumber, event.contactId, event.type, event.source, event.text, event.ip, event.userAgent,
      event.keyword, event.occurredAt, event.recordedAt, event.recordedBy, event.requestId, event.fileName)
  }
  await insertRows(db, 'consent_events', ['id', 'phone_number', 'contact_id', 'type', 'source', 'text', 'ip', 'user_agent', 'keyword', 'occurred_at', 'recorded_at', 'recorded_by', 'request_id', 'file_name'], values)
}

/**
 * Latest consent decision (in the ledger's order: decisionTime) and suppression of numbers, in two queries
 * however many. `consentOf` limits the consent read to the numbers whose decision needs it (marketing: a
 * transactional message or a reply is decided on suppression alone); the others get `latest: null`.
 * Default: every number.
 */
export async function ledgerStates (db: Executor, phoneNumbers: string[], consentOf: ReadonlySet<string> | null = null): Promise<Map<string, LedgerState>> {
  const states = new Map(phoneNumbers.map((n) => [n, { latest: null as LatestDecision | null, suppressed: false }]))
  for (let i = 0; i < phoneNumbers.length; i += CHUNK) {
    const chunk = phoneNumbers.slice(i, i + CHUNK)
    const consentChunk = consentOf === null ? chunk : chunk.filter((n) => consentOf.has(n))
    const events = consentChunk.length === 0
      ? []
      : await db.selectFrom('consent_events').select(['phone_number', 'type', 'source', 'occurred_at', 'recorded_at', 'id'])
        .where('phone_number', 'in', consentChunk).where('type', 'in', ['opt_in', 'opt_out']).execute()
    for (const row of events) {
      const state = states.get(row.phone_number)
      const type = row.type as LatestDecision['type']
      const decision = { type, at: decisionTime({ type, source: row.source, occurredAt: row.occurred_at, recordedAt: row.recorded_at }), id: row.id }
      if (state !== undefined && isLater(decision, state.latest)) state.latest = decision
    }
    const suppressed = await db.selectFrom('suppressions').select('phone_number').where('phone_number', 'in', chunk).execute()
    for (const row of suppressed) {
      const state = states.get(row.phone_number)
      if (state !== undefined) state.suppressed = true
    }
  }
  return states
}

export async function unsuppressMany (db: Executor, phoneNumbers: string[]): Promise<void> {
  for (let i = 0; i < phoneNumbers.length; i += CHUNK) {
    await db.deleteFrom('suppressions').where('phone_number', 'in', phoneNumbers.slice(i, i + CHUNK)).execute()
  }
}

/** Position in a number's trail: events are listed in the order they happened. */
export interface TrailPosition { occurredAt: string, id: string }

/** A number's events in the order they happened (occurredAt, then id), after `after` when given. */
export async function listConsentEvents (db: Executor, phoneNumber: string, page: { after?: TrailPosition | undefined, limit?: number } = {}): Promise<ConsentEvent[]> {
  let query = db.selectFrom('consent_events').selectAll().where('phone_number', '=', phoneNumber)
  const after = page.after
  if (after !== undefined) {
    query = query.where((eb) => eb.or([
      eb('occurred_at', '>', after.occurredAt),
      eb.and([eb('occurred_at', '=', after.occurredAt), eb('id', '>', after.id)])
    ]))
  }
  query = query.orderBy('occurred_at', 'asc').orderBy('id', 'asc')
  if (page.limit !== undefined) query = query.limit(page.limit)
  return (await query.execute()).map(toEvent)
}

/** The number a contact's events were recorded for, also after the contact was erased; null when it has none. */
export async function phoneNumberOfContactEvents (db: Executor, contactId: string): Promise<string | null> {
  const row = await db.selectFrom('consent_events').select('phone_number').where('contact_id', '=', contactId).limit(1).executeTakeFirst()
  return row?.phone_number ?? null
}

export async function suppress (db: Executor, phoneNumber: string, source: string, reason: string | null, at: string): Promise<boolean> {
  const result = await db.insertInto('suppressions')
    .values({ phone_number: phoneNumber, source, reason, created_at: at })
    .onConflict((oc) => oc.column('phone_number').doNothing())
    .executeTakeFirst()
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0
}

export interface Suppression { phoneNumber: string, reason: string | null, source: string, createdAt: string }

export async function listSuppressions (db: Executor, after: string | undefined, limit: number, phoneNumber?: string): Promise<Suppression[]> {
  let query = db.selectFrom('suppressions').selectAll()
  if (after !== undefined) query = query.where('phone_number', '>', after)
  if (phoneNumber !== undefined) query = query.where('phone_number', '=', phoneNumber)
  const rows = await query.orderBy('phone_number', 'asc').limit(limit).execute()
  return rows.map((r) => ({ phoneNumber: r.phone_number, reason: r.reason, source: r.source, createdAt: r.created_at }))
}

/** Which of these numbers are suppressed now (one indexed query per 500 numbers). */
export async function suppressedAmong (db: Executor, phoneNumbers: string[]): Promise<Set<string>> {
  const found = new Set<string>()
  for (let i = 0; i < phoneNumbers.length; i += CHUNK) {
    const rows = await db.selectFrom('suppressions').select('phone_number').where('phone_number', 'in', phoneNumbers.slice(i, i + CHUNK)).execute()
    for (const row of rows) found.add(row.phone_number)
  }
  return found
}
