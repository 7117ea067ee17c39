import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DAYTIME, type TestContext } from '../support/app.js'
import { act, acted, createCampaign, getCampaign, startWithSide, closeWithSide, patchCampaign, postCampaign, type CampaignView, type Side } from '../support/campaigns.js'

let ctx: TestContext
let side: Side
beforeAll(async () => { ({ ctx, side } = await startWithSide({ workers: 'manual', env: { RATE_LIMIT_MAX: '100000' } })) })
afterAll(async () => { await closeWithSide(ctx, side) })

const HOUR = 60 * 60 * 1000
const inHours = (hours: number): string => new Date(DAYTIME.getTime() + hours * HOUR).toISOString()
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const EMPTY_STATS = { total: 0, queued: 0, deferred: 0, sending: 0, accepted: 0, delivered: 0, undeliverable: 0, expired: 0, rejected: 0, failed: 0, suppressed: 0, cancelled: 0, optOuts: 0 }

async function campaignCount (): Promise<number> {
  const row = await side.handle.db.selectFrom('campaigns').select(side.handle.db.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow()
  return Number(row.n)
}

describe('POST /campaigns', () => {
  it('creates a draft with every field, normalised', async () => {
    const response = await postCampaign(ctx, {
      name: 'Summer sale',
      message: 'Hi {{ firstName | default: "there" }}, 20% off in {{ attributes.city }}',
      audience: { tags: ['vip', 'newsletter'], excludeTags: ['staff'] },
      senderId: 'AcmeShop',
      sendAt: '2026-06-16T10:00:00+02:00',
      validUntil: '2026-06-16T20:00:00Z'
    })
    expect(response.statusCode, response.body).toBe(201)
    const campaign = response.json<CampaignView>()
    expect(campaign).toEqual({
      id: expect.stringMatching(UUID),
      name: 'Summer sale',
      message: 'Hi {{ firstName | default: "there" }}, 20% off in {{ attributes.city }}',
      audience: { tags: ['vip', 'newsletter'], excludeTags: ['staff'] },
      senderId: 'AcmeShop',
      sendAt: '2026-06-16T08:00:00.000Z',
      validUntil: '2026-06-16T20:00:00.000Z',
      status: 'draft',
      createdAt: DAYTIME.toISOString(),
      updatedAt: DAYTIME.toISOString(),
      launchedAt: null,
      completedAt: null,
      stats: EMPTY_STATS
    })
    expect(await getCampaign(ctx, campaign.id)).toEqual(campaign)
  })

  it('defaults: no tags, no sender, no times', async () => {
    const campaign = await createCampaign(ctx, { audience: {} })
    expect(campaign).toMatchObject({ audience: { tags: [], excludeTags: [] }, senderId: null, sendAt: null, validUntil: null, status: 'draft' })
  })

  it.each<[string, object, string, string]>([
    ['a typo in a variable', { message: 'Hi {{ fristName }}' }, 'INVALID_TEMPLATE', 'unknown variable fristName (line 1, column 7)'],
    ['an unknown filter', { message: 'Hi {{ firstName | shout }}' }, 'INVALID_TEMPLATE', 'undefined filter: shout'],
    ['a syntax error', { message: 'Hi {{ firstName' }, 'INVALID_TEMPLATE', 'not closed'],
    ['a file include', { message: '{% include "/etc/passwd" %}' }, 'INVALID_TEMPLATE', 'tag "include" not found'],
    ['no audience', { audience: undefined }, 'FST_ERR_VALIDATION', 'audience'],
    ['an unknown audience field', { audience: { segment: 'x' } }, 'FST_ERR_VALIDATION', 'additional properties'],
    ['an empty message', { message: '' }, 'FST_ERR_VALIDATION', 'message'],
    ['a message over 1600 characters', { message: 'x'.repeat(1601) }, 'FST_ERR_VALIDATION', 'message'],
    ['a tag with a comma', { audience: { tags: ['a,b'] } }, 'FST_ERR_VALIDATION', 'tags'],
    ['a sendAt that is not a date', { sendAt: 'tomorrow' }, 'FST_ERR_VALIDATION', 'sendAt'],
    ['validUntil in the past', { validUntil: inHours(-1) }, 'BAD_REQUEST', 'validUntil lies in the past'],
    ['validUntil before sendAt', { sendAt: inHours(5), validUntil: inHours(4) }, 'BAD_REQUEST', 'validUntil must be after sendAt'],
    ['a sender id over 16 characters', { senderId: 'x'.repeat(17) }, 'FST_ERR_VALIDATION', 'senderId'],
    ['an alphanumeric sender id over 11 characters', { senderId: 'AcmeShopping' }, 'FST_ERR_VALIDATION', 'senderId'],
    ['a numeric sender id over 15 digits', { senderId: '+1234567890123456' }, 'FST_ERR_VALIDATION', 'senderId'],
    ['a sender id with characters no handset shows', { senderId: 'Acme<b>' }, 'FST_ERR_VALIDATION', 'senderId'],
    ['a sender id starting with a space', { senderId: ' Acme' }, 'FST_ERR_VALIDATION', 'senderId'],
    ['a sender id of letters outside A–Z', { senderId: 'Café' }, 'FST_ERR_VALIDATION', 'senderId']
  ])('refuses %s with 400, creating nothing', async (_name, change, code, message) => {
    const before = await campaignCount()
    const response = await postCampaign(ctx, { name: 'x', message: 'Hi', audience: {}, ...change })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json()).toMatchObject({ statusCode: 400, code })
    expect(response.json<{ message: string }>().message).toContain(message)
    expect(await campaignCount()).toBe(before)
  })
})

