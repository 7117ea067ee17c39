import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import type { LightMyRequestResponse } from 'fastify'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sql } from 'kysely'
import { openDatabase } from '../../src/db/database.js'
import { messagesTo, numberSequence, postSendSms } from '../support/api.js'
import { addConsentingContact, API_KEY, DAYTIME, startTestApp, type TestContext } from '../support/app.js'
import { testDialect } from '../support/database.js'
import { REPORT_STATUSES } from '../support/fake-infobip.js'

const OTHER_API_KEY = 'second-api-key-9876543210'
const HOUR = 60 * 60 * 1000
const MINUTE = 60 * 1000

let ctx: TestContext
/** A fresh valid number per test, so message counts per recipient are exact. */
const nextNumber = numberSequence('+1415555', 4000)
const newKey = (): string => `key-${randomUUID()}`

async function send (payload: object, key?: string, apiKey = API_KEY): Promise<LightMyRequestResponse> {
  return await postSendSms(ctx, payload, { 'x-api-key': apiKey, ...(key !== undefined ? { 'idempotency-key': key } : {}) })
}

const sendsTo = (to: string): number => ctx.fake.sendRequests().filter((r) => JSON.stringify(r.body).includes(`"${to.replace(/^\+/, '')}"`)).length

beforeAll(async () => {
  ctx = await startTestApp({ env: { API_KEYS: `${API_KEY},${OTHER_API_KEY}`, RATE_LIMIT_MAX: '100000' } })
})
afterAll(async () => {
  await ctx?.close()
})
beforeEach(() => {
  ctx.fake.reset()
})
afterEach(() => {
  ctx.clock.set(DAYTIME)
})

