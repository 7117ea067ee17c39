import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { getMessage, listMessages, postDeliveryReports, postSendSms, type SendSmsResponse } from '../support/api.js'
import { API_KEY, DAYTIME, TestClock, WEBHOOK_SECRET, startTestApp, type TestContext } from '../support/app.js'
import { LOGS_PATH, PENDING_ACCEPTED, type InfobipStatus, type RecordedRequest } from '../support/fake-infobip.js'

const NUMBER = '+14155552671'
const DIGITS = '14155552671'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const REJECTED: InfobipStatus = { groupId: 5, groupName: 'REJECTED', id: 6, name: 'REJECTED_NETWORK', description: 'Network is forbidden' }

interface SentMessage {
  destinations: Array<{ to: string, messageId: string }>
  text: string
  from?: string
  notifyUrl?: string
  notifyContentType?: string
}
interface SentBody { messages: SentMessage[], type?: string }

const transactional = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  destinationNumber: NUMBER,
  message: 'Your verification code is 123456',
  purpose: 'transactional',
  ...extra
})

async function messageCount (ctx: TestContext): Promise<number> {
  const { items } = await listMessages(ctx, '?limit=100')
  expect(items.length).toBeLessThan(100)
  return items.length
}

function sentBody (request: RecordedRequest | undefined): SentBody {
  expect(request).toBeDefined()
  return request!.body as SentBody
}

function messageIdsOf (requests: RecordedRequest[]): string[] {
  return requests.flatMap((r) => sentBody(r).messages.flatMap((m) => m.destinations.map((d) => d.messageId)))
}

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor<T> (probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(20)
  }
}

