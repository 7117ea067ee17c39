import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { renewLeases } from '../../src/db/repositories/outbox.js'
import { newId } from '../../src/domain/ids.js'
import { migratedDatabasePerTest, testDialect } from '../support/database.js'

// PostgreSQL only: SQLite has one writer at a time, so a heartbeat there never meets another transaction's rows.
describe.skipIf(testDialect() !== 'postgres')('renewing leases (the dispatcher\'s heartbeat) on PostgreSQL', () => {
  const databases = migratedDatabasePerTest()

  it('skips rows another transaction is writing instead of waiting for them, so it cannot deadlock with the recording of a batch', async () => {
    const { db } = await databases.open()
    const at = '2026-06-15T16:00:00.000Z'
    const expired = '2026-06-15T16:00:30.000Z'
    const renewedUntil = '2026-06-15T16:01:00.000Z'
    const ids = [newId(), newId()]
    await db.insertInto('messages').values(ids.map((id, i) => ({
      id,
      to_number: `+1415555000${i}`,
      text: 'hi',
      sender_id: null,
      purpose: 'transactional',
      status: 'sending',
      campaign_id: null,
      contact_id: null,
      segments: 1,
      encoding: 'GSM-7',
      created_at: at,
      updated_at: at,
      due_at: at,
      lease_owner: 'owner-a',
      lease_expires_at: expired
    }))).execute()

    // The fault, at a named step: a transaction recording a batch holds the second row, and wants the first next.
    let committed = false
    let rowHeld!: () => void
    const held = new Promise<void>((resolve) => { rowHeld = resolve })
    const recording = db.transaction().execute(async (trx) => {
      await trx.updateTable('messages').set({ updated_at: at }).where('id', '=', ids[1]!).execute()
      rowHeld()
      // Time for a heartbeat that waits to take the first row and block on the second.
      await sleep(300)
      await trx.updateTable('messages').set({ status: 'accepted', lease_owner: null, lease_expires_at: null }).where('id', '=', ids[0]!).execute()
      await trx.updateTable('messages').set({ status: 'accepted', lease_owner: null, lease_expires_at: null }).where('id', '=', ids[1]!).execute()
      committed = true
    })
    await held
    const count = await Promise.race([renewLeases(db, 'postgres', ids, 'owner-a', renewedUntil), recording.then(() => -1)])
    // The heartbeat answered while the recording still held its row: the first row renewed, the second skipped.
    expect(committed).toBe(false)
    expect(count).toBe(1)
    await recording
    const rows = await db.selectFrom('messages').select(['id', 'status', 'lease_owner']).orderBy('to_number').execute()
    expect(rows).toEqual([{ id: ids[0], status: 'accepted', lease_owner: null }, { id: ids[1], status: 'accepted', lease_owner: null }])
  })
})
