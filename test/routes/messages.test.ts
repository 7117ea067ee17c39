import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/database.js'
import { insertMessages } from '../../src/db/repositories/messages.js'
import type { Message } from '../../src/db/repositories/messages.js'
import { newId } from '../../src/domain/ids.js'
import { getMessage, listMessages, postDeliveryReports, sendAccepted, sendSms, type Page } from '../support/api.js'
import { DAYTIME, startTestApp, type TestContext } from '../support/app.js'

let ctx: TestContext

beforeAll(async () => {
  ctx = await startTestApp({ env: { RATE_LIMIT_MAX: '100000' } })
})

afterAll(async () => {
  await ctx?.close()
})

beforeEach(() => {
  ctx.fake.reset()
})

describe('GET /messages/:id', () => {
  it('returns the full record of a message just sent', async () => {
    const sent = await sendAccepted(ctx, '+14155550101', 'Your code is 123456')
    const [request] = ctx.fake.sendRequests()
    expect(ctx.fake.sendRequests()).toHaveLength(1)
    const entry = sent.infobipResponse.messages[0]!

    const message = await getMessage(ctx, sent.id)
    expect(message).toMatchObject({
      id: sent.id,
      to: '+14155550101',
      text: 'Your code is 123456',
      purpose: 'transactional',
      status: 'accepted',
      campaignId: null,
      segments: 1,
      encoding: 'GSM-7',
      infobipMessageId: entry.messageId,
      bulkId: sent.infobipResponse.bulkId,
      providerStatus: 'PENDING_ACCEPTED',
      error: null,
      price: null,
      createdAt: DAYTIME.toISOString(),
      sentAt: DAYTIME.toISOString(),
      doneAt: null
    })
    // The ids are Infobip's real ones: the fake echoes our messageId and invents the bulkId.
    const body = request?.body as { messages: Array<{ destinations: Array<{ to: string, messageId: string }> }> }
    expect(body.messages[0]?.destinations[0]).toEqual({ to: '14155550101', messageId: sent.id })
    expect(message.infobipMessageId).toBe(sent.id)
    expect(message.bulkId).toEqual(expect.any(String))
    expect(message.bulkId).not.toBe('')
  })

  it('counts UCS-2 segments for a non-GSM text', async () => {
    const text = 'Привет! '.repeat(10) // 80 UCS-2 units: 2 segments of 67
    const sent = await sendAccepted(ctx, '+14155550102', text)
    expect(sent).toMatchObject({ segments: 2, encoding: 'UCS-2' })
    const message = await getMessage(ctx, sent.id)
    expect(message).toMatchObject({ text, segments: 2, encoding: 'UCS-2', status: 'accepted' })
  })

  it('answers 404 NOT_FOUND for an unknown id', async () => {
    const id = newId()
    const response = await ctx.app.inject({ method: 'GET', url: `/messages/${id}`, headers: ctx.headers })
    expect(response.statusCode).toBe(404)
    expect(response.json()).toMatchObject({ statusCode: 404, code: 'NOT_FOUND', error: 'Not Found' })
    expect(response.json<{ message: string }>().message).toContain(id)

    const v4 = await ctx.app.inject({ method: 'GET', url: `/messages/${randomUUID()}`, headers: ctx.headers })
    expect(v4.statusCode).toBe(404)
    expect(v4.json()).toMatchObject({ code: 'NOT_FOUND' })
  })

  it.each(['not-a-uuid', '12345', `${newId()}x`, "1' or '1'='1"])('answers 400 for the malformed id %s', async (id) => {
    const response = await ctx.app.inject({ method: 'GET', url: `/messages/${encodeURIComponent(id)}`, headers: ctx.headers })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ statusCode: 400, code: 'FST_ERR_VALIDATION' })
  })

  it('needs the API key', async () => {
    const sent = await sendAccepted(ctx, '+14155550103', 'Your code is 123456')
    const response = await ctx.app.inject({ method: 'GET', url: `/messages/${sent.id}` })
    expect(response.statusCode).toBe(401)
    expect(response.json()).toMatchObject({ code: 'UNAUTHORIZED' })
  })
})

