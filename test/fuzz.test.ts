/**
 * Every route the OpenAPI document lists, driven with hostile bodies, query strings, path parameters
 * and headers (test/support/fuzz.ts). For each request: no 5xx, an answer in bounded time, and a
 * refusal changes nothing in the database. After the run: no log line holds any phone number or
 * secret the run used, however it was encoded, and every error code seen is documented in README.
 *
 * FUZZ_RUNS sets the number of requests (default 10,000, per database); FUZZ_SEED replays a run.
 */
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addConsentingContact, startTestApp, WEBHOOK_SECRET, type TestContext } from './support/app.js'
import { changeCounter, type ChangeCounter } from './support/db-state.js'
import { FUZZ_NATIONAL, FUZZ_NUMBERS, FUZZ_SECRETS, leaksIn, operationsOf, requestFor, type FuzzRequest, type Operation } from './support/fuzz.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000)
/** Printed with the results, so any run — a failing one in CI above all — can be replayed with FUZZ_SEED. */
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31)
/** Longest any single request may take (generous: the machine may be busy with other work). */
const MAX_REQUEST_MS = 3000

/**
 * Refusals raised before any handler runs (authentication, content type, schema, text rule, size):
 * nothing behind them can write, so one in ten of these is checked; every other refusal is.
 */
