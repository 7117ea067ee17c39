import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Purpose } from '../../src/db/repositories/messages.js'
import { consentEvents, INBOUND_PATH, messagesTo, numberSequence, postInbound, sendSms, withToken, type InboundOptions } from '../support/api.js'
import { addConsentingContact, startTestApp, WEBHOOK_SECRET, type TestContext } from '../support/app.js'
import { inboundBody } from '../support/fake-infobip.js'

const BRAND = 'Acme Deals'
const SUPPORT = 'support@acme.example or 1-800-555-0100'
const OUR_NUMBER = '41793026834'
const NOW = '2026-06-15T16:00:00.000Z'

async function waitFor<T> (probe: () => T | Promise<T>, what: string, timeoutMs = 5000): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== null && value !== false) return value as Exclude<T, false | null | undefined>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('POST /webhooks/infobip/inbound', () => {
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({ env: { BRAND_NAME: BRAND, SUPPORT_CONTACT: SUPPORT, RATE_LIMIT_MAX: '100000' } })
    ctx.clock.set(NOW)
  })
  afterAll(async () => { await ctx.close() })

  /** Every inbound message here is sent to OUR_NUMBER. */
  const inbound = async (from: string, text: string, options: InboundOptions = {}) => await postInbound(ctx, from, text, { to: OUR_NUMBER, ...options })
  /** Sends state their purpose: marketing unless said otherwise. */
  const send = async (to: string, message: string, purpose: Purpose = 'marketing') => await sendSms(ctx, to, message, purpose)
  /** What the fake Infobip received for a number, in order. */
  function receivedBy (number: string): Array<{ text: string, from: unknown }> {
    const digits = number.replace(/^\+/, '')
    const out: Array<{ text: string, from: unknown }> = []
    for (const request of ctx.fake.sendRequests()) {
      const body = request.body as { messages: Array<{ text: string, from?: unknown, destinations: Array<{ to: string }> }> }
      for (const message of body.messages) {
        for (const destination of message.destinations) {
          if (destination.to === digits) out.push({ text: message.text, from: message.from })
        }
      }
    }
    return out
  }
  async function subscribed (contactId: string): Promise<boolean> {
    return (await ctx.app.inject({ method: 'GET', url: `/contacts/${contactId}`, headers: ctx.headers })).json<{ subscribed: boolean }>().subscribed
  }
  async function optOuts (): Promise<Array<{ phoneNumber: string, source: string }>> {
    return (await ctx.app.inject({ method: 'GET', url: '/opt-outs?limit=100', headers: ctx.headers })).json<{ items: Array<{ phoneNumber: string, source: string }> }>().items
  }
  /**
   * Replies go out through the send queue after the webhook has answered. To prove that something was
   * NOT sent, have a HELP reply sent to another number and wait for it: the queue is first in, first out.
   */
  const nextSentinel = numberSequence('+1917234', 9001)
  async function settle (): Promise<void> {
    const number = nextSentinel()
    expect((await inbound(number, 'HELP')).statusCode).toBe(200)
    await waitFor(() => receivedBy(number).length === 1, `the HELP reply to ${number}`)
  }

  it('answers a STOP only once a request to Infobip already carrying a message to that number is over', async () => {
    const number = '+12125550177'
    await addConsentingContact(ctx, number)
    const before = ctx.fake.sendRequests().length
    ctx.fake.enqueue({ kind: 'slow', ms: 700 })
    const sending = send(number, 'On its way', 'transactional')
    // The message is at Infobip, whose answer takes 700 ms.
    const request = await waitFor(() => ctx.fake.sendRequests()[before], 'the send at the fake')
    const stop = await inbound(number, 'STOP')
    const answeredAt = Date.now()
    expect(stop.statusCode).toBe(200)
    // Answered after Infobip's answer to the request in progress, not while it could still be on its way.
    expect(answeredAt - request.receivedAt).toBeGreaterThanOrEqual(650)
    expect((await sending).statusCode).toBe(202)
  })

  describe('authentication', () => {
    it('answers 401 without the token or with a wrong one, and records nothing', async () => {
      const contact = await addConsentingContact(ctx, '+12125550101')
      for (const token of [null, 'wrong-secret-0123456789abcdef', '']) {
        const response = await inbound('+12125550101', 'STOP', { token })
        expect(response.statusCode).toBe(401)
        expect(response.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized', code: 'UNAUTHORIZED' })
        expect(response.body).not.toContain(WEBHOOK_SECRET)
      }
      const basicWrong = await ctx.app.inject({
        method: 'POST',
        url: INBOUND_PATH,
        headers: { authorization: `Basic ${Buffer.from('infobip:nope').toString('base64')}` },
        payload: inboundBody([{ from: '12125550101', text: 'STOP' }])
      })
      expect(basicWrong.statusCode).toBe(401)

      expect((await consentEvents(ctx, contact.id)).map((e) => e.type)).toEqual(['opt_in'])
      expect(await subscribed(contact.id)).toBe(true)
      expect((await optOuts()).map((s) => s.phoneNumber)).not.toContain('+12125550101')
      expect(await messagesTo(ctx, '+12125550101')).toEqual([])
      expect((await send('+12125550101', 'Still subscribed?')).statusCode).toBe(202)
      await settle()
      expect(receivedBy('+12125550101').map((m) => m.text)).toEqual(['Still subscribed?\nReply STOP to opt out.'])
    })

    it('accepts the secret as the password of HTTP Basic auth', async () => {
      const response = await ctx.app.inject({
        method: 'POST',
        url: INBOUND_PATH,
        headers: { authorization: `Basic ${Buffer.from(`infobip:${WEBHOOK_SECRET}`).toString('base64')}` },
        payload: inboundBody([{ from: '12125550102', text: 'Thanks!', messageId: 'mo-basic-1' }])
      })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ processed: 0, results: [{ messageId: 'mo-basic-1', intent: 'none', keyword: null }] })
    })
  })

  describe('STOP', () => {
    const nextWordingNumber = numberSequence('+1212555', 2001)
    it('suppresses the number at once, confirms exactly once, and records the opt-out with keyword and raw text', async () => {
      const number = '+12125550110'
      const contact = await addConsentingContact(ctx, number)

      const response = await inbound(number, 'STOP', { messageId: 'mo-stop-1' })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ processed: 1, results: [{ messageId: 'mo-stop-1', intent: 'opt_out', keyword: 'STOP' }] })

      // Suppressed before anything else can happen: no marketing and no transactional message goes.
      const marketing = await send(number, 'Last chance: 50% off')
      expect(marketing.statusCode).toBe(422)
      expect(marketing.json()).toMatchObject({ statusCode: 422, code: 'RECIPIENT_OPTED_OUT' })
      const transactional = await send(number, 'Your order #123 shipped', 'transactional')
      expect(transactional.statusCode).toBe(422)
      expect(transactional.json()).toMatchObject({ statusCode: 422, code: 'RECIPIENT_OPTED_OUT' })

      const [confirmation] = await waitFor(() => receivedBy(number).length > 0 && receivedBy(number), 'the opt-out confirmation')
      expect(confirmation!.text).toContain('unsubscribed')
      expect(confirmation!.text).toContain(BRAND)
      expect(confirmation!.from).toBe(OUR_NUMBER)
      await settle()
      expect(receivedBy(number)).toHaveLength(1)

      // A second STOP is recorded but confirmed no more.
      const again = await inbound(number, 'stop')
      expect(again.statusCode).toBe(200)
      expect(again.json()).toMatchObject({ processed: 1, results: [{ intent: 'opt_out', keyword: 'STOP' }] })
      await settle()
      expect(receivedBy(number)).toHaveLength(1)
      const sent = await messagesTo(ctx, number)
      expect(sent.filter((m) => m.text.includes('unsubscribed'))).toHaveLength(1)
      expect(sent.filter((m) => m.status === 'suppressed').map((m) => m.text).sort()).toEqual(['Last chance: 50% off', 'Your order #123 shipped'])

      expect(await subscribed(contact.id)).toBe(false)
      const trail = await consentEvents(ctx, contact.id)
      expect(trail.map((e) => [e.type, e.source, e.keyword, e.text])).toEqual([
        ['opt_in', 'web_form', null, expect.any(String)],
        ['opt_out', 'keyword', 'STOP', 'STOP'],
        ['opt_out', 'keyword', 'STOP', 'stop']
      ])
      expect(trail[1]?.occurredAt).toBe(NOW)
      expect(await optOuts()).toContainEqual(expect.objectContaining({ phoneNumber: number, source: 'keyword' }))
    })

    it.each([
      ['please stop texting me', 'STOP'],
      ['Stpo', 'STOP'],
      ['UNSUBSCRIBE', 'UNSUBSCRIBE'],
      ['Stop all', 'STOPALL'],
      ['opt out', 'OPTOUT'],
      ['Cancel', 'CANCEL'],
      ['end', 'END'],
      ['QUIT', 'QUIT'],
      ['revoke', 'REVOKE']
    ])('"%s" opts out too (keyword %s)', async (text, keyword) => {
      const number = nextWordingNumber()
      const contact = await addConsentingContact(ctx, number)
      const response = await inbound(number, text)
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({ processed: 1, results: [{ intent: 'opt_out', keyword }] })
      expect((await send(number, 'Big news')).json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
      expect((await send(number, 'Receipt', 'transactional')).json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
      const trail = await consentEvents(ctx, contact.id)
      expect(trail.at(-1)).toMatchObject({ type: 'opt_out', source: 'keyword', keyword, text })
      const [confirmation] = await waitFor(() => receivedBy(number).length > 0 && receivedBy(number), 'the opt-out confirmation')
      expect(confirmation!.text).toContain('unsubscribed')
    })

    it('suppresses a number that is not a contact', async () => {
      const number = '+12125550120'
      expect((await inbound(number, 'STOP')).statusCode).toBe(200)
      expect(await optOuts()).toContainEqual(expect.objectContaining({ phoneNumber: number, source: 'keyword' }))
      expect((await send(number, 'Your code is 4711', 'transactional')).json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
      await waitFor(() => receivedBy(number).length === 1, 'the opt-out confirmation')

      // The ledger is by number: a contact created later sees the opt-out.
      const created = await ctx.app.inject({ method: 'POST', url: '/contacts', headers: ctx.headers, payload: { phoneNumber: number } })
      expect(created.json()).toMatchObject({ subscribed: false })
      expect((await consentEvents(ctx, created.json<{ id: string }>().id)).map((e) => [e.type, e.keyword])).toEqual([['opt_out', 'STOP']])
    })

    it('stops a marketing message that is admitted but not yet handed to Infobip', async () => {
      const number = '+12125550130'
      await addConsentingContact(ctx, number)
      const before = ctx.fake.sendRequests().length
      // Four slow provider calls take every in-flight slot; the next message waits in the queue.
      ctx.fake.enqueue(...Array.from({ length: 4 }, () => ({ kind: 'delay' as const, ms: 1500, then: { kind: 'ok' as const } })))
      const blockers = []
      for (let i = 0; i < 4; i++) {
        blockers.push(send(`+1917234${String(7000 + i)}`, `Code ${i}`, 'transactional'))
        await waitFor(() => ctx.fake.sendRequests().length === before + i + 1, `provider call ${i + 1} in flight`)
      }

      const marketing = send(number, 'Weekend sale starts now')
      // Admitted and leased to the dispatcher, waiting for a free request slot: not handed over yet.
      const queued = await waitFor(async () => (await messagesTo(ctx, number)).find((m) => m.status === 'sending'), 'the admitted marketing message')
      expect(receivedBy(number)).toEqual([])
      expect(queued.text).toContain('Weekend sale starts now')

      expect((await inbound(number, 'STOP')).statusCode).toBe(200)
      const refused = await marketing
      expect(refused.statusCode).toBe(422)
      expect(refused.json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
      for (const blocker of await Promise.all(blockers)) expect(blocker.statusCode).toBe(202)

      const stored = (await messagesTo(ctx, number)).find((m) => m.id === queued.id)
      expect(stored).toMatchObject({ status: 'suppressed', decisionReason: expect.stringContaining('RECIPIENT_OPTED_OUT') })
      await waitFor(() => receivedBy(number).length === 1, 'the opt-out confirmation')
      await settle()
      expect(receivedBy(number).map((m) => m.text)).toEqual([expect.stringContaining('unsubscribed')])
    })
  })

  describe('START', () => {
    it('re-subscribes a number that opted out and confirms it', async () => {
      const number = '+12125550140'
      const contact = await addConsentingContact(ctx, number)
      expect((await inbound(number, 'STOP')).statusCode).toBe(200)
      expect((await send(number, 'Deal of the day')).statusCode).toBe(422)
      await waitFor(() => receivedBy(number).length === 1, 'the opt-out confirmation')

      ctx.clock.advance(60_000)
      const response = await inbound(number, 'START', { messageId: 'mo-start-1' })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ processed: 1, results: [{ messageId: 'mo-start-1', intent: 'opt_in', keyword: 'START' }] })

      const [, confirmation] = await waitFor(() => receivedBy(number).length === 2 && receivedBy(number), 'the opt-in confirmation')
      expect(confirmation!.text).toContain(BRAND)
      expect(confirmation!.text).not.toContain('unsubscribed')
      expect(confirmation!.text).toContain('STOP')

      expect(await subscribed(contact.id)).toBe(true)
      expect((await optOuts()).map((s) => s.phoneNumber)).not.toContain(number)
      const marketing = await send(number, 'Deal of the day')
      expect(marketing.statusCode).toBe(202)
      expect((await consentEvents(ctx, contact.id)).map((e) => [e.type, e.source, e.keyword, e.text])).toEqual([
        ['opt_in', 'web_form', null, expect.any(String)],
        ['opt_out', 'keyword', 'STOP', 'STOP'],
        ['opt_in', 'keyword', 'START', 'START']
      ])

      // And STOP after START is confirmed again: it is a new opt-out.
      ctx.clock.advance(60_000)
      expect((await inbound(number, 'STOP')).statusCode).toBe(200)
      await waitFor(() => receivedBy(number).filter((m) => m.text.includes('unsubscribed')).length === 2, 'the second opt-out confirmation')
      ctx.clock.set(NOW)
    })
  })

  describe('HELP', () => {
    it('replies with brand, support contact, rates and the STOP instruction, and records a help event', async () => {
      const number = '+12125550150'
      const contact = await addConsentingContact(ctx, number)
      const response = await inbound(number, 'HELP', { messageId: 'mo-help-1' })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ processed: 1, results: [{ messageId: 'mo-help-1', intent: 'help', keyword: 'HELP' }] })

      const [reply] = await waitFor(() => receivedBy(number).length > 0 && receivedBy(number), 'the HELP reply')
      expect(reply!.text).toContain(BRAND)
      expect(reply!.text).toContain(SUPPORT)
      expect(reply!.text).toContain('Msg & data rates may apply')
      expect(reply!.text).toMatch(/Reply STOP/i)
      expect(reply!.from).toBe(OUR_NUMBER)

      expect((await consentEvents(ctx, contact.id)).at(-1)).toMatchObject({ type: 'help', source: 'keyword', keyword: 'HELP', text: 'HELP' })
      // HELP changes nothing about the subscription.
      expect(await subscribed(contact.id)).toBe(true)
      expect((await send(number, 'Fresh arrivals')).statusCode).toBe(202)
      await settle()
      expect(receivedBy(number)).toHaveLength(2)
    })

    it('answers INFO from a number that is not a contact, too', async () => {
      const number = '+12125550151'
      const response = await inbound(number, 'info')
      expect(response.json()).toMatchObject({ processed: 1, results: [{ intent: 'help', keyword: 'INFO' }] })
      const [reply] = await waitFor(() => receivedBy(number).length > 0 && receivedBy(number), 'the INFO reply')
      expect(reply!.text).toContain(SUPPORT)
      expect((await optOuts()).map((s) => s.phoneNumber)).not.toContain(number)
    })
  })

  describe('other messages', () => {
    it('"Thanks!" does nothing: no event, no reply, no change', async () => {
      const number = '+12125550160'
      const contact = await addConsentingContact(ctx, number)
      const response = await inbound(number, 'Thanks!', { messageId: 'mo-thanks-1' })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ processed: 0, results: [{ messageId: 'mo-thanks-1', intent: 'none', keyword: null }] })
      expect((await consentEvents(ctx, contact.id)).map((e) => e.type)).toEqual(['opt_in'])
      expect(await messagesTo(ctx, number)).toEqual([])
      await settle()
      expect(receivedBy(number)).toEqual([])
      expect(await subscribed(contact.id)).toBe(true)
      expect((await send(number, 'Thanks for shopping')).statusCode).toBe(202)
    })

    it('handles every message of a batch and ignores an unparseable sender', async () => {
      const a = '+12125550170'
      const b = '+12125550171'
      const contactA = await addConsentingContact(ctx, a)
      const contactB = await addConsentingContact(ctx, b)
      const response = await ctx.app.inject({
        method: 'POST',
        url: withToken(INBOUND_PATH),
        payload: inboundBody([
          { from: a.slice(1), text: 'STOP', messageId: 'mo-b1' },
          { from: 'InfoSMS', text: 'STOP', messageId: 'mo-b2' },
          { from: b.slice(1), text: 'When does the sale end?', messageId: 'mo-b3' }
        ])
      })
      expect(response.statusCode).toBe(200)
      const body = response.json<{ processed: number, results: Array<{ messageId: string, intent: string }> }>()
      // A sender that is not a phone number can be neither suppressed nor answered: nothing was handled.
      expect(body.results.map((r) => [r.messageId, r.intent])).toEqual([
        ['mo-b1', 'opt_out'], ['mo-b2', 'none'], ['mo-b3', 'none']
      ])
      expect(body.processed).toBe(1)
      expect(await subscribed(contactA.id)).toBe(false)
      expect(await subscribed(contactB.id)).toBe(true)
      expect((await consentEvents(ctx, contactB.id)).map((e) => e.type)).toEqual(['opt_in'])
    })

    it('refuses a body that is not an inbound report with 400', async () => {
      const response = await ctx.app.inject({
        method: 'POST',
        url: withToken(INBOUND_PATH),
        payload: { results: [{ text: 'STOP' }] }
      })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ code: 'FST_ERR_VALIDATION' })
    })
  })
})
