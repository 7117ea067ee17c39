import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterEach } from 'vitest'
import { migrateToLatest, openDatabase, type DatabaseHandle } from '../../src/db/database.js'

/**
 * Each test app gets a database of its own. On SQLite, a real file in the temp folder; on PostgreSQL
 * (TEST_DATABASE_URL set and TEST_DIALECT=postgres, the vitest project that CI runs) a fresh database
 * created on that server and dropped afterwards.
 */
export interface TestDatabase {
  url: string
  dialect: 'sqlite' | 'postgres'
  drop: () => Promise<void>
}

export function testDialect (): 'sqlite' | 'postgres' {
  return process.env.TEST_DIALECT === 'postgres' ? 'postgres' : 'sqlite'
}

export async function createTestDatabase (): Promise<TestDatabase> {
  if (testDialect() === 'postgres') {
    const adminUrl = process.env.TEST_DATABASE_URL
    if (adminUrl === undefined) throw new Error('TEST_DIALECT=postgres needs TEST_DATABASE_URL')
    const name = `sms_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`
    const admin = new pg.Client({ connectionString: adminUrl })
    await admin.connect()
    try {
      await admin.query(`create database ${name}`)
    } finally {
      await admin.end()
    }
    const url = new URL(adminUrl)
    url.pathname = `/${name}`
    return {
      url: url.toString(),
      dialect: 'postgres',
      drop: async () => {
        const client = new pg.Client({ connectionString: adminUrl })
        await client.connect()
        try {
          await client.query(`drop database if exists ${name} with (force)`)
        } finally {
          await client.end()
        }
      }
    }
  }
  const file = join(tmpdir(), `sms-test-${randomUUID()}.sqlite`)
  return {
    url: `sqlite:${file}`,
    dialect: 'sqlite',
    drop: async () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(file + suffix, { force: true })
    }
  }
}

/**
 * For a describe block working on a migrated database of its own per test (repository-level tests, no app):
 * returns `open()`, which creates and migrates one, and closes and drops it after the test.
 */
export function migratedDatabasePerTest (): { open: () => Promise<DatabaseHandle> } {
  let database: TestDatabase | null = null
  let handle: DatabaseHandle | null = null
  afterEach(async () => {
    await handle?.close()
    await database?.drop()
    handle = null
    database = null
  })
  return {
    open: async () => {
      database = await createTestDatabase()
      handle = openDatabase(database.url)
      await migrateToLatest(handle.db)
      return handle
    }
  }
}
