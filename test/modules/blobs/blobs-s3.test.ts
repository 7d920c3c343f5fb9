// The blob rules of blobs.test.ts with BLOB_STORE=s3, against a real S3-compatible server (s3rver on
// 127.0.0.1): files live in the bucket, references decide deletion, the startup sweep collects there.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import ExcelJS from 'exceljs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { exportPKCS8, generateKeyPair } from 'jose';
import { buildApp, type App } from '../../../src/app.js';
import { defaultConfig, type S3Config } from '../../../src/config.js';
import { blobLeases } from '../../../src/modules/blobs/tables.js';
import { signup, testApp, type Tenant } from '../../helpers/app.js';
import { freshDatabase } from '../../helpers/db.js';
import { multipart } from '../../helpers/multipart.js';
import { startS3 } from '../../helpers/s3.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const HOUR = 60 * 60 * 1000;
const quiet = { jobs: { worker: false }, webhooks: { worker: false } };
const s3Store = (s3: S3Config) => ({ store: 's3' as const, s3 });

async function workbook(salt: string): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Security');
  ws.addRow(['ID', 'Question', 'Answer']);
  ws.addRow(['SEC-1', 'Do you enforce multi-factor authentication for all employees?', '']);
  ws.addRow(['SEC-2', `Is customer data encrypted at rest? (${salt})`, '']);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function importWorkbook(app: App, who: Tenant, bytes: Buffer) {
  const body = multipart({ name: 'Vendor template' }, [{ filename: 'template.xlsx', content: bytes, contentType: XLSX }]);
  const res = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: { ...who.auth, ...body.headers }, payload: body.payload });
  if (res.statusCode !== 201) throw new Error(`import failed: ${res.statusCode} ${res.body}`);
  return res.json().id as string;
}

async function uploadEvidence(app: App, who: Tenant, bytes: Buffer | string) {
  const body = multipart({ title: 'Evidence' }, [{ filename: 'evidence.bin', content: bytes }]);
  return app.inject({ method: 'POST', url: '/api/v1/evidence', headers: { ...who.auth, ...body.headers }, payload: body.payload });
}

async function uploadDocument(app: App, who: Tenant, bytes: Buffer | string) {
  const body = multipart({ title: 'Policy', visibility: 'private' }, [{ filename: 'policy.txt', content: bytes, contentType: 'text/plain' }]);
  return app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...who.auth, ...body.headers }, payload: body.payload });
}

function status(t: Test, res: { statusCode: number; body: string }, want: number) {
  t.equal(res.statusCode, want, res.statusCode === want ? `status ${want}` : res.body.slice(0, 500));
}

const del = (app: App, who: Tenant, url: string) => app.inject({ method: 'DELETE', url, headers: who.auth });
const localFiles = (dataDir: string, sub: string) => {
  const dir = path.join(dataDir, 'blobs', sub);
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
};

