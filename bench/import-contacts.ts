/**
 * POST /contacts/import with 100,000 rows, streamed over real HTTP, against a baseline that only parses
 * the same CSV with csv-parse (no validation, no database). Reports the time ratio and how much memory
 * the import held compared with the size of the file: the import streams, so it must not grow with it.
 * Usage: npm run bench:import [-- --rows 100000] (runs with --expose-gc so live memory can be measured)
 */
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { parseArgs } from 'node:util'
import { parse } from 'csv-parse'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' } } })
const rows = Number(values.rows)

function * csvLines (): Generator<string> {
  yield 'phoneNumber,firstName,lastName,tags,timezone,consentSource,consentText,consentAt\n'
  for (let i = 0; i < rows; i++) {
    // Valid NANP numbers across several area codes; every tenth row without consent.
    const area = [212, 305, 415, 512, 617][i % 5]
    const number = `+1${area}${String(2000000 + i).padStart(7, '0')}`
    const consent = i % 10 === 0 ? ',,,' : ',web_form,"Yes, text me offers. Reply STOP to cancel.",2026-06-01T12:00:00Z'
    yield `${number},First${i},Last${i},vip;spring,America/New_York${consent}\n`
  }
}
const csvBytes = [...csvLines()].reduce((sum, line) => sum + Buffer.byteLength(line), 0)

/** Time, and the most live heap seen (sampled after a forced collection, so garbage not yet collected does not count). */
async function measure<T> (run: () => Promise<T>): Promise<{ ms: number, peakHeapMb: number, result: T }> {
  const collect = (): number => { global.gc?.(); return process.memoryUsage().heapUsed }
  const start = collect()
  let peak = start
  const sampler = setInterval(() => { peak = Math.max(peak, collect()) }, 500)
  const started = performance.now()
  const result = await run()
  const ms = performance.now() - started
  clearInterval(sampler)
  return { ms, peakHeapMb: (peak - start) / 1024 / 1024, result }
}

const baseline = await measure(async () => {
  let count = 0
  for await (const record of Readable.from(csvLines()).pipe(parse({ columns: true }))) if (record !== null) count++
  return count
})

const dir = join(tmpdir(), `sms-import-bench-${process.pid}`)
const app = await buildApp(loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'warn', INFOBIP_BASE_URL: 'http://127.0.0.1:9', INFOBIP_API_KEY: 'unused', API_KEYS: 'bench', WEBHOOK_SECRET: 'bench-webhook-secret-0123456789', DATABASE_URL: `sqlite:${join(dir, 'import.sqlite')}` }))
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/contacts/import`

const service = await measure(async () => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', 'x-api-key': 'bench' },
    body: Readable.toWeb(Readable.from(csvLines())) as ReadableStream,
    duplex: 'half'
  } as RequestInit)
  return await response.json() as { created: number, updated: number, rejected: unknown[] }
})
await app.close()
rmSync(dir, { recursive: true, force: true })

const fileMb = csvBytes / 1024 / 1024
console.log(`rows: ${rows}, CSV ${fileMb.toFixed(1)} MiB`)
console.log(`baseline (csv-parse only): ${baseline.ms.toFixed(0)} ms, ${baseline.result} records, live heap +${baseline.peakHeapMb.toFixed(1)} MiB`)
console.log(`service (POST /contacts/import): ${service.ms.toFixed(0)} ms, created ${service.result.created}, updated ${service.result.updated}, rejected ${service.result.rejected.length}, live heap +${service.peakHeapMb.toFixed(1)} MiB`)
console.log(`time ratio service/baseline: ${(service.ms / baseline.ms).toFixed(1)}x; rows per second: ${(rows / (service.ms / 1000)).toFixed(0)}; live heap held / file size: ${(service.peakHeapMb / fileMb).toFixed(2)}`)
process.exit(0)
