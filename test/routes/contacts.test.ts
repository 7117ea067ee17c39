import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Contact } from '../../src/db/repositories/contacts.js'
import { API_KEY_LABEL, consentEvents, postInbound, sendSms } from '../support/api.js'
import { addConsentingContact, startTestApp, type TestContext } from '../support/app.js'

const NOW = '2026-06-15T16:00:00.000Z'
const DISCLOSURE = 'Yes, send me offers by SMS. Up to 4 msgs/week. Reply STOP to cancel.'

describe('contacts and consent', () => {
  let ctx: TestContext

  beforeAll(async () => { ctx = await startTestApp({ env: { RATE_LIMIT_MAX: '100000' } }) })
  afterAll(async () => { await ctx.close() })

  async function post (url: string, payload: unknown) {
    return await ctx.app.inject({ method: 'POST', url, headers: ctx.headers, payload: payload as Record<string, unknown> })
  }
  async function get (url: string) {
    return await ctx.app.inject({ method: 'GET', url, headers: ctx.headers })
  }

  describe('POST /contacts', () => {
    it('creates a contact with the number in E.164, its tags and time zone', async () => {
      ctx.clock.set(NOW)
      const response = await post('/contacts', {
        phoneNumber: '1 (212) 234-5601',
        firstName: 'Ada',
        lastName: 'Lovelace',
        tags: ['news', 'vip'],
        timezone: 'America/Chicago'
      })
      expect(response.statusCode).toBe(201)
      const contact = response.json<Contact>()
      expect(contact).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        phoneNumber: '+12122345601',
        firstName: 'Ada',
        lastName: 'Lovelace',
        tags: ['news', 'vip'],
        timezone: 'America/Chicago',
        attributes: {},
        subscribed: false,
        createdAt: NOW,
        updatedAt: NOW
      })
      const fetched = await get(`/contacts/${contact.id}`)
      expect(fetched.statusCode).toBe(200)
      expect(fetched.json()).toEqual(contact)
    })

    it('is subscribed when created with consent, and records the opt-in', async () => {
      const response = await post('/contacts', {
        phoneNumber: '+12122345602',
        consent: { source: 'web_form', text: DISCLOSURE, ip: '203.0.113.7', userAgent: 'Mozilla/5.0' }
      })
      expect(response.statusCode).toBe(201)
      const contact = response.json<Contact>()
      expect(contact).toMatchObject({ phoneNumber: '+12122345602', firstName: null, lastName: null, tags: [], timezone: null, subscribed: true })
      expect(await consentEvents(ctx, contact.id)).toEqual([{
        id: expect.any(String),
        type: 'opt_in',
        phoneNumber: '+12122345602',
        source: 'web_form',
        text: DISCLOSURE,
        ip: '203.0.113.7',
        userAgent: 'Mozilla/5.0',
        keyword: null,
        occurredAt: NOW,
        recordedAt: NOW,
        recordedBy: API_KEY_LABEL,
        requestId: response.headers['x-request-id'],
        fileName: null
      }])
    })

    it('answers 409 CONFLICT for a number that is already a contact, also written without +', async () => {
      const first = await post('/contacts', { phoneNumber: '+12122345603' })
      expect(first.statusCode).toBe(201)
      for (const phoneNumber of ['+12122345603', '12122345603', '+1 212 234 5603']) {
        const again = await post('/contacts', { phoneNumber, firstName: 'Twin' })
        expect(again.statusCode).toBe(409)
        expect(again.json()).toEqual({
          statusCode: 409,
          error: 'Conflict',
          code: 'CONFLICT',
          message: expect.stringContaining('+12122345603')
        })
      }
      const list = await get(`/contacts?phoneNumber=${encodeURIComponent('+12122345603')}`)
      expect(list.json<{ items: Contact[] }>().items).toHaveLength(1)
      expect(list.json<{ items: Contact[] }>().items[0]?.firstName).toBeNull()
    })

    it('refuses a number that is not a real phone number with 400 INVALID_PHONE_NUMBER', async () => {
      const fake = await post('/contacts', { phoneNumber: '+10000000000' })
      expect(fake.statusCode).toBe(400)
      expect(fake.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'INVALID_PHONE_NUMBER' })
      const letters = await post('/contacts', { phoneNumber: 'call me maybe' })
      expect(letters.statusCode).toBe(400)
      expect(letters.json()).toMatchObject({ statusCode: 400, code: 'INVALID_PHONE_NUMBER', message: 'phoneNumber contains letters ("call"): write the number in digits, with + and the country code' })
      const tooLong = await post('/contacts', { phoneNumber: '1'.repeat(33) })
      expect(tooLong.json()).toMatchObject({ statusCode: 400, code: 'FST_ERR_VALIDATION', message: 'body/phoneNumber must NOT have more than 32 characters' })
    })

    it('refuses an unknown time zone with 400 INVALID_TIME_ZONE', async () => {
      const response = await post('/contacts', { phoneNumber: '+12122345604', timezone: 'Mars/Olympus_Mons' })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'INVALID_TIME_ZONE',
        message: expect.stringContaining('Mars/Olympus_Mons')
      })
      // Nothing was stored.
      const list = await get(`/contacts?phoneNumber=${encodeURIComponent('+12122345604')}`)
      expect(list.json()).toEqual({ items: [], nextCursor: null })
    })

    it('refuses extra properties and malformed bodies with 400', async () => {
      const extra = await post('/contacts', { phoneNumber: '+12122345605', email: 'ada@example.com' })
      expect(extra.statusCode).toBe(400)
      expect(extra.json()).toMatchObject({ statusCode: 400, code: 'FST_ERR_VALIDATION' })

      const extraInConsent = await post('/contacts', { phoneNumber: '+12122345605', consent: { source: 'web_form', text: DISCLOSURE, checkbox: true } })
      expect(extraInConsent.statusCode).toBe(400)
      expect(extraInConsent.json()).toMatchObject({ code: 'FST_ERR_VALIDATION' })

      const noNumber = await post('/contacts', { firstName: 'Nobody' })
      expect(noNumber.statusCode).toBe(400)
      expect(noNumber.json()).toMatchObject({ code: 'FST_ERR_VALIDATION' })

      const list = await get(`/contacts?phoneNumber=${encodeURIComponent('+12122345605')}`)
      expect(list.json()).toEqual({ items: [], nextCursor: null })
    })

    it('needs an API key', async () => {
      const response = await ctx.app.inject({ method: 'POST', url: '/contacts', payload: { phoneNumber: '+12122345606' } })
      expect(response.statusCode).toBe(401)
      expect(response.json()).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' })
    })
  })

  describe('GET and PATCH /contacts/:id', () => {
    it('answers 404 NOT_FOUND for an unknown id and 400 for an id that is not one', async () => {
      const unknown = await get('/contacts/01900000-0000-7000-8000-000000000000')
      expect(unknown.statusCode).toBe(404)
      expect(unknown.json()).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'NOT_FOUND' })
      const bad = await get('/contacts/not-an-id')
      expect(bad.statusCode).toBe(400)
    })

    it('replaces the tags, clears the time zone with null and keeps what was not sent', async () => {
      ctx.clock.set(NOW)
      const created = (await post('/contacts', { phoneNumber: '+12122345610', firstName: 'Grace', lastName: 'Hopper', tags: ['a', 'b'], timezone: 'America/Denver' })).json<Contact>()
      ctx.clock.set('2026-06-15T17:30:00.000Z')
      const patched = await ctx.app.inject({ method: 'PATCH', url: `/contacts/${created.id}`, headers: ctx.headers, payload: { tags: ['c'], timezone: null, lastName: 'Murray Hopper' } })
      expect(patched.statusCode).toBe(200)
      const expected = { ...created, tags: ['c'], timezone: null, lastName: 'Murray Hopper', updatedAt: '2026-06-15T17:30:00.000Z' }
      expect(patched.json()).toEqual(expected)
      expect((await get(`/contacts/${created.id}`)).json()).toEqual(expected)

      const tagA = (await get('/contacts?tag=a&limit=100')).json<{ items: Contact[] }>().items.map((c) => c.id)
      expect(tagA).not.toContain(created.id)
      const tagC = (await get('/contacts?tag=c&limit=100')).json<{ items: Contact[] }>().items.map((c) => c.id)
      expect(tagC).toEqual([created.id])

      const clearTags = await ctx.app.inject({ method: 'PATCH', url: `/contacts/${created.id}`, headers: ctx.headers, payload: { tags: [] } })
      expect(clearTags.json<Contact>().tags).toEqual([])
      ctx.clock.set(NOW)
    })

    it('refuses a bad PATCH: unknown zone, extra property, empty body, unknown id', async () => {
      const created = (await post('/contacts', { phoneNumber: '+12122345611', timezone: 'Europe/Paris' })).json<Contact>()
      const patch = async (id: string, payload: Record<string, unknown>) =>
        await ctx.app.inject({ method: 'PATCH', url: `/contacts/${id}`, headers: ctx.headers, payload })

      const zone = await patch(created.id, { timezone: 'Atlantis/Capital' })
      expect(zone.statusCode).toBe(400)
      expect(zone.json()).toMatchObject({ code: 'INVALID_TIME_ZONE' })
      const extra = await patch(created.id, { phoneNumber: '+12122345699' })
      expect(extra.statusCode).toBe(400)
      expect(extra.json()).toMatchObject({ code: 'FST_ERR_VALIDATION' })
      const empty = await patch(created.id, {})
      expect(empty.statusCode).toBe(400)
      const missing = await patch('01900000-0000-7000-8000-000000000000', { firstName: 'X' })
      expect(missing.statusCode).toBe(404)
      expect(missing.json()).toMatchObject({ code: 'NOT_FOUND' })

      expect((await get(`/contacts/${created.id}`)).json()).toEqual(created)
    })
  })

  describe('GET /contacts (filters and cursor pagination)', () => {
    it('filters by tag, subscribed and phone number and pages through every match exactly once', async () => {
      const made: Contact[] = []
      for (let i = 0; i < 7; i++) {
        const response = await post('/contacts', {
          phoneNumber: `+1213234570${i}`,
          tags: i % 2 === 0 ? ['paging', 'even'] : ['paging'],
          ...(i < 3 ? { consent: { source: 'api', text: DISCLOSURE } } : {})
        })
        expect(response.statusCode).toBe(201)
        made.push(response.json<Contact>())
      }

      const seen: Contact[] = []
      let cursor: string | null = null
      let pages = 0
      do {
        const query: string = `/contacts?tag=paging&limit=3${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
        const response = await get(query)
        expect(response.statusCode).toBe(200)
        const body = response.json<{ items: Contact[], nextCursor: string | null }>()
        expect(body.items.length).toBeLessThanOrEqual(3)
        seen.push(...body.items)
        cursor = body.nextCursor
        pages++
      } while (cursor !== null && pages < 10)
      expect(pages).toBe(3)
      expect(seen.map((c) => c.id)).toEqual(made.map((c) => c.id))
      expect(seen).toEqual(made)

      const even = (await get('/contacts?tag=even&limit=100')).json<{ items: Contact[] }>().items
      expect(even.map((c) => c.phoneNumber)).toEqual(['+12132345700', '+12132345702', '+12132345704', '+12132345706'])

      const subscribed = (await get('/contacts?tag=paging&subscribed=true&limit=100')).json<{ items: Contact[] }>().items
      expect(subscribed.map((c) => c.phoneNumber)).toEqual(['+12132345700', '+12132345701', '+12132345702'])
      const unsubscribed = (await get('/contacts?tag=paging&subscribed=false&limit=100')).json<{ items: Contact[] }>().items
      expect(unsubscribed.map((c) => c.phoneNumber)).toEqual(['+12132345703', '+12132345704', '+12132345705', '+12132345706'])

      const byNumber = await get('/contacts?phoneNumber=12132345705')
      expect(byNumber.json()).toEqual({ items: [made[5]], nextCursor: null })
      const byFormattedNumber = await get(`/contacts?phoneNumber=${encodeURIComponent('+1 213 234 5705')}`)
      expect(byFormattedNumber.json()).toEqual({ items: [made[5]], nextCursor: null })

      const none = await get('/contacts?tag=no-such-tag')
      expect(none.json()).toEqual({ items: [], nextCursor: null })
    })

    it('refuses a bad limit, a forged cursor and an unknown filter with 400', async () => {
      expect((await get('/contacts?limit=0')).statusCode).toBe(400)
      expect((await get('/contacts?limit=101')).statusCode).toBe(400)
      const cursor = await get('/contacts?cursor=bm90LWFuLWlk')
      expect(cursor.statusCode).toBe(400)
      expect(cursor.json()).toMatchObject({ code: 'INVALID_CURSOR' })
      expect((await get('/contacts?colour=blue')).statusCode).toBe(400)
    })
  })

  describe('POST /contacts/:id/consent and GET /contacts/:id/consent-events', () => {
    it('records an opt-in with its source, exact text, ip and user agent', async () => {
      ctx.clock.set(NOW)
      const contact = (await post('/contacts', { phoneNumber: '+12122345620' })).json<Contact>()
      expect(contact.subscribed).toBe(false)
      const text = 'I agree to receive recurring automated marketing texts from Acme at this number. Consent is not a condition of purchase. Msg & data rates may apply. Reply HELP for help, STOP to cancel.'
      const response = await post(`/contacts/${contact.id}/consent`, {
        source: 'paper', text, ip: '198.51.100.23', userAgent: 'Kiosk/2.1', collectedAt: '2026-06-14T10:00:00.000Z'
      })
      expect(response.statusCode).toBe(201)
      expect(response.json()).toEqual({
        id: expect.any(String),
        type: 'opt_in',
        phoneNumber: '+12122345620',
        source: 'paper',
        text,
        ip: '198.51.100.23',
        userAgent: 'Kiosk/2.1',
        keyword: null,
        occurredAt: '2026-06-14T10:00:00.000Z',
        recordedAt: NOW,
        recordedBy: API_KEY_LABEL,
        requestId: response.headers['x-request-id'],
        fileName: null
      })
      expect((await get(`/contacts/${contact.id}`)).json<Contact>().subscribed).toBe(true)
      expect(await consentEvents(ctx, contact.id)).toEqual([response.json()])

      const marketing = await sendSms(ctx, '+12122345620', 'Summer sale: 20% off everything')
      expect(marketing.statusCode).toBe(202)
    })

    it('refuses consent without its text, collected in the future, or for an unknown contact', async () => {
      const contact = (await post('/contacts', { phoneNumber: '+12122345621' })).json<Contact>()
      const noText = await post(`/contacts/${contact.id}/consent`, { source: 'web_form' })
      expect(noText.statusCode).toBe(400)
      const emptyText = await post(`/contacts/${contact.id}/consent`, { source: 'web_form', text: '' })
      expect(emptyText.statusCode).toBe(400)
      const future = await post(`/contacts/${contact.id}/consent`, { source: 'web_form', text: DISCLOSURE, collectedAt: '2026-06-16T16:00:00.000Z' })
      expect(future.statusCode).toBe(400)
      expect(future.json()).toMatchObject({ code: 'BAD_REQUEST' })
      const unknown = await post('/contacts/01900000-0000-7000-8000-000000000000/consent', { source: 'web_form', text: DISCLOSURE })
      expect(unknown.statusCode).toBe(404)
      expect(unknown.json()).toMatchObject({ code: 'NOT_FOUND' })

      expect(await consentEvents(ctx, contact.id)).toEqual([])
      expect((await get(`/contacts/${contact.id}`)).json<Contact>().subscribed).toBe(false)
    })

    it('lists opt_in, help and opt_out events in order with the raw text and keyword', async () => {
      ctx.clock.set(NOW)
      const contact = await addConsentingContact(ctx, '+12122345622')
      expect((await postInbound(ctx, '+12122345622', 'help')).statusCode).toBe(200)
      expect((await postInbound(ctx, '+12122345622', 'Please STOP texting me!')).statusCode).toBe(200)
      const trail = await consentEvents(ctx, contact.id)
      expect(trail.map((e) => [e.type, e.source, e.keyword, e.text])).toEqual([
        ['opt_in', 'web_form', null, DISCLOSURE],
        ['help', 'keyword', 'HELP', 'help'],
        ['opt_out', 'keyword', 'STOP', 'Please STOP texting me!']
      ])
      expect(trail.every((e) => e.phoneNumber === '+12122345622')).toBe(true)
      expect((await get(`/contacts/${contact.id}`)).json<Contact>().subscribed).toBe(false)
    })

    it('answers 404 for the consent trail of an unknown contact', async () => {
      const response = await get('/contacts/01900000-0000-7000-8000-000000000000/consent-events')
      expect(response.statusCode).toBe(404)
      expect(response.json()).toMatchObject({ code: 'NOT_FOUND' })
    })
  })

  describe('POST /contacts/:id/opt-out', () => {
    it('opts the contact out at once: unsubscribed, recorded, and marketing refused with 422 RECIPIENT_OPTED_OUT', async () => {
      ctx.clock.set(NOW)
      const contact = await addConsentingContact(ctx, '+12122345630')
      expect((await sendSms(ctx, '+12122345630', 'Flash sale today')).statusCode).toBe(202)

      const response = await post(`/contacts/${contact.id}/opt-out`, { reason: 'Asked on the phone' })
      expect(response.statusCode).toBe(201)
      expect(response.json()).toEqual({
        id: expect.any(String),
        type: 'opt_out',
        phoneNumber: '+12122345630',
        source: 'api',
        text: 'Asked on the phone',
        ip: null,
        userAgent: null,
        keyword: null,
        occurredAt: NOW,
        recordedAt: NOW,
        recordedBy: API_KEY_LABEL,
        requestId: response.headers['x-request-id'],
        fileName: null
      })
      expect((await get(`/contacts/${contact.id}`)).json<Contact>().subscribed).toBe(false)

      const sentBefore = ctx.fake.sendRequests().length
      const marketing = await sendSms(ctx, '+12122345630', 'Another flash sale')
      expect(marketing.statusCode).toBe(422)
      expect(marketing.json()).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity', code: 'RECIPIENT_OPTED_OUT', messageId: expect.any(String) })
      const transactional = await sendSms(ctx, '+12122345630', 'Your order shipped', 'transactional')
      expect(transactional.statusCode).toBe(422)
      expect(transactional.json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
      expect(ctx.fake.sendRequests()).toHaveLength(sentBefore)

      const trail = await consentEvents(ctx, contact.id)
      expect(trail.map((e) => e.type)).toEqual(['opt_in', 'opt_out'])
      const optOuts = (await get('/opt-outs?limit=100')).json<{ items: Array<{ phoneNumber: string }> }>().items
      expect(optOuts.map((s) => s.phoneNumber)).toContain('+12122345630')
    })

    it('works without a reason and answers 404 for an unknown contact', async () => {
      const contact = await addConsentingContact(ctx, '+12122345631')
      const response = await post(`/contacts/${contact.id}/opt-out`, {})
      expect(response.statusCode).toBe(201)
      expect(response.json()).toMatchObject({ type: 'opt_out', source: 'api', text: null })
      const unknown = await post('/contacts/01900000-0000-7000-8000-000000000000/opt-out', {})
      expect(unknown.statusCode).toBe(404)
      const extra = await post(`/contacts/${contact.id}/opt-out`, { reason: 'x', when: 'now' })
      expect(extra.statusCode).toBe(400)
    })

    it('a later opt-in with fresh evidence lifts the suppression', async () => {
      ctx.clock.set(NOW)
      const contact = await addConsentingContact(ctx, '+12122345632')
      expect((await post(`/contacts/${contact.id}/opt-out`, {})).statusCode).toBe(201)
      expect((await sendSms(ctx, '+12122345632', 'Deals')).statusCode).toBe(422)

      // Evidence collected before the opt-out does not undo it.
      const stale = await post(`/contacts/${contact.id}/consent`, { source: 'paper', text: DISCLOSURE, collectedAt: '2026-06-01T12:00:00.000Z' })
      expect(stale.statusCode).toBe(201)
      expect((await get(`/contacts/${contact.id}`)).json<Contact>().subscribed).toBe(false)
      expect((await sendSms(ctx, '+12122345632', 'Deals')).json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })

      ctx.clock.advance(60_000)
      const fresh = await post(`/contacts/${contact.id}/consent`, { source: 'web_form', text: DISCLOSURE })
      expect(fresh.statusCode).toBe(201)
      expect((await get(`/contacts/${contact.id}`)).json<Contact>().subscribed).toBe(true)
      expect((await sendSms(ctx, '+12122345632', 'Deals')).statusCode).toBe(202)
      ctx.clock.set(NOW)
    })
  })

  describe('POST /opt-outs and GET /opt-outs', () => {
    it('suppresses a number that is not a contact and lists it', async () => {
      ctx.clock.set(NOW)
      const response = await post('/opt-outs', { phoneNumber: '1 212 234 5640', reason: 'Complaint by letter' })
      expect(response.statusCode).toBe(201)
      expect(response.json()).toEqual({ phoneNumber: '+12122345640', reason: 'Complaint by letter', source: 'api', createdAt: NOW })

      const list = await get('/opt-outs?limit=100')
      expect(list.statusCode).toBe(200)
      expect(list.json<{ items: unknown[] }>().items).toContainEqual({ phoneNumber: '+12122345640', reason: 'Complaint by letter', source: 'api', createdAt: NOW })

      const transactional = await sendSms(ctx, '+12122345640', 'Your code is 1234', 'transactional')
      expect(transactional.statusCode).toBe(422)
      expect(transactional.json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })

      // The number becomes a contact later: it is born unsubscribed and the earlier opt-out is in its trail.
      const contact = await post('/contacts', { phoneNumber: '+12122345640' })
      expect(contact.statusCode).toBe(201)
      expect(contact.json<Contact>().subscribed).toBe(false)
      const trail = await consentEvents(ctx, contact.json<Contact>().id)
      expect(trail.map((e) => [e.type, e.source, e.text])).toEqual([['opt_out', 'api', 'Complaint by letter']])
    })

    it('pages through the opt-outs by cursor', async () => {
      for (const n of ['+12122345641', '+12122345642', '+12122345643']) {
        expect((await post('/opt-outs', { phoneNumber: n })).statusCode).toBe(201)
      }
      const all: string[] = []
      let cursor: string | null = null
      for (let i = 0; i < 50; i++) {
        const url: string = `/opt-outs?limit=2${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
        const body = (await get(url)).json<{ items: Array<{ phoneNumber: string }>, nextCursor: string | null }>()
        expect(body.items.length).toBeLessThanOrEqual(2)
        all.push(...body.items.map((s) => s.phoneNumber))
        cursor = body.nextCursor
        if (cursor === null) break
      }
      expect(all).toEqual([...all].sort())
      expect(new Set(all).size).toBe(all.length)
      expect(all).toEqual(expect.arrayContaining(['+12122345641', '+12122345642', '+12122345643']))
    })

    it('refuses an invalid number with 400', async () => {
      const response = await post('/opt-outs', { phoneNumber: '+10000000000' })
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ code: 'INVALID_PHONE_NUMBER' })
    })
  })

  describe('DELETE /contacts/:id', () => {
    it('erases the profile (204, then 404) but the opted-out number stays suppressed and its ledger stays', async () => {
      ctx.clock.set(NOW)
      const contact = await addConsentingContact(ctx, '+12122345650', { firstName: 'Erin', tags: ['gdpr'] })
      expect((await post(`/contacts/${contact.id}/opt-out`, { reason: 'Do not contact' })).statusCode).toBe(201)
      const before = await consentEvents(ctx, contact.id)
      expect(before.map((e) => e.type)).toEqual(['opt_in', 'opt_out'])

      const deleted = await ctx.app.inject({ method: 'DELETE', url: `/contacts/${contact.id}`, headers: ctx.headers })
      expect(deleted.statusCode).toBe(204)
      expect(deleted.body).toBe('')

      const gone = await get(`/contacts/${contact.id}`)
      expect(gone.statusCode).toBe(404)
      expect(gone.json()).toMatchObject({ code: 'NOT_FOUND' })
      // The trail is kept: still readable under the erased contact's id and by number.
      expect(await consentEvents(ctx, contact.id)).toEqual(before)
      expect((await get('/consent-events?phoneNumber=%2B12122345650')).json()).toEqual({ items: before, nextCursor: null })
      expect((await get('/contacts?tag=gdpr')).json()).toEqual({ items: [], nextCursor: null })
      const again = await ctx.app.inject({ method: 'DELETE', url: `/contacts/${contact.id}`, headers: ctx.headers })
      expect(again.statusCode).toBe(404)

      const sentBefore = ctx.fake.sendRequests().length
      const transactional = await sendSms(ctx, '+12122345650', 'Your receipt', 'transactional')
      expect(transactional.statusCode).toBe(422)
      expect(transactional.json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
      expect(ctx.fake.sendRequests()).toHaveLength(sentBefore)

      // The ledger is by number: a new contact for the same number sees the old events.
      const recreated = await post('/contacts', { phoneNumber: '+12122345650' })
      expect(recreated.statusCode).toBe(201)
      expect(recreated.json<Contact>()).toMatchObject({ firstName: null, tags: [], subscribed: false })
      expect(recreated.json<Contact>().id).not.toBe(contact.id)
      expect(await consentEvents(ctx, recreated.json<Contact>().id)).toEqual(before)
      expect((await sendSms(ctx, '+12122345650', 'Welcome back offer')).json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
    })

    it('a contact re-created for a number whose ledger ends in an opt-in shows the subscription the gate applies', async () => {
      ctx.clock.set(NOW)
      const contact = await addConsentingContact(ctx, '+12122345651')
      expect((await ctx.app.inject({ method: 'DELETE', url: `/contacts/${contact.id}`, headers: ctx.headers })).statusCode).toBe(204)
      const recreated = await post('/contacts', { phoneNumber: '+12122345651' })
      expect(recreated.statusCode).toBe(201)
      const marketing = await sendSms(ctx, '+12122345651', 'Weekend deals')
      const allowed = marketing.statusCode === 202
      if (!allowed) expect(marketing.json()).toMatchObject({ statusCode: 422, code: 'NO_CONSENT' })
      // Whatever the gate decides from the ledger, the contact's flag must say the same.
      expect(recreated.json<Contact>().subscribed).toBe(allowed)
      expect((await get(`/contacts?phoneNumber=12122345651&subscribed=${String(allowed)}`)).json<{ items: unknown[] }>().items).toHaveLength(1)
    })

    it('answers 404 for an unknown contact', async () => {
      const response = await ctx.app.inject({ method: 'DELETE', url: '/contacts/01900000-0000-7000-8000-000000000000', headers: ctx.headers })
      expect(response.statusCode).toBe(404)
    })
  })
})
