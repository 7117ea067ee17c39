import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/database.js'
import { insertMessages, type NewMessage } from '../../src/db/repositories/messages.js'
import { newId } from '../../src/domain/ids.js'
import type { MessageStatus } from '../../src/domain/message-status.js'
import { getMessage, postDeliveryReports } from '../support/api.js'
import { DAYTIME, TestClock, startTestApp, type TestContext } from '../support/app.js'
import type { DeliveryReportStatus } from '../support/fake-infobip.js'

/**
 * The status lattice applied to Infobip's delivery reports (webhook), on records in each state a hand-over
 * can leave behind. The records are written straight to the database, as a crash or an unresolved hand-over
 * would have left them; the reports come in over the real webhook route.
 */
describe('delivery reports through the status lattice', () => {
  let ctx: TestContext
  const TO = '+14155552671'

  beforeAll(async () => {
    ctx = await startTestApp()
  })
  afterAll(async () => { await ctx.close() })

  async function recorded (status: MessageStatus, extra: Partial<NewMessage> & { providerStatus?: string } = {}): Promise<string> {
    const id = newId()
    const { providerStatus, ...rest } = extra
    const handle = openDatabase(ctx.config.databaseUrl)
    try {
      await insertMessages(handle.db, [{
        id, to: TO, text: 'Your code is 123456', senderId: null, purpose: 'transactional', status, segments: 1, encoding: 'GSM-7', createdAt: DAYTIME.toISOString(), ...rest
      }])
      if (providerStatus !== undefined) await handle.db.updateTable('messages').set({ provider_status: providerStatus, infobip_message_id: id }).where('id', '=', id).execute()
    } finally {
      await handle.close()
    }
    return id
  }

  const failedFor = (code: string): Partial<NewMessage> => ({ error: { code, name: null, description: `failed: ${code}`, permanent: false } })
  const report = async (messageId: string, status: DeliveryReportStatus): Promise<{ processed: number, ignored: number }> =>
    await postDeliveryReports(ctx, [{ messageId, to: TO.slice(1), status }])

  it.each(['OUTCOME_UNKNOWN', 'NOT_SENT', 'INTERRUPTED'])('settles a message failed only for lack of knowledge (%s): Infobip\'s DELIVERED wins', async (code) => {
    const id = await recorded('failed', failedFor(code))
    expect(await report(id, 'DELIVERED')).toEqual({ processed: 1, ignored: 0 })
    expect(await getMessage(ctx, id)).toMatchObject({
      status: 'delivered', providerStatus: 'DELIVERED_TO_HANDSET', error: null, price: { amount: 0.01, currency: 'EUR' }, infobipMessageId: id
    })
  })

  it('a lagging log made it NOT_SENT; Infobip\'s PENDING makes it accepted, and its DELIVERED then delivers it', async () => {
    const id = await recorded('failed', failedFor('NOT_SENT'))
    expect(await report(id, 'PENDING')).toEqual({ processed: 1, ignored: 0 })
    expect(await getMessage(ctx, id)).toMatchObject({ status: 'accepted', providerStatus: 'PENDING_ENROUTE', error: null })
    expect(await report(id, 'DELIVERED')).toEqual({ processed: 1, ignored: 0 })
    expect((await getMessage(ctx, id)).status).toBe('delivered')
  })

  it('never settles a failure Infobip itself caused (it refused the request)', async () => {
    const id = await recorded('failed', failedFor('PROVIDER_ERROR'))
    const before = await getMessage(ctx, id)
    expect(await report(id, 'DELIVERED')).toEqual({ processed: 0, ignored: 1 })
    expect(await getMessage(ctx, id)).toEqual(before)
  })

  it('a duplicate-id rejection proves the first hand-over: a message of unknown outcome becomes accepted, nothing of the duplicate is kept', async () => {
    for (const [status, extra] of [['sending', {}], ['failed', failedFor('OUTCOME_UNKNOWN')]] as const) {
      const id = await recorded(status, extra)
      expect(await report(id, 'REJECTED_DUPLICATE')).toEqual({ processed: 1, ignored: 0 })
      expect(await getMessage(ctx, id), status).toMatchObject({ status: 'accepted', providerStatus: null, error: null, price: null, doneAt: null })
      // The report of the message that went settles it.
      expect(await report(id, 'DELIVERED')).toEqual({ processed: 1, ignored: 0 })
      expect((await getMessage(ctx, id)).status).toBe('delivered')
    }
  })

  it.each([
    ['accepted', 'PENDING_ACCEPTED'],
    ['delivered', 'DELIVERED_TO_HANDSET'],
    ['undeliverable', 'UNDELIVERABLE_NOT_DELIVERED']
  ] as const)('a duplicate-id rejection never overwrites a message Infobip already reported %s', async (status, providerStatus) => {
    const id = await recorded(status, { providerStatus })
    const before = await getMessage(ctx, id)
    expect(await report(id, 'REJECTED_DUPLICATE')).toEqual({ processed: 0, ignored: 1 })
    expect(await getMessage(ctx, id)).toEqual(before)
  })

  it('a provider-final status never moves backwards, also after being settled from OUTCOME_UNKNOWN', async () => {
    const id = await recorded('failed', failedFor('OUTCOME_UNKNOWN'))
    expect(await report(id, 'UNDELIVERABLE')).toEqual({ processed: 1, ignored: 0 })
    const settled = await getMessage(ctx, id)
    expect(settled).toMatchObject({ status: 'undeliverable', error: { code: 'HANDSET_ERRORS', name: 'EC_UNKNOWN_SUBSCRIBER' } })
    for (const late of ['DELIVERED', 'PENDING', 'REJECTED', 'REJECTED_DUPLICATE'] as const) {
      expect(await report(id, late), late).toEqual({ processed: 0, ignored: 1 })
    }
    expect(await getMessage(ctx, id)).toEqual(settled)
  })
})

