/**
 * Campaign dispatch throughput: 100,000 contacts (imported first, not timed), one campaign launched, until every
 * message is accepted by the fake Infobip, with the throttle off (SEND_RATE_PER_SECOND=1,000,000). Reports
 * messages per second, time to materialise the audience, and the service's peak RSS, on SQLite and (when
 * BENCH_DATABASE_URL or TEST_DATABASE_URL points at a PostgreSQL server) on PostgreSQL. In the same run, the
 * guide's way — one POST /send-sms per recipient through the guide's plain Fastify + SDK route — sends a sample,
 * and the campaign's rate is reported as a ratio of it.
 * Usage: npm run bench:campaign [-- --contacts 100000 --sample 3000 --connections 50]
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { afternoonZone } from '../prove/harness.js'
import { adopt, freePort, start, waitForHealth } from './processes.js'
import { serviceNodeFlags } from './service-command.js'
import pg from 'pg'

const { values } = parseArgs({
  options: {
    contacts: { type: 'string', default: '100000' },
    sample: { type: 'string', default: '3000' },
    connections: { type: 'string', default: '50' }
  }
})
const contactCount = Number(values.contacts)
const sampleSize = Number(values.sample)
const connections = Number(values.connections)
const pgAdmin = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL

function csv (count: number): string {
  const zone = afternoonZone()
  const lines = ['phoneNumber,firstName,timezone,consentSource,consentText']
  for (let i = 0; i < count; i++) lines.push(`+1415${String(3000000 + i).padStart(7, '0')},Ann${i},${zone},web_form,"Yes, text me offers. Reply STOP to cancel."`)
  return lines.join('\n') + '\n'
}

/** CPU time (user + system) a process has used so far, in ms (/proc/PID/stat, clock ticks of 10 ms). */
function cpuMs (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

function peakRssMb (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024
}

interface CampaignRun { database: string, messages: number, materialiseMs: number, dispatchMs: number, messagesPerSecond: number, peakRssMb: number, importRssMb: number, serviceCpuMs: number, fakeCpuMs: number }

async function runCampaign (database: string, databaseUrl: string, infobipEnv: Record<string, string>, contacts = contactCount, ratePerSecond = 1_000_000): Promise<CampaignRun> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const apiKey = 'bench-api-key'
  // BENCH_PROFILE_DIR: write a CPU profile of the service (node --cpu-prof) there.
  const profile = process.env.BENCH_PROFILE_DIR !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : []
  const child = spawn(process.execPath, [...profile, ...serviceNodeFlags(), 'dist/server.js'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      ...infobipEnv,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      API_KEYS: apiKey,
      WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
      DATABASE_URL: databaseUrl,
      RATE_LIMIT_MAX: '1000000000',
      SEND_RATE_PER_SECOND: String(ratePerSecond),
      SEND_BATCH_SIZE: '500'
    }
  })
  adopt(child)
  await waitForHealth(url)
  const headers = { 'x-api-key': apiKey }
  const imported = await fetch(`${url}/contacts/import`, { method: 'POST', headers: { ...headers, 'content-type': 'text/csv' }, body: csv(contacts) })
  if (!imported.ok) throw new Error(`import failed: ${imported.status} ${await imported.text()}`)
  const importRssMb = peakRssMb(child.pid!)
  // Reset the process's peak RSS (Linux clear_refs 5), so the figure below is the campaign's own.
  writeFileSync(`/proc/${child.pid!}/clear_refs`, '5')

  const created = await fetch(`${url}/campaigns`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Benchmark', message: 'Hi {{ firstName | default: "there" }}, our spring sale starts today.', audience: {} })
  })
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${await created.text()}`)
  const { id } = await created.json() as { id: string }
  const cpuAtLaunch = { service: cpuMs(child.pid!), fake: cpuMs(fake.child.pid!) }
  const launchedAt = performance.now()
  const launched = await fetch(`${url}/campaigns/${id}/launch`, { method: 'POST', headers })
  if (launched.status !== 202) throw new Error(`launch failed: ${launched.status} ${await launched.text()}`)
  const materialiseMs = performance.now() - launchedAt
  let stats: Record<string, number> = {}
  const memory = { heapMb: 0, externalMb: 0 }
  for (;;) {
    const metrics = await (await fetch(`${url}/metrics`)).text()
    const gauge = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? 0) / 1024 / 1024
    memory.heapMb = Math.max(memory.heapMb, gauge('nodejs_heap_size_total_bytes'))
    memory.externalMb = Math.max(memory.externalMb, gauge('nodejs_external_memory_bytes'))
    // BENCH_MEMORY_TRACE: the service's RSS and V8 heap spaces (MB) at every poll, to see where a peak comes from.
    if (process.env.BENCH_MEMORY_TRACE !== undefined) {
      const space = (name: string, kind: string): string => (Number(new RegExp(`^nodejs_heap_space_size_${kind}_bytes\\{space="${name}"\\} (\\S+)`, 'm').exec(metrics)?.[1] ?? 0) / 1048576).toFixed(0)
      const rssMb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid!}/status`, 'utf8'))?.[1] ?? 0) / 1024
      console.log(`${((performance.now() - launchedAt) / 1000).toFixed(1)} s: RSS ${rssMb.toFixed(0)}, new ${space('new', 'total')}, old ${space('old', 'used')}/${space('old', 'total')}, large ${space('large_object', 'total')}, external ${gauge('nodejs_external_memory_bytes').toFixed(0)}`)
    }
    const campaign = await (await fetch(`${url}/campaigns/${id}`, { headers })).json() as { stats: Record<string, number>, status: string }
    stats = campaign.stats
    if (stats.total! > 0 && stats.accepted! + stats.delivered! >= stats.total!) break
    if ((stats.failed ?? 0) + (stats.suppressed ?? 0) + (stats.deferred ?? 0) > 0) throw new Error(`unexpected refusals: ${JSON.stringify(stats)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const dispatchMs = performance.now() - launchedAt
  const serviceCpuMs = cpuMs(child.pid!) - cpuAtLaunch.service
  const fakeCpuMs = cpuMs(fake.child.pid!) - cpuAtLaunch.fake
  const rss = peakRssMb(child.pid!)
  console.log(`${database}: peak V8 heap ${memory.heapMb.toFixed(0)} MB, peak external ${memory.externalMb.toFixed(0)} MB`)
  child.kill('SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
  return { database, messages: stats.total!, materialiseMs, dispatchMs, messagesPerSecond: stats.total! / (dispatchMs / 1000), peakRssMb: rss, importRssMb, serviceCpuMs, fakeCpuMs }
}

/** The guide's way: one request per recipient through the plain Fastify + SDK route. */
async function runGuide (infobipEnv: Record<string, string>): Promise<{ messages: number, messagesPerSecond: number }> {
  const baseline = await start(['--import', 'tsx', 'bench/baseline-server.ts'], infobipEnv)
  let next = 0
  const started = performance.now()
  const result = await autocannon({
    url: `${baseline.info.url!}/send-sms`,
    method: 'POST',
    connections,
    amount: sampleSize,
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ destinationNumber: `1415${String(3000000 + next++).padStart(7, '0')}`, message: 'Hi Ann, our spring sale starts today.' }) }) }]
  })
  const seconds = (performance.now() - started) / 1000
  baseline.child.kill('SIGTERM')
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`guide route failed ${result.non2xx + result.errors} requests`)
  return { messages: result.requests.total, messagesPerSecond: result.requests.total / seconds }
}

execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' })
const fake = await start(['--import', 'tsx', 'bench/fake-infobip-server.ts'], {})
const infobipEnv = { INFOBIP_BASE_URL: fake.info.url!, INFOBIP_API_KEY: fake.info.apiKey!, LOG_LEVEL: 'warn' }

const dataDir = join(tmpdir(), `sms-campaign-bench-${process.pid}`)
mkdirSync(dataDir, { recursive: true })
const guide = await runGuide(infobipEnv)
console.log(`guide route: ${guide.messages} messages at ${guide.messagesPerSecond.toFixed(0)} messages/s`)
const runs: CampaignRun[] = [await runCampaign('SQLite', `sqlite:${join(dataDir, 'campaign.sqlite')}`, infobipEnv)]
if (pgAdmin !== undefined && pgAdmin !== '') {
  const name = `sms_bench_${process.pid}`
  const admin = new pg.Client({ connectionString: pgAdmin })
  await admin.connect()
  await admin.query(`create database ${name}`)
  const dbUrl = new URL(pgAdmin)
  dbUrl.pathname = `/${name}`
  try {
    runs.push(await runCampaign('PostgreSQL', dbUrl.toString(), infobipEnv))
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`)
    await admin.end()
  }
}

