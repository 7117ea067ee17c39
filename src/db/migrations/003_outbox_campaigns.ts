import { sql, type Kysely } from 'kysely'

/**
 * The messages table becomes the outbox: every message that will be sent is a row first, claimed by a
 * dispatcher under a lease kept in the row (owner, expiry), and handed over when due. Campaigns own
 * their recipients' rows, at most one per contact (a unique key, so no relaunch, restart or second
 * instance can ever create a second copy).
 */
export async function up (db: Kysely<unknown>): Promise<void> {
  await db.schema.createTable('campaigns')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    // JSON { tags?: string[], excludeTags?: string[] }
    .addColumn('audience', 'text', (c) => c.notNull())
    .addColumn('sender_id', 'varchar(32)')
    .addColumn('send_at', 'varchar(32)')
    .addColumn('valid_until', 'varchar(32)')
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('launched_at', 'varchar(32)')
    .addColumn('completed_at', 'varchar(32)')
    .execute()
  await db.schema.createIndex('campaigns_status_idx').on('campaigns').columns(['status', 'id']).execute()

  // When the row may next be handed over (or, while its outcome is unknown, looked up again).
  await db.schema.alterTable('messages').addColumn('due_at', 'varchar(32)').execute()
  // 0: replies owed to a person, 1: single sends through the API, 2: campaigns. Lower goes first.
  await db.schema.alterTable('messages').addColumn('priority', 'integer', (c) => c.notNull().defaultTo(1)).execute()
  // 'api' | 'reply' | 'campaign' | 'campaign_test'
  await db.schema.alterTable('messages').addColumn('origin', 'varchar(16)', (c) => c.notNull().defaultTo('api')).execute()
  await db.schema.alterTable('messages').addColumn('lease_owner', 'varchar(64)').execute()
  await db.schema.alterTable('messages').addColumn('lease_expires_at', 'varchar(32)').execute()
  // Start of the latest hand-over attempt, and how many there were.
  await db.schema.alterTable('messages').addColumn('attempted_at', 'varchar(32)').execute()
  await db.schema.alterTable('messages').addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  // Set while Infobip may or may not have the message (timeout, reset, 502/504, crash mid-request).
  await db.schema.alterTable('messages').addColumn('outcome_unknown_since', 'varchar(32)').execute()
  // A message not handed over by then becomes expired, never sent late.
  await db.schema.alterTable('messages').addColumn('valid_until', 'varchar(32)').execute()
  await sql`update messages set due_at = created_at`.execute(db)

  // Claimable rows by campaign (null: single sends and replies), oldest due first.
  await db.schema.createIndex('messages_due_idx').on('messages').columns(['campaign_id', 'due_at'])
    .where(sql.ref('status'), 'in', ['queued', 'deferred']).execute()
  await db.schema.createIndex('messages_campaign_contact_uq').on('messages').columns(['campaign_id', 'contact_id']).unique().execute()
  await db.schema.createIndex('messages_campaign_status_idx').on('messages').columns(['campaign_id', 'status']).execute()
  await db.schema.createIndex('messages_to_sent_idx').on('messages').columns(['to_number', 'sent_at']).execute()

  // The message an Idempotency-Key admitted: a repeat after a crash is answered from that message's record.
  await db.schema.alterTable('idempotency_keys').addColumn('message_id', 'varchar(36)').execute()

  // The account's shared token bucket (SEND_RATE_PER_SECOND across every instance on one database).
  await db.schema.createTable('throttle_buckets')
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('tokens', 'double precision', (c) => c.notNull())
    .addColumn('refilled_at_ms', 'bigint', (c) => c.notNull())
    .execute()
}
