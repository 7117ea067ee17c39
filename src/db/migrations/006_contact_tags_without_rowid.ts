import { SqliteIntrospector, sql, type Kysely } from 'kysely'

/**
 * contact_tags on SQLite: one B-tree per tag row instead of three.
 *
 * The table was a rowid table (the rows, plus the primary key (contact_id, tag) as a second B-tree)
 * with a third, contact_tags_tag_idx (tag, contact_id). Every read of it — a contact's tags, the
 * `tag` filter of GET /contacts, a campaign audience's tags and excluded tags — looks a contact's
 * tags up by contact_id, and SQLite plans each of them as a scan of contacts by id with a probe of
 * (contact_id = ? AND tag = ?), which the primary key answers as well as the tag index did
 * (EXPLAIN QUERY PLAN). So the table is rebuilt `WITHOUT ROWID`, keyed (contact_id, tag): the rows
 * are the primary key, the rule "one row per contact and tag" still holds, and an import writes one
 * B-tree per tag instead of three (https://sqlite.org/withoutrowid.html). The rows are copied across
 * in one transaction.
 *
 * PostgreSQL keeps its table as it is: a heap with that primary key, and the tag index, which its
 * planner does use (a semi-join driven by contact_tags_tag_idx for a tag few contacts have).
 */
export async function up (db: Kysely<unknown>): Promise<void> {
  if (!(db.introspection instanceof SqliteIntrospector)) return
  await db.transaction().execute(async (trx) => {
    await sql`create table contact_tags_new (
      contact_id varchar(36) not null references contacts (id) on delete cascade,
      tag varchar(100) not null,
      constraint contact_tags_pk primary key (contact_id, tag)
    ) without rowid`.execute(trx)
    await sql`insert into contact_tags_new (contact_id, tag) select contact_id, tag from contact_tags`.execute(trx)
    await sql`drop table contact_tags`.execute(trx)
    await sql`alter table contact_tags_new rename to contact_tags`.execute(trx)
  })
}
