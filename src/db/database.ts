import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Migration, type SqliteDatabase } from 'kysely'
import pg from 'pg'
import { startCheckpointer } from './checkpointer.js'
import * as m001 from './migrations/001_messages.js'
import * as m002 from './migrations/002_contacts.js'
import * as m003 from './migrations/003_outbox_campaigns.js'
import * as m004 from './migrations/004_inbound_consent.js'
import * as m005 from './migrations/005_consent_event_indexes.js'
import * as m006 from './migrations/006_contact_tags_without_rowid.js'
import * as m007 from './migrations/007_message_indexes.js'
import type { Database, Db } from './schema.js'

/** Forward-only, numbered; the same list runs on SQLite and PostgreSQL. */
const migrations: Record<string, Migration> = {
  '001_messages': m001,
  '002_contacts': m002,
  '003_outbox_campaigns': m003,
  '004_inbound_consent': m004,
  '005_consent_event_indexes': m005,
  '006_contact_tags_without_rowid': m006,
  '007_message_indexes': m007
}

export type Dialect = 'sqlite' | 'postgres'

export interface DatabaseHandle {
  db: Db
  dialect: Dialect
  close: () => Promise<void>
}

export interface DatabaseOptions {
  /** Told when the server drops a connection (a restart, pg_terminate_backend), idle in the pool or checked out. */
  onConnectionError?: (error: Error) => void
}

/** The database cannot be opened or migrated at startup: an operator's fix, reported as one line. */
export class DatabaseStartError extends Error {
  override name = 'DatabaseStartError'
}

const OPEN_FAILURES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOTDIR: 'a parent is not a directory',
  ENOENT: 'no such directory',
  SQLITE_CANTOPEN: 'cannot open the file',
  SQLITE_READONLY: 'the file is read-only'
}

/** Opens the SQLite file, creating its directory; a failure becomes one line naming the path and the fix. */
function openSqliteFile (path: string): SQLite.Database {
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    const sqlite = new SQLite(path)
    // A new database gets pages of 16 KiB (SQLite's default is 4 KiB): a bulk write such as a contact
    // import splits fewer B-tree pages and writes fewer WAL frames per commit (measured: ~8% less CPU on the
    // service's thread for a 100,000-row import, docs/benchmarks.md). Only a database without tables takes
    // it; an existing one keeps its page size (changing it needs a VACUUM outside WAL mode).
    sqlite.pragma(`page_size = ${PAGE_SIZE}`)
    sqlite.pragma('journal_mode = WAL')
    return sqlite
  } catch (error) {
    const code = (error as { code?: string }).code ?? ''
    const reason = OPEN_FAILURES[code] ?? (error as Error).message
    throw new DatabaseStartError(`Cannot open the SQLite database ${path} (${reason}${code !== '' ? `, ${code}` : ''}): set DATABASE_URL to a writable location, e.g. sqlite:/data/sms.sqlite on the Docker image's /data volume`)
  }
}

export function openDatabase (url: string, options: DatabaseOptions = {}): DatabaseHandle {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const pool = new pg.Pool({ connectionString: url, max: 10 })
    // A connection the server drops (a restart, pg_terminate_backend) emits 'error' on its client; with no
    // listener that error would crash the process. The pool listens only while a client is idle, so every client
    // gets a listener of its own for the time it is checked out too (a transaction between two statements). The
    // statement in flight fails with the error; the pool never reuses a broken client and opens a new one.
    pool.on('error', () => { /* reported by the client's own listener */ })
    pool.on('connect', (client) => { client.on('error', (error) => options.onConnectionError?.(error)) })
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
    return { db, dialect: 'postgres', close: async () => { await db.destroy() } }
  }
  const path = url.replace(/^sqlite:/, '')
  const sqlite = openSqliteFile(path)
  // WAL + NORMAL is durable across process crashes; only an OS crash can lose the last commits.
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('busy_timeout = 5000')
  sqlite.pragma('foreign_keys = ON')
  const checkpointer = path === ':memory:' ? null : startCheckpointer(path, CHECKPOINT_INTERVAL_MS)
  if (checkpointer !== null) sqlite.pragma('wal_autocheckpoint = 0')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) })
  return {
    db,
    dialect: 'sqlite',
    close: async () => {
      await db.destroy()
      await checkpointer?.stop()
    }
  }
}

/** Bytes per page of a new SQLite database (https://sqlite.org/pragma.html#pragma_page_size). */
const PAGE_SIZE = 16384
const STATEMENT_CACHE_SIZE = 256
const CHECKPOINT_INTERVAL_MS = 1000

/** Statements longer than this (batch statements with hundreds of parameters) are kept apart, fewer of them (characters). */
const CACHED_STATEMENT_MAX_LENGTH = 2048
/** How many batch statements stay prepared: the multi-row INSERT shapes of src/db/repositories/bulk.ts and full IN lists. */
const LONG_STATEMENT_CACHE_SIZE = 48

/**
 * Kysely prepares every query afresh; preparing costs as much as running a small statement, and the
 * service runs the same few statements all day, so keep the most recent ones prepared. Batch statements
 * (an IN list or VALUES list per batch size) are large in memory and each length is a statement of its
 * own, so fewer of them are kept, most recently used first: the bulk inserts use a dozen shapes per
 * table (bulk.ts, `statementSizes`), and preparing a 1,000-row INSERT costs about as much as running it.
 */
function withStatementCache (sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>()
  const long = new Map<string, SQLite.Statement>()
  return {
    prepare (sql: string) {
      const isLong = sql.length > CACHED_STATEMENT_MAX_LENGTH
      const kept = isLong ? long : cache
      let statement = kept.get(sql)
      if (statement === undefined) {
        statement = sqlite.prepare(sql)
        if (kept.size >= (isLong ? LONG_STATEMENT_CACHE_SIZE : STATEMENT_CACHE_SIZE)) kept.delete(kept.keys().next().value!)
        kept.set(sql, statement)
      } else if (isLong) {
        long.delete(sql)
        long.set(sql, statement)
      }
      return statement
    },
    close () {
      cache.clear()
      long.clear()
      sqlite.close()
    }
  }
}

export async function migrateToLatest (db: Db): Promise<void> {
  // Numbers are handed out before the work lands, so a migration can land after a higher-numbered one (006 after
  // 007): a database that already ran the later one runs the earlier one next. Each is independent of those after it.
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true })
  const { error, results } = await migrator.migrateToLatest()
  const failed = results?.find((r) => r.status === 'Error')
  if (error !== undefined || failed !== undefined) {
    throw new DatabaseStartError(`Database migration failed${failed !== undefined ? ` at ${failed.migrationName}` : ''}: ${String((error as Error | undefined)?.message ?? error)}`)
  }
}

export async function pingDatabase (db: Db): Promise<void> {
  await sql`select 1`.execute(db)
}
