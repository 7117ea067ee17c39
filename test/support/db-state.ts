import { sql } from 'kysely'
import { openDatabase } from '../../src/db/database.js'
import type { TestDatabase } from './database.js'

export interface ChangeCounter {
  /**
   * A signature of the database's state: rows inserted, updated or deleted (and committed) in the
   * app's tables since the counter was installed, and the row count of each table in `netOnly`.
   */
  count: () => Promise<string>
  /** Messages the dispatcher still has to hand over or record (queued or sending): work that will write later. */
  inFlight: () => Promise<number>
  close: () => Promise<void>
}

/**
 * Counts every committed row change in a test app's database, through triggers on each of its tables
 * that bump one counter row: a write rolled back with its transaction is not counted. For "a refused
 * request changed nothing" checks over thousands of requests, at the cost of one read each.
 * Install it after the app has migrated the database. Tables in `netOnly` are compared by their row
 * count instead: bookkeeping a request may write and undo (an Idempotency-Key claimed, then released
 * when the request is refused).
 */
export async function changeCounter (database: TestDatabase, netOnly: readonly string[] = []): Promise<ChangeCounter> {
  const { db, close } = openDatabase(database.url)
  const tables = (await db.introspection.getTables()).map((table) => table.name).filter((name) => !name.startsWith('kysely_') && !netOnly.includes(name))
  // One counter per table, so a failure says which table was written.
  await sql.raw('create table test_changes (name varchar(64) primary key, n integer not null)').execute(db)
  for (const table of tables) await sql.raw(`insert into test_changes (name, n) values ('${table}', 0)`).execute(db)
  if (database.dialect === 'postgres') {
    await sql.raw('create function test_count_change() returns trigger language plpgsql as $$ begin update test_changes set n = n + 1 where name = TG_TABLE_NAME; return null; end $$').execute(db)
    for (const table of tables) {
      await sql.raw(`create trigger test_changes_${table} after insert or update or delete on "${table}" for each row execute function test_count_change()`).execute(db)
    }
  } else {
    for (const table of tables) {
      for (const event of ['insert', 'update', 'delete']) {
        await sql.raw(`create trigger test_changes_${table}_${event} after ${event} on "${table}" begin update test_changes set n = n + 1 where name = '${table}'; end`).execute(db)
      }
    }
  }
  const counts = netOnly.map((table) => ` union all select '${table} rows', count(*) from "${table}"`).join('')
  const read = sql.raw<{ name: string, n: number | string }>(`select name, n from test_changes${counts} order by 1`)
  const pending = sql<{ n: number | string }>`select count(*) as n from messages where status in ('queued', 'sending')`
  return {
    count: async () => (await read.execute(db)).rows.filter((row) => Number(row.n) > 0).map((row) => `${row.name}=${row.n}`).join(' '),
    inFlight: async () => Number((await pending.execute(db)).rows[0]!.n),
    close
  }
}
