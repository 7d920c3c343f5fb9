// Runs once before the test files: builds the migrated, seeded template every test file copies.
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openDatabase } from '../../src/db/client.js';
import { seedDatabase } from '../../src/seeds.js';
import { systemClock } from '../../src/lib/clock.js';
import { PGLITE_DUMP, TEMPLATE_DIR, adminUrl, templateName, withDatabase } from './db.js';

fs.mkdirSync(TEMPLATE_DIR, { recursive: true });
const admin = adminUrl();
const started = Date.now();
if (admin) {
  const tpl = templateName(admin);
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${tpl} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${tpl}`);
  await c.end();
  const database = await openDatabase({ url: withDatabase(admin, tpl), poolMax: 2 });
  await database.migrate();
  await seedDatabase(database.db, { clock: systemClock });
  await database.close();
  console.log(`# template database ${tpl} ready in ${Date.now() - started} ms`);
} else {
  const pglite = new PGlite();
  const database = await openDatabase({ pglite });
  await database.migrate();
  await seedDatabase(database.db, { clock: systemClock });
  const dump = await pglite.dumpDataDir('none');
  fs.writeFileSync(PGLITE_DUMP, Buffer.from(await dump.arrayBuffer()));
  await database.close();
  console.log(`# PGlite template ready in ${Date.now() - started} ms`);
}
