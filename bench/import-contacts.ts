/**
 * POST /contacts/import with 100,000 rows over real HTTP, against a baseline that only parses the
 * same bytes, cut the same way, with csv-parse (no decoding, validation or database), run in the same command.
 *
 * The client runs in a child process, as a real one would; the service (SQLite file database,
 * production settings) runs in this one. The client prepares its upload before the clock starts and
 * sends it when told. Two uploads of the same CSV:
 * - file (the target): sent as `curl --data-binary @contacts.csv` and browsers send a file, with a
 *   Content-Length in 64 KiB pieces; the baseline parses the same 64 KiB pieces;
 * - lines (the worst case, reported beside it): a client streaming the file line by line with chunked
 *   encoding, ~100,000 pieces of ~130 bytes; the baseline parses the same lines one by one.
 * Rounds alternate baseline and service so both see the same machine noise; the medians are reported
 * as ratios, of wall time and of this process's CPU time (all its threads: what the import costs the
 * server, whatever else the machine is doing). Both sides are measured warm: before the rounds the
 * baseline parses, and each round's new service imports, a 5,000-row file of other numbers (a running
 * service has imported before; its reader thread is up and the import's code compiled), and every timed
 * round starts from a full collection (not from the garbage of the rounds before it). A last round samples the live heap (after forced
 * collections) while a file import runs: it must stay flat, not grow with the file. Then, for scale,
 * three parts timed alone: number validation, the database writes, and receiving each upload without
 * doing anything with it.
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
import { contactsCsvFilePieces, contactsCsvLines, FILE_PIECE_BYTES } from './contacts-csv.js'

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' } } })
const rows = Number(values.rows)
const rounds = Number(values.rounds)
const filePieces = contactsCsvFilePieces(rows)
const csvBytes = filePieces.reduce((sum, piece) => sum + piece.length, 0)
const client = fileURLToPath(new URL('./import-upload.ts', import.meta.url))
/** Rows of the file each service imports, and the baseline parses, before it is measured: other numbers than the measured file's. */
const WARM_UP_ROWS = 5000
const warmUpCsv = [...contactsCsvLines(WARM_UP_ROWS, 3_000_000)].join('')

/** How the client sends the CSV (see the top of this file). */
type Upload = 'file' | 'lines'
const UPLOADS: Upload[] = ['file', 'lines']

interface Run { wallMs: number, cpuMs: number, detail: string, heapMb?: number, rssMb?: number }

async function timed (run: () => Promise<string>): Promise<Run> {
  // Each round, baseline or service, starts from a collected heap: not from the rounds before it.
  global.gc?.()
  const cpu = process.cpuUsage()
  const started = performance.now()
  const detail = await run()
  const wallMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  return { wallMs, cpuMs: (used.user + used.system) / 1000, detail }
}

/** csv-parse alone over the same pieces the client sends: 64 KiB Buffers, or the lines one by one. */
async function baseline (upload: Upload): Promise<Run> {
  return await timed(async () => {
    let count = 0
    const source = upload === 'file' ? Readable.from(filePieces) : Readable.from(contactsCsvLines(rows))
    for await (const record of source.pipe(parse({ columns: true }))) if (record !== null) count++
    return `${count} records`
  })
}

/**
 * Starts the client (not timed: it starts Node and prepares its upload), then times from telling it to
 * send to its having the response; returns the response.
 */
async function send (url: string, upload: Upload): Promise<{ run: Run, response: { status: number, body: Record<string, unknown> } }> {
  const child = spawn(process.execPath, ['--import', 'tsx', client, url, 'bench', String(rows), upload], { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  let output = ''
  let ready: () => void = () => {}
  const readyLine = new Promise<void>((resolve) => { ready = resolve })
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
    if (output.startsWith('ready\n')) ready()
  })
  await Promise.race([readyLine, exited.then(() => { throw new Error(`the client exited before it was ready: ${output}`) })])
  let response = { status: 0, body: {} as Record<string, unknown> }
  const run = await timed(async () => {
    child.stdin.end('go\n')
    await exited
    response = JSON.parse(output.slice('ready\n'.length)) as typeof response
    return ''
  })
  return { run, response }
}

