import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { openDatabase } from '../src/db/database.js'
import { startFakeInfobip, type FakeInfobip } from './support/fake-infobip.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

async function freePort (): Promise<number> {
  return await new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}

let fake: FakeInfobip
let dir: string
beforeAll(async () => {
  fake = await startFakeInfobip()
  dir = mkdtempSync(join(tmpdir(), 'sms-server-'))
})
afterAll(async () => {
  await fake.close()
  rmSync(dir, { recursive: true, force: true })
})

it('on SIGTERM finishes the sends in flight, records them, and exits 0', async () => {
  // Infobip takes its time: the signal arrives while every request is waiting for it.
  fake.setDefault({ kind: 'delay', ms: 800, then: { kind: 'ok' } })
  const port = await freePort()
  const databaseUrl = `sqlite:${join(dir, 'server.sqlite')}`
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'server.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      INFOBIP_BASE_URL: fake.url,
      INFOBIP_API_KEY: fake.apiKey,
      API_KEYS: 'server-test-key',
      WEBHOOK_SECRET: 'server-test-webhook-secret',
      DATABASE_URL: databaseUrl,
    },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))

  const base = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break
    } catch {}
    if (i > 600) throw new Error(`server did not start: ${stderr}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }

  const sends = Array.from({ length: 5 }, async (_, i) => await fetch(`${base}/send-sms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'server-test-key' },
    body: JSON.stringify({ destinationNumber: `+1415555${String(3100 + i)}`, message: `Order ${i} shipped`, purpose: 'transactional' })
  }))
  // Wait until Infobip holds every message, then ask the service to stop.
  for (let i = 0; fake.sendRequests().flatMap((r) => (r.body as { messages: Array<{ destinations: unknown[] }> }).messages.flatMap((m) => m.destinations)).length < 5; i++) {
    if (i > 200) throw new Error('the sends never reached the fake')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  child.kill('SIGTERM')

  const responses = await Promise.all(sends)
  expect(responses.map((r) => r.status)).toEqual([202, 202, 202, 202, 202])
  const ids = await Promise.all(responses.map(async (r) => (await r.json() as { id: string }).id))
  expect(await exited).toBe(0)

  const handle = openDatabase(databaseUrl)
  try {
    const rows = await handle.db.selectFrom('messages').select(['id', 'status']).where('id', 'in', ids).execute()
    expect(rows.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted'])
  } finally {
    await handle.close()
  }
}, 30_000)

it('a database it cannot open (an unwritable data directory) stops it with one clear line, no stack trace', async () => {
  // A regular file where the data directory should be: mkdir fails even for root.
  const blocker = join(dir, 'not-a-directory')
  writeFileSync(blocker, '')
  const databaseUrl = `sqlite:${join(blocker, 'data', 'sms.sqlite')}`
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'server.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(await freePort()), DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)))
  expect(code).toBe(1)
  expect(stderr.trim().split('\n')).toEqual([
    `Cannot open the SQLite database ${join(blocker, 'data', 'sms.sqlite')} (a parent is not a directory, ENOTDIR): set DATABASE_URL to a writable location, e.g. sqlite:/data/sms.sqlite on the Docker image's /data volume`
  ])
}, 30_000)
