import { sql, type RawBuilder } from 'kysely'
import type { Dialect } from '../database.js'

/**
 * Batches passed to SQL as ONE bound parameter: a JSON array, unpacked by the database (`json_each` on SQLite,
 * `jsonb_array_elements` on PostgreSQL). A statement over 500 rows then has the same text whatever the batch
 * size, so it is prepared once and kept (the SQLite statement cache), and no query node is built per value — the
 * dispatcher runs these for every batch it claims and records.
 */

export type JsonColumnType = 'text' | 'integer'

/**
 * A derived table with `columns` (name and type, in order) holding `rows` (each an array of values in column
 * order); use as `from ${jsonRows(…)} as v`. Values are bound, never spliced into the SQL.
 */
export function jsonRows (dialect: Dialect, columns: ReadonlyArray<readonly [string, JsonColumnType]>, rows: unknown[][]): RawBuilder<unknown> {
  const json = JSON.stringify(rows)
  const select = columns.map(([name, type], i) => dialect === 'postgres'
    ? `${type === 'integer' ? `(x ->> ${i})::integer` : `x ->> ${i}`} as ${name}`
    : `value ->> ${i} as ${name}`).join(', ')
  return dialect === 'postgres'
    ? sql`(select ${sql.raw(select)} from jsonb_array_elements(${json}::jsonb) as x)`
    : sql`(select ${sql.raw(select)} from json_each(${json}))`
}

/** A one-column subquery of `values` for `column in ${jsonList(…)}` (text values). */
export function jsonList (dialect: Dialect, values: readonly string[]): RawBuilder<string> {
  const json = JSON.stringify(values)
  return dialect === 'postgres'
    ? sql<string>`(select jsonb_array_elements_text(${json}::jsonb))`
    : sql<string>`(select value from json_each(${json}))`
}
