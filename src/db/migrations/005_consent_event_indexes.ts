import type { Kysely } from 'kysely'

/**
 * consent_events_phone_idx (phone_number, id) is never the best index for a query: every read of
 * consent_events by number (a number's trail, the ledger's latest decision, opt-outs counted per
 * campaign) is served by consent_events_phone_occurred_idx (phone_number, occurred_at, id), which
 * starts with the same column. Dropping it spares every appended consent event one B-tree write
 * (an import appends one per row holding consent).
 */
export async function up (db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('consent_events_phone_idx').execute()
}
