import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analyzeSegments } from '../../src/domain/segments.js'
import { createCampaignsService } from '../../src/services/campaigns.js'
import { addConsentingContact, DAYTIME, type TestContext } from '../support/app.js'
import { getMessage, sendSms } from '../support/api.js'
import { acted, campaignRows, handedOver, createCampaign, getCampaign, startWithSide, closeWithSide, preview, seedContacts, type Side } from '../support/campaigns.js'

// The dispatcher runs (test sends go through it, and a launched campaign is handed over as the preview said);
// the stats tests below use an app of their own whose rows stay as the test sets them.
let ctx: TestContext
let side: Side
beforeAll(async () => { ({ ctx, side } = await startWithSide({ env: { RATE_LIMIT_MAX: '100000' } })) })
afterAll(async () => { await closeWithSide(ctx, side) })

const HOUR = 60 * 60 * 1000
const at = (ms: number): string => new Date(DAYTIME.getTime() + ms).toISOString()
const TEMPLATE = 'Hi {{ firstName | default: "there" }} {{ lastName }}, 20% off today'
const FOOTER = '\nReply STOP to opt out.'

interface SentMessage { to: string, text: string }
function sentMessages (): SentMessage[] {
  return ctx.fake.sendRequests().flatMap((r) => (r.body as { messages: Array<{ text: string, destinations: Array<{ to: string }> }> }).messages
    .flatMap((m) => m.destinations.map((d) => ({ to: d.to, text: m.text }))))
}

