/**
 * POST /send-sms throughput and latency, against the guide's plain route as the baseline.
 *
 * Each server runs in its own process against the same fake Infobip (also its own process); the
 * load alternates between them over several rounds so that both see the same machine noise, and the
 * result is reported as ratios. Usage: npm run bench [-- --duration 10 --rounds 3 --connections 50]
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { adopt, freePort, start, waitForHealth } from './processes.js'
import { serviceNodeFlags } from './service-command.js'

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '3' }
  }
})
const duration = Number(values.duration)
const rounds = Number(values.rounds)
const connections = Number(values.connections)
const warmup = Number(values.warmup)

interface Sample { requestsPerSecond: number, p99: number, p50: number, non2xx: number, errors: number }

// Distinct recipients, as real traffic has: 10,000 valid San Francisco numbers, the same for both targets.
const bodies = Array.from({ length: 10_000 }, (_, i) => JSON.stringify({
  destinationNumber: `+1415${String(2000000 + i * 97).padStart(7, '0')}`,
  message: `Your order #${1000 + i} has shipped.`,
  purpose: 'transactional'
}))

async function load (url: string, headers: Record<string, string>, seconds: number): Promise<Sample> {
  let next = 0
  const result = await autocannon({
    url: `${url}/send-sms`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json', ...headers },
    requests: [{ setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }) }]
  })
  return { requestsPerSecond: result.requests.average, p99: result.latency.p99, p50: result.latency.p50, non2xx: result.non2xx, errors: result.errors }
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' })
const tsx = ['--import', 'tsx']
const fake = await start([...tsx, 'bench/fake-infobip-server.ts'], {})
const infobipEnv = { INFOBIP_BASE_URL: fake.info.url!, INFOBIP_API_KEY: fake.info.apiKey!, LOG_LEVEL: 'warn' }

const baseline = await start([...tsx, 'bench/baseline-server.ts'], infobipEnv)
const dataDir = join(tmpdir(), `sms-bench-${process.pid}`)
mkdirSync(dataDir, { recursive: true })
const servicePort = await freePort()
const serviceUrl = `http://127.0.0.1:${servicePort}`
const apiKey = 'bench-api-key'
// BENCH_PROFILE_DIR: write a CPU profile of the service (node --cpu-prof) there.
const profile = process.env.BENCH_PROFILE_DIR !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : []
const serviceProcess = adopt(spawn(process.execPath, [...profile, ...serviceNodeFlags(), 'dist/server.js'], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    ...infobipEnv,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(servicePort),
    API_KEYS: apiKey,
    WEBHOOK_SECRET: 'bench-webhook-secret-0123456789',
    DATABASE_URL: `sqlite:${join(dataDir, 'bench.sqlite')}`,
    RATE_LIMIT_MAX: '1000000000',
    SEND_RATE_PER_SECOND: '1000000'
  }
}))
await waitForHealth(serviceUrl)

const targets: Array<{ name: string, url: string, headers: Record<string, string> }> = [
  { name: 'baseline (guide route: Fastify + SDK)', url: baseline.info.url!, headers: {} },
  { name: 'service (/send-sms: validation, compliance, persistence)', url: serviceUrl, headers: { 'x-api-key': apiKey } }
]
for (const target of targets) await load(target.url, target.headers, warmup)

const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]))
for (let round = 1; round <= rounds; round++) {
  for (const target of round % 2 === 1 ? targets : [...targets].reverse()) {
    const sample = await load(target.url, target.headers, duration)
    samples.get(target.name)!.push(sample)
    console.log(`round ${round} ${target.name}: ${sample.requestsPerSecond.toFixed(0)} req/s, p50 ${sample.p50} ms, p99 ${sample.p99} ms, non-2xx ${sample.non2xx}, errors ${sample.errors}`)
  }
}

const summary = targets.map((t) => {
  const s = samples.get(t.name)!
  return { name: t.name, requestsPerSecond: median(s.map((x) => x.requestsPerSecond)), p99: median(s.map((x) => x.p99)), non2xx: s.reduce((a, x) => a + x.non2xx, 0), errors: s.reduce((a, x) => a + x.errors, 0) }
})
const [base, service] = summary as [typeof summary[0], typeof summary[0]]
const report = {
  date: new Date().toISOString(),
  node: process.version,
  connections,
  duration,
  rounds,
  results: summary,
  throughputRatio: service.requestsPerSecond / base.requestsPerSecond,
  p99Ratio: service.p99 / base.p99
}
console.log('\n| target | req/s (median) | p99 ms (median) | non-2xx | errors |\n|---|---|---|---|---|')
for (const s of summary) console.log(`| ${s.name} | ${s.requestsPerSecond.toFixed(0)} | ${s.p99} | ${s.non2xx} | ${s.errors} |`)
console.log(`\nthroughput ratio service/baseline: ${report.throughputRatio.toFixed(2)}x; p99 ratio service/baseline: ${report.p99Ratio.toFixed(2)}x (lower is better)`)
mkdirSync('bench/results', { recursive: true })
writeFileSync(join('bench/results', `send-sms-${Date.now()}.json`), JSON.stringify(report, null, 2))
serviceProcess.kill('SIGTERM')
await new Promise((resolve) => serviceProcess.once('exit', resolve))
rmSync(dataDir, { recursive: true, force: true })
process.exit(0)
