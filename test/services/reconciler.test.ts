import { afterAll, beforeAll, expect, it } from 'vitest'
import { openDatabase } from '../../src/db/database.js'
import { insertMessages, type Message } from '../../src/db/repositories/messages.js'
import { DAYTIME, startTestApp, type TestContext } from '../support/app.js'
import { REPORT_STATUSES } from '../support/fake-infobip.js'

let ctx: TestContext
beforeAll(async () => {
  ctx = await startTestApp({ env: { RECONCILE_INTERVAL_MS: '0' } })
})
afterAll(async () => { await ctx.close() })

const TEN_MINUTES_AGO = new Date(DAYTIME.getTime() - 10 * 60 * 1000).toISOString()

async function getMessage (id: string): Promise<Message> {
  const response = await ctx.app.inject({ method: 'GET', url: `/messages/${id}`, headers: ctx.headers })
  return response.json()
}

async function until (check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('condition not reached')
}

it('settles what a crash left: found in Infobip\'s logs → updated, unknown → failed, queued → failed, nothing resent', async () => {
  // A message Infobip accepted, whose answer the service never recorded (it died mid-request).
  const sent = await ctx.app.inject({
    method: 'POST',
    url: '/send-sms',
    headers: ctx.headers,
    payload: { destinationNumber: '+14155552671', message: 'Your code is 123456', purpose: 'transactional' }
  })
  expect(sent.statusCode).toBe(202)
  const accepted = (sent.json() as { id: string }).id
  ctx.fake.logs.get(accepted)!.status = REPORT_STATUSES.DELIVERED

  const handle = openDatabase(ctx.config.databaseUrl)
  try {
    await handle.db.updateTable('messages').set({ status: 'sending', provider_status: null, updated_at: TEN_MINUTES_AGO }).where('id', '=', accepted).execute()
    const base = { to: '+14155552672', text: 'hi', senderId: null, purpose: 'transactional' as const, segments: 1, encoding: 'GSM-7', createdAt: TEN_MINUTES_AGO }
    await insertMessages(handle.db, [
      // Marked sending, but Infobip never saw it.
      { ...base, id: '01900000-0000-7000-8000-000000000001', status: 'sending' },
      // Recorded, never handed over.
      { ...base, id: '01900000-0000-7000-8000-000000000002', status: 'queued' },
      // Recent: may still be in another request's hands, left alone.
      { ...base, id: '01900000-0000-7000-8000-000000000003', status: 'sending', createdAt: DAYTIME.toISOString() }
    ])
  } finally {
    await handle.close()
  }
  const sendsBefore = ctx.fake.sendRequests().length

  await ctx.restart({ RECONCILE_INTERVAL_MS: '3600000', RECONCILE_AFTER_MS: '60000' })
  await until(async () => (await getMessage(accepted)).status === 'delivered')

  expect(await getMessage(accepted)).toMatchObject({ status: 'delivered', providerStatus: 'DELIVERED_TO_HANDSET', price: { amount: 0.01, currency: 'EUR' } })
  expect(await getMessage('01900000-0000-7000-8000-000000000001')).toMatchObject({
    status: 'failed', error: { code: 'NOT_SENT', description: 'Infobip has no record of this message; it was not sent' }
  })
  expect(await getMessage('01900000-0000-7000-8000-000000000002')).toMatchObject({
    status: 'failed', error: { code: 'INTERRUPTED' }
  })
  expect((await getMessage('01900000-0000-7000-8000-000000000003')).status).toBe('sending')

  const lookups = ctx.fake.requests.filter((r) => r.method === 'GET' && r.path === '/sms/1/logs')
  expect(lookups).toHaveLength(1)
  expect(lookups[0]!.query.messageId!.split(',').sort()).toEqual([accepted, '01900000-0000-7000-8000-000000000001'].sort())
  expect(ctx.fake.sendRequests()).toHaveLength(sendsBefore)
})
