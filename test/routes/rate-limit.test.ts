import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DELIVERY_REPORTS_PATH as REPORTS, INBOUND_PATH, withToken } from '../support/api.js'
import { API_KEY, startTestApp, type TestContext } from '../support/app.js'
import { deliveryReportBody, inboundBody } from '../support/fake-infobip.js'

const MAX = 3
const basic = (password: string): string => `Basic ${Buffer.from(`infobip:${password}`, 'utf8').toString('base64')}`

/**
 * The per-address limit (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW) counts every request a client can use to guess
 * something: API keys (test/routes/send-sms.test.ts), the webhook secret, and paths (404s). Each test uses an
 * address of its own, so each starts with a full bucket.
 */
describe('rate limit on webhook secret guesses and unknown routes', () => {
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({ env: { RATE_LIMIT_MAX: String(MAX) } })
  })
  afterAll(async () => { await ctx?.close() })

  const post = async (url: string, payload: object, remoteAddress: string, headers: Record<string, string> = {}) =>
    await ctx.app.inject({ method: 'POST', url, payload, remoteAddress, headers })

  it('wrong webhook secrets from one address get 429 after RATE_LIMIT_MAX, on both webhooks, as ?token= or Basic auth', async () => {
    const address = '198.51.100.21'
    const report = deliveryReportBody([{ messageId: 'unknown-message', to: '14155550000' }])
    const inbound = inboundBody([{ from: '14155550001', text: 'STOP' }])
    const statuses = [
      (await post(withToken(REPORTS, 'guess-1'), report, address)).statusCode,
      (await post(REPORTS, report, address, { authorization: basic('guess-2') })).statusCode,
      (await post(withToken(INBOUND_PATH, 'guess-3'), inbound, address)).statusCode,
      (await post(withToken(REPORTS, 'guess-4'), report, address)).statusCode,
      (await post(INBOUND_PATH, inbound, address)).statusCode
    ]
    expect(statuses).toEqual([401, 401, 401, 429, 429])
    const limited = await post(withToken(REPORTS, 'guess-5'), report, address)
    expect(limited.json()).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' })
    // The guessed STOP never reached the ledger.
    const events = await ctx.app.inject({ method: 'GET', url: '/consent-events?phoneNumber=%2B14155550001', headers: ctx.headers })
    expect(events.json()).toEqual({ items: [], nextCursor: null })
  })

  it('delivery reports and inbound messages with the right secret are never throttled, also from an address over its limit', async () => {
    const address = '198.51.100.22'
    for (let i = 0; i < MAX + 1; i++) await post(withToken(REPORTS, `guess-${i}`), {}, address)
    expect((await post(withToken(REPORTS, 'guess'), {}, address)).statusCode).toBe(429)

    const answers = []
    for (let i = 0; i < 4 * MAX; i++) {
      const report = deliveryReportBody([{ messageId: `not-ours-${i}`, to: '14155550000' }])
      const response = i % 2 === 0
        ? await post(withToken(REPORTS), report, address)
        : await post(REPORTS, report, address, { authorization: basic(ctx.config.webhookSecret!) })
      answers.push([response.statusCode, response.json()])
    }
    expect(answers).toEqual(Array(4 * MAX).fill([200, { processed: 0, ignored: 1 }]))
    for (let i = 0; i < 2 * MAX; i++) {
      const response = await post(withToken(INBOUND_PATH), inboundBody([{ from: '14155550002', text: `Thanks ${i}` }]), address)
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({ processed: 0, results: [{ intent: 'none' }] })
    }
  })

  it('unknown routes count against the address: 404 up to RATE_LIMIT_MAX, then 429, and the bucket is the one API requests use', async () => {
    const address = '198.51.100.23'
    const statuses = []
    for (const path of ['/admin', '/.env', '/webhooks/infobip/delivery-report']) {
      statuses.push((await ctx.app.inject({ method: 'GET', url: path, remoteAddress: address })).statusCode)
    }
    statuses.push((await ctx.app.inject({ method: 'POST', url: '/wp-login.php', remoteAddress: address, payload: {} })).statusCode)
    expect(statuses).toEqual([404, 404, 404, 429])
    expect((await ctx.app.inject({ method: 'GET', url: '/messages', remoteAddress: address, headers: { 'x-api-key': 'guess-0123456789' } })).statusCode).toBe(429)
    // Open routes stay open.
    expect((await ctx.app.inject({ method: 'GET', url: '/health', remoteAddress: address })).statusCode).toBe(200)
  })

  it('a client with a valid API key counts its 404s in its own bucket, not its address', async () => {
    const address = '198.51.100.24'
    for (let i = 0; i < MAX; i++) expect((await ctx.app.inject({ method: 'GET', url: '/nowhere', remoteAddress: address })).statusCode).toBe(404)
    expect((await ctx.app.inject({ method: 'GET', url: '/nowhere', remoteAddress: address })).statusCode).toBe(429)
    expect((await ctx.app.inject({ method: 'GET', url: '/nowhere', remoteAddress: address, headers: { 'x-api-key': API_KEY } })).statusCode).toBe(404)
  })
})
