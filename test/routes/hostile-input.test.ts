/**
 * The inputs the issue found breaking the service, one by one: non-finite numbers in query strings,
 * type-coerced JSON bodies, text with control characters or lone surrogates, numbers and secrets in
 * logged URLs and provider errors, probes filling the logs, and the docs UI over plain http.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Message } from '../../src/db/repositories/messages.js'
import { getMessage, postSendSms, type SendSmsResponse } from '../support/api.js'
import { API_KEY, startTestApp, WEBHOOK_SECRET, type TestContext } from '../support/app.js'

describe('hostile input', () => {
  let ctx: TestContext

  beforeAll(async () => { ctx = await startTestApp({ env: { RATE_LIMIT_MAX: '100000', LOG_LEVEL: 'info' } }) })
  afterAll(async () => { await ctx.close() })

  it('a text/plain body is 415 UNSUPPORTED_MEDIA_TYPE, not a schema error', async () => {
    const response = await ctx.app.inject({ method: 'POST', url: '/send-sms', headers: { 'x-api-key': API_KEY, 'content-type': 'text/plain' }, payload: 'destinationNumber=+14155552671' })
    expect(response.statusCode).toBe(415)
    expect(response.json()).toMatchObject({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' })
    expect(ctx.fake.sendRequests()).toHaveLength(0)
  })

  it('a JSON body is UTF-8: other bytes are 400 INVALID_TEXT, another declared charset 415, and nothing is sent or stored', async () => {
    const latin1 = Buffer.concat([Buffer.from('{"destinationNumber":"+14155552671","message":"caf'), Buffer.from([0xe9]), Buffer.from('","purpose":"transactional"}')])
    const before = await ctx.app.inject({ method: 'GET', url: '/messages', headers: { 'x-api-key': API_KEY } })
    const asJson = await ctx.app.inject({ method: 'POST', url: '/send-sms', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, payload: latin1 })
    expect(asJson.statusCode).toBe(400)
    expect(asJson.json()).toMatchObject({ statusCode: 400, code: 'INVALID_TEXT' })
    const declared = await ctx.app.inject({ method: 'POST', url: '/send-sms', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json; charset=latin1' }, payload: latin1 })
    expect(declared.statusCode).toBe(415)
    expect(declared.json()).toMatchObject({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' })
    expect(ctx.fake.sendRequests()).toHaveLength(0)
    expect((await ctx.app.inject({ method: 'GET', url: '/messages', headers: { 'x-api-key': API_KEY } })).json()).toEqual(before.json())
    // UTF-8, declared or not, is taken as before.
    const utf8 = await ctx.app.inject({ method: 'POST', url: '/sms/preview', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json; charset=UTF-8' }, payload: { message: 'café' } })
    expect(utf8.statusCode).toBe(200)
    expect(utf8.json()).toMatchObject({ text: expect.stringContaining('café') })
  })

  it('a 404 names the path as the logs do: no secret, no number', async () => {
    for (const url of [`/webhooks/infobip/${WEBHOOK_SECRET}`, '/nope/%2B1%20415%20555%202671', '/nope/%2b1415555%32671']) {
      const response = await ctx.app.inject({ method: 'GET', url })
      expect(response.statusCode).toBe(404)
      expect(response.body).not.toContain(WEBHOOK_SECRET)
      expect(decodeURIComponent(response.body).replace(/\D/g, '')).not.toContain('4155552671')
    }
  })

  describe('numbers in query strings must be finite', () => {
    const lists = ['/messages', '/contacts', '/opt-outs']
    it.each(lists.flatMap((path) => ['Infinity', '-Infinity', '1e400', '-1e400', 'NaN'].map((value) => [path, value])))('%s?limit=%s → 400', async (path, value) => {
      const response = await ctx.app.inject({ method: 'GET', url: `${path}?limit=${value}`, headers: ctx.headers })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ code: 'FST_ERR_VALIDATION', message: expect.stringContaining('querystring/limit') })
    })

    it('while ordinary query strings are still read as numbers and booleans', async () => {
      const response = await ctx.app.inject({ method: 'GET', url: '/contacts?limit=2&subscribed=false', headers: ctx.headers })
      expect(response.statusCode).toBe(200)
    })
  })

  describe('JSON bodies are taken as sent, never type-coerced', () => {
    it.each([
      ['/send-sms', { destinationNumber: 14155552671, message: 'hi', purpose: 'transactional' }, 'body/destinationNumber must be string'],
      ['/send-sms', { destinationNumber: '+14155552671', message: 12345, purpose: 'transactional' }, 'body/message must be string'],
      ['/send-sms', { destinationNumber: '+14155552671', message: ['hi'], purpose: 'transactional' }, 'body/message must be string'],
      ['/contacts', { phoneNumber: 14155552671 }, 'body/phoneNumber must be string'],
      ['/contacts', { phoneNumber: '+14155552671', tags: 'vip' }, 'body/tags must be array'],
      ['/opt-outs', { phoneNumber: 14155552671 }, 'body/phoneNumber must be string'],
      ['/sms/preview', { message: true }, 'body/message must be string']
    ])('%s %j → 400', async (url, payload, message) => {
      const before = (await ctx.app.inject({ method: 'GET', url: '/messages?limit=100', headers: ctx.headers })).json<{ items: Message[] }>().items.length
      const response = await ctx.app.inject({ method: 'POST', url, headers: ctx.headers, payload })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual({ statusCode: 400, error: 'Bad Request', code: 'FST_ERR_VALIDATION', message })
      expect((await ctx.app.inject({ method: 'GET', url: '/messages?limit=100', headers: ctx.headers })).json<{ items: Message[] }>().items).toHaveLength(before)
      expect(ctx.fake.sendRequests()).toHaveLength(0)
    })
  })

  describe('message text', () => {
    it.each([
      ['a lone high surrogate', 'a\ud800b\u0000c', 'body.message contains a lone surrogate (U+D800) at position 2', 2],
      ['NUL', 'Hello\u0000world', 'body.message contains a control character (U+0000) at position 6; only line breaks and tabs are allowed', 6],
      ['escape after an emoji (one character)', '😀\u001b[31m', 'body.message contains a control character (U+001B) at position 2; only line breaks and tabs are allowed', 2],
      ['a lone low surrogate', '\udc00', 'body.message contains a lone surrogate (U+DC00) at position 1', 1],
      ['DEL', 'x\u007f', 'body.message contains a control character (U+007F) at position 2; only line breaks and tabs are allowed', 2]
    ])('%s → 400 INVALID_TEXT naming the position; nothing recorded or sent', async (_name, message, text, position) => {
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/send-sms',
        headers: { ...ctx.headers, 'content-type': 'application/json' },
        // JSON.stringify writes lone surrogates as \ud800 escapes, which JSON.parse reads back as such.
        payload: JSON.stringify({ destinationNumber: '+14155552671', message, purpose: 'transactional' })
      })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual({ statusCode: 400, error: 'Bad Request', code: 'INVALID_TEXT', message: text, position })
      expect(ctx.fake.sendRequests()).toHaveLength(0)
    })

    it('is stored and sent byte for byte as given', async () => {
      const message = 'Hi Zoë 👩‍👩‍👧 🇺🇸\r\nLine two\twith a tab, a no-break\u00a0space, é and e\u0301, “quotes”, € and \ufffd.'
      const response = await postSendSms(ctx, { destinationNumber: '+14155552671', message, purpose: 'transactional' })
      expect(response.statusCode, response.body).toBe(202)
      const { id } = response.json<SendSmsResponse>()
      expect((await getMessage(ctx, id)).text).toBe(message)
      const sent = ctx.fake.sendRequests().at(-1)!.body as { messages: Array<{ text: string }> }
      expect(sent.messages[0]!.text).toBe(message)
      expect(Buffer.from(sent.messages[0]!.text, 'utf8').equals(Buffer.from(message, 'utf8'))).toBe(true)
    })

    it('other text the API stores follows the same rule: names, tags, query filters', async () => {
      for (const [method, url, payload, field] of [
        ['POST', '/contacts', { phoneNumber: '+14155552699', firstName: 'Ann\u0007' }, 'body.firstName'],
        ['POST', '/contacts', { phoneNumber: '+14155552699', tags: ['ok', 'b\ud800d'] }, 'body.tags[1]'],
        ['GET', '/contacts?tag=%00', undefined, 'querystring.tag']
      ] as const) {
        const response = await ctx.app.inject({ method, url, headers: ctx.headers, ...(payload !== undefined ? { payload } : {}) })
        expect(response.statusCode).toBe(400)
        expect(response.json()).toMatchObject({ code: 'INVALID_TEXT', message: expect.stringMatching(new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')} contains`)) })
      }
    })

    it('Infobip\'s webhooks keep what the phone sent (a form feed), refusing only what cannot be stored', async () => {
      const url = `/webhooks/infobip/inbound?token=${WEBHOOK_SECRET}`
      const kept = await ctx.app.inject({ method: 'POST', url, payload: { results: [{ from: '14155552698', text: 'Hello\fthere' }] } })
      expect(kept.statusCode).toBe(200)
      const refused = await ctx.app.inject({ method: 'POST', url, payload: { results: [{ from: '14155552698', text: 'STOP\u0000' }] } })
      expect(refused.statusCode).toBe(400)
      expect(refused.json()).toMatchObject({ code: 'INVALID_TEXT', message: 'body.results[0].text contains a control character (U+0000) at position 5' })
    })
  })

  describe('logs', () => {
    it('hold no full number and no secret, whatever the encoding or parameter name', async () => {
      ctx.logs.length = 0
      const urls = [
        '/messages?to=%2B1+415+555+2671',
        '/messages?to=%2B1%20415%20555%202671',
        '/contacts?phoneNumber=1.415.555.2671',
        '/contacts?phoneNumber[]=14155552671',
        '/contacts?filter[phone]=%2B14155552671',
        '/contacts/%2B14155552671',
        '/messages?access_token=sk_live_0123456789abcdef',
        '/messages?x-api-key=' + API_KEY,
        '/messages?token=' + WEBHOOK_SECRET,
        '/messages?limit=sk_live_0123456789abcdef'
      ]
      for (const url of urls) await ctx.app.inject({ method: 'GET', url, headers: ctx.headers })
      await ctx.app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': '1.415.555.2671' } })
      const text = ctx.logs.join('\n')
      expect(ctx.logs.length).toBeGreaterThanOrEqual(urls.length * 2)
      for (const leak of ['4155552671', '415 555 2671', '415.555.2671', '415+555+2671', '415%20555', 'sk_live_0123456789abcdef', API_KEY, WEBHOOK_SECRET]) {
        expect(text).not.toContain(leak)
      }
      expect(text).toContain('"url":"/messages?to=*******2671"')
      expect(text).toContain('"url":"/messages?access_token=[REDACTED]"')
    })

    it('mask a number in Infobip\'s error text, in the log, the message record and the 502', async () => {
      ctx.logs.length = 0
      ctx.fake.enqueue({ kind: 'error', status: 400, messageId: 'BAD_REQUEST', text: 'Invalid destination address 14155552697 (+1 415-555-2697)' })
      const response = await postSendSms(ctx, { destinationNumber: '+14155552697', message: 'Your code is 1234', purpose: 'transactional' })
      expect(response.statusCode).toBe(502)
      expect(response.json()).toMatchObject({ code: 'PROVIDER_ERROR', message: 'Infobip answered 400: Invalid destination address *******2697 (+*******2697)' })
      const message = await getMessage(ctx, response.json<{ messageId: string }>().messageId)
      expect(message.error).toMatchObject({ description: 'Infobip answered 400: Invalid destination address *******2697 (+*******2697)' })
      expect(ctx.logs.join('\n')).not.toMatch(/4155552697|415-555-2697/)
    })

    it('write /health, /health/ready and /metrics requests at debug, other requests at info', async () => {
      ctx.logs.length = 0
      for (const url of ['/health', '/health/ready', '/metrics']) expect((await ctx.app.inject({ method: 'GET', url })).statusCode).toBe(200)
      expect(ctx.logs).toEqual([])
      await ctx.app.inject({ method: 'GET', url: '/messages?limit=1', headers: ctx.headers })
      expect(ctx.logs.map((line) => JSON.parse(line) as { level: number, msg: string }).map(({ level, msg }) => [level, msg])).toEqual([[30, 'incoming request'], [30, 'request completed']])

      await ctx.restart({ LOG_LEVEL: 'debug' })
      ctx.logs.length = 0
      await ctx.app.inject({ method: 'GET', url: '/health' })
      expect(ctx.logs.map((line) => JSON.parse(line) as { level: number, msg: string }).map(({ level, msg }) => [level, msg])).toEqual([[20, 'incoming request'], [20, 'request completed']])
      await ctx.restart({ LOG_LEVEL: 'info' })
    })
  })

  describe('/docs', () => {
    it('loads over plain http from another host: no upgrade-insecure-requests on its pages and assets', async () => {
      for (const url of ['/docs/', '/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-initializer.js', '/docs/static/index.css']) {
        const response = await ctx.app.inject({ method: 'GET', url, headers: { host: '10.0.0.5:3000' } })
        expect(response.statusCode, url).toBe(200)
        const csp = String(response.headers['content-security-policy'] ?? '')
        expect(csp, url).toContain("default-src 'self'")
        expect(csp, url).not.toContain('upgrade-insecure-requests')
      }
    })
  })
})
