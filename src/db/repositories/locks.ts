import { sql, type Kysely } from 'kysely'
import type { Dialect } from '../database.js'
import type { Database } from '../schema.js'

/**
 * Serialises decisions about phone numbers inside a transaction (a frequency cap or an opt-out must
 * not be raced past). SQLite already runs one write transaction at a time; PostgreSQL takes advisory
 * locks, in sorted order and in one round trip, so two transactions can never deadlock on them.
 */
export async function lockPhoneNumbers (trx: Kysely<Database>, dialect: Dialect, phoneNumbers: string[]): Promise<void> {
  if (dialect !== 'postgres' || phoneNumbers.length === 0) return
  const sorted = [...new Set(phoneNumbers)].sort()
  await sql`select pg_advisory_xact_lock(hashtext(n)) from unnest(${sorted}::text[]) with ordinality as t(n, i) order by i`.execute(trx)
}

export async function lockPhoneNumber (trx: Kysely<Database>, dialect: Dialect, phoneNumber: string): Promise<void> {
  await lockPhoneNumbers(trx, dialect, [phoneNumber])
}
