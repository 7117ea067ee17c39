import { CompiledQuery, sql, type Kysely, type KyselyPlugin } from 'kysely'
import { describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/schema.js'
import * as campaigns from '../../src/db/repositories/campaigns.js'
import * as messages from '../../src/db/repositories/messages.js'
import { migratedDatabasePerTest, testDialect } from '../support/database.js'

/**
 * The lookups on `messages` that run per request, per batch or per delivery report must be index searches: the
 * table holds every message ever sent, so a scan grows with the service's whole history. Each repository function
 * runs against a migrated database while a plugin records the SQL it compiles; every recorded statement is then
 * explained — SQLite's EXPLAIN QUERY PLAN must not say `SCAN messages`; PostgreSQL's plan, with sequential scans
 * priced out (`enable_seqscan = off`, so an index is used whenever one can be), must not say `Seq Scan on messages`.
 */
describe('query plans on messages', () => {
  const databases = migratedDatabasePerTest()
  const dialect = testDialect()

  async function statementsOf (db: Kysely<Database>, run: (db: Kysely<Database>) => Promise<unknown>): Promise<CompiledQuery[]> {
    const recorded: CompiledQuery[] = []
    const executor = db.getExecutor()
    const recorder: KyselyPlugin = {
      transformQuery: (args) => {
        recorded.push(executor.compileQuery(args.node, args.queryId))
        return args.node
      },
      transformResult: async (args) => args.result
    }
    await run(db.withPlugin(recorder))
    return recorded.filter((q) => /\bmessages\b/.test(q.sql))
  }

  async function planOf (db: Kysely<Database>, query: CompiledQuery): Promise<string> {
    if (dialect === 'sqlite') {
      const rows = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]))
      return rows.rows.map((r) => r.detail).join('\n')
    }
    return await db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx)
      const rows = await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${query.sql}`, [...query.parameters]))
      return rows.rows.map((r) => r['QUERY PLAN']).join('\n')
    })
  }

  const campaignId = '0190a0b0-0000-7000-8000-000000000001'
  const to = '+14155550123'
  const since = '2026-06-01T00:00:00.000Z'
  const cases: Array<[string, (db: Kysely<Database>) => Promise<unknown>]> = [
    ['a delivery report found by our id', async (db) => await messages.findStatuses(db, ['0190a0b0-0000-7000-8000-00000000000a'])],
    ['a delivery report found by an id Infobip chose', async (db) => await messages.findStatuses(db, ['infobip-own-id-1'])],
    ['a number\'s messages (GET /messages?to=)', async (db) => await messages.listMessages(db, { to, limit: 50 })],
    ['marketing counted for a frequency cap', async (db) => await messages.countMarketingSince(db, [to, '+14155550124'], since)],
    ['the campaign a reply answers', async (db) => await messages.campaignOfLastHandedOver(db, to, since)],
    ['an opt-out stopping what is not yet handed over', async (db) => await messages.suppressPending(db, to, 'STOP', since)],
    ['a campaign\'s stats', async (db) => await campaigns.countByStatusFor(db, [campaignId])],
    ['a campaign\'s messages (GET /messages?campaignId=)', async (db) => await messages.listMessages(db, { campaignId, limit: 50 })],
    ['cancelling a campaign', async (db) => await campaigns.cancelPendingMessages(db, campaignId, 'cancelled', since)],
    ['finding campaigns with nothing left to send', async (db) => await campaigns.completeFinishedCampaigns(db, since)]
  ]

  it.each(cases)('%s is an index search', async (_name, run) => {
    const { db } = await databases.open()
    const statements = await statementsOf(db, run)
    expect(statements.length).toBeGreaterThan(0)
    for (const statement of statements) {
      const plan = await planOf(db, statement)
      expect(plan, `${statement.sql}\n${plan}`).not.toMatch(dialect === 'sqlite' ? /SCAN messages\b/ : /Seq Scan on messages\b/)
    }
  })
})
