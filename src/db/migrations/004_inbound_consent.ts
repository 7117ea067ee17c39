import type { Kysely } from 'kysely'

/**
 * Who recorded each consent event (API key label, request id, imported file), kept apart from the
 * subscriber's own evidence (ip, user_agent); and every inbound SMS, keyword or not, with the intent
 * found and the campaign it most likely answers.
 */
export async function up (db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('consent_events').addColumn('recorded_by', 'varchar(64)').execute()
  await db.schema.alterTable('consent_events').addColumn('request_id', 'varchar(64)').execute()
  await db.schema.alterTable('consent_events').addColumn('file_name', 'varchar(255)').execute()
  // A number's trail in the order things happened (the order that decides consent).
  await db.schema.createIndex('consent_events_phone_occurred_idx').on('consent_events').columns(['phone_number', 'occurred_at', 'id']).execute()

  await db.schema.createTable('inbound_messages')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    // Infobip's id: a webhook delivered twice is handled once.
    .addColumn('infobip_message_id', 'varchar(200)')
    // E.164 when the sender is a phone number; otherwise the sender as Infobip gave it.
    .addColumn('phone_number', 'varchar(32)', (c) => c.notNull())
    .addColumn('to_number', 'varchar(32)')
    .addColumn('text', 'text', (c) => c.notNull())
    // 'opt_out' | 'opt_in' | 'help' | 'none'
    .addColumn('intent', 'varchar(16)', (c) => c.notNull())
    .addColumn('keyword', 'varchar(32)')
    .addColumn('campaign_id', 'varchar(36)')
    .addColumn('consent_event_id', 'varchar(36)')
    .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('recorded_at', 'varchar(32)', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('inbound_messages_infobip_id_uq').on('inbound_messages').column('infobip_message_id').unique().execute()
  await db.schema.createIndex('inbound_messages_phone_idx').on('inbound_messages').columns(['phone_number', 'id']).execute()
  await db.schema.createIndex('inbound_messages_campaign_idx').on('inbound_messages').columns(['campaign_id', 'id']).execute()
}
