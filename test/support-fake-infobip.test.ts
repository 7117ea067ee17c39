import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Infobip, AuthType } from '@infobip-api/sdk'
import { deliveryReportBody, inboundBody, startFakeInfobip, type FakeInfobip } from './support/fake-infobip.js'

// axios (inside the SDK) honours HTTP(S)_PROXY; NO_PROXY alone is not enough. Talk to the loopback fake directly.
for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy']) delete process.env[name]

interface AxiosLikeError extends Error {
  code?: string
  response?: { status: number, data: unknown, headers: Record<string, unknown> }
}
interface SmsChannel {
  send: (payload: Record<string, unknown>) => Promise<unknown>
  http: { axios: { defaults: { timeout: number } } }
}

function sms (fake: FakeInfobip, apiKey = fake.apiKey): SmsChannel {
  const infobip = new Infobip({ baseUrl: fake.url, apiKey, authType: AuthType.ApiKey })
  return infobip.channels.sms as SmsChannel
}

const payload = (): Record<string, unknown> => ({
  messages: [{ destinations: [{ to: '41793026727', messageId: 'm1' }], from: 'InfoSMS', text: 'hi' }]
})

function asError (result: unknown): AxiosLikeError {
  expect(result).toBeInstanceOf(Error)
  return result as AxiosLikeError
}

