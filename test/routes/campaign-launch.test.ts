import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { materialiseAudience } from '../../src/db/repositories/campaigns.js'
import { insertMessages } from '../../src/db/repositories/messages.js'
import { newId } from '../../src/domain/ids.js'
import { createCampaignsService } from '../../src/services/campaigns.js'
import { DAYTIME, type TestContext } from '../support/app.js'
import { testDialect } from '../support/database.js'
import { act, acted, campaignRows, createCampaign, getCampaign, openSide, startWithSide, closeWithSide, seedContacts, type Side } from '../support/campaigns.js'

// The dispatcher is not started: the rows stay as the launch wrote them.
let ctx: TestContext
let side: Side
beforeAll(async () => { ({ ctx, side } = await startWithSide({ workers: 'manual', env: { RATE_LIMIT_MAX: '100000', INFOBIP_SENDER_ID: 'DefSender' } })) })
afterAll(async () => { await closeWithSide(ctx, side) })

const HOUR = 60 * 60 * 1000
const at = (ms: number): string => new Date(DAYTIME.getTime() + ms).toISOString()
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

async function optOut (contactId: string): Promise<void> {
  const response = await ctx.app.inject({ method: 'POST', url: `/contacts/${contactId}/opt-out`, headers: ctx.headers, payload: {} })
  expect(response.statusCode, response.body).toBe(201)
}