describe('GET /campaigns', () => {
  it('lists newest first, filtered by status, paginated by cursor', async () => {
    const a = await createCampaign(ctx, { name: 'list a' })
    const b = await createCampaign(ctx, { name: 'list b' })
    const c = await createCampaign(ctx, { name: 'list c' })
    await acted(ctx, b.id, 'cancel')

    const first = await ctx.app.inject({ method: 'GET', url: '/campaigns?limit=2', headers: ctx.headers })
    expect(first.statusCode).toBe(200)
    const page1 = first.json<{ items: CampaignView[], nextCursor: string | null }>()
    expect(page1.items.map((i) => i.name)).toEqual(['list c', 'list b'])
    expect(page1.items[0]).toEqual(await getCampaign(ctx, c.id))
    expect(page1.nextCursor).not.toBeNull()
    const second = await ctx.app.inject({ method: 'GET', url: `/campaigns?limit=2&cursor=${page1.nextCursor}`, headers: ctx.headers })
    expect(second.json<{ items: CampaignView[] }>().items[0]!.id).toBe(a.id)

    const cancelled = await ctx.app.inject({ method: 'GET', url: '/campaigns?status=cancelled&limit=100', headers: ctx.headers })
    expect(cancelled.json<{ items: CampaignView[] }>().items.map((i) => i.id)).toEqual([b.id])
  })

  it.each([
    ['/campaigns?status=running', 'FST_ERR_VALIDATION'],
    ['/campaigns?limit=101', 'FST_ERR_VALIDATION'],
    ['/campaigns?cursor=bm90LWFuLWlk', 'INVALID_CURSOR']
  ])('%s → 400 %s', async (url, code) => {
    const response = await ctx.app.inject({ method: 'GET', url, headers: ctx.headers })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ code })
  })

  it('404 for an unknown id, 400 for a malformed one, 401 without a key', async () => {
    const unknown = await ctx.app.inject({ method: 'GET', url: '/campaigns/01900000-0000-7000-8000-000000000000', headers: ctx.headers })
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json()).toMatchObject({ code: 'NOT_FOUND', message: 'Campaign 01900000-0000-7000-8000-000000000000 not found' })
    expect((await ctx.app.inject({ method: 'GET', url: '/campaigns/nope', headers: ctx.headers })).statusCode).toBe(400)
    expect((await ctx.app.inject({ method: 'GET', url: '/campaigns' })).statusCode).toBe(401)
  })
})

