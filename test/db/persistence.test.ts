import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrateToLatest, openDatabase } from '../../src/db/database.js'
import type { Message } from '../../src/db/repositories/messages.js'
import { getMessage, listMessages, postDeliveryReports, sendSms } from '../support/api.js'
import { startTestApp, type TestContext } from '../support/app.js'

/** The migrations the database says it has applied, read on a connection of our own. */
async function appliedMigrations (url: string): Promise<string[]> {
  const handle = openDatabase(url)
  try {
    const result = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(handle.db)
    return result.rows.map((r) => r.name)
  } finally {
    await handle.close()
  }
}

describe('persistence across restarts', () => {
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({ env: { RATE_LIMIT_MAX: '100000' } })
  })
  afterAll(async () => {
    await ctx?.close()
  })

  it('every message is still there, with the same status, after a restart', async () => {
    expect(ctx.database.url.startsWith(ctx.database.dialect === 'sqlite' ? 'sqlite:' : 'postgres')).toBe(true)

    const accepted = await sendSms(ctx, '+14155556001', 'stays accepted', 'transactional')
    expect(accepted.statusCode).toBe(202)
    const delivered = await sendSms(ctx, '+14155556002', 'gets delivered', 'transactional')
    expect(delivered.statusCode).toBe(202)
    ctx.fake.enqueue({ kind: 'error', status: 400, messageId: 'BAD_REQUEST' })
    const failed = await sendSms(ctx, '+14155556003', 'refused by Infobip', 'transactional')
    expect(failed.statusCode).toBe(502)

    const deliveredId = delivered.json<{ id: string }>().id
    const report = await postDeliveryReports(ctx, [{ messageId: deliveredId, to: '14155556002', status: 'DELIVERED', doneAt: '2026-06-15T16:00:07.000+0000' }])
    expect(report).toEqual({ processed: 1, ignored: 0 })

    const listBefore = await listMessages(ctx, '?limit=100')
    expect(listBefore.items).toHaveLength(3)
    expect(listBefore.items.map((m) => m.status)).toEqual(['failed', 'delivered', 'accepted'])
    const ids = listBefore.items.map((m) => m.id)
    const before = await Promise.all(ids.map(async (id) => await getMessage(ctx, id)))
    expect(before.map((m) => m.status)).toEqual(['failed', 'delivered', 'accepted'])
    expect(before[0]?.error).toMatchObject({ code: 'PROVIDER_ERROR', name: 'BAD_REQUEST', permanent: true })

    const migrationsBefore = await appliedMigrations(ctx.database.url)
    expect(migrationsBefore.length).toBeGreaterThan(0)

    await ctx.restart()
    await ctx.restart()

    for (let i = 0; i < ids.length; i++) {
      expect(await getMessage(ctx, ids[i]!)).toEqual(before[i])
    }
    const listAfter = await listMessages(ctx, '?limit=100')
    expect(listAfter).toEqual(listBefore)

    // Migrating again on restart applied nothing twice.
    const migrationsAfter = await appliedMigrations(ctx.database.url)
    expect(migrationsAfter).toEqual(migrationsBefore)
    expect(new Set(migrationsAfter).size).toBe(migrationsAfter.length)

    // And the restarted app works on the same data: a report for a message sent before the restart applies.
    const acceptedId = accepted.json<{ id: string }>().id
    const late = await postDeliveryReports(ctx, [{ messageId: acceptedId, to: '14155556001', status: 'DELIVERED' }, { messageId: deliveredId, to: '14155556002', status: 'UNDELIVERABLE' }])
    expect(late).toEqual({ processed: 1, ignored: 1 })
    expect((await getMessage(ctx, acceptedId)).status).toBe('delivered')
    expect((await getMessage(ctx, deliveredId)).status).toBe('delivered')

    const fourth = await sendSms(ctx, '+14155556004', 'after the restart', 'transactional')
    expect(fourth.statusCode).toBe(202)
    const listLast = await listMessages(ctx, '?limit=100')
    expect(listLast.items.map((m) => m.id)).toEqual([fourth.json<{ id: string }>().id, ...ids])
  })
})

describe('write before send', () => {
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({ env: { INFOBIP_TIMEOUT_MS: '15000', RETRY_ATTEMPTS: '0', RATE_LIMIT_MAX: '100000' } })
  })
  afterAll(async () => {
    await ctx?.close()
  })

  it('the message is recorded as sending while the provider call is in flight', async () => {
    ctx.fake.enqueue({ kind: 'delay', ms: 1000, then: { kind: 'ok' } })
    const pending = sendSms(ctx, '+14155556101', 'Infobip is slow today', 'transactional')
    let settled = false
    const watched = pending.finally(() => { settled = true })

    let sending: Message[] = []
    const deadline = Date.now() + 5000
    while (Date.now() < deadline) {
      sending = (await listMessages(ctx, '?status=sending')).items
      if (sending.length > 0 && ctx.fake.sendRequests().length > 0) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(sending).toHaveLength(1)
    // The provider holds the request, and the client has had no answer yet.
    expect(ctx.fake.sendRequests()).toHaveLength(1)
    expect(settled).toBe(false)

    const id = sending[0]!.id
    const row = await getMessage(ctx, id)
    // sentAt is the hand-over time; Infobip's id and status come with its answer.
    expect(row).toMatchObject({ id, to: '+14155556101', status: 'sending', infobipMessageId: null, providerStatus: null, error: null })
    const destinations = (ctx.fake.sendRequests()[0]!.body as { messages: Array<{ destinations: Array<{ messageId: string }> }> }).messages[0]!.destinations
    expect(destinations.map((d) => d.messageId)).toEqual([id])

    const response = await watched
    expect(response.statusCode).toBe(202)
    expect(await getMessage(ctx, id)).toMatchObject({ status: 'accepted', infobipMessageId: id, providerStatus: 'PENDING_ACCEPTED' })
  })
})

describe('SQLite page size', () => {
  it('gives a new database pages of 16 KiB and leaves an existing database its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sms-page-size-'))
    try {
      const pageSize = async (path: string): Promise<number> => {
        const handle = openDatabase(`sqlite:${path}`)
        try {
          await migrateToLatest(handle.db)
          return (await sql<{ page_size: number }>`pragma page_size`.execute(handle.db)).rows[0]!.page_size
        } finally {
          await handle.close()
        }
      }
      expect(await pageSize(join(dir, 'new.sqlite'))).toBe(16384)
      // A database made with SQLite's default pages, with a table in it, as an older service left it.
      const older = new SQLite(join(dir, 'older.sqlite'))
      older.pragma('journal_mode = WAL')
      older.exec('create table kept (a)')
      older.close()
      expect(await pageSize(join(dir, 'older.sqlite'))).toBe(4096)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
