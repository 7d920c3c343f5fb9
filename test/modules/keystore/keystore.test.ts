import fs from 'node:fs';
import path from 'node:path';
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import t, { type Test } from 'tap';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { exportPKCS8, generateKeyPair, type JWK } from 'jose';
import { buildApp, type App, type BuildAppOptions } from '../../../src/app.js';
import { defaultConfig, type Config } from '../../../src/config.js';
import { openDatabase, type Database } from '../../../src/db/client.js';
import type { Clock } from '../../../src/lib/clock.js';
import { KeyStore } from '../../../src/modules/keystore/store.js';
import { keysCommand } from '../../../scripts/keys.js';
import { manualClock, signup, type Tenant } from '../../helpers/app.js';
import { adminUrl, freshDatabase, PGLITE_DUMP } from '../../helpers/db.js';
import { prospectGrant } from '../../helpers/trust.js';

const newKek = () => createSecretKey(randomBytes(32));
const kidOf = (jwt: string): string => JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString()).kid;

interface Boot {
  kek?: KeyObject;
  pem?: string;
  clock?: Clock;
  options?: Partial<BuildAppOptions>;
}

/**
 * One database shared by several apps (replicas), each with a DATA_DIR of its own. On PGlite the
 * apps share the one in-process instance. Apps close first, then the database goes.
 */
async function replicas(t: Test) {
  let openOne: () => Promise<Database>;
  let drop: () => Promise<void>;
  if (adminUrl()) {
    const fresh = await freshDatabase();
    await fresh.database.close();
    openOne = () => openDatabase({ url: fresh.url!, poolMax: 3 });
    drop = fresh.drop;
  } else {
    const pglite = new PGlite({ loadDataDir: new Blob([fs.readFileSync(PGLITE_DUMP)]) });
    openOne = async () => ({ ...(await openDatabase({ pglite })), close: async () => {} });
    drop = () => pglite.close();
  }
  const root = t.testdir({});
  const apps: App[] = [];
  const handles: Database[] = [];
  t.teardown(async () => {
    for (const app of apps.reverse()) await app.close();
    for (const h of handles) await h.close();
    await drop();
  });
  let n = 0;
  const configFor = (b: Boot): Config =>
    defaultConfig({
      dataDir: path.join(root, `replica-${++n}`),
      seedDemo: false,
      pressure: { maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0, retryAfterSeconds: 10 },
      auth: { keyEncryptionKey: b.kek, signingKeyPem: b.pem },
    });
  return {
    /** A handle of its own on the shared database (closed at the end). */
    open: async () => {
      const d = await openOne();
      handles.push(d);
      return d;
    },
    config: configFor,
    /** buildApp closes its database when the boot fails, as it does for the server. */
    boot: async (b: Boot = {}) => {
      const app = await buildApp({ config: configFor(b), database: await openOne(), logger: false, clock: b.clock, ...b.options, jobs: { pool: undefined } });
      apps.push(app);
      return app;
    },
  };
}

const me = (app: App, token: string) => app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });
const jwks = async (app: App) => (await app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: JWK[] };
const login = async (app: App, who: Tenant) =>
  (await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: who.email, password: 'Correct-Horse-Battery-9' } })).json()
    .accessToken as string;

async function rows(database: Database) {
  const r = (await database.db.execute(
    sql`select kid, purpose, retired_at, iv, auth_tag, ciphertext from instance_keys order by created_at, kid`,
  )) as unknown as {
    rows: Array<{ kid: string; purpose: string; retired_at: string | null; iv: string; auth_tag: string; ciphertext: string }>;
  };
  return r.rows;
}

