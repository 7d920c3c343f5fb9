// npm run bench:trust: requests per second of the public trust JSON (the full app: rate limiting,
// security headers, auth hook, the in-process cache) against a bare fastify route answering the
// same JSON, in the same run on the same machine. Prints both and their ratio (target >= 0.5).
// Then the HTML page as browsers fetch it (Accept-Encoding: br): the app sends a br body encoded
// once per cached page; for scale, a bare fastify route with the app's compress plugin encodes
// the same HTML on every response. Those figures are printed, not held to a target.
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Fastify from 'fastify';
import { PGlite } from '@electric-sql/pglite';
import { buildApp } from '../src/app.js';
import { defaultConfig } from '../src/config.js';
import pg from 'pg';
import { openDatabase, type Database } from '../src/db/client.js';
import compressPlugin from '../src/plugins/compress.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const TARGET = 0.5;

/** The load generator runs in a worker thread: its own event loop, keep-alive connections. */
const LOAD = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { url, connections, durationMs, headers } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
let done = 0, failed = 0, bytes = 0;
const end = Date.now() + durationMs;
function one() {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers }, (res) => {
      res.on('data', (c) => { bytes += c.length; });
      res.on('end', () => { if (res.statusCode === 200) done++; else failed++; resolve(); });
    });
    req.on('error', () => { failed++; resolve(); });
  });
}
async function loop() { while (Date.now() < end) await one(); }
const started = Date.now();
Promise.all(Array.from({ length: connections }, loop)).then(() => {
  agent.destroy();
  parentPort.postMessage({ done, failed, bytes, ms: Date.now() - started });
});
`;

function load(url: string, durationMs: number, headers: Record<string, string> = {}): Promise<{ rps: number; failed: number; bytesEach: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(LOAD, { eval: true, workerData: { url, connections: CONNECTIONS, durationMs, headers } });
    w.once('message', (m: { done: number; failed: number; bytes: number; ms: number }) =>
      resolve({ rps: (m.done * 1000) / m.ms, failed: m.failed, bytesEach: m.done ? m.bytes / m.done : 0 }),
    );
    w.once('error', reject);
  });
}

const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function measure(label: string, database: Database): Promise<boolean> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-trust-'));
  const app = await buildApp({
    config: defaultConfig({ dataDir, seedDemo: true, logLevel: 'silent', limits: { publicPerMinute: 1_000_000 } }),
    database,
    logger: false,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const appUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/api/v1/public/trust/demo`;

  // The bare route answers the very same document, serialized per request as fastify does.
  const sample: unknown = await new Promise((resolve, reject) => {
    http
      .get(appUrl, (res) => {
        let body = '';
        res
          .setEncoding('utf8')
          .on('data', (c) => {
            body += c;
          })
          .on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${res.statusCode} ${body}`))));
      })
      .on('error', reject);
  });
  const bare = Fastify({ logger: false });
  bare.get('/json', async () => sample);
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}/json`;

  // Warm both up, then measure alternately so neither gets the warmer machine.
  await load(appUrl, 500);
  await load(bareUrl, 500);
  const a1 = await load(bareUrl, DURATION_MS / 2);
  const t1 = await load(appUrl, DURATION_MS / 2);
  const t2 = await load(appUrl, DURATION_MS / 2);
  const a2 = await load(bareUrl, DURATION_MS / 2);
  const bareRps = (a1.rps + a2.rps) / 2;
  const trustRps = (t1.rps + t2.rps) / 2;
  const ratio = trustRps / bareRps;

  // The HTML page: as it is, br-encoded by the app (once per cached page), and br-encoded per
  // response by the same compress plugin on a bare route.
  const pageUrl = appUrl.replace('/api/v1/public/trust/demo', '/trust/demo');
  const html: string = await new Promise((resolve, reject) => {
    http
      .get(pageUrl, (res) => {
        let body = '';
        res
          .setEncoding('utf8')
          .on('data', (c) => {
            body += c;
          })
          .on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${res.statusCode} ${body}`))));
      })
      .on('error', reject);
  });
  const perResponse = Fastify({ logger: false });
  await perResponse.register(compressPlugin);
  perResponse.get('/html', async (_req, reply) => reply.type('text/html; charset=utf-8').send(html));
  await perResponse.listen({ port: 0, host: '127.0.0.1' });
  const perResponseUrl = `http://127.0.0.1:${(perResponse.server.address() as { port: number }).port}/html`;
  const br = { 'accept-encoding': 'br' };
  await load(pageUrl, 500, br);
  await load(perResponseUrl, 500, br);
  const h = await load(pageUrl, DURATION_MS / 2);
  const hb = await load(pageUrl, DURATION_MS / 2, br);
  const pb = await load(perResponseUrl, DURATION_MS / 2, br);

  await app.close();
  await bare.close();
  await perResponse.close();
  await fs.rm(dataDir, { recursive: true, force: true });

  const size = Buffer.byteLength(JSON.stringify(sample));
  process.stdout.write(
    [
      `# ${label}: payload ${size} bytes of JSON, ${CONNECTIONS} keep-alive connections, ${DURATION_MS} ms per side`,
      `bare fastify JSON route:        ${bareRps.toFixed(0)} req/s${a1.failed + a2.failed ? ` (${a1.failed + a2.failed} failed)` : ''}`,
      `GET /api/v1/public/trust/demo:  ${trustRps.toFixed(0)} req/s${t1.failed + t2.failed ? ` (${t1.failed + t2.failed} failed)` : ''}`,
      `ratio: ${ratio.toFixed(2)} (target >= ${TARGET}) ${ratio >= TARGET ? 'OK' : 'BELOW TARGET'}`,
      `GET /trust/demo (HTML):                        ${h.rps.toFixed(0)} req/s, ${h.bytesEach.toFixed(0)} bytes each${h.failed ? ` (${h.failed} failed)` : ''}`,
      `GET /trust/demo, br (encoded once, cached):    ${hb.rps.toFixed(0)} req/s, ${hb.bytesEach.toFixed(0)} bytes each${hb.failed ? ` (${hb.failed} failed)` : ''}`,
      `bare route + compress plugin, br per response: ${pb.rps.toFixed(0)} req/s, ${pb.bytesEach.toFixed(0)} bytes each${pb.failed ? ` (${pb.failed} failed)` : ''}`,
      '',
    ].join('\n'),
  );
  return ratio >= TARGET && t1.failed + t2.failed === 0 && h.failed + hb.failed === 0;
}

let ok = await measure('PGlite', await openDatabase({ pglite: new PGlite() }));
const admin = new pg.Client({ connectionString: PG_URL });
if (
  await admin.connect().then(
    () => true,
    () => false,
  )
) {
  const name = `bench_trust_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(PG_URL);
    url.pathname = `/${name}`;
    ok = (await measure('PostgreSQL', await openDatabase({ url: url.toString() }))) && ok;
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
} else {
  console.log('# PostgreSQL: not measured (127.0.0.1:5432 does not answer)');
}
process.exit(ok ? 0 : 1);