describe('GET /messages', () => {
  it('lists newest first', async () => {
    const to = '+14155550111'
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await sendAccepted(ctx, to, `ordered ${i}`)).id)
    const page = await listMessages(ctx, `?to=${encodeURIComponent(to)}`)
    expect(page.items.map((m) => m.id)).toEqual([...ids].reverse())
    expect(page.items.map((m) => m.text)).toEqual(['ordered 2', 'ordered 1', 'ordered 0'])
    expect(page.nextCursor).toBeNull()

    const all = await listMessages(ctx, '?limit=100')
    const allIds = all.items.map((m) => m.id)
    expect(allIds.length).toBeGreaterThanOrEqual(3)
    expect(allIds).toEqual([...allIds].sort().reverse())
    expect(allIds.slice(0, 3)).toEqual([...ids].reverse())
  })

  it('filters by status', async () => {
    const to = '+14155550121'
    const delivered = await sendAccepted(ctx, to, 'will be delivered')
    const undeliverable = await sendAccepted(ctx, to, 'will bounce')
    const stillAccepted = await sendAccepted(ctx, to, 'stays accepted')
    expect(await postDeliveryReports(ctx, [{ messageId: delivered.id, to: '14155550121', status: 'DELIVERED' }])).toEqual({ processed: 1, ignored: 0 })
    expect(await postDeliveryReports(ctx, [{ messageId: undeliverable.id, to: '14155550121', status: 'UNDELIVERABLE' }])).toEqual({ processed: 1, ignored: 0 })
    ctx.fake.enqueue({ kind: 'error', status: 400 })
    const failedResponse = await sendSms(ctx, to, 'will fail', 'transactional')
    expect(failedResponse.statusCode).toBe(502)
    const failedId = (await listMessages(ctx, `?to=${encodeURIComponent(to)}&status=failed`)).items.map((m) => m.id)
    expect(failedId).toHaveLength(1)

    const expectations: Array<[status: string, ids: string[]]> = [
      ['delivered', [delivered.id]],
      ['undeliverable', [undeliverable.id]],
      ['accepted', [stillAccepted.id]],
      ['failed', failedId]
    ]
    for (const [status, ids] of expectations) {
      const scoped = await listMessages(ctx, `?to=${encodeURIComponent(to)}&status=${status}`)
      expect(scoped.items.map((m) => m.id), status).toEqual(ids)
      const global = await listMessages(ctx, `?status=${status}&limit=100`)
      expect(global.items.every((m) => m.status === status), status).toBe(true)
      for (const id of ids) expect(global.items.map((m) => m.id)).toContain(id)
    }
    expect((await listMessages(ctx, `?to=${encodeURIComponent(to)}&status=expired`)).items).toEqual([])
  })

  it('rejects an unknown status', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/messages?status=lost', headers: ctx.headers })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ code: 'FST_ERR_VALIDATION' })
  })

  it('filters by recipient, with or without the +', async () => {
    const mine = [await sendAccepted(ctx, '+14155550131', 'one'), await sendAccepted(ctx, '14155550131', 'two')]
    const other = await sendAccepted(ctx, '+14155550132', 'other')
    const expected = mine.map((m) => m.id).reverse()
    for (const to of ['14155550131', '%2B14155550131', '+1%20415%20555%200131']) {
      const page = await listMessages(ctx, `?to=${to}`)
      expect(page.items.map((m) => m.id), to).toEqual(expected)
      expect(page.items.every((m) => m.to === '+14155550131')).toBe(true)
    }
    expect((await listMessages(ctx, '?to=14155550132')).items.map((m) => m.id)).toEqual([other.id])
    expect((await listMessages(ctx, '?to=14155550139')).items).toEqual([])
  })

  it('rejects a recipient that is not a valid number', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/messages?to=10000000000', headers: ctx.headers })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ code: 'INVALID_PHONE_NUMBER' })
  })

  it('filters by campaign', async () => {
    // No campaign route is needed to check the filter: campaign messages are rows like any other.
    const handle = openDatabase(ctx.config.databaseUrl)
    const campaignA = newId()
    const campaignB = newId()
    const rows = [campaignA, campaignB, campaignA].map((campaignId, i) => ({
      id: newId(),
      to: '+14155550141',
      text: `campaign text ${i}`,
      senderId: null,
      purpose: 'marketing' as const,
      status: 'queued' as const,
      campaignId,
      segments: 1,
      encoding: 'GSM-7',
      createdAt: DAYTIME.toISOString()
    }))
    try {
      await insertMessages(handle.db, rows)
    } finally {
      await handle.close()
    }
    await sendAccepted(ctx, '+14155550141', 'not in a campaign')

    const a = await listMessages(ctx, `?campaignId=${campaignA}`)
    expect(a.items.map((m) => m.id)).toEqual([rows[2]!.id, rows[0]!.id])
    expect(a.items.every((m) => m.campaignId === campaignA)).toBe(true)
    const b = await listMessages(ctx, `?campaignId=${campaignB}`)
    expect(b.items.map((m) => m.id)).toEqual([rows[1]!.id])
    expect((await listMessages(ctx, `?campaignId=${newId()}`)).items).toEqual([])
    // Filters combine.
    expect((await listMessages(ctx, `?campaignId=${campaignA}&status=queued&limit=1`)).items.map((m) => m.id)).toEqual([rows[2]!.id])
    expect((await listMessages(ctx, `?campaignId=${campaignA}&status=accepted`)).items).toEqual([])
  })

  it('pages with a cursor: no duplicates, no gaps, nextCursor null at the end', async () => {
    const to = '+14155550151'
    const ids: string[] = []
    for (let i = 0; i < 5; i++) ids.push((await sendAccepted(ctx, to, `page item ${i}`)).id)
    const newestFirst = [...ids].reverse()

    const seen: string[] = []
    const sizes: number[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page: Page<Message> = await listMessages(ctx, `?to=${encodeURIComponent(to)}&limit=2${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
      pages++
      sizes.push(page.items.length)
      seen.push(...page.items.map((m) => m.id))
      cursor = page.nextCursor
      if (pages < 3) expect(cursor, `page ${pages}`).toEqual(expect.any(String))
    } while (cursor !== null && pages < 10)

    expect(pages).toBe(3)
    expect(sizes).toEqual([2, 2, 1])
    expect(seen).toEqual(newestFirst)
    expect(new Set(seen).size).toBe(5)
  })

  it('ends with nextCursor null when the last page is exactly full', async () => {
    const to = '+14155550152'
    const ids: string[] = []
    for (let i = 0; i < 4; i++) ids.push((await sendAccepted(ctx, to, `full page ${i}`)).id)
    const first = await listMessages(ctx, `?to=${encodeURIComponent(to)}&limit=2`)
    expect(first.nextCursor).toEqual(expect.any(String))
    const second = await listMessages(ctx, `?to=${encodeURIComponent(to)}&limit=2&cursor=${encodeURIComponent(first.nextCursor!)}`)
    expect([...first.items, ...second.items].map((m) => m.id)).toEqual([...ids].reverse())
    expect(second.nextCursor).toBeNull()
  })

  it.each(['101', '1000', '0', '-1', 'ten'])('rejects limit=%s', async (limit) => {
    const response = await ctx.app.inject({ method: 'GET', url: `/messages?limit=${limit}`, headers: ctx.headers })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ statusCode: 400, code: 'FST_ERR_VALIDATION' })
  })

  it('accepts limit=100', async () => {
    const page = await listMessages(ctx, '?limit=100')
    expect(page.items.length).toBeLessThanOrEqual(100)
  })

  it.each([
    ['garbage', 'garbage!!'],
    ['base64 of a non-id', Buffer.from('not an id', 'utf8').toString('base64url')],
    ['base64 of an id with extra text', Buffer.from(`${newId()} or 1=1`, 'utf8').toString('base64url')]
  ])('rejects a cursor that is %s with INVALID_CURSOR', async (_label, cursor) => {
    const response = await ctx.app.inject({ method: 'GET', url: `/messages?cursor=${encodeURIComponent(cursor)}`, headers: ctx.headers })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ statusCode: 400, code: 'INVALID_CURSOR' })
  })
})
