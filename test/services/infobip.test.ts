import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { inspect } from 'node:util'
import { Infobip, AuthType } from '@infobip-api/sdk'
import Fastify from 'fastify'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { AppError } from '../../src/errors.js'
import { loggerOptions, type Log } from '../../src/logger.js'
import { createMetrics, type Metrics } from '../../src/metrics.js'
import { createInfobipProvider, lookupChunks, LOOKUP_MAX_CHARS, outcomeOfStatus, parseRetryAfter, toProviderError, type InfobipOptions } from '../../src/services/infobip.js'
import { ProviderError, type ProviderMessage, type SmsProvider } from '../../src/services/provider.js'
import { PENDING_ACCEPTED, startFakeInfobip, type FakeInfobip, type RecordedRequest } from '../support/fake-infobip.js'
import { sleep, waitFor } from '../support/wait.js'

// axios (inside the SDK) honours proxy variables; the fake lives on loopback.
for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) delete process.env[name]

const message = (n: number, extra: Partial<ProviderMessage> = {}): ProviderMessage => ({
  messageId: `msg-${n}`,
  to: `+1415555${String(2670 + (n % 1000)).padStart(4, '0')}`,
  text: 'Your code is 123456',
  ...extra
})

interface SentBody { messages: Array<{ destinations: Array<{ to: string, messageId: string }>, text: string, from?: string, notifyUrl?: string }>, type?: string }

const bodyOf = (request: RecordedRequest | undefined): SentBody => request!.body as SentBody

async function rejectionOf (promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the promise to reject')
}

/** The service's own logger configuration (redaction included), writing into an array; `onLine` sees each line as it is written. */
function captureLog (onLine?: (line: string) => void): { log: Log, lines: string[] } {
  const lines: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      const line = chunk.toString('utf8')
      lines.push(line)
      onLine?.(line)
      callback()
    }
  })
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'debug' })
  const log = Fastify({ logger: loggerOptions(config, stream) }).log
  return { log, lines }
}

/** When the line with this message was logged (pino's `time`, epoch ms). */
function loggedAt (lines: string[], text: string): number | undefined {
  const line = lines.find((l) => l.includes(`"msg":"${text}"`))
  return line === undefined ? undefined : (JSON.parse(line) as { time: number }).time
}

type Overrides = Partial<Omit<InfobipOptions, 'retry' | 'circuit'>> & { retry?: Partial<InfobipOptions['retry']>, circuit?: Partial<InfobipOptions['circuit']> }

