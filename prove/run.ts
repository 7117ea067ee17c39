/**
 * `npm run prove`: the reliability harness. Builds dist/, starts the fake Infobip and the real service as child
 * processes over real HTTP on 127.0.0.1, on SQLite and on PostgreSQL (PROVE_DATABASE_URL or TEST_DATABASE_URL;
 * a database per scenario), breaks things on purpose (kill -9, outages, slowness, 429 storms, report storms,
 * dropped database connections, STOP storms) and writes what happened to docs/reliability.md.
 *
 * Environment: PROVE_SEED (default: random, printed), PROVE_QUICK=1 (short version for CI: small campaigns,
 * fewer runs, every scenario; the report goes to the run directory unless PROVE_OUTPUT is set), PROVE_OUTPUT
 * (where to write the report), PROVE_ONLY (comma-separated scenario numbers, e.g. "1,5"), PROVE_PG_BIN.
 * Exits 1 when any scenario lost, duplicated or leaked anything, or failed a check.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes, randomInt } from 'node:crypto'
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { postgresServer, sqliteServer, type DatabaseServer } from './databases.js'
import { startFake } from './fake.js'
import { count, Harness, type ScenarioResult } from './harness.js'
import { createRandom } from './random.js'
import { checkScanner, scanLogs } from './logs.js'
import { passed, renderReport, renderSummary, withSummary } from './report.js'
import { killScenario } from './scenarios/kill.js'
import { outageScenario } from './scenarios/outage.js'
import { postgresScenario } from './scenarios/postgres.js'
import { reportsScenario } from './scenarios/reports.js'
import { freshStage, stageKey, type StagePlan } from './scenarios/common.js'
import { reportsStage } from './scenarios/reports.js'
import { slowScenario, slowStage } from './scenarios/slow.js'
import { stopScenario } from './scenarios/stop.js'
import { stormScenario, stormStage } from './scenarios/storm.js'
import { emptyTally } from './verify.js'

const quick = process.env.PROVE_QUICK === '1'
const seed = process.env.PROVE_SEED !== undefined && process.env.PROVE_SEED !== '' ? Number(process.env.PROVE_SEED) : randomInt(2 ** 31)
const only = new Set((process.env.PROVE_ONLY ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''))
const pgUrl = process.env.PROVE_DATABASE_URL ?? process.env.TEST_DATABASE_URL
const wanted = (scenario: string): boolean => only.size === 0 || only.has(scenario)

const startedAt = new Date()
const log = (line: string): void => { process.stdout.write(`[prove ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4)} s] ${line}\n`) }

log(`seed ${seed}${quick ? ', quick' : ''}; building dist/`)
execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' })
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()

const runDir = mkdtempSync(join(tmpdir(), 'sms-prove-'))
const logDir = join(runDir, 'logs')
mkdirSync(logDir)
const secret = (prefix: string): string => `${prefix}-${randomBytes(12).toString('hex')}`
const secrets = { apiKey: secret('prove-api'), infobipKey: secret('prove-infobip'), webhookSecret: secret('prove-webhook') }
const fakeLog = join(logDir, 'fake-infobip.log')
const fake = await startFake(secrets.infobipKey, createWriteStream(fakeLog, { flags: 'a' }))
const harness = new Harness(quick, seed, createRandom(seed), fake, secrets, runDir, logDir)
harness.logFiles.push(fakeLog)

const servers: DatabaseServer[] = [sqliteServer(runDir)]
if (pgUrl !== undefined && pgUrl !== '') servers.push(postgresServer(pgUrl))
else log('no PROVE_DATABASE_URL or TEST_DATABASE_URL: PostgreSQL rows are not run')

const results: ScenarioResult[] = []
async function scenario (id: string, label: string, run: () => Promise<ScenarioResult>): Promise<void> {
  if (!wanted(id)) return
  const began = Date.now()
  log(`${label} …`)
  let result: ScenarioResult
  try {
    result = await run()
  } catch (error) {
    // A scenario that could not finish (a campaign that never completed, a service that never came up) fails its row.
    log(`${label} stopped: ${(error as Error).stack ?? String(error)}`)
    result = { scenario: label, database: '', runs: 0, tally: emptyTally(), leaked: null, recoverMs: [], checks: [], failures: [`did not finish: ${(error as Error).message}`], missed: [], settings: {} }
  }
  results.push(result)
  const t = result.tally
  log(`${label}: ${t.messages} messages, lost ${t.lost}, duplicated ${t.duplicated}, wrong ${t.wrongStatus}${result.leaked !== null ? `, leaked ${result.leaked}` : ''}` +
    `${result.failures.length > 0 ? `, FAILED: ${result.failures.join('; ')}` : ''}${result.missed.length > 0 ? `, missed: ${result.missed.join('; ')}` : ''} (${((Date.now() - began) / 1000).toFixed(0)} s)`)
  for (const example of t.examples) log(`  ${example}`)
}

/** One scenario of the run; `plan`: its stage, which the scenario before it may prepare while it waits (Harness.idle). */
interface Step { id: string, label: string, server: DatabaseServer, run: () => Promise<ScenarioResult>, plan?: StagePlan }

