// Files are shared by SHA-256 across organizations: references decide when bytes may go.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import ExcelJS from 'exceljs';
import { eq, sql } from 'drizzle-orm';
import { buildApp, type App } from '../../../src/app.js';
import { defaultConfig } from '../../../src/config.js';
import { MIGRATIONS_DIR } from '../../../src/db/client.js';
import { blobLeases, blobRefs } from '../../../src/modules/blobs/tables.js';
import { signup, testApp, type Tenant } from '../../helpers/app.js';
import { freshDatabase } from '../../helpers/db.js';
import { multipart } from '../../helpers/multipart.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const blobPath = (dataDir: string, hash: string) => path.join(dataDir, 'blobs', 'sha256', hash.slice(0, 2), hash.slice(2, 4), hash);
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** A small vendor questionnaire workbook; `salt` makes its bytes unique to a test. */
async function workbook(salt: string): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Security');
  ws.addRow(['ID', 'Question', 'Answer', 'Comments']);
  ws.addRow(['SEC-1', 'Do you enforce multi-factor authentication for all employees?', '', '']);
  ws.addRow(['SEC-2', 'Is customer data encrypted at rest?', '', '']);
  ws.addRow(['SEC-3', 'Do you run an annual penetration test by an independent firm?', '', '']);
  ws.addRow(['SEC-4', `Do you keep an inventory of your information assets? (${salt})`, '', '']);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function importWorkbook(app: App, who: Tenant, bytes: Buffer) {
  const body = multipart({ name: 'Standard vendor template' }, [{ filename: 'template.xlsx', content: bytes, contentType: XLSX }]);
  const res = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: { ...who.auth, ...body.headers }, payload: body.payload });
  if (res.statusCode !== 201) throw new Error(`import failed: ${res.statusCode} ${res.body}`);
  return res.json().id as string;
}

async function uploadEvidence(app: App, who: Tenant, bytes: Buffer | string, fileName = 'evidence.bin') {
  const body = multipart({ title: 'Evidence' }, [{ filename: fileName, content: bytes }]);
  return app.inject({ method: 'POST', url: '/api/v1/evidence', headers: { ...who.auth, ...body.headers }, payload: body.payload });
}

async function uploadDocument(app: App, who: Tenant, bytes: Buffer | string) {
  const body = multipart({ title: 'Policy', visibility: 'private' }, [{ filename: 'policy.txt', content: bytes, contentType: 'text/plain' }]);
  return app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...who.auth, ...body.headers }, payload: body.payload });
}

/** The status, with the body as the message only when it is not the expected one. */
function status(t: Test, res: { statusCode: number; body: string }, want: number) {
  t.equal(res.statusCode, want, res.statusCode === want ? `status ${want}` : res.body.slice(0, 500));
}

const del = (app: App, who: Tenant, url: string) => app.inject({ method: 'DELETE', url, headers: who.auth });

/** Makes a file look as old as `ms` ago (the sweep's grace period is measured on file times). */
function age(file: string, ms: number) {
  const when = new Date(Date.now() - ms);
  fs.utimesSync(file, when, when);
}

