import { setTimeout as sleep } from 'node:timers/promises'
import { sql } from 'kysely'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js'
import { createTestDatabase, testDialect, type TestDatabase } from '../support/database.js'
import { waitFor } from '../support/wait.js'

// PostgreSQL only: a server that drops a connection (a restart, pg_terminate_backend) while the service holds it.
describe.skipIf(testDialect() !== 'postgres')('a database connection dropped by the server', () => {
  let database: TestDatabase | null = null
  let handle: DatabaseHandle | null = null
  afterEach(async () => {
    await handle?.close().catch(() => undefined)
    await database?.drop()
    handle = null
    database = null
  })

  async function terminate (pid: number): Promise<void> {
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL })
    await admin.connect()
    try {
      await admin.query('select pg_terminate_backend($1)', [pid])
    } finally {
      await admin.end()
    }
  }

  it('while checked out between two statements of a transaction: that transaction fails, the process lives on, the next query gets a new connection', async () => {
    database = await createTestDatabase()
    const lost: string[] = []
    handle = openDatabase(database.url, { onConnectionError: (error) => lost.push(error.message) })
    const db = handle.db

    const transaction = db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)
      // The fault, at a named step: the server ends this connection while the transaction holds it, idle.
      await terminate(rows[0]!.pid)
      await waitFor(() => lost.length > 0, 'the client to hear of its terminated connection')
      await sql`select 1`.execute(trx)
    })
    await expect(transaction).rejects.toThrow()
    // The server's FATAL message, and sometimes the socket's end right after it.
    expect(lost[0]).toBe('terminating connection due to administrator command')
    expect(lost.slice(1).every((m) => m === 'Connection terminated unexpectedly')).toBe(true)

    await sleep(50)
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db)
    expect(rows).toEqual([{ one: 1 }])
  })

  it('while idle in the pool: reported, replaced on the next query', async () => {
    database = await createTestDatabase()
    const lost: string[] = []
    handle = openDatabase(database.url, { onConnectionError: (error) => lost.push(error.message) })
    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(handle.db)
    await terminate(rows[0]!.pid)
    await waitFor(() => lost.length > 0, 'the idle connection to be reported lost')
    expect(lost[0]).toBe('terminating connection due to administrator command')
    expect(lost.slice(1).every((m) => m === 'Connection terminated unexpectedly')).toBe(true)
    const again = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(handle.db)
    expect(again.rows[0]!.pid).not.toBe(rows[0]!.pid)
  })
})
