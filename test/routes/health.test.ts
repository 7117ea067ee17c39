import { Writable } from 'node:stream'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { openDatabase } from '../../src/db/database.js'
import { sendSms } from '../support/api.js'
import { API_KEY, startTestApp, WEBHOOK_SECRET, type TestContext } from '../support/app.js'
import { createTestDatabase } from '../support/database.js'

const NUMBER = '+14155552671'

const send = async (ctx: TestContext) => await sendSms(ctx, NUMBER, 'Your code is 123456', 'transactional')

/** The value of one sample of a Prometheus text exposition, or undefined when absent. */
function sample (text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

describe('health, readiness, metrics and docs', () => {
  let ctx: TestContext

  // A low rate limit proves the open routes are not rate limited.
  beforeAll(async () => { ctx = await startTestApp({ env: { RATE_LIMIT_MAX: '5' } }) })
  afterAll(async () => { await ctx.close() })
  beforeEach(() => { ctx.fake.reset() })

  describe('GET /health', () => {
    it('answers 200 { status: ok, timestamp } without an API key', async () => {
      const before = Date.now()
      const response = await ctx.app.inject({ method: 'GET', url: '/health' })
      expect(response.statusCode).toBe(200)
      expect(response.headers['content-type']).toMatch(/^application\/json/)
      const body = response.json() as { status: string, timestamp: string }
      expect(body).toEqual({ status: 'ok', timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/) })
      // The wall clock, not the app's (test) clock: it tells an operator the process is alive now.
      const at = Date.parse(body.timestamp)
      expect(at).toBeGreaterThanOrEqual(before - 5)
      expect(at).toBeLessThanOrEqual(Date.now() + 5)
    })

    it('returns the request id: generated, or the caller\'s own x-request-id when well-formed', async () => {
      const generated = await ctx.app.inject({ method: 'GET', url: '/health' })
      expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
      const own = await ctx.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'lb-trace.42' } })
      expect(own.headers['x-request-id']).toBe('lb-trace.42')
      const hostile = await ctx.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'a b\u0000<script>' } })
      expect(hostile.headers['x-request-id']).not.toBe('a b\u0000<script>')
      expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    })

    it('ignores a wrong API key; health, metrics and docs are never rate limited', async () => {
      for (let i = 0; i < 12; i++) {
        const response = await ctx.app.inject({ method: 'GET', url: '/health', headers: { 'x-api-key': 'wrong' } })
        expect(response.statusCode).toBe(200)
      }
      for (let i = 0; i < 12; i++) expect((await ctx.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200)
      for (let i = 0; i < 8; i++) expect((await ctx.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200)
      for (let i = 0; i < 8; i++) expect((await ctx.app.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200)
      for (let i = 0; i < 8; i++) expect((await ctx.app.inject({ method: 'GET', url: '/docs' })).statusCode).toBe(200)
    })
  })

  describe('GET /health/ready', () => {
    it('answers 200 with the database and provider checks', async () => {
      const response = await ctx.app.inject({ method: 'GET', url: '/health/ready' })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ status: 'ok', checks: { database: 'ok', provider: 'closed', dispatcher: 'running', shuttingDown: false } })
    })
  })

  describe('GET /metrics', () => {
    it('exposes HTTP durations, messages by status, provider calls, circuit state and queue depth', async () => {
      expect((await send(ctx)).statusCode).toBe(202)
      const response = await ctx.app.inject({ method: 'GET', url: '/metrics' })
      expect(response.statusCode).toBe(200)
      expect(response.headers['content-type']).toMatch(/^text\/plain/)
      const text = response.body
      expect(text).toContain('# TYPE http_request_duration_seconds histogram')
      expect(sample(text, 'http_request_duration_seconds_count', '{method="POST",route="/send-sms",status_code="202"}')).toBe(1)
      expect(sample(text, 'sms_messages', '{status="accepted"}')).toBe(1)
      expect(sample(text, 'sms_provider_calls_total', '{outcome="success"}')).toBe(1)
      expect(text).toContain('# TYPE sms_provider_calls_total counter')
      expect(sample(text, 'sms_provider_circuit_state')).toBe(0)
      expect(sample(text, 'sms_dispatch_queue_depth')).toBe(0)
      expect(sample(text, 'sms_messages_sent_total')).toBe(1)
    })

    it('counts provider failures and follows message statuses', async () => {
      ctx.fake.enqueue({ kind: 'error', status: 503 }, { kind: 'error', status: 400 })
      // 503 then 400: one retry, then a permanent failure.
      const failed = await send(ctx)
      expect(failed.statusCode).toBe(502)
      expect(ctx.fake.sendRequests()).toHaveLength(2)
      const text = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body
      expect(sample(text, 'sms_provider_calls_total', '{outcome="failure"}')).toBe(2)
      expect(sample(text, 'sms_provider_failures_total', '{kind="503"}')).toBe(1)
      expect(sample(text, 'sms_provider_failures_total', '{kind="400"}')).toBe(1)
      expect(sample(text, 'sms_messages', '{status="failed"}')).toBe(1)
      expect(sample(text, 'sms_messages', '{status="accepted"}')).toBe(1)
    })

    it('shows a send waiting on Infobip in the dispatch queue depth', async () => {
      ctx.fake.enqueue({ kind: 'delay', ms: 1000, then: { kind: 'ok' } })
      const pending = send(ctx)
      const deadline = Date.now() + 2000
      while (ctx.fake.sendRequests().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
      const during = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body
      expect(sample(during, 'sms_dispatch_queue_depth')).toBe(1)
      expect(sample(during, 'sms_messages', '{status="sending"}')).toBe(1)
      expect((await pending).statusCode).toBe(202)
      const after = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body
      expect(sample(after, 'sms_dispatch_queue_depth')).toBe(0)
      expect(sample(after, 'sms_messages', '{status="accepted"}')).toBe(2)
      expect(sample(after, 'sms_messages', '{status="sending"}')).toBeUndefined()
    })
  })

  describe('OpenAPI', () => {
    it('GET /docs/json is an OpenAPI document listing /send-sms with its response schemas', async () => {
      const response = await ctx.app.inject({ method: 'GET', url: '/docs/json' })
      expect(response.statusCode).toBe(200)
      expect(response.headers['content-type']).toMatch(/^application\/json/)
      const doc = response.json() as {
        openapi: string
        info: { title: string, version: string }
        paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[], properties?: Record<string, unknown> } }> }, responses: Record<string, { content?: Record<string, { schema: { required?: string[], properties?: Record<string, unknown>, $ref?: string } }> }>, security?: unknown[] }>>
        components: { schemas: Record<string, { title?: string, required?: string[] }>, securitySchemes: Record<string, unknown> }
      }
      expect(doc.openapi).toMatch(/^3\./)
      expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) })
      expect(doc.components.securitySchemes).toEqual({ apiKey: { type: 'apiKey', name: 'x-api-key', in: 'header' } })
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/health', '/health/ready', '/send-sms', '/sms/preview', '/messages/{id}', '/messages']))
      // The scrape endpoint is not part of the API document.
      expect(doc.paths['/metrics']).toBeUndefined()

      const sendSms = doc.paths['/send-sms']!.post!
      const requestSchema = sendSms.requestBody!.content['application/json']!.schema
      expect(requestSchema.required).toEqual(['destinationNumber', 'message'])
      expect(Object.keys(requestSchema.properties!)).toEqual(['destinationNumber', 'message', 'senderId', 'purpose'])

      expect(Object.keys(sendSms.responses).sort()).toEqual(['200', '202', '400', '401', '409', '413', '422', '429', '500', '502', '503'])
      for (const status of ['200', '202']) {
        const schema = sendSms.responses[status]!.content!['application/json']!.schema
        expect(schema.required).toEqual(expect.arrayContaining(['message', 'id', 'status', 'segments', 'encoding', 'infobipResponse']))
        expect(Object.keys(schema.properties!)).toEqual(expect.arrayContaining(['message', 'id', 'status', 'segments', 'encoding', 'infobipResponse']))
      }
      // Every error status documents the one error body.
      const errorSchema = Object.values(doc.components.schemas).find((s) => s.title === 'ErrorResponse')
      expect(errorSchema?.required).toEqual(['statusCode', 'error', 'message', 'code'])
      for (const status of ['400', '401', '413', '422', '429', '502', '503']) {
        const schema = sendSms.responses[status]!.content!['application/json']!.schema
        const resolved = schema.$ref !== undefined ? doc.components.schemas[schema.$ref.split('/').pop()!] : schema
        expect(resolved?.required).toEqual(['statusCode', 'error', 'message', 'code'])
      }
      // Open routes say so.
      expect(doc.paths['/health']!.get!.security).toEqual([])
    })

    it('GET /docs answers the browsable UI as HTML without an API key', async () => {
      const response = await ctx.app.inject({ method: 'GET', url: '/docs' })
      expect(response.statusCode).toBe(200)
      expect(response.headers['content-type']).toMatch(/^text\/html/)
      expect(response.body).toContain('<html')
      expect(response.body).toContain('swagger-ui')
      const asset = await ctx.app.inject({ method: 'GET', url: '/docs/static/swagger-ui.css' })
      expect(asset.statusCode).toBe(200)
    })
  })

  it('every response carries the security headers, refusals and the docs UI included; only the docs UI has a content security policy', async () => {
    const responses = [
      await ctx.app.inject({ method: 'GET', url: '/health' }),
      await ctx.app.inject({ method: 'GET', url: '/messages' }),
      await ctx.app.inject({ method: 'GET', url: '/messages', headers: { 'x-api-key': API_KEY } }),
      await ctx.app.inject({ method: 'GET', url: '/no-such-route' })
    ]
    const docs = await ctx.app.inject({ method: 'GET', url: '/docs/static/index.html' })
    for (const response of [...responses, docs]) {
      expect(response.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': 'max-age=31536000; includeSubDomains',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-origin',
        'referrer-policy': 'no-referrer',
        'x-dns-prefetch-control': 'off',
        'x-download-options': 'noopen',
        'x-permitted-cross-domain-policies': 'none',
        'origin-agent-cluster': '?1'
      })
      expect(response.headers['x-powered-by']).toBeUndefined()
    }
    for (const response of responses) expect(response.headers['content-security-policy']).toBeUndefined()
    expect(docs.headers['content-security-policy']).toMatch(/default-src 'self'/)
  })

  it.each([
    ['a malformed percent-encoding', `/webhooks/infobip/inbound%zz?token=${WEBHOOK_SECRET}&to=%2B14155552671`, 400, 'FST_ERR_BAD_URL'],
    ['a path parameter over the length limit', `/contacts/+1415555267${'1'.repeat(100)}`, 414, 'FST_ERR_MAX_PARAM_LENGTH']
  ])('a URL Fastify refuses before routing (%s) is answered without echoing it, with the usual headers', async (_label, url, status, code) => {
    const response = await ctx.app.inject({ method: 'GET', url })
    expect(response.statusCode).toBe(status)
    expect(response.json()).toEqual({ statusCode: status, error: expect.any(String), code, message: expect.any(String) })
    expect(response.body).not.toContain(WEBHOOK_SECRET)
    expect(response.body).not.toMatch(/4155552671|14155/)
    expect(response.headers['x-request-id']).toEqual(expect.any(String))
    expect(response.headers['x-content-type-options']).toBe('nosniff')
  })

  it('still requires the API key on the API itself', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/messages' })).statusCode).toBe(401)
    expect((await ctx.app.inject({ method: 'GET', url: '/messages', headers: { 'x-api-key': API_KEY } })).statusCode).toBe(200)
  })
})

