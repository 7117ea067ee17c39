import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Contact } from '../../src/db/repositories/contacts.js'
import type { ImportReport } from '../../src/services/contacts.js'
import { API_KEY_LABEL, consentEvents, sendSms } from '../support/api.js'
import { startTestApp, type TestContext } from '../support/app.js'

const NOW = '2026-06-15T16:00:00.000Z'
const HEADER = 'phoneNumber,firstName,lastName,tags,timezone,consentSource,consentText,consentAt'
const DISCLOSURE = 'I agree to get marketing texts from Acme. Msg & data rates may apply. Reply STOP to cancel.'

describe('POST /contacts/import', () => {
  let ctx: TestContext

  beforeAll(async () => { ctx = await startTestApp({ env: { RATE_LIMIT_MAX: '100000' } }) })
  afterAll(async () => { await ctx.close() })

  async function importCsv (csv: string, contentType = 'text/csv') {
    return await ctx.app.inject({
      method: 'POST',
      url: '/contacts/import',
      headers: { ...ctx.headers, 'content-type': contentType, 'user-agent': 'CRM-Export/3.0' },
      payload: csv
    })
  }
  async function contactByNumber (phoneNumber: string): Promise<Contact | undefined> {
    const response = await ctx.app.inject({ method: 'GET', url: `/contacts?phoneNumber=${encodeURIComponent(phoneNumber)}`, headers: ctx.headers })
    expect(response.statusCode).toBe(200)
    return response.json<{ items: Contact[] }>().items[0]
  }

  it('imports rows, reports every rejected line with its number, and records the consent evidence', async () => {
    ctx.clock.set(NOW)
    const csv = [
      HEADER,
      `+12122346001,Ann,Lee,vip;news,America/Chicago,web_form,"${DISCLOSURE}",2026-06-10T12:00:00Z`,
      '12122346002,Bob,,,,,,',
      'not-a-number,Carl,,,,,,',
      '+10000000000,Dora,,,,,,',
      '+12122346003,Eve,,,Mars/Base,,,',
      '+12122346004,Fay,,,,paper,,',
      '',
      '+1 (212) 234-6005,"Lopez, Gil",,  alpha ; beta ;;,,,,',
      ''
    ].join('\n')
    const response = await importCsv(csv)
    expect(response.statusCode).toBe(200)
    const report = response.json<ImportReport>()
    expect(report).toEqual({
      created: 3,
      updated: 0,
      warnings: [],
      rejected: [
        { line: 4, error: expect.stringContaining('phoneNumber') },
        { line: 5, error: expect.stringContaining('phoneNumber') },
        { line: 6, error: expect.stringContaining('Mars/Base') },
        { line: 7, error: expect.stringContaining('consentText') }
      ]
    })

    const ann = await contactByNumber('+12122346001')
    expect(ann).toMatchObject({ firstName: 'Ann', lastName: 'Lee', tags: ['news', 'vip'], timezone: 'America/Chicago', subscribed: true })
    expect(await consentEvents(ctx, ann!.id)).toEqual([expect.objectContaining({
      type: 'opt_in',
      source: 'web_form',
      text: DISCLOSURE,
      // The uploader's address and client are not the subscriber's evidence: the row gave none.
      ip: null,
      userAgent: null,
      occurredAt: '2026-06-10T12:00:00.000Z',
      recordedBy: API_KEY_LABEL,
      requestId: response.headers['x-request-id'],
      fileName: null
    })])

    const bob = await contactByNumber('+12122346002')
    expect(bob).toMatchObject({ firstName: 'Bob', lastName: null, tags: [], timezone: null, subscribed: false })
    expect(await consentEvents(ctx, bob!.id)).toEqual([])

    expect(await contactByNumber('+12122346005')).toMatchObject({ firstName: 'Lopez, Gil', tags: ['alpha', 'beta'] })
    // Rejected rows left nothing behind.
    expect(await contactByNumber('+12122346003')).toBeUndefined()
    expect(await contactByNumber('+12122346004')).toBeUndefined()
  })

  it('updates the contacts a re-import names again, and counts them as updated', async () => {
    ctx.clock.set(NOW)
    const first = await importCsv([HEADER, '+12122346101,Hal,Old,a;b,,,,', '+12122346102,Ida,,,,,,'].join('\n'))
    expect(first.json()).toEqual({ created: 2, updated: 0, rejected: [], warnings: [] })
    const before = await contactByNumber('+12122346101')

    const again = await importCsv([
      HEADER,
      '+12122346101,Hal,New,c,Europe/Berlin,import,"Signed the paper form",2026-06-01T09:30:00+02:00',
      '12122346102,,,,,,,',
      '+12122346103,Jo,,,,,,'
    ].join('\r\n'))
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual({ created: 1, updated: 2, rejected: [], warnings: [] })

    const hal = await contactByNumber('+12122346101')
    expect(hal).toMatchObject({ id: before!.id, firstName: 'Hal', lastName: 'New', tags: ['c'], timezone: 'Europe/Berlin', subscribed: true })
    expect((await consentEvents(ctx, hal!.id)).map((e) => [e.type, e.source, e.text, e.occurredAt])).toEqual([
      ['opt_in', 'import', 'Signed the paper form', '2026-06-01T07:30:00.000Z']
    ])
    // Empty cells leave the stored values alone.
    expect(await contactByNumber('+12122346102')).toMatchObject({ firstName: 'Ida' })
  })

  it('never undoes an opt-out with an undated consent from a re-import', async () => {
    ctx.clock.set(NOW)
    const csv = ['phoneNumber,firstName,consentSource,consentText', `+12122346901,Pat,import,"${DISCLOSURE}"`].join('\n')
    expect((await importCsv(csv)).json()).toEqual({ created: 1, updated: 0, rejected: [], warnings: [] })
    const pat = await contactByNumber('+12122346901')
    expect(pat?.subscribed).toBe(true)
    const optOut = await ctx.app.inject({ method: 'POST', url: `/contacts/${pat!.id}/opt-out`, headers: ctx.headers, payload: { reason: 'Texted STOP' } })
    expect(optOut.statusCode).toBe(201)

    // The nightly CRM export comes in again, with the same old consent and no date on it.
    ctx.clock.advance(24 * 60 * 60 * 1000)
    expect((await importCsv(csv)).json()).toEqual({ created: 0, updated: 1, rejected: [], warnings: [] })
    expect(await contactByNumber('+12122346901')).toMatchObject({ subscribed: false })
    expect((await consentEvents(ctx, pat!.id)).map((e) => e.type)).toEqual(['opt_in', 'opt_out'])
    const send = await sendSms(ctx, '+12122346901', 'We missed you', 'transactional')
    expect(send.statusCode).toBe(422)
    expect(send.json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })

    // A consent dated after the opt-out is new evidence, and does re-subscribe.
    const dated = ['phoneNumber,consentSource,consentText,consentAt', `+12122346901,web_form,"${DISCLOSURE}",${ctx.clock.now().toISOString()}`].join('\n')
    expect((await importCsv(dated)).json()).toEqual({ created: 0, updated: 1, rejected: [], warnings: [] })
    expect(await contactByNumber('+12122346901')).toMatchObject({ subscribed: true })
    expect((await consentEvents(ctx, pat!.id)).map((e) => e.type)).toEqual(['opt_in', 'opt_out', 'opt_in'])
    ctx.clock.set(NOW)
  })

  it('decides each row of a batch on its own number: new numbers, an opted-out number without a contact, an existing contact', async () => {
    ctx.clock.set(NOW)
    // Opted out before it ever was a contact (a STOP to a previous campaign, an opt-out by API).
    expect((await ctx.app.inject({ method: 'POST', url: '/opt-outs', headers: ctx.headers, payload: { phoneNumber: '+12122346302' } })).statusCode).toBe(201)
    expect((await importCsv([HEADER, '+12122346303,Una,,,,,,'].join('\n'))).json()).toMatchObject({ created: 1 })
    ctx.clock.advance(60_000)

    const response = await importCsv([
      'phoneNumber,firstName,consentSource,consentText,consentAt',
      `+12122346301,Vic,web_form,"${DISCLOSURE}",2026-06-14T10:00:00Z`,
      `+12122346302,Wes,import,"${DISCLOSURE}",`,
      `+12122346303,Una,web_form,"${DISCLOSURE}",2026-06-14T11:00:00Z`,
      '+12122346304,Xia,,,',
      `+12122346305,Yan,paper,"${DISCLOSURE}",`
    ].join('\n'))
    expect(response.json()).toEqual({ created: 4, updated: 1, rejected: [], warnings: [] })

    const vic = await contactByNumber('+12122346301')
    expect(vic).toMatchObject({ firstName: 'Vic', subscribed: true })
    expect((await consentEvents(ctx, vic!.id)).map((e) => [e.type, e.source, e.occurredAt, e.recordedAt])).toEqual([['opt_in', 'web_form', '2026-06-14T10:00:00.000Z', ctx.clock.now().toISOString()]])
    // The undated consent is not recorded over the earlier opt-out: the new contact is not subscribed.
    const wes = await contactByNumber('+12122346302')
    expect(wes).toMatchObject({ firstName: 'Wes', subscribed: false })
    expect((await consentEvents(ctx, wes!.id)).map((e) => e.type)).toEqual(['opt_out'])
    expect((await sendSms(ctx, '+12122346302', 'Still there?', 'transactional')).json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' })
    const una = await contactByNumber('+12122346303')
    expect(una).toMatchObject({ subscribed: true })
    expect((await consentEvents(ctx, una!.id)).map((e) => e.type)).toEqual(['opt_in'])
    expect(await contactByNumber('+12122346304')).toMatchObject({ firstName: 'Xia', subscribed: false })
    // Undated, on a blank ledger: recorded as of now, and it subscribes.
    const yan = await contactByNumber('+12122346305')
    expect(yan).toMatchObject({ subscribed: true })
    expect((await consentEvents(ctx, yan!.id)).map((e) => [e.type, e.occurredAt])).toEqual([['opt_in', ctx.clock.now().toISOString()]])
    ctx.clock.set(NOW)
  })

  it('accepts a header with only phoneNumber, a byte-order mark and columns in any order', async () => {
    const plain = await importCsv('\uFEFFphoneNumber\n+12122346201\n+12122346202\n')
    expect(plain.json()).toEqual({ created: 2, updated: 0, rejected: [], warnings: [] })
    const reordered = await importCsv('tags,phoneNumber,firstName\nx;y,+12122346203,Kim\n')
    expect(reordered.json()).toEqual({ created: 1, updated: 0, rejected: [], warnings: [] })
    expect(await contactByNumber('+12122346203')).toMatchObject({ firstName: 'Kim', tags: ['x', 'y'] })
  })

  it('refuses a CSV without a phoneNumber column with 400 and imports nothing', async () => {
    const response = await importCsv('name,email\nLia,lia@example.com\n')
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ statusCode: 400, code: 'BAD_REQUEST', message: expect.stringContaining('phoneNumber') })

    const headerOnly = await importCsv('firstName,lastName\n')
    expect(headerOnly.statusCode).toBe(400)
    expect(headerOnly.json()).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('phoneNumber') })
  })

  it('rejects consentSource without consentText per line and keeps the other lines', async () => {
    const response = await importCsv([
      'phoneNumber,consentSource,consentText',
      '+12122346401,web_form,',
      '+12122346402,web_form,I said yes',
      '+12122346403,,Some text without a source'
    ].join('\n'))
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ created: 2, updated: 0, rejected: [{ line: 2, error: expect.stringContaining('consentText') }], warnings: [] })
    expect(await contactByNumber('+12122346401')).toBeUndefined()
    expect(await contactByNumber('+12122346402')).toMatchObject({ subscribed: true })
    expect(await contactByNumber('+12122346403')).toMatchObject({ subscribed: false })
  })

  it('rejects a line whose consentAt is not a date or lies ahead, without creating its contact', async () => {
    ctx.clock.set(NOW)
    const response = await importCsv([
      'phoneNumber,consentSource,consentText,consentAt',
      '+12122346501,web_form,Yes,yesterday-ish',
      '+12122346502,web_form,Yes,2030-01-01T00:00:00Z',
      '+12122346503,web_form,Yes,2026-06-15T15:00:00Z',
      // A day February does not have, a time without its offset (read in whose zone?), a date without a time,
      // and other ways Date.parse would read: refused as the API refuses them, never stored as another instant.
      '+12122346504,web_form,Yes,2026-02-30T00:00:00Z',
      '+12122346505,web_form,Yes,2026-06-14T10:00:00',
      '+12122346506,web_form,Yes,2026-06-14',
      '+12122346507,web_form,Yes,06/14/2026',
      '+12122346508,web_form,Yes,2026-06-14T24:00:00Z',
      '+12122346509,web_form,Yes,2026-06-14T10:00:00-04:00'
    ].join('\n'))
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({
      created: 2,
      updated: 0,
      warnings: [],
      rejected: [2, 3, 5, 6, 7, 8, 9].map((line) => ({ line, error: expect.stringContaining('consentAt') }))
    })
    for (const n of [1, 2, 4, 5, 6, 7, 8]) expect(await contactByNumber(`+1212234650${n}`)).toBeUndefined()
    expect(await contactByNumber('+12122346503')).toMatchObject({ subscribed: true })
    const offset = await contactByNumber('+12122346509')
    expect((await consentEvents(ctx, offset!.id)).map((e) => e.occurredAt)).toEqual(['2026-06-14T14:00:00.000Z'])
  })

  it('reads a cell of spaces as empty: it leaves the stored value as it is', async () => {
    ctx.clock.set(NOW)
    expect((await importCsv([HEADER, '+12122346951,Ana,Lo,vip,America/Chicago,,,'].join('\n'))).json()).toMatchObject({ created: 1 })
    const response = await importCsv([HEADER, '+12122346951," ",  ," ",   ,,,'].join('\n'))
    expect(response.json()).toEqual({ created: 0, updated: 1, rejected: [], warnings: [] })
    expect(await contactByNumber('+12122346951')).toMatchObject({ firstName: 'Ana', lastName: 'Lo', tags: ['vip'], timezone: 'America/Chicago' })
  })

  it('rejects a line with a value the API would refuse, and still imports the lines around it', async () => {
    const response = await importCsv([
      'phoneNumber,firstName,tags,consentSource,consentText',
      '+12122346601,Mo,,,',
      `+12122346602,${'N'.repeat(201)},,,`,
      `+12122346603,,${'t'.repeat(101)},,`,
      `+12122346604,,,${'s'.repeat(33)},Yes`,
      '+12122346605,Ned,,,'
    ].join('\n'))
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({
      created: 2,
      updated: 0,
      warnings: [],
      rejected: [
        { line: 3, error: expect.stringContaining('firstName') },
        { line: 4, error: expect.stringContaining('tag') },
        { line: 5, error: expect.stringContaining('consentSource') }
      ]
    })
    expect(await contactByNumber('+12122346601')).toMatchObject({ firstName: 'Mo' })
    expect(await contactByNumber('+12122346605')).toMatchObject({ firstName: 'Ned' })
    for (const n of ['+12122346602', '+12122346603', '+12122346604']) expect(await contactByNumber(n)).toBeUndefined()
  })

  it('refuses a body that is not text/csv with 415', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/contacts/import',
      headers: ctx.headers,
      payload: { phoneNumber: '+12122346701' }
    })
    expect(response.statusCode).toBe(415)
    expect(response.json()).toMatchObject({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' })
    expect(await contactByNumber('+12122346701')).toBeUndefined()
    // A file sent as a form, as `curl -F file=@contacts.csv` does: the answer says how to send it.
    const form = await importCsv('--x\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\n\r\nphoneNumber\n+12122346702\n\r\n--x--\r\n', 'multipart/form-data; boundary=x')
    expect(form.statusCode).toBe(415)
    expect(form.json().message).toContain("--data-binary @contacts.csv -H 'content-type: text/csv'")
    expect(await contactByNumber('+12122346702')).toBeUndefined()
  })

  it('needs an API key', async () => {
    const response = await ctx.app.inject({ method: 'POST', url: '/contacts/import', headers: { 'content-type': 'text/csv' }, payload: 'phoneNumber\n+12122346801\n' })
    expect(response.statusCode).toBe(401)
    expect(await contactByNumber('+12122346801')).toBeUndefined()
  })

  it('writes every row, tag and consent of batches that take INSERT statements of several sizes', async () => {
    ctx.clock.set(NOW)
    // 1,437 rows: a full batch of 1,000 then 437 (written as 256 + 128 + 32 + 16 + 4 + 1 rows); tags
    // listed twice are stored once; every third row holds a consent.
    const rows = 1437
    const numberOf = (i: number): string => `+1718${String(2_300_000 + i)}`
    const lines = [HEADER]
    for (let i = 0; i < rows; i++) {
      const consent = i % 3 === 0 ? `web_form,"${DISCLOSURE}",2026-06-0${1 + (i % 9)}T08:00:00Z` : ',,'
      lines.push(`${numberOf(i)},First${i},Last${i},sizes;row${i};sizes,America/Denver,${consent}`)
    }
    const response = await importCsv(lines.join('\n') + '\n')
    expect(response.json()).toEqual({ created: rows, updated: 0, rejected: [], warnings: [] })

    let listed = 0
    let subscribed = 0
    let cursor: string | null = null
    do {
      const url = `/contacts?tag=sizes&limit=100${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
      const page = await ctx.app.inject({ method: 'GET', url, headers: ctx.headers })
      const body: { items: Contact[], nextCursor: string | null } = page.json()
      for (const contact of body.items) {
        const i = Number(contact.firstName!.slice('First'.length))
        expect(contact).toMatchObject({ phoneNumber: numberOf(i), lastName: `Last${i}`, tags: [`row${i}`, 'sizes'].sort(), timezone: 'America/Denver', subscribed: i % 3 === 0 })
        listed++
        if (contact.subscribed) subscribed++
      }
      cursor = body.nextCursor
    } while (cursor !== null)
    expect(listed).toBe(rows)
    expect(subscribed).toBe(Math.ceil(rows / 3))
    for (const i of [0, 999, 1002, 1434, 1435, 1436]) {
      const contact = await contactByNumber(numberOf(i))
      const events = await consentEvents(ctx, contact!.id)
      expect(events.map((e) => [e.type, e.source, e.text, e.occurredAt, e.phoneNumber])).toEqual(i % 3 === 0
        ? [['opt_in', 'web_form', DISCLOSURE, `2026-06-0${1 + (i % 9)}T08:00:00.000Z`, numberOf(i)]]
        : [])
    }
  })

  it('imports a large file in reasonable time', async () => {
    const postgres = process.env.TEST_DIALECT === 'postgres'
    const rows = postgres ? 5_000 : 20_000
    const budgetMs = postgres ? 25_000 : 20_000
    const lines = [HEADER]
    for (let i = 0; i < rows; i++) {
      const number = `+1646${String(2_000_000 + i)}`
      const consent = i % 2 === 0 ? `web_form,"${DISCLOSURE}",2026-06-01T00:00:00Z` : ',,'
      lines.push(`${number},First${i},Last${i},bulk;batch${i % 10},America/New_York,${consent}`)
    }
    const started = performance.now()
    const response = await importCsv(lines.join('\n') + '\n')
    const elapsed = performance.now() - started
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ created: rows, updated: 0, rejected: [], warnings: [] })
    expect(elapsed).toBeLessThan(budgetMs)
    console.info(`imported ${rows} contacts in ${Math.round(elapsed)} ms (${process.env.TEST_DIALECT ?? 'sqlite'})`)

    const last = await contactByNumber(`+1646${String(2_000_000 + rows - 1)}`)
    expect(last).toMatchObject({ firstName: `First${rows - 1}`, tags: ['batch' + String((rows - 1) % 10), 'bulk'], subscribed: (rows - 1) % 2 === 0 })
    const page = await ctx.app.inject({ method: 'GET', url: '/contacts?tag=batch3&subscribed=false&limit=100', headers: ctx.headers })
    expect(page.json<{ items: Contact[] }>().items).toHaveLength(100)
  }, 60_000)
})