async function messageCount (): Promise<number> {
  const row = await side.handle.db.selectFrom('messages').select(side.handle.db.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

async function post (ctx: TestContext, url: string, payload: object = {}) {
  return await ctx.app.inject({ method: 'POST', url, headers: ctx.headers, payload })
}

/** The audience of the preview tests, created through the API in id order. */
const people = {
  ann: { phoneNumber: '+12125552001', firstName: 'Ann', lastName: 'Lee' },
  lukasz: { phoneNumber: '+12125552002', firstName: 'Łukasz', lastName: 'Wiśniewski-Brzęczyszczykiewicz-Kowalczyk' },
  noConsent: { phoneNumber: '+12125552003', firstName: 'Nora' },
  optedOut: { phoneNumber: '+12125552004', firstName: 'Otto' },
  night: { phoneNumber: '+12125552005', firstName: 'Emi', timezone: 'Asia/Tokyo' },
  capped: { phoneNumber: '+13055552006', firstName: 'Fay' },
  staff: { phoneNumber: '+12125552007', firstName: 'Stan' },
  other: { phoneNumber: '+12125552008', firstName: 'Olga' }
}
const ids: Record<keyof typeof people, string> = {} as Record<keyof typeof people, string>

describe('preview and test sends', () => {
  beforeAll(async () => {
    for (const [key, person] of Object.entries(people) as Array<[keyof typeof people, typeof people[keyof typeof people]]>) {
      const tags = key === 'staff' ? ['pv', 'staff'] : key === 'other' ? ['other'] : ['pv']
      if (key === 'noConsent') {
        const response = await post(ctx, '/contacts', { ...person, tags })
        expect(response.statusCode).toBe(201)
        ids[key] = response.json<{ id: string }>().id
      } else {
        ids[key] = (await addConsentingContact(ctx, person.phoneNumber, { ...person, tags })).id
      }
    }
    expect((await post(ctx, `/contacts/${ids.optedOut}/opt-out`)).statusCode).toBe(201)
    // Florida allows three marketing messages in 24 h: Fay has had them.
    for (let i = 0; i < 3; i++) expect((await sendSms(ctx, people.capped.phoneNumber, `Offer ${i}`)).statusCode).toBe(202)
    ctx.fake.reset()
  })

  it('reports audience, eligible, exclusions by reason, deferrals, samples and segments, writing and sending nothing', async () => {
    const campaign = await createCampaign(ctx, { message: TEMPLATE, audience: { tags: ['pv'], excludeTags: ['staff'] } })
    const before = await messageCount()
    const report = await preview(ctx, campaign.id)

    const texts = [
      ['ann', 'Hi Ann Lee, 20% off today' + FOOTER],
      ['lukasz', `Hi Łukasz ${people.lukasz.lastName}, 20% off today` + FOOTER],
      ['night', 'Hi Emi , 20% off today' + FOOTER]
    ] as const
    const samples = texts.map(([key, text]) => ({ contactId: ids[key], text, ...(({ segments, encoding }) => ({ segments, encoding }))(analyzeSegments(text)) }))
    expect(samples.map((s) => [s.encoding, s.segments])).toEqual([['GSM-7', 1], ['UCS-2', 2], ['GSM-7', 1]])
    expect(report).toEqual({
      audience: 6,
      eligible: 2,
      excluded: { RECIPIENT_OPTED_OUT: 1, NO_CONSENT: 1, FREQUENCY_CAP: 1, INVALID_TEMPLATE: 0 },
      deferred: 1,
      samples,
      segments: { min: 1, max: 2, total: 4 },
      encoding: 'UCS-2'
    })
    expect(await messageCount()).toBe(before)
    expect(ctx.fake.sendRequests()).toHaveLength(0)
    expect((await getCampaign(ctx, campaign.id)).status).toBe('draft')

    // Launched, the campaign does what the preview said: the opted-out and unconsented get suppressed rows at
    // launch; at hand-over the eligible go with exactly the sampled texts, the capped is refused, the night owl waits.
    await acted(ctx, campaign.id, 'launch')
    const rows = await handedOver(side.handle, campaign.id)
    const byContact = new Map(rows.map((r) => [r.contact_id, r]))
    expect(byContact.get(ids.optedOut)).toMatchObject({ status: 'suppressed', decision_reason: expect.stringMatching(/^RECIPIENT_OPTED_OUT: /) })
    expect(byContact.get(ids.noConsent)).toMatchObject({ status: 'suppressed', decision_reason: expect.stringMatching(/^NO_CONSENT: /) })
    expect(byContact.get(ids.capped)).toMatchObject({ status: 'suppressed', decision_reason: expect.stringMatching(/^FREQUENCY_CAP: /) })
    // 08:00 in Tokyo.
    expect(byContact.get(ids.night)).toMatchObject({ status: 'deferred', due_at: '2026-06-15T23:00:00.000Z', decision_reason: expect.stringMatching(/^QUIET_HOURS: /) })
    for (const key of ['ann', 'lukasz'] as const) {
      const sample = samples.find((x) => x.contactId === ids[key])!
      expect(byContact.get(ids[key])).toMatchObject({ status: 'accepted', text: sample.text, segments: sample.segments, encoding: sample.encoding })
    }
    expect(sentMessages().sort((a, b) => a.to.localeCompare(b.to))).toEqual([
      { to: '12125552001', text: samples[0]!.text },
      { to: '12125552002', text: samples[1]!.text }
    ])
    expect((await getCampaign(ctx, campaign.id)).stats).toMatchObject({ total: 6, accepted: 2, deferred: 1, suppressed: 3, queued: 0 })
    ctx.fake.reset()
  })

  it('a recipient whose message cannot be rendered is excluded by the preview and refused at hand-over with the reason; the others go', async () => {
    // Each replace multiplies the text's length: 2 characters render to 1,332, 20 to 25,290 (over 1600),
    // and 200 exceed the template memory limit.
    const fine = await addConsentingContact(ctx, '+12125552101', { tags: ['render'], attributes: { code: 'ab' } })
    const long = await addConsentingContact(ctx, '+12125552102', { tags: ['render'], attributes: { code: 'x'.repeat(20) } })
    const blown = await addConsentingContact(ctx, '+12125552103', { tags: ['render'], attributes: { code: 'x'.repeat(200) } })
    const campaign = await createCampaign(ctx, {
      message: '{{ attributes.code | replace: "", "0123456789" | replace: "", "0123456789" | replace: "", "0123456789" }}',
      audience: { tags: ['render'] }
    })
    expect(await preview(ctx, campaign.id)).toMatchObject({ audience: 3, eligible: 1, excluded: { INVALID_TEMPLATE: 2 } })
    const test = await post(ctx, `/campaigns/${campaign.id}/test`, { phoneNumbers: ['+12125552101', '+12125552103'] })
    expect(test.statusCode).toBe(400)
    expect(test.json()).toMatchObject({ code: 'INVALID_TEMPLATE' })
    expect(ctx.fake.sendRequests()).toHaveLength(0)

    await acted(ctx, campaign.id, 'launch')
    const rows = await handedOver(side.handle, campaign.id)
    const byContact = new Map(rows.map((r) => [r.contact_id, r]))
    expect(byContact.get(blown.id)).toMatchObject({ status: 'suppressed', decision_reason: expect.stringMatching(/^INVALID_TEMPLATE: message could not be rendered: memory alloc limit exceeded/) })
    expect(byContact.get(long.id)).toMatchObject({ status: 'suppressed', decision_reason: 'INVALID_TEMPLATE: message renders to 25290 characters for this recipient; at most 1600 are allowed' })
    expect(byContact.get(fine.id)?.status).toBe('accepted')
    expect(sentMessages().map((m) => m.to)).toEqual(['12125552101'])
    ctx.fake.reset()
  })

  it('an audience with nobody eligible: zero segments, no encoding', async () => {
    const campaign = await createCampaign(ctx, { audience: { tags: ['nobody-has-this'] } })
    expect(await preview(ctx, campaign.id)).toEqual({
      audience: 0, eligible: 0, excluded: { RECIPIENT_OPTED_OUT: 0, NO_CONSENT: 0, FREQUENCY_CAP: 0, INVALID_TEMPLATE: 0 }, deferred: 0, samples: [], segments: { min: 0, max: 0, total: 0 }, encoding: null
    })
  })

  it('reads the audience page by page', async () => {
    await seedContacts(side.handle, 2500, { prefix: '+1646', tags: () => ['bulk'] })
    const campaign = await createCampaign(ctx, { audience: { tags: ['bulk'] } })
    // Seeded contacts have no consent on record.
    expect(await preview(ctx, campaign.id)).toMatchObject({ audience: 2500, eligible: 0, excluded: { NO_CONSENT: 2500 } })
  })

  it('test sends: rendered with the number\'s own contact, else the first audience member; through the suppression list; not in stats', async () => {
    const campaign = await createCampaign(ctx, { message: TEMPLATE, audience: { tags: ['pv'] }, senderId: 'AcmeTest' })
    const response = await post(ctx, `/campaigns/${campaign.id}/test`, { phoneNumbers: [people.lukasz.phoneNumber, '12125559999', people.optedOut.phoneNumber] })
    expect(response.statusCode, response.body).toBe(200)
    const { results } = response.json<{ results: Array<{ phoneNumber: string, messageId: string | null, status: string, code: string | null, error: string | null }> }>()
    expect(results).toEqual([
      { phoneNumber: people.lukasz.phoneNumber, messageId: expect.any(String), status: 'accepted', code: null, error: null },
      { phoneNumber: '+12125559999', messageId: expect.any(String), status: 'accepted', code: null, error: null },
      { phoneNumber: people.optedOut.phoneNumber, messageId: expect.any(String), status: 'suppressed', code: 'RECIPIENT_OPTED_OUT', error: expect.any(String) }
    ])
    expect(sentMessages().sort((a, b) => a.to.localeCompare(b.to))).toEqual([
      { to: '12125552002', text: `Hi Łukasz ${people.lukasz.lastName}, 20% off today` + FOOTER },
      { to: '12125559999', text: 'Hi Ann Lee, 20% off today' + FOOTER }
    ])
    expect(ctx.fake.sendRequests().every((r) => (r.body as { messages: Array<{ from?: string }> }).messages.every((m) => m.from === 'AcmeTest'))).toBe(true)
    expect((await getCampaign(ctx, campaign.id)).stats.total).toBe(0)
    // Each test send is an outbox row of its own, marked as such.
    expect(await getMessage(ctx, results[1]!.messageId!)).toMatchObject({ origin: 'campaign_test', campaignId: null, decisionReason: `Test send of campaign ${campaign.id}` })
    ctx.fake.reset()
  })

  it.each<[string, object, number, string]>([
    ['more than 10 numbers', { phoneNumbers: Array.from({ length: 11 }, (_, i) => `+1212555${3000 + i}`) }, 400, 'FST_ERR_VALIDATION'],
    ['no numbers', { phoneNumbers: [] }, 400, 'FST_ERR_VALIDATION'],
    ['an invalid number among valid ones', { phoneNumbers: ['+12125552001', '+10000000000'] }, 400, 'INVALID_PHONE_NUMBER']
  ])('test sends refuse %s, sending nothing', async (_name, body, status, code) => {
    const campaign = await createCampaign(ctx, { audience: { tags: ['pv'] } })
    const before = await messageCount()
    const response = await post(ctx, `/campaigns/${campaign.id}/test`, body)
    expect(response.statusCode, response.body).toBe(status)
    expect(response.json()).toMatchObject({ code })
    expect(ctx.fake.sendRequests()).toHaveLength(0)
    expect(await messageCount()).toBe(before)
  })

  it('a large audience\'s preview lets other requests in between its pages (it does not hold the event loop)', async () => {
    await seedContacts(side.handle, 3500, { prefix: '+1917', tags: () => ['bulk-preview'] })
    const campaign = await createCampaign(ctx, { audience: { tags: ['bulk-preview'] } })
    // Event-loop turns while the preview runs: a preview that never yields leaves none for anything else.
    let turns = 0
    let done = false
    const turn = (): void => { if (!done) { turns++; setImmediate(turn) } }
    setImmediate(turn)
    const report = await preview(ctx, campaign.id)
    done = true
    expect(report.audience).toBe(3500)
    // Four pages of 1,000: at least one turn between each.
    expect(turns).toBeGreaterThanOrEqual(3)
  })

  it('preview and test of an unknown campaign → 404', async () => {
    const unknown = '01900000-0000-7000-8000-000000000000'
    expect((await ctx.app.inject({ method: 'GET', url: `/campaigns/${unknown}/preview`, headers: ctx.headers })).statusCode).toBe(404)
    expect((await post(ctx, `/campaigns/${unknown}/test`, { phoneNumbers: ['+12125552001'] })).statusCode).toBe(404)
  })
})

describe('stats', () => {
  let ctx: TestContext
  let side: Side
  beforeAll(async () => { ({ ctx, side } = await startWithSide({ workers: 'manual', env: { RATE_LIMIT_MAX: '100000' } })) })
  afterAll(async () => { await closeWithSide(ctx, side) })

  it('counts messages by status and the recipients who opted out within 72 h of being sent', async () => {
    const contacts = []
    for (let i = 0; i < 5; i++) contacts.push((await addConsentingContact(ctx, `+1415555${7000 + i}`, { tags: ['st'] })).id)
    const campaign = await createCampaign(ctx, { audience: { tags: ['st'] } })
    await acted(ctx, campaign.id, 'launch')
    const rows = await campaignRows(side.handle, campaign.id)
    const rowOf = (contactId: string) => rows.find((r) => r.contact_id === contactId)!.id
    const set = async (contactId: string, status: string, sentAt: string | null) => {
      await side.handle.db.updateTable('messages').set({ status, sent_at: sentAt }).where('id', '=', rowOf(contactId)).execute()
    }
    const sentAt = at(HOUR)
    await set(contacts[0]!, 'accepted', sentAt)
    await set(contacts[1]!, 'delivered', sentAt)
    await set(contacts[2]!, 'delivered', sentAt)
    await set(contacts[3]!, 'failed', null)
    // contacts[4] stays queued.

    const optOutAt = async (contactId: string, ms: number) => {
      ctx.clock.set(at(ms))
      expect((await post(ctx, `/contacts/${contactId}/opt-out`)).statusCode).toBe(201)
    }
    try {
      await optOutAt(contacts[0]!, HOUR + 1000) // within 72 h: counts
      await optOutAt(contacts[0]!, 2 * HOUR) // the same recipient again: still one
      await optOutAt(contacts[1]!, HOUR + 72 * HOUR) // 72 h after: too late to blame the campaign
      await optOutAt(contacts[3]!, 2 * HOUR) // never sent
      await optOutAt(contacts[2]!, HOUR + 72 * HOUR - 1) // just within
    } finally {
      ctx.clock.set(DAYTIME)
    }
    expect((await getCampaign(ctx, campaign.id)).stats).toEqual({
      total: 5, queued: 1, deferred: 0, sending: 0, accepted: 1, delivered: 2, undeliverable: 0, expired: 0, rejected: 0, failed: 1, suppressed: 0, cancelled: 0, optOuts: 2
    })
    // The list shows the same stats.
    const listed = await ctx.app.inject({ method: 'GET', url: '/campaigns?limit=1', headers: ctx.headers })
    expect(listed.json<{ items: Array<{ id: string, stats: unknown }> }>().items[0]).toMatchObject({ id: campaign.id, stats: { total: 5, optOuts: 2 } })
  })

  it('with MARKETING_CONSENT_REQUIRED=false, materialises contacts without an opt-in as queued; opted-out numbers stay suppressed', async () => {
    const [subscribed, unsubscribed] = await seedContacts(side.handle, 2, { prefix: '+1332', tags: () => ['lax'], subscribed: (i) => i === 0 })
    const optedOut = await addConsentingContact(ctx, '+14155558001', { tags: ['lax'] })
    expect((await post(ctx, `/contacts/${optedOut.id}/opt-out`)).statusCode).toBe(201)
    const campaigns = createCampaignsService({
      db: side.handle.db,
      dialect: side.handle.dialect,
      config: { ...ctx.config, marketingConsentRequired: false },
      clock: ctx.clock,
      sending: { sendSingle: async () => { throw new Error('unused') } }
    })
    const campaign = await campaigns.create({ name: 'lax', message: 'Hi', audience: { tags: ['lax'] } })
    expect(await campaigns.launch(campaign.id)).toMatchObject({ status: 'sending', recipients: 3 })
    const status = new Map((await campaignRows(side.handle, campaign.id)).map((r) => [r.contact_id, r.status]))
    expect([status.get(subscribed!), status.get(unsubscribed!), status.get(optedOut.id)]).toEqual(['queued', 'queued', 'suppressed'])
  })
})