describe('POST /send-sms through the fake Infobip', () => {
  let ctx: TestContext

  beforeAll(async () => {
    // A high rate limit: this block makes many requests with one key.
    ctx = await startTestApp({ env: { RATE_LIMIT_MAX: '10000' } })
  })
  afterAll(async () => { await ctx.close() })
  beforeEach(() => { ctx.fake.reset() })

  it('answers 202 for a PENDING status with the contract body and Infobip\'s real response', async () => {
    const response = await postSendSms(ctx, transactional())
    expect(response.statusCode).toBe(202)
    const body = response.json() as SendSmsResponse
    expect(body).toEqual({
      message: 'SMS accepted for delivery.',
      id: expect.stringMatching(UUID),
      status: 'accepted',
      to: NUMBER,
      segments: 1,
      encoding: 'GSM-7',
      infobipResponse: {
        bulkId: expect.stringMatching(UUID),
        messages: [{ to: DIGITS, messageId: body.id, status: PENDING_ACCEPTED }]
      }
    })

    // What Infobip received: the number without '+', our id as messageId, the text, the API key; no from, no notifyUrl.
    const requests = ctx.fake.sendRequests()
    expect(requests).toHaveLength(1)
    expect(requests[0]!.headers.authorization).toBe(`App ${ctx.fake.apiKey}`)
    expect(sentBody(requests[0])).toEqual({
      type: 'text',
      messages: [{ destinations: [{ to: DIGITS, messageId: body.id }], text: 'Your verification code is 123456' }]
    })

    const record = await getMessage(ctx, body.id)
    expect(record).toMatchObject({
      id: body.id,
      to: NUMBER,
      text: 'Your verification code is 123456',
      purpose: 'transactional',
      status: 'accepted',
      infobipMessageId: body.id,
      bulkId: body.infobipResponse.bulkId,
      providerStatus: 'PENDING_ACCEPTED',
      error: null,
      segments: 1,
      encoding: 'GSM-7'
    })
    expect(record.sentAt).not.toBeNull()

    // The bulkId is the one Infobip generated for this request, not a constant.
    const second = (await postSendSms(ctx, transactional())).json() as SendSmsResponse
    expect(second.infobipResponse.bulkId).toMatch(UUID)
    expect(second.infobipResponse.bulkId).not.toBe(body.infobipResponse.bulkId)
    expect(second.id).not.toBe(body.id)
  })

  it('answers 200 with the processed message when Infobip answers a non-PENDING status', async () => {
    ctx.fake.enqueue({ kind: 'ok', status: REJECTED })
    const response = await postSendSms(ctx, transactional())
    expect(response.statusCode).toBe(200)
    const body = response.json() as SendSmsResponse
    expect(body).toEqual({
      message: 'SMS processed by Infobip, check response status details.',
      id: expect.stringMatching(UUID),
      status: 'rejected',
      to: NUMBER,
      segments: 1,
      encoding: 'GSM-7',
      infobipResponse: { bulkId: expect.stringMatching(UUID), messages: [{ to: DIGITS, messageId: body.id, status: REJECTED }] }
    })
    expect(ctx.fake.sendRequests()).toHaveLength(1)
    expect(await getMessage(ctx, body.id)).toMatchObject({ status: 'rejected', providerStatus: 'REJECTED_NETWORK' })
  })

  it.each([
    ['AcmeShop', 202], ['Acme & Co', 202], ['A', 202], ['12345', 202], ['+14155550100', 202], ['ACME-Shop_1', 202],
    ['AcmeShopping', 400], ['Acme<b>', 400], [' Acme', 400], ['Acme ', 400], ['Café', 400], ['+1234567890123456', 400], ['', 400]
  ])('senderId %j → %i', async (senderId, status) => {
    const response = await postSendSms(ctx, transactional({ senderId }))
    expect(response.statusCode, response.body).toBe(status)
    if (status === 400) expect(response.json()).toMatchObject({ code: 'FST_ERR_VALIDATION' })
  })

  it('sends the request\'s senderId as from', async () => {
    const response = await postSendSms(ctx, transactional({ senderId: 'AcmeShop' }))
    expect(response.statusCode).toBe(202)
    const { id } = response.json() as SendSmsResponse
    expect(sentBody(ctx.fake.sendRequests()[0]).messages).toEqual([
      { destinations: [{ to: DIGITS, messageId: id }], from: 'AcmeShop', text: 'Your verification code is 123456' }
    ])
    expect((await getMessage(ctx, id)).senderId).toBe('AcmeShop')
  })

  it('refuses marketing (the default purpose) without recorded consent, sending nothing', async () => {
    const refused = await postSendSms(ctx, { destinationNumber: NUMBER, message: 'Big sale today' })
    expect(refused.statusCode).toBe(422)
    expect(refused.json()).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity', code: 'NO_CONSENT' })
    expect(ctx.fake.sendRequests()).toHaveLength(0)
  })

  it.each([
    ['14155552671', 'no leading +'],
    ['+1 (415) 555-2671', 'spaces, brackets and dashes']
  ])('normalises %j (%s) to E.164', async (input) => {
    const response = await postSendSms(ctx, transactional({ destinationNumber: input }))
    expect(response.statusCode).toBe(202)
    const body = response.json() as SendSmsResponse
    expect(body.to).toBe(NUMBER)
    expect(sentBody(ctx.fake.sendRequests()[0]).messages[0]!.destinations).toEqual([{ to: DIGITS, messageId: body.id }])
    expect((await getMessage(ctx, body.id)).to).toBe(NUMBER)
  })

  it('accepts a message of exactly 1600 characters', async () => {
    const text = 'a'.repeat(1600)
    const response = await postSendSms(ctx, transactional({ message: text }))
    expect(response.statusCode).toBe(202)
    expect(response.json()).toMatchObject({ segments: 11, encoding: 'GSM-7' })
    expect(sentBody(ctx.fake.sendRequests()[0]).messages[0]!.text).toBe(text)
  })

  it('records the message before Infobip is called', async () => {
    ctx.fake.enqueue({ kind: 'delay', ms: 1000, then: { kind: 'ok' } })
    const pending = postSendSms(ctx, transactional())
    const request = await waitFor(() => ctx.fake.sendRequests()[0])
    const [id] = messageIdsOf([request])
    expect((await getMessage(ctx, id!)).status).toBe('sending')
    const response = await pending
    expect(response.statusCode).toBe(202)
    expect((await getMessage(ctx, id!)).status).toBe('accepted')
  })

  describe('400: invalid requests record nothing and send nothing', () => {
    const cases: Array<[string, object, string, string]> = [
      ['a number that is not a real number', transactional({ destinationNumber: '+1 000 000 0000' }), 'INVALID_PHONE_NUMBER', 'destinationNumber is not a valid phone number for its country'],
      ['a number with too few digits', transactional({ destinationNumber: '+12' }), 'INVALID_PHONE_NUMBER', 'destinationNumber has only 2 digits, too few for an international number'],
      ['letters in the number', transactional({ destinationNumber: '+1415555ABCD' }), 'INVALID_PHONE_NUMBER', 'destinationNumber contains letters ("ABCD"): write the number in digits, with + and the country code'],
      ['an extension', transactional({ destinationNumber: '+1 415 555 2671 ext. 3' }), 'INVALID_PHONE_NUMBER', 'destinationNumber has an extension ("ext. 3"): a text message reaches the line itself; leave the extension out'],
      ['a short code', transactional({ destinationNumber: '72727' }), 'INVALID_PHONE_NUMBER', 'destinationNumber has only 5 digits: short codes and incomplete numbers cannot be used; write the full number with + and the country code'],
      ['an empty number', transactional({ destinationNumber: '' }), 'FST_ERR_VALIDATION', 'body/destinationNumber must NOT have fewer than 1 characters'],
      ['a number longer than 32 characters', transactional({ destinationNumber: '+'.padEnd(33, '1') }), 'FST_ERR_VALIDATION', 'body/destinationNumber must NOT have more than 32 characters'],
      ['a missing number', { message: 'hello', purpose: 'transactional' }, 'FST_ERR_VALIDATION', "body must have required property 'destinationNumber'"],
      ['an empty message', transactional({ message: '' }), 'FST_ERR_VALIDATION', 'body/message must NOT have fewer than 1 characters'],
      ['a 1601-character message', transactional({ message: 'a'.repeat(1601) }), 'FST_ERR_VALIDATION', 'body/message must NOT have more than 1600 characters'],
      ['an extra property', transactional({ priority: 'high' }), 'FST_ERR_VALIDATION', 'body must NOT have additional properties'],
      ['a wrong purpose', transactional({ purpose: 'promotional' }), 'FST_ERR_VALIDATION', 'body/purpose must be equal to constant, body/purpose must be equal to constant, body/purpose must match a schema in anyOf']
    ]

    it.each(cases)('%s', async (_name, payload, code, message) => {
      const before = await messageCount(ctx)
      const response = await postSendSms(ctx, payload)
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual({ statusCode: 400, error: 'Bad Request', message, code })
      expect(ctx.fake.sendRequests()).toHaveLength(0)
      expect(await messageCount(ctx)).toBe(before)
    })

    it('malformed JSON', async () => {
      const before = await messageCount(ctx)
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/send-sms',
        headers: { ...ctx.headers, 'content-type': 'application/json' },
        payload: '{"destinationNumber": "+14155552671", "message": '
      })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: "Body is not valid JSON but content-type is set to 'application/json'",
        code: 'FST_ERR_CTP_INVALID_JSON_BODY'
      })
      expect(ctx.fake.sendRequests()).toHaveLength(0)
      expect(await messageCount(ctx)).toBe(before)
    })
  })

  describe('401 without a valid x-api-key', () => {
    const unauthorized = { statusCode: 401, error: 'Unauthorized', message: 'A valid x-api-key header is required', code: 'UNAUTHORIZED' }

    it.each([
      ['no key', {}],
      ['a wrong key', { 'x-api-key': 'not-the-key' }],
      ['an empty key', { 'x-api-key': '' }],
      ['the key with a different case', { 'x-api-key': API_KEY.toUpperCase() }]
    ])('%s', async (_name, headers: Record<string, string>) => {
      const before = await messageCount(ctx)
      const response = await postSendSms(ctx, transactional(), headers)
      expect(response.statusCode).toBe(401)
      expect(response.json()).toEqual(unauthorized)
      expect(ctx.fake.sendRequests()).toHaveLength(0)
      expect(await messageCount(ctx)).toBe(before)
    })

    it('other API routes need the key too, open routes do not', async () => {
      for (const url of ['/messages', '/contacts']) {
        const response = await ctx.app.inject({ method: 'GET', url })
        expect(response.statusCode).toBe(401)
        expect(response.json()).toEqual(unauthorized)
      }
      const preview = await ctx.app.inject({ method: 'POST', url: '/sms/preview', payload: { message: 'hi' } })
      expect(preview.statusCode).toBe(401)
      for (const url of ['/health', '/health/ready', '/metrics', '/docs/json']) {
        expect((await ctx.app.inject({ method: 'GET', url })).statusCode).toBe(200)
      }
    })
  })

  describe('provider failures', () => {
    it('retries 503s and succeeds, sending the same messageId each time', async () => {
      ctx.fake.enqueue({ kind: 'error', status: 503 }, { kind: 'error', status: 503 })
      const response = await postSendSms(ctx, transactional())
      expect(response.statusCode).toBe(202)
      const body = response.json() as SendSmsResponse
      const requests = ctx.fake.sendRequests()
      expect(requests).toHaveLength(3)
      expect(messageIdsOf(requests)).toEqual([body.id, body.id, body.id])
      expect(body.infobipResponse.messages[0]!.messageId).toBe(body.id)
      expect((await getMessage(ctx, body.id)).status).toBe('accepted')
    })

    it('does not retry a 400: 502 PROVIDER_ERROR and the message is recorded as failed', async () => {
      ctx.fake.enqueue({ kind: 'error', status: 400, messageId: 'BAD_REQUEST', text: 'Invalid destination address' })
      const response = await postSendSms(ctx, transactional())
      expect(response.statusCode).toBe(502)
      const requests = ctx.fake.sendRequests()
      expect(requests).toHaveLength(1)
      const [id] = messageIdsOf(requests)
      expect(response.json()).toEqual({
        statusCode: 502,
        error: 'Bad Gateway',
        message: 'Infobip answered 400: Invalid destination address',
        code: 'PROVIDER_ERROR',
        providerStatus: 400,
        providerCode: 'BAD_REQUEST',
        outcome: 'not-sent',
        messageId: id
      })
      const record = await getMessage(ctx, id!)
      expect(record).toMatchObject({
        id,
        to: NUMBER,
        status: 'failed',
        infobipMessageId: null,
        bulkId: null,
        error: { code: 'PROVIDER_ERROR', name: 'BAD_REQUEST', description: 'Infobip answered 400: Invalid destination address', permanent: true }
      })
    })

    it('does not retry a 401 from Infobip (wrong account key)', async () => {
      ctx.fake.enqueue({ kind: 'error', status: 401 })
      const response = await postSendSms(ctx, transactional())
      expect(response.statusCode).toBe(502)
      expect(response.json()).toMatchObject({ code: 'PROVIDER_ERROR', providerStatus: 401, providerCode: 'UNAUTHORIZED' })
      expect(ctx.fake.sendRequests()).toHaveLength(1)
    })

    it('gives up after RETRY_ATTEMPTS retries: 502 and the message failed (not permanent)', async () => {
      // Infobip's own 503 proves nothing was accepted, so it is retried (a 500 would be looked up instead).
      ctx.fake.enqueue(...Array.from({ length: 4 }, () => ({ kind: 'error' as const, status: 503 })))
      const response = await postSendSms(ctx, transactional())
      expect(response.statusCode).toBe(502)
      const requests = ctx.fake.sendRequests()
      expect(requests).toHaveLength(1 + ctx.config.provider.retry.retries)
      expect(requests).toHaveLength(4)
      const ids = messageIdsOf(requests)
      expect(new Set(ids).size).toBe(1)
      expect(response.json()).toEqual({
        statusCode: 502,
        error: 'Bad Gateway',
        message: 'Infobip answered 503: Something went wrong. Please contact support.',
        code: 'PROVIDER_ERROR',
        providerStatus: 503,
        providerCode: 'GENERAL_ERROR',
        outcome: 'not-sent',
        messageId: ids[0]
      })
      expect(await getMessage(ctx, ids[0]!)).toMatchObject({ status: 'failed', error: { code: 'PROVIDER_ERROR', name: 'GENERAL_ERROR', permanent: false } })
    })

    it('a connection reset after Infobip took the message is looked up, not re-sent: one SMS, recorded accepted', async () => {
      ctx.fake.enqueue({ kind: 'reset', accept: true })
      const response = await postSendSms(ctx, transactional())
      expect(response.statusCode, response.body).toBe(202)
      const body = response.json() as SendSmsResponse
      expect(ctx.fake.sendRequests()).toHaveLength(1)
      expect(ctx.fake.acceptances.get(body.id)).toBe(1)
      expect(ctx.fake.logRequests()).toHaveLength(1)
      expect(await getMessage(ctx, body.id)).toMatchObject({ status: 'accepted', providerStatus: 'PENDING_ACCEPTED' })
    })
  })

  describe('POST /sms/preview', () => {
    async function preview (payload: Record<string, unknown>): Promise<Record<string, unknown>> {
      const response = await ctx.app.inject({ method: 'POST', url: '/sms/preview', headers: ctx.headers, payload })
      expect(response.statusCode).toBe(200)
      return response.json()
    }

    it('counts a GSM-7 transactional text without a footer', async () => {
      expect(await preview({ message: 'Hello there', purpose: 'transactional' })).toEqual({
        encoding: 'GSM-7',
        segments: 1,
        characters: 11,
        perSegment: 160,
        remainingInSegment: 149,
        nonGsmCharacters: [],
        text: 'Hello there',
        footerApplied: false,
        smartEncoding: { encoding: 'GSM-7', segments: 1, characters: 11, perSegment: 160, remainingInSegment: 149, text: 'Hello there', segmentsSaved: 0 }
      })
    })

    it('applies the opt-out footer to marketing (the default purpose)', async () => {
      const result = await preview({ message: 'Big sale today' })
      expect(result).toMatchObject({
        text: 'Big sale today\nReply STOP to opt out.',
        footerApplied: true,
        encoding: 'GSM-7',
        segments: 1,
        characters: 37,
        remainingInSegment: 123
      })
      expect(await preview({ message: 'Big sale today', purpose: 'marketing' })).toEqual(result)
      // Text that already says how to opt out gets no footer.
      expect(await preview({ message: 'Big sale today. Text STOP to end.' })).toMatchObject({ text: 'Big sale today. Text STOP to end.', footerApplied: false })
    })

    it('switches to UCS-2 for characters outside GSM-7', async () => {
      expect(await preview({ message: 'Hello 😀', purpose: 'transactional' })).toMatchObject({
        encoding: 'UCS-2',
        segments: 1,
        characters: 7,
        perSegment: 70,
        remainingInSegment: 62,
        nonGsmCharacters: ['😀'],
        smartEncoding: { encoding: 'UCS-2', segments: 1, segmentsSaved: 0 }
      })
    })

    it('counts concatenated segments and extension characters', async () => {
      expect(await preview({ message: 'a'.repeat(161), purpose: 'transactional' })).toMatchObject({ encoding: 'GSM-7', segments: 2, characters: 161, perSegment: 153, remainingInSegment: 145 })
      expect(await preview({ message: '€'.repeat(80), purpose: 'transactional' })).toMatchObject({ encoding: 'GSM-7', segments: 1, characters: 80, perSegment: 160, remainingInSegment: 0 })
      expect(await preview({ message: '€'.repeat(81), purpose: 'transactional' })).toMatchObject({ encoding: 'GSM-7', segments: 2, characters: 81, perSegment: 153 })
      expect(await preview({ message: 'я'.repeat(71), purpose: 'transactional' })).toMatchObject({ encoding: 'UCS-2', segments: 2, characters: 71, perSegment: 67, remainingInSegment: 63 })
    })

    it('reports what smart encoding saves', async () => {
      const text = `${'x'.repeat(100)}\u2019`
      expect(await preview({ message: text, purpose: 'transactional' })).toEqual({
        encoding: 'UCS-2',
        segments: 2,
        characters: 101,
        perSegment: 67,
        remainingInSegment: 33,
        nonGsmCharacters: ['\u2019'],
        text,
        footerApplied: false,
        smartEncoding: { encoding: 'GSM-7', segments: 1, characters: 101, perSegment: 160, remainingInSegment: 59, text: `${'x'.repeat(100)}'`, segmentsSaved: 1 }
      })
    })

    it('validates its body and sends nothing', async () => {
      for (const [payload, message] of [
        [{ message: '' }, 'body/message must NOT have fewer than 1 characters'],
        [{ message: 'a'.repeat(1601) }, 'body/message must NOT have more than 1600 characters'],
        [{ message: 'hi', extra: true }, 'body must NOT have additional properties']
      ] as const) {
        const response = await ctx.app.inject({ method: 'POST', url: '/sms/preview', headers: ctx.headers, payload })
        expect(response.statusCode).toBe(400)
        expect(response.json()).toEqual({ statusCode: 400, error: 'Bad Request', message, code: 'FST_ERR_VALIDATION' })
      }
      expect(ctx.fake.sendRequests()).toHaveLength(0)
    })
  })
})

