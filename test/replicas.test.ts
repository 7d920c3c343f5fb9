// Two replicas that share only PostgreSQL, an S3-compatible server (s3rver on 127.0.0.1) and Redis,
// each with its own DATA_DIR, as real server processes behind an imaginary load balancer: whatever
// one replica records, the other serves. Needs Redis at 127.0.0.1:6379 (.ci/run starts it).
import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { exportPKCS8, generateKeyPair } from 'jose';
import ExcelJS from 'exceljs';
import { Redis } from 'ioredis';
import { freshDatabase } from './helpers/db.js';
import { PASSWORD } from './helpers/app.js';
import { startS3 } from './helpers/s3.js';
import { startServer } from './helpers/server.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

async function workbook(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Security');
  ws.addRow(['ID', 'Question', 'Answer']);
  ws.addRow(['R-1', 'Do you enforce multi-factor authentication for administrators?', '']);
  ws.addRow(['R-2', 'Is customer data encrypted in transit?', '']);
  ws.addRow(['R-3', 'Do you review user access rights at least once a year?', '']);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

function form(fields: Record<string, string>, file: { name: string; bytes: Buffer; type: string }): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  f.append('file', new Blob([file.bytes], { type: file.type }), file.name);
  return f;
}

/** A Redis key prefix of this test's own, its counters removed when the test ends. */
async function redisPrefix(t: Test): Promise<string> {
  const prefix = `replicas-${randomBytes(6).toString('hex')}:`;
  const redis = new Redis(REDIS_URL);
  t.teardown(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  return prefix;
}

/**
 * What rests on keys derived from the instance's secret rather than on the database alone: a list
 * cursor signed by A is accepted by B, and an idempotent first answer sealed by A (an API key's
 * secret) is unsealed and replayed by B, byte for byte.
 */
async function derivedSecretsAgree(t: Test, A: string, B: string, auth: Record<string, string>): Promise<void> {
  const json = { ...auth, 'content-type': 'application/json' };
  const page = await fetch(`${A}/api/v1/frameworks/iso27001-2022/controls?limit=2`, { headers: auth });
  const { items: first, nextCursor } = (await page.json()) as { items: Array<{ ref: string }>; nextCursor: string };
  t.ok(nextCursor, 'A hands out a cursor');
  const next = await fetch(`${B}/api/v1/frameworks/iso27001-2022/controls?limit=2&cursor=${encodeURIComponent(nextCursor)}`, { headers: auth });
  t.equal(next.status, 200, "B accepts A's cursor");
  const second = ((await next.json()) as { items: Array<{ ref: string }> }).items;
  t.equal(second.length, 2, 'and pages on');
  t.notOk(
    second.some((c) => first.some((f) => f.ref === c.ref)),
    'from where A stopped',
  );

  const body = JSON.stringify({ name: 'replica-key', role: 'viewer' });
  const created = await fetch(`${A}/api/v1/api-keys`, { method: 'POST', headers: { ...json, 'idempotency-key': 'replica-1' }, body });
  t.equal(created.status, 201, 'an API key created on A');
  const firstAnswer = await created.text();
  const replay = await fetch(`${B}/api/v1/api-keys`, { method: 'POST', headers: { ...json, 'idempotency-key': 'replica-1' }, body });
  t.equal(replay.headers.get('idempotent-replayed'), 'true', 'the retry on B is a replay');
  t.equal(replay.status, 201);
  t.equal(await replay.text(), firstAnswer, "B unseals A's stored answer, secret included");
}

/**
 * Two real server processes on one fresh database, s3rver and Redis (a prefix of their own), each
 * with its own DATA_DIR, started together: both migrate, and both look for the instance's keys, at once.
 */
async function replicaPair(t: Test, env: Record<string, string>) {
  const db = await freshDatabase();
  await db.database.close();
  t.teardown(() => db.drop());
  if (!db.url) throw new Error('replicas need a PostgreSQL server: run under npm test (DATABASE_URL or the embedded server)');
  const s3 = await startS3(t);
  const common: Record<string, string> = {
    DATABASE_URL: db.url,
    HOST: '127.0.0.1',
    PORT: '0',
    // Both replicas stand behind one address: tokens name it as their issuer.
    PUBLIC_URL: 'http://trust.replicas.test',
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    ...s3.env,
    REDIS_URL,
    REDIS_KEY_PREFIX: await redisPrefix(t),
    ...env,
  };
  const disks = t.testdir({ a: {}, b: {} });
  const [a, b] = await Promise.all([startServer(t, { ...common, DATA_DIR: `${disks}/a` }), startServer(t, { ...common, DATA_DIR: `${disks}/b` })]);
  return { A: `http://127.0.0.1:${a.port}`, B: `http://127.0.0.1:${b.port}`, output: () => a.output() + b.output() };
}

t.test('two replicas with separate disks serve each other’s tokens, files, questionnaires, fills and limits', async (t) => {
  const { A, B } = await replicaPair(t, {
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    RATE_LIMIT_AUTH_PER_MINUTE: '6',
    JOB_LEASE_SECONDS: '5',
  });

  const [jwksA, jwksB] = await Promise.all([
    fetch(`${A}/.well-known/jwks.json`).then((r) => r.json()),
    fetch(`${B}/.well-known/jwks.json`).then((r) => r.json()),
  ]);
  t.same(jwksA, jwksB, 'one JWKS');
  t.ok((jwksA as { keys: unknown[] }).keys.length >= 1, 'with a key in it');

  const signup = await fetch(`${A}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ organization: { name: 'Replicated', slug: 'replicated' }, user: { email: 'owner@replicated.example.com', password: PASSWORD } }),
  });
  t.equal(signup.status, 201, 'signed up on A');
  const auth = { authorization: `Bearer ${((await signup.json()) as { accessToken: string }).accessToken}` };

  const me = await fetch(`${B}/api/v1/me`, { headers: auth });
  t.equal(me.status, 200, 'a token from A works on B');
  await derivedSecretsAgree(t, A, B, auth);

  const evidenceBytes = randomBytes(300 * 1024);
  const upload = await fetch(`${A}/api/v1/evidence`, {
    method: 'POST',
    headers: auth,
    body: form({ title: 'Backup restore test' }, { name: 'restore.bin', bytes: evidenceBytes, type: 'application/octet-stream' }),
  });
  t.equal(upload.status, 201, 'evidence uploaded on A');
  const evidenceId = ((await upload.json()) as { id: string }).id;
  const download = await fetch(`${B}/api/v1/evidence/${evidenceId}/download`, { headers: auth });
  t.equal(download.status, 200, 'downloaded on B');
  t.ok(Buffer.from(await download.arrayBuffer()).equals(evidenceBytes), 'byte-identical');

  const imported = await fetch(`${A}/api/v1/questionnaires`, {
    method: 'POST',
    headers: auth,
    body: form({ name: 'Buyer workbook' }, { name: 'buyer.xlsx', bytes: await workbook(), type: XLSX }),
  });
  t.equal(imported.status, 201, 'questionnaire imported on A');
  const qid = ((await imported.json()) as { id: string }).id;

  const fill = await fetch(`${A}/api/v1/questionnaires/${qid}/fill`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
  t.equal(fill.status, 202, 'fill started on A');
  let status = '';
  for (let i = 0; i < 240 && status !== 'filled' && status !== 'failed'; i++) {
    const q = await fetch(`${B}/api/v1/questionnaires/${qid}`, { headers: auth });
    status = ((await q.json()) as { status: string }).status;
    if (status !== 'filled') await new Promise((r) => setTimeout(r, 250));
  }
  t.equal(status, 'filled', 'the fill is read as finished on B');

  const exported = await fetch(`${B}/api/v1/questionnaires/${qid}/export?format=xlsx`, { headers: auth });
  t.equal(exported.status, 200, 'exported from B');
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(await exported.arrayBuffer()) as unknown as ArrayBuffer);
  t.equal(wb.getWorksheet('Security')?.getCell('B3').value, 'Is customer data encrypted in transit?', "B wrote into the buyer's workbook stored by A");

  // Login attempts spread over both replicas draw on one budget: the remaining count falls by one
  // per attempt whichever replica takes it, and the limit is reached with neither replica having seen it all.
  const remaining: number[] = [];
  const codes: number[] = [];
  for (const base of [B, A, B, A, B, A, B, A]) {
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'owner@replicated.example.com', password: 'Not-The-Password-1' }),
    });
    codes.push(res.status);
    remaining.push(Number(res.headers.get('x-ratelimit-remaining')));
    if (res.status === 429) break;
  }
  t.equal(codes.at(-1), 429, `refused once the shared budget is spent (${codes.join(', ')})`);
  t.ok(codes.length <= 6, `before either replica alone saw the limit of 6 (each took at most ${Math.ceil(codes.length / 2)})`);
  const before = remaining.slice(0, -1);
  t.ok(
    before.every((r, i) => i === 0 || r === before[i - 1]! - 1),
    `the remaining count falls by one per attempt across replicas (${remaining.join(', ')})`,
  );
});

// The other way to share keys: one JWT_PRIVATE_KEY for all replicas (as an outside deployment may
// set it, with escaped newlines), no KEY_ENCRYPTION_KEY. Everything derived from it must agree too.
t.test('two replicas with one JWT_PRIVATE_KEY and separate disks agree on tokens, cursors, replays and files', async (t) => {
  const pem = await exportPKCS8((await generateKeyPair('ES256', { extractable: true })).privateKey);
  const { A, B, output } = await replicaPair(t, { JWT_PRIVATE_KEY: pem.trim().replace(/\n/g, '\\n') });
  t.notMatch(output(), /signing keys are kept/, 'no warning about keys on disk');

  const [jwksA, jwksB] = await Promise.all([
    fetch(`${A}/.well-known/jwks.json`).then((r) => r.json() as Promise<{ keys: Array<{ kid: string }> }>),
    fetch(`${B}/.well-known/jwks.json`).then((r) => r.json() as Promise<{ keys: Array<{ kid: string }> }>),
  ]);
  t.same(jwksA, jwksB, 'one JWKS');
  t.match(
    jwksA.keys.map((k) => k.kid),
    [/^cfg-/],
    'the configured key',
  );

  const signup = await fetch(`${B}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ organization: { name: 'Keyed', slug: 'keyed' }, user: { email: 'owner@keyed.example.com', password: PASSWORD } }),
  });
  t.equal(signup.status, 201, 'signed up on B');
  const auth = { authorization: `Bearer ${((await signup.json()) as { accessToken: string }).accessToken}` };
  t.equal((await fetch(`${A}/api/v1/me`, { headers: auth })).status, 200, 'a token from B works on A');
  await derivedSecretsAgree(t, A, B, auth);

  const bytes = randomBytes(64 * 1024);
  const upload = await fetch(`${B}/api/v1/evidence`, {
    method: 'POST',
    headers: auth,
    body: form({ title: 'Key ceremony record' }, { name: 'ceremony.bin', bytes, type: 'application/octet-stream' }),
  });
  t.equal(upload.status, 201, 'evidence uploaded on B');
  const download = await fetch(`${A}/api/v1/evidence/${((await upload.json()) as { id: string }).id}/download`, { headers: auth });
  t.ok(Buffer.from(await download.arrayBuffer()).equals(bytes), 'downloaded from A byte-identical');
});
