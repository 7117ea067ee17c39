/**
 * POST /contacts/import with 100,000 rows over real HTTP, against a baseline that only parses the
 * same CSV with csv-parse (no decoding, validation or database), run in the same command.
 *
 * The client runs in a child process, as a real one would; the service (SQLite file database,
 * production settings) runs in this one. Rounds alternate baseline and service so both see the same
 * machine noise; the medians are reported as ratios, of wall time and of this process's CPU time
 * (what the import costs the server, whatever else the machine is doing). A last round samples the
 * live heap (after forced collections) while the import runs: it must stay flat, not grow with the file.
 * Then, for scale, three parts timed alone: number validation, the database writes, and receiving
 * the upload without doing anything with it.
 * Usage: npm run bench:import [-- --rows 100000 --rounds 3]
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { parse } from 'csv-parse'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { migrateToLatest, openDatabase } from '../src/db/database.js'
import { appendConsentEvents } from '../src/db/repositories/consent.js'
import { insertContacts } from '../src/db/repositories/contacts.js'
import { newId } from '../src/domain/ids.js'
import { readPhoneNumber } from '../src/domain/phone.js'
import { contactsCsvLines } from './contacts-csv.js'

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' } } })
const rows = Number(values.rows)
const rounds = Number(values.rounds)
const csvBytes = [...contactsCsvLines(rows)].reduce((sum, line) => sum + Buffer.byteLength(line), 0)
const client = fileURLToPath(new URL('./import-upload.ts', import.meta.url))

interface Run { wallMs: number, cpuMs: number, detail: string, heapMb?: number }

async function timed (run: () => Promise<string>): Promise<Run> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  const detail = await run()
  const wallMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  return { wallMs, cpuMs: (used.user + used.system) / 1000, detail }
}

async function baseline (): Promise<Run> {
  return await timed(async () => {
    let count = 0
    for await (const record of Readable.from(contactsCsvLines(rows)).pipe(parse({ columns: true }))) if (record !== null) count++
    return `${count} records`
  })
}

async function service (round: number, sampleHeap: boolean): Promise<Run> {
  const dir = join(tmpdir(), `sms-import-bench-${process.pid}-${round}`)
  const app = await buildApp(loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    INFOBIP_BASE_URL: 'http://127.0.0.1:9',
    INFOBIP_API_KEY: 'unused',
    API_KEYS: 'bench',
    WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
    DATABASE_URL: `sqlite:${join(dir, 'import.sqlite')}`
  }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/contacts/import`
  const live = (): number => { global.gc?.(); return process.memoryUsage().heapUsed }
  const startHeap = sampleHeap ? live() : 0
  let peak = startHeap
  const sampler = sampleHeap ? setInterval(() => { peak = Math.max(peak, live()) }, 250) : null
  try {
    const run = await timed(async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', client, url, 'bench', String(rows)], { stdio: ['ignore', 'pipe', 'inherit'] })
      let output = ''
      child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
      await new Promise((resolve) => child.once('exit', resolve))
      const { status, body } = JSON.parse(output) as { status: number, body: { created: number, updated: number, rejected: unknown[] } }
      if (status !== 200 || body.created !== rows) throw new Error(`import failed: ${status} ${JSON.stringify(body).slice(0, 300)}`)
      return `created ${body.created}, updated ${body.updated}, rejected ${body.rejected.length}`
    })
    return sampleHeap ? { ...run, heapMb: (peak - startHeap) / 1024 / 1024 } : run
  } finally {
    if (sampler !== null) clearInterval(sampler)
    await app.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The upload alone, for scale: the same client sends the same CSV to a bare node:http server in this
 * process that only drains the body. The client streams line by line, so the body arrives as tens of
 * thousands of small HTTP chunks; what receiving them costs is a floor no import can go under.
 */