describe('POST /send-sms with PUBLIC_BASE_URL, INFOBIP_SENDER_ID and a small body limit', () => {
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({
      env: { PUBLIC_BASE_URL: 'https://sms.example.com/', INFOBIP_SENDER_ID: 'AcmeCo', BODY_LIMIT_BYTES: '2048', LOG_LEVEL: 'debug', MARKETING_CONSENT_REQUIRED: 'false' }
    })
  })
  afterAll(async () => { await ctx.close() })
  beforeEach(() => { ctx.fake.reset() })

  it('sends notifyUrl with the webhook secret and the default sender', async () => {
    const response = await postSendSms(ctx, transactional())
    expect(response.statusCode).toBe(202)
    const { id } = response.json() as SendSmsResponse
    expect(sentBody(ctx.fake.sendRequests()[0])).toEqual({
      type: 'text',
      messages: [{
        destinations: [{ to: DIGITS, messageId: id }],
        from: 'AcmeCo',
        text: 'Your verification code is 123456',
        notifyUrl: `https://sms.example.com/webhooks/infobip/delivery-reports?token=${WEBHOOK_SECRET}`,
        notifyContentType: 'application/json'
      }]
    })
    expect((await getMessage(ctx, id)).senderId).toBe('AcmeCo')
  })

  it('sends marketing (the default purpose) with the opt-out footer when consent is not required', async () => {
    const response = await postSendSms(ctx, { destinationNumber: NUMBER, message: 'Big sale today' })
    expect(response.statusCode).toBe(202)
    const { id } = response.json() as SendSmsResponse
    expect(sentBody(ctx.fake.sendRequests()[0]).messages[0]!.text).toBe('Big sale today\nReply STOP to opt out.')
    expect(await getMessage(ctx, id)).toMatchObject({ purpose: 'marketing', text: 'Big sale today\nReply STOP to opt out.' })
  })

  it('a senderId in the request overrides INFOBIP_SENDER_ID', async () => {
    const response = await postSendSms(ctx, transactional({ senderId: '15550001111' }))
    expect(response.statusCode).toBe(202)
    expect(sentBody(ctx.fake.sendRequests()[0]).messages[0]!.from).toBe('15550001111')
  })

  it('answers 413 for a body over BODY_LIMIT_BYTES, recording and sending nothing', async () => {
    const before = await messageCount(ctx)
    const response = await postSendSms(ctx, transactional({ message: 'a'.repeat(1500), senderId: 'b'.repeat(600) }))
    expect(response.statusCode).toBe(413)
    expect(response.json()).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'Request body is too large', code: 'FST_ERR_CTP_BODY_TOO_LARGE' })
    expect(ctx.fake.sendRequests()).toHaveLength(0)
    expect(await messageCount(ctx)).toBe(before)
    // Just under the limit is fine.
    expect((await postSendSms(ctx, transactional({ message: 'a'.repeat(1600) }))).statusCode).toBe(202)
  })

  it('never logs the Infobip key, the x-api-key, the webhook secret or a full destination number', async () => {
    ctx.logs.length = 0
    // A run with failures of every kind, plus requests that carry secrets and numbers in the URL.
    ctx.fake.enqueue({ kind: 'error', status: 400 })
    expect((await postSendSms(ctx, transactional())).statusCode).toBe(502)
    ctx.fake.enqueue({ kind: 'error', status: 503 }, { kind: 'error', status: 408 }, { kind: 'error', status: 429, headers: { 'Retry-After': '0' } })
    const accepted = await postSendSms(ctx, transactional())
    expect(accepted.statusCode).toBe(202)
    ctx.fake.enqueue({ kind: 'error', status: 401 })
    expect((await postSendSms(ctx, transactional({ destinationNumber: DIGITS }))).statusCode).toBe(502)
    expect((await postSendSms(ctx, transactional(), { 'x-api-key': `${API_KEY}-wrong` })).statusCode).toBe(401)
    await listMessages(ctx, `?to=${encodeURIComponent(NUMBER)}`)
    await listMessages(ctx, `?to=${DIGITS}`)
    const { id } = accepted.json() as SendSmsResponse
    await postDeliveryReports(ctx, [{ messageId: id, to: DIGITS }])
    expect((await ctx.app.inject({ method: 'POST', url: '/webhooks/infobip/delivery-reports?token=wrong-token-123', payload: { results: [] } })).statusCode).toBe(401)

    // The run did log: request lines, retries and failures, with masked numbers.
    const text = ctx.logs.join('')
    expect(text).toContain('Infobip request failed, retrying')
    expect(text).toContain('Send failed')
    expect(text).toContain('2671')
    expect(text).toContain('token=[REDACTED]')
    expect(ctx.logs.length).toBeGreaterThan(20)

    for (const line of ctx.logs) {
      expect(line).not.toContain(ctx.fake.apiKey)
      expect(line).not.toContain(API_KEY)
      expect(line).not.toContain(WEBHOOK_SECRET)
      expect(line).not.toContain(DIGITS)
      expect(line).not.toContain('4155552671')
      expect(line).not.toMatch(/"stack"/)
    }
  })
})

