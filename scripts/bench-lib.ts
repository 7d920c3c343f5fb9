// Shared by the benches that drive the real server from outside: start and stop it, log in as the
// demo owner, and run a big fill while /healthz and the detail view are polled (BENCH_DEBUG=1
// prints each /healthz slower than 100 ms with its moment in the fill).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The real server (node + tsx, as `npm start` runs it), resolved once /readyz answers. */
export async function startServer(port: number, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', BODY_LIMIT_BYTES: String(20 * 1024 * 1024), RATE_LIMIT_API_PER_MINUTE: '1000000' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, ms: performance.now() - started };
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function stopServer(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
}

export async function loginDemo(base: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'owner@demo.example.com', password: 'Demo-Password-2026!' }),
  });
  return ((await res.json()) as { accessToken: string }).accessToken;
}

/** CAIQ v4.0.3's questions (../shared/data) in variants, until n are reached. */
export function caiqVariants(n: number): string[] {
  const key = parse(fs.readFileSync(path.resolve(root, '../shared/data/csa/caiq-v4.0.3-answer-key.csv'), 'utf8'), {
    columns: true,
    skip_empty_lines: true,
  }) as Array<{ question: string }>;
  const variants = ['', 'Please confirm: ', 'For the production service, ', 'Answer yes or no. ', 'In your cloud environment, '];
  const texts: string[] = [];
  for (let v = 0; texts.length < n; v++)
    for (const r of key) if (texts.length < n) texts.push(`${variants[v % variants.length]}${r.question}${v >= variants.length ? ` (${v})` : ''}`);
  return texts;
}

export interface FillFigures {
  questions: number;
  ms: number;
  perSecond: number;
  healthz: { n: number; p50: number; p99: number; max: number };
  /** Distinct progress values the detail view showed while the fill ran (batch by batch). */
  progressSteps: number;
  failed: boolean;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** Imports the questions, starts the fill and polls /healthz every 50 ms and the detail view every 250 ms until it is filled. */
export async function fillWhilePolling(base: string, token: string, texts: string[]): Promise<FillFigures> {
  const auth = { authorization: `Bearer ${token}` };
  const created = await fetch(`${base}/api/v1/questionnaires`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', questions: texts.map((text) => ({ text })) }),
  });
  if (created.status !== 201) throw new Error(`import: ${created.status} ${await created.text()}`);
  const id = ((await created.json()) as { id: string }).id;
  const started = performance.now();
  const fill = await fetch(`${base}/api/v1/questionnaires/${id}/fill`, { method: 'POST', headers: auth });
  if (fill.status !== 202) throw new Error(`fill: ${fill.status} ${await fill.text()}`);
  const waits: number[] = [];
  let done = false;
  const poller = (async () => {
    while (!done) {
      const t0 = performance.now();
      await fetch(`${base}/healthz`).then((r) => r.arrayBuffer());
      waits.push(performance.now() - t0);
      if (process.env.BENCH_DEBUG && performance.now() - t0 > 100)
        console.log(`slow /healthz ${(performance.now() - t0).toFixed(0)} ms at ${(t0 - started).toFixed(0)} ms into the fill`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const steps = new Set<number>();
  let status = '';
  for (;;) {
    const res = await fetch(`${base}/api/v1/questionnaires/${id}?limit=1`, { headers: auth });
    const body = (await res.json()) as { status: string; progress: { done: number; total: number } };
    status = body.status;
    if (status === 'filled' || status === 'failed') break;
    if (body.progress.done > 0) steps.add(body.progress.done);
    await new Promise((r) => setTimeout(r, 250));
  }
  const ms = performance.now() - started;
  done = true;
  await poller;
  const sorted = [...waits].sort((a, b) => a - b);
  return {
    questions: texts.length,
    ms,
    perSecond: texts.length / (ms / 1000),
    failed: status === 'failed',
    healthz: { n: sorted.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] ?? 0 },
    progressSteps: steps.size,
  };
}

export function printFill(label: string, f: FillFigures): void {
  if (f.failed) console.log(`${label}: the fill FAILED`);
  console.log(
    `${label}: fill of ${f.questions} questions ${(f.ms / 1000).toFixed(1)} s (${f.perSecond.toFixed(0)} questions/s); /healthz during it (${f.healthz.n} requests) p50 ${f.healthz.p50.toFixed(1)} ms, p99 ${f.healthz.p99.toFixed(1)} ms, max ${f.healthz.max.toFixed(1)} ms; progress seen at ${f.progressSteps} points before the end`,
  );
}
