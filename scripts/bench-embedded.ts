// npm run bench:embedded: the embedded default as `npm start` runs it, measured from outside.
// Starts the real server (node + tsx, no DATABASE_URL) on an empty DATA_DIR and prints:
//   first start (initdb, migrations, catalogs, demo) and a later start, to /readyz;
//   idle memory after boot with the demo: RSS of the server process and of every database
//   process, summed, and PSS (shared pages counted once) of the same processes;
//   a fill of ~5,000 questions (CAIQ v4.0.3 text from ../shared/data, in variants) while
//   /healthz is polled every 50 ms: fill time and /healthz p50/p99/max.
// --engine pglite measures the PGlite fallback the same way (its database lives in the server process).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { caiqVariants, fillWhilePolling, freePort, loginDemo, printFill, startServer, stopServer } from './bench-lib.js';

const engine = process.argv.includes('--engine') ? process.argv[process.argv.indexOf('--engine') + 1]! : 'postgres';
const QUESTIONS = Number(process.env.BENCH_QUESTIONS ?? 5000);

const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'bench-embedded-'));
// As root the database runs as the postgres user, which must be able to enter DATA_DIR.
await fsp.chmod(dataDir, 0o755);

async function start(port: number) {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, EMBEDDED_DB: engine };
  delete env.DATABASE_URL;
  return startServer(port, env);
}

/** RSS and PSS in kB of one process, from /proc/PID/smaps_rollup. */
function memory(pid: number): { rss: number; pss: number } {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rss: field('Rss'), pss: field('Pss') };
}

function databaseProcesses(): number[] {
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return [];
  const postmaster = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  const children = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    });
  return [postmaster, ...children];
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const port = await freePort();
console.log(`# embedded default, engine ${engine}, DATA_DIR ${dataDir}`);

const first = await start(port);
console.log(`first start (new database, migrations, catalogs, demo) to /readyz: ${first.ms.toFixed(0)} ms`);
await stopServer(first.child);
const { child, ms } = await start(port);
console.log(`later start to /readyz: ${ms.toFixed(0)} ms`);

// Idle: the pool closes idle connections after 10 s; measure after that, as an operator would see it.
await new Promise((r) => setTimeout(r, 12_000));
const server = memory(child.pid!);
const db = databaseProcesses().map(memory);
const dbRss = db.reduce((s, m) => s + m.rss, 0);
const dbPss = db.reduce((s, m) => s + m.pss, 0);
console.log(`idle after boot with the demo: server RSS ${mb(server.rss)}; database ${db.length} processes, RSS ${mb(dbRss)} summed, PSS ${mb(dbPss)}`);
console.log(`  together: RSS ${mb(server.rss + dbRss)} (shared memory counted once per process), PSS ${mb(server.pss + dbPss)}`);

// The fill: CAIQ's questions in variants, until QUESTIONS are reached.
const base = `http://127.0.0.1:${port}`;
printFill('embedded', await fillWhilePolling(base, await loginDemo(base), caiqVariants(QUESTIONS)));
await stopServer(child);
await fsp.rm(dataDir, { recursive: true, force: true });
