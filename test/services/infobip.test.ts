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
import { createInfobipProvider, parseRetryAfter, ProviderError, toProviderError, type InfobipOptions } from '../../src/services/infobip.js'
import type { ProviderMessage, SmsProvider } from '../../src/services/provider.js'
import { PENDING_ACCEPTED, startFakeInfobip, type FakeInfobip, type RecordedRequest } from '../support/fake-infobip.js'

// axios (inside the SDK) honours proxy variables; the fake lives on loopback.
for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) delete process.env[name]

const message = (n: number, extra: Partial<ProviderMessage> = {}): ProviderMessage => ({
  messageId: `msg-${n}`,
  to: `+1415555${String(2670 + n).padStart(4, '0')}`,
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

/** The service's own logger configuration (redaction included), writing into an array. */
function captureLog (): { log: Log, lines: string[] } {
  const lines: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'))
      callback()
    }
  })
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'debug' })
  const log = Fastify({ logger: loggerOptions(config, stream) }).log
  return { log, lines }
}

describe('Infobip provider against the fake Infobip', () => {
  let fake: FakeInfobip
  let lines: string[]
  let log: Log
  let metrics: Metrics
  const providers: SmsProvider[] = []

  function provider (overrides: Partial<Omit<InfobipOptions, 'retry' | 'circuit'>> & { retry?: Partial<InfobipOptions['retry']>, circuit?: Partial<InfobipOptions['circuit']> } = {}): SmsProvider {
    const created = createInfobipProvider({
      baseUrl: fake.url,
      apiKey: fake.apiKey,
      timeoutMs: 2000,
      log,
      metrics,
      ...overrides,
      retry: { retries: 3, minDelayMs: 10, maxDelayMs: 100, ...overrides.retry },
      circuit: { errorThresholdPercentage: 50, volumeThreshold: 10, resetTimeoutMs: 30_000, ...overrides.circuit }
    })
    providers.push(created)
    return created
  }

  beforeAll(async () => { fake = await startFakeInfobip() })
  afterAll(async () => { await fake.close() })
  beforeEach(() => {
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

  describe('retries', () => {
    it('retries 5xx and succeeds, sending the same body each time', async () => {
      fake.enqueue({ kind: 'error', status: 502 }, { kind: 'error', status: 503 }, { kind: 'error', status: 500 })
      const response = await provider().send([message(1)])
      expect(response.messages[0]!.messageId).toBe('msg-1')
      const requests = fake.sendRequests()
      expect(requests).toHaveLength(4)
      // The SDK mutates its payload: every attempt must still send exactly the same body.
      for (const request of requests) expect(request.body).toEqual(requests[0]!.body)
      expect(lines.filter((l) => l.includes('Infobip request failed, retrying'))).toHaveLength(3)
      expect((await metrics.providerCalls.get()).values).toEqual(expect.arrayContaining([
        { labels: { outcome: 'failure' }, value: 3 },
        { labels: { outcome: 'success' }, value: 1 }
      ]))
    })

    it('gives up after `retries` retries with a typed, retryable error', async () => {
      fake.setDefault({ kind: 'error', status: 503 })
      const error = await rejectionOf(provider({ retry: { retries: 2 } }).send([message(1)]))
      expect(error).toBeInstanceOf(ProviderError)
      expect(error).toMatchObject({
        code: 'PROVIDER_ERROR',
        statusCode: 502,
        kind: 'http',
        retryable: true,
        httpStatus: 503,
        providerCode: 'GENERAL_ERROR',
        message: 'Infobip answered 503: Something went wrong. Please contact support.'
      })
      expect(fake.sendRequests()).toHaveLength(3)
    })

    it.each([400, 401, 403, 404])('does not retry a %i', async (status) => {
      fake.setDefault({ kind: 'error', status })
      const error = await rejectionOf(provider().send([message(1)]))
      expect(error).toBeInstanceOf(ProviderError)
      expect(error).toMatchObject({ kind: 'http', retryable: false, httpStatus: status })
      expect(fake.sendRequests()).toHaveLength(1)
    })

    it('retries a 408 and a 429', async () => {
      fake.enqueue({ kind: 'error', status: 408 }, { kind: 'error', status: 429 })
      await provider().send([message(1)])
      expect(fake.sendRequests()).toHaveLength(3)
    })

    it('keeps Infobip\'s error text and code', async () => {
      fake.enqueue({ kind: 'error', status: 400, messageId: 'BAD_REQUEST', text: 'Invalid destination address' })
      const error = await rejectionOf(provider().send([message(1)]))
      expect(error).toMatchObject({ message: 'Infobip answered 400: Invalid destination address', providerCode: 'BAD_REQUEST', details: { providerStatus: 400, providerCode: 'BAD_REQUEST' } })
    })

    it('waits what Retry-After asks before retrying a 429', async () => {
      fake.enqueue({ kind: 'error', status: 429, headers: { 'Retry-After': '0.4' } })
      await provider({ retry: { minDelayMs: 10, maxDelayMs: 2000 } }).send([message(1)])
      const [first, second] = fake.sendRequests()
      const gap = second!.receivedAt - first!.receivedAt
      expect(gap).toBeGreaterThanOrEqual(395)
      expect(gap).toBeLessThan(1500)
    })

    it('caps Retry-After at the maximum delay', async () => {
      fake.enqueue({ kind: 'error', status: 503, headers: { 'Retry-After': '60' } })
      await provider({ retry: { minDelayMs: 10, maxDelayMs: 300 } }).send([message(1)])
      const [first, second] = fake.sendRequests()
      const gap = second!.receivedAt - first!.receivedAt
      expect(gap).toBeGreaterThanOrEqual(295)
      expect(gap).toBeLessThan(2000)
    })

    it('without Retry-After, retries after the backoff only', async () => {
      fake.enqueue({ kind: 'error', status: 429 })
      await provider({ retry: { minDelayMs: 10, maxDelayMs: 2000 } }).send([message(1)])
      const [first, second] = fake.sendRequests()
      expect(second!.receivedAt - first!.receivedAt).toBeLessThan(380)
    })
  })

  describe('timeouts and network errors', () => {
    it('times out a hung request after timeoutMs', async () => {
      fake.enqueue({ kind: 'hang' })
      const started = Date.now()
      const error = await rejectionOf(provider({ timeoutMs: 200, retry: { retries: 0 } }).send([message(1)]))
      const elapsed = Date.now() - started
      expect(error).toBeInstanceOf(ProviderError)
      expect(error).toMatchObject({ kind: 'timeout', retryable: true, httpStatus: null, message: 'Infobip did not answer in time' })
      expect(elapsed).toBeGreaterThanOrEqual(190)
      // Well under the provider's default 2000 ms here.
      expect(elapsed).toBeLessThan(1500)
    })

    it('retries after a timeout', async () => {
      fake.enqueue({ kind: 'hang' })
      const response = await provider({ timeoutMs: 200, retry: { retries: 1 } }).send([message(1)])
      expect(response.messages[0]!.messageId).toBe('msg-1')
      expect(fake.sendRequests()).toHaveLength(2)
    })

    it('turns a reset connection into a retryable network error, and retries it', async () => {
      fake.enqueue({ kind: 'reset' })
      const error = await rejectionOf(provider({ retry: { retries: 0 } }).send([message(1)]))
      expect(error).toBeInstanceOf(ProviderError)
      expect(error).toMatchObject({ kind: 'network', retryable: true })
      expect((error as Error).message).toMatch(/^Network error talking to Infobip \(E[A-Z_]+\)$/)

      fake.reset()
      fake.enqueue({ kind: 'reset' }, { kind: 'reset' })
      await provider().send([message(1)])
      expect(fake.sendRequests()).toHaveLength(3)
    })

    it('reports a refused connection as a network error', async () => {
      const closed = createServer()
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
      const { port } = closed.address() as AddressInfo
      await new Promise<void>((resolve) => closed.close(() => resolve()))
      const error = await rejectionOf(provider({ baseUrl: `http://127.0.0.1:${port}`, retry: { retries: 0 } }).send([message(1)]))
      expect(error).toMatchObject({ kind: 'network', retryable: true, message: 'Network error talking to Infobip (ECONNREFUSED)' })
    })
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

    it('is an invalid-response error that is not retried', async () => {
      const error = await rejectionOf(provider({ baseUrl: url }).send([message(1)]))
      expect(error).toBeInstanceOf(ProviderError)
      expect(error).toMatchObject({ kind: 'invalid-response', retryable: false, message: 'Infobip answered with an unexpected body' })
    })
  })

  describe('circuit breaker', () => {
    it('opens after the failure volume, then refuses without calling Infobip; half-opens and closes again', async () => {
      fake.setDefault({ kind: 'error', status: 503 })
      const p = provider({ retry: { retries: 0 }, circuit: { volumeThreshold: 2, resetTimeoutMs: 300 } })
      expect(p.circuitState()).toBe('closed')
      for (let i = 0; i < 2; i++) expect(await rejectionOf(p.send([message(i)]))).toBeInstanceOf(ProviderError)
      expect(p.circuitState()).toBe('open')
      expect(fake.sendRequests()).toHaveLength(2)
      expect((await metrics.circuitState.get()).values[0]!.value).toBe(2)

      const refused = await rejectionOf(p.send([message(3)]))
      expect(refused).toBeInstanceOf(AppError)
      expect(refused).not.toBeInstanceOf(ProviderError)
      expect(refused).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', statusCode: 503 })
      expect(fake.sendRequests()).toHaveLength(2)
      expect(lines.some((l) => l.includes('"level":50') && l.includes('Infobip circuit open'))).toBe(true)

      // After the reset timeout one trial request goes through; success closes the circuit.
      fake.setDefault({ kind: 'ok' })
      await new Promise((resolve) => setTimeout(resolve, 350))
      expect(p.circuitState()).toBe('half-open')
      const response = await p.send([message(4)])
      expect(response.messages[0]!.messageId).toBe('msg-4')
      expect(p.circuitState()).toBe('closed')
      expect(fake.sendRequests()).toHaveLength(3)
      expect((await metrics.circuitState.get()).values[0]!.value).toBe(0)
    })

    it('counts a request once however many retries it took', async () => {
      fake.setDefault({ kind: 'error', status: 503 })
      const p = provider({ retry: { retries: 2 }, circuit: { volumeThreshold: 2 } })
      await rejectionOf(p.send([message(1)]))
      expect(fake.sendRequests()).toHaveLength(3)
      expect(p.circuitState()).toBe('closed')
      await rejectionOf(p.send([message(2)]))
      expect(p.circuitState()).toBe('open')
    })

    it('is not opened by our own bad requests (4xx)', async () => {
      fake.setDefault({ kind: 'error', status: 400 })
      const p = provider({ retry: { retries: 0 }, circuit: { volumeThreshold: 2 } })
      for (let i = 0; i < 5; i++) expect(await rejectionOf(p.send([message(i)]))).toMatchObject({ httpStatus: 400 })
      expect(p.circuitState()).toBe('closed')
      expect(fake.sendRequests()).toHaveLength(5)
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
        expect(Object.keys(error as object).sort()).toEqual(['code', 'details', 'httpStatus', 'kind', 'name', 'providerCode', 'retryAfterMs', 'retryable', 'statusCode'])
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
        expect(line).toContain('[REDACTED]')
      }
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
      expect(error).toMatchObject({ kind: 'http', retryable: true, httpStatus: 429, providerCode: 'TOO_MANY_REQUESTS', retryAfterMs: 2000, message: 'Infobip answered 429: Too many requests' })
      expect(JSON.stringify(error)).not.toContain('secret-key')
      expect(inspect(error, { depth: 10 })).not.toContain('secret-key')
    })
  })
})

describe('toProviderError', () => {
  it('classifies failures without a response', () => {
    expect(toProviderError(Object.assign(new Error('timeout of 200ms exceeded'), { code: 'ECONNABORTED' }))).toMatchObject({ kind: 'timeout', retryable: true })
    expect(toProviderError(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }))).toMatchObject({ kind: 'timeout', retryable: true })
    expect(toProviderError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toMatchObject({ kind: 'network', retryable: true, message: 'Network error talking to Infobip (ECONNRESET)' })
    expect(toProviderError(Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }))).toMatchObject({ kind: 'network', retryable: true })
    // The SDK's own input checks produce plain errors; retrying cannot help.
    expect(toProviderError(new Error('messages is required'))).toMatchObject({ kind: 'invalid-request', retryable: false, message: 'Infobip request rejected before sending: messages is required' })
  })

  it('copes with an error body that is not Infobip\'s shape', () => {
    expect(toProviderError(Object.assign(new Error('x'), { response: { status: 502, data: '<html>Bad gateway</html>' } })))
      .toMatchObject({ kind: 'http', retryable: true, httpStatus: 502, providerCode: null, retryAfterMs: null, message: 'Infobip answered 502: no details' })
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
