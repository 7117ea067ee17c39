import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Contact } from '../../src/db/repositories/contacts.js'
import type { ImportReport } from '../../src/services/contacts.js'
import { listMessages, messagesTo, postSendSms, sendSms, textsReceivedBy } from '../support/api.js'
import { startTestApp, type TestContext } from '../support/app.js'

const transactional = (destinationNumber: string) => ({ destinationNumber, message: 'Your code is 4711', purpose: 'transactional' })

/** Every number the fake Infobip was asked to send to, as digits. */
function destinations (ctx: TestContext): string[] {
  return ctx.fake.sendRequests().flatMap((request) => {
    const body = request.body as { messages: Array<{ destinations: Array<{ to: string }> }> }
    return body.messages.flatMap((m) => m.destinations.map((d) => d.to))
  })
}

describe('one phone-number reader for every input (DEFAULT_COUNTRY=US)', () => {
  let ctx: TestContext

  beforeAll(async () => { ctx = await startTestApp({ env: { RATE_LIMIT_MAX: '100000' } }) })
  afterAll(async () => { await ctx.close() })

  async function contactByNumber (phoneNumber: string): Promise<Contact | undefined> {
    const response = await ctx.app.inject({ method: 'GET', url: `/contacts?phoneNumber=${encodeURIComponent(phoneNumber)}`, headers: ctx.headers })
    expect(response.statusCode, response.body).toBe(200)
    return response.json<{ items: Contact[] }>().items[0]
  }

  describe('POST /send-sms', () => {
    it('reads national notation in the default country: "(323) 555-0123" goes to Los Angeles, not Belgium', async () => {
      const response = await postSendSms(ctx, transactional('(323) 555-0123'))
      expect(response.statusCode, response.body).toBe(202)
      expect(response.json()).toMatchObject({ to: '+13235550123' })
      expect(textsReceivedBy(ctx, '+13235550123')).toEqual(['Your code is 4711'])
      expect(textsReceivedBy(ctx, '+3235550123')).toEqual([])
    })

    it('refuses digits valid in two countries with 400 AMBIGUOUS_PHONE_NUMBER naming both, and records and sends nothing', async () => {
      const sentBefore = destinations(ctx).length
      for (const [digits, foreign, country] of [
        ['6625550123', '+6625550123', 'TH'],
        ['3235550129', '+3235550129', 'BE'],
        ['6075550123', '+6075550123', 'MY'],
        ['6595550123', '+6595550123', 'SG'],
        ['3215550123', '+3215550123', 'BE'],
        ['6265550123', '+6265550123', 'ID']
      ] as const) {
        const response = await postSendSms(ctx, transactional(digits))
        expect(response.statusCode).toBe(400)
        expect(response.json()).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          code: 'AMBIGUOUS_PHONE_NUMBER',
          message: `destinationNumber "${digits}" can be read as +1${digits} (US) or ${foreign} (${country}): write it with + and the country code`,
          candidates: [{ phoneNumber: `+1${digits}`, country: 'US' }, { phoneNumber: foreign, country }]
        })
        expect(await messagesTo(ctx, `+1${digits}`)).toEqual([])
        expect(await messagesTo(ctx, foreign)).toEqual([])
      }
      expect(destinations(ctx)).toHaveLength(sentBefore)
    })

    it('takes the one valid reading of bare digits: 434 and 458 numbers stay in the US', async () => {
      for (const digits of ['4345550123', '4585550123']) {
        const response = await postSendSms(ctx, transactional(digits))
        expect(response.statusCode, response.body).toBe(202)
        expect(response.json()).toMatchObject({ to: `+1${digits}` })
      }
      expect(destinations(ctx).filter((to) => to.startsWith('43') || to.startsWith('45'))).toEqual([])
    })

    it('reads 00 and 011 as international prefixes', async () => {
      for (const input of ['00447400123401', '011 44 7400 123402']) {
        const response = await postSendSms(ctx, transactional(input))
        expect(response.statusCode, response.body).toBe(202)
      }
      expect(textsReceivedBy(ctx, '+447400123401')).toHaveLength(1)
      expect(textsReceivedBy(ctx, '+447400123402')).toHaveLength(1)
    })

    it('sends to a new overlay (624) the library does not know yet, and logs why with the number masked', async () => {
      const response = await postSendSms(ctx, transactional('+16245550123'))
      expect(response.statusCode, response.body).toBe(202)
      expect(textsReceivedBy(ctx, '+16245550123')).toEqual(['Your code is 4711'])
      const line = ctx.logs.map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'Number accepted although the number library does not list it')
      expect(line).toMatchObject({
        to: '*******0123',
        basis: 'area_code',
        why: 'area code 624 (NY) is in the NANP area-code table but not yet in the number library'
      })
      expect(ctx.logs.join('\n')).not.toContain('6245550123')
    })

    it('refuses a number of merely possible length for a send, saying an opt-out would take it', async () => {
      const response = await postSendSms(ctx, transactional('+19995550123'))
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({
        code: 'INVALID_PHONE_NUMBER',
        message: 'destinationNumber is not a valid phone number for its country (+19995550123 has a possible length, which is enough for an opt-out but not for sending)'
      })
    })
  })

  describe('contacts, imports, opt-outs and filters read numbers the same way', () => {
    it('POST /contacts: national notation, overlays, and 400 AMBIGUOUS_PHONE_NUMBER for two readings', async () => {
      const national = await ctx.app.inject({ method: 'POST', url: '/contacts', headers: ctx.headers, payload: { phoneNumber: '(323) 555-0140' } })
      expect(national.statusCode, national.body).toBe(201)
      expect(national.json()).toMatchObject({ phoneNumber: '+13235550140' })
      const overlay = await ctx.app.inject({ method: 'POST', url: '/contacts', headers: ctx.headers, payload: { phoneNumber: '+14365550141' } })
      expect(overlay.statusCode, overlay.body).toBe(201)
      const ambiguous = await ctx.app.inject({ method: 'POST', url: '/contacts', headers: ctx.headers, payload: { phoneNumber: '6625550142' } })
      expect(ambiguous.statusCode).toBe(400)
      expect(ambiguous.json()).toMatchObject({ code: 'AMBIGUOUS_PHONE_NUMBER', candidates: [{ phoneNumber: '+16625550142', country: 'US' }, { phoneNumber: '+6625550142', country: 'TH' }] })
      expect(await contactByNumber('+16625550142')).toBeUndefined()
      expect(await contactByNumber('+6625550142')).toBeUndefined()
    })

    it('POST /contacts/import: an ambiguous row is rejected on its line, never imported as a foreign contact', async () => {
      const csv = [
        'phoneNumber,firstName',
        '3235550150,Ann',
        '(323) 555-0151,Bob',
        '+16245550152,Cy',
        '1-800-FLOWERS,Dee'
      ].join('\n')
      const response = await ctx.app.inject({ method: 'POST', url: '/contacts/import', headers: { ...ctx.headers, 'content-type': 'text/csv' }, payload: csv })
      expect(response.statusCode).toBe(200)
      expect(response.json<ImportReport>()).toEqual({
        created: 2,
        updated: 0,
        // An import's report names lines, never full numbers: the readings keep their last 4 digits and country.
        rejected: [
          { line: 2, error: 'phoneNumber "******0150" can be read as +*******0150 (US) or +******0150 (BE): write it with + and the country code' },
          { line: 5, error: 'phoneNumber contains letters ("FLOWERS"): write the number in digits, with + and the country code' }
        ],
        warnings: []
      })
      expect(await contactByNumber('+3235550150')).toBeUndefined()
      expect(await contactByNumber('+13235550150')).toBeUndefined()
      expect(await contactByNumber('+13235550151')).toMatchObject({ firstName: 'Bob' })
      expect(await contactByNumber('+16245550152')).toMatchObject({ firstName: 'Cy' })
    })

    it('POST /opt-outs accepts any number of a possible length, even one no table knows yet', async () => {
      for (const [input, stored] of [['+16245550160', '+16245550160'], ['(861) 555-0161', '+18615550161'], ['+19995550162', '+19995550162']] as const) {
        const response = await ctx.app.inject({ method: 'POST', url: '/opt-outs', headers: ctx.headers, payload: { phoneNumber: input, reason: 'Called in' } })
        expect(response.statusCode, response.body).toBe(201)
        expect(response.json()).toMatchObject({ phoneNumber: stored, source: 'api' })
        expect((await sendSms(ctx, stored, 'Receipt', 'transactional')).json()).toMatchObject({ code: stored === '+19995550162' ? 'INVALID_PHONE_NUMBER' : 'RECIPIENT_OPTED_OUT' })
      }
      const ambiguous = await ctx.app.inject({ method: 'POST', url: '/opt-outs', headers: ctx.headers, payload: { phoneNumber: '3235550163' } })
      expect(ambiguous.statusCode).toBe(400)
      expect(ambiguous.json()).toMatchObject({ code: 'AMBIGUOUS_PHONE_NUMBER' })
      const notANumber = await ctx.app.inject({ method: 'POST', url: '/opt-outs', headers: ctx.headers, payload: { phoneNumber: '+10000000000' } })
      expect(notANumber.json()).toMatchObject({ code: 'INVALID_PHONE_NUMBER' })
    })

    it('query filters read the number the same way', async () => {
      await postSendSms(ctx, transactional('+13235550170'))
      for (const to of ['(323)%20555-0170', '323-555-0170', '%2B13235550170']) {
        expect((await listMessages(ctx, `?to=${to}`)).items.map((m) => m.to), to).toEqual(['+13235550170'])
      }
      const ambiguous = await ctx.app.inject({ method: 'GET', url: '/messages?to=3235550170', headers: ctx.headers })
      expect(ambiguous.statusCode).toBe(400)
      expect(ambiguous.json()).toMatchObject({ code: 'AMBIGUOUS_PHONE_NUMBER' })
    })
  })
})

describe('DEFAULT_COUNTRY=GB', () => {
  let ctx: TestContext

  beforeAll(async () => { ctx = await startTestApp({ env: { DEFAULT_COUNTRY: 'GB' } }) })
  afterAll(async () => { await ctx.close() })

  it('reads national notation as British and refuses an American one without +1', async () => {
    const british = await postSendSms(ctx, transactional('07400 123456'))
    expect(british.statusCode, british.body).toBe(202)
    expect(british.json()).toMatchObject({ to: '+447400123456' })
    const american = await postSendSms(ctx, transactional('(323) 555-0123'))
    expect(american.statusCode).toBe(400)
    expect(american.json()).toMatchObject({
      code: 'INVALID_PHONE_NUMBER',
      message: 'destinationNumber is not a valid phone number in GB (DEFAULT_COUNTRY); write numbers of other countries with + and the country code'
    })
    expect((await postSendSms(ctx, transactional('+1 (323) 555-0123'))).statusCode).toBe(202)
    expect(destinations(ctx)).toEqual(['447400123456', '13235550123'])
  })
})
