import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
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

  describe('what the exactly-once tests need', () => {
    const idPayload = (messageId: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
      messages: [{ destinations: [{ to: '41793026727', messageId }], text: 'hi', ...extra }]
    })
    const logsFor = async (query: string): Promise<string[]> => {
      const response = await fetch(`${fake.url}/sms/1/logs?${query}`, { headers: { authorization: `App ${fake.apiKey}` } })
      expect(response.status).toBe(200)
      return ((await response.json()) as { results: Array<{ messageId: string }> }).results.map((r) => r.messageId)
    }

    it('counts acceptances per messageId: a plain re-send is accepted (and would be delivered) again', async () => {
      await sms(fake).send(idPayload('m1'))
      await sms(fake).send(idPayload('m1'))
      await sms(fake).send(idPayload('m2'))
      expect(fake.acceptances.get('m1')).toBe(2)
      expect(fake.acceptances.get('m2')).toBe(1)
    })

    it('with duplicate ids enforced, a re-send answers REJECTED_DUPLICATE_MESSAGE_ID and is not accepted again', async () => {
      fake.setDuplicateIds(true)
      const first = await sms(fake).send(idPayload('m1')) as { data: { messages: Array<{ status: { name: string } }> } }
      const again = await sms(fake).send({ messages: [{ destinations: [{ to: '41793026727', messageId: 'm1' }, { to: '41793026728', messageId: 'm2' }], text: 'hi' }] }) as {
        data: { messages: Array<{ messageId: string, status: unknown }> }
      }
      expect(first.data.messages[0]!.status.name).toBe('PENDING_ACCEPTED')
      expect(again.data.messages).toEqual([
        { to: '41793026727', messageId: 'm1', status: { groupId: 5, groupName: 'REJECTED', id: 23, name: 'REJECTED_DUPLICATE_MESSAGE_ID', description: expect.any(String) } },
        { to: '41793026728', messageId: 'm2', status: expect.objectContaining({ name: 'PENDING_ACCEPTED' }) }
      ])
      expect(fake.acceptances.get('m1')).toBe(1)
      expect(fake.acceptances.get('m2')).toBe(1)
      expect(fake.logs.get('m1')!.status.name).toBe('PENDING_ACCEPTED')
    })

    it('a slow answer accepts at receipt: the client times out, Infobip has the message', async () => {
      fake.enqueue({ kind: 'slow', ms: 300 })
      const client = sms(fake)
      client.http.axios.defaults.timeout = 100
      const error = asError(await client.send(idPayload('m1')))
      expect(error.code).toBe('ECONNABORTED')
      expect(fake.acceptances.get('m1')).toBe(1)
      expect(await logsFor('messageId=m1')).toEqual(['m1'])
    })

    it('a reset can come after Infobip took the messages', async () => {
      fake.enqueue({ kind: 'reset', accept: true }, { kind: 'reset' })
      expect(asError(await sms(fake).send(idPayload('m1'))).code).toBe('ECONNRESET')
      expect(asError(await sms(fake).send(idPayload('m2'))).code).toBe('ECONNRESET')
      expect([...fake.acceptances.keys()]).toEqual(['m1'])
    })

    it('a gateway error has no Infobip body', async () => {
      fake.enqueue({ kind: 'gateway-error', status: 502 })
      const error = asError(await sms(fake).send(payload()))
      expect(error.response?.status).toBe(502)
      expect(String(error.response?.data)).toContain('<html>')
      expect(fake.acceptances.size).toBe(0)
    })

    it('logs take several ids comma-separated, as repeated messageId parameters, or both', async () => {
      for (const id of ['a', 'b', 'c']) await sms(fake).send(idPayload(id))
      expect(await logsFor('messageId=a,c,zz')).toEqual(['a', 'c'])
      expect(await logsFor('messageId=a&messageId=b&messageId=zz')).toEqual(['a', 'b'])
      expect(await logsFor('messageId=a,b&messageId=c')).toEqual(['a', 'b', 'c'])
      expect(await logsFor('limit=10')).toEqual([])
      expect(fake.logRequests()).toHaveLength(4)
      expect(fake.logRequests()[1]!.query).toEqual({ messageId: 'a,b,zz' })
    })

    it('log lag: an entry shows only after a number of look-ups', async () => {
      fake.setLogLag({ lookups: 2 })
      await sms(fake).send(idPayload('m1'))
      expect(await logsFor('messageId=m1')).toEqual([])
      expect(await logsFor('messageId=m1')).toEqual([])
      expect(await logsFor('messageId=m1')).toEqual(['m1'])
    })

    it('log lag: an entry shows only after a delay', async () => {
      fake.setLogLag({ ms: 200 })
      await sms(fake).send(idPayload('m1'))
      const acceptedAt = Date.now()
      expect(await logsFor('messageId=m1')).toEqual([])
      while (Date.now() - acceptedAt < 200) await new Promise((resolve) => setTimeout(resolve, 20))
      expect(await logsFor('messageId=m1')).toEqual(['m1'])
    })

    it('a scripted outage: 503s with Infobip\'s body, then refused connections, then back', async () => {
      const own = await startFakeInfobip()
      /** A fresh connection each time, so a refusal is seen as such (a pooled socket would see a reset). */
      const post = async (): Promise<number | string> => await new Promise((resolve) => {
        const req = request(`${own.url}/sms/2/text/advanced`, { method: 'POST', agent: false, headers: { authorization: `App ${own.apiKey}`, 'content-type': 'application/json' } }, (res) => {
          res.resume()
          res.on('end', () => resolve(res.statusCode ?? 0))
        })
        req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
        req.end(JSON.stringify(payload()))
      })
      try {
        own.outage({ unavailable: 2, refusedMs: 300 })
        expect(await post()).toBe(503)
        expect(await post()).toBe(503)
        expect(await post()).toBe('ECONNREFUSED')
        let status: number | string = 'ECONNREFUSED'
        const refusedAt = Date.now()
        while (status === 'ECONNREFUSED' && Date.now() - refusedAt < 2000) {
          await new Promise((resolve) => setTimeout(resolve, 25))
          status = await post()
        }
        expect(status).toBe(200)
        expect(Date.now() - refusedAt).toBeGreaterThanOrEqual(250)
        expect(own.sendRequests()).toHaveLength(3)
      } finally {
        await own.close()
      }
    })

    it('posts delivery reports to the notifyUrl each message carried, and updates its log', async () => {
      const received: Array<{ url: string, body: { results: Array<{ messageId: string, status: { name: string } }> } }> = []
      const sink = createServer((req, res) => {
        let raw = ''
        req.on('data', (chunk: Buffer) => { raw += chunk.toString('utf8') })
        req.on('end', () => {
          received.push({ url: req.url ?? '', body: JSON.parse(raw) })
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"processed":1}')
        })
      })
      await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve))
      try {
        const notifyUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/webhooks/infobip/delivery-reports?token=t`
        await sms(fake).send(idPayload('m1', { notifyUrl, notifyContentType: 'application/json' }))
        await sms(fake).send(idPayload('m2', { notifyUrl, notifyContentType: 'application/json' }))
        expect(await fake.deliverReports(['m1', 'm2'], 'UNDELIVERABLE')).toEqual([200])
        expect(received).toHaveLength(1)
        expect(received[0]!.url).toBe('/webhooks/infobip/delivery-reports?token=t')
        expect(received[0]!.body.results.map((r) => [r.messageId, r.status.name])).toEqual([['m1', 'UNDELIVERABLE_NOT_DELIVERED'], ['m2', 'UNDELIVERABLE_NOT_DELIVERED']])
        expect(fake.logs.get('m1')!.status.name).toBe('UNDELIVERABLE_NOT_DELIVERED')
        await expect(fake.deliverReports(['never-sent'])).rejects.toThrow('no accepted message never-sent')
      } finally {
        await new Promise<void>((resolve) => sink.close(() => resolve()))
      }
    })
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

describe('fake Infobip: truth per messageId and the control API (for npm run prove)', () => {
  let fake: FakeInfobip
  let sink: ReturnType<typeof createServer>
  let notifyUrl: string
  const received: Array<Array<{ messageId: string, status: string }>> = []

  beforeAll(async () => {
    fake = await startFakeInfobip({ apiKey: 'test-key', control: true })
    sink = createServer((req, res) => {
      let raw = ''
      req.on('data', (chunk: Buffer) => { raw += chunk.toString('utf8') })
      req.on('end', () => {
        received.push((JSON.parse(raw) as { results: Array<{ messageId: string, status: { name: string } }> }).results.map((r) => ({ messageId: r.messageId, status: r.status.name })))
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve))
    notifyUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/reports`
  })
  afterEach(() => {
    fake.reset()
    received.length = 0
  })
  afterAll(async () => {
    await fake.close()
    await new Promise<void>((resolve) => sink.close(() => resolve()))
  })

  const send = async (messageId: string, text = 'hi'): Promise<unknown> =>
    await sms(fake).send({ messages: [{ destinations: [{ to: '41793026727', messageId }], text, notifyUrl }] })

  async function control (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number, body: unknown }> {
    const response = await fetch(`${fake.url}/__control/${path}`, { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) })
    return { status: response.status, body: await response.json() }
  }

  it('keeps, per messageId, how many times and when it was accepted, and the status it gave', async () => {
    const before = Date.now()
    await send('m1', 'first')
    await send('m1', 'first')
    await send('m2', 'second')
    const after = Date.now()
    const truth = new Map(fake.truth().map((t) => [t.messageId, t]))
    expect(truth.get('m1')).toMatchObject({ to: '41793026727', text: 'first', acceptances: 2, status: { name: 'PENDING_ACCEPTED' } })
    expect(truth.get('m1')!.acceptedAt).toHaveLength(2)
    for (const at of [...truth.get('m1')!.acceptedAt, ...truth.get('m2')!.acceptedAt]) {
      expect(at).toBeGreaterThanOrEqual(before)
      expect(at).toBeLessThanOrEqual(after)
    }
    expect(truth.get('m2')!.acceptances).toBe(1)
  })

  it('posts reports in the order given, in POSTs of batchSize; a message keeps its first final status', async () => {
    await send('m1')
    await send('m2')
    const statuses = await fake.postReports([
      { messageId: 'm1', status: 'DELIVERED' },
      { messageId: 'm2', status: 'PENDING' },
      { messageId: 'm1', status: 'PENDING' },
      { messageId: 'm1', status: 'UNDELIVERABLE' },
      { messageId: 'm2', status: 'DELIVERED_TO_OPERATOR' }
    ], 2)
    expect(statuses).toEqual([200, 200, 200])
    expect(received).toEqual([
      [{ messageId: 'm1', status: 'DELIVERED_TO_HANDSET' }, { messageId: 'm2', status: 'PENDING_ENROUTE' }],
      [{ messageId: 'm1', status: 'PENDING_ENROUTE' }, { messageId: 'm1', status: 'UNDELIVERABLE_NOT_DELIVERED' }],
      [{ messageId: 'm2', status: 'DELIVERED_TO_OPERATOR' }]
    ])
    const truth = new Map(fake.truth().map((t) => [t.messageId, t.status.name]))
    expect(truth).toEqual(new Map([['m1', 'DELIVERED_TO_HANDSET'], ['m2', 'DELIVERED_TO_OPERATOR']]))
  })

  it('a mode for a while, then refused connections, then ok again', async () => {
    fake.setModeFor({ kind: 'error', status: 503 }, 100, 100)
    expect(asError(await send('m1')).response?.status).toBe(503)
    const started = Date.now()
    let result: unknown = asError(await send('m2'))
    while (result instanceof Error && Date.now() - started < 2000) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      result = await send('m2')
    }
    expect(result).not.toBeInstanceOf(Error)
    expect(fake.sendRequests().some((r) => r.receivedAt - started >= 100)).toBe(true)
    expect(fake.acceptances.get('m2')).toBe(1)
  })

  it('serves the same over HTTP under /__control/, without the Infobip key', async () => {
    await send('m1', 'campaign #a#')
    await send('m2', 'campaign #b#')
    const truth = await control('GET', 'truth?text=%23b%23')
    expect(truth.status).toBe(200)
    expect((truth.body as { messages: Array<{ messageId: string }> }).messages.map((m) => m.messageId)).toEqual(['m2'])
    expect(await control('GET', 'requests')).toEqual({ status: 200, body: { sends: [expect.objectContaining({ destinations: 1 }), expect.objectContaining({ destinations: 1 })], lookups: [] } })
    expect(await control('POST', 'reports', { reports: [{ messageId: 'm1', status: 'EXPIRED' }] })).toEqual({ status: 200, body: { statuses: [200] } })
    expect(fake.logs.get('m1')!.status.name).toBe('EXPIRED_EXPIRED')

    expect((await control('POST', 'mode', { behaviour: { kind: 'error', status: 429, headers: { 'retry-after': '1' } } })).status).toBe(200)
    const limited = asError(await send('m3'))
    expect(limited.response?.status).toBe(429)
    expect(limited.response?.headers['retry-after']).toBe('1')

    expect(await control('POST', 'reset')).toEqual({ status: 200, body: { ok: true } })
    expect(fake.truth()).toEqual([])
    expect(await control('POST', 'mode', {})).toEqual({ status: 400, body: { error: 'behaviour is required' } })
    expect(await control('GET', 'nothing')).toEqual({ status: 404, body: { error: 'no control route GET nothing' } })
    // Control requests are not Infobip requests: nothing recorded.
    expect(fake.requests.filter((r) => r.path.startsWith('/__control'))).toEqual([])
  })

  it('has no control API unless asked for', async () => {
    const plain = await startFakeInfobip({ apiKey: 'k' })
    try {
      const response = await fetch(`${plain.url}/__control/truth`)
      expect(response.status).toBe(401)
    } finally {
      await plain.close()
    }
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
