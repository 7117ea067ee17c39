import { sql, type Kysely } from 'kysely'
import type { ContactRow, Database } from '../schema.js'
import { INSERT_CHUNK, insertRows } from './bulk.js'

type Executor = Kysely<Database>

export interface Contact {
  id: string
  phoneNumber: string
  firstName: string | null
  lastName: string | null
  tags: string[]
  timezone: string | null
  attributes: Record<string, string>
  subscribed: boolean
  createdAt: string
  updatedAt: string
}

export interface ContactFields {
  firstName?: string | null | undefined
  lastName?: string | null | undefined
  tags?: string[] | undefined
  timezone?: string | null | undefined
  attributes?: Record<string, string> | undefined
}

function toContact (row: ContactRow, tags: string[]): Contact {
  return {
    id: row.id,
    phoneNumber: row.phone_number,
    firstName: row.first_name,
    lastName: row.last_name,
    tags,
    timezone: row.timezone,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    subscribed: Number(row.subscribed) === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at
  }
}

async function tagsFor (db: Executor, ids: string[]): Promise<Map<string, string[]>> {
  const byContact = new Map<string, string[]>(ids.map((id) => [id, []]))
  if (ids.length === 0) return byContact
  const rows = await db.selectFrom('contact_tags').select(['contact_id', 'tag']).where('contact_id', 'in', ids).orderBy('tag').execute()
  for (const row of rows) byContact.get(row.contact_id)?.push(row.tag)
  return byContact
}

async function withTags (db: Executor, rows: ContactRow[]): Promise<Contact[]> {
  const tags = await tagsFor(db, rows.map((r) => r.id))
  return rows.map((row) => toContact(row, tags.get(row.id) ?? []))
}

export interface NewContactRecord extends ContactFields {
  id: string
  phoneNumber: string
  subscribed: boolean
  at: string
}

export async function insertContact (db: Executor, contact: NewContactRecord): Promise<void> {
  await insertContacts(db, [contact])
}

/**
 * New contacts as columns, row i at index i of each (an import's batch as its reader thread packs it:
 * no object per contact). Row i's tags are `tags[tagStart[i]]` up to, not including, `tags[tagStart[i + 1]]`;
 * `attributes` null: none for every row. Every row is created at `at` (ISO-8601).
 */
export interface ContactColumns {
  id: readonly string[]
  phoneNumber: readonly string[]
  firstName: ReadonlyArray<string | null | undefined>
  lastName: ReadonlyArray<string | null | undefined>
  timezone: ReadonlyArray<string | null | undefined>
  attributes: ReadonlyArray<Record<string, unknown> | undefined> | null
  subscribed: readonly boolean[]
  tagStart: ArrayLike<number>
  tags: readonly string[]
  at: string
}

/** Inserts new contacts and their tags in a few statements (imports insert a thousand at once). All are created at the same time. */
export async function insertContacts (db: Executor, list: NewContactRecord[]): Promise<void> {
  if (list.length === 0) return
  const at = list[0]!.at
  if (list.some((contact) => contact.at !== at)) throw new Error('insertContacts: contacts created at different times')
  const tagStart = [0]
  for (const contact of list) tagStart.push(tagStart.at(-1)! + (contact.tags?.length ?? 0))
  await insertContactColumns(db, {
    id: list.map((c) => c.id),
    phoneNumber: list.map((c) => c.phoneNumber),
    firstName: list.map((c) => c.firstName),
    lastName: list.map((c) => c.lastName),
    timezone: list.map((c) => c.timezone),
    attributes: list.map((c) => c.attributes),
    subscribed: list.map((c) => c.subscribed),
    tagStart,
    tags: list.flatMap((c) => c.tags ?? []),
    at
  }, list.map((_, i) => i))
}

/** Inserts rows `rows` (indexes, in that order) of `columns`: the contacts and their tags, in a few multi-row INSERTs. */
export async function insertContactColumns (db: Executor, columns: ContactColumns, rows: readonly number[]): Promise<void> {
  const { id, phoneNumber, firstName, lastName, timezone, attributes, subscribed, tagStart, tags, at } = columns
  const values: unknown[] = []
  const tagValues: unknown[] = []
  for (const i of rows) {
    const attribute = attributes?.[i]
    values.push(id[i], phoneNumber[i], firstName[i] ?? null, lastName[i] ?? null, timezone[i] ?? null,
      attribute === undefined ? '{}' : JSON.stringify(attribute), subscribed[i] === true ? 1 : 0, at, at)
    for (let t = tagStart[i]!; t < tagStart[i + 1]!; t++) {
      // A tag listed twice is stored once (the rows' primary key is contact and tag).
      if (tags.indexOf(tags[t]!, tagStart[i]) === t) tagValues.push(id[i], tags[t])
    }
  }
  await insertRows(db, 'contacts', ['id', 'phone_number', 'first_name', 'last_name', 'timezone', 'attributes', 'subscribed', 'created_at', 'updated_at'], values)
  await insertRows(db, 'contact_tags', ['contact_id', 'tag'], tagValues)
}