describe('a re-send answered REJECTED_DUPLICATE_MESSAGE_ID (Infobip\'s idempotent sending)', () => {
  let ctx: TestContext

  beforeAll(async () => {
    ctx = await startTestApp({ env: { INFOBIP_TIMEOUT_MS: '300', INFOBIP_IDEMPOTENCY: 'true' }, clock: new TestClock(DAYTIME, true) })
  })
  afterAll(async () => { await ctx.close() })

  it('records the message that went as accepted, never rejected, and it is delivered once', async () => {
    ctx.fake.setDuplicateIds(true)
    // Infobip takes the message but answers after the timeout, and its log does not show it for a while: the service
    // re-sends the same id a second after the attempt (idempotent sending), and Infobip refuses the copy.
    ctx.fake.setLogLag({ lookups: 10 })
    ctx.fake.enqueue({ kind: 'slow', ms: 600 })
    const response = await ctx.app.inject({
      method: 'POST', url: '/send-sms', headers: ctx.headers, payload: { destinationNumber: '+14155552671', message: 'Your code is 123456', purpose: 'transactional' }
    })
    const { id } = response.json() as { id: string }
    // Both requests carried the same messageId; Infobip accepted it once.
    expect(ctx.fake.sendRequests().map((r) => (r.body as { messages: Array<{ destinations: Array<{ messageId: string }> }> }).messages[0]!.destinations[0]!.messageId)).toEqual([id, id])
    expect(ctx.fake.acceptances.get(id)).toBe(1)
    expect(await getMessage(ctx, id)).toMatchObject({ status: 'accepted', error: null })
    expect(await postDeliveryReports(ctx, [{ messageId: id, to: '14155552671', status: 'DELIVERED' }])).toEqual({ processed: 1, ignored: 0 })
    expect((await getMessage(ctx, id)).status).toBe('delivered')
  })
})