describe('fake Infobip (through the real @infobip-api/sdk)', () => {
  let fake: FakeInfobip

  beforeAll(async () => { fake = await startFakeInfobip({ apiKey: 'test-key' }) })
  afterEach(() => fake.reset())
  afterAll(async () => { await fake.close() })

  it('answers a send with Infobip\'s success body and echoes the client messageId', async () => {
    const result = await sms(fake).send({
      bulkId: 'bulk-1',
      messages: [
        { destinations: [{ to: '41793026727', messageId: 'm1' }, { to: '41793026728' }], from: 'InfoSMS', text: 'hi' },
        { destinations: [{ to: '41793026729', messageId: 'm3' }], text: 'second' }
      ]
    }) as { status: number, data: unknown }
    expect(result).not.toBeInstanceOf(Error)
    expect(result.status).toBe(200)
    const status = { groupId: 1, groupName: 'PENDING', id: 26, name: 'PENDING_ACCEPTED', description: 'Message sent to next instance' }
    expect(result.data).toEqual({
      bulkId: 'bulk-1',
      messages: [
        { to: '41793026727', messageId: 'm1', status },
        { to: '41793026728', messageId: expect.any(String), status },
        { to: '41793026729', messageId: 'm3', status }
      ]
    })

    const [sent] = fake.sendRequests()
    expect(fake.sendRequests()).toHaveLength(1)
    expect(sent?.headers.authorization).toBe('App test-key')
    // The SDK adds "type": "text" to the payload it sends.
    expect(sent?.body).toMatchObject({ bulkId: 'bulk-1', type: 'text', messages: [{ from: 'InfoSMS', text: 'hi' }, { text: 'second' }] })
  })

  it('generates a bulkId when none is sent and applies a configured status', async () => {
    const rejected = { groupId: 5, groupName: 'REJECTED', id: 51, name: 'MISSING_TO', description: 'Missing destination' }
    fake.setDefault({ kind: 'ok', status: rejected })
    const result = await sms(fake).send(payload()) as { data: { bulkId: unknown, messages: Array<{ status: unknown }> } }
    expect(typeof result.data.bulkId).toBe('string')
    expect(result.data.messages[0]?.status).toEqual(rejected)
  })

  it('rejects a wrong API key with 401 and Infobip\'s error body, and still records the request', async () => {
    const error = asError(await sms(fake, 'wrong-key').send(payload()))
    expect(error.response?.status).toBe(401)
    expect(error.response?.data).toEqual({ requestError: { serviceException: { messageId: 'UNAUTHORIZED', text: 'Invalid login details' } } })
    expect(fake.requests).toHaveLength(1)
    expect(fake.requests[0]?.headers.authorization).toBe('App wrong-key')
  })

  it('plays enqueued behaviours once, in order, then falls back to the default', async () => {
    fake.enqueue({ kind: 'error', status: 503 })
    const client = sms(fake)
    const first = asError(await client.send(payload()))
    expect(first.response?.status).toBe(503)
    expect(first.response?.data).toEqual({ requestError: { serviceException: { messageId: 'GENERAL_ERROR', text: expect.any(String) } } })
    const second = await client.send(payload()) as { status: number }
    expect(second.status).toBe(200)
    expect(fake.sendRequests()).toHaveLength(2)
  })

  it('exposes Retry-After on a 429', async () => {
    fake.enqueue({ kind: 'error', status: 429, headers: { 'Retry-After': '2' } })
    const error = asError(await sms(fake).send(payload()))
    expect(error.response?.status).toBe(429)
    expect(error.response?.headers['retry-after']).toBe('2')
    expect(error.response?.data).toMatchObject({ requestError: { serviceException: { messageId: 'TOO_MANY_REQUESTS' } } })
  })

  it('resets the connection without an answer (a network error)', async () => {
    fake.enqueue({ kind: 'reset' })
    const error = asError(await sms(fake).send(payload()))
    expect(error.response).toBeUndefined()
    expect(error.code).toBe('ECONNRESET')
    const next = await sms(fake).send(payload()) as { status: number }
    expect(next.status).toBe(200)
  })

  it('delays an answer', async () => {
    fake.enqueue({ kind: 'delay', ms: 200, then: { kind: 'ok' } })
    const started = Date.now()
    const result = await sms(fake).send(payload()) as { status: number }
    expect(result.status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
  })

  it('hangs until the client times out', async () => {
    fake.enqueue({ kind: 'hang' })
    const client = sms(fake)
    client.http.axios.defaults.timeout = 150
    const error = asError(await client.send(payload()))
    expect(error.code).toBe('ECONNABORTED')
    expect(error.response).toBeUndefined()
  })

  it('answers invalid JSON with 400, reports with an empty list and unknown paths with 404', async () => {
    const headers = { authorization: `App ${fake.apiKey}`, 'content-type': 'application/json' }
    const invalid = await fetch(`${fake.url}/sms/2/text/advanced`, { method: 'POST', headers, body: '{"messages": [' })
    expect(invalid.status).toBe(400)
    expect(await invalid.json()).toMatchObject({ requestError: { serviceException: { messageId: 'BAD_REQUEST' } } })

    const reports = await fetch(`${fake.url}/sms/1/reports?bulkId=b1&limit=10`, { headers })
    expect(reports.status).toBe(200)
    expect(await reports.json()).toEqual({ results: [] })
    expect(fake.requests[1]).toMatchObject({ method: 'GET', path: '/sms/1/reports', query: { bulkId: 'b1', limit: '10' } })

    const unknown = await fetch(`${fake.url}/sms/9/nothing`, { headers })
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toMatchObject({ requestError: { serviceException: { messageId: 'NOT_FOUND' } } })
  })

  it('ends hanging requests on close', async () => {
    const own = await startFakeInfobip()
    own.setDefault({ kind: 'hang' })
    const pending = sms(own).send(payload())
    while (own.sendRequests().length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    await own.close()
    const error = asError(await pending)
    expect(error.response).toBeUndefined()
  })
})

describe('webhook body builders', () => {
  it('builds delivery reports with Infobip\'s status and error ids', () => {
    const body = deliveryReportBody([
      { messageId: 'm1', to: '41793026727', callbackData: 'cb' },
      { messageId: 'm2', to: '41793026728', status: 'UNDELIVERABLE', bulkId: 'b2', price: 0 }
    ])
    expect(body.results).toHaveLength(2)
    expect(body.results[0]).toMatchObject({
      messageId: 'm1',
      to: '41793026727',
      callbackData: 'cb',
      smsCount: 1,
      doneAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/),
      status: { groupId: 3, groupName: 'DELIVERED', id: 5, name: 'DELIVERED_TO_HANDSET' },
      error: { groupId: 0, groupName: 'OK', id: 0, name: 'NO_ERROR', permanent: false }
    })
    expect(body.results[1]).toMatchObject({
      bulkId: 'b2',
      price: { pricePerMessage: 0, currency: 'EUR' },
      status: { groupId: 2, id: 9, name: 'UNDELIVERABLE_NOT_DELIVERED' },
      error: { groupId: 1, id: 1, name: 'EC_UNKNOWN_SUBSCRIBER', permanent: true }
    })
  })

  it('builds inbound messages with the keyword split off', () => {
    const body = inboundBody([{ from: '41793026727', text: 'stop please', messageId: 'mo1' }, { from: '41793026728', text: 'HELP' }])
    expect(body).toMatchObject({ messageCount: 2, pendingMessageCount: 0 })
    expect(body.results[0]).toMatchObject({ messageId: 'mo1', from: '41793026727', text: 'stop please', keyword: 'STOP', cleanText: 'please', smsCount: 1 })
    expect(body.results[1]).toMatchObject({ keyword: 'HELP', cleanText: '', price: { pricePerMessage: 0, currency: 'EUR' } })
  })
})