describe('PATCH /campaigns/:id', () => {
  it('edits a draft: only the fields given, times normalised, updatedAt moved', async () => {
    const campaign = await createCampaign(ctx, { senderId: 'Acme', sendAt: inHours(2) })
    ctx.clock.advance(1000)
    try {
      const response = await patchCampaign(ctx, campaign.id, {
        message: 'Hello {{ lastName }}',
        audience: { excludeTags: ['staff'] },
        senderId: null,
        validUntil: '2026-06-17T00:00:00+00:00'
      })
      expect(response.statusCode, response.body).toBe(200)
      expect(response.json()).toEqual({
        ...campaign,
        message: 'Hello {{ lastName }}',
        audience: { tags: [], excludeTags: ['staff'] },
        senderId: null,
        validUntil: '2026-06-17T00:00:00.000Z',
        updatedAt: new Date(DAYTIME.getTime() + 1000).toISOString()
      })
    } finally {
      ctx.clock.set(DAYTIME)
    }
  })

  it('edits a scheduled campaign, which keeps its status', async () => {
    const campaign = await createCampaign(ctx, { sendAt: inHours(2) })
    expect(await acted(ctx, campaign.id, 'launch')).toEqual({ id: campaign.id, status: 'scheduled' })
    const response = await patchCampaign(ctx, campaign.id, { sendAt: inHours(3), name: 'Later' })
    expect(response.statusCode, response.body).toBe(200)
    expect(response.json()).toMatchObject({ status: 'scheduled', sendAt: inHours(3), name: 'Later' })
    // A scheduled campaign without a send time would never start: refused, nothing changed.
    const cleared = await patchCampaign(ctx, campaign.id, { sendAt: null })
    expect(cleared.statusCode).toBe(409)
    expect(cleared.json()).toMatchObject({ code: 'CONFLICT' })
    expect((await getCampaign(ctx, campaign.id)).sendAt).toBe(inHours(3))
  })

  it.each<[string, object, number, string]>([
    ['an invalid template', { message: 'Hi {{ frist }}' }, 400, 'INVALID_TEMPLATE'],
    ['an empty body', {}, 400, 'FST_ERR_VALIDATION'],
    ['an unknown field', { status: 'sending' }, 400, 'FST_ERR_VALIDATION'],
    ['validUntil in the past', { validUntil: inHours(-1) }, 400, 'BAD_REQUEST'],
    ['validUntil before the stored sendAt', { validUntil: inHours(1) }, 400, 'BAD_REQUEST']
  ])('refuses %s and changes nothing', async (_name, body, status, code) => {
    const campaign = await createCampaign(ctx, { sendAt: inHours(2) })
    const response = await patchCampaign(ctx, campaign.id, body)
    expect(response.statusCode, response.body).toBe(status)
    expect(response.json()).toMatchObject({ code })
    expect(await getCampaign(ctx, campaign.id)).toEqual(campaign)
  })

  it('404 for an unknown campaign', async () => {
    const response = await patchCampaign(ctx, '01900000-0000-7000-8000-000000000000', { name: 'x' })
    expect(response.statusCode).toBe(404)
  })
})

