import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { PASSWORD, manualClock, memberWithRole, signup, testApp } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

function blobFiles(dataDir: string): string[] {
  const root = path.join(dataDir, 'blobs', 'sha256');
  if (!fs.existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(path.join(d, e.name)) : out.push(e.name);
  };
  walk(root);
  return out.sort();
}

t.test('evidence', async (t) => {
  const time = manualClock(new Date('2026-06-01T00:00:00Z'));
  const dataDir = t.testdir({});
  const app = await testApp(t, { clock: time.clock, config: { dataDir, limits: { uploadBytes: 64 * 1024 } } });
  const a = await signup(app);
  const b = await signup(app);
  const upload = (fields: Record<string, string | string[]>, content: string | Buffer | null, who = a, url = '/api/v1/evidence') => {
    const body = multipart(fields, content === null ? [] : [{ filename: 'raci.csv', content, contentType: 'text/csv' }]);
    return app.inject({ method: 'POST', url, headers: { ...who.auth, ...body.headers }, payload: body.payload });
  };

  const created = await upload(
    { title: 'Shared responsibility RACI', controls: ['CLD.6.3.1', 'a.5.2'], expiresAt: '2026-12-31', visibility: 'public' },
    'activity,provider,customer\nbackup,R,I\n',
  );
  t.equal(created.statusCode, 201, created.body);
  const ev = created.json();
  t.match(ev, { title: 'Shared responsibility RACI', kind: 'file', currentVersion: 1, status: 'valid', visibility: 'public' });
  t.same(ev.controls, [
    { framework: 'iso27001-2022', ref: 'A.5.2' },
    { framework: 'iso27017-2015', ref: 'CLD.6.3.1' },
  ]);
  t.equal(ev.versions[0].sha256, sha('activity,provider,customer\nbackup,R,I\n'), 'content-addressed by SHA-256');
  t.same(blobFiles(dataDir), [ev.versions[0].sha256]);

  t.test('download with integrity check', async (t) => {
    const r = await app.inject({ method: 'GET', url: `/api/v1/evidence/${ev.id}/download`, headers: a.auth });
    t.equal(r.statusCode, 200);
    t.equal(r.body, 'activity,provider,customer\nbackup,R,I\n');
    t.equal(r.headers['repr-digest'], `sha-256=:${Buffer.from(ev.versions[0].sha256, 'hex').toString('base64')}:`);
    t.match(r.headers['content-disposition'], /raci\.csv/);
  });

  t.test('versions', async (t) => {
    const v2 = await upload({ expiresAt: '2027-06-30' }, 'activity,provider,customer\nbackup,R,I\nkeys,S,S\n', a, `/api/v1/evidence/${ev.id}/versions`);
    t.equal(v2.statusCode, 201, v2.body);
    t.equal(v2.json().currentVersion, 2);
    t.equal(v2.json().expiresAt, '2027-06-30T00:00:00.000Z');
    const old = await app.inject({ method: 'GET', url: `/api/v1/evidence/${ev.id}/download?version=1`, headers: a.auth });
    t.equal(old.body, 'activity,provider,customer\nbackup,R,I\n', 'old versions stay downloadable');
    const missing = await app.inject({ method: 'GET', url: `/api/v1/evidence/${ev.id}/download?version=9`, headers: a.auth });
    t.equal(missing.statusCode, 404);
    // A url sent beside the file is refused, not stored as if it were the evidence.
    const blobsBefore = blobFiles(dataDir);
    const both = await upload(
      { url: 'https://elsewhere.example.com/raci' },
      'activity,provider,customer\nbackup,R,R\n',
      a,
      `/api/v1/evidence/${ev.id}/versions`,
    );
    t.equal(both.statusCode, 400, both.body);
    t.match(both.json(), { code: 'validation_failed', errors: [{ field: 'body/url', message: /takes a file, not a url/ }] });
    const after = (await app.inject({ method: 'GET', url: `/api/v1/evidence/${ev.id}`, headers: a.auth })).json();
    t.equal(after.currentVersion, 2, 'no version was added');
    t.ok(
      after.versions.every((v: { url: string | null }) => v.url === null),
      'no version carries a url',
    );
    t.same(blobFiles(dataDir), blobsBefore, 'the refused file was not kept');
  });

  t.test('tampered storage is detected, never served', async (t) => {
    const v = (await app.inject({ method: 'GET', url: `/api/v1/evidence/${ev.id}`, headers: a.auth })).json().versions[0];
    const file = path.join(dataDir, 'blobs', 'sha256', v.sha256.slice(0, 2), v.sha256.slice(2, 4), v.sha256);
    const original = fs.readFileSync(file);
    fs.writeFileSync(file, 'tampered');
    const r = await app.inject({ method: 'GET', url: `/api/v1/evidence/${ev.id}/download`, headers: a.auth });
    t.equal(r.statusCode, 500);
    t.equal(r.json().code, 'integrity_failed');
    t.notMatch(r.body, /tampered/);
    fs.writeFileSync(file, original);
  });

  t.test('link evidence by JSON', async (t) => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/evidence',
      headers: a.auth,
      payload: { title: 'JIT admin access dashboard', url: 'https://grafana.example.com/d/jit', controls: ['CLD.12.1.5'], expiresAt: '2026-06-20' },
    });
    t.equal(r.statusCode, 201, r.body);
    t.equal(r.json().kind, 'link');
    t.equal(r.json().status, 'expiring', 'expires within 30 days');
    const dl = await app.inject({ method: 'GET', url: `/api/v1/evidence/${r.json().id}/download`, headers: a.auth });
    t.equal(dl.statusCode, 409);
    const creds = await app.inject({ method: 'POST', url: '/api/v1/evidence', headers: a.auth, payload: { title: 'x', url: 'https://user:pw@example.com/' } });
    t.equal(creds.statusCode, 400);
  });

  t.test('refused uploads leave no row and no blob', async (t) => {
    const before = blobFiles(dataDir);
    const badControl = await upload({ title: 'Orphan?', controls: 'A.9.99' }, 'unique content 1');
    t.equal(badControl.statusCode, 400);
    t.match(badControl.json().errors, [{ field: 'body/controls' }]);
    const noTitle = await upload({}, 'unique content 2');
    t.equal(noTitle.statusCode, 400);
    const badDate = await upload({ title: 'x', expiresAt: 'next tuesday' }, 'unique content 3');
    t.equal(badDate.statusCode, 400);
    const tooBig = await upload({ title: 'big' }, Buffer.alloc(65 * 1024, 1));
    t.equal(tooBig.statusCode, 413);
    t.equal(tooBig.json().code, 'payload_too_large');
    const twoFiles = multipart({ title: 'two' }, [
      { filename: 'a.txt', content: 'a' },
      { filename: 'b.txt', content: 'b' },
    ]);
    const two = await app.inject({ method: 'POST', url: '/api/v1/evidence', headers: { ...a.auth, ...twoFiles.headers }, payload: twoFiles.payload });
    t.equal(two.statusCode, 413);
    t.same(blobFiles(dataDir), before, 'no blob left behind');
    const list = await app.inject({ method: 'GET', url: '/api/v1/evidence', headers: a.auth });
    t.equal(list.json().items.length, 2, 'no row left behind');
  });

  t.test('same content in two tenants is stored once and deleted only when unused', async (t) => {
    const mine = await upload({ title: 'Policy' }, 'shared policy text');
    const theirs = await upload({ title: 'Policy' }, 'shared policy text', b);
    t.equal(mine.json().versions[0].sha256, theirs.json().versions[0].sha256);
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/evidence/${mine.json().id}`, headers: a.auth })).statusCode, 204);
    t.ok(blobFiles(dataDir).includes(sha('shared policy text')), 'still used by tenant B');
    const dl = await app.inject({ method: 'GET', url: `/api/v1/evidence/${theirs.json().id}/download`, headers: b.auth });
    t.equal(dl.body, 'shared policy text');
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/evidence/${theirs.json().id}`, headers: b.auth })).statusCode, 204);
    t.notOk(blobFiles(dataDir).includes(sha('shared policy text')), 'removed with its last user');
  });

  t.test('expiry: lists and statuses follow the clock', async (t) => {
    const soon = await app.inject({ method: 'GET', url: '/api/v1/evidence?expiringWithinDays=30', headers: a.auth });
    t.equal(soon.statusCode, 200, soon.body);
    t.same(
      soon.json().items.map((e: { title: string }) => e.title),
      ['JIT admin access dashboard'],
    );
    time.set(new Date('2026-07-01T00:00:00Z'));
    // A month later the access tokens have expired: log in again.
    for (const who of [a, b]) {
      const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: who.email, password: PASSWORD } });
      who.auth.authorization = `Bearer ${login.json().accessToken}`;
    }
    const expired = await app.inject({ method: 'GET', url: '/api/v1/evidence?status=expired', headers: a.auth });
    t.same(
      expired.json().items.map((e: { title: string }) => e.title),
      ['JIT admin access dashboard'],
    );
    const byControl = await app.inject({ method: 'GET', url: '/api/v1/evidence?control=CLD.6.3.1', headers: a.auth });
    t.same(
      byControl.json().items.map((e: { title: string }) => e.title),
      ['Shared responsibility RACI'],
    );
  });

  t.test('update', async (t) => {
    const r = await app.inject({ method: 'PATCH', url: `/api/v1/evidence/${ev.id}`, headers: a.auth, payload: { title: 'RACI v3', controls: ['CLD.6.3.1'] } });
    t.equal(r.statusCode, 200);
    t.equal(r.json().title, 'RACI v3');
    t.equal(r.json().controls.length, 1);
    const bad = await app.inject({ method: 'PATCH', url: `/api/v1/evidence/${ev.id}`, headers: a.auth, payload: { validFrom: '2028-01-01' } });
    t.equal(bad.statusCode, 400, 'validFrom after expiresAt');
  });

  t.test('tenancy, roles and auth', async (t) => {
    for (const url of [`/api/v1/evidence/${ev.id}`, `/api/v1/evidence/${ev.id}/download`]) {
      t.equal((await app.inject({ method: 'GET', url, headers: b.auth })).statusCode, 404, `B: ${url}`);
    }
    t.equal((await app.inject({ method: 'PATCH', url: `/api/v1/evidence/${ev.id}`, headers: b.auth, payload: { title: 'x' } })).statusCode, 404);
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/evidence/${ev.id}`, headers: b.auth })).statusCode, 404);
    t.notOk((await app.inject({ method: 'GET', url: '/api/v1/evidence', headers: b.auth })).json().items.some((e: { id: string }) => e.id === ev.id));
    const viewer = await memberWithRole(app, a, 'viewer');
    t.equal((await upload({ title: 'x' }, 'viewer content', viewer)).statusCode, 403);
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/evidence/${ev.id}/download`, headers: viewer.auth })).statusCode, 200);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/evidence' })).statusCode, 401);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/evidence/not-a-uuid', headers: a.auth })).statusCode, 400);
    t.equal(
      (await app.inject({ method: 'POST', url: '/api/v1/evidence', headers: { ...a.auth, 'content-type': 'text/plain' }, payload: 'hi' })).statusCode,
      415,
    );
  });
});