describe('Infobip provider against the fake Infobip', () => {
  let fake: FakeInfobip
  let lines: string[]
  let log: Log
  let metrics: Metrics
  const providers: SmsProvider[] = []

  /** Fast retries and a circuit that stays out of the way unless a test sets its own. */
  function provider (overrides: Overrides = {}): SmsProvider {
    const created = createInfobipProvider({
      baseUrl: fake.url,
      apiKey: fake.apiKey,
      timeoutMs: 2000,
      retryAfterMaxMs: 60_000,
      log,
      metrics,
      ...overrides,
      retry: { retries: 3, minDelayMs: 10, maxDelayMs: 100, ...overrides.retry },
      circuit: { errorThresholdPercentage: 50, volumeThreshold: 1000, consecutiveFailures: 1000, windowMs: 2000, resetTimeoutMs: 30_000, ...overrides.circuit }
    })
    providers.push(created)
    return created
  }

  const calls = async (outcome: 'success' | 'failure'): Promise<number> =>
    (await metrics.providerCalls.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0

  beforeAll(async () => { fake = await startFakeInfobip() })
  afterAll(async () => { await fake.close() })
  beforeEach(async () => {
    await fake.acceptConnections()
    fake.reset()
    ;({ log, lines } = captureLog())
    metrics = createMetrics()
  })
  afterEach(async () => {
    for (const p of providers.splice(0)) await p.close()
  })

  describe('sending', () => {
    it('posts one request with our ids, numbers without +, and the App key; Infobip\'s body comes back untouched', async () => {
      const response = await provider().send([message(1, { from: 'AcmeCo', notifyUrl: 'https://sms.example.com/cb' })])
      expect(response).toEqual({
        bulkId: expect.any(String),
        messages: [{ to: '14155552671', messageId: 'msg-1', status: PENDING_ACCEPTED }]
      })
      const requests = fake.sendRequests()
      expect(requests).toHaveLength(1)
      expect(requests[0]!.headers.authorization).toBe(`App ${fake.apiKey}`)
      expect(bodyOf(requests[0])).toEqual({
        type: 'text',
        messages: [{
          destinations: [{ to: '14155552671', messageId: 'msg-1' }],
          from: 'AcmeCo',
          text: 'Your code is 123456',
          notifyUrl: 'https://sms.example.com/cb',
          notifyContentType: 'application/json'
        }]
      })
      expect((await metrics.providerCalls.get()).values).toEqual([{ labels: { outcome: 'success' }, value: 1 }])
    })

    it('groups messages with the same text and sender into one Infobip message with many destinations', async () => {
      const response = await provider().send([message(1), message(2), message(3, { text: 'Other text' }), message(4, { from: 'Other' })])
      expect(response.messages.map((m) => m.messageId)).toEqual(['msg-1', 'msg-2', 'msg-3', 'msg-4'])
      expect(fake.sendRequests()).toHaveLength(1)
      expect(bodyOf(fake.sendRequests()[0]).messages).toEqual([
        { destinations: [{ to: '14155552671', messageId: 'msg-1' }, { to: '14155552672', messageId: 'msg-2' }], text: 'Your code is 123456' },
        { destinations: [{ to: '14155552673', messageId: 'msg-3' }], text: 'Other text' },
        { destinations: [{ to: '14155552674', messageId: 'msg-4' }], from: 'Other', text: 'Your code is 123456' }
      ])
    })
  })

  describe('what provably was not sent is retried', () => {
    it('retries Infobip\'s own 503 and succeeds, sending the same body each time; Infobip accepts it once', async () => {
      fake.enqueue({ kind: 'error', status: 503 }, { kind: 'error', status: 503 }, { kind: 'error', status: 503 })
      const response = await provider().send([message(1)])
      expect(response.messages[0]!.messageId).toBe('msg-1')
      const requests = fake.sendRequests()
      expect(requests).toHaveLength(4)
      // The SDK mutates its payload: every attempt must still send exactly the same body.
      for (const request of requests) expect(request.body).toEqual(requests[0]!.body)
      expect(fake.acceptances.get('msg-1')).toBe(1)
      expect(lines.filter((l) => l.includes('Infobip request failed, retrying'))).toHaveLength(3)
      expect(await calls('failure')).toBe(3)
      expect(await calls('success')).toBe(1)
    })

    it('gives up after `retries` retries with a typed, retryable, not-sent error', async () => {
      fake.setDefault({ kind: 'error', status: 503 })
      const error = await rejectionOf(provider({ retry: { retries: 2 } }).send([message(1)]))
      expect(error).toBeInstanceOf(ProviderError)
      expect(error).toMatchObject({
        code: 'PROVIDER_ERROR',
        statusCode: 502,
        kind: 'http',
        retryable: true,
        outcome: 'not-sent',
        httpStatus: 503,
        providerCode: 'GENERAL_ERROR',
        message: 'Infobip answered 503: Something went wrong. Please contact support.',
        details: { providerStatus: 503, providerCode: 'GENERAL_ERROR', outcome: 'not-sent' }
      })
      expect(fake.sendRequests()).toHaveLength(3)
    })

    it.each([400, 401, 403, 404])('does not retry a %i (not sent, not retryable)', async (status) => {
      fake.setDefault({ kind: 'error', status })
      const error = await rejectionOf(provider().send([message(1)]))
      expect(error).toBeInstanceOf(ProviderError)
      expect(error).toMatchObject({ kind: 'http', retryable: false, outcome: 'not-sent', httpStatus: status })
      expect(fake.sendRequests()).toHaveLength(1)
    })

    it('retries a 408 and a 429', async () => {
      fake.enqueue({ kind: 'error', status: 408 }, { kind: 'error', status: 429 })
      await provider().send([message(1)])
      expect(fake.sendRequests()).toHaveLength(3)
      expect(fake.acceptances.get('msg-1')).toBe(1)
    })

    it('keeps Infobip\'s error text and code', async () => {
      fake.enqueue({ kind: 'error', status: 400, messageId: 'BAD_REQUEST', text: 'Invalid destination address' })
      const error = await rejectionOf(provider().send([message(1)]))
      expect(error).toMatchObject({ message: 'Infobip answered 400: Invalid destination address', providerCode: 'BAD_REQUEST', details: { providerStatus: 400, providerCode: 'BAD_REQUEST' } })
    })

    it('retries a refused connection: nothing reached Infobip', async () => {
      // A fake no client has connected to yet: a kept-alive socket would see a reset, not a refusal.
      const down = await startFakeInfobip()
      try {
        await down.refuseConnections()
        // Infobip comes back while the provider waits out its backoff after the refusal.
        ;({ log, lines } = captureLog((line) => { if (line.includes('Infobip request failed, retrying')) down.acceptConnections().catch(() => undefined) }))
        const response = await provider({ baseUrl: down.url, apiKey: down.apiKey, retry: { minDelayMs: 50, maxDelayMs: 100 } }).send([message(1)])
        expect(response.messages[0]!.messageId).toBe('msg-1')
        expect(down.sendRequests()).toHaveLength(1)
        expect(down.acceptances.get('msg-1')).toBe(1)
      } finally {
        await down.close()
      }
      expect((await metrics.providerFailures.get()).values).toEqual([{ labels: { kind: 'network' }, value: 1 }])
      expect(lines.filter((l) => l.includes('Infobip request failed, retrying'))).toHaveLength(1)
    })
  })

  describe('an unknown outcome is thrown at once, never retried', () => {
    it('a timeout while Infobip accepted the message: one request, outcome unknown, one acceptance', async () => {
      fake.enqueue({ kind: 'slow', ms: 600 })
      const started = Date.now()
      const error = await rejectionOf(provider({ timeoutMs: 200 }).send([message(1)]))
      const elapsed = Date.now() - started
      expect(error).toBeInstanceOf(ProviderError)
      expect(error).toMatchObject({ kind: 'timeout', retryable: true, outcome: 'unknown', httpStatus: null, message: 'Infobip did not answer in time' })
      expect(elapsed).toBeGreaterThanOrEqual(190)
      expect(elapsed).toBeLessThan(600)
      expect(fake.sendRequests()).toHaveLength(1)
      expect(fake.acceptances.get('msg-1')).toBe(1)
      expect(lines.some((l) => l.includes('retrying'))).toBe(false)
    })

    it('a connection reset after the request was written: one request, outcome unknown', async () => {
      fake.enqueue({ kind: 'reset', accept: true })
      const error = await rejectionOf(provider().send([message(1)]))
      expect(error).toBeInstanceOf(ProviderError)
      expect(error).toMatchObject({ kind: 'network', retryable: true, outcome: 'unknown', message: 'Connection to Infobip lost during the request (ECONNRESET)' })
      expect(fake.sendRequests()).toHaveLength(1)
      expect(fake.acceptances.get('msg-1')).toBe(1)
    })

    it.each([500, 502, 504])('Infobip\'s %i: one request, outcome unknown', async (status) => {
      fake.setDefault({ kind: 'error', status })
      const error = await rejectionOf(provider().send([message(1)]))
      expect(error).toMatchObject({ kind: 'http', httpStatus: status, retryable: true, outcome: 'unknown', details: { outcome: 'unknown' } })
      expect(fake.sendRequests()).toHaveLength(1)
    })

    it.each([502, 503, 504])('a gateway\'s %i without Infobip\'s body: one request, outcome unknown', async (status) => {
      fake.setDefault({ kind: 'gateway-error', status })
      const error = await rejectionOf(provider().send([message(1)]))
      expect(error).toMatchObject({ kind: 'http', httpStatus: status, providerCode: null, outcome: 'unknown', message: `Infobip answered ${status}: no details` })
      expect(fake.sendRequests()).toHaveLength(1)
    })

    describe('an unexpected success body', () => {
      let odd: Server
      let url: string

      beforeAll(async () => {
        odd = createServer((_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ ok: true }))
        })
        await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve))
        url = `http://127.0.0.1:${(odd.address() as AddressInfo).port}`
      })
      afterAll(async () => { await new Promise<void>((resolve) => odd.close(() => resolve())) })

      it('is an invalid-response error of unknown outcome, not retried', async () => {
        const error = await rejectionOf(provider({ baseUrl: url }).send([message(1)]))
        expect(error).toBeInstanceOf(ProviderError)
        expect(error).toMatchObject({ kind: 'invalid-response', retryable: false, outcome: 'unknown', message: 'Infobip answered with an unexpected body' })
      })
    })
  })

  describe('Retry-After', () => {
    it('is waited out as sent, however small RETRY_MAX_DELAY_MS is: Retry-After 1 with a 300 ms backoff cap waits ≥ 1 s', async () => {
      fake.enqueue({ kind: 'error', status: 429, headers: { 'Retry-After': '1' } })
      await provider({ retry: { minDelayMs: 10, maxDelayMs: 300 } }).send([message(1)])
      const [first, second] = fake.sendRequests()
      const gap = second!.receivedAt - first!.receivedAt
      expect(gap).toBeGreaterThanOrEqual(1000)
      expect(gap).toBeLessThan(1500)
    })

    it('also on Infobip\'s 503', async () => {
      fake.enqueue({ kind: 'error', status: 503, headers: { 'Retry-After': '0.4' } })
      await provider({ retry: { minDelayMs: 10, maxDelayMs: 50 } }).send([message(1)])
      const [first, second] = fake.sendRequests()
      expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(400)
    })

    it('holds every send, not only the one that got it (a 429 is about the account)', async () => {
      const p = provider({ retry: { minDelayMs: 10, maxDelayMs: 50 } })
      fake.enqueue({ kind: 'error', status: 429, headers: { 'Retry-After': '1' } })
      const first = p.send([message(1)])
      await waitFor(() => p.pausedForMs() > 0, 'the hold')
      expect(p.pausedForMs()).toBeLessThanOrEqual(1000)
      const second = p.send([message(2)])
      await Promise.all([first, second])
      const [throttled, ...later] = fake.sendRequests()
      expect(later).toHaveLength(2)
      for (const request of later) expect(request.receivedAt - throttled!.receivedAt).toBeGreaterThanOrEqual(1000)
      expect(p.pausedForMs()).toBe(0)
    })

    it('longer than RETRY_AFTER_MAX_MS: fails fast with PROVIDER_UNAVAILABLE and retryAfterMs, and Infobip sees nothing until it has passed', async () => {
      const p = provider({ retryAfterMaxMs: 500 })
      fake.enqueue({ kind: 'error', status: 429, headers: { 'Retry-After': '1' } })
      const started = Date.now()
      const error = await rejectionOf(p.send([message(1)]))
      expect(Date.now() - started).toBeLessThan(300)
      expect(error).toBeInstanceOf(AppError)
      expect(error).not.toBeInstanceOf(ProviderError)
      expect(error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', statusCode: 503 })
      const retryAfterMs = (error as AppError).details!.retryAfterMs as number
      expect(retryAfterMs).toBeGreaterThan(700)
      expect(retryAfterMs).toBeLessThanOrEqual(1000)
      expect((error as AppError).message).toBe('Infobip asked to wait 1 s before the next request (Retry-After); sending is paused until then')

      // Any other send meanwhile: refused at once, without a request.
      expect(await rejectionOf(p.send([message(2)]))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' })
      expect(p.pausedForMs()).toBeGreaterThan(500)
      expect(fake.sendRequests()).toHaveLength(1)

      await waitFor(() => p.pausedForMs() === 0, 'the hold to pass')
      await p.send([message(3)])
      expect(fake.sendRequests()).toHaveLength(2)
      expect(fake.sendRequests()[1]!.receivedAt - fake.sendRequests()[0]!.receivedAt).toBeGreaterThanOrEqual(1000)
    })

    it('with waitOutHold false (the dispatcher): neither waited out nor retried, but reported as not sent with retryAfterMs', async () => {
      const p = provider({ retry: { minDelayMs: 10, maxDelayMs: 50 } })
      fake.enqueue({ kind: 'error', status: 429, headers: { 'Retry-After': '1' } })
      const started = Date.now()
      const refused = await rejectionOf(p.send([message(1)], { waitOutHold: false }))
      expect(refused).toBeInstanceOf(ProviderError)
      expect(refused).toMatchObject({ kind: 'http', httpStatus: 429, outcome: 'not-sent', retryable: true, retryAfterMs: 1000 })
      // While the hold lasts, a send makes no request at all.
      const held = await rejectionOf(p.send([message(2)], { waitOutHold: false }))
      expect(Date.now() - started).toBeLessThan(500)
      expect(held).toMatchObject({ kind: 'held', outcome: 'not-sent', retryable: true, httpStatus: null })
      expect((held as ProviderError).retryAfterMs).toBeGreaterThan(500)
      expect((held as ProviderError).retryAfterMs).toBeLessThanOrEqual(1000)
      expect(fake.sendRequests()).toHaveLength(1)
      // Other failures are still retried as usual, and once the hold has passed a send goes.
      await waitFor(() => p.pausedForMs() === 0, 'the hold to pass')
      fake.enqueue({ kind: 'error', status: 503 })
      await p.send([message(3)], { waitOutHold: false })
      expect(fake.sendRequests()).toHaveLength(3)
    })

    it('with waitOutHold false, a Retry-After beyond RETRY_AFTER_MAX_MS is still PROVIDER_UNAVAILABLE', async () => {
      const p = provider({ retryAfterMaxMs: 500 })
      fake.enqueue({ kind: 'error', status: 429, headers: { 'Retry-After': '1' } })
      expect(await rejectionOf(p.send([message(1)], { waitOutHold: false }))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' })
      expect(await rejectionOf(p.send([message(2)], { waitOutHold: false }))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' })
      expect(fake.sendRequests()).toHaveLength(1)
    })

    it('without Retry-After, retries after the backoff only', async () => {
      fake.enqueue({ kind: 'error', status: 429 })
      const p = provider({ retry: { minDelayMs: 10, maxDelayMs: 2000 } })
      await p.send([message(1)])
      const [first, second] = fake.sendRequests()
      expect(second!.receivedAt - first!.receivedAt).toBeLessThan(380)
      expect(p.pausedForMs()).toBe(0)
    })
  })

  describe('circuit breaker', () => {
    it('counts every HTTP attempt and stops the retry loop as soon as it opens', async () => {
      fake.setDefault({ kind: 'error', status: 503 })
      const p = provider({ retry: { retries: 5 }, circuit: { volumeThreshold: 3 } })
      const error = await rejectionOf(p.send([message(1)]))
      // Three failed attempts of the one send open it; the remaining retries never reach Infobip.
      expect(fake.sendRequests()).toHaveLength(3)
      expect(p.circuitState()).toBe('open')
      expect(error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', statusCode: 503, message: 'Infobip is unavailable; sending is paused until it recovers' })
      expect((await metrics.circuitState.get()).values[0]!.value).toBe(2)
      expect(lines.some((l) => l.includes('"level":50') && l.includes('Infobip circuit open'))).toBe(true)
    })

    it('fails fast while open (Infobip sees no call), with retryAfterMs up to the probe', async () => {
      fake.setDefault({ kind: 'error', status: 503 })
      const p = provider({ retry: { retries: 0 }, circuit: { volumeThreshold: 2, resetTimeoutMs: 5000 } })
      expect(await rejectionOf(p.send([message(1)]))).toMatchObject({ code: 'PROVIDER_ERROR', httpStatus: 503, outcome: 'not-sent' })
      // The failure that opens it is answered like the circuit it opened: nothing was sent, sending is paused.
      expect(await rejectionOf(p.send([message(2)]))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' })
      expect(p.circuitState()).toBe('open')
      const started = Date.now()
      const refused = await rejectionOf(p.send([message(3)]))
      expect(Date.now() - started).toBeLessThan(50)
      expect(refused).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' })
      const retryAfterMs = (refused as AppError).details!.retryAfterMs as number
      expect(retryAfterMs).toBeGreaterThan(4500)
      expect(retryAfterMs).toBeLessThanOrEqual(5000)
      expect(p.pausedForMs()).toBeGreaterThan(4500)
      expect(await rejectionOf(p.lookup(['msg-1']))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' })
      expect(fake.requests).toHaveLength(2)
    })

    it('half-opens with exactly one probe; success closes it', async () => {
      fake.setDefault({ kind: 'error', status: 503 })
      const p = provider({ retry: { retries: 0 }, circuit: { volumeThreshold: 2, windowMs: 200, resetTimeoutMs: 300 } })
      for (let i = 0; i < 2; i++) await rejectionOf(p.send([message(i)]))
      expect(p.circuitState()).toBe('open')
      await waitFor(() => p.circuitState() === 'half-open', 'half-open')
      expect(p.pausedForMs()).toBe(0)

      // The probe is slow, so the other sends arrive while it is out.
      fake.setDefault({ kind: 'slow', ms: 100 })
      const results = await Promise.allSettled([10, 11, 12, 13, 14].map(async (n) => await p.send([message(n)])))
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      expect(rejected).toHaveLength(4)
      for (const r of rejected) expect(r.reason).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' })
      expect(fake.sendRequests()).toHaveLength(3)
      expect(p.circuitState()).toBe('closed')
      expect((await metrics.circuitState.get()).values[0]!.value).toBe(0)

      fake.setDefault({ kind: 'ok' })
      await Promise.all([20, 21, 22].map(async (n) => await p.send([message(n)])))
      expect(fake.sendRequests()).toHaveLength(6)
    })

    it('a failed probe opens it again', async () => {
      fake.setDefault({ kind: 'error', status: 503 })
      const p = provider({ retry: { retries: 3 }, circuit: { volumeThreshold: 2, windowMs: 200, resetTimeoutMs: 300 } })
      await rejectionOf(p.send([message(1)]))
      expect(fake.sendRequests()).toHaveLength(2)
      await waitFor(() => p.circuitState() === 'half-open', 'half-open')
      // The probe fails: open again at once, and its send's retries stop.
      expect(await rejectionOf(p.send([message(2)]))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' })
      expect(fake.sendRequests()).toHaveLength(3)
      expect(p.circuitState()).toBe('open')
      expect(p.pausedForMs()).toBeGreaterThan(200)
    })

    it('is not opened by our own bad requests (4xx) or by 429s', async () => {
      fake.setDefault({ kind: 'error', status: 400 })
      const p = provider({ retry: { retries: 0 }, circuit: { volumeThreshold: 2 } })
      for (let i = 0; i < 5; i++) expect(await rejectionOf(p.send([message(i)]))).toMatchObject({ httpStatus: 400 })
      fake.setDefault({ kind: 'error', status: 429 })
      for (let i = 0; i < 5; i++) expect(await rejectionOf(p.send([message(i)]))).toMatchObject({ httpStatus: 429 })
      expect(p.circuitState()).toBe('closed')
      expect(fake.sendRequests()).toHaveLength(10)
    })

    /**
     * With every default (config.ts): sends at `perSecond` against a healthy Infobip for 2 s (the window fills
     * with successes), then 200 consecutive 503s. The circuit must open within 2 s of the first 503, Infobip
     * must see no call while it is open, and sends while open must fail in milliseconds.
     */
    async function outageAt (perSecond: number): Promise<void> {
      const config = loadConfig({ NODE_ENV: 'test', INFOBIP_BASE_URL: fake.url, INFOBIP_API_KEY: fake.apiKey })
      const p = createInfobipProvider({ ...config.infobip!, ...config.provider, log, metrics })
      providers.push(p)
      const interval = 1000 / perSecond
      const settled: Array<Promise<unknown>> = []
      let n = 0
      const start = Date.now()
      const sendUntil = async (done: () => boolean): Promise<void> => {
        while (!done()) {
          settled.push(p.send([message(n++)]).catch((error: unknown) => error))
          await sleep(Math.max(0, start + n * interval - Date.now()))
        }
      }

      await sendUntil(() => Date.now() - start >= 2000)
      // The window is full of successes (pacing may lag a little on a busy machine).
      expect(fake.sendRequests().length).toBeGreaterThanOrEqual(perSecond)
      const healthy = fake.sendRequests().length
      fake.outage({ unavailable: 200 })
      await sendUntil(() => p.circuitState() === 'open' || Date.now() - start > 8000)
      expect(p.circuitState()).toBe('open')
      const firstFailure = fake.sendRequests()[healthy]!.receivedAt
      const openedAt = loggedAt(lines, 'Infobip circuit open')!
      expect(openedAt - firstFailure).toBeLessThanOrEqual(2000)
      // Far fewer than the 200 scripted 503s were needed.
      const failed = fake.sendRequests().length - healthy
      expect(failed).toBeLessThan(200)

      // While open: every send fails fast, and no call reaches Infobip (requests already on the wire when it
      // opened may land a few ms later). Sends still in their backoff find it open and stop too.
      const refusedAt = n
      const latencies: number[] = []
      const observedUntil = Date.now() + 1000
      while (Date.now() < observedUntil) {
        const sentAt = Date.now()
        const error = await rejectionOf(p.send([message(n++)]))
        latencies.push(Date.now() - sentAt)
        expect(error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' })
        await sleep(interval)
      }
      expect(n - refusedAt).toBeGreaterThanOrEqual(Math.min(perSecond, 2) - 1)
      expect(Math.max(...latencies)).toBeLessThan(100)
      await Promise.all(settled)
      expect(p.circuitState()).toBe('open')
      // Requests already on the wire when it opened can land late on a loaded machine (hence 250 ms); the count
      // below is the strict guard: no new attempt after the opening.
      expect(fake.sendRequests().filter((r) => r.receivedAt > openedAt + 250)).toEqual([])
      expect(fake.sendRequests().length - healthy).toBeLessThanOrEqual(failed + Math.ceil(perSecond / 10))
    }

    it('with the defaults, 200 consecutive 503s at 1 send/s open it within 2 s', async () => {
      await outageAt(1)
    }, 30_000)

    it('with the defaults, 200 consecutive 503s at 50 sends/s open it within 2 s', async () => {
      await outageAt(50)
    }, 30_000)

    /**
     * The dispatcher's load (`npm run prove`, scenario 2), with every default: SEND_CONCURRENCY (4) requests
     * always in flight for 2 s against a healthy Infobip, so the window holds some 200 successes; then 503s.
     * Only the four requests in flight and their retries (after RETRY_MIN_DELAY_MS, 1 s, then 2 s) reach Infobip
     * then: over the window alone the first attempt that finds more than half of it failed is about 3 s in; the
     * run of failures (CIRCUIT_CONSECUTIVE_FAILURES 5) opens it at the first retries, about 1 s in.
     */
    async function concurrentLoad (p: SmsProvider, until: () => boolean): Promise<{ sent: number }> {
      let n = 0
      const worker = async (): Promise<void> => {
        while (!until()) {
          await p.send([message(n++)]).catch(() => undefined)
          await sleep(20)
        }
      }
      await Promise.all([1, 2, 3, 4].map(worker))
      return { sent: n }
    }

    function defaultsProvider (): SmsProvider {
      const config = loadConfig({ NODE_ENV: 'test', INFOBIP_BASE_URL: fake.url, INFOBIP_API_KEY: fake.apiKey })
      const p = createInfobipProvider({ ...config.infobip!, ...config.provider, log, metrics })
      providers.push(p)
      return p
    }

    it('with the defaults and SEND_CONCURRENCY requests always in flight, an outage opens it within 2 s (the run of failures)', async () => {
      const p = defaultsProvider()
      const start = Date.now()
      const load = concurrentLoad(p, () => p.circuitState() === 'open' || Date.now() - start > 10_000)
      await sleep(2000)
      const healthy = fake.sendRequests().length
      expect(healthy).toBeGreaterThanOrEqual(100)
      fake.outage({ unavailable: 1000 })
      await load
      expect(p.circuitState()).toBe('open')
      const firstFailure = fake.sendRequests()[healthy]!.receivedAt
      const openedAt = loggedAt(lines, 'Infobip circuit open')!
      expect(openedAt - firstFailure).toBeLessThanOrEqual(2000)
      expect(lines.find((l) => l.includes('"msg":"Infobip circuit open"'))).toContain('"rule":"consecutive-failures"')
      // The four in flight and their first retries: no more than 8 failed attempts were needed.
      expect(fake.sendRequests().length - healthy).toBeLessThanOrEqual(8)
    }, 30_000)

    it('with the defaults, single failures among successes never open it, nor every request in flight failing at one moment', async () => {
      const p = defaultsProvider()
      const start = Date.now()
      const load = concurrentLoad(p, () => Date.now() - start > 3000)
      // One request in five fails (a 500: outcome unknown, so never retried), for a second.
      for (let i = 0; i < 10; i++) {
        fake.enqueue({ kind: 'ok' }, { kind: 'ok' }, { kind: 'ok' }, { kind: 'ok' }, { kind: 'error', status: 500 })
        await sleep(100)
      }
      // Then four failures in a row, as many as requests in flight.
      await sleep(300)
      fake.enqueue({ kind: 'error', status: 503 }, { kind: 'error', status: 503 }, { kind: 'error', status: 503 }, { kind: 'error', status: 503 })
      await load
      expect(await calls('failure')).toBeGreaterThanOrEqual(10)
      expect(await calls('success')).toBeGreaterThanOrEqual(100)
      expect(p.circuitState()).toBe('closed')
      expect(lines.some((l) => l.includes('Infobip circuit open'))).toBe(false)
    }, 30_000)
  })

  describe('lookup', () => {
    it('asks for several ids in one request, comma-separated, and returns what Infobip\'s logs show', async () => {
      const p = provider()
      await p.send([message(1), message(2), message(3)])
      const found = await p.lookup(['msg-1', 'msg-3', 'msg-404'])
      expect(found.map((r) => r.messageId).sort()).toEqual(['msg-1', 'msg-3'])
      expect(found[0]).toMatchObject({ bulkId: expect.any(String), status: PENDING_ACCEPTED, price: { pricePerMessage: 0.01, currency: 'EUR' } })
      const asked = fake.logRequests()
      expect(asked).toHaveLength(1)
      expect(asked[0]!.query).toEqual({ messageId: 'msg-1,msg-3,msg-404', limit: '1000' })
    })

    it('splits long id lists into requests of at most 2048 characters', async () => {
      const ids = Array.from({ length: 120 }, (_, i) => `0190a3c4-7b1e-7d2f-8a9b-${String(i).padStart(12, '0')}`)
      await provider().send(ids.slice(0, 2).map((id, i) => ({ ...message(i), messageId: id })))
      const found = await provider().lookup(ids)
      expect(found.map((r) => r.messageId)).toEqual(ids.slice(0, 2))
      const asked = fake.logRequests().map((r) => r.query.messageId!)
      expect(asked).toHaveLength(3)
      for (const list of asked) expect(list.length).toBeLessThanOrEqual(LOOKUP_MAX_CHARS)
      expect(asked.flatMap((list) => list.split(','))).toEqual(ids)
    })

    it('finds a message whose log entry lags on the second look-up', async () => {
      fake.setLogLag({ lookups: 1 })
      const p = provider()
      await p.send([message(1)])
      expect(await p.lookup(['msg-1'])).toEqual([])
      expect((await p.lookup(['msg-1'])).map((r) => r.messageId)).toEqual(['msg-1'])
      expect(fake.logRequests()).toHaveLength(2)
    })
  })

  describe('redaction', () => {
    it('never carries or logs the API key in its errors, whatever the failure', async () => {
      const p = provider({ timeoutMs: 200, retry: { retries: 1 } })
      const errors: unknown[] = []
      for (const behaviour of [
        { kind: 'error', status: 400 },
        { kind: 'error', status: 401 },
        { kind: 'error', status: 503 },
        { kind: 'hang' },
        { kind: 'reset' }
      ] as const) {
        fake.reset()
        fake.setDefault(behaviour)
        errors.push(await rejectionOf(p.send([message(1)])))
      }
      expect(errors).toHaveLength(5)
      for (const error of errors) {
        expect(error).toBeInstanceOf(ProviderError)
        expect(JSON.stringify(error)).not.toContain(fake.apiKey)
        expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(fake.apiKey)
        // Only our own fields: no request, response or config of the SDK's error.
        expect(Object.keys(error as object).sort()).toEqual(['code', 'details', 'httpStatus', 'kind', 'name', 'outcome', 'providerCode', 'retryAfterMs', 'retryable', 'statusCode'])
      }
      expect(lines.length).toBeGreaterThan(0)
      for (const line of lines) {
        expect(line).not.toContain(fake.apiKey)
        expect(line).not.toContain('14155552671')
      }
    })

    it('the logger redacts the SDK\'s own error, which holds the key, and authorization headers', async () => {
      const sms = new Infobip({ baseUrl: fake.url, apiKey: fake.apiKey, authType: AuthType.ApiKey }).channels.sms as { send: (payload: unknown) => Promise<unknown> }
      fake.enqueue({ kind: 'error', status: 500 })
      const sdkError = await sms.send({ messages: [{ destinations: [{ to: '14155552671' }], text: 'hi' }] })
      expect(sdkError).toBeInstanceOf(Error)
      // The hazard is real: the raw error carries the key.
      expect(inspect(sdkError, { depth: 6 })).toContain(fake.apiKey)

      log.error({ err: sdkError }, 'raw SDK error')
      log.warn({ headers: { authorization: `App ${fake.apiKey}`, 'x-api-key': 'client-key-0123456789' } }, 'headers')
      log.info({ apiKey: fake.apiKey, nested: { apiKey: fake.apiKey, webhookSecret: 'webhook-secret-0123456789abcdef' } }, 'config')
      expect(lines).toHaveLength(3)
      for (const line of lines) {
        expect(line).not.toContain(fake.apiKey)
        expect(line).not.toContain('client-key-0123456789')
        expect(line).not.toContain('webhook-secret-0123456789abcdef')
      }
      // An error is logged as its kind, code and message only: the request and response an HTTP client
      // attaches to it never reach the line; other secrets are blanked by name.
      expect(Object.keys((JSON.parse(lines[0]!) as { err: object }).err).sort()).toEqual(['code', 'message', 'stack', 'type'])
      expect(lines[1]).toContain('[REDACTED]')
      expect(lines[2]).toContain('[REDACTED]')
    })

    it('toProviderError keeps nothing of the SDK error but status, Infobip\'s code and text, and Retry-After', () => {
      const sdkError = Object.assign(new Error('Request failed with status code 429'), {
        code: 'ERR_BAD_REQUEST',
        config: { headers: { Authorization: 'App secret-key-0123456789' } },
        response: {
          status: 429,
          headers: { 'retry-after': '2' },
          data: { requestError: { serviceException: { messageId: 'TOO_MANY_REQUESTS', text: 'Too many requests' } } }
        }
      })
      const error = toProviderError(sdkError)
      expect(error).toMatchObject({ kind: 'http', retryable: true, outcome: 'not-sent', httpStatus: 429, providerCode: 'TOO_MANY_REQUESTS', retryAfterMs: 2000, message: 'Infobip answered 429: Too many requests' })
      expect(JSON.stringify(error)).not.toContain('secret-key')
      expect(inspect(error, { depth: 10 })).not.toContain('secret-key')
    })
  })
})

describe('toProviderError', () => {
  const systemError = (code: string, syscall?: string): Error =>
    Object.assign(new Error(code), { code, cause: Object.assign(new Error(code), { code, ...(syscall !== undefined ? { syscall } : {}) }) })

  it.each([
    ['refused', systemError('ECONNREFUSED', 'connect'), { kind: 'network', retryable: true, outcome: 'not-sent', message: 'Could not connect to Infobip (ECONNREFUSED)' }],
    ['no DNS answer', systemError('ENOTFOUND', 'getaddrinfo'), { kind: 'network', retryable: true, outcome: 'not-sent' }],
    ['DNS try again', systemError('EAI_AGAIN', 'getaddrinfo'), { kind: 'network', retryable: true, outcome: 'not-sent' }],
    ['connect timed out', systemError('ETIMEDOUT', 'connect'), { kind: 'network', retryable: true, outcome: 'not-sent' }],
    ['host unreachable on connect', systemError('EHOSTUNREACH', 'connect'), { kind: 'network', retryable: true, outcome: 'not-sent' }],
    ['reset after connecting', systemError('ECONNRESET'), { kind: 'network', retryable: true, outcome: 'unknown', message: 'Connection to Infobip lost during the request (ECONNRESET)' }],
    ['broken pipe while writing', systemError('EPIPE', 'write'), { kind: 'network', retryable: true, outcome: 'unknown' }],
    ['axios timeout', Object.assign(new Error('timeout of 200ms exceeded'), { code: 'ECONNABORTED' }), { kind: 'timeout', retryable: true, outcome: 'unknown' }],
    ['axios timeout (clarified)', Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }), { kind: 'timeout', retryable: true, outcome: 'unknown' }],
    ['the SDK\'s own input check', new Error('messages is required'), { kind: 'invalid-request', retryable: false, outcome: 'not-sent', message: 'Infobip request rejected before sending: messages is required' }],
    ['an axios failure without a response', Object.assign(new Error('canceled'), { code: 'ERR_CANCELED' }), { kind: 'network', retryable: false, outcome: 'unknown' }]
  ])('%s', (_name, error, expected) => {
    expect(toProviderError(error)).toMatchObject(expected)
  })

  const answered = (status: number, data: unknown): Error => Object.assign(new Error('x'), { response: { status, data } })
  const infobipBody = { requestError: { serviceException: { messageId: 'GENERAL_ERROR', text: 'Something went wrong' } } }

  it.each([
    [400, infobipBody, 'not-sent', false],
    [401, infobipBody, 'not-sent', false],
    [408, infobipBody, 'not-sent', true],
    [413, '<html>too large</html>', 'not-sent', false],
    [429, infobipBody, 'not-sent', true],
    [500, infobipBody, 'unknown', true],
    [502, '<html>Bad gateway</html>', 'unknown', true],
    [502, infobipBody, 'unknown', true],
    [503, infobipBody, 'not-sent', true],
    [503, '<html>Service unavailable</html>', 'unknown', true],
    [504, infobipBody, 'unknown', true]
  ])('HTTP %i with %j → %s (retryable %s)', (status, data, outcome, retryable) => {
    expect(toProviderError(answered(status, data))).toMatchObject({ kind: 'http', httpStatus: status, outcome, retryable })
  })

  it('copes with an error body that is not Infobip\'s shape', () => {
    expect(toProviderError(answered(502, '<html>Bad gateway</html>')))
      .toMatchObject({ kind: 'http', retryable: true, httpStatus: 502, providerCode: null, retryAfterMs: null, message: 'Infobip answered 502: no details' })
  })
})

describe('outcomeOfStatus', () => {
  it.each([
    [301, false, 'not-sent'],
    [400, true, 'not-sent'],
    [429, false, 'not-sent'],
    [499, false, 'not-sent'],
    [500, true, 'unknown'],
    [501, true, 'unknown'],
    [502, true, 'unknown'],
    [503, true, 'not-sent'],
    [503, false, 'unknown'],
    [504, true, 'unknown']
  ] as const)('%i (Infobip body: %s) → %s', (status, body, outcome) => {
    expect(outcomeOfStatus(status, body)).toBe(outcome)
  })
})

describe('lookupChunks', () => {
  it.each([
    [[], []],
    [['a'], ['a']],
    [['a', 'b', 'c'], ['a,b,c']],
    [['x'.repeat(2048)], ['x'.repeat(2048)]],
    [['x'.repeat(1024), 'y'.repeat(1023)], [`${'x'.repeat(1024)},${'y'.repeat(1023)}`]],
    [['x'.repeat(1024), 'y'.repeat(1024)], ['x'.repeat(1024), 'y'.repeat(1024)]]
  ])('%#', (ids, chunks) => {
    expect(lookupChunks(ids)).toEqual(chunks)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-06-15T16:00:00.000Z')

  it.each([
    ['1', 1000],
    ['0', 0],
    ['1.5', 1500],
    [' 3 ', 3000],
    [2, 2000],
    ['Mon, 15 Jun 2026 16:00:10 GMT', 10_000],
    ['Mon, 15 Jun 2026 15:59:00 GMT', 0]
  ])('%j → %i ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected)
  })

  it.each([undefined, null, '', 'soon', {}, ['1']])('%j → null', (value) => {
    expect(parseRetryAfter(value, now)).toBeNull()
  })
})