t.test("one tenant cannot delete another tenant's file", async (t) => {
  const dataDir = t.testdir({});
  const app = await testApp(t, { config: { dataDir }, options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app, 'blob-a');
  const b = await signup(app, 'blob-b');

  t.test('a questionnaire workbook survives another tenant deleting the same bytes as evidence', async (t) => {
    const bytes = await workbook('cross-tenant');
    const q = await importWorkbook(app, a, bytes);
    const ev = await uploadEvidence(app, b, bytes, 'template.xlsx');
    status(t, ev, 201);
    t.equal(ev.json().versions[0].sha256, sha(bytes), 'the same bytes, stored once');
    t.equal((await del(app, b, `/api/v1/evidence/${ev.json().id}`)).statusCode, 204);
    t.ok(fs.existsSync(blobPath(dataDir, sha(bytes))), 'the file is still there');
    const exported = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${q}/export?format=xlsx`, headers: a.auth });
    status(t, exported, 200);
    t.equal(exported.headers['content-type'], XLSX);
  });

  t.test('a trust document survives another tenant deleting the same bytes as evidence, and the reverse', async (t) => {
    const bytes = `security policy ${randomBytes(8).toString('hex')}`;
    const doc = await uploadDocument(app, a, bytes);
    status(t, doc, 201);
    const ev = await uploadEvidence(app, b, bytes);
    status(t, ev, 201);
    t.equal((await del(app, b, `/api/v1/evidence/${ev.json().id}`)).statusCode, 204);
    const dl = await app.inject({ method: 'GET', url: `/api/v1/documents/${doc.json().id}/download`, headers: a.auth });
    status(t, dl, 200);
    t.equal(dl.body, bytes);

    // The other way round: B's document goes, A's evidence keeps the file.
    const mine = await uploadEvidence(app, a, bytes);
    status(t, mine, 201);
    const theirs = await uploadDocument(app, b, bytes);
    status(t, theirs, 201);
    t.equal((await del(app, a, `/api/v1/documents/${doc.json().id}`)).statusCode, 204);
    t.equal((await del(app, b, `/api/v1/documents/${theirs.json().id}`)).statusCode, 204);
    const ok = await app.inject({ method: 'GET', url: `/api/v1/evidence/${mine.json().id}/download`, headers: a.auth });
    status(t, ok, 200);
    t.equal(ok.body, bytes);

    // Once the last owner in any organization goes, GC removes the bytes.
    t.equal((await del(app, a, `/api/v1/evidence/${mine.json().id}`)).statusCode, 204);
    t.notOk(fs.existsSync(blobPath(dataDir, sha(bytes))), 'removed with its last reference');
  });

  t.test('deleting a questionnaire removes its source file, unless another owner still uses it', async (t) => {
    const bytes = await workbook('questionnaire-delete');
    const file = blobPath(dataDir, sha(bytes));
    const first = await importWorkbook(app, a, bytes);
    const second = await importWorkbook(app, b, bytes);
    t.ok(fs.existsSync(file));
    t.equal((await del(app, a, `/api/v1/questionnaires/${first}`)).statusCode, 204);
    t.ok(fs.existsSync(file), "B's questionnaire still uses it");
    const exported = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${second}/export?format=xlsx`, headers: b.auth });
    status(t, exported, 200);
    t.equal((await del(app, b, `/api/v1/questionnaires/${second}`)).statusCode, 204);
    t.notOk(fs.existsSync(file), 'the last questionnaire took its file with it');
    const refs = await app.database.db
      .select()
      .from(blobRefs)
      .where(eq(blobRefs.sha256, sha(bytes)));
    t.same(refs, [], 'no reference left');
    const leases = await app.database.db
      .select()
      .from(blobLeases)
      .where(eq(blobLeases.sha256, sha(bytes)));
    t.same(leases, [], 'no upload lease left');
  });

  t.test('references are written with their owners and carry the organization', async (t) => {
    const bytes = `refs ${randomBytes(8).toString('hex')}`;
    const ev = await uploadEvidence(app, a, bytes);
    const doc = await uploadDocument(app, b, bytes);
    const refs = await app.database.db
      .select({ orgId: blobRefs.orgId, ownerKind: blobRefs.ownerKind, ownerId: blobRefs.ownerId })
      .from(blobRefs)
      .where(eq(blobRefs.sha256, sha(bytes)))
      .orderBy(blobRefs.ownerKind);
    t.same(refs, [
      { orgId: b.orgId, ownerKind: 'document_version', ownerId: doc.json().id },
      { orgId: a.orgId, ownerKind: 'evidence_version', ownerId: ev.json().id },
    ]);
  });
});