const REFUSED_BEFORE_HANDLER = new Set(['UNAUTHORIZED', 'UNSUPPORTED_MEDIA_TYPE', 'FST_ERR_VALIDATION', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_BAD_URL',
  'FST_ERR_MAX_PARAM_LENGTH', 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', 'FST_ERR_CTP_BODY_TOO_LARGE', 'INVALID_TEXT', 'RATE_LIMITED'])

/** Refusals that record something on purpose: a send the compliance gate stops is kept as `suppressed`. */
const RECORDED_REFUSALS = new Set(['RECIPIENT_OPTED_OUT', 'NO_CONSENT', 'QUIET_HOURS', 'FREQUENCY_CAP'])

describe('every route under hostile input', () => {
  let ctx: TestContext
  let changes: ChangeCounter
  let operations: Operation[]
  const statuses = new Map<number, number>()
  const codes = new Set<string>()
  let slowest = { ms: 0, request: '' }
  const spent = { requestsMs: 0, checksMs: 0 }

  beforeAll(async () => {
    ctx = await startTestApp({ env: { LOG_LEVEL: 'debug', RATE_LIMIT_MAX: '1000000000' } })
    // Bookkeeping compared by row count: an Idempotency-Key is claimed before the send is checked and
    // released when the request is refused as malformed (a compliance refusal keeps it, with the suppressed
    // message it recorded); the dispatcher's shared throttle bucket refills in the background.
    changes = await changeCounter(ctx.database, ['idempotency_keys', 'throttle_buckets'])
    const docs = await ctx.app.inject({ method: 'GET', url: '/docs/json' })
    expect(docs.statusCode).toBe(200)
    operations = operationsOf(docs.json())
  })
  afterAll(async () => {
    await changes?.close()
    await ctx?.close()
  })

  it(`answers ${RUNS} hostile requests without a 5xx, in bounded time, changing nothing when it refuses`, async () => {
    // Things to find: a contact with consent, one without, a sent message, an opt-out.
    const consenting = await addConsentingContact(ctx, FUZZ_NUMBERS[0]!)
    const plain = await ctx.app.inject({ method: 'POST', url: '/contacts', headers: ctx.headers, payload: { phoneNumber: FUZZ_NUMBERS[3], firstName: 'Plain' } })
    const sent = await ctx.app.inject({ method: 'POST', url: '/send-sms', headers: ctx.headers, payload: { destinationNumber: FUZZ_NUMBERS[1], message: 'Your code is 1234', purpose: 'transactional' } })
    await ctx.app.inject({ method: 'POST', url: '/opt-outs', headers: ctx.headers, payload: { phoneNumber: FUZZ_NUMBERS[2] } })
    const ids = [consenting.id, plain.json<{ id: string }>().id, sent.json<{ id: string }>().id]
    expect(operations.length).toBeGreaterThanOrEqual(18)

    const context = { ids, apiKey: ctx.headers['x-api-key']!, webhookSecret: WEBHOOK_SECRET }
    const requests = fc.oneof(...operations.map((operation) => requestFor(operation, context)))
    let before = await settledCount(changes, 100)
    let settled = true
    let sampled = 0

    await fc.assert(fc.asyncProperty(requests, async (request: FuzzRequest) => {
      const checkStarted = performance.now()
      if (!settled) {
        before = await settledCount(changes)
        settled = true
      }
      spent.checksMs += performance.now() - checkStarted
      const started = performance.now()
      const response = await ctx.app.inject({ method: request.method as 'GET', url: request.url, headers: request.headers, ...(request.payload !== undefined ? { payload: request.payload } : {}) })
      const ms = performance.now() - started
      spent.requestsMs += ms
      const summary = `${request.method} ${request.url.slice(0, 300)} → ${response.statusCode} ${response.body.slice(0, 300)}`
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
      if (ms > slowest.ms) slowest = { ms, request: summary }

      expect(response.statusCode, summary).toBeLessThan(500)
      expect(ms, summary).toBeLessThan(MAX_REQUEST_MS)
      const code = response.statusCode >= 400 ? (response.json<{ code?: string }>().code ?? '(none)') : null
      if (code !== null) codes.add(code)
      const importedNothing = request.operation === 'POST /contacts/import' && response.statusCode === 200 &&
        response.json<{ created: number, updated: number }>().created + response.json<{ created: number, updated: number }>().updated === 0
      const refused = (code !== null && !RECORDED_REFUSALS.has(code)) || importedNothing
      // Reads never write, and neither do refusals raised before a handler: one in ten of those is
      // checked to keep that claim honest; every other refusal is checked.
      const early = request.method === 'GET' || (code !== null && REFUSED_BEFORE_HANDLER.has(code) && !(request.operation === 'POST /contacts/import' && code === 'FST_ERR_CTP_BODY_TOO_LARGE'))
      if (refused && (!early || ++sampled % 10 === 0)) {
        const checked = performance.now()
        const after = await changes.count()
        if (after !== before) throw new Error(`a refused request changed the database (${before} → ${after}): ${summary}`)
        spent.checksMs += performance.now() - checked
      } else if (!refused && request.method !== 'GET') {
        settled = false
      }
    }), { numRuns: RUNS, seed: SEED, endOnFailure: true, interruptAfterTimeLimit: 10 * 60 * 1000 }).catch((error: unknown) => {
      // The request that failed, as it was (no shrinking: the app's state has moved on since), and why.
      const cause = (error as { cause?: unknown }).cause
      throw new Error(`fuzz failed; replay with FUZZ_SEED=${SEED}: ${(error as Error).message}\n${cause instanceof Error ? cause.message : String(cause)}`)
    })

    console.info(`fuzz (FUZZ_SEED=${SEED}): ${RUNS} requests over ${operations.length} operations; statuses ${JSON.stringify(Object.fromEntries(statuses))}; codes ${[...codes].sort().join(' ')}; slowest ${slowest.ms.toFixed(0)} ms (${slowest.request.slice(0, 160)}); ${spent.requestsMs.toFixed(0)} ms in requests, ${spent.checksMs.toFixed(0)} ms checking the database`)
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(RUNS)
  }, 15 * 60 * 1000)

  it('logged no phone number and no secret the run used, however encoded', () => {
    expect(ctx.logs.length).toBeGreaterThan(RUNS)
    const secrets = [...FUZZ_SECRETS, WEBHOOK_SECRET, ctx.headers['x-api-key']!, ctx.fake.apiKey]
    const leaks = ctx.logs.flatMap((line) => leaksIn(line, FUZZ_NATIONAL, secrets).map((leak) => `${leak}: ${line.slice(0, 400)}`))
    expect(leaks.slice(0, 5)).toEqual([])
    // The run did log the requests: masked numbers and redacted parameters are there.
    const all = ctx.logs.join('\n')
    expect(all).toContain('[REDACTED]')
    expect(all).toMatch(/\*{6,}\d{4}/)
  })

  it('answered only with error codes README documents', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const errors = readme.slice(readme.indexOf('## Errors'))
    expect(codes.size).toBeGreaterThan(3)
    expect([...codes].filter((code) => !errors.includes(code))).toEqual([])
  })
})

/**
 * The change count once writes that follow a response have landed (a STOP's confirmation reply
 * handed over after the webhook answered): no message left queued or sending, and the count unchanged
 * for `quietMs`; at most 2 s, and 0.5 s of no change at all.
 */
async function settledCount (changes: ChangeCounter, quietMs = 2): Promise<string> {
  let previous = await changes.count()
  let still = 0
  for (let waited = 0; waited < 2000 && still < 500;) {
    const wait = (await changes.inFlight()) > 0 ? 10 : quietMs
    await new Promise((resolve) => setTimeout(resolve, wait))
    waited += wait
    const current = await changes.count()
    if (current === previous && wait === quietMs) return current
    still = current === previous ? still + wait : 0
    previous = current
  }
  return previous
}