describe('the status machine over HTTP', () => {
  /** A campaign brought to `status` through the API. */
  async function campaignIn (status: 'draft' | 'scheduled' | 'sending' | 'paused' | 'completed' | 'cancelled'): Promise<CampaignView> {
    const campaign = await createCampaign(ctx, status === 'scheduled' ? { sendAt: inHours(1) } : {})
    if (status === 'scheduled' || status === 'sending' || status === 'paused') await acted(ctx, campaign.id, 'launch')
    if (status === 'paused') await acted(ctx, campaign.id, 'pause')
    if (status === 'cancelled') await acted(ctx, campaign.id, 'cancel')
    if (status === 'completed') {
      await acted(ctx, campaign.id, 'launch')
      // No contacts: nothing to send, so the next tick completes it.
      expect((await side.campaigns.tick()).completed).toContain(campaign.id)
    }
    return await getCampaign(ctx, campaign.id)
  }

  const CASES: Array<[from: Parameters<typeof campaignIn>[0], action: 'launch' | 'pause' | 'resume' | 'cancel' | 'edit', to: string | null]> = [
    ['draft', 'launch', 'sending'],
    ['draft', 'pause', null],
    ['draft', 'resume', null],
    ['draft', 'cancel', 'cancelled'],
    ['draft', 'edit', 'draft'],
    ['scheduled', 'launch', null],
    ['scheduled', 'pause', null],
    ['scheduled', 'resume', null],
    ['scheduled', 'cancel', 'cancelled'],
    ['scheduled', 'edit', 'scheduled'],
    ['sending', 'launch', null],
    ['sending', 'pause', 'paused'],
    ['sending', 'resume', null],
    ['sending', 'cancel', 'cancelled'],
    ['sending', 'edit', null],
    ['paused', 'launch', null],
    ['paused', 'pause', null],
    ['paused', 'resume', 'sending'],
    ['paused', 'cancel', 'cancelled'],
    ['paused', 'edit', null],
    ['completed', 'launch', null],
    ['completed', 'pause', null],
    ['completed', 'resume', null],
    ['completed', 'cancel', null],
    ['completed', 'edit', null],
    ['cancelled', 'launch', null],
    ['cancelled', 'pause', null],
    ['cancelled', 'resume', null],
    ['cancelled', 'cancel', null],
    ['cancelled', 'edit', null]
  ]

  it.each(CASES)('%s + %s → %s', async (from, action, to) => {
    const campaign = await campaignIn(from)
    expect(campaign.status).toBe(from)
    const response = action === 'edit' ? await patchCampaign(ctx, campaign.id, { name: 'edited' }) : await act(ctx, campaign.id, action)
    if (to === null) {
      expect(response.statusCode, response.body).toBe(409)
      expect(response.json()).toMatchObject({ statusCode: 409, error: 'Conflict', code: 'CONFLICT' })
      expect(response.json<{ message: string }>().message).toMatch(new RegExp(`^Campaign ${campaign.id} is ${from}: it cannot be `))
      expect(await getCampaign(ctx, campaign.id)).toEqual(campaign)
    } else {
      expect(response.statusCode, response.body).toBe(action === 'edit' ? 200 : 202)
      expect((await getCampaign(ctx, campaign.id)).status).toBe(to)
    }
  })

  it.each(['launch', 'pause', 'resume', 'cancel'] as const)('%s of an unknown campaign → 404', async (action) => {
    const response = await act(ctx, '01900000-0000-7000-8000-000000000000', action)
    expect(response.statusCode).toBe(404)
    expect(response.json()).toMatchObject({ code: 'NOT_FOUND' })
  })

  it('refuses to launch a campaign whose validUntil has passed', async () => {
    const campaign = await createCampaign(ctx, { validUntil: inHours(1) })
    ctx.clock.set(inHours(2))
    try {
      const response = await act(ctx, campaign.id, 'launch')
      expect(response.statusCode).toBe(409)
      expect(response.json<{ message: string }>().message).toContain('which has passed')
      expect((await getCampaign(ctx, campaign.id)).status).toBe('draft')
    } finally {
      ctx.clock.set(DAYTIME)
    }
  })
})

describe('OpenAPI', () => {
  it('documents every campaign route with a schema for each status it answers', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/docs/json' })
    expect(response.statusCode).toBe(200)
    const doc = response.json<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>()
    const expected: Array<[path: string, method: string, statuses: string[]]> = [
      ['/campaigns', 'post', ['201', '400', '401', '429', '500']],
      ['/campaigns', 'get', ['200', '400', '401', '429', '500']],
      ['/campaigns/{id}', 'get', ['200', '400', '401', '404', '429', '500']],
      ['/campaigns/{id}', 'patch', ['200', '400', '401', '404', '409', '429', '500']],
      ['/campaigns/{id}/launch', 'post', ['202', '400', '401', '404', '409', '429', '500']],
      ['/campaigns/{id}/pause', 'post', ['202', '400', '401', '404', '409', '429', '500']],
      ['/campaigns/{id}/resume', 'post', ['202', '400', '401', '404', '409', '429', '500']],
      ['/campaigns/{id}/cancel', 'post', ['202', '400', '401', '404', '409', '429', '500']],
      ['/campaigns/{id}/preview', 'get', ['200', '400', '401', '404', '429', '500']],
      ['/campaigns/{id}/test', 'post', ['200', '400', '401', '404', '429', '500']]
    ]
    for (const [path, method, statuses] of expected) {
      expect(Object.keys(doc.paths[path]?.[method]?.responses ?? {}).sort(), `${method} ${path}`).toEqual(statuses)
    }
  })
})
