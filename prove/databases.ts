/**
 * Databases for the harness: one per scenario (a SQLite file, or a PostgreSQL database created and dropped on the
 * server at PROVE_DATABASE_URL / TEST_DATABASE_URL), read directly to compare the service's records with the fake
 * Infobip's truth. For the PostgreSQL-restart scenario, a private server the harness can stop and start
 * (`startPrivatePostgres`), when PostgreSQL's binaries are on this machine.
 */
import { execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import SQLite from 'better-sqlite3'
import pg from 'pg'
import { freePort } from '../bench/processes.js'
import type { MessageStatus } from '../src/domain/message-status.js'

/** A message as the service recorded it. */
export interface MessageRecord { id: string, to: string, status: MessageStatus, campaignId: string | null, origin: string, text: string }

export interface ScenarioDatabase {
  /** DATABASE_URL for the service. */
  url: string
  /** The service's records: a campaign's messages, or the replies it sent (confirmations, HELP). */
  records: (which: { campaignId: string } | { origin: 'reply' }) => Promise<MessageRecord[]>
  /** PostgreSQL: terminates every connection to this database (pg_terminate_backend); how many. */
  terminateConnections?: () => Promise<number>
  drop: () => Promise<void>
}

export interface DatabaseServer {
  label: 'SQLite' | 'PostgreSQL'
  create: (name: string) => Promise<ScenarioDatabase>
}

interface Row { id: string, to_number: string, status: string, campaign_id: string | null, origin: string, text: string }

const SELECT = 'select id, to_number, status, campaign_id, origin, text from messages'

function toRecord (row: Row): MessageRecord {
  return { id: row.id, to: row.to_number, status: row.status as MessageStatus, campaignId: row.campaign_id, origin: row.origin, text: row.text }
}

export function sqliteServer (dir: string): DatabaseServer {
  return {
    label: 'SQLite',
    async create (name) {
      const path = join(dir, `${name}.sqlite`)
      return {
        url: `sqlite:${path}`,
        async records (which) {
          const db = new SQLite(path, { readonly: true, fileMustExist: true })
          try {
            const rows = 'campaignId' in which
              ? db.prepare(`${SELECT} where campaign_id = ?`).all(which.campaignId)
              : db.prepare(`${SELECT} where origin = ?`).all(which.origin)
            return (rows as Row[]).map(toRecord)
          } finally {
            db.close()
          }
        },
        async drop () {
          for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true })
        }
      }
    }
  }
}

function withDatabase (adminUrl: string, database: string): string {
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

/** Databases on the PostgreSQL server at `adminUrl` (its own database is only used to create and drop). */
export function postgresServer (adminUrl: string): DatabaseServer {
  async function admin<T> (run: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    try {
      return await run(client)
    } finally {
      await client.end()
    }
  }
  return {
    label: 'PostgreSQL',
    async create (name) {
      const database = `prove_${name}_${process.pid}`.toLowerCase().replace(/[^a-z0-9_]/g, '_')
      await admin(async (c) => {
        await c.query(`drop database if exists ${database} with (force)`)
        await c.query(`create database ${database}`)
      })
      const url = withDatabase(adminUrl, database)
      return {
        url,
        async records (which) {
          const client = new pg.Client({ connectionString: url })
          await client.connect()
          try {
            const result = 'campaignId' in which
              ? await client.query<Row>(`${SELECT} where campaign_id = $1`, [which.campaignId])
              : await client.query<Row>(`${SELECT} where origin = $1`, [which.origin])
            return result.rows.map(toRecord)
          } finally {
            await client.end()
          }
        },
        async terminateConnections () {
          return await admin(async (c) => {
            const result = await c.query<{ count: string }>('select count(pg_terminate_backend(pid)) as count from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database])
            return Number(result.rows[0]?.count ?? 0)
          })
        },
        async drop () {
          await admin(async (c) => { await c.query(`drop database if exists ${database} with (force)`) })
        }
      }
    }
  }
}

/** A PostgreSQL server of the harness's own, which it may restart. */
export interface PrivatePostgres {
  server: DatabaseServer
  /** Stops the server (fast: every connection cut), waits `downMs`, starts it again. */
  restart: (downMs: number) => Promise<void>
  stop: () => Promise<void>
}

function postgresBinaries (): string | null {
  const configured = process.env.PROVE_PG_BIN
  if (configured !== undefined && configured !== '') return existsSync(join(configured, 'pg_ctl')) ? configured : null
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    if (existsSync(join(dir, 'pg_ctl')) && existsSync(join(dir, 'initdb'))) return dir
  } catch {}
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(a) - Number(b))
  const latest = versions[versions.length - 1]
  return latest === undefined ? null : join(root, latest, 'bin')
}

/**
 * Starts a throw-away PostgreSQL server in a scratch directory on a free port, when PostgreSQL's binaries are found
 * (PROVE_PG_BIN, `pg_config --bindir`, or /usr/lib/postgresql/<version>/bin). PostgreSQL refuses to run as root,
 * so as root it runs as the `postgres` user. Returns null, with the reason, when it cannot.
 */
export async function startPrivatePostgres (): Promise<PrivatePostgres | { reason: string }> {
  const bin = postgresBinaries()
  if (bin === null) return { reason: 'no PostgreSQL binaries (initdb, pg_ctl) found; set PROVE_PG_BIN' }
  const asRoot = process.getuid?.() === 0
  const data = mkdtempSync(join(tmpdir(), 'sms-prove-pg-'))
  const port = await freePort()
  const run = (tool: string, args: string[]): void => {
    const command = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] as const : [join(bin, tool), args] as const
    execFileSync(command[0], [...command[1]], { stdio: ['ignore', 'ignore', 'pipe'] })
  }
  try {
    if (asRoot) {
      const uid = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()
      const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()
      chownSync(data, Number(uid), Number(gid))
    }
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres'])
  } catch (error) {
    rmSync(data, { recursive: true, force: true })
    return { reason: `could not create a PostgreSQL server of its own: ${(error as Error).message.split('\n')[0]}` }
  }
  const options = `-p ${port} -k ${data} -c listen_addresses=127.0.0.1 -c fsync=off`
  const startServer = (): void => run('pg_ctl', ['-D', data, '-o', options, '-l', join(data, 'server.log'), '-w', 'start'])
  const stopServer = (): void => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop'])
  startServer()
  return {
    server: postgresServer(`postgres://postgres@127.0.0.1:${port}/postgres`),
    async restart (downMs) {
      stopServer()
      await sleep(downMs)
      startServer()
    },
    async stop () {
      try { stopServer() } catch {}
      rmSync(data, { recursive: true, force: true })
    }
  }
}
