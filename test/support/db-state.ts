import { sql } from 'kysely'
import { openDatabase } from '../../src/db/database.js'
import type { TestDatabase } from './database.js'

export interface StateProbe {
  /** A digest of every row of every table: equal digests, unchanged data. */
  digest: () => Promise<string>
  close: () => Promise<void>
}

/**
 * Reads the whole database of a test app through a connection of its own, in one statement: for
 * "a refused request changed nothing" checks. Meant for the small databases tests build.
 */
export async function stateProbe (database: TestDatabase): Promise<StateProbe> {
  const { db, close } = openDatabase(database.url)
  const tables = (await db.introspection.getTables()).filter((table) => !table.name.startsWith('kysely_'))
  const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`
  const parts = tables.map((table) => {
    const name = quote(table.name)
    if (database.dialect === 'postgres') {
      return `select '${table.name}' as t, count(*) || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '') as d from ${name} x`
    }
    const row = table.columns.map((column) => `quote(${quote(column.name)})`).join(' || \',\' || ')
    return `select '${table.name}' as t, count(*) || ':' || coalesce(group_concat(${row}, '|'), '') as d from (select * from ${name} order by rowid)`
  })
  const statement = sql.raw<{ t: string, d: string }>(parts.join(' union all ') + ' order by t')
  return {
    digest: async () => (await statement.execute(db)).rows.map((r) => `${r.t}=${r.d}`).join('\n'),
    close
  }
}