describe('POST /send-sms rate limit', () => {
  const KEY_A = 'rate-key-a-0123456789'
  const KEY_B = 'rate-key-b-0123456789'
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({ env: { RATE_LIMIT_MAX: '3', API_KEYS: `${KEY_A},${KEY_B}` } })
  })
  afterAll(async () => { await ctx.close() })

  it('answers 429 RATE_LIMITED after RATE_LIMIT_MAX requests, per API key', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await postSendSms(ctx, transactional(), { 'x-api-key': KEY_A })
      expect(response.statusCode).toBe(202)
    }
    expect(ctx.fake.sendRequests()).toHaveLength(3)
    const limited = await postSendSms(ctx, transactional(), { 'x-api-key': KEY_A })
    expect(limited.statusCode).toBe(429)
    expect(limited.json()).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Rate limit exceeded: at most 3 requests per 1 minute; retry in 1 minute',
      code: 'RATE_LIMITED'
    })
    expect(ctx.fake.sendRequests()).toHaveLength(3)
    // Other routes share the key's bucket.
    expect((await ctx.app.inject({ method: 'GET', url: '/messages', headers: { 'x-api-key': KEY_A } })).statusCode).toBe(429)

    // Another key has its own bucket.
    const other = await postSendSms(ctx, transactional(), { 'x-api-key': KEY_B })
    expect(other.statusCode).toBe(202)
    expect(ctx.fake.sendRequests()).toHaveLength(4)
    // Health is never rate limited.
    for (let i = 0; i < 5; i++) expect((await ctx.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
  })

  it('counts guessed keys too: made-up keys from one address share its bucket and get 429 after RATE_LIMIT_MAX, never reaching the route', async () => {
    const before = ctx.fake.sendRequests().length
    const guesses = []
    for (let i = 0; i < 6; i++) guesses.push((await ctx.app.inject({ method: 'POST', url: '/send-sms', remoteAddress: '198.51.100.7', headers: { 'x-api-key': `guess-${i}-0123456789` }, payload: transactional() })).statusCode)
    expect(guesses).toEqual([401, 401, 401, 429, 429, 429])
    // A valid key from the same address keeps its own bucket.
    expect((await ctx.app.inject({ method: 'POST', url: '/send-sms', remoteAddress: '198.51.100.7', headers: { 'x-api-key': KEY_B }, payload: transactional() })).statusCode).toBe(202)
    expect(ctx.fake.sendRequests().length).toBe(before + 1)
  })
})