describe('readiness when the database is unreachable', () => {
  it('answers 503 on /health/ready while /health stays 200', async () => {
    const database = await createTestDatabase()
    const handle = openDatabase(database.url)
    const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: database.url, API_KEYS: API_KEY })
    const app = await buildApp(config, { database: handle, logStream: new Writable({ write (_chunk, _encoding, callback) { callback() } }) })
    try {
      await app.ready()
      // Until server.ts starts the workers, the instance cannot send: not ready.
      const before = await app.inject({ method: 'GET', url: '/health/ready' })
      expect(before.statusCode).toBe(503)
      expect(before.json()).toMatchObject({ status: 'unavailable', checks: { dispatcher: 'stopped' } })
      await app.workers.start()
      expect((await app.inject({ method: 'GET', url: '/health/ready' })).json()).toEqual({
        status: 'ok',
        checks: { database: 'ok', provider: 'closed', dispatcher: 'running', shuttingDown: false }
      })

      await handle.close()
      const ready = await app.inject({ method: 'GET', url: '/health/ready' })
      expect(ready.statusCode).toBe(503)
      expect(ready.json()).toEqual({ status: 'unavailable', checks: { database: 'error', provider: 'closed', dispatcher: 'running', shuttingDown: false } })
      const live = await app.inject({ method: 'GET', url: '/health' })
      expect(live.statusCode).toBe(200)
      expect(live.json()).toMatchObject({ status: 'ok' })
    } finally {
      await app.close()
      await database.drop()
    }
  })
})