describe('launch', () => {
  it('materialises the audience set-based: one row per contact with a tag, minus excluded tags, refusals as suppressed rows', async () => {
    const count = 25_000
    const ids = await seedContacts(side.handle, count, {
      prefix: '+1415',
      tags: (i) => [...(i % 2 === 0 ? ['m-vip'] : []), ...(i % 5 === 0 ? ['m-staff'] : []), 'm-all'],
      subscribed: (i) => i % 7 !== 0
    })
    // In the audience (even, not a multiple of 5); 14 is also unsubscribed, which the opt-out reason wins over.
    const optedOut = [2, 4, 14]
    for (const i of optedOut) await optOut(ids[i]!)
    const inAudience = (i: number) => i % 2 === 0 && i % 5 !== 0
    const expected = ids.filter((_id, i) => inAudience(i))
    const expectedNoConsent = ids.filter((_id, i) => inAudience(i) && i % 7 === 0 && !optedOut.includes(i))

    const campaign = await createCampaign(ctx, { audience: { tags: ['m-vip'], excludeTags: ['m-staff'] }, senderId: 'Acme' })
    const before = newId()
    const started = performance.now()
    const launched = await acted(ctx, campaign.id, 'launch')
    const elapsed = performance.now() - started
    expect(launched).toEqual({ id: campaign.id, status: 'sending', recipients: expected.length })
    console.log(`launch materialised ${expected.length} of ${count} contacts in ${Math.round(elapsed)} ms`)

    const rows = await campaignRows(side.handle, campaign.id)
    expect(rows).toHaveLength(expected.length)
    expect(rows.map((r) => r.contact_id).sort()).toEqual([...expected].sort())
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length)
    const phoneOf = new Map(ids.map((id, i) => [id, `+1415${String(i).padStart(7, '0')}`]))
    // UUID-shaped, time-ordered by launch, the random tail the contact's; to the contact's number.
    expect(rows.filter((row) => !UUID.test(row.id) || row.id <= before || row.id.slice(19) !== row.contact_id!.slice(19) ||
      row.to_number !== phoneOf.get(row.contact_id!))).toEqual([])
    const suppressed = rows.filter((r) => r.status === 'suppressed')
    expect(rows.filter((r) => r.status === 'queued')).toHaveLength(expected.length - suppressed.length)
    expect(suppressed.filter((r) => r.decision_reason === 'RECIPIENT_OPTED_OUT: opted out before the campaign was launched').map((r) => r.contact_id).sort())
      .toEqual(optedOut.map((i) => ids[i]!).sort())
    expect(suppressed.filter((r) => r.decision_reason === 'NO_CONSENT: no recorded opt-in when the campaign was launched').map((r) => r.contact_id).sort())
      .toEqual([...expectedNoConsent].sort())
    expect(suppressed).toHaveLength(optedOut.length + expectedNoConsent.length)

    const queued = rows.find((r) => r.status === 'queued')!
    expect(queued).toMatchObject({
      text: '',
      segments: 0,
      encoding: 'GSM-7',
      purpose: 'marketing',
      origin: 'campaign',
      priority: 2,
      sender_id: 'Acme',
      campaign_id: campaign.id,
      decision_reason: null,
      created_at: DAYTIME.toISOString(),
      updated_at: DAYTIME.toISOString(),
      due_at: DAYTIME.toISOString(),
      valid_until: at(24 * HOUR),
      lease_owner: null,
      attempts: 0
    })
    expect(Number(queued.priority)).toBe(2)

    const view = await getCampaign(ctx, campaign.id)
    expect(view).toMatchObject({ status: 'sending', launchedAt: DAYTIME.toISOString(), validUntil: at(24 * HOUR) })
    expect(view.stats).toMatchObject({ total: expected.length, queued: expected.length - suppressed.length, suppressed: suppressed.length })

    // Every message is listed by GET /messages?campaignId=.
    const listed = await ctx.app.inject({ method: 'GET', url: `/messages?campaignId=${campaign.id}&limit=3`, headers: ctx.headers })
    expect(listed.json<{ items: Array<{ id: string }> }>().items.map((m) => m.id)).toEqual(rows.map((r) => r.id).sort().reverse().slice(0, 3))

    // Relaunching is refused and writes nothing; running the materialisation again (a retry) writes nothing either.
    expect((await act(ctx, campaign.id, 'launch')).statusCode).toBe(409)
    const again = await materialiseAudience(side.handle.db, {
      campaignId: campaign.id,
      audience: { tags: ['m-all'], excludeTags: [] },
      senderId: null,
      dueAt: DAYTIME.toISOString(),
      validUntil: at(HOUR),
      at: DAYTIME.toISOString(),
      consentRequired: true,
      pageSize: 7000,
      newId,
      reasons: { optedOut: 'x', noConsent: 'y' }
    })
    expect(again).toBe(count - expected.length)
    const after = await campaignRows(side.handle, campaign.id)
    expect(after).toHaveLength(count)
    expect(new Set(after.map((r) => r.contact_id)).size).toBe(count)
    const first = new Set(expected)
    expect(after.filter((r) => first.has(r.contact_id!)).map((r) => [r.id, r.status])).toEqual(rows.map((r) => [r.id, r.status]))
  })

  it('without tags: every contact; the default sender; validUntil as given', async () => {
    const solo = await createCampaign(ctx, { audience: { excludeTags: ['m-all'] }, validUntil: at(2 * HOUR) })
    const contacts = await seedContacts(side.handle, 3, { prefix: '+1212', tags: () => ['solo'] })
    const { recipients } = await acted(ctx, solo.id, 'launch')
    const rows = await campaignRows(side.handle, solo.id)
    // Every contact not tagged m-all: the 3 new ones and the 3 opted-out or other contacts from other tests without that tag.
    expect(rows.map((r) => r.contact_id).sort()).toEqual(expect.arrayContaining(contacts))
    expect(rows).toHaveLength(recipients!)
    expect(rows.every((r) => r.sender_id === 'DefSender' && r.valid_until === at(2 * HOUR))).toBe(true)
  })

  it('two concurrent launches: one wins, the other gets 409, one set of rows', async () => {
    const contacts = await seedContacts(side.handle, 500, { prefix: '+1646', tags: () => ['race'] })
    const campaign = await createCampaign(ctx, { audience: { tags: ['race'] } })
    const responses = await Promise.all([act(ctx, campaign.id, 'launch'), act(ctx, campaign.id, 'launch')])
    expect(responses.map((r) => r.statusCode).sort()).toEqual([202, 409])
    const rows = await campaignRows(side.handle, campaign.id)
    expect(rows.map((r) => r.contact_id).sort()).toEqual([...contacts].sort())
  })

  it('pause and resume write no rows; cancel moves every unsent row to cancelled in one go', async () => {
    const contacts = await seedContacts(side.handle, 40, { prefix: '+1718', tags: () => ['ctl'], subscribed: (i) => i !== 0 })
    const campaign = await createCampaign(ctx, { audience: { tags: ['ctl'] } })
    expect(await acted(ctx, campaign.id, 'launch')).toMatchObject({ status: 'sending', recipients: 40 })
    expect(await acted(ctx, campaign.id, 'pause')).toEqual({ id: campaign.id, status: 'paused' })
    expect(await acted(ctx, campaign.id, 'resume')).toEqual({ id: campaign.id, status: 'sending' })
    const rows = await campaignRows(side.handle, campaign.id)
    expect(rows).toHaveLength(40)
    const queued = rows.filter((r) => r.status === 'queued')
    expect(queued).toHaveLength(39)

    // What the dispatcher would have done with some: handed over, in flight, deferred.
    await side.handle.db.updateTable('messages').set({ status: 'accepted', sent_at: DAYTIME.toISOString() }).where('id', 'in', queued.slice(1, 6).map((r) => r.id)).execute()
    await side.handle.db.updateTable('messages').set({ status: 'sending' }).where('id', 'in', queued.slice(6, 8).map((r) => r.id)).execute()
    await side.handle.db.updateTable('messages').set({ status: 'deferred' }).where('id', 'in', queued.slice(8, 10).map((r) => r.id)).execute()

    ctx.clock.advance(5000)
    try {
      expect(await acted(ctx, campaign.id, 'cancel')).toEqual({ id: campaign.id, status: 'cancelled' })
    } finally {
      ctx.clock.set(DAYTIME)
    }
    const after = await campaignRows(side.handle, campaign.id)
    const cancelled = after.filter((r) => r.status === 'cancelled')
    expect(cancelled).toHaveLength(30 + 2)
    expect(cancelled.every((r) => r.decision_reason === 'CANCELLED: the campaign was cancelled before this message was handed over' && r.updated_at === at(5000))).toBe(true)
    expect((await getCampaign(ctx, campaign.id)).stats).toMatchObject({ total: 40, cancelled: 32, accepted: 5, sending: 2, suppressed: 1, queued: 0, deferred: 0 })
    expect(contacts).toHaveLength(40)
  })
})