describe('POST /send-sms honours Retry-After', () => {
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({ env: { RETRY_MAX_DELAY_MS: '300', RETRY_AFTER_MAX_MS: '5000' } })
  })
  afterAll(async () => { await ctx.close() })
  beforeEach(() => { ctx.fake.reset() })

  it('waits Retry-After seconds before the retry, whatever RETRY_MAX_DELAY_MS says', async () => {
    ctx.fake.enqueue({ kind: 'error', status: 429, headers: { 'Retry-After': '1' } })
    const response = await postSendSms(ctx, transactional())
    expect(response.statusCode).toBe(202)
    const requests = ctx.fake.sendRequests()
    expect(requests).toHaveLength(2)
    const gap = requests[1]!.receivedAt - requests[0]!.receivedAt
    expect(gap).toBeGreaterThanOrEqual(990)
    expect(gap).toBeLessThan(5000)
    const { id } = response.json() as SendSmsResponse
    expect(messageIdsOf(requests)).toEqual([id, id])
  })

  it('a Retry-After beyond RETRY_AFTER_MAX_MS answers 503 with a Retry-After header at once, and holds every send', async () => {
    ctx.fake.enqueue({ kind: 'error', status: 429, headers: { 'Retry-After': '30' } })
    const started = Date.now()
    const response = await postSendSms(ctx, transactional())
    expect(Date.now() - started).toBeLessThan(1000)
    expect(response.statusCode).toBe(503)
    expect(response.headers['retry-after']).toBe('30')
    const body = response.json() as { messageId: string }
    expect(body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Infobip asked to wait 30 s before the next request (Retry-After); sending is paused until then',
      code: 'PROVIDER_UNAVAILABLE',
      messageId: body.messageId
    })
    expect(await getMessage(ctx, body.messageId)).toMatchObject({ status: 'failed', error: { code: 'PROVIDER_UNAVAILABLE' } })

    const next = await postSendSms(ctx, transactional())
    expect(next.statusCode).toBe(503)
    expect(Number(next.headers['retry-after'])).toBeGreaterThanOrEqual(29)
    expect(ctx.fake.sendRequests()).toHaveLength(1)
  })
})