t.test('a concurrent upload and delete of the same bytes never lose the file', async (t) => {
  const dataDir = t.testdir({});
  const app = await testApp(t, { config: { dataDir }, options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app, 'race-a');
  const b = await signup(app, 'race-b');
  let lost = 0;
  for (let i = 0; i < 40; i++) {
    const bytes = `race ${i} ${randomBytes(8).toString('hex')}`;
    const old = await uploadEvidence(app, a, bytes);
    status(t, old, 201);
    const [removed, added] = await Promise.all([del(app, a, `/api/v1/evidence/${old.json().id}`), uploadEvidence(app, b, bytes)]);
    t.equal(removed.statusCode, 204);
    status(t, added, 201);
    const dl = await app.inject({ method: 'GET', url: `/api/v1/evidence/${added.json().id}/download`, headers: b.auth });
    if (dl.statusCode !== 200 || dl.body !== bytes) lost++;
  }
  t.equal(lost, 0, 'every upload that won a reference still has its file');
});

t.test('GC under the per-hash lock keeps a file a lease or a ref protects', async (t) => {
  const dataDir = t.testdir({});
  const app = await testApp(t, { config: { dataDir }, options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const bytes = Buffer.from(`gc ${randomBytes(8).toString('hex')}`);
  const stored = await app.blobs.put(Readable.from([bytes]), 1024);
  t.ok(stored.lease, 'an upload holds a lease');
  await app.blobs.collect([stored.sha256]);
  t.ok(await app.blobs.exists(stored.sha256), 'a lease keeps the file');
  // The same bytes again: a second lease, released on its own.
  const again = await app.blobs.put(Readable.from([bytes]), 1024);
  t.equal(again.created, false);
  await app.blobs.discard(again);
  t.ok(await app.blobs.exists(stored.sha256), "the first upload's lease still keeps it");
  await app.blobs.discard(stored);
  t.notOk(await app.blobs.exists(stored.sha256), 'no lease, no ref: collected');
});

t.test('the startup sweep removes old temporary files and unreferenced blobs, keeps referenced and fresh ones', async (t) => {
  const dataDir = t.testdir({});
  const HOUR = 60 * 60 * 1000;
  const plant = (content: string, ms: number) => {
    const hash = sha(content);
    const file = blobPath(dataDir, hash);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    age(file, ms);
    return { hash, file };
  };
  const tmpDir = path.join(dataDir, 'blobs', 'tmp');
  fs.mkdirSync(tmpDir, { recursive: true });
  const oldTmp = path.join(tmpDir, 'crashed-upload');
  fs.writeFileSync(oldTmp, 'half an upload');
  age(oldTmp, 2 * HOUR);
  const freshTmp = path.join(tmpDir, 'in-flight-upload');
  fs.writeFileSync(freshTmp, 'an upload in progress');
  const oldOrphan = plant('left behind by a crash', 3 * HOUR);
  const freshOrphan = plant('just uploaded, owner row not yet written', 60 * 1000);

  const { database, drop } = await freshDatabase();
  const app = await buildApp({
    config: defaultConfig({ dataDir, seedDemo: false }),
    database,
    logger: false,
    jobs: { worker: false },
    webhooks: { worker: false },
  });
  t.teardown(async () => {
    await app.close();
    await drop();
  });
  await app.ready();
  t.match(await app.blobSweep, { temp: 1, orphans: 1 }, 'the sweep ran at startup');
  t.notOk(fs.existsSync(oldTmp), 'old temporary file removed');
  t.ok(fs.existsSync(freshTmp), 'fresh temporary file kept');
  t.notOk(fs.existsSync(oldOrphan.file), 'old unreferenced file removed');
  t.ok(fs.existsSync(freshOrphan.file), 'fresh unreferenced file kept (an upload may be in flight)');

  // A referenced file is kept however old; an expired lease (a crashed request) no longer protects.
  const a = await signup(app, 'sweep');
  const content = `kept ${randomBytes(8).toString('hex')}`;
  const ev = await uploadEvidence(app, a, content);
  status(t, ev, 201);
  age(blobPath(dataDir, sha(content)), 5 * HOUR);
  const leased = plant('leased by a request that crashed', 3 * HOUR);
  await app.database.db
    .insert(blobLeases)
    .values({ id: '0190b6c4-0000-7000-8000-000000000001', sha256: leased.hash, createdAt: new Date(Date.now() - 2 * HOUR) });
  const liveLease = plant('leased by a request still running', 3 * HOUR);
  await app.database.db.insert(blobLeases).values({ id: '0190b6c4-0000-7000-8000-000000000002', sha256: liveLease.hash });
  const result = await app.blobs.sweep();
  t.match(result, { leases: 1, orphans: 1 });
  t.ok(fs.existsSync(blobPath(dataDir, sha(content))), 'referenced file kept');
  t.notOk(fs.existsSync(leased.file), 'expired lease: removed');
  t.ok(fs.existsSync(liveLease.file), 'live lease: kept');
  const dl = await app.inject({ method: 'GET', url: `/api/v1/evidence/${ev.json().id}/download`, headers: a.auth });
  t.equal(dl.body, content);
});

t.test('the migration backfills references for files stored before it', async (t: Test) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app, 'backfill');
  const ev = await uploadEvidence(app, a, `backfill evidence ${randomBytes(4).toString('hex')}`);
  const doc = await uploadDocument(app, a, `backfill document ${randomBytes(4).toString('hex')}`);
  const q = await importWorkbook(app, a, await workbook('backfill'));
  const db = app.database.db;
  const before = await db.select().from(blobRefs).where(eq(blobRefs.orgId, a.orgId)).orderBy(blobRefs.ownerKind);
  t.equal(before.length, 3);
  // As a database from before the migration: no refs. Re-run the migration's backfill statements.
  await db.delete(blobRefs);
  const statements = fs
    .readFileSync(path.join(MIGRATIONS_DIR, '0011_blob_refs.sql'), 'utf8')
    .split('--> statement-breakpoint')
    .map((s) => s.trim())
    .filter((s) => /INSERT INTO "blob_refs"/.test(s));
  t.equal(statements.length, 4);
  for (const s of statements) await db.execute(sql.raw(s));
  const after = await db.select().from(blobRefs).where(eq(blobRefs.orgId, a.orgId)).orderBy(blobRefs.ownerKind);
  t.same(
    after.map((r) => [r.ownerKind, r.ownerId, r.sha256]),
    before.map((r) => [r.ownerKind, r.ownerId, r.sha256]),
  );
  t.same(after.map((r) => r.ownerId).sort(), [ev.json().id, doc.json().id, q].sort());
});