const steps: Step[] = []
for (const server of servers) {
  const on = `(${server.label})`
  const pg = server.label === 'PostgreSQL'
  steps.push({ id: '1', label: `1 kill -9 ${on}`, server, run: async () => await killScenario(harness, server, 1) })
  if (pg) steps.push({ id: '1', label: `1b two instances ${on}`, server, run: async () => await killScenario(harness, server, 2) })
  steps.push({ id: '2', label: `2 Infobip outage ${on}`, server, run: async () => await outageScenario(harness, server) })
  steps.push({ id: '3', label: `3 slow Infobip ${on}`, server, run: async () => await slowScenario(harness, server), plan: slowStage(harness) })
  steps.push({ id: '4', label: `4 429 storm ${on}`, server, run: async () => await stormScenario(harness, server), plan: stormStage(harness) })
  steps.push({ id: '5', label: `5 delivery reports ${on}`, server, run: async () => await reportsScenario(harness, server), plan: reportsStage(harness) })
  if (pg) steps.push({ id: '6', label: `6 database faults ${on}`, server, run: async () => await postgresScenario(harness, server) })
  steps.push({ id: '7', label: `7 STOP storm ${on}`, server, run: async () => await stopScenario(harness, server) })
}

try {
  const chosen = steps.filter((step) => wanted(step.id))
  for (const [i, step] of chosen.entries()) {
    const next = chosen[i + 1]
    const plan = next?.plan
    harness.upcoming = next !== undefined && plan !== undefined
      ? { key: stageKey(next.server, plan.name), prepare: async () => await freshStage(harness, next.server, plan.name, plan.size, plan.settings) }
      : null
    await scenario(step.id, step.label, step.run)
  }
} finally {
  harness.upcoming = null
  await harness.closePrepared()
  fake.child.kill('SIGTERM')
}
await scenario('8', '8 logs', async () => {
  const scannerProblems = checkScanner(join(runDir, 'planted.log'), secrets, harness.numbers(1)[0]!, writeFileSync)
  const scan = scanLogs(harness.logFiles, secrets, harness.numbersUsed)
  const tally = { ...emptyTally(), messages: scan.lines }
  const result: ScenarioResult = { scenario: '8. logs scanned for secrets and full numbers', database: 'both', runs: 1, tally, leaked: scan.leaks.length, recoverMs: [], checks: [], failures: [], missed: [], settings: {} }
  result.checks.push(`${scan.files} log files (every service instance's stdout and stderr, the fake Infobip's), ${count(scan.lines)} lines, ${(scan.bytes / 1024 / 1024).toFixed(1)} MiB`)
  result.checks.push(`looked for 3 secrets (as written, URL-encoded, base64, in a Basic header) and ${count(harness.numbersUsed.size)} phone numbers (E.164, international and national digits, URL-encoded)`)
  result.checks.push(scannerProblems.length === 0 ? 'the scanner found every leak planted in a test file (each secret and a number in each form) and nothing in near misses (a timestamp, a longer digit run, a masked number)' : 'the scanner failed its own check')
  result.failures.push(...scannerProblems)
  for (const leak of scan.leaks.slice(0, 10)) result.failures.push(`${leak.what} in ${leak.file} line ${leak.line}`)
  return result
})
if (servers.length === 1) {
  results.push({ scenario: 'PostgreSQL scenarios', database: 'PostgreSQL', runs: 0, tally: emptyTally(), leaked: null, recoverMs: [], checks: [], failures: [], missed: [], settings: {}, note: 'no PROVE_DATABASE_URL or TEST_DATABASE_URL' })
}

const failed = results.filter((r) => !passed(r))
const reportInput = { results, commit, date: startedAt, seed, quick, durationMs: Date.now() - startedAt.getTime() }
const report = renderReport(reportInput)
const table = report.split('\n').filter((line) => line.startsWith('|')).join('\n')
process.stdout.write(`\n${table}\n\n`)
const output = process.env.PROVE_OUTPUT ?? (quick ? join(runDir, 'reliability.md') : 'docs/reliability.md')
writeFileSync(output, report)
// A passing run's scratch directory (its logs, and a quick run's report) is removed at the end unless PROVE_KEEP_LOGS=1.
const kept = failed.length > 0 || process.env.PROVE_KEEP_LOGS === '1' || !output.startsWith(runDir)
log(`report written to ${output}${kept ? '' : ' (removed with the scratch directory at the end; PROVE_KEEP_LOGS=1 keeps it)'}; logs in ${logDir}`)
const summary = renderSummary(reportInput)
process.stdout.write(`${summary}\n\n`)
// Only a full run of every scenario, written to docs/reliability.md, speaks for the README.
if (output === 'docs/reliability.md' && only.size === 0 && !quick) {
  writeFileSync('README.md', withSummary(readFileSync('README.md', 'utf8'), summary))
  log('summary written to README.md (Reliability)')
}
if (failed.length === 0 && process.env.PROVE_KEEP_LOGS !== '1') rmSync(runDir, { recursive: true, force: true })
log(failed.length === 0 ? 'every scenario passed' : `${failed.length} scenario row(s) FAILED`)
process.exit(failed.length === 0 ? 0 : 1)