describe('POST /send-sms when Infobip does not answer', () => {
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({ env: { INFOBIP_TIMEOUT_MS: '300', RETRY_ATTEMPTS: '0' }, clock: new TestClock(DAYTIME, true) })
  })
  afterAll(async () => { await ctx.close() })
  beforeEach(() => { ctx.fake.reset() })

  it('a timeout is never retried blind: the id is looked up, and only after the settle delay re-sent with the same id', async () => {
    await ctx.restart({ INFOBIP_TIMEOUT_MS: '300', RETRY_ATTEMPTS: '0', OUTCOME_SETTLE_MS: '600' })
    ctx.fake.enqueue({ kind: 'hang' })
    const started = Date.now()
    const response = await postSendSms(ctx, transactional())
    const elapsed = Date.now() - started
    expect(response.statusCode, response.body).toBe(202)
    const requests = ctx.fake.sendRequests()
    expect(requests, JSON.stringify(ctx.fake.requests.map((r) => [r.path, r.receivedAt]))).toHaveLength(2)
    const ids = messageIdsOf(requests)
    expect(ids[0]).toBe(ids[1])
    // Looked up in Infobip's logs before the re-send (the hung request left no trace there).
    const lookups = ctx.fake.requests.filter((r) => r.path === LOGS_PATH)
    expect(lookups.length).toBeGreaterThanOrEqual(1)
    expect(lookups[0]!.receivedAt).toBeLessThan(requests[1]!.receivedAt)
    expect(requests[1]!.receivedAt - requests[0]!.receivedAt).toBeGreaterThanOrEqual(600)
    expect(elapsed).toBeGreaterThanOrEqual(900)
    expect(await getMessage(ctx, ids[0]!)).toMatchObject({ status: 'accepted', providerStatus: 'PENDING_ACCEPTED' })
  })

  it('even with retries, a timeout while Infobip accepted the message is looked up, never re-sent: one SMS', async () => {
    await ctx.restart({ INFOBIP_TIMEOUT_MS: '300', RETRY_ATTEMPTS: '2', OUTCOME_SETTLE_MS: '600' })
    ctx.fake.enqueue({ kind: 'slow', ms: 600 })
    const response = await postSendSms(ctx, transactional())
    expect(response.statusCode, response.body).toBe(202)
    const body = response.json() as SendSmsResponse
    expect(ctx.fake.sendRequests()).toHaveLength(1)
    expect(ctx.fake.acceptances.get(body.id)).toBe(1)
    expect(ctx.fake.logRequests().length).toBeGreaterThanOrEqual(1)
    expect(await getMessage(ctx, body.id)).toMatchObject({ status: 'accepted', providerStatus: 'PENDING_ACCEPTED' })
  })
})

