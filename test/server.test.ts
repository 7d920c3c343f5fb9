import t, { type Test } from 'tap';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { freshDatabase } from './helpers/db.js';

const TSX = ['--import', 'tsx', 'src/server.ts'];

/** Starts the real server process; resolves with its port once it prints the listening line. */
async function startServer(t: Test, env: Record<string, string>): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, TSX, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 90_000);
    child.stdout!.on('data', () => {
      const m = /listening on [^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  return { child, port, output: () => out };
}

const exitOf = (child: ChildProcess) => new Promise<number | null>((resolve) => {
  if (child.exitCode !== null) resolve(child.exitCode);
  else child.on('exit', (code) => resolve(code));
});

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
