import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/database.js'
import { newId } from '../../src/domain/ids.js'
import {
  DELIVERY_REPORTS_PATH as REPORTS, getMessage, listMessages, numberSequence, postDeliveryReports, sendAccepted, sendSms, withToken
} from '../support/api.js'
import { API_KEY, DAYTIME, startTestApp, WEBHOOK_SECRET, type TestContext } from '../support/app.js'
import { deliveryReportBody } from '../support/fake-infobip.js'

const TOKEN_URL = withToken(REPORTS)
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`

const sendOne = async (ctx: TestContext, to: string): Promise<string> => (await sendAccepted(ctx, to, 'Your order has shipped.')).id

async function waitFor<T> (probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (done(value)) return value
    if (Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('POST /webhooks/infobip/delivery-reports', () => {
  let ctx: TestContext
  /** A fresh, valid US number per message, so tests never see each other's messages. */
  const nextNumber = numberSequence('+1415555', 2000)

  beforeAll(async () => {
    ctx = await startTestApp({ env: { RATE_LIMIT_MAX: '100000' } })
  })
  afterAll(async () => {
    await ctx?.close()
  })
  beforeEach(() => {
    ctx.fake.reset()
  })
  afterEach(() => {
    ctx.clock.set(DAYTIME)
  })

  describe('authentication', () => {
    const refused: Array<[label: string, url: string, headers: Record<string, string>]> = [
      ['no token at all', REPORTS, {}],
      ['an empty token', `${REPORTS}?token=`, {}],
      ['a wrong token', `${REPORTS}?token=wrong-secret-0123456789abcdef`, {}],
      ['the secret with a character missing', withToken(REPORTS, WEBHOOK_SECRET.slice(0, -1)), {}],
      ['the secret with a character added', withToken(REPORTS, `${WEBHOOK_SECRET}x`), {}],
      ['a wrong Basic password', REPORTS, { authorization: basic('infobip', 'not-the-secret') }],
      ['the secret as the Basic user name', REPORTS, { authorization: basic(WEBHOOK_SECRET, 'nope') }],
      ['Basic without a colon', REPORTS, { authorization: `Basic ${Buffer.from(WEBHOOK_SECRET).toString('base64')}` }],
      ['the secret as a Bearer token', REPORTS, { authorization: `Bearer ${WEBHOOK_SECRET}` }],
      ['the secret as x-api-key', REPORTS, { 'x-api-key': WEBHOOK_SECRET }],
      ['the API key instead of the secret', withToken(REPORTS, API_KEY), {}]
    ]

    it.each(refused)('answers 401 UNAUTHORIZED for %s and changes nothing', async (_label, url, headers) => {
      const id = await sendOne(ctx, nextNumber())
      const before = await getMessage(ctx, id)
      expect(before.status).toBe('accepted')

      const response = await ctx.app.inject({
        method: 'POST',
        url,
        headers,
        payload: deliveryReportBody([{ messageId: id, to: before.to.slice(1), status: 'DELIVERED' }])
      })
      expect(response.statusCode).toBe(401)
      expect(response.json()).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' })
      expect(response.body).not.toContain(WEBHOOK_SECRET)
      expect(await getMessage(ctx, id)).toEqual(before)
    })

    it('checks the secret before it validates the body', async () => {
      const response = await ctx.app.inject({ method: 'POST', url: REPORTS, payload: { nonsense: true } })
      expect(response.statusCode).toBe(401)
      expect(response.json()).toMatchObject({ code: 'UNAUTHORIZED' })
    })

    it('accepts the secret as ?token=', async () => {
      const id = await sendOne(ctx, nextNumber())
      const response = await ctx.app.inject({ method: 'POST', url: TOKEN_URL, payload: deliveryReportBody([{ messageId: id, to: '1' }]) })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ processed: 1, ignored: 0 })
      expect((await getMessage(ctx, id)).status).toBe('delivered')
    })

    it.each(['infobip', 'any-user', ''])('accepts the secret as the Basic password with user name "%s"', async (user) => {
      const id = await sendOne(ctx, nextNumber())
      const response = await ctx.app.inject({
        method: 'POST',
        url: REPORTS,
        headers: { authorization: basic(user, WEBHOOK_SECRET) },
        payload: deliveryReportBody([{ messageId: id, to: '1' }])
      })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ processed: 1, ignored: 0 })
      expect((await getMessage(ctx, id)).status).toBe('delivered')
    })

    it('needs no API key (Infobip has none)', async () => {
      const id = await sendOne(ctx, nextNumber())
      const response = await ctx.app.inject({ method: 'POST', url: TOKEN_URL, headers: { 'x-api-key': 'not-a-key' }, payload: deliveryReportBody([{ messageId: id, to: '1' }]) })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ processed: 1, ignored: 0 })
    })
  })

  describe('status changes', () => {
    it('DELIVERED moves accepted → delivered with price, doneAt and providerStatus', async () => {
      const to = nextNumber()
      const id = await sendOne(ctx, to)
      const before = await getMessage(ctx, id)
      expect(before).toMatchObject({ status: 'accepted', price: null, doneAt: null, providerStatus: 'PENDING_ACCEPTED' })
      ctx.clock.advance(5_000)

      expect(await postDeliveryReports(ctx, [{
        messageId: id,
        to: to.slice(1),
        status: 'DELIVERED',
        price: 0.0075,
        sentAt: '2026-06-15T18:00:01.000+0200',
        doneAt: '2026-06-15T18:00:04.250+0200'
      }])).toEqual({ processed: 1, ignored: 0 })

      const after = await getMessage(ctx, id)
      expect(after).toMatchObject({
        id,
        status: 'delivered',
        providerStatus: 'DELIVERED_TO_HANDSET',
        price: { amount: 0.0075, currency: 'EUR' },
        doneAt: '2026-06-15T16:00:04.250Z',
        error: null,
        infobipMessageId: before.infobipMessageId,
        bulkId: before.bulkId,
        // The send time we recorded is kept; the report does not rewrite it.
        sentAt: before.sentAt,
        createdAt: before.createdAt,
        updatedAt: new Date(DAYTIME.getTime() + 5_000).toISOString()
      })
    })

    it('normalises Infobip\'s "+0000" timestamps to ISO-8601 UTC', async () => {
      const id = await sendOne(ctx, nextNumber())
      await postDeliveryReports(ctx, [{ messageId: id, to: '1', doneAt: '2026-06-15T16:00:03.000+0000' }])
      expect((await getMessage(ctx, id)).doneAt).toBe('2026-06-15T16:00:03.000Z')
    })

    it('UNDELIVERABLE stores the error', async () => {
      const id = await sendOne(ctx, nextNumber())
      expect(await postDeliveryReports(ctx, [{ messageId: id, to: '1', status: 'UNDELIVERABLE', errorName: 'EC_UNKNOWN_SUBSCRIBER' }])).toEqual({ processed: 1, ignored: 0 })
      const after = await getMessage(ctx, id)
      expect(after).toMatchObject({
        status: 'undeliverable',
        providerStatus: 'UNDELIVERABLE_NOT_DELIVERED',
        error: { code: 'HANDSET_ERRORS', name: 'EC_UNKNOWN_SUBSCRIBER', description: 'Unknown Subscriber', permanent: true },
        price: { amount: 0.01, currency: 'EUR' }
      })
      expect(after.doneAt).toEqual(expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/))
    })

    it('keeps a temporary error as not permanent', async () => {
      const id = await sendOne(ctx, nextNumber())
      await postDeliveryReports(ctx, [{ messageId: id, to: '1', status: 'UNDELIVERABLE', errorName: 'EC_ABSENT_SUBSCRIBER' }])
      expect((await getMessage(ctx, id)).error).toEqual({ code: 'HANDSET_ERRORS', name: 'EC_ABSENT_SUBSCRIBER', description: 'Absent Subscriber', permanent: false })
    })

    it.each([
      ['EXPIRED', 'expired', 'EXPIRED_EXPIRED'],
      ['REJECTED', 'rejected', 'REJECTED_NETWORK']
    ] as const)('%s moves accepted → %s', async (reportStatus, status, providerStatus) => {
      const id = await sendOne(ctx, nextNumber())
      expect(await postDeliveryReports(ctx, [{ messageId: id, to: '1', status: reportStatus }])).toEqual({ processed: 1, ignored: 0 })
      expect(await getMessage(ctx, id)).toMatchObject({ status, providerStatus })
    })

    it('a repeated report is ignored and changes nothing', async () => {
      const id = await sendOne(ctx, nextNumber())
      const body = deliveryReportBody([{ messageId: id, to: '1', status: 'DELIVERED', price: 0.02 }])
      const first = await ctx.app.inject({ method: 'POST', url: TOKEN_URL, payload: body })
      expect(first.json()).toEqual({ processed: 1, ignored: 0 })
      const afterFirst = await getMessage(ctx, id)
      ctx.clock.advance(60_000)
      try {
        for (let i = 0; i < 2; i++) {
          const again = await ctx.app.inject({ method: 'POST', url: TOKEN_URL, payload: body })
          expect(again.statusCode).toBe(200)
          expect(again.json()).toEqual({ processed: 0, ignored: 1 })
        }
        // Even a repeat that carries different details does not rewrite a final status.
        expect(await postDeliveryReports(ctx, [{ messageId: id, to: '1', status: 'DELIVERED', price: 9.99, doneAt: '2030-01-01T00:00:00.000+0000' }]))
          .toEqual({ processed: 0, ignored: 1 })
        expect(await getMessage(ctx, id)).toEqual(afterFirst)
      } finally {
        ctx.clock.set(DAYTIME)
      }
    })

    it.each(['PENDING', 'DELIVERED_TO_OPERATOR', 'UNDELIVERABLE', 'EXPIRED'] as const)(
      'a late %s after DELIVERED never moves the message back',
      async (late) => {
        const id = await sendOne(ctx, nextNumber())
        expect(await postDeliveryReports(ctx, [{ messageId: id, to: '1', status: 'DELIVERED' }])).toEqual({ processed: 1, ignored: 0 })
        const delivered = await getMessage(ctx, id)
        expect(await postDeliveryReports(ctx, [{ messageId: id, to: '1', status: late }])).toEqual({ processed: 0, ignored: 1 })
        expect(await getMessage(ctx, id)).toEqual(delivered)
      }
    )

    it('DELIVERED_TO_OPERATOR is not final: a later DELIVERED still delivers', async () => {
      const id = await sendOne(ctx, nextNumber())
      expect(await postDeliveryReports(ctx, [{ messageId: id, to: '1', status: 'DELIVERED_TO_OPERATOR' }])).toEqual({ processed: 1, ignored: 0 })
      expect(await getMessage(ctx, id)).toMatchObject({ status: 'accepted', providerStatus: 'DELIVERED_TO_OPERATOR' })

      expect(await postDeliveryReports(ctx, [{ messageId: id, to: '1', status: 'DELIVERED', price: 0.03 }])).toEqual({ processed: 1, ignored: 0 })
      expect(await getMessage(ctx, id)).toMatchObject({ status: 'delivered', providerStatus: 'DELIVERED_TO_HANDSET', price: { amount: 0.03, currency: 'EUR' } })
    })

    it('a repeated DELIVERED_TO_OPERATOR, or a late PENDING after it, is ignored', async () => {
      const id = await sendOne(ctx, nextNumber())
      expect(await postDeliveryReports(ctx, [{ messageId: id, to: '1', status: 'DELIVERED_TO_OPERATOR' }])).toEqual({ processed: 1, ignored: 0 })
      const atOperator = await getMessage(ctx, id)
      ctx.clock.advance(1_000)
      try {
        expect(await postDeliveryReports(ctx, [{ messageId: id, to: '1', status: 'DELIVERED_TO_OPERATOR' }])).toEqual({ processed: 0, ignored: 1 })
        expect(await postDeliveryReports(ctx, [{ messageId: id, to: '1', status: 'PENDING' }])).toEqual({ processed: 0, ignored: 1 })
        expect(await getMessage(ctx, id)).toEqual(atOperator)
      } finally {
        ctx.clock.set(DAYTIME)
      }
    })

    it('a report for a message we never sent is counted as ignored', async () => {
      expect(await postDeliveryReports(ctx, [{ messageId: newId(), to: '14155559999' }])).toEqual({ processed: 0, ignored: 1 })
      expect(await postDeliveryReports(ctx, [{ messageId: 'infobip-generated-id-123', to: '14155559999', status: 'UNDELIVERABLE' }])).toEqual({ processed: 0, ignored: 1 })
    })

    it.each(['deferred', 'queued'] as const)('a report naming a %s message that was never handed over is ignored: the message still goes', async (status) => {
      // A campaign message waiting for its recipient's window, or for its turn: Infobip cannot know it yet.
      const id = newId()
      const to = nextNumber()
      const at = ctx.clock.now().toISOString()
      const { db, close } = openDatabase(ctx.database.url)
      try {
        const row = { id, to_number: to, text: 'Spring sale', sender_id: null, purpose: 'marketing', status, campaign_id: null, contact_id: null }
        await db.insertInto('messages').values({ ...row, segments: 1, encoding: 'GSM-7', created_at: at, updated_at: at, due_at: '2099-01-01T00:00:00.000Z' }).execute()
        expect(await postDeliveryReports(ctx, [{ messageId: id, to: to.slice(1), status: 'DELIVERED' }])).toEqual({ processed: 0, ignored: 1 })
        const after = await db.selectFrom('messages').select(['status', 'provider_status', 'done_at']).where('id', '=', id).executeTakeFirstOrThrow()
        expect(after).toEqual({ status, provider_status: null, done_at: null })
      } finally {
        await close()
      }
    })

    it('an empty batch processes nothing', async () => {
      const response = await ctx.app.inject({ method: 'POST', url: TOKEN_URL, payload: { results: [] } })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ processed: 0, ignored: 0 })
    })

    it('applies a batch of known and unknown messages in one POST', async () => {
      const a = await sendOne(ctx, nextNumber())
      const b = await sendOne(ctx, nextNumber())
      const c = await sendOne(ctx, nextNumber())
      const untouched = await sendOne(ctx, nextNumber())
      const untouchedBefore = await getMessage(ctx, untouched)

      expect(await postDeliveryReports(ctx, [
        { messageId: a, to: '1', status: 'DELIVERED' },
        { messageId: newId(), to: '1', status: 'DELIVERED' },
        { messageId: b, to: '1', status: 'UNDELIVERABLE' },
        { messageId: 'unknown-to-us', to: '1', status: 'EXPIRED' },
        // The same message twice in one batch: the second is a repeat.
        { messageId: a, to: '1', status: 'DELIVERED' },
        { messageId: c, to: '1', status: 'DELIVERED_TO_OPERATOR' }
      ])).toEqual({ processed: 3, ignored: 3 })

      expect((await getMessage(ctx, a)).status).toBe('delivered')
      expect((await getMessage(ctx, b)).status).toBe('undeliverable')
      expect(await getMessage(ctx, c)).toMatchObject({ status: 'accepted', providerStatus: 'DELIVERED_TO_OPERATOR' })
      expect(await getMessage(ctx, untouched)).toEqual(untouchedBefore)
    })

    it('a report that overtakes the send response wins', async () => {
      const to = nextNumber()
      ctx.fake.enqueue({ kind: 'delay', ms: 400, then: { kind: 'ok' } })
      const sending = sendSms(ctx, to, 'Racing the report', 'transactional')
      const inFlight = await waitFor(
        async () => (await listMessages(ctx, `?status=sending&to=${encodeURIComponent(to)}`)).items,
        (items) => items.length > 0
      )
      expect(inFlight).toHaveLength(1)
      const id = inFlight[0]!.id
      expect(await postDeliveryReports(ctx, [{ messageId: id, to: to.slice(1), status: 'DELIVERED' }])).toEqual({ processed: 1, ignored: 0 })

      const response = await sending
      expect(response.statusCode).toBe(202)
      expect(response.json()).toMatchObject({ id, status: 'accepted' })
      expect(await getMessage(ctx, id)).toMatchObject({ status: 'delivered', providerStatus: 'DELIVERED_TO_HANDSET', infobipMessageId: id, bulkId: expect.any(String) })
    })
  })

  it('without PUBLIC_BASE_URL, sends carry no notifyUrl', async () => {
    await sendOne(ctx, nextNumber())
    const body = ctx.fake.sendRequests()[0]?.body as { messages: Array<Record<string, unknown>> }
    expect(body.messages).toHaveLength(1)
    expect(body.messages[0]).not.toHaveProperty('notifyUrl')
    expect(body.messages[0]).not.toHaveProperty('notifyContentType')
  })

  describe('invalid bodies', () => {
    const invalid: Array<[label: string, payload: unknown]> = [
      ['no results', {}],
      ['results is not an array', { results: { messageId: 'x' } }],
      ['results is null', { results: null }],
      ['a result without messageId', { results: [{ status: { groupId: 3, groupName: 'DELIVERED', id: 5, name: 'DELIVERED_TO_HANDSET' } }] }],
      ['a result without status', { results: [{ messageId: 'x' }] }]
    ]

    it.each(invalid)('answers 400 for %s', async (_label, payload) => {
      const response = await ctx.app.inject({ method: 'POST', url: TOKEN_URL, payload: payload as Record<string, unknown> })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ statusCode: 400, code: 'FST_ERR_VALIDATION' })
    })

    it('answers 400 for malformed JSON', async () => {
      const response = await ctx.app.inject({ method: 'POST', url: TOKEN_URL, headers: { 'content-type': 'application/json' }, payload: '{"results": [' })
      expect(response.statusCode).toBe(400)
    })

    it('changes nothing when one result of a batch is invalid', async () => {
      const id = await sendOne(ctx, nextNumber())
      const before = await getMessage(ctx, id)
      const good = deliveryReportBody([{ messageId: id, to: '1', status: 'DELIVERED' }]).results[0]
      for (const payload of [
        { results: [good, { to: '1' }] },
        { reports: [good] },
        { results: [{ ...(good as Record<string, unknown>), price: 'free' }] }
      ]) {
        const response = await ctx.app.inject({ method: 'POST', url: TOKEN_URL, payload })
        expect(response.statusCode, JSON.stringify(payload)).toBe(400)
      }
      expect(await getMessage(ctx, id)).toEqual(before)
    })
  })

  describe('logging', () => {
    it('never writes the secret to the logs, though it is in the URL', async () => {
      const id = await sendOne(ctx, nextNumber())
      const from = ctx.logs.length
      await postDeliveryReports(ctx, [{ messageId: id, to: '1', status: 'DELIVERED_TO_OPERATOR' }])
      await ctx.app.inject({ method: 'POST', url: `${REPORTS}?token=${WEBHOOK_SECRET}&extra=1`, payload: deliveryReportBody([{ messageId: id, to: '1' }]) })
      await ctx.app.inject({ method: 'POST', url: `${REPORTS}?a=1&token=${WEBHOOK_SECRET}`, payload: { results: 'invalid' } })
      await ctx.app.inject({ method: 'POST', url: `${REPORTS}?token=${WEBHOOK_SECRET}x`, payload: { results: [] } })
      await ctx.app.inject({ method: 'POST', url: REPORTS, headers: { authorization: basic('infobip', WEBHOOK_SECRET) }, payload: { results: [] } })
      await ctx.app.inject({ method: 'POST', url: `/webhooks/infobip/nowhere?token=${WEBHOOK_SECRET}`, payload: { results: [] } })
      await ctx.app.inject({ method: 'POST', url: `/webhooks/infobip/inbound?token=${WEBHOOK_SECRET}`, payload: { results: 'invalid' } })

      const written = ctx.logs.slice(from).join('\n')
      // The requests were logged, with the token blanked out.
      expect(written).toContain(`${REPORTS}?token=[REDACTED]`)
      expect(written.match(/token=\[REDACTED\]/g)?.length ?? 0).toBeGreaterThanOrEqual(6)
      for (const leak of [WEBHOOK_SECRET, encodeURIComponent(WEBHOOK_SECRET), Buffer.from(`infobip:${WEBHOOK_SECRET}`).toString('base64')]) {
        expect(written).not.toContain(leak)
      }
      expect(ctx.logs.join('\n')).not.toContain(WEBHOOK_SECRET)
    })
  })
})

describe('notifyUrl and the full life cycle (PUBLIC_BASE_URL set)', () => {
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({ env: { PUBLIC_BASE_URL: 'https://sms.example.com/', RATE_LIMIT_MAX: '100000' } })
  })
  afterAll(async () => {
    await ctx?.close()
  })

  it('sends carry notifyUrl with the token; the report it leads to delivers the message', async () => {
    const sent = await sendAccepted(ctx, '+14155553001', 'Your table is ready.')
    expect(sent.status).toBe('accepted')

    const requests = ctx.fake.sendRequests()
    expect(requests).toHaveLength(1)
    const body = requests[0]!.body as { messages: Array<{ notifyUrl?: string, notifyContentType?: string, destinations: Array<{ to: string, messageId: string }> }> }
    const notifyUrl = body.messages[0]?.notifyUrl
    expect(notifyUrl).toBe(`https://sms.example.com/webhooks/infobip/delivery-reports?token=${encodeURIComponent(WEBHOOK_SECRET)}`)
    expect(body.messages[0]?.notifyContentType).toBe('application/json')
    expect(body.messages[0]?.destinations).toEqual([{ to: '14155553001', messageId: sent.id }])

    expect(await getMessage(ctx, sent.id)).toMatchObject({ status: 'accepted', infobipMessageId: sent.infobipResponse.messages[0]!.messageId, bulkId: sent.infobipResponse.bulkId })

    // Infobip posts the report to exactly that URL.
    const target = new URL(notifyUrl!)
    const report = await ctx.app.inject({
      method: 'POST',
      url: `${target.pathname}${target.search}`,
      payload: deliveryReportBody([{ messageId: sent.infobipResponse.messages[0]!.messageId, bulkId: sent.infobipResponse.bulkId, to: '14155553001', status: 'DELIVERED', doneAt: '2026-06-15T16:00:09.000+0000' }])
    })
    expect(report.statusCode).toBe(200)
    expect(report.json()).toEqual({ processed: 1, ignored: 0 })

    expect(await getMessage(ctx, sent.id)).toMatchObject({
      id: sent.id,
      status: 'delivered',
      providerStatus: 'DELIVERED_TO_HANDSET',
      price: { amount: 0.01, currency: 'EUR' },
      doneAt: '2026-06-15T16:00:09.000Z',
      bulkId: sent.infobipResponse.bulkId
    })
    expect(ctx.logs.join('\n')).not.toContain(WEBHOOK_SECRET)
  })
})

