import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { freshDatabase } from './helpers/db.js';
import { exitOf, startServer, TSX } from './helpers/server.js';

t.test('invalid configuration: a clear message and exit code 1', async (t) => {
  const child = spawn(process.execPath, TSX, { env: { PATH: process.env.PATH ?? '', PORT: 'eighty', LOG_LEVEL: 'loud' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  t.equal(await exitOf(child), 1);
  t.match(err, /invalid configuration/);
  t.match(err, /PORT must be an integer/);
  t.match(err, /LOG_LEVEL must be one of/);
  t.notMatch(err, /at .*\.ts:\d+/, 'no stack trace');
});

t.test('graceful shutdown drains an in-flight request, then exits 0', async (t) => {
  const dataDir = t.testdir({});
  const env: Record<string, string> = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', SEED_DEMO: 'false' };
  const fresh = await freshDatabase();
  if (fresh.url) env.DATABASE_URL = fresh.url;
  await fresh.database.close();
  t.teardown(() => fresh.drop());

  const { child, port } = await startServer(t, env);
  const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
  t.equal(ready.status, 200);

  // Start a request and hold its body back, so it is in flight when the signal arrives.
  const body = JSON.stringify({ email: 'nobody@example.com', password: 'not-the-password-1' });
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  let response = '';
  socket.on('data', (d) => (response += d));
  socket.write(`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
  socket.write(body.slice(0, 10));
  await new Promise((r) => setTimeout(r, 200));

  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(child.exitCode, null, 'still running while a request is in flight');
  socket.write(body.slice(10));
  await new Promise((r) => socket.once('close', r));
  t.match(response, /^HTTP\/1\.1 401/, 'the in-flight request got its answer');
  t.equal(await exitOf(child), 0, 'clean exit');
});

t.test('without DATABASE_URL the server starts its embedded PostgreSQL, stops it on SIGTERM, and recovers after kill -9', async (t) => {
  // Outside the checkout and enterable by everyone: as root the database runs as the postgres user.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-server-'));
  fs.chmodSync(dataDir, 0o755);
  t.teardown(() => {
    // A failed assertion may leave a server behind: stop it before its directory goes.
    try {
      process.kill(Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGQUIT');
    } catch {
      /* none left, or already gone */
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const env = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', SEED_DEMO: 'true' };

  const first = await startServer(t, env);
  const ready = await (await fetch(`http://127.0.0.1:${first.port}/readyz`)).json();
  t.same(ready, { status: 'ready', database: 'embedded-postgres' });
  t.match(first.output(), /embedded PostgreSQL in /);
  t.equal(fs.statSync(path.join(dataDir, 'pg-password')).mode & 0o777, 0o600, 'the generated password is private');
  t.ok(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid')), 'the database runs');
  first.child.kill('SIGTERM');
  t.equal(await exitOf(first.child), 0, 'clean exit');
  t.notOk(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid')), 'the database stopped with the app');

  // A crash: the app's whole process group is killed, as an OOM killer or `kill -9 -PGID` would.
  const second = await startServer(t, env, { detached: true });
  const orphanPid = Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  process.kill(-second.child.pid!, 'SIGKILL');
  await exitOf(second.child);

  const third = await startServer(t, env);
  const demo = await fetch(`http://127.0.0.1:${third.port}/trust/demo`);
  t.equal(demo.status, 200, 'the next start came back by itself with the data');
  const nowPid = Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  t.not(nowPid, orphanPid, 'a new database server, not the killed one');
  third.child.kill('SIGTERM');
  t.equal(await exitOf(third.child), 0);
});

t.test('a fill cut off by SIGKILL finishes after a restart, each question answered once', async (t) => {
  const dataDir = t.testdir({});
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'true',
    JOB_LEASE_SECONDS: '3',
    BODY_LIMIT_BYTES: String(8 * 1024 * 1024),
  };
  const fresh = await freshDatabase();
  // On PostgreSQL a database of its own; without one, PGlite in DATA_DIR (opened by the test once the server is gone).
  if (fresh.url) env.DATABASE_URL = fresh.url;
  else env.EMBEDDED_DB = 'pglite';
  await fresh.database.close();
  t.teardown(() => fresh.drop());
  const total = 4000;
  const topics = [
    'encryption at rest',
    'access reviews',
    'backups',
    'incident response',
    'vulnerability scanning',
    'security training',
    'logging',
    'vendor risk',
  ];
  const texts = Array.from({ length: total }, (_, i) => `Question ${i + 1}: describe your controls for ${topics[i % topics.length]}.`);

  const first = await startServer(t, env);
  const base = `http://127.0.0.1:${first.port}`;
  const login = (await (
    await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'owner@demo.example.com', password: 'Demo-Password-2026!' }),
    })
  ).json()) as { accessToken: string };
  const auth = { authorization: `Bearer ${login.accessToken}` };
  const created = await fetch(`${base}/api/v1/questionnaires`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Crash', questions: texts.map((text) => ({ text })) }),
  });
  t.equal(created.status, 201);
  const id = ((await created.json()) as { id: string }).id;
  t.equal((await fetch(`${base}/api/v1/questionnaires/${id}/fill`, { method: 'POST', headers: auth })).status, 202);
  let done = 0;
  for (let i = 0; i < 2000 && done === 0; i++) {
    done = ((await (await fetch(`${base}/api/v1/questionnaires/${id}?limit=1`, { headers: auth })).json()) as { progress: { done: number } }).progress.done;
    if (done === 0) await new Promise((r) => setTimeout(r, 10));
  }
  first.child.kill('SIGKILL');
  await exitOf(first.child);
  t.ok(done > 0 && done < total, `killed mid-fill (${done} of ${total} answered)`);

  const second = await startServer(t, env);
  const again = `http://127.0.0.1:${second.port}`;
  const relogin = (await (
    await fetch(`${again}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'owner@demo.example.com', password: 'Demo-Password-2026!' }),
    })
  ).json()) as { accessToken: string };
  let summary: { status: string; progress: { done: number; total: number } } = { status: '', progress: { done: 0, total } };
  for (let i = 0; i < 600 && summary.status !== 'filled'; i++) {
    summary = (await (
      await fetch(`${again}/api/v1/questionnaires/${id}?limit=1`, { headers: { authorization: `Bearer ${relogin.accessToken}` } })
    ).json()) as typeof summary;
    if (summary.status !== 'filled') await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(summary.status, 'filled', 'the job was taken up again once its lease lapsed');
  t.same(summary.progress, { done: total, total });
  second.child.kill('SIGTERM');
  t.equal(await exitOf(second.child), 0);

  const { openDatabase } = await import('../src/db/client.js');
  const db = fresh.url ? await openDatabase({ url: fresh.url, poolMax: 1 }) : await openDatabase({ dataDir });
  t.teardown(() => db.close());
  const rows = (
    (await db.db.execute(sql`
    select q.status, q.filled_by_job, (select count(*)::int from events e where e.org_id = q.org_id and e.type = 'answer.needs_review' and e.data->>'questionId' = q.id::text) as notices
    from questionnaire_questions q where q.questionnaire_id = ${id}`)) as unknown as {
      rows: Array<{ status: string | null; filled_by_job: string | null; notices: number }>;
    }
  ).rows;
  t.equal(rows.length, total);
  t.ok(
    rows.every((r) => r.status !== null),
    'every question answered',
  );
  t.equal(new Set(rows.map((r) => r.filled_by_job)).size, 1, 'by the one job');
  t.ok(
    rows.every((r) => r.notices === (r.status === 'needs_review' ? 1 : 0)),
    'none answered twice: one review notice per answer sent to review, none for the others',
  );
  const [job] = (
    (await db.db.execute(sql`select status, attempts from jobs where subject_id = ${id}`)) as unknown as { rows: Array<{ status: string; attempts: number }> }
  ).rows;
  t.same(job, { status: 'done', attempts: 2 }, 'claimed twice: before the crash and after the restart');
});