describe('Idempotency-Key on POST /send-sms', () => {
  it('without a key, every request sends (the baseline)', async () => {
    const to = nextNumber()
    const payload = { destinationNumber: to, message: 'No key', purpose: 'transactional' }
    const a = await send(payload)
    const b = await send(payload)
    expect([a.statusCode, b.statusCode]).toEqual([202, 202])
    expect(a.json<{ id: string }>().id).not.toBe(b.json<{ id: string }>().id)
    expect(sendsTo(to)).toBe(2)
  })

  it('a repeat with the same key and body returns the first response and sends nothing', async () => {
    const to = nextNumber()
    const key = newKey()
    const payload = { destinationNumber: to, message: 'Your code is 481516', purpose: 'transactional' }
    const first = await send(payload, key)
    expect(first.statusCode).toBe(202)
    expect(first.json()).toMatchObject({ status: 'accepted', message: 'SMS accepted for delivery.' })
    expect(first.headers['idempotent-replayed']).toBeUndefined()

    for (let i = 0; i < 2; i++) {
      const again = await send(payload, key)
      expect(again.statusCode).toBe(202)
      expect(again.json()).toEqual(first.json())
      expect(again.headers['idempotent-replayed']).toBe('true')
    }
    expect(sendsTo(to)).toBe(1)
    expect(ctx.fake.sendRequests()).toHaveLength(1)
    expect((await messagesTo(ctx, to)).map((m) => m.id)).toEqual([first.json<{ id: string }>().id])
  })

  it('replays a 200 (a status other than PENDING) with its status code', async () => {
    const to = nextNumber()
    const key = newKey()
    const payload = { destinationNumber: to, message: 'Rejected at once', purpose: 'transactional' }
    ctx.fake.enqueue({ kind: 'ok', status: REPORT_STATUSES.REJECTED })
    const first = await send(payload, key)
    expect(first.statusCode).toBe(200)
    expect(first.json()).toMatchObject({ status: 'rejected' })
    const again = await send(payload, key)
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual(first.json())
    expect(sendsTo(to)).toBe(1)
  })

  it('a repeat whose JSON lists the same fields in another order is the same request (one send, replayed)', async () => {
    const to = nextNumber()
    const key = newKey()
    const first = await send({ destinationNumber: to, message: 'Key order', purpose: 'transactional' }, key)
    expect(first.statusCode).toBe(202)
    const again = await send({ purpose: 'transactional', message: 'Key order', destinationNumber: to }, key)
    expect(again.statusCode).toBe(202)
    expect(again.json()).toEqual(first.json())
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(sendsTo(to)).toBe(1)
  })

  it('the same key with a different body is refused with 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const to = nextNumber()
    const key = newKey()
    const first = await send({ destinationNumber: to, message: 'Original', purpose: 'transactional' }, key)
    expect(first.statusCode).toBe(202)

    for (const other of [
      { destinationNumber: to, message: 'Changed', purpose: 'transactional' },
      { destinationNumber: nextNumber(), message: 'Original', purpose: 'transactional' },
      { destinationNumber: to, message: 'Original', purpose: 'transactional', senderId: 'Brand' }
    ]) {
      const reused = await send(other, key)
      expect(reused.statusCode, JSON.stringify(other)).toBe(422)
      expect(reused.json()).toMatchObject({ statusCode: 422, code: 'IDEMPOTENCY_KEY_REUSED' })
    }
    expect(ctx.fake.sendRequests()).toHaveLength(1)
    // The original is still replayed afterwards.
    expect((await send({ destinationNumber: to, message: 'Original', purpose: 'transactional' }, key)).json()).toEqual(first.json())
  })

  it('two concurrent requests with the same key send once and both get the same answer', async () => {
    const to = nextNumber()
    const key = newKey()
    const payload = { destinationNumber: to, message: 'Concurrent', purpose: 'transactional' }
    ctx.fake.setDefault({ kind: 'delay', ms: 300, then: { kind: 'ok' } })
    const [a, b] = await Promise.all([send(payload, key), send(payload, key)])
    expect([a.statusCode, b.statusCode]).toEqual([202, 202])
    expect(a.json<{ id: string }>().id).toBe(b.json<{ id: string }>().id)
    expect(a.json()).toEqual(b.json())
    expect([a.headers['idempotent-replayed'], b.headers['idempotent-replayed']].filter((h) => h === 'true')).toHaveLength(1)
    expect(ctx.fake.sendRequests()).toHaveLength(1)
    expect(await messagesTo(ctx, to)).toHaveLength(1)
  })

  it('keys are scoped to the API key', async () => {
    const to = nextNumber()
    const key = newKey()
    const payload = { destinationNumber: to, message: 'Scoped', purpose: 'transactional' }
    const mine = await send(payload, key, API_KEY)
    const theirs = await send(payload, key, OTHER_API_KEY)
    expect([mine.statusCode, theirs.statusCode]).toEqual([202, 202])
    expect(mine.json<{ id: string }>().id).not.toBe(theirs.json<{ id: string }>().id)
    expect(sendsTo(to)).toBe(2)

    // Each client still gets its own replay, and a different body under the other key is no conflict.
    expect((await send(payload, key, OTHER_API_KEY)).json()).toEqual(theirs.json())
    expect((await send(payload, key, API_KEY)).json()).toEqual(mine.json())
    const otherBody = await send({ ...payload, message: 'Scoped, other text' }, newKey(), OTHER_API_KEY)
    expect(otherBody.statusCode).toBe(202)
    expect(sendsTo(to)).toBe(3)
  })

  it('a key is remembered for 24 hours and forgotten after', async () => {
    const to = nextNumber()
    const key = newKey()
    const payload = { destinationNumber: to, message: 'Daily reminder', purpose: 'transactional' }
    const first = await send(payload, key)
    expect(first.statusCode).toBe(202)

    ctx.clock.advance(24 * HOUR - MINUTE)
    const stillRemembered = await send(payload, key)
    expect(stillRemembered.json()).toEqual(first.json())
    expect(sendsTo(to)).toBe(1)

    ctx.clock.advance(2 * MINUTE) // 24 h + 1 min after the first request
    const afterExpiry = await send(payload, key)
    expect(afterExpiry.statusCode).toBe(202)
    expect(afterExpiry.headers['idempotent-replayed']).toBeUndefined()
    expect(afterExpiry.json<{ id: string }>().id).not.toBe(first.json<{ id: string }>().id)
    expect(sendsTo(to)).toBe(2)

    // The fresh request owns the key again.
    expect((await send(payload, key)).json()).toEqual(afterExpiry.json())
    expect(sendsTo(to)).toBe(2)
  })

  it('a request refused by schema validation does not consume the key', async () => {
    const to = nextNumber()
    const key = newKey()
    const invalid = await send({ destinationNumber: to, message: '', purpose: 'transactional' }, key)
    expect(invalid.statusCode).toBe(400)
    expect(invalid.json()).toMatchObject({ code: 'FST_ERR_VALIDATION' })

    const valid = await send({ destinationNumber: to, message: 'Now valid', purpose: 'transactional' }, key)
    expect(valid.statusCode).toBe(202)
    expect(valid.headers['idempotent-replayed']).toBeUndefined()
    expect(sendsTo(to)).toBe(1)
  })

  it('a request refused as an invalid phone number does not consume the key', async () => {
    const key = newKey()
    const invalid = await send({ destinationNumber: '+10000000000', message: 'Hello', purpose: 'transactional' }, key)
    expect(invalid.statusCode).toBe(400)
    expect(invalid.json()).toMatchObject({ code: 'INVALID_PHONE_NUMBER' })
    expect(ctx.fake.sendRequests()).toHaveLength(0)

    const to = nextNumber()
    const valid = await send({ destinationNumber: to, message: 'Hello', purpose: 'transactional' }, key)
    expect(valid.statusCode).toBe(202)
    expect(valid.headers['idempotent-replayed']).toBeUndefined()
    expect(sendsTo(to)).toBe(1)
  })

  it('a provider failure is remembered: the repeat gets the same 502 and nothing is sent again', async () => {
    const to = nextNumber()
    const key = newKey()
    const payload = { destinationNumber: to, message: 'Refused by Infobip', purpose: 'transactional' }
    ctx.fake.enqueue({ kind: 'error', status: 400, messageId: 'BAD_REQUEST', text: 'Invalid destination address' })
    const first = await send(payload, key)
    expect(first.statusCode).toBe(502)
    expect(first.json()).toMatchObject({ statusCode: 502, code: 'PROVIDER_ERROR', providerStatus: 400, providerCode: 'BAD_REQUEST' })

    const again = await send(payload, key)
    expect(again.statusCode).toBe(502)
    expect(again.json()).toEqual(first.json())
    expect(sendsTo(to)).toBe(1)
    expect((await messagesTo(ctx, to)).map((m) => m.status)).toEqual(['failed'])
  })

  describe('a compliance refusal is remembered like a success', () => {
    /** The repeat got the first refusal again, marked replayed; nothing was sent and the first's suppressed record is the only one. */
    async function expectRefusalReplayed (again: LightMyRequestResponse, first: LightMyRequestResponse, to: string): Promise<void> {
      expect(again.statusCode).toBe(422)
      expect(again.json()).toEqual(first.json())
      expect(again.headers['idempotent-replayed']).toBe('true')
      expect(sendsTo(to)).toBe(0)
      expect((await messagesTo(ctx, to)).map((m) => [m.id, m.status])).toEqual([[first.json<{ messageId: string }>().messageId, 'suppressed']])
    }

    it('NO_CONSENT: once the recipient consents, the repeat still gets the first 422 and nothing is sent', async () => {
      const to = nextNumber()
      const key = newKey()
      const payload = { destinationNumber: to, message: 'Flash sale: 20% off today' }
      const first = await send(payload, key)
      expect(first.statusCode).toBe(422)
      expect(first.json()).toEqual({
        statusCode: 422,
        error: 'Unprocessable Entity',
        code: 'NO_CONSENT',
        message: 'Marketing needs a recorded opt-in from the recipient',
        messageId: expect.any(String)
      })
      expect(first.headers['idempotent-replayed']).toBeUndefined()

      await addConsentingContact(ctx, to)
      await expectRefusalReplayed(await send(payload, key), first, to)

      // A new key is a new request, decided now: the recipient has consented since.
      expect((await send(payload, newKey())).statusCode).toBe(202)
      expect(sendsTo(to)).toBe(1)
    })

    it('QUIET_HOURS: the repeat in the morning gets the evening 422 with its nextAllowedAt, and nothing is sent', async () => {
      const to = nextNumber() // San Francisco: 23:00 PDT is outside 08:00–21:00
      const key = newKey()
      await addConsentingContact(ctx, to)
      const payload = { destinationNumber: to, message: 'Late-night deal' }
      ctx.clock.set('2026-06-16T06:00:00Z')
      const first = await send(payload, key)
      expect(first.statusCode).toBe(422)
      expect(first.json()).toMatchObject({ code: 'QUIET_HOURS', nextAllowedAt: '2026-06-16T15:00:00.000Z' })

      ctx.clock.set('2026-06-16T16:00:00Z')
      await expectRefusalReplayed(await send(payload, key), first, to)
    })

    it('the same key with a different body after a refusal is 422 IDEMPOTENCY_KEY_REUSED, and the refusal is still replayed', async () => {
      const to = nextNumber()
      const key = newKey()
      const refused = await send({ destinationNumber: to, message: 'Offer' }, key)
      expect(refused.json()).toMatchObject({ statusCode: 422, code: 'NO_CONSENT' })

      const reused = await send({ destinationNumber: to, message: 'Offer', purpose: 'transactional' }, key)
      expect(reused.statusCode).toBe(422)
      expect(reused.json()).toMatchObject({ statusCode: 422, code: 'IDEMPOTENCY_KEY_REUSED' })
      expect(sendsTo(to)).toBe(0)
      expect((await send({ destinationNumber: to, message: 'Offer' }, key)).json()).toEqual(refused.json())
      expect(await messagesTo(ctx, to)).toHaveLength(1)
    })

    it('a refusal whose request died before settling its key is answered from the message record, not decided again', async () => {
      const to = nextNumber()
      const key = newKey()
      const payload = { destinationNumber: to, message: 'Members-only offer' }
      const first = await send(payload, key)
      expect(first.json()).toMatchObject({ code: 'NO_CONSENT' })
      // The fault: the request died after the compliance gate recorded its refusal, before the key was settled.
      const { db, close } = openDatabase(ctx.database.url)
      try {
        await sql`update idempotency_keys set state = 'pending', response_status = null, response_body = null where key like ${`%:${key}`}`.execute(db)
      } finally {
        await close()
      }
      await addConsentingContact(ctx, to)
      ctx.clock.advance(MINUTE) // long after the first request: it is abandoned, not in flight

      await expectRefusalReplayed(await send(payload, key), first, to)
    })
  })

  // PostgreSQL only: there a first request can wait on a lock while the process goes on serving its repeat (on
  // SQLite the one connection runs a transaction to its end before anything else).
  it.skipIf(testDialect() !== 'postgres')('a first request held up past 5 s and a repeat that takes its key over: one of them sends, never both', async () => {
    const to = nextNumber()
    const key = newKey()
    const payload = { destinationNumber: to, message: 'Held up', purpose: 'transactional' }
    const { db, close } = openDatabase(ctx.database.url)
    const holder = new pg.Client({ connectionString: ctx.database.url })
    await holder.connect()
    try {
      const keyRow = async () => await db.selectFrom('idempotency_keys').select(['message_id', 'state']).where('key', 'like', `%:${key}`).executeTakeFirst()
      const until = async (done: () => Promise<boolean>) => { for (let i = 0; i < 500 && !await done(); i++) await sleep(10) }
      // The fault: the number's lock is held elsewhere, so the first request's admission waits.
      await holder.query('select pg_advisory_lock(hashtext($1))', [to])
      const first = send(payload, key)
      await until(async () => (await keyRow()) !== undefined)
      const firstClaim = (await keyRow())!.message_id
      ctx.clock.advance(6000) // no message after 5 s: the repeat takes the first request for dead
      const repeat = send(payload, key)
      await until(async () => (await keyRow())?.message_id !== firstClaim)
      expect((await keyRow())?.message_id).not.toBe(firstClaim)
      await holder.query('select pg_advisory_unlock(hashtext($1))', [to])

      const [a, b] = await Promise.all([first, repeat])
      expect(a.statusCode).toBe(409)
      expect(a.json()).toMatchObject({ code: 'CONFLICT' })
      expect(b.statusCode).toBe(202)
      expect(sendsTo(to)).toBe(1)
      expect(await messagesTo(ctx, to)).toHaveLength(1)
      const again = await send(payload, key)
      expect(again.json()).toEqual(b.json())
      expect(sendsTo(to)).toBe(1)
    } finally {
      await holder.end()
      await close()
    }
  })

  it('rejects an Idempotency-Key longer than 255 characters', async () => {
    const response = await send({ destinationNumber: nextNumber(), message: 'Long key', purpose: 'transactional' }, 'k'.repeat(256))
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ code: 'FST_ERR_VALIDATION' })
    expect(ctx.fake.sendRequests()).toHaveLength(0)
  })

  it('a key survives a restart', async () => {
    const to = nextNumber()
    const key = newKey()
    const payload = { destinationNumber: to, message: 'Across restarts', purpose: 'transactional' }
    const first = await send(payload, key)
    expect(first.statusCode).toBe(202)
    await ctx.restart()
    const again = await send(payload, key)
    expect(again.statusCode).toBe(202)
    expect(again.json()).toEqual(first.json())
    expect(sendsTo(to)).toBe(1)
  })
})
