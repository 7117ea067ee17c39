import { sql, type Kysely } from 'kysely'
import type { Dialect } from '../database.js'
import type { Database } from '../schema.js'

/**
 * Serialises decisions about one phone number inside a transaction (frequency caps must not be
 * raced past). SQLite already runs one write transaction at a time; PostgreSQL takes an advisory lock.
 */
export async function lockPhoneNumber (trx: Kysely<Database>, dialect: Dialect, phoneNumber: string): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${phoneNumber}))`.execute(trx)
}
