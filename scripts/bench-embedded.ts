// npm run bench:embedded: the embedded default as `npm start` runs it, measured from outside.
// Starts the real server (node + tsx, no DATABASE_URL) on an empty DATA_DIR and prints:
//   first start (initdb, migrations, catalogs, demo) and a later start, to /readyz;
//   idle memory after boot with the demo: RSS of the server process and of every database
//   process, summed, and PSS (shared pages counted once) of the same processes;
//   a fill of ~5,000 questions (CAIQ v4.0.3 text from ../shared/data, in variants) while
//   /healthz is polled every 50 ms: fill time and /healthz p50/p99/max.
// --engine pglite measures the PGlite fallback the same way (its database lives in the server process).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const engine = process.argv.includes('--engine') ? process.argv[process.argv.indexOf('--engine') + 1]! : 'postgres';
const QUESTIONS = Number(process.env.BENCH_QUESTIONS ?? 5000);
const KEY_FILE = path.resolve(root, '../shared/data/csa/caiq-v4.0.3-answer-key.csv');

const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'bench-embedded-'));
// As root the database runs as the postgres user, which must be able to enter DATA_DIR.
await fsp.chmod(dataDir, 0o755);

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function start(port: number): Promise<{ child: ChildProcess; ms: number }> {
  const started = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', EMBEDDED_DB: engine, BODY_LIMIT_BYTES: String(20 * 1024 * 1024) };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) return { child, ms: performance.now() - started };
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
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
  const children = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
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
await stop(first.child);
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
const key = parse(fs.readFileSync(KEY_FILE, 'utf8'), { columns: true, skip_empty_lines: true }) as Array<{ question: string }>;
const variants = ['', 'Please confirm: ', 'For the production service, ', 'Answer yes or no. ', 'In your cloud environment, '];
const texts: string[] = [];
for (let v = 0; texts.length < QUESTIONS; v++) for (const r of key) if (texts.length < QUESTIONS) texts.push(`${variants[v % variants.length]}${r.question}${v >= variants.length ? ` (${v})` : ''}`);
const base = `http://127.0.0.1:${port}`;
const login = await (await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'owner@demo.example.com', password: 'Demo-Password-2026!' }) })).json() as { accessToken: string };
const auth = { authorization: `Bearer ${login.accessToken}`, 'content-type': 'application/json' };
const created = await fetch(`${base}/api/v1/questionnaires`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'bench', questions: texts.map((text) => ({ text })) }) });
if (created.status !== 201) throw new Error(`import: ${created.status} ${await created.text()}`);
const id = ((await created.json()) as { id: string }).id;
const fillStarted = performance.now();
const fill = await fetch(`${base}/api/v1/questionnaires/${id}/fill`, { method: 'POST', headers: { authorization: auth.authorization } });
if (fill.status !== 202) throw new Error(`fill: ${fill.status} ${await fill.text()}`);

const waits: number[] = [];
let done = false;
const poller = (async () => {
  while (!done) {
    const t0 = performance.now();
    await fetch(`${base}/healthz`).then((r) => r.arrayBuffer());
    waits.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 50));
  }
})();
for (;;) {
  const res = await fetch(`${base}/api/v1/questionnaires?limit=100`, { headers: { authorization: auth.authorization } });
  const list = (await res.json()) as { items: Array<{ id: string; status: string }> };
  const status = list.items.find((q) => q.id === id)?.status;
  if (status === 'filled' || status === 'failed') {
    if (status === 'failed') console.log('the fill FAILED');
    break;
  }
  await new Promise((r) => setTimeout(r, 500));
}
const fillMs = performance.now() - fillStarted;
done = true;
await poller;
const sorted = [...waits].sort((a, b) => a - b);
const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
console.log(`fill of ${texts.length} questions: ${(fillMs / 1000).toFixed(1)} s (${(texts.length / (fillMs / 1000)).toFixed(0)} questions/s)`);
console.log(`/healthz during the fill (${sorted.length} requests): p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms`);
await stop(child);
await fsp.rm(dataDir, { recursive: true, force: true });
