import { CompiledQuery, type Kysely } from 'kysely'
import type { Database } from '../schema.js'

/** Rows per INSERT statement: well under the bound-parameter limits of SQLite (32,766) and PostgreSQL (65,535). */
export const INSERT_CHUNK = 500

/**
 * Inserts `rows` (values in `columns` order) with one statement per INSERT_CHUNK rows.
 *
 * Kysely builds an operation node per value, so a 500-row insert costs about a millisecond to build
 * — as long as SQLite takes to run it. Here Kysely compiles a one-row statement (the dialect's own
 * quoting and placeholders) and its VALUES group is repeated, renumbered for PostgreSQL's `$n`.
 * Every value is a bound parameter, as in the one-row statement.
 */
export async function insertRows<T extends keyof Database & string> (db: Kysely<Database>, table: T, columns: ReadonlyArray<keyof Database[T] & string>, rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return
  const template = db.insertInto(table)
    .values(Object.fromEntries(columns.map((column, i) => [column, rows[0]![i]])) as never)
    .compile()
  const at = template.sql.lastIndexOf(' values (')
  if (at === -1 || template.parameters.length !== columns.length) throw new Error(`insertRows: unexpected statement for ${table}`)
  const head = template.sql.slice(0, at + ' values '.length)
  const numbered = template.sql.includes('$1')
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    const chunk = rows.slice(start, start + INSERT_CHUNK)
    const groups: string[] = []
    const parameters: unknown[] = []
    for (const row of chunk) {
      if (row.length !== columns.length) throw new Error(`insertRows: a ${table} row has ${row.length} values for ${columns.length} columns`)
      let group = '('
      for (let i = 0; i < row.length; i++) {
        parameters.push(row[i])
        group += (i === 0 ? '' : ', ') + (numbered ? `$${parameters.length}` : '?')
      }
      groups.push(group + ')')
    }
    await db.executeQuery(CompiledQuery.raw(head + groups.join(', '), parameters))
  }
}
