import { afterEach, describe, expect, it } from 'vitest'
import { getMessage, postSendSms } from '../support/api.js'
import { DAYTIME, TestClock, startTestApp, type TestContext } from '../support/app.js'
import { LOGS_PATH } from '../support/fake-infobip.js'
import { handoverCounts, seedCampaign, statusCounts } from '../support/outbox.js'
import { waitFor } from '../support/wait.js'

/**
 * Hand-over exactly once, end to end over real HTTP: an Infobip that accepts a request but answers after the
 * client's timeout must end up holding each message once, and the record must end in Infobip's status.
 */

let ctx: TestContext | undefined
afterEach(async () => {
  await ctx?.close()
  ctx = undefined
})

const SLOW_ENV = { INFOBIP_TIMEOUT_MS: '300', RETRY_ATTEMPTS: '3', OUTCOME_SETTLE_MS: '2000' }

function send (context: TestContext, to: string): ReturnType<typeof postSendSms> {
  return postSendSms(context, { destinationNumber: to, message: 'Your code is 123456', purpose: 'transactional' })
}

describe('Infobip failing every request with an unknown outcome (500)', () => {
  it('re-sends at most once per settle delay, counted from the latest attempt, and settles once Infobip recovers', async () => {
    ctx = await startTestApp({ env: { ...SLOW_ENV, OUTCOME_SETTLE_MS: '500' }, clock: new TestClock(DAYTIME, true) })
    ctx.fake.setDefault({ kind: 'error', status: 500 })
    const response = send(ctx, '+14155552674')
    await new Promise((resolve) => setTimeout(resolve, 2600))
    const attempts = ctx.fake.sendRequests().length
    // One attempt, then one per 500 ms settle delay at most (each preceded by a look-up): never a tight loop.
    expect(attempts).toBeGreaterThanOrEqual(2)
    expect(attempts).toBeLessThanOrEqual(7)
    ctx.fake.setDefault({ kind: 'ok' })
    const answered = await response
    expect(answered.statusCode, answered.body).toBe(202)
    const { id } = answered.json() as { id: string }
    await waitFor(() => ctx!.fake.acceptances.get(id) === 1, 'the re-send after recovery', 5000)
    await waitFor(async () => (await getMessage(ctx!, id)).status === 'accepted', 'the record settled')
    expect(ctx.fake.acceptances.get(id)).toBe(1)
  })
})

describe('Infobip slower than INFOBIP_TIMEOUT_MS', () => {
  it('a single send is accepted once, found in the logs instead of re-sent, and the caller hears 202', async () => {
    ctx = await startTestApp({ env: SLOW_ENV, clock: new TestClock(DAYTIME, true) })
    ctx.fake.setDefault({ kind: 'slow', ms: 800 })
    const response = await send(ctx, '+14155552671')
    expect(response.statusCode, response.body).toBe(202)
    const { id, status } = response.json() as { id: string, status: string }
    expect(status).toBe('accepted')
    expect(ctx.fake.sendRequests()).toHaveLength(1)
    expect(ctx.fake.acceptances.get(id)).toBe(1)
    expect(ctx.fake.requests.filter((r) => r.path === LOGS_PATH).length).toBeGreaterThanOrEqual(1)
    expect(await getMessage(ctx, id)).toMatchObject({ status: 'accepted', providerStatus: 'PENDING_ACCEPTED', error: null })
  })

  it('a log that lags is looked up again, never taken as "not sent" before the settle delay', async () => {
    ctx = await startTestApp({ env: SLOW_ENV, clock: new TestClock(DAYTIME, true) })
    ctx.fake.setLogLag({ lookups: 1 })
    ctx.fake.setDefault({ kind: 'slow', ms: 800 })
    const response = await send(ctx, '+14155552672')
    expect(response.statusCode, response.body).toBe(202)
    const { id } = response.json() as { id: string }
    expect(ctx.fake.acceptances.get(id)).toBe(1)
    expect(ctx.fake.sendRequests()).toHaveLength(1)
    expect(ctx.fake.requests.filter((r) => r.path === LOGS_PATH).length).toBeGreaterThanOrEqual(2)
  })

  it('with INFOBIP_IDEMPOTENCY=true and Infobip refusing duplicate ids, the re-send is refused and the caller hears accepted', async () => {
    ctx = await startTestApp({ env: { ...SLOW_ENV, INFOBIP_IDEMPOTENCY: 'true' }, clock: new TestClock(DAYTIME, true) })
    ctx.fake.setDuplicateIds(true)
    // The log does not show the message for a while: "not found", and with idempotent sending the service
    // re-sends a second after the attempt instead of waiting out OUTCOME_SETTLE_MS; Infobip refuses the copy.
    ctx.fake.setLogLag({ lookups: 10 })
    ctx.fake.enqueue({ kind: 'slow', ms: 800 })
    const response = await send(ctx, '+14155552673')
    expect(response.statusCode, response.body).toBe(202)
    const body = response.json() as { id: string, status: string, infobipResponse: { messages: Array<{ status: { name: string } }> } }
    expect(body.status).toBe('accepted')
    expect(body.infobipResponse.messages[0]!.status.name).toBe('PENDING_ACCEPTED')
    expect(ctx.fake.sendRequests()).toHaveLength(2)
    expect(ctx.fake.acceptances.get(body.id)).toBe(1)
    expect(await getMessage(ctx, body.id)).toMatchObject({ status: 'accepted' })
  })

  it('a campaign dispatched through a slow Infobip reaches every recipient exactly once', async () => {
    ctx = await startTestApp({ env: { ...SLOW_ENV, SEND_BATCH_SIZE: '10' }, clock: new TestClock(DAYTIME, true) })
    ctx.fake.setDefault({ kind: 'slow', ms: 500 })
    const seeded = await seedCampaign(ctx, { count: 40 })
    await waitFor(async () => (await statusCounts(ctx!, { campaignId: seeded.campaignId })).accepted === 40, 'every campaign message accepted', 15_000)
    for (const id of seeded.messageIds) expect(ctx.fake.acceptances.get(id)).toBe(1)
    expect([...handoverCounts(ctx.fake.sendRequests()).values()].every((n) => n === 1)).toBe(true)
  })
})
