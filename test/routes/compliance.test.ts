import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { getMessage, messagesTo, sendSms } from '../support/api.js'
import { addConsentingContact, DAYTIME, startTestApp, type TestContext } from '../support/app.js'

const HOUR = 60 * 60 * 1000
const FOOTER = 'Reply STOP to opt out.'

describe('compliance gate on POST /send-sms', () => {
  let ctx: TestContext

  beforeAll(async () => { ctx = await startTestApp({ env: { RATE_LIMIT_MAX: '100000' } }) })
  afterAll(async () => { await ctx.close() })
  beforeEach(() => { ctx.clock.set(DAYTIME) })

  function textsReceivedBy (number: string): string[] {
    const digits = number.replace(/^\+/, '')
    return ctx.fake.sendRequests().flatMap((request) => {
      const body = request.body as { messages: Array<{ text: string, destinations: Array<{ to: string }> }> }
      return body.messages.filter((m) => m.destinations.some((d) => d.to === digits)).map((m) => m.text)
    })
  }
  async function metricValue (outcome: string, reason: string): Promise<number> {
    const response = await ctx.app.inject({ method: 'GET', url: '/metrics' })
    expect(response.statusCode).toBe(200)
    const line = response.body.split('\n').find((l) => l.startsWith(`sms_compliance_decisions_total{outcome="${outcome}",reason="${reason}"} `))
    return line === undefined ? 0 : Number(line.split(' ').at(-1))
  }

  describe('consent', () => {
    it('refuses marketing to a number without consent (422 NO_CONSENT) and lets transactional through', async () => {
      const number = '+12122347001'
      const refused = await sendSms(ctx, number, 'Members-only sale this weekend')
      expect(refused.statusCode).toBe(422)
      expect(refused.json()).toEqual({
        statusCode: 422,
        error: 'Unprocessable Entity',
        code: 'NO_CONSENT',
        message: expect.any(String),
        messageId: expect.any(String)
      })

      const transactional = await sendSms(ctx, number, 'Your verification code is 834211', 'transactional')
      expect(transactional.statusCode).toBe(202)
      expect(transactional.json()).toMatchObject({ message: 'SMS accepted for delivery.', status: 'accepted', to: number })
      expect(textsReceivedBy(number)).toEqual(['Your verification code is 834211'])

      // The refusal is on record, with its reason.
      const [sent, suppressed] = await messagesTo(ctx, number)
      expect(suppressed).toMatchObject({
        id: refused.json<{ messageId: string }>().messageId,
        to: number,
        text: 'Members-only sale this weekend',
        purpose: 'marketing',
        status: 'suppressed',
        decisionReason: expect.stringMatching(/^NO_CONSENT\b/)
      })
      expect(sent).toMatchObject({ purpose: 'transactional', status: 'accepted', decisionReason: null })
      expect(await getMessage(ctx, suppressed!.id)).toMatchObject({ status: 'suppressed', decisionReason: expect.stringMatching(/^NO_CONSENT/) })
    })

    it('a contact without recorded consent is refused as well, and allowed once consent is recorded', async () => {
      const number = '+12122347002'
      const contact = await ctx.app.inject({ method: 'POST', url: '/contacts', headers: ctx.headers, payload: { phoneNumber: number } })
      expect((await sendSms(ctx, number, 'Hello there')).json()).toMatchObject({ code: 'NO_CONSENT' })
      const consent = await ctx.app.inject({
        method: 'POST',
        url: `/contacts/${contact.json<{ id: string }>().id}/consent`,
        headers: ctx.headers,
        payload: { source: 'web_form', text: 'Yes, text me offers.' }
      })
      expect(consent.statusCode).toBe(201)
      expect((await sendSms(ctx, number, 'Hello there')).statusCode).toBe(202)
    })
  })

  describe('quiet hours', () => {
    it('refuses marketing at 23:00 in New York with nextAllowedAt 08:00 EDT, and lets transactional through', async () => {
      const number = '+12122347010'
      await addConsentingContact(ctx, number)
      ctx.clock.set('2026-06-16T03:00:00Z')
      const refused = await sendSms(ctx, number, 'Late-night deal')
      expect(refused.statusCode).toBe(422)
      expect(refused.json()).toEqual({
        statusCode: 422,
        error: 'Unprocessable Entity',
        code: 'QUIET_HOURS',
        message: expect.stringContaining('America/New_York'),
        messageId: expect.any(String),
        nextAllowedAt: '2026-06-16T12:00:00.000Z'
      })
      expect(textsReceivedBy(number)).toEqual([])
      expect(await messagesTo(ctx, number)).toEqual([expect.objectContaining({ status: 'suppressed', decisionReason: expect.stringMatching(/^QUIET_HOURS/) })])

      expect((await sendSms(ctx, number, 'Your password was changed', 'transactional')).statusCode).toBe(202)

      ctx.clock.set('2026-06-16T11:59:00Z')
      expect((await sendSms(ctx, number, 'Early bird')).json()).toMatchObject({ code: 'QUIET_HOURS', nextAllowedAt: '2026-06-16T12:00:00.000Z' })
      ctx.clock.set('2026-06-16T12:00:00Z')
      expect((await sendSms(ctx, number, 'Good morning deal')).statusCode).toBe(202)
      ctx.clock.set('2026-06-16T00:59:00Z')
      expect((await sendSms(ctx, number, 'Evening deal')).statusCode).toBe(202)
      ctx.clock.set('2026-06-16T01:00:00Z')
      expect((await sendSms(ctx, number, 'Evening deal')).json()).toMatchObject({ code: 'QUIET_HOURS', nextAllowedAt: '2026-06-16T12:00:00.000Z' })
    })

    it("uses the contact's stored time zone over the number's", async () => {
      // A New York number whose owner lives in Los Angeles: 03:00Z is 20:00 there.
      const nyNumber = '+12122347011'
      const contact = await addConsentingContact(ctx, nyNumber, { timezone: 'America/Los_Angeles' })
      ctx.clock.set('2026-06-16T03:00:00Z')
      expect((await sendSms(ctx, nyNumber, 'West coast deal')).statusCode).toBe(202)
      ctx.clock.set('2026-06-16T04:30:00Z')
      expect((await sendSms(ctx, nyNumber, 'West coast deal')).json()).toMatchObject({ code: 'QUIET_HOURS', nextAllowedAt: '2026-06-16T15:00:00.000Z' })

      // Clearing the stored zone falls back to the number's zone.
      const patched = await ctx.app.inject({ method: 'PATCH', url: `/contacts/${contact.id}`, headers: ctx.headers, payload: { timezone: null } })
      expect(patched.statusCode).toBe(200)
      ctx.clock.set('2026-06-16T03:00:00Z')
      expect((await sendSms(ctx, nyNumber, 'West coast deal')).json()).toMatchObject({ code: 'QUIET_HOURS', nextAllowedAt: '2026-06-16T12:00:00.000Z' })

      // And the other way round: a Los Angeles number whose owner lives in New York.
      const laNumber = '+13102347011'
      await addConsentingContact(ctx, laNumber, { timezone: 'America/New_York' })
      expect((await sendSms(ctx, laNumber, 'East coast deal')).json()).toMatchObject({ code: 'QUIET_HOURS', nextAllowedAt: '2026-06-16T12:00:00.000Z' })
      const laLocal = '+13102347012'
      await addConsentingContact(ctx, laLocal)
      expect((await sendSms(ctx, laLocal, 'Local deal')).statusCode).toBe(202)
    })

    it('applies the Texas Sunday rule: 10:00 on a Sunday waits until 12:00 local', async () => {
      const number = '+15122347020'
      await addConsentingContact(ctx, number)
      // Sunday 2026-06-14, 10:00 CDT.
      ctx.clock.set('2026-06-14T15:00:00Z')
      const refused = await sendSms(ctx, number, 'Sunday brunch deal')
      expect(refused.statusCode).toBe(422)
      expect(refused.json()).toMatchObject({ code: 'QUIET_HOURS', nextAllowedAt: '2026-06-14T17:00:00.000Z', message: expect.stringContaining('America/Chicago') })
      ctx.clock.set('2026-06-14T17:00:00Z')
      expect((await sendSms(ctx, number, 'Sunday brunch deal')).statusCode).toBe(202)
      // Monday 10:00 CDT is fine; Saturday 08:30 waits for 09:00.
      ctx.clock.set('2026-06-15T15:00:00Z')
      expect((await sendSms(ctx, number, 'Monday deal')).statusCode).toBe(202)
      ctx.clock.set('2026-06-13T13:30:00Z')
      expect((await sendSms(ctx, number, 'Saturday deal')).json()).toMatchObject({ code: 'QUIET_HOURS', nextAllowedAt: '2026-06-13T14:00:00.000Z' })
      // A New York number at the same Sunday instant (11:00 EDT) has no such rule.
      const ny = '+12122347020'
      await addConsentingContact(ctx, ny)
      ctx.clock.set('2026-06-14T15:00:00Z')
      expect((await sendSms(ctx, ny, 'Sunday brunch deal')).statusCode).toBe(202)
    })

    it('applies the Florida window (08:00-20:00)', async () => {
      const number = '+13052347030'
      await addConsentingContact(ctx, number)
      ctx.clock.set('2026-06-16T00:30:00Z') // 20:30 EDT
      expect((await sendSms(ctx, number, 'Evening deal')).json()).toMatchObject({ code: 'QUIET_HOURS', nextAllowedAt: '2026-06-16T12:00:00.000Z' })
    })
  })

  describe('frequency cap', () => {
    it('allows 3 marketing messages per 24 h to a Florida number; the 4th gets 422 FREQUENCY_CAP', async () => {
      const number = '+13052347040'
      await addConsentingContact(ctx, number)
      for (let i = 1; i <= 3; i++) {
        ctx.clock.set(new Date(DAYTIME.getTime() + i * 60_000))
        expect((await sendSms(ctx, number, `Offer ${i}`)).statusCode).toBe(202)
      }
      ctx.clock.set(new Date(DAYTIME.getTime() + 4 * 60_000))
      const fourth = await sendSms(ctx, number, 'Offer 4')
      expect(fourth.statusCode).toBe(422)
      // The fourth may go once the first of the three (sent at +1 min) is 24 h old.
      expect(fourth.json()).toMatchObject({
        statusCode: 422,
        code: 'FREQUENCY_CAP',
        messageId: expect.any(String),
        nextAllowedAt: new Date(DAYTIME.getTime() + 60_000 + 24 * HOUR).toISOString()
      })
      expect(textsReceivedBy(number)).toHaveLength(3)
      expect((await messagesTo(ctx, number))[0]).toMatchObject({ text: 'Offer 4', status: 'suppressed', decisionReason: expect.stringMatching(/^FREQUENCY_CAP/) })

      // Transactional messages are not capped.
      expect((await sendSms(ctx, number, 'Your receipt', 'transactional')).statusCode).toBe(202)

      // Still refused just before the first of the three is 24 h old; allowed again once it is older.
      ctx.clock.set(new Date(DAYTIME.getTime() + 60_000 + 24 * HOUR - 1000))
      expect((await sendSms(ctx, number, 'Offer 5')).json()).toMatchObject({ code: 'FREQUENCY_CAP' })
      ctx.clock.set(new Date(DAYTIME.getTime() + 60_000 + 24 * HOUR + 1000))
      expect((await sendSms(ctx, number, 'Offer 5')).statusCode).toBe(202)
      // Two of the earlier three are still inside the window: with this one that makes three again.
      ctx.clock.set(new Date(DAYTIME.getTime() + 60_000 + 24 * HOUR + 2000))
      expect((await sendSms(ctx, number, 'Offer 6')).json()).toMatchObject({
        code: 'FREQUENCY_CAP',
        nextAllowedAt: new Date(DAYTIME.getTime() + 2 * 60_000 + 24 * HOUR).toISOString()
      })
      // A day after the last of them, the number may get three more.
      ctx.clock.set(new Date(DAYTIME.getTime() + 48 * HOUR + 2 * 60_000))
      for (let i = 7; i <= 9; i++) expect((await sendSms(ctx, number, `Offer ${i}`)).statusCode).toBe(202)
      expect((await sendSms(ctx, number, 'Offer 10')).json()).toMatchObject({ code: 'FREQUENCY_CAP' })
    })

    it('counts neither transactional nor refused messages', async () => {
      const number = '+13052347041'
      await addConsentingContact(ctx, number)
      for (let i = 0; i < 4; i++) expect((await sendSms(ctx, number, `Code ${i}`, 'transactional')).statusCode).toBe(202)
      ctx.clock.set('2026-06-16T03:00:00Z')
      for (let i = 0; i < 2; i++) expect((await sendSms(ctx, number, 'Night offer')).json()).toMatchObject({ code: 'QUIET_HOURS' })
      ctx.clock.set(new Date(DAYTIME.getTime() + HOUR))
      for (let i = 1; i <= 3; i++) expect((await sendSms(ctx, number, `Offer ${i}`)).statusCode).toBe(202)
      expect((await sendSms(ctx, number, 'Offer 4')).json()).toMatchObject({ code: 'FREQUENCY_CAP' })
    })

    it('sets no cap for a New York number', async () => {
      const number = '+12122347042'
      await addConsentingContact(ctx, number)
      for (let i = 1; i <= 5; i++) expect((await sendSms(ctx, number, `Offer ${i}`)).statusCode).toBe(202)
      expect(textsReceivedBy(number)).toHaveLength(5)
    })
  })

  describe('opt-out footer', () => {
    it('is appended to marketing text, and counted in the segments', async () => {
      const number = '+12122347050'
      await addConsentingContact(ctx, number)
      const response = await sendSms(ctx, number, 'Spring sale: 30% off all shoes')
      expect(response.statusCode).toBe(202)
      expect(textsReceivedBy(number)).toEqual([`Spring sale: 30% off all shoes\n${FOOTER}`])
      const message = (await messagesTo(ctx, number))[0]
      expect(message?.text).toBe(`Spring sale: 30% off all shoes\n${FOOTER}`)

      // 150 characters fit one segment alone, not with the footer.
      const long = 'A'.repeat(150)
      const two = await sendSms(ctx, number, long)
      expect(two.json()).toMatchObject({ segments: 2 })
      expect(textsReceivedBy(number).at(-1)).toBe(`${long}\n${FOOTER}`)
    })

    it('is not appended to text that already tells how to opt out, nor to transactional text', async () => {
      const number = '+12122347051'
      await addConsentingContact(ctx, number)
      expect((await sendSms(ctx, number, 'Spring sale! Reply STOP to end')).statusCode).toBe(202)
      expect((await sendSms(ctx, number, 'Your order shipped', 'transactional')).statusCode).toBe(202)
      expect(textsReceivedBy(number)).toEqual(['Spring sale! Reply STOP to end', 'Your order shipped'])
    })

    it('is appended when "stop" in the text is no opt-out instruction', async () => {
      const number = '+12122347052'
      await addConsentingContact(ctx, number)
      expect((await sendSms(ctx, number, 'Stop by our store today for 20% off')).statusCode).toBe(202)
      expect((await sendSms(ctx, number, 'Non-stop savings all weekend')).statusCode).toBe(202)
      expect(textsReceivedBy(number)).toEqual([
        `Stop by our store today for 20% off\n${FOOTER}`,
        `Non-stop savings all weekend\n${FOOTER}`
      ])
    })
  })

  describe('metrics', () => {
    it('counts every decision in sms_compliance_decisions_total by outcome and reason', async () => {
      const before = {
        allow: await metricValue('allow', 'none'),
        noConsent: await metricValue('block', 'NO_CONSENT'),
        quietRefused: await metricValue('block', 'QUIET_HOURS'),
        quietDeferred: await metricValue('defer', 'QUIET_HOURS'),
        optedOut: await metricValue('block', 'RECIPIENT_OPTED_OUT')
      }
      const number = '+12122347060'
      await addConsentingContact(ctx, number)
      expect((await sendSms(ctx, number, 'Counted')).statusCode).toBe(202)
      expect((await sendSms(ctx, '+12122347061', 'No consent')).statusCode).toBe(422)
      expect((await sendSms(ctx, '+12122347062', 'No consent either')).statusCode).toBe(422)
      ctx.clock.set('2026-06-16T03:00:00Z')
      expect((await sendSms(ctx, number, 'Too late')).statusCode).toBe(422)
      const optOut = await ctx.app.inject({ method: 'POST', url: '/opt-outs', headers: ctx.headers, payload: { phoneNumber: '+12122347063' } })
      expect(optOut.statusCode).toBe(201)
      expect((await sendSms(ctx, '+12122347063', 'Receipt', 'transactional')).statusCode).toBe(422)

      expect(await metricValue('allow', 'none')).toBe(before.allow + 1)
      expect(await metricValue('block', 'NO_CONSENT')).toBe(before.noConsent + 2)
      // A direct send outside the window is refused (status suppressed): counted as a block, not a deferral.
      expect(await metricValue('block', 'QUIET_HOURS')).toBe(before.quietRefused + 1)
      expect(await metricValue('defer', 'QUIET_HOURS')).toBe(before.quietDeferred)
      expect(await metricValue('block', 'RECIPIENT_OPTED_OUT')).toBe(before.optedOut + 1)
      const text = (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body
      expect(text).toContain('# TYPE sms_compliance_decisions_total counter')
    })
  })

  describe('MARKETING_CONSENT_REQUIRED=false', () => {
    it('lets marketing go without consent, but never to an opted-out number, and keeps quiet hours', async () => {
      const number = '+12122347070'
      expect((await sendSms(ctx, number, 'Without consent')).json()).toMatchObject({ code: 'NO_CONSENT' })
      await ctx.restart({ MARKETING_CONSENT_REQUIRED: 'false', RATE_LIMIT_MAX: '100000' })
      const allowed = await sendSms(ctx, number, 'Without consent')
      expect(allowed.statusCode).toBe(202)
      expect(textsReceivedBy(number)).toEqual([`Without consent\n${FOOTER}`])

      const optedOut = '+12122347071'
      expect((await ctx.app.inject({ method: 'POST', url: '/opt-outs', headers: ctx.headers, payload: { phoneNumber: optedOut } })).statusCode).toBe(201)
      expect((await sendSms(ctx, optedOut, 'Hello')).json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
      ctx.clock.set('2026-06-16T03:00:00Z')
      expect((await sendSms(ctx, number, 'Night')).json()).toMatchObject({ code: 'QUIET_HOURS' })
    })
  })
})