describe('tick', () => {
  it('starts a scheduled campaign when its sendAt comes, across a restart; validUntil defaults to sendAt + 24 h', async () => {
    const contacts = await seedContacts(side.handle, 30, { prefix: '+1917', tags: () => ['sched'] })
    const sendAt = at(HOUR)
    const campaign = await createCampaign(ctx, { audience: { tags: ['sched'] }, sendAt })
    expect(await acted(ctx, campaign.id, 'launch')).toEqual({ id: campaign.id, status: 'scheduled' })
    expect(await campaignRows(side.handle, campaign.id)).toHaveLength(0)

    ctx.clock.set(at(HOUR - 1))
    try {
      expect((await side.campaigns.tick()).started).not.toContain(campaign.id)
      await ctx.restart({ RATE_LIMIT_MAX: '100000', INFOBIP_SENDER_ID: 'DefSender' })
      ctx.clock.set(at(HOUR + 400))
      expect((await side.campaigns.tick()).started).toEqual([campaign.id])
      // Started once: the next tick (or another instance's) does nothing more.
      expect((await side.campaigns.tick()).started).toEqual([])
    } finally {
      ctx.clock.set(DAYTIME)
    }
    expect(await getCampaign(ctx, campaign.id)).toMatchObject({ status: 'sending', launchedAt: at(HOUR + 400), validUntil: at(25 * HOUR) })
    const rows = await campaignRows(side.handle, campaign.id)
    expect(rows.map((r) => r.contact_id).sort()).toEqual([...contacts].sort())
    expect(rows.every((r) => r.due_at === at(HOUR + 400) && r.valid_until === at(25 * HOUR) && r.status === 'queued')).toBe(true)
  })

  // Several instances share one database only on PostgreSQL (one process per SQLite file).
  it.skipIf(testDialect() === 'sqlite')('two ticks at once start a due campaign once', async () => {
    await seedContacts(side.handle, 50, { prefix: '+1929', tags: () => ['twin'] })
    const campaign = await createCampaign(ctx, { audience: { tags: ['twin'] }, sendAt: at(HOUR) })
    await acted(ctx, campaign.id, 'launch')
    const other = openSide(ctx)
    try {
      const now = new Date(at(2 * HOUR))
      const [a, b] = await Promise.all([side.campaigns.tick(now), other.campaigns.tick(now)])
      expect([...a.started, ...b.started].filter((id) => id === campaign.id)).toEqual([campaign.id])
    } finally {
      await other.close()
    }
    expect(await campaignRows(side.handle, campaign.id)).toHaveLength(50)
  })

  it('completes a sending campaign once nothing is queued, deferred or sending; not a paused one', async () => {
    await seedContacts(side.handle, 4, { prefix: '+1347', tags: () => ['done'] })
    const campaign = await createCampaign(ctx, { audience: { tags: ['done'] } })
    const paused = await createCampaign(ctx, { audience: { tags: ['done'] } })
    await acted(ctx, campaign.id, 'launch')
    await acted(ctx, paused.id, 'launch')
    await acted(ctx, paused.id, 'pause')
    const rows = await campaignRows(side.handle, campaign.id)
    const set = async (ids: string[], status: string) => { await side.handle.db.updateTable('messages').set({ status }).where('id', 'in', ids).execute() }

    await set(rows.map((r) => r.id), 'delivered')
    await set([rows[0]!.id], 'deferred')
    expect((await side.campaigns.tick()).completed).not.toContain(campaign.id)
    await set([rows[0]!.id], 'sending')
    expect((await side.campaigns.tick()).completed).not.toContain(campaign.id)
    await set([rows[0]!.id], 'failed')
    await set((await campaignRows(side.handle, paused.id)).map((r) => r.id), 'delivered')

    ctx.clock.set(at(HOUR))
    try {
      const { completed } = await side.campaigns.tick()
      expect(completed).toContain(campaign.id)
      expect(completed).not.toContain(paused.id)
    } finally {
      ctx.clock.set(DAYTIME)
    }
    expect(await getCampaign(ctx, campaign.id)).toMatchObject({ status: 'completed', completedAt: at(HOUR) })
    expect((await getCampaign(ctx, paused.id)).status).toBe('paused')
  })
})