describe('sandbox transport', () => {
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({ sandbox: true, env: { RATE_LIMIT_MAX: '100000' } })
  })
  afterAll(async () => {
    await ctx?.close()
  })

  async function sandboxSend (to: string): Promise<string> {
    const sent = await sendAccepted(ctx, to, 'Sandbox hello')
    expect(sent).toMatchObject({ status: 'accepted' })
    return sent.id
  }

  it('accepts, then the simulated report delivers the message', async () => {
    const id = await sandboxSend('+14155552671')
    expect((await getMessage(ctx, id)).status).toBe('accepted')
    const final = await waitFor(async () => await getMessage(ctx, id), (m) => m.status !== 'accepted')
    expect(final).toMatchObject({
      status: 'delivered',
      providerStatus: 'DELIVERED_TO_HANDSET',
      infobipMessageId: id,
      bulkId: expect.stringMatching(/^sandbox-/),
      error: null,
      price: { amount: 0, currency: 'EUR' },
      doneAt: expect.any(String)
    })
    expect(ctx.fake.sendRequests()).toHaveLength(0)
  })

  it('a number ending in 0000 ends undeliverable', async () => {
    const id = await sandboxSend('+14155550000')
    const final = await waitFor(async () => await getMessage(ctx, id), (m) => m.status !== 'accepted')
    expect(final).toMatchObject({
      status: 'undeliverable',
      providerStatus: 'UNDELIVERABLE_NOT_DELIVERED',
      error: { code: 'HANDSET_ERRORS', name: 'EC_UNKNOWN_SUBSCRIBER', permanent: true }
    })
    expect(ctx.fake.sendRequests()).toHaveLength(0)
  })
})