t.test('with BLOB_STORE=s3 files live in the bucket, and references decide when they go', async (t) => {
  const s3 = await startS3(t);
  const dataDir = t.testdir({});
  const app = await testApp(t, { config: { dataDir, blobs: s3Store(s3.config), limits: { uploadBytes: 256 * 1024 } }, options: quiet });
  const a = await signup(app, 's3-a');
  const b = await signup(app, 's3-b');

  t.test('evidence goes up to the bucket and comes back byte-identical', async (t) => {
    const bytes = randomBytes(200 * 1024);
    const ev = await uploadEvidence(app, a, bytes);
    status(t, ev, 201);
    t.equal(ev.json().versions[0].sha256, sha(bytes));
    t.ok(await s3.has(sha(bytes)), `in the bucket as ${s3.keyOf(sha(bytes))}`);
    t.same(localFiles(dataDir, 'sha256'), [], 'nothing stored on the local disk');
    t.same(localFiles(dataDir, 'tmp'), [], 'no staged file left');
    const dl = await app.inject({ method: 'GET', url: `/api/v1/evidence/${ev.json().id}/download`, headers: a.auth });
    status(t, dl, 200);
    t.ok(dl.rawPayload.equals(bytes), 'the same bytes');
  });

  t.test('an upload over the limit is a 413 and leaves nothing in the bucket or on disk', async (t) => {
    const bytes = randomBytes(300 * 1024);
    const res = await uploadEvidence(app, a, bytes);
    status(t, res, 413);
    t.notOk(await s3.has(sha(bytes)));
    t.same(localFiles(dataDir, 'tmp'), []);
  });

  t.test('a trust document survives another tenant deleting the same bytes; the last owner takes the object', async (t) => {
    const bytes = `security policy ${randomBytes(8).toString('hex')}`;
    const doc = await uploadDocument(app, a, bytes);
    status(t, doc, 201);
    const ev = await uploadEvidence(app, b, bytes);
    status(t, ev, 201);
    t.equal((await del(app, b, `/api/v1/evidence/${ev.json().id}`)).statusCode, 204);
    t.ok(await s3.has(sha(bytes)), "A's document still uses it");
    const dl = await app.inject({ method: 'GET', url: `/api/v1/documents/${doc.json().id}/download`, headers: a.auth });
    status(t, dl, 200);
    t.equal(dl.body, bytes);
    t.equal((await del(app, a, `/api/v1/documents/${doc.json().id}`)).statusCode, 204);
    t.notOk(await s3.has(sha(bytes)), 'removed from the bucket with its last reference');
  });

  t.test('questionnaire sources are read back from the bucket and collected with the last questionnaire', async (t) => {
    const bytes = await workbook(randomBytes(4).toString('hex'));
    const first = await importWorkbook(app, a, bytes);
    const second = await importWorkbook(app, b, bytes);
    t.equal((await del(app, a, `/api/v1/questionnaires/${first}`)).statusCode, 204);
    t.ok(await s3.has(sha(bytes)), "B's questionnaire still uses it");
    const exported = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${second}/export?format=xlsx`, headers: b.auth });
    status(t, exported, 200);
    t.equal(exported.headers['content-type'], XLSX);
    t.equal((await del(app, b, `/api/v1/questionnaires/${second}`)).statusCode, 204);
    t.notOk(await s3.has(sha(bytes)));
  });

  t.test('an object changed in the bucket is a 500 integrity_failed, never sent', async (t) => {
    const bytes = `genuine ${randomBytes(8).toString('hex')}`;
    const ev = await uploadEvidence(app, a, bytes);
    status(t, ev, 201);
    await s3.overwrite(sha(bytes), 'tampered bytes');
    const dl = await app.inject({ method: 'GET', url: `/api/v1/evidence/${ev.json().id}/download`, headers: a.auth });
    status(t, dl, 500);
    t.equal(dl.json().code, 'integrity_failed');
    t.notMatch(dl.body, 'tampered bytes');
  });
});

t.test('GC on the bucket keeps an object a lease protects and removes it when none is left', async (t) => {
  const s3 = await startS3(t);
  const app = await testApp(t, { config: { blobs: s3Store(s3.config) }, options: quiet });
  const bytes = Buffer.from(`gc ${randomBytes(8).toString('hex')}`);
  const stored = await app.blobs.put(Readable.from([bytes]), 1024);
  t.equal(stored.created, true);
  await app.blobs.collect([stored.sha256]);
  t.ok(await s3.has(stored.sha256), 'a lease keeps the object');
  const again = await app.blobs.put(Readable.from([bytes]), 1024);
  t.equal(again.created, false, 'the same bytes are not uploaded twice');
  await app.blobs.discard(again);
  t.ok(await s3.has(stored.sha256), "the first upload's lease still keeps it");
  await app.blobs.discard(stored);
  t.notOk(await s3.has(stored.sha256), 'no lease, no ref: deleted from the bucket');
});

t.test('the startup sweep collects old unreferenced objects and staged files, keeps referenced and fresh ones', async (t) => {
  const s3 = await startS3(t);
  const dataDir = t.testdir({});
  const plant = async (content: string, ms: number) => {
    const hash = sha(content);
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: s3.keyOf(hash), Body: content }));
    s3.age(hash, ms);
    return hash;
  };
  const tmpDir = path.join(dataDir, 'blobs', 'tmp');
  fs.mkdirSync(tmpDir, { recursive: true });
  const oldTmp = path.join(tmpDir, 'crashed-upload');
  fs.writeFileSync(oldTmp, 'half an upload');
  const when = new Date(Date.now() - 2 * HOUR);
  fs.utimesSync(oldTmp, when, when);
  const oldOrphan = await plant(`left behind by a crash ${randomBytes(4).toString('hex')}`, 3 * HOUR);
  const freshOrphan = await plant(`just uploaded ${randomBytes(4).toString('hex')}`, 60 * 1000);

  const { database, drop } = await freshDatabase();
  const app = await buildApp({ config: defaultConfig({ dataDir, seedDemo: false, blobs: s3Store(s3.config) }), database, logger: false, ...quiet });
  t.teardown(async () => {
    await app.close();
    await drop();
  });
  await app.ready();
  t.match(await app.blobSweep, { temp: 1, orphans: 1 }, 'the sweep ran at startup');
  t.notOk(fs.existsSync(oldTmp), 'old staged file removed');
  t.notOk(await s3.has(oldOrphan), 'old unreferenced object removed');
  t.ok(await s3.has(freshOrphan), 'fresh unreferenced object kept (an upload may be in flight)');

  const a = await signup(app, 's3-sweep');
  const content = `kept ${randomBytes(8).toString('hex')}`;
  const ev = await uploadEvidence(app, a, content);
  status(t, ev, 201);
  s3.age(sha(content), 5 * HOUR);
  const leased = await plant(`leased by a request that crashed ${randomBytes(4).toString('hex')}`, 3 * HOUR);
  await app.database.db.insert(blobLeases).values({ id: '0190b6c4-0000-7000-8000-000000000011', sha256: leased, createdAt: new Date(Date.now() - 2 * HOUR) });
  const live = await plant(`leased by a request still running ${randomBytes(4).toString('hex')}`, 3 * HOUR);
  await app.database.db.insert(blobLeases).values({ id: '0190b6c4-0000-7000-8000-000000000012', sha256: live });
  t.match(await app.blobs.sweep(), { leases: 1, orphans: 1 });
  t.ok(await s3.has(sha(content)), 'referenced object kept');
  t.notOk(await s3.has(leased), 'expired lease: removed');
  t.ok(await s3.has(live), 'live lease: kept');
  const dl = await app.inject({ method: 'GET', url: `/api/v1/evidence/${ev.json().id}/download`, headers: a.auth });
  t.equal(dl.body, content);
});

t.test('a bucket that is not there fails the boot with a message naming it', async (t) => {
  const s3 = await startS3(t);
  const { database, drop } = await freshDatabase();
  t.teardown(drop);
  const config = defaultConfig({ dataDir: t.testdir({}), seedDemo: false, blobs: s3Store({ ...s3.config, bucket: 'no-such-bucket' }) });
  await t.rejects(buildApp({ config, database, logger: false, ...quiet }), {
    message: `S3 bucket no-such-bucket at ${s3.endpoint} is not reachable: no such bucket (HTTP 404): check S3_BUCKET`,
  });
});

t.test('startup warnings: BLOB_STORE=fs on a shared database warns about DATA_DIR; s3 does not, and logs no secret', async (t) => {
  const capture = () => {
    const lines: string[] = [];
    return { lines, logger: { level: 'info', stream: { write: (line: string) => lines.push(line) } } };
  };
  const databaseUrl = 'postgres://replica@db.internal:5432/trustcenter';

  const fsLogs = capture();
  const dataDir = t.testdir({});
  await testApp(t, { config: { dataDir, databaseUrl }, options: { ...quiet, logger: fsLogs.logger } });
  const warning = fsLogs.lines.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => /BLOB_STORE=fs/.test(l.msg));
  t.equal(warning?.level, 40, 'a warning');
  t.equal(
    warning?.msg,
    `BLOB_STORE=fs with DATABASE_URL: files are kept in ${path.join(dataDir, 'blobs')}, so replicas sharing this database must share DATA_DIR (or use BLOB_STORE=s3)`,
  );
  const urlWarning = fsLogs.lines.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => /^PUBLIC_URL is unset/.test(l.msg));
  t.equal(
    urlWarning?.msg,
    'PUBLIC_URL is unset with DATABASE_URL: tokens and links name http://localhost:3000; replicas behind one address must all set PUBLIC_URL to it',
    'and one about PUBLIC_URL',
  );
  const keyWarning = fsLogs.lines.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => /^signing keys are kept/.test(l.msg));
  t.equal(keyWarning?.level, 40, 'and one about the signing keys');
  t.equal(
    keyWarning?.msg,
    `signing keys are kept in ${path.join(dataDir, 'keys')} with DATABASE_URL: replicas sharing this database must share DATA_DIR, or set KEY_ENCRYPTION_KEY (keys in the database) or JWT_PRIVATE_KEY`,
  );

  // s3rver checks the key id, not the signature: any secret works, so one unique to this test is looked for.
  const s3 = await startS3(t);
  const secret = `s3-secret-${randomBytes(12).toString('hex')}`;
  const s3Logs = capture();
  const app = await testApp(t, {
    config: {
      databaseUrl,
      publicUrl: 'https://trust.example.com',
      blobs: s3Store({ ...s3.config, credentials: { accessKeyId: 'S3RVER', secretAccessKey: secret } }),
      auth: { issuer: 'https://trust.example.com', signingKeyPem: await exportPKCS8((await generateKeyPair('ES256', { extractable: true })).privateKey) },
    },
    options: { ...quiet, logger: s3Logs.logger },
  });
  const a = await signup(app, 's3-logs');
  status(t, await uploadEvidence(app, a, 'logged upload'), 201);
  await app.ready();
  await app.blobSweep;
  t.notOk(
    s3Logs.lines.some((l) => /BLOB_STORE=fs/.test(l)),
    'no DATA_DIR warning with BLOB_STORE=s3',
  );
  t.notOk(
    s3Logs.lines.some((l) => /signing keys are kept/.test(l)),
    'no key warning with JWT_PRIVATE_KEY',
  );
  t.notOk(
    s3Logs.lines.some((l) => /PUBLIC_URL is unset/.test(l)),
    'no PUBLIC_URL warning when it is set',
  );
  t.ok(s3Logs.lines.length > 0, 'requests were logged');
  t.notOk(
    s3Logs.lines.some((l) => l.includes(secret)),
    'the secret access key is in no log line',
  );
});
