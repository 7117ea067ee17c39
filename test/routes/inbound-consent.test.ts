import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Contact } from '../../src/db/repositories/contacts.js'
import type { InboundMessage } from '../../src/db/repositories/inbound-messages.js'
import { openDatabase } from '../../src/db/database.js'
import { newId } from '../../src/domain/ids.js'
import {
  API_KEY_LABEL, consentEvents, INBOUND_PATH, postInbound, sendSms, textsReceivedBy, withToken,
  type ConsentEventView, type Page
} from '../support/api.js'
import { addConsentingContact, startTestApp, type TestContext } from '../support/app.js'
import { inboundBody, infobipTimestamp } from '../support/fake-infobip.js'
import { waitFor } from '../support/wait.js'

const BRAND = 'Acme Deals'
const SUPPORT = 'aide@acme.example'
const NOW = '2026-06-15T16:00:00.000Z'
const MINUTE = 60_000
const OUR_MESSAGE = `${BRAND}: Summer sale… 30% off everything until Sunday. Reply STOP to opt out.`

describe('inbound replies and the one consent ledger', () => {
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({ env: { BRAND_NAME: BRAND, SUPPORT_CONTACT: SUPPORT, RATE_LIMIT_MAX: '100000' } })
  })
  afterAll(async () => { await ctx.close() })
  beforeEach(() => { ctx.clock.set(NOW) })

  async function get<T> (url: string): Promise<T> {
    const response = await ctx.app.inject({ method: 'GET', url, headers: ctx.headers })
    expect(response.statusCode, response.body).toBe(200)
    return response.json<T>()
  }
  const subscribed = async (id: string): Promise<boolean> => (await get<Contact>(`/contacts/${id}`)).subscribed
  const inboundOf = async (number: string): Promise<InboundMessage[]> => (await get<Page<InboundMessage>>(`/inbound-messages?phoneNumber=${encodeURIComponent(number)}`)).items
  /** Posts one inbound SMS received at `receivedAt` (default: now by the test clock). */
  async function inboundAt (from: string, text: string, receivedAt: Date, messageId = `mo-${newId()}`) {
    const response = await ctx.app.inject({
      method: 'POST',
      url: withToken(INBOUND_PATH),
      payload: inboundBody([{ from: from.replace(/^\+/, ''), text, messageId, receivedAt: infobipTimestamp(receivedAt) }])
    })
    expect(response.statusCode, response.body).toBe(200)
    return response.json<{ processed: number, results: Array<{ messageId: string, intent: string, keyword: string | null }> }>()
  }

  describe('numbers the library does not know yet', () => {
    it.each([['+16245550201', 'NY'], ['+14365550202', 'OH'], ['+13575550203', 'CA'], ['+18615550204', 'IL']])('a STOP from %s (%s overlay) suppresses it and is confirmed', async (number) => {
      const contact = await addConsentingContact(ctx, number)
      const response = await postInbound(ctx, number, 'STOP')
      expect(response.json()).toMatchObject({ processed: 1, results: [{ intent: 'opt_out', keyword: 'STOP' }] })
      expect(await subscribed(contact.id)).toBe(false)
      expect((await sendSms(ctx, number, 'Receipt', 'transactional')).json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
      await waitFor(() => textsReceivedBy(ctx, number).length === 1, 'the opt-out confirmation')
      expect(textsReceivedBy(ctx, number)).toEqual([`${BRAND}: You are unsubscribed and will receive no more messages. Reply START to resubscribe.`])
    })

    it('a STOP from a number of merely possible length is recorded and suppresses it', async () => {
      const response = await postInbound(ctx, '+19995550205', 'stop')
      expect(response.json()).toMatchObject({ processed: 1, results: [{ intent: 'opt_out', keyword: 'STOP' }] })
      const trail = await get<Page<ConsentEventView>>('/consent-events?phoneNumber=%2B19995550205')
      expect(trail.items.map((e) => [e.type, e.keyword, e.recordedBy])).toEqual([['opt_out', 'STOP', 'infobip-webhook']])
      const optOuts = await get<Page<{ phoneNumber: string }>>('/opt-outs?limit=100')
      expect(optOuts.items.map((s) => s.phoneNumber)).toContain('+19995550205')
    })
  })

  describe('Canadian French', () => {
    it('ARRÊT suppresses the number and is confirmed in French', async () => {
      const number = '+14165550210'
      const contact = await addConsentingContact(ctx, number)
      const response = await postInbound(ctx, number, 'ARRÊT')
      expect(response.json()).toMatchObject({ processed: 1, results: [{ intent: 'opt_out', keyword: 'ARRET' }] })
      expect(await subscribed(contact.id)).toBe(false)
      expect((await sendSms(ctx, number, 'Solde!')).json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
      await waitFor(() => textsReceivedBy(ctx, number).length === 1, 'the French confirmation')
      expect(textsReceivedBy(ctx, number)).toEqual([`${BRAND} : Vous êtes désabonné et ne recevrez plus de messages. Répondez START pour vous réabonner.`])
      expect((await consentEvents(ctx, contact.id)).at(-1)).toMatchObject({ type: 'opt_out', source: 'keyword', keyword: 'ARRET', text: 'ARRÊT' })
    })

    it('AIDE is answered in French with the brand, support contact, rates and how to opt out', async () => {
      const number = '+15145550211'
      const contact = await addConsentingContact(ctx, number)
      expect((await postInbound(ctx, number, 'Aide')).json()).toMatchObject({ processed: 1, results: [{ intent: 'help', keyword: 'AIDE' }] })
      await waitFor(() => textsReceivedBy(ctx, number).length === 1, 'the French HELP reply')
      expect(textsReceivedBy(ctx, number)).toEqual([
        `${BRAND} : Aide : ${SUPPORT}. Des frais de messagerie et de données peuvent s'appliquer. Répondez ARRÊT pour vous désabonner.`
      ])
      expect(await subscribed(contact.id)).toBe(true)
    })
  })

  describe('replies that are not opt-outs', () => {
    it('a "Liked “…STOP…”" reaction leaves the number subscribed, gets no reply, and is stored as a reply', async () => {
      const number = '+12125550220'
      const contact = await addConsentingContact(ctx, number)
      const reaction = `Liked “${OUR_MESSAGE}”`
      const response = await postInbound(ctx, number, reaction, { messageId: 'mo-liked-1' })
      expect(response.json()).toEqual({ processed: 0, results: [{ messageId: 'mo-liked-1', intent: 'none', keyword: null }] })
      expect(await subscribed(contact.id)).toBe(true)
      expect((await consentEvents(ctx, contact.id)).map((e) => e.type)).toEqual(['opt_in'])
      expect((await sendSms(ctx, number, 'Thanks for the like')).statusCode).toBe(202)
      expect(await inboundOf(number)).toEqual([{
        id: expect.any(String),
        messageId: 'mo-liked-1',
        phoneNumber: number,
        to: '41793026834',
        text: reaction,
        intent: 'none',
        keyword: null,
        campaignId: null,
        consentEventId: null,
        receivedAt: NOW,
        recordedAt: NOW
      }])
    })

    it('every reply is stored, "What time do you open?" too; a keyword links its consent event', async () => {
      const number = '+12125550221'
      await addConsentingContact(ctx, number)
      expect((await postInbound(ctx, number, 'What time do you open?')).json()).toMatchObject({ processed: 0, results: [{ intent: 'none' }] })
      ctx.clock.advance(MINUTE)
      expect((await postInbound(ctx, number, 'Alto por favor')).json()).toMatchObject({ processed: 1, results: [{ intent: 'opt_out', keyword: 'REVOCATION' }] })
      const stored = await inboundOf(number)
      expect(stored.map((m) => [m.text, m.intent, m.keyword])).toEqual([
        ['Alto por favor', 'opt_out', 'REVOCATION'],
        ['What time do you open?', 'none', null]
      ])
      const trail = await get<Page<ConsentEventView>>(`/consent-events?phoneNumber=${encodeURIComponent(number)}`)
      expect(stored[0]?.consentEventId).toBe(trail.items.at(-1)?.id)
    })

    it('a message Infobip delivers twice is handled once: one event, one reply', async () => {
      const number = '+12125550222'
      const contact = await addConsentingContact(ctx, number)
      const first = await inboundAt(number, 'HELP', ctx.clock.now(), 'mo-twice-1')
      const again = await inboundAt(number, 'HELP', ctx.clock.now(), 'mo-twice-1')
      expect(again).toEqual(first)
      expect(first).toEqual({ processed: 1, results: [{ messageId: 'mo-twice-1', intent: 'help', keyword: 'HELP' }] })
      await waitFor(() => textsReceivedBy(ctx, number).length === 1, 'the HELP reply')
      // The queue is first in, first out: once a later reply went out, a second HELP reply would have too.
      const sentinel = '+12125550229'
      await postInbound(ctx, sentinel, 'HELP')
      await waitFor(() => textsReceivedBy(ctx, sentinel).length === 1, 'the sentinel reply')
      expect(textsReceivedBy(ctx, number)).toHaveLength(1)
      expect((await consentEvents(ctx, contact.id)).map((e) => e.type)).toEqual(['opt_in', 'help'])
      expect(await inboundOf(number)).toHaveLength(1)
    })
  })

  describe('the latest decision by the time it happened governs', () => {
    it('a START received before a newer API opt-out cannot lift it; a newer START can', async () => {
      const number = '+12125550230'
      ctx.clock.set(new Date(Date.parse(NOW) - 60 * MINUTE))
      const contact = await addConsentingContact(ctx, number)
      ctx.clock.set(NOW)
      const optOut = await ctx.app.inject({ method: 'POST', url: `/contacts/${contact.id}/opt-out`, headers: ctx.headers, payload: { reason: 'Asked by phone' } })
      expect(optOut.statusCode).toBe(201)

      // Sent ten minutes before the opt-out, delivered by Infobip only now.
      const late = await inboundAt(number, 'START', new Date(Date.parse(NOW) - 10 * MINUTE))
      expect(late).toMatchObject({ processed: 1, results: [{ intent: 'opt_in', keyword: 'START' }] })
      expect(await subscribed(contact.id)).toBe(false)
      expect((await sendSms(ctx, number, 'Receipt', 'transactional')).json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
      // In the order things happened: the late START sits before the opt-out that governs.
      expect((await consentEvents(ctx, contact.id)).map((e) => [e.type, e.source, e.occurredAt])).toEqual([
        ['opt_in', 'web_form', new Date(Date.parse(NOW) - 60 * MINUTE).toISOString()],
        ['opt_in', 'keyword', new Date(Date.parse(NOW) - 10 * MINUTE).toISOString()],
        ['opt_out', 'api', NOW]
      ])

      ctx.clock.advance(MINUTE)
      const fresh = await inboundAt(number, 'START', ctx.clock.now())
      expect(fresh).toMatchObject({ processed: 1, results: [{ intent: 'opt_in' }] })
      expect(await subscribed(contact.id)).toBe(true)
      expect((await sendSms(ctx, number, 'Welcome back')).statusCode).toBe(202)
      // Only the START that took effect was confirmed.
      await waitFor(() => textsReceivedBy(ctx, number).length === 2, 'the opt-in confirmation and the send')
      expect(textsReceivedBy(ctx, number)).toEqual([
        `${BRAND}: You are subscribed again. Msg & data rates may apply. Reply HELP for help, STOP to opt out.`,
        'Welcome back\nReply STOP to opt out.'
      ])
    })

    it('an API opt-in back-dated before a STOP does not lift it', async () => {
      const number = '+12125550231'
      const created = await ctx.app.inject({ method: 'POST', url: '/contacts', headers: ctx.headers, payload: { phoneNumber: number } })
      const contact = created.json<Contact>()
      await postInbound(ctx, number, 'STOP')
      ctx.clock.advance(MINUTE)
      const backDated = await ctx.app.inject({
        method: 'POST',
        url: `/contacts/${contact.id}/consent`,
        headers: ctx.headers,
        payload: { source: 'paper', text: 'Signed form', collectedAt: '2026-06-01T09:00:00.000Z' }
      })
      expect(backDated.statusCode).toBe(201)
      expect(await subscribed(contact.id)).toBe(false)
      expect((await consentEvents(ctx, contact.id)).map((e) => e.type)).toEqual(['opt_in', 'opt_out'])
    })
  })

  describe('an opt-out by text counts from when it reached the service', () => {
    it('a STOP sent before an opt-in that was recorded while the STOP was on its way still suppresses, and is confirmed', async () => {
      const number = '+12125550232'
      ctx.clock.set(new Date(Date.parse(NOW) - 60 * MINUTE))
      const created = await ctx.app.inject({ method: 'POST', url: '/contacts', headers: ctx.headers, payload: { phoneNumber: number } })
      const contact = created.json<Contact>()
      // 16:00: the CRM records an opt-in; the person's STOP, sent at 15:58, reaches the service only at 16:01.
      ctx.clock.set(NOW)
      const optIn = await ctx.app.inject({ method: 'POST', url: `/contacts/${contact.id}/consent`, headers: ctx.headers, payload: { source: 'web_form', text: 'Yes to offers by SMS' } })
      expect(optIn.statusCode).toBe(201)
      expect(await subscribed(contact.id)).toBe(true)
      ctx.clock.set(new Date(Date.parse(NOW) + MINUTE))
      const stop = await inboundAt(number, 'STOP', new Date(Date.parse(NOW) - 2 * MINUTE))
      expect(stop).toMatchObject({ processed: 1, results: [{ intent: 'opt_out', keyword: 'STOP' }] })

      expect(await subscribed(contact.id)).toBe(false)
      expect((await sendSms(ctx, number, 'Receipt', 'transactional')).json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
      await waitFor(() => textsReceivedBy(ctx, number).length === 1, 'the opt-out confirmation')
      expect(textsReceivedBy(ctx, number)).toEqual([`${BRAND}: You are unsubscribed and will receive no more messages. Reply START to resubscribe.`])
      // The trail keeps when each thing happened and when it reached the service.
      expect((await consentEvents(ctx, contact.id)).map((e) => [e.type, e.occurredAt, e.recordedAt])).toEqual([
        ['opt_out', new Date(Date.parse(NOW) - 2 * MINUTE).toISOString(), new Date(Date.parse(NOW) + MINUTE).toISOString()],
        ['opt_in', NOW, NOW]
      ])
      expect(ctx.logs.some((line) => line.includes('opt-in recorded while it was on its way'))).toBe(true)

      // The same evidence sent again (a CRM re-sync) does not lift it; a START sent after it does.
      ctx.clock.advance(MINUTE)
      const resync = await ctx.app.inject({ method: 'POST', url: `/contacts/${contact.id}/consent`, headers: ctx.headers, payload: { source: 'web_form', text: 'Yes to offers by SMS', collectedAt: NOW } })
      expect(resync.statusCode).toBe(201)
      expect(await subscribed(contact.id)).toBe(false)
      await inboundAt(number, 'START', ctx.clock.now())
      expect(await subscribed(contact.id)).toBe(true)
    })
  })

  describe('import evidence', () => {
    it("keeps the CSV's consentIp, consentUserAgent and consentAt as the subscriber's evidence, and the upload as who recorded it", async () => {
      const csv = [
        'phoneNumber,firstName,consentSource,consentText,consentIp,consentUserAgent,consentAt',
        '+12125550240,Ann,web_form,"Yes to offers by SMS",198.51.100.40,"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)",2026-06-10T12:00:00Z',
        '+12125550241,Bo,web_form,"Yes to offers by SMS",2001:db8::41,,2026-06-11T08:30:00-04:00',
        '+12125550242,Cy,web_form,"Yes",not-an-address,,',
        '+12125550243,Di,,,203.0.113.43,,'
      ].join('\n')
      const response = await ctx.app.inject({
        method: 'POST',
        url: '/contacts/import',
        headers: { ...ctx.headers, 'content-type': 'text/csv', 'user-agent': 'curl/8.5.0', 'content-disposition': 'attachment; filename="crm-export-2026-06.csv"' },
        payload: csv
      })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({
        created: 2,
        updated: 0,
        rejected: [
          { line: 4, error: 'consentIp is not an IP address' },
          { line: 5, error: 'consentIp is evidence of a consent: give consentSource and consentText with it' }
        ],
        warnings: []
      })
      const recorded = { recordedBy: API_KEY_LABEL, requestId: response.headers['x-request-id'], fileName: 'crm-export-2026-06.csv' }
      const ann = (await get<Page<ConsentEventView>>('/consent-events?phoneNumber=%2B12125550240')).items
      expect(ann).toEqual([{
        id: expect.any(String),
        type: 'opt_in',
        phoneNumber: '+12125550240',
        source: 'web_form',
        text: 'Yes to offers by SMS',
        ip: '198.51.100.40',
        userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)',
        keyword: null,
        occurredAt: '2026-06-10T12:00:00.000Z',
        recordedAt: NOW,
        ...recorded
      }])
      const bo = (await get<Page<ConsentEventView>>('/consent-events?phoneNumber=%2B12125550241')).items
      expect(bo).toEqual([expect.objectContaining({ ip: '2001:db8::41', userAgent: null, occurredAt: '2026-06-11T12:30:00.000Z', ...recorded })])
      // The uploader's address and client are nowhere in the subscribers' evidence.
      expect(JSON.stringify([ann, bo])).not.toMatch(/curl|127\.0\.0\.1/)
    })
  })

  describe('erasure', () => {
    it("keeps an erased contact's consent trail readable by number, and erases the replies it sent", async () => {
      const number = '+12125550250'
      const contact = await addConsentingContact(ctx, number, { firstName: 'Erin' })
      await postInbound(ctx, number, 'What are your hours?')
      ctx.clock.advance(MINUTE)
      await postInbound(ctx, number, 'STOP')
      const before = await consentEvents(ctx, contact.id)
      expect(before.map((e) => e.type)).toEqual(['opt_in', 'opt_out'])
      expect(await inboundOf(number)).toHaveLength(2)

      expect((await ctx.app.inject({ method: 'DELETE', url: `/contacts/${contact.id}`, headers: ctx.headers })).statusCode).toBe(204)
      expect((await ctx.app.inject({ method: 'GET', url: `/contacts/${contact.id}`, headers: ctx.headers })).statusCode).toBe(404)
      expect(await get(`/consent-events?phoneNumber=${encodeURIComponent(number)}`)).toEqual({ items: before, nextCursor: null })
      expect(await get(`/consent-events?phoneNumber=${encodeURIComponent('(212) 555-0250')}`)).toEqual({ items: before, nextCursor: null })
      expect(await consentEvents(ctx, contact.id)).toEqual(before)
      expect(await inboundOf(number)).toEqual([])
    })

    it('pages through a trail by cursor, in the order things happened', async () => {
      const number = '+12125550251'
      await addConsentingContact(ctx, number)
      for (const text of ['HELP', 'STOP', 'START']) {
        ctx.clock.advance(MINUTE)
        await postInbound(ctx, number, text)
      }
      const seen: string[] = []
      let cursor: string | null = null
      do {
        const page: Page<ConsentEventView> = await get(`/consent-events?phoneNumber=%2B12125550251&limit=1${cursor === null ? '' : `&cursor=${cursor}`}`)
        seen.push(...page.items.map((e) => e.keyword ?? e.type))
        cursor = page.nextCursor
      } while (cursor !== null)
      expect(seen).toEqual(['opt_in', 'HELP', 'STOP', 'START'])
      const forged = await ctx.app.inject({ method: 'GET', url: '/consent-events?phoneNumber=%2B12125550251&cursor=bm9wZQ', headers: ctx.headers })
      expect(forged.statusCode).toBe(400)
      expect(forged.json()).toMatchObject({ code: 'INVALID_CURSOR' })
      const missing = await ctx.app.inject({ method: 'GET', url: '/consent-events', headers: ctx.headers })
      expect(missing.json()).toMatchObject({ statusCode: 400, code: 'FST_ERR_VALIDATION' })
    })
  })

  describe('GET /inbound-messages', () => {
    it('names the campaign of the last message handed over to the number before the reply, and filters by it', async () => {
      const number = '+12125550260'
      await addConsentingContact(ctx, number)
      const campaignId = newId()
      // Campaign messages are outbox rows like any other; write one as the dispatcher leaves it once handed over.
      const handle = openDatabase(ctx.config.databaseUrl)
      try {
        await handle.db.insertInto('messages').values({
          id: newId(),
          to_number: number,
          text: OUR_MESSAGE,
          sender_id: null,
          purpose: 'marketing',
          status: 'accepted',
          campaign_id: campaignId,
          segments: 1,
          encoding: 'GSM-7',
          origin: 'campaign',
          priority: 2,
          created_at: new Date(Date.parse(NOW) - 60 * MINUTE).toISOString(),
          updated_at: new Date(Date.parse(NOW) - 60 * MINUTE).toISOString(),
          sent_at: new Date(Date.parse(NOW) - 59 * MINUTE).toISOString()
        }).execute()
      } finally {
        await handle.close()
      }
      await postInbound(ctx, number, `Loved “${OUR_MESSAGE}”`)
      ctx.clock.advance(MINUTE)
      await postInbound(ctx, number, 'STOP')

      const answers = await get<Page<InboundMessage>>(`/inbound-messages?campaignId=${campaignId}`)
      expect(answers.items.map((m) => [m.phoneNumber, m.intent, m.campaignId])).toEqual([
        [number, 'opt_out', campaignId],
        [number, 'none', campaignId]
      ])
      // A single send via the API after the campaign: what the next reply answers is no campaign.
      ctx.clock.advance(MINUTE)
      expect((await sendSms(ctx, '+12125550261', 'x', 'transactional')).statusCode).toBe(202)
      const other = '+12125550262'
      await addConsentingContact(ctx, other)
      expect((await sendSms(ctx, other, 'Your receipt', 'transactional')).statusCode).toBe(202)
      ctx.clock.advance(MINUTE)
      await postInbound(ctx, other, 'thanks!')
      expect((await inboundOf(other)).map((m) => m.campaignId)).toEqual([null])
      expect((await get<Page<InboundMessage>>(`/inbound-messages?campaignId=${newId()}`)).items).toEqual([])
    })

    it('pages newest first and validates its filters', async () => {
      const number = '+12125550270'
      for (const text of ['one', 'two', 'three']) {
        ctx.clock.advance(1000)
        await postInbound(ctx, number, text)
      }
      const first = await get<Page<InboundMessage>>('/inbound-messages?phoneNumber=%2B12125550270&limit=2')
      expect(first.items.map((m) => m.text)).toEqual(['three', 'two'])
      const second = await get<Page<InboundMessage>>(`/inbound-messages?phoneNumber=%2B12125550270&limit=2&cursor=${first.nextCursor}`)
      expect(second).toEqual({ items: [expect.objectContaining({ text: 'one' })], nextCursor: null })
      const bad = await ctx.app.inject({ method: 'GET', url: '/inbound-messages?phoneNumber=3235550123', headers: ctx.headers })
      expect(bad.json()).toMatchObject({ statusCode: 400, code: 'AMBIGUOUS_PHONE_NUMBER' })
      expect((await ctx.app.inject({ method: 'GET', url: '/inbound-messages?limit=101', headers: ctx.headers })).statusCode).toBe(400)
      expect((await ctx.app.inject({ method: 'GET', url: '/inbound-messages' })).statusCode).toBe(401)
    })
  })
  it('STOPs with an empty messageId from two numbers are two opt-outs, not one message delivered twice', async () => {
    for (const number of ['+14155550114', '+14155550119']) {
      expect((await postInbound(ctx, number, 'STOP', { messageId: '' })).statusCode).toBe(200)
      const trail = await get<Page<ConsentEventView>>(`/consent-events?phoneNumber=${encodeURIComponent(number)}`)
      expect(trail.items.map((e) => e.type)).toEqual(['opt_out'])
    }
  })
})

describe('startup warnings', () => {
  it('says at startup that without WEBHOOK_SECRET no STOP can arrive, and names the default BRAND_NAME', async () => {
    const ctx = await startTestApp({ env: { WEBHOOK_SECRET: '', BRAND_NAME: '' } })
    try {
      const warnings = ctx.logs.map((l) => JSON.parse(l) as { level: number, msg: string }).filter((l) => l.level === 40).map((l) => l.msg)
      expect(warnings).toContain('WEBHOOK_SECRET is not set: Infobip webhooks are refused with 401, so STOP replies cannot arrive and opt-outs by SMS are lost')
      expect(warnings).toContain('BRAND_NAME is not set: HELP and STOP replies and the opt-out footer name the sender as "Our Brand"')
      expect((await postInbound(ctx, '+12125550280', 'STOP', { token: null })).statusCode).toBe(401)
    } finally {
      await ctx.close()
    }
  })
})