// Throttle accuracy: 1,000 messages at SEND_RATE_PER_SECOND=100 should take (1,000 - 10) / 100 = 9.9 s after the
// audience is materialised (the bucket holds 0.1 s of tokens).
const throttled = await runCampaign('SQLite, SEND_RATE_PER_SECOND=100', `sqlite:${join(dataDir, 'throttled.sqlite')}`, infobipEnv, 1000, 100)
console.log(`throttle: 1,000 messages at 100/s took ${((throttled.dispatchMs - throttled.materialiseMs) / 1000).toFixed(2)} s after launch (expected 9.9 s)`)

console.log('\n| database | messages | materialise (s) | launch → all accepted (s) | messages/s | × guide route | service CPU (s) | fake Infobip CPU (s) | peak RSS, campaign (MB) | peak RSS, import (MB) |\n|---|---|---|---|---|---|---|---|---|---|')
for (const r of runs) {
  console.log(`| ${r.database} | ${r.messages} | ${(r.materialiseMs / 1000).toFixed(2)} | ${(r.dispatchMs / 1000).toFixed(2)} | ${r.messagesPerSecond.toFixed(0)} | ${(r.messagesPerSecond / guide.messagesPerSecond).toFixed(1)}× | ${(r.serviceCpuMs / 1000).toFixed(1)} | ${(r.fakeCpuMs / 1000).toFixed(1)} | ${r.peakRssMb.toFixed(0)} | ${r.importRssMb.toFixed(0)} |`)
}
mkdirSync('bench/results', { recursive: true })
writeFileSync(join('bench/results', `campaign-${Date.now()}.json`), JSON.stringify({ date: new Date().toISOString(), node: process.version, contacts: contactCount, guide, runs, throttled }, null, 2))
rmSync(dataDir, { recursive: true, force: true })
process.exit(0)