describe('POST /send-sms when the circuit opens', () => {
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({ env: { CIRCUIT_VOLUME_THRESHOLD: '2', RETRY_ATTEMPTS: '0' } })
  })
  afterAll(async () => { await ctx.close() })

  it('stops calling Infobip and answers 503 PROVIDER_UNAVAILABLE', async () => {
    ctx.fake.setDefault({ kind: 'error', status: 503 })
    const ready = async (): Promise<unknown> => (await ctx.app.inject({ method: 'GET', url: '/health/ready' })).json()
    expect(await ready()).toEqual({ status: 'ok', checks: { database: 'ok', provider: 'closed', dispatcher: 'running', shuttingDown: false } })

    const failed = await postSendSms(ctx, transactional())
    expect(failed.statusCode).toBe(502)
    expect(failed.json()).toMatchObject({ code: 'PROVIDER_ERROR', providerStatus: 503, outcome: 'not-sent' })
    // The failure that opens the circuit is answered like the open circuit: nothing was sent.
    const opening = await postSendSms(ctx, transactional())
    expect(opening.statusCode).toBe(503)
    expect(opening.json()).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' })
    expect(ctx.fake.sendRequests()).toHaveLength(2)

    const readiness = await ctx.app.inject({ method: 'GET', url: '/health/ready' })
    expect(readiness.statusCode).toBe(200)
    expect(readiness.json()).toEqual({ status: 'ok', checks: { database: 'ok', provider: 'open', dispatcher: 'running', shuttingDown: false } })

    const refused = await postSendSms(ctx, transactional())
    expect(refused.statusCode).toBe(503)
    // Until the circuit's one probe (CIRCUIT_RESET_MS, 10 s by default).
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(9)
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(10)
    const refusedBody = refused.json() as { messageId: string }
    expect(refusedBody).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Infobip is unavailable; sending is paused until it recovers',
      code: 'PROVIDER_UNAVAILABLE',
      messageId: refusedBody.messageId
    })
    // The refused attempt was recorded and can be looked up by the id the error names.
    expect(await getMessage(ctx, refusedBody.messageId)).toMatchObject({ status: 'failed', error: { code: 'PROVIDER_UNAVAILABLE' } })
    // Even once Infobip is fine again, the open circuit keeps requests away from it.
    ctx.fake.setDefault({ kind: 'ok' })
    expect((await postSendSms(ctx, transactional())).statusCode).toBe(503)
    expect(ctx.fake.sendRequests()).toHaveLength(2)

    // Every attempt was recorded, and the refused ones say why.
    const { items } = await listMessages(ctx, '?status=failed')
    expect(items).toHaveLength(4)
    expect(items.filter((m) => m.error?.code === 'PROVIDER_UNAVAILABLE')).toHaveLength(3)
    expect(items.filter((m) => m.error?.code === 'PROVIDER_ERROR')).toHaveLength(1)

    const metrics = await ctx.app.inject({ method: 'GET', url: '/metrics' })
    expect(metrics.body).toMatch(/^sms_provider_circuit_state 2$/m)
  })
})