async function run(args: string[], config: Config, database: Database) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await keysCommand(args, { config, database, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

t.test('replicas sharing only the database agree on every key', async (t) => {
  const kek = newKek();
  const time = manualClock();
  const cluster = await replicas(t);
  // A re-reads its keys every 50 ms; B keeps the default minute, so only an unknown kid makes it reload.
  const a = await cluster.boot({ kek, clock: time.clock, options: { keyRefreshIntervalMs: 50 } });
  const b = await cluster.boot({ kek, clock: time.clock });
  const database = await cluster.open();

  const first = await jwks(a);
  t.equal(first.keys.length, 1, 'one signing key, created by the first replica');
  t.same(await jwks(b), first, 'the second replica serves the same JWKS');

  const owner = await signup(a);
  t.equal((await me(b, owner.token)).statusCode, 200, 'a token signed by A verifies on B');
  const fileKeys = await cluster.boot({ clock: time.clock });
  t.equal((await me(fileKeys, owner.token)).statusCode, 401, 'an app on the same database with keys in its DATA_DIR does not know them');

  await t.test('a list cursor from A pages on B', async (t) => {
    for (const name of ['one', 'two', 'three']) {
      const r = await a.inject({ method: 'POST', url: '/api/v1/api-keys', headers: owner.auth, payload: { name, role: 'viewer' } });
      t.equal(r.statusCode, 201);
    }
    const page1 = (await a.inject({ method: 'GET', url: '/api/v1/api-keys?limit=2', headers: owner.auth })).json();
    t.type(page1.nextCursor, 'string');
    const page2 = await b.inject({ method: 'GET', url: `/api/v1/api-keys?limit=2&cursor=${page1.nextCursor}`, headers: owner.auth });
    t.equal(page2.statusCode, 200, page2.body);
    t.equal(page2.json().items.length, 1, 'the rest of the list');
    t.notOk(
      page1.items.some((k: { id: string }) => k.id === page2.json().items[0].id),
      'a page after the first',
    );
  });

  await t.test('a stored first answer sealed by A replays on B', async (t) => {
    const post = (app: App) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: { ...owner.auth, 'idempotency-key': 'replica-1' },
        payload: { name: 'crm', role: 'viewer' },
      });
    const one = await post(a);
    t.equal(one.statusCode, 201);
    const two = await post(b);
    t.equal(two.statusCode, 201, two.body);
    t.equal(two.headers['idempotent-replayed'], 'true');
    t.equal(two.json().key, one.json().key, 'the secret shown once, unsealed on the other replica');
  });

  await t.test('a grant link signed by A opens on B', async (t) => {
    const { base } = await prospectGrant(a, owner);
    t.equal((await a.inject({ method: 'GET', url: base })).statusCode, 200);
    t.equal((await b.inject({ method: 'GET', url: base })).statusCode, 200, 'B verifies the grant token');
    t.equal((await fileKeys.inject({ method: 'GET', url: base })).statusCode, 401, 'a replica with other keys refuses it');
  });

  await t.test('the rows hold no key in the clear', async (t) => {
    const store = await KeyStore.open(database.db, kek);
    const [signing] = await store.active('access_token');
    const d = (JSON.parse(signing!.material) as JWK).d!;
    const rootBody = (await store.rootPem()).split('\n').slice(1, 3).join('');
    t.ok(d.length > 20 && rootBody.length > 20, 'the plain material, to look for');
    const stored = await rows(database);
    t.same(
      stored.map((r) => r.purpose),
      ['root', 'access_token'],
    );
    for (const r of stored) {
      const all = [r.iv, r.auth_tag, r.ciphertext, Buffer.from(r.ciphertext, 'base64').toString('latin1')].join('\n');
      t.notOk(all.includes(d), `${r.purpose}: not the JWK's d`);
      t.notOk(all.includes(rootBody.slice(0, 32)), `${r.purpose}: not the root PEM`);
      t.equal(Buffer.from(r.iv, 'base64').length, 12, 'a 12-byte IV');
      t.equal(Buffer.from(r.auth_tag, 'base64').length, 16, 'the GCM tag');
    }
  });

  const oldToken = owner.token;
  const oldKid = kidOf(oldToken);
  let newToken = '';
  await t.test('rotating through the command: new tokens use the new key, and B verifies them after a reload', async (t) => {
    const config = cluster.config({ kek });
    const rotated = await run(['rotate'], config, database);
    t.equal(rotated.code, 0, rotated.err);
    const newKid = /new signing key (\S+):/.exec(rotated.out)?.[1];
    t.ok(newKid, rotated.out);

    // A's refresh timer picks the new key up.
    for (let i = 0; i < 100 && (await jwks(a)).keys.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    t.equal((await jwks(a)).keys.length, 2, 'A reloaded on its own');
    newToken = await login(a, owner);
    t.equal(kidOf(newToken), newKid, 'A signs with the newest key');
    t.equal((await me(a, oldToken)).statusCode, 200, 'tokens of the older key stay valid');

    t.equal((await jwks(b)).keys.length, 1, 'B has not reloaded yet');
    t.equal((await me(b, newToken)).statusCode, 401, 'an unknown kid within 5 s of the last reload: no reload, refused');
    time.advance(6_000);
    t.equal((await me(b, newToken)).statusCode, 200, 'an unknown kid later: B reloads and verifies it');
    t.same(await jwks(b), await jwks(a), 'the replicas agree on the JWKS again');
    t.equal((await me(b, oldToken)).statusCode, 200);
  });

  await t.test('retiring a key through the command ends its tokens', async (t) => {
    const config = cluster.config({ kek });
    const rootKid = (await rows(database)).find((r) => r.purpose === 'root')!.kid;
    const root = await run(['retire', rootKid], config, database);
    t.equal(root.code, 1);
    t.match(root.err, /root secret cannot be retired/);

    const retired = await run(['retire', oldKid], config, database);
    t.equal(retired.code, 0, retired.err);
    t.match(retired.out, new RegExp(`retired ${oldKid}`));
    t.equal((await me(b, oldToken)).statusCode, 200, 'until B reloads, it still knows the key');
    await b.keys.reload();
    t.equal((await me(b, oldToken)).statusCode, 401, "a retired key's token is refused");
    t.equal((await me(b, newToken)).statusCode, 200, 'the newer key still verifies');
    for (let i = 0; i < 100 && (await jwks(a)).keys.length > 1; i++) await new Promise((r) => setTimeout(r, 20));
    t.equal((await me(a, oldToken)).statusCode, 401, 'A dropped it on its next refresh');
    t.same(await jwks(a), await jwks(b));
    t.same(
      (await jwks(a)).keys.map((k) => k.kid),
      [kidOf(newToken)],
    );

    const last = await run(['retire', kidOf(newToken)], config, database);
    t.equal(last.code, 1);
    t.match(last.err, /only signing key: rotate first/);
    const again = await run(['retire', oldKid], config, database);
    t.match(again, { code: 1, err: /already retired/ });
    t.match(await run(['retire', 'no-such-kid'], config, database), { code: 1, err: /no key with kid no-such-kid/ });
  });

  await t.test('list names every key and prints no material', async (t) => {
    const listed = await run(['list'], cluster.config({ kek }), database);
    t.equal(listed.code, 0, listed.err);
    const lines = listed.out.split('\n');
    t.equal(lines[0], 'kid\tpurpose\tcreated\tretired');
    const stored = await rows(database);
    t.equal(lines.length, 1 + stored.length);
    for (const r of stored) {
      const line = lines.find((l) => l.startsWith(`${r.kid}\t`));
      t.match(line, new RegExp(`^${r.kid}\\t${r.purpose}\\t\\d{4}-\\d\\d-\\d\\dT[^\\t]+\\t${r.retired_at ? '\\d{4}-' : '-$'}`));
      t.notOk(listed.out.includes(r.ciphertext.slice(0, 16)), 'no ciphertext either');
    }
    const [signing] = await (await KeyStore.open(database.db, kek)).active('access_token');
    t.notOk(listed.out.includes((JSON.parse(signing!.material) as JWK).d!), 'no private key');
  });

  await t.test('a wrong KEY_ENCRYPTION_KEY stops the boot and makes no key', async (t) => {
    const before = await rows(database);
    await t.rejects(cluster.boot({ kek: newKek() }), /KEY_ENCRYPTION_KEY does not decrypt the (root|access_token) key \S+ stored in the database/);
    t.same(await rows(database), before, 'nothing written');
    const cmd = await run(['list'], cluster.config({ kek: newKek() }), database);
    t.match(cmd, { code: 1, err: /KEY_ENCRYPTION_KEY does not decrypt/ });
  });
});

t.test('replicas starting together end with the same keys', async (t) => {
  const kek = newKek();
  const cluster = await replicas(t);
  const [a, b] = await Promise.all([cluster.boot({ kek }), cluster.boot({ kek })]);
  const keys = await jwks(a);
  t.equal(keys.keys.length, 1, 'one signing key, not one each');
  t.same(await jwks(b), keys);
  const stored = await rows(await cluster.open());
  t.same(stored.map((r) => r.purpose).sort(), ['access_token', 'root'], 'one root secret and one signing key');
});

t.test('the key material is bound to its row', async (t) => {
  const kek = newKek();
  const cluster = await replicas(t);
  const database = await cluster.open();
  await KeyStore.open(database.db, kek);
  // The signing key's ciphertext under the root's kid: the associated data no longer matches.
  await database.db.execute(sql`
    update instance_keys r set iv = a.iv, auth_tag = a.auth_tag, ciphertext = a.ciphertext
    from instance_keys a where r.purpose = 'root' and a.purpose = 'access_token'`);
  await t.rejects(KeyStore.open(database.db, kek), /KEY_ENCRYPTION_KEY does not decrypt the root key/);
});

t.test('JWT_PRIVATE_KEY comes before KEY_ENCRYPTION_KEY', async (t) => {
  const cluster = await replicas(t);
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const pem = await exportPKCS8(privateKey);
  const app = await cluster.boot({ kek: newKek(), pem });
  t.match(
    (await jwks(app)).keys.map((k) => k.kid),
    [/^cfg-/],
    'the configured key signs',
  );
  const database = await cluster.open();
  t.same(await rows(database), [], 'no key is made in the database');
  const cmd = await run(['rotate'], cluster.config({ kek: newKek(), pem }), database);
  t.match(cmd, { code: 1, err: /JWT_PRIVATE_KEY is set/ });
});

t.test('the keys command refuses without KEY_ENCRYPTION_KEY, or with a wrong usage', async (t) => {
  const cluster = await replicas(t);
  const database = await cluster.open();
  t.match(await run(['list'], cluster.config({}), database), { code: 1, err: /KEY_ENCRYPTION_KEY is not set/ });
  const config = cluster.config({ kek: newKek() });
  for (const args of [[], ['rotate', 'extra'], ['retire'], ['delete', 'x']]) {
    t.match(await run(args, config, database), { code: 2, err: /usage: npm run keys -- rotate \| retire <kid> \| list/ }, args.join(' ') || '(none)');
  }
  t.same(await rows(database), [], 'nothing made');
});