async function service (round: number, upload: Upload, sampleHeap: boolean): Promise<Run> {
  const dir = join(tmpdir(), `sms-import-bench-${process.pid}-${upload}-${round}`)
  const app = await buildApp(loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'error',
    INFOBIP_BASE_URL: 'http://127.0.0.1:9',
    INFOBIP_API_KEY: 'unused',
    API_KEYS: 'bench',
    WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
    DATABASE_URL: `sqlite:${join(dir, 'import.sqlite')}`
  }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/contacts/import`
  // A running service has imported before (steady state, as the baseline is): its import reader thread
  // is up and the import's code compiled. The warm-up file holds other numbers than the measured one.
  const warm = await app.inject({ method: 'POST', url: '/contacts/import', headers: { 'x-api-key': 'bench', 'content-type': 'text/csv' }, payload: warmUpCsv })
  if (warm.statusCode !== 200 || warm.json<{ created: number }>().created !== WARM_UP_ROWS) throw new Error(`warm-up import failed: ${warm.statusCode} ${warm.body.slice(0, 300)}`)
  const live = (): number => { global.gc?.(); return process.memoryUsage().heapUsed }
  const startHeap = sampleHeap ? live() : 0
  const startRss = process.memoryUsage().rss
  let peak = startHeap
  let peakRss = startRss
  const sampler = sampleHeap ? setInterval(() => { peak = Math.max(peak, live()); peakRss = Math.max(peakRss, process.memoryUsage().rss) }, 250) : null
  try {
    const { run, response: { status, body } } = await send(url, upload)
    if (status !== 200 || body.created !== rows) throw new Error(`import failed: ${status} ${JSON.stringify(body).slice(0, 300)}`)
    run.detail = `created ${String(body.created)}, updated ${String(body.updated)}, rejected ${(body.rejected as unknown[]).length}`
    return sampleHeap ? { ...run, heapMb: (peak - startHeap) / 1024 / 1024, rssMb: (peakRss - startRss) / 1024 / 1024 } : run
  } finally {
    if (sampler !== null) clearInterval(sampler)
    await app.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The upload alone, for scale: the same client sends the same CSV the same way to a bare node:http
 * server in this process that only drains the body. Streamed line by line, the body arrives as about
 * 100,000 small HTTP chunks; what receiving them costs is a floor no import can go under.
 */
async function receiveOnly (upload: Upload): Promise<Run> {
  const server = createServer((request, response) => {
    let bytes = 0
    request.on('data', (chunk: Buffer) => { bytes += chunk.length })
    request.on('end', () => {
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify({ bytes }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/`
  try {
    const { run, response } = await send(url, upload)
    run.detail = `${String(response.body.bytes)} bytes received`
    return run
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

const mib = (csvBytes / 1024 / 1024).toFixed(1)
console.log(`rows: ${rows}, CSV ${mib} MiB, ${rounds} rounds (alternating) per upload, then one round sampling the heap`)
// The baseline's code compiled too, as the service's is by its warm-up import.
for await (const record of Readable.from([Buffer.from(warmUpCsv)]).pipe(parse({ columns: true }))) if (record === null) throw new Error('unreachable')
const base: Record<Upload, Run[]> = { file: [], lines: [] }
const served: Record<Upload, Run[]> = { file: [], lines: [] }
for (let round = 0; round < rounds; round++) {
  for (const upload of UPLOADS) {
    const order = round % 2 === 0 ? ['baseline', 'service'] : ['service', 'baseline']
    for (const which of order) {
      const run = which === 'baseline' ? await baseline(upload) : await service(round, upload, false)
      ;(which === 'baseline' ? base : served)[upload].push(run)
      console.log(`round ${round + 1} ${upload.padEnd(5)} ${which.padEnd(8)}: wall ${fmt(run.wallMs)}, cpu ${fmt(run.cpuMs)} (${run.detail})`)
    }
  }
}
const memory = await service(rounds, 'file', true)
const alone = await parts()
const received = { file: await receiveOnly('file'), lines: await receiveOnly('lines') }
const med = (list: Run[], key: 'wallMs' | 'cpuMs'): number => median(list.map((r) => r[key]))
const label: Record<Upload, string> = {
  file: `file upload (Content-Length, ${FILE_PIECE_BYTES / 1024} KiB pieces; baseline parses the same pieces)`,
  lines: 'worst case: a client streaming line by line (chunked; baseline parses the same lines)'
}
for (const upload of UPLOADS) {
  const b = base[upload]
  const s = served[upload]
  console.log(`${label[upload]}:`)
  console.log(`  median baseline (csv-parse only): wall ${fmt(med(b, 'wallMs'))}, cpu ${fmt(med(b, 'cpuMs'))}`)
  console.log(`  median service (POST /contacts/import): wall ${fmt(med(s, 'wallMs'))}, cpu ${fmt(med(s, 'cpuMs'))}; ${(rows / (med(s, 'wallMs') / 1000)).toFixed(0)} rows/s`)
  console.log(`  ratio service/baseline: wall ${(med(s, 'wallMs') / med(b, 'wallMs')).toFixed(2)}x, cpu ${(med(s, 'cpuMs') / med(b, 'cpuMs')).toFixed(2)}x`)
  console.log(`  receiving the upload alone (node:http, body drained): cpu ${fmt(received[upload].cpuMs)} = ${(received[upload].cpuMs / med(b, 'cpuMs')).toFixed(2)}x baseline, ` +
    `wall ${fmt(received[upload].wallMs)} = ${(received[upload].wallMs / med(b, 'wallMs')).toFixed(2)}x baseline`)
}
console.log(`during a file import: live heap of the service's thread +${memory.heapMb!.toFixed(1)} MiB peak, process RSS (all threads, SQLite's cache) +${memory.rssMb!.toFixed(0)} MiB peak, for a ${mib} MiB file (${memory.detail})`)
const baseCpu = med(base.file, 'cpuMs')
console.log(`for scale, alone (x file baseline cpu): number validation (libphonenumber, max metadata) cpu ${fmt(alone.phone.cpuMs)} = ${(alone.phone.cpuMs / baseCpu).toFixed(2)}x; ` +
  `database writes (SQLite, batches of 1,000) cpu ${fmt(alone.writes.cpuMs)} = ${(alone.writes.cpuMs / baseCpu).toFixed(2)}x`)
process.exit(0)