async function receiveOnly (): Promise<Run> {
  const server = createServer((request, response) => {
    let bytes = 0
    request.on('data', (chunk: Buffer) => { bytes += chunk.length })
    request.on('end', () => {
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify({ created: rows, updated: 0, rejected: [], bytes }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/`
  try {
    return await timed(async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', client, url, 'bench', String(rows)], { stdio: ['ignore', 'pipe', 'inherit'] })
      let output = ''
      child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
      await new Promise((resolve) => child.once('exit', resolve))
      const { body } = JSON.parse(output) as { body: { bytes: number } }
      return `${body.bytes} bytes received`
    })
  } finally {
    server.close()
  }
}

/** Two parts of the import's work measured alone, for scale: validating the numbers, and the database writes. */
async function parts (): Promise<{ phone: Run, writes: Run }> {
  const records = [...contactsCsvLines(rows)].slice(1).map((line) => line.split(','))
  const phone = await timed(async () => `${records.filter((fields) => readPhoneNumber(fields[0]!, { defaultCountry: 'US', use: 'recipient' }).ok).length} valid`)
  const dir = join(tmpdir(), `sms-import-bench-${process.pid}-writes`)
  const { db, close } = openDatabase(`sqlite:${join(dir, 'writes.sqlite')}`)
  await migrateToLatest(db)
  const at = new Date().toISOString()
  const writes = await timed(async () => {
    for (let i = 0; i < records.length; i += 1000) {
      const batch = records.slice(i, i + 1000).map((fields) => ({ fields, id: newId() }))
      await db.transaction().execute(async (trx) => {
        await insertContacts(trx, batch.map(({ fields, id }) => ({ id, phoneNumber: fields[0]!, firstName: fields[1]!, lastName: fields[2]!, tags: fields[3]!.split(';'), timezone: fields[4]!, subscribed: fields[5] !== '', at })))
        await appendConsentEvents(trx, batch.filter(({ fields }) => fields[5] !== '').map(({ fields, id }) => ({
          id: newId(), phoneNumber: fields[0]!, contactId: id, type: 'opt_in' as const, source: 'web_form', text: 'Yes, text me offers. Reply STOP to cancel.', ip: null, userAgent: null, keyword: null, occurredAt: at, recordedAt: at, recordedBy: 'bench', requestId: null, fileName: null
        })))
      })
    }
    return `${records.length} contacts, their tags and consent events`
  })
  await close()
  rmSync(dir, { recursive: true, force: true })
  return { phone, writes }
}

const median = (list: number[]): number => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!
const fmt = (ms: number): string => `${ms.toFixed(0)} ms`

console.log(`rows: ${rows}, CSV ${(csvBytes / 1024 / 1024).toFixed(1)} MiB, ${rounds} rounds (alternating), then one round sampling the heap`)
const base: Run[] = []
const served: Run[] = []
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? ['baseline', 'service'] : ['service', 'baseline']
  for (const which of order) {
    const run = which === 'baseline' ? await baseline() : await service(round, false)
    ;(which === 'baseline' ? base : served).push(run)
    console.log(`round ${round + 1} ${which.padEnd(8)}: wall ${fmt(run.wallMs)}, cpu ${fmt(run.cpuMs)} (${run.detail})`)
  }
}
const memory = await service(rounds, true)
const alone = await parts()
const upload = await receiveOnly()
const ratio = (a: Run[], b: Run[], key: 'wallMs' | 'cpuMs'): string => (median(a.map((r) => r[key])) / median(b.map((r) => r[key]))).toFixed(2)
console.log(`median baseline (csv-parse only): wall ${fmt(median(base.map((r) => r.wallMs)))}, cpu ${fmt(median(base.map((r) => r.cpuMs)))}`)
console.log(`median service (POST /contacts/import): wall ${fmt(median(served.map((r) => r.wallMs)))}, cpu ${fmt(median(served.map((r) => r.cpuMs)))}; ${(rows / (median(served.map((r) => r.wallMs)) / 1000)).toFixed(0)} rows/s`)
console.log(`ratio service/baseline: wall ${ratio(served, base, 'wallMs')}x, cpu ${ratio(served, base, 'cpuMs')}x`)
console.log(`live heap during the import: +${memory.heapMb!.toFixed(1)} MiB peak for a ${(csvBytes / 1024 / 1024).toFixed(1)} MiB file (${memory.detail})`)
const baseCpu = median(base.map((r) => r.cpuMs))
console.log(`for scale, alone: number validation (libphonenumber, max metadata) cpu ${fmt(alone.phone.cpuMs)} = ${(alone.phone.cpuMs / baseCpu).toFixed(2)}x baseline; ` +
  `database writes (SQLite, batches of 1,000) cpu ${fmt(alone.writes.cpuMs)} = ${(alone.writes.cpuMs / baseCpu).toFixed(2)}x baseline; ` +
  `receiving the upload (node:http, body drained) cpu ${fmt(upload.cpuMs)} = ${(upload.cpuMs / baseCpu).toFixed(2)}x baseline, ` +
  `wall ${fmt(upload.wallMs)} = ${(upload.wallMs / median(base.map((r) => r.wallMs))).toFixed(2)}x baseline`)
process.exit(0)
