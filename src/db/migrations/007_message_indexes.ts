import { sql, type Kysely } from 'kysely'

/**
 * Indexes on `messages` that every single send paid for without using them, and one that delivery reports needed.
 *
 * - `messages_to_idx` (to_number, created_at) goes: every read of a number's messages (frequency caps, the
 *   campaign a reply answers, the opt-out sweep, `GET /messages?to=`) is served by `messages_to_sent_idx`
 *   (to_number, sent_at), which starts with the same column. It cost each message one write to a random page.
 * - The three indexes that start with campaign_id become partial (`WHERE campaign_id IS NOT NULL`): a single
 *   send, a reply or a test send has no campaign, and no query looks those rows up by a NULL campaign (the one
 *   that selects `campaign_id IS NULL` — the dispatcher's claim of non-campaign rows — uses messages_due_idx,
 *   unchanged). Every query that filters on campaign_id compares it (`=`, `IN`, a join), which implies NOT
 *   NULL, so SQLite and PostgreSQL both use the partial index. The unique key (campaign_id, contact_id) never
 *   applied to rows without a campaign (NULLs are distinct), so it enforces exactly what it did.
 * - `messages_provider_id_idx`: a delivery report names Infobip's message id; it is our own id whenever Infobip
 *   echoes it (the usual case, found by primary key). The rows where Infobip chose another id are indexed
 *   here, and only those, so finding a report's message never scans the table and the usual send writes nothing
 *   more.
 */
export async function up (db: Kysely<unknown>): Promise<void> {
  const campaignOnly = sql<boolean>`campaign_id is not null`
  await db.schema.dropIndex('messages_to_idx').execute()
  await db.schema.dropIndex('messages_campaign_idx').execute()
  await db.schema.createIndex('messages_campaign_idx').on('messages').columns(['campaign_id', 'id']).where(campaignOnly).execute()
  await db.schema.dropIndex('messages_campaign_status_idx').execute()
  await db.schema.createIndex('messages_campaign_status_idx').on('messages').columns(['campaign_id', 'status']).where(campaignOnly).execute()
  await db.schema.dropIndex('messages_campaign_contact_uq').execute()
  await db.schema.createIndex('messages_campaign_contact_uq').on('messages').columns(['campaign_id', 'contact_id']).unique().where(campaignOnly).execute()
  await db.schema.createIndex('messages_provider_id_idx').on('messages').column('infobip_message_id')
    .where(sql<boolean>`infobip_message_id is not null and infobip_message_id <> id`).execute()
}
