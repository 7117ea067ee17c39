import { RawNode, createQueryId, type CompiledQuery, type Kysely } from 'kysely'
import type { Database } from '../schema.js'

/**
 * Values per IN list and rows per UPDATE … IN: an import batch's 1,000 numbers in one statement, well
 * under the bound-parameter limits of SQLite (32,766) and PostgreSQL (65,535).
 */
export const INSERT_CHUNK = 1000

/** Most rows one INSERT statement carries (imports write a thousand rows a table per transaction). */
const MAX_ROWS_PER_INSERT = 1000
/** SQLite's limit on bound parameters per statement (SQLITE_MAX_VARIABLE_NUMBER, 32,766 since 3.32); PostgreSQL allows 65,535. */
const MAX_PARAMETERS = 32766

/**
 * The row counts of the INSERT statements that carry `rows` rows: full statements of `perStatement`
 * rows, then the rest as powers of two (437 → 256, 128, 32, 16, 4, 1). So a table is only ever
 * written with a dozen statement shapes, which the connection keeps prepared (src/db/database.ts),
 * instead of a new statement to prepare for every remainder.
 */
export function statementSizes (rows: number, perStatement: number): number[] {
  const sizes: number[] = []
  let left = rows
  while (left >= perStatement) {
    sizes.push(perStatement)
    left -= perStatement
  }
  for (let size = 2 ** Math.floor(Math.log2(perStatement)); left > 0; size /= 2) {
    if (left >= size) {
      sizes.push(size)
      left -= size
    }
  }
  return sizes
}

/**
 * Texts of multi-row INSERTs already built, by one-row statement and row count: derived from their
 * key alone, so keeping them changes no result (a few dozen texts, the largest ~50 KB).
 */
const insertTexts = new Map<string, string>()

/**
 * The text of an INSERT of `rows` rows, from the one-row statement Kysely compiled (the dialect's
 * quoting and placeholders): its VALUES group repeated, renumbered for PostgreSQL's `$n`.
 */
function insertText (oneRow: string, width: number, rows: number): string {
  const key = `${rows}×${oneRow}`
  const known = insertTexts.get(key)
  if (known !== undefined) return known
  const head = oneRow.slice(0, oneRow.lastIndexOf(' values (') + ' values '.length)
  let text: string
  if (oneRow.includes('$1')) {
    const groups: string[] = []
    for (let row = 0; row < rows; row++) {
      const placeholders: string[] = []
      for (let i = 1; i <= width; i++) placeholders.push(`$${row * width + i}`)
      groups.push(`(${placeholders.join(', ')})`)
    }
    text = head + groups.join(', ')
  } else {
    text = head + new Array<string>(rows).fill(`(${new Array<string>(width).fill('?').join(', ')})`).join(', ')
  }
  insertTexts.set(key, text)
  return text
}

/**
 * Inserts rows given as one flat list of values (`values.length` is a multiple of `columns.length`,
 * each row's values in `columns` order), as multi-row INSERT statements of at most
 * MAX_ROWS_PER_INSERT rows and MAX_PARAMETERS values (see `statementSizes`).
 *
 * Kysely builds an operation node per value, so a 500-row insert costs about a millisecond to build
 * — as long as SQLite takes to run it. Here Kysely compiles a one-row statement, and the text of each
 * multi-row statement is built from it once (a dozen shapes per table: `statementSizes`) and kept:
 * the same string every time, which the connection's prepared-statement cache (src/db/database.ts)
 * finds without hashing 30 KB of SQL again. Every value is a bound parameter, as in the one-row statement.
 */
export async function insertRows<T extends keyof Database & string> (db: Kysely<Database>, table: T, columns: ReadonlyArray<keyof Database[T] & string>, values: unknown[]): Promise<void> {
  if (values.length === 0) return
  const width = columns.length
  if (values.length % width !== 0) throw new Error(`insertRows: ${values.length} values for ${width} columns of ${table}`)
  const oneRow = db.insertInto(table)
    .values(Object.fromEntries(columns.map((column, i) => [column, values[i]])) as never)
    .compile()
  if (!oneRow.sql.includes(' values (') || oneRow.parameters.length !== width) throw new Error(`insertRows: unexpected statement for ${table}`)
  const sizes = statementSizes(values.length / width, Math.min(MAX_ROWS_PER_INSERT, Math.floor(MAX_PARAMETERS / width)))
  let offset = 0
  for (const rows of sizes) {
    const parameters = sizes.length === 1 ? values : values.slice(offset, offset + rows * width)
    offset += rows * width
    const sql = insertText(oneRow.sql, width, rows)
    // Not CompiledQuery.raw, which freezes the list of values (a walk of thousands of them per statement).
    const statement: CompiledQuery = { sql, query: RawNode.createWithSql(sql), parameters, queryId: createQueryId() }
    await db.executeQuery(statement)
  }
}
