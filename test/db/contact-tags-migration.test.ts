import { Migrator, sql, type Migration } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../../src/db/database.js'
import * as m001 from '../../src/db/migrations/001_messages.js'
import * as m002 from '../../src/db/migrations/002_contacts.js'
import * as m003 from '../../src/db/migrations/003_outbox_campaigns.js'
import * as m004 from '../../src/db/migrations/004_inbound_consent.js'
import * as m005 from '../../src/db/migrations/005_consent_event_indexes.js'
import * as m007 from '../../src/db/migrations/007_message_indexes.js'
import { createTestDatabase, type TestDatabase } from '../support/database.js'

/** A database migrated before 006 landed (through 007, which landed first), holding two contacts with tags. */
async function databaseWithout006 (): Promise<{ database: TestDatabase, handle: DatabaseHandle }> {
  const database = await createTestDatabase()
  const handle = openDatabase(database.url)
  const migrations: Record<string, Migration> = { '001_messages': m001, '002_contacts': m002, '003_outbox_campaigns': m003, '004_inbound_consent': m004, '005_consent_event_indexes': m005, '007_message_indexes': m007 }
  const { error } = await new Migrator({ db: handle.db, provider: { getMigrations: async () => migrations } }).migrateToLatest()
  expect(error).toBeUndefined()
  const at = '2026-06-01T12:00:00.000Z'
  await handle.db.insertInto('contacts').values([
    { id: 'c1', phone_number: '+12125550101', first_name: null, last_name: null, timezone: null, attributes: '{}', subscribed: 1, created_at: at, updated_at: at },
    { id: 'c2', phone_number: '+12125550102', first_name: null, last_name: null, timezone: null, attributes: '{}', subscribed: 1, created_at: at, updated_at: at }
  ]).execute()
  await handle.db.insertInto('contact_tags').values([{ contact_id: 'c1', tag: 'vip' }, { contact_id: 'c1', tag: 'spring' }, { contact_id: 'c2', tag: 'vip' }]).execute()
  return { database, handle }
}

describe('migration 006: contact_tags keyed (contact_id, tag)', () => {
  let opened: { database: TestDatabase, handle: DatabaseHandle } | null = null
  afterEach(async () => {
    await opened?.handle.close()
    await opened?.database.drop()
    opened = null
  })

  it('runs on a database that already ran 007; keeps every tag, one row per contact and tag, and the rows go with their contact', async () => {
    opened = await databaseWithout006()
    const { db, dialect } = opened.handle
    await migrateToLatest(db)
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db)
    expect(applied.rows.map((r) => r.name)).toContain('006_contact_tags_without_rowid')

    const tags = await db.selectFrom('contact_tags').select(['contact_id', 'tag']).orderBy('contact_id').orderBy('tag').execute()
    expect(tags).toEqual([{ contact_id: 'c1', tag: 'spring' }, { contact_id: 'c1', tag: 'vip' }, { contact_id: 'c2', tag: 'vip' }])
    await expect(db.insertInto('contact_tags').values({ contact_id: 'c2', tag: 'vip' }).execute()).rejects.toThrow(/UNIQUE|duplicate key/)
    await expect(db.insertInto('contact_tags').values({ contact_id: 'nobody', tag: 'vip' }).execute()).rejects.toThrow(/FOREIGN KEY|foreign key/)
    await db.deleteFrom('contacts').where('id', '=', 'c1').execute()
    expect(await db.selectFrom('contact_tags').select(['contact_id', 'tag']).execute()).toEqual([{ contact_id: 'c2', tag: 'vip' }])

    if (dialect === 'sqlite') {
      // One B-tree: the table is its primary key, with no rowid table and no other index beside it.
      const table = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'contact_tags'`.execute(db)
      expect(table.rows[0]!.sql).toMatch(/without rowid$/i)
      const indexes = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'contact_tags'`.execute(db)
      expect(indexes.rows).toEqual([])
    } else {
      const indexes = await sql<{ indexname: string }>`select indexname from pg_indexes where tablename = 'contact_tags' order by indexname`.execute(db)
      expect(indexes.rows.map((r) => r.indexname)).toEqual(['contact_tags_pk', 'contact_tags_tag_idx'])
    }
  })
})
