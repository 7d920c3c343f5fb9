// npm run bench:scale: a 5,000-question fill (CAIQ v4.0.3 text from ../shared/data, in variants)
// through the real server on each database, with /healthz polled every 50 ms and the detail view
// every 250 ms. Prints fill questions/s (target >= 1,000, floor 500), /healthz p50/p99 during the
// fill (target p99 < 250 ms) and how many progress steps the detail view showed.
// Databases: PGlite (EMBEDDED_DB=pglite, in the server process) and PostgreSQL at 127.0.0.1:5432
// (BENCH_PG_URL; a fresh database, dropped after), each on an empty DATA_DIR with the demo seeded.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { caiqVariants, fillWhilePolling, freePort, loginDemo, printFill, startServer, stopServer } from './bench-lib.js';

const QUESTIONS = Number(process.env.BENCH_QUESTIONS ?? 5000);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const texts = caiqVariants(QUESTIONS);

async function measure(label: string, env: NodeJS.ProcessEnv) {
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'bench-scale-'));
  const port = await freePort();
  const { child } = await startServer(port, { ...env, DATA_DIR: dataDir, SEED_DEMO: 'true' });
  try {
    const base = `http://127.0.0.1:${port}`;
    printFill(label, await fillWhilePolling(base, await loginDemo(base), texts));
  } finally {
    await stopServer(child);
    await fsp.rm(dataDir, { recursive: true, force: true });
  }
}

console.log(
  `# fill scale: ${QUESTIONS} questions, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
const pgliteEnv: NodeJS.ProcessEnv = { ...process.env, EMBEDDED_DB: 'pglite' };
delete pgliteEnv.DATABASE_URL;
await measure('PGlite', pgliteEnv);

const admin = new pg.Client({ connectionString: PG_URL });
const reachable = await admin.connect().then(
  () => true,
  () => false,
);
if (!reachable) {
  console.log(`PostgreSQL: not measured (${PG_URL.replace(/\/\/[^@]*@/, '//')} does not answer)`);
} else {
  const name = `bench_scale_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(PG_URL);
    url.pathname = `/${name}`;
    await measure('PostgreSQL', { ...process.env, DATABASE_URL: url.toString() });
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
