// Every tenant query filters on org_id and every foreign key is checked on delete/update of its
// parent: without an index leading with those columns, each is a sequential scan that grows with
// the whole table (all tenants), not with the tenant. This reads the migrated schema's catalog.
import t from 'tap';
import { sql } from 'drizzle-orm';
import { freshDatabase } from '../helpers/db.js';

interface Row {
  [k: string]: unknown;
}

t.test('tenant columns and foreign keys are indexed', async (t) => {
  const { database, drop } = await freshDatabase();
  t.teardown(async () => {
    await database.close();
    await drop();
  });
  // pg and PGlite results both carry `rows`.
  const rows = async <T extends Row>(q: ReturnType<typeof sql>) => ((await database.db.execute(q)) as unknown as { rows: T[] }).rows;

  // Every index's key columns in order (primary keys and unique constraints are indexes too);
  // expression columns (attnum 0) end the usable prefix, so they are cut off there.
  const indexes = await rows<{ table: string; name: string; columns: string[] }>(sql`
    select c.relname as "table", i.relname as name,
           array(
             select a.attname from unnest(x.indkey[0:x.indnkeyatts - 1]) with ordinality k(attnum, ord)
             join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
             where k.ord <= coalesce((select min(z.ord) - 1 from unnest(x.indkey) with ordinality z(attnum, ord) where z.attnum = 0), x.indnkeyatts)
             order by k.ord
           )::text[] as columns
    from pg_index x
    join pg_class c on c.oid = x.indrelid
    join pg_class i on i.oid = x.indexrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and x.indpred is null
  `);
  const byTable = new Map<string, string[][]>();
  for (const ix of indexes) byTable.set(ix.table, [...(byTable.get(ix.table) ?? []), ix.columns]);
  // A column list is served by an index whose leading columns are the same set (any order).
  const covered = (table: string, cols: string[]) =>
    (byTable.get(table) ?? []).some((ix) => ix.length >= cols.length && cols.every((c) => ix.slice(0, cols.length).includes(c)));

  const tenantTables = await rows<{ table: string }>(sql`
    select c.table_name as "table" from information_schema.columns c
    join information_schema.tables tb on tb.table_schema = c.table_schema and tb.table_name = c.table_name
    where c.table_schema = 'public' and c.column_name = 'org_id' and tb.table_type = 'BASE TABLE'
    order by 1
  `);
  t.ok(tenantTables.length > 10, `found ${tenantTables.length} tenant tables`);
  const unscoped = tenantTables.filter(({ table }) => !(byTable.get(table) ?? []).some((ix) => ix[0] === 'org_id')).map(({ table }) => `${table} (org_id)`);
  t.same(unscoped, [], `tables with org_id but no index leading with it:\n  ${unscoped.join('\n  ')}`);

  const foreignKeys = await rows<{ table: string; name: string; columns: string[] }>(sql`
    select c.relname as "table", k.conname as name,
           array(select a.attname from unnest(k.conkey) with ordinality u(attnum, ord)
                 join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.attnum order by u.ord)::text[] as columns
    from pg_constraint k
    join pg_class c on c.oid = k.conrelid
    join pg_namespace n on n.oid = c.relnamespace
    where k.contype = 'f' and n.nspname = 'public'
    order by 1, 2
  `);
  t.ok(foreignKeys.length > 10, `found ${foreignKeys.length} foreign keys`);
  const unindexed = foreignKeys.filter((fk) => !covered(fk.table, fk.columns)).map((fk) => `${fk.table} (${fk.columns.join(', ')}) [${fk.name}]`);
  t.same(unindexed, [], `foreign keys whose columns lead no index:\n  ${unindexed.join('\n  ')}`);
});