export async function updateContact (db: Executor, id: string, fields: ContactFields, at: string): Promise<void> {
  await db.updateTable('contacts').set({
    ...(fields.firstName !== undefined ? { first_name: fields.firstName } : {}),
    ...(fields.lastName !== undefined ? { last_name: fields.lastName } : {}),
    ...(fields.timezone !== undefined ? { timezone: fields.timezone } : {}),
    ...(fields.attributes !== undefined ? { attributes: JSON.stringify(fields.attributes) } : {}),
    updated_at: at
  }).where('id', '=', id).execute()
  if (fields.tags !== undefined) await replaceTags(db, id, fields.tags)
}

async function replaceTags (db: Executor, id: string, tags: string[]): Promise<void> {
  await db.deleteFrom('contact_tags').where('contact_id', '=', id).execute()
  const unique = [...new Set(tags)]
  if (unique.length > 0) await db.insertInto('contact_tags').values(unique.map((tag) => ({ contact_id: id, tag }))).execute()
}

export async function setSubscribed (db: Executor, phoneNumber: string, subscribed: boolean, at: string): Promise<void> {
  await db.updateTable('contacts').set({ subscribed: subscribed ? 1 : 0, updated_at: at }).where('phone_number', '=', phoneNumber).execute()
}

export async function setSubscribedMany (db: Executor, phoneNumbers: string[], subscribed: boolean, at: string): Promise<void> {
  for (let i = 0; i < phoneNumbers.length; i += INSERT_CHUNK) {
    await db.updateTable('contacts').set({ subscribed: subscribed ? 1 : 0, updated_at: at }).where('phone_number', 'in', phoneNumbers.slice(i, i + INSERT_CHUNK)).execute()
  }
}

export async function findContact (db: Executor, id: string): Promise<Contact | null> {
  const row = await db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst()
  return row === undefined ? null : (await withTags(db, [row]))[0]!
}

export async function findContactByPhone (db: Executor, phoneNumber: string): Promise<Contact | null> {
  const row = await db.selectFrom('contacts').selectAll().where('phone_number', '=', phoneNumber).executeTakeFirst()
  return row === undefined ? null : (await withTags(db, [row]))[0]!
}

/** id by phone number, for the numbers that are contacts. */
export async function findContactIdsByPhone (db: Executor, phoneNumbers: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  for (let i = 0; i < phoneNumbers.length; i += INSERT_CHUNK) {
    const rows = await db.selectFrom('contacts').select(['id', 'phone_number']).where('phone_number', 'in', phoneNumbers.slice(i, i + INSERT_CHUNK)).execute()
    for (const row of rows) found.set(row.phone_number, row.id)
  }
  return found
}

export interface ContactFilter {
  tag?: string | undefined
  subscribed?: boolean | undefined
  phoneNumber?: string | undefined
  after?: string | undefined
  limit: number
}

export async function listContacts (db: Executor, filter: ContactFilter): Promise<Contact[]> {
  let query = db.selectFrom('contacts').selectAll('contacts')
  if (filter.tag !== undefined) {
    const tag = filter.tag
    query = query.where((eb) => eb.exists(eb.selectFrom('contact_tags').select(sql<number>`1`.as('one'))
      .whereRef('contact_tags.contact_id', '=', 'contacts.id').where('contact_tags.tag', '=', tag)))
  }
  if (filter.subscribed !== undefined) query = query.where('subscribed', '=', filter.subscribed ? 1 : 0)
  if (filter.phoneNumber !== undefined) query = query.where('phone_number', '=', filter.phoneNumber)
  if (filter.after !== undefined) query = query.where('id', '>', filter.after)
  const rows = await query.orderBy('id', 'asc').limit(filter.limit).execute()
  return await withTags(db, rows)
}

export async function deleteContact (db: Executor, id: string): Promise<void> {
  await db.deleteFrom('contact_tags').where('contact_id', '=', id).execute()
  await db.deleteFrom('contacts').where('id', '=', id).execute()
}

/** Just what the compliance gate needs of the contacts behind some numbers: their id and stored time zone. */
export async function findRoutingAmong (db: Executor, phoneNumbers: string[]): Promise<Map<string, { id: string, timezone: string | null }>> {
  const found = new Map<string, { id: string, timezone: string | null }>()
  if (phoneNumbers.length === 0) return found
  const rows = await db.selectFrom('contacts').select(['id', 'timezone', 'phone_number']).where('phone_number', 'in', phoneNumbers).execute()
  for (const row of rows) found.set(row.phone_number, { id: row.id, timezone: row.timezone })
  return found
}

/** What a campaign template may use of each contact, by contact id (ids absent from the map were erased). */
export async function findRecipientFields (db: Executor, ids: string[]): Promise<Map<string, { firstName: string | null, lastName: string | null, phoneNumber: string, attributes: Record<string, string>, timezone: string | null }>> {
  const found = new Map<string, { firstName: string | null, lastName: string | null, phoneNumber: string, attributes: Record<string, string>, timezone: string | null }>()
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.selectFrom('contacts').select(['id', 'first_name', 'last_name', 'phone_number', 'attributes', 'timezone'])
      .where('id', 'in', ids.slice(i, i + 500)).execute()
    for (const row of rows) {
      found.set(row.id, { firstName: row.first_name, lastName: row.last_name, phoneNumber: row.phone_number, attributes: JSON.parse(row.attributes) as Record<string, string>, timezone: row.timezone })
    }
  }
  return found
}
