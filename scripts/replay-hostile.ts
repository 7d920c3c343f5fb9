// Replays the hostile upload files of the 2026-12-02 security review against a real server started
// with `npm start`, and reports per file: the HTTP status, the server's peak RSS while the file was
// processed, and the longest GET /healthz wait (polled every 50 ms). Not part of `npm test`.
//
//   npx tsx scripts/replay-hostile.ts [--dir /path/to/checkout] [--label after] [--only vsaq,csv]
//
// Needs PostgreSQL on 127.0.0.1:5432 (user postgres, createdb on PATH); creates a fresh database
// per run. Everything listens on 127.0.0.1 only, and every wait is bounded.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { bigCsv, lyingSoaWorkbook, manyCellsWorkbook, nestedVsaq, oneCellCsv } from '../test/helpers/hostile.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const dir = path.resolve(args.get('dir') ?? process.cwd());
const label = args.get('label') ?? path.basename(dir);
const only = args.get('only')?.split(',');
const REQUEST_TIMEOUT_MS = Number(args.get('timeout') ?? 240_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

// The node process that runs src/server.ts: the deepest descendant of `npm start` whose command line names it.
function serverPid(root: number): number | undefined {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone */
    }
  }
  let found: number | undefined;
  const walk = (pid: number, depth: number) => {
    if (depth > 10) return;
    for (const c of children.get(pid) ?? []) {
      try {
        const cmd = fs.readFileSync(`/proc/${c}/cmdline`, 'utf8');
        if (cmd.includes('src/server.ts') && /node/.test(cmd.split('\0')[0]!)) found = c;
      } catch {
        /* gone */
      }
      walk(c, depth + 1);
    }
  };
  walk(root, 0);
  return found;
}

const rssKb = (pid: number): number | undefined => {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
};

interface Server {
  child: ChildProcess;
  pid: number;
  base: string;
  log: string[];
  exited: boolean;
}

async function startServer(dbUrl: string): Promise<Server> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-data-'));
  const log: string[] = [];
  const child = spawn('npm', ['start'], {
    cwd: dir,
    detached: true,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: dbUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server: Server = { child, pid: 0, base: `http://127.0.0.1:${port}`, log, exited: false };
  child.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  child.on('exit', () => {
    server.exited = true;
  });
  for (let i = 0; i < 600; i++) {
    if (server.exited) throw new Error(`server exited at start:\n${log.join('').slice(-2000)}`);
    try {
      const r = await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) {
        server.pid = serverPid(child.pid!) ?? child.pid!;
        return server;
      }
    } catch {
      /* not yet */
    }
    await sleep(200);
  }
  throw new Error('server did not start within 120 s');
}

function stopServer(s: Server) {
  if (s.exited) return;
  try {
    process.kill(-s.child.pid!, 'SIGTERM');
  } catch {
    /* gone */
  }
}

async function token(s: Server): Promise<string> {
  const slug = `replay-${Date.now().toString(36)}`;
  const r = await fetch(`${s.base}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ organization: { name: 'Replay', slug }, user: { email: `owner@${slug}.example.com`, password: 'Correct-Horse-Battery-9' } }),
  });
  if (r.status !== 201) throw new Error(`signup: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { accessToken: string }).accessToken;
}

interface Case {
  key: string;
  what: string;
  url: string;
  filename: string;
  make: () => Buffer;
}
const CASES: Case[] = [
  {
    key: 'vsaq',
    what: 'Nested VSAQ (2,500 blocks, long titles, 5 MB)',
    url: '/api/v1/questionnaires',
    filename: 'nested.json',
    make: () => nestedVsaq(2500, 2000),
  },
  {
    key: 'soa',
    what: 'Lying-size SoA workbook (declares 1,000 B, inflates to 1 GiB)',
    url: '/api/v1/controls/import',
    filename: 'soa.xlsx',
    make: () => lyingSoaWorkbook(1024 * 1024 * 1024, 1000),
  },
  { key: 'xlsx', what: 'XLSX of 3.7 M cells (~10 MB)', url: '/api/v1/questionnaires', filename: 'cells.xlsx', make: () => manyCellsWorkbook(3_700_000) },
  { key: 'csv', what: 'CSV of 20 MB', url: '/api/v1/questionnaires', filename: 'big.csv', make: () => bigCsv(20_000_000) },
  { key: 'cell', what: 'CSV with one 24 MB cell', url: '/api/v1/questionnaires', filename: 'cell.csv', make: () => oneCellCsv(24_000_000) },
];

