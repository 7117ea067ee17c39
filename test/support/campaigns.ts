/**
 * Campaign calls many tests make, and a second handle on the test app's database for what has no
 * HTTP route: the scheduler's tick (a worker calls it), the dispatcher's query, and setting message
 * outcomes that only the dispatcher and delivery reports write.
 */
import type { LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js'
import { insertContacts, type NewContactRecord } from '../../src/db/repositories/contacts.js'
import { newId } from '../../src/domain/ids.js'
import type { CampaignView, CreateCampaignBody } from '../../src/schemas/campaigns.js'
import { createCampaignsService, type CampaignsService, type Preview } from '../../src/services/campaigns.js'
import { startTestApp, type TestAppOptions, type TestContext } from './app.js'
import { waitFor } from './wait.js'

export type { CampaignView }

export async function postCampaign (ctx: TestContext, payload: object): Promise<LightMyRequestResponse> {
  return await ctx.app.inject({ method: 'POST', url: '/campaigns', headers: ctx.headers, payload })
}

/** POST /campaigns, which must answer 201. */
export async function createCampaign (ctx: TestContext, body: Partial<CreateCampaignBody> = {}): Promise<CampaignView> {
  const response = await postCampaign(ctx, { name: 'Summer sale', message: 'Hi {{ firstName | default: "there" }}, 20% off today', audience: {}, ...body })
  expect(response.statusCode, response.body).toBe(201)
  return response.json()
}

export async function getCampaign (ctx: TestContext, id: string): Promise<CampaignView> {
  const response = await ctx.app.inject({ method: 'GET', url: `/campaigns/${id}`, headers: ctx.headers })
  expect(response.statusCode, response.body).toBe(200)
  return response.json()
}

export async function patchCampaign (ctx: TestContext, id: string, payload: object): Promise<LightMyRequestResponse> {
  return await ctx.app.inject({ method: 'PATCH', url: `/campaigns/${id}`, headers: ctx.headers, payload })
}

export type Action = 'launch' | 'pause' | 'resume' | 'cancel'

export async function act (ctx: TestContext, id: string, action: Action): Promise<LightMyRequestResponse> {
  return await ctx.app.inject({ method: 'POST', url: `/campaigns/${id}/${action}`, headers: ctx.headers })
}

/** An action that must be accepted (202): its body. */
export async function acted (ctx: TestContext, id: string, action: Action): Promise<{ id: string, status: string, recipients?: number }> {
  const response = await act(ctx, id, action)
  expect(response.statusCode, response.body).toBe(202)
  return response.json()
}

export async function preview (ctx: TestContext, id: string): Promise<Preview> {
  const response = await ctx.app.inject({ method: 'GET', url: `/campaigns/${id}/preview`, headers: ctx.headers })
  expect(response.statusCode, response.body).toBe(200)
  return response.json()
}

export interface Side {
  handle: DatabaseHandle
  campaigns: CampaignsService
  close: () => Promise<void>
}

/** A second connection to the app's database with a campaigns service on the test clock (no sending). */
export function openSide (ctx: TestContext): Side {
  const handle = openDatabase(ctx.config.databaseUrl)
  const campaigns = createCampaignsService({
    db: handle.db,
    dialect: handle.dialect,
    config: ctx.config,
    clock: ctx.clock,
    sending: { sendSingle: async () => { throw new Error('no sending on the side handle') } }
  })
  return { handle, campaigns, close: async () => { await handle.close() } }
}

/** An app for a test file or block, with a side handle on its database. */
export async function startWithSide (options: TestAppOptions = {}): Promise<{ ctx: TestContext, side: Side }> {
  const ctx = await startTestApp(options)
  return { ctx, side: openSide(ctx) }
}

export async function closeWithSide (ctx: TestContext, side: Side): Promise<void> {
  await side.close()
  await ctx.close()
}

export interface SeedOptions {
  /** Tags of the i-th contact. */
  tags?: (i: number) => string[]
  /** Whether the i-th contact is subscribed (default: all). */
  subscribed?: (i: number) => boolean
  /** First digits of the numbers; the contact's index fills the rest. */
  prefix?: string
}

/** Writes `count` contacts straight into the database (fast; the API's own checks are tested elsewhere). Returns their ids in order. */
export async function seedContacts (handle: DatabaseHandle, count: number, options: SeedOptions = {}): Promise<string[]> {
  const at = new Date().toISOString()
  const prefix = options.prefix ?? '+1415'
  const list: NewContactRecord[] = []
  for (let i = 0; i < count; i++) {
    list.push({
      id: newId(),
      phoneNumber: `${prefix}${String(i).padStart(12 - prefix.length, '0')}`,
      firstName: `Name${i}`,
      tags: options.tags?.(i) ?? [],
      subscribed: options.subscribed?.(i) ?? true,
      at
    })
  }
  await handle.db.transaction().execute(async (trx) => { await insertContacts(trx, list) })
  return list.map((c) => c.id)
}

/** The campaign's rows once the dispatcher has settled every one it can now (none queued or sending). */
export async function handedOver (handle: DatabaseHandle, campaignId: string) {
  return await waitFor(async () => {
    const rows = await campaignRows(handle, campaignId)
    return rows.every((r) => r.status !== 'queued' && r.status !== 'sending') && rows
  }, 'the campaign handed over')
}

/** The campaign's outbox rows, straight from the table. */
export async function campaignRows (handle: DatabaseHandle, campaignId: string) {
  return await handle.db.selectFrom('messages').selectAll().where('campaign_id', '=', campaignId).orderBy('id').execute()
}