describe('message ids', () => {
  // A database of its own, with one contact: the launch writes one page.
  let own: TestContext
  let ownSide: Side
  beforeAll(async () => { ({ ctx: own, side: ownSide } = await startWithSide({ workers: 'manual' })) })
  afterAll(async () => { await closeWithSide(own, ownSide) })

  it('a collision with an id another process wrote fails the launch statement, and the launch is retried with fresh ids', async () => {
    const [contact] = await seedContacts(ownSide.handle, 1, { prefix: '+1332', tags: () => ['clash'] })
    // Another process's row that happens to carry the id this launch's first page would give the contact.
    const prefix = newId().slice(0, 19)
    const clashing = `${prefix}${contact!.slice(19)}`
    await insertMessages(ownSide.handle.db, [{
      id: clashing, to: '+13320000000', text: 'x', senderId: null, purpose: 'transactional', status: 'delivered', segments: 1, encoding: 'GSM-7', createdAt: DAYTIME.toISOString()
    }])
    let calls = 0
    const campaigns = createCampaignsService({
      db: ownSide.handle.db,
      dialect: ownSide.handle.dialect,
      config: own.config,
      clock: own.clock,
      sending: { sendSingle: async () => { throw new Error('unused') } },
      // The campaign's id, then the clashing prefix for the first attempt's only page, then fresh ids.
      newId: () => calls++ === 1 ? `${prefix}0000-000000000000` : newId()
    })
    const campaign = await campaigns.create({ name: 'clash', message: 'Hi', audience: { tags: ['clash'] } })
    expect(await campaigns.launch(campaign.id)).toEqual({ id: campaign.id, status: 'sending', recipients: 1 })
    expect(calls).toBe(3)
    const rows = await campaignRows(ownSide.handle, campaign.id)
    expect(rows).toHaveLength(1)
    expect(rows[0]!.id).not.toBe(clashing)
    expect(rows[0]!.id.slice(19)).toBe(contact!.slice(19))
  })
})