interface Result {
  what: string;
  bytes: number;
  status: string;
  peakRssMb: number;
  baseRssMb: number;
  maxHealthMs: number;
  seconds: number;
  serverUp: boolean;
}

async function replay(s: Server, auth: string, c: Case, file: Buffer): Promise<Result> {
  const baseRss = rssKb(s.pid) ?? 0;
  let peak = baseRss;
  let maxHealth = 0;
  let done = false;
  // RSS sampler and /healthz poller run until the upload has answered (and one more second).
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, rssKb(s.pid) ?? 0);
      await sleep(50);
    }
  })();
  const poller = (async () => {
    while (!done && !s.exited) {
      const t0 = performance.now();
      try {
        await fetch(`${s.base}/healthz`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      } catch {
        /* down or timed out: the wait still counts */
      }
      maxHealth = Math.max(maxHealth, performance.now() - t0);
      await sleep(50);
    }
  })();
  const form = new FormData();
  form.append('file', new Blob([file]), c.filename);
  const t0 = performance.now();
  let status: string;
  try {
    const r = await fetch(`${s.base}${c.url}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${auth}` },
      body: form,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = await r.text();
    status = `${r.status}`;
    let detail: string | undefined;
    try {
      detail = (JSON.parse(body) as { detail?: string }).detail;
    } catch {
      /* not JSON */
    }
    if (detail) status += ` (${detail.slice(0, 160)})`;
  } catch (err) {
    status = s.exited ? 'no answer: server died' : `no answer: ${(err as Error).name}`;
  }
  const seconds = (performance.now() - t0) / 1000;
  await sleep(1000);
  done = true;
  await Promise.all([sampler, poller]);
  const up =
    !s.exited &&
    (await fetch(`${s.base}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
      (r) => r.ok,
      () => false,
    ));
  return {
    what: c.what,
    bytes: file.length,
    status,
    peakRssMb: Math.round(peak / 1024),
    baseRssMb: Math.round(baseRss / 1024),
    maxHealthMs: Math.round(maxHealth),
    seconds: Math.round(seconds * 10) / 10,
    serverUp: up,
  };
}

async function main() {
  const db = `replay_${label.replace(/\W/g, '_')}_${process.pid}`;
  const made = spawnSync('createdb', ['-h', '127.0.0.1', '-U', 'postgres', db], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`createdb: ${made.stderr}`);
  const dbUrl = `postgres://postgres@127.0.0.1:5432/${db}`;
  const results: Result[] = [];
  let server = await startServer(dbUrl);
  try {
    for (const c of CASES) {
      if (only && !only.includes(c.key)) continue;
      const file = c.make();
      if (
        server.exited ||
        !(await fetch(`${server.base}/healthz`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        stopServer(server);
        server = await startServer(dbUrl);
      }
      const auth = await token(server);
      const r = await replay(server, auth, c, file);
      results.push(r);
      console.log(JSON.stringify(r));
      // A server that died or is still busy is replaced, so each file starts from a fresh process.
      stopServer(server);
      await sleep(1000);
      server = await startServer(dbUrl);
    }
  } finally {
    stopServer(server);
  }
  console.log(`\n| ${label}: file | bytes | answer | peak RSS (MB, start) | longest /healthz wait | request time | server up after |`);
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.what} | ${r.bytes.toLocaleString('en')} | ${r.status} | ${r.peakRssMb} (${r.baseRssMb}) | ${r.maxHealthMs} ms | ${r.seconds} s | ${r.serverUp ? 'yes' : 'no'} |`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
