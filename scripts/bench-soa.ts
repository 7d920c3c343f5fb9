// tsx scripts/bench-soa.ts: times POST /controls/import of a 1,000-row Statement of Applicability,
// for PGlite (in memory) and for PostgreSQL (when 127.0.0.1:5432 answers, in a fresh database
// bench_soa_<timestamp>, dropped afterwards). Prints one line per database with the median of
// 3 runs (BENCH_RUNS).
//
// The import takes one row per answerable control and refuses duplicates, and the real catalog
// has 100 (93 Annex A + 7 CLD), so 1,000 rows cannot name real controls only. The bench adds 900
// synthetic Annex A controls (A.99.1 ... A.99.900) to its own database's catalog, the closest
// honest way to a 1,000-row file through the same route. The demo organization is seeded (its
// 100 answers and library entries resting on them); a first, untimed import answers the 900
// new controls. Each timed run then exports the SoA as CSV, as a user would, edits every
// row's implementation text (1,000 changed rows, each with its exported version, so every row is
// version-checked, updated, versioned, audited and announced) and imports it.
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { PGlite } from '@electric-sql/pglite';
import { and, eq, max, or } from 'drizzle-orm';
import pg from 'pg';
import type { App } from '../src/app.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { catalogControls } from '../src/modules/catalog/tables.js';
import { multipart } from '../test/helpers/multipart.js';
import { demoApp, pgAvailable } from './bench-app.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROWS = 1000;
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const FRAMEWORK = 'iso27001-2022';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Adds synthetic Annex A controls after the real ones, so that the SoA has ROWS answerable controls. */
async function widenCatalog(database: Database) {
  const db = database.db;
  const answerable = await db.$count(
    catalogControls,
    or(
      and(eq(catalogControls.frameworkId, FRAMEWORK), eq(catalogControls.kind, 'annex_a')),
      and(eq(catalogControls.frameworkId, 'iso27017-2015'), eq(catalogControls.kind, 'cloud_control')),
    ),
  );
  const [last] = await db
    .select({ top: max(catalogControls.position) })
    .from(catalogControls)
    .where(eq(catalogControls.frameworkId, FRAMEWORK));
  const top = last?.top ?? 0;
  await db.insert(catalogControls).values(
    Array.from({ length: ROWS - answerable }, (_, i) => ({
      frameworkId: FRAMEWORK,
      ref: `A.99.${i + 1}`,
      kind: 'annex_a',
      position: top + i + 1,
      title: `Synthetic bench control ${i + 1}`,
    })),
  );
}

async function exportCsv(app: App, auth: Record<string, string>): Promise<string[][]> {
  const r = await app.inject({ method: 'GET', url: '/api/v1/reports/soa?format=csv', headers: auth });
  if (r.statusCode !== 200) throw new Error(`export: ${r.statusCode} ${r.body}`);
  return parse(r.body, { bom: true, relax_column_count: true }) as string[][];
}

async function importCsv(app: App, auth: Record<string, string>, records: string[][]) {
  const body = multipart({}, [{ filename: 'soa.csv', content: stringify(records), contentType: 'text/csv' }]);
  const started = performance.now();
  const r = await app.inject({ method: 'POST', url: '/api/v1/controls/import', headers: { ...auth, ...body.headers }, payload: body.payload });
  const ms = performance.now() - started;
  if (r.statusCode !== 200) throw new Error(`import: ${r.statusCode} ${r.body.slice(0, 2000)}`);
  return { ms, result: r.json() as { created: number; updated: number; unchanged: number; skipped: number } };
}

async function series(label: string, database: Database): Promise<number> {
  const d = await demoApp(database, 'bench-soa', {}, () => widenCatalog(database));
  const { app, auth } = d;
  try {
    const header = (await exportCsv(app, auth))[0]!;
    const col = (name: string) => header.indexOf(name);
    // Untimed: answer the synthetic controls, so that every timed row is a change to an existing answer.
    const first = await exportCsv(app, auth);
    for (const row of first.slice(1)) {
      if (row[col('version')] !== '') continue;
      row[col('applicable')] = 'yes';
      row[col('status')] = 'implemented';
      row[col('implementation')] = `Bench answer for ${row[col('ref')]}.`;
      row[col('responsibility')] = 'provider';
    }
    const warm = await importCsv(app, auth, first);
    if (warm.result.created !== ROWS - 100) throw new Error(`warm-up created ${warm.result.created}`);

    const times: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const records = await exportCsv(app, auth);
      if (records.length - 1 !== ROWS) throw new Error(`the SoA has ${records.length - 1} rows, not ${ROWS}`);
      for (const row of records.slice(1)) row[col('implementation')] = `${row[col('implementation')]} (bench run ${run})`;
      const { ms, result } = await importCsv(app, auth, records);
      if (result.updated !== ROWS) throw new Error(`run ${run}: ${JSON.stringify(result)}`);
      times.push(ms);
    }
    const ms = median(times);
    console.log(`soa import ${ROWS} rows, ${label}: ${ms.toFixed(0)} ms (median of ${RUNS}; runs ${times.map((x) => x.toFixed(0)).join(', ')})`);
    return ms;
  } finally {
    await d.close();
  }
}

async function admin(query: string) {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

await series('pglite', await openDatabase({ pglite: new PGlite() }));
if (await pgAvailable(PG_URL)) {
  const name = `bench_soa_${Date.now()}`;
  await admin(`create database ${name}`);
  try {
    const url = new URL(PG_URL);
    url.pathname = `/${name}`;
    await series('postgres', await openDatabase({ url: url.toString() }));
  } finally {
    await admin(`drop database if exists ${name} with (force)`);
  }
} else {
  console.log('soa import: PostgreSQL not reachable at 127.0.0.1:5432, skipped');
}