describe('POST /send-sms on the sandbox transport', () => {
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({ sandbox: true })
  })
  afterAll(async () => { await ctx.close() })

  it('accepts with 202 and reports the message delivered shortly after', async () => {
    expect(ctx.config.infobip).toBeNull()
    expect(ctx.logs.join('')).toContain('SANDBOX transport')
    const response = await postSendSms(ctx, transactional())
    expect(response.statusCode).toBe(202)
    const body = response.json() as SendSmsResponse
    expect(body).toMatchObject({
      message: 'SMS accepted for delivery.',
      status: 'accepted',
      to: NUMBER,
      infobipResponse: { bulkId: expect.stringMatching(/^sandbox-/), messages: [{ to: DIGITS, messageId: body.id, status: { groupName: 'PENDING' } }] }
    })
    const started = Date.now()
    const delivered = await waitFor(async () => {
      const record = await getMessage(ctx, body.id)
      return record.status === 'delivered' ? record : undefined
    }, 1500)
    expect(Date.now() - started).toBeLessThan(1500)
    expect(delivered.doneAt).not.toBeNull()
    expect(ctx.fake.requests).toHaveLength(0)
  })

  it('simulates an undeliverable report for numbers ending in 0000', async () => {
    const response = await postSendSms(ctx, transactional({ destinationNumber: '+14155550000' }))
    expect(response.statusCode).toBe(202)
    const { id } = response.json() as SendSmsResponse
    const record = await waitFor(async () => {
      const current = await getMessage(ctx, id)
      return current.status === 'accepted' ? undefined : current
    }, 1500)
    expect(record).toMatchObject({ status: 'undeliverable', error: { name: 'EC_UNKNOWN_SUBSCRIBER', permanent: true } })
  })
})
