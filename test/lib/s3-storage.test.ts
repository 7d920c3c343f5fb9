// The S3 blob backend against a real S3-compatible server (s3rver on 127.0.0.1).
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import t from 'tap';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DomainError } from '../../src/lib/errors.js';
import { S3BlobBackend } from '../../src/lib/s3-storage.js';
import { startS3 } from '../helpers/s3.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

t.test('the S3 backend', async (t) => {
  const s3 = await startS3(t);
  const tmpDir = path.join(t.testdir({}), 'tmp');
  const backend = new S3BlobBackend({ ...s3.config, tmpDir, pageSize: 2 });
  t.teardown(() => backend.close());
  const put = async (bytes: Buffer | string, maxBytes = 1 << 24) => {
    const staged = await backend.stage(Readable.from([Buffer.from(bytes)]), maxBytes);
    return { staged, created: await backend.commit(staged) };
  };
  const tmpFiles = () => (fs.existsSync(tmpDir) ? fs.readdirSync(tmpDir) : []);

  t.test('the bucket check passes on the configured bucket', async (t) => {
    await t.resolves(backend.checkBucket());
  });

  t.test('a put uploads once under its hash; the same bytes again are deduplicated', async (t) => {
    const bytes = `evidence ${randomBytes(8).toString('hex')}`;
    const first = await put(bytes);
    t.equal(first.staged.sha256, sha(bytes));
    t.equal(first.staged.size, Buffer.byteLength(bytes));
    t.equal(first.created, true);
    t.ok(await s3.has(sha(bytes)), `stored as ${s3.keyOf(sha(bytes))}`);
    t.equal((await put(bytes)).created, false, 'the name exists: nothing uploaded');
    t.same(tmpFiles(), [], 'no staged file left behind');
    t.ok(await backend.exists(sha(bytes)));
    t.notOk(await backend.exists(sha('never stored')));
    t.equal((await backend.readVerified(sha(bytes))).toString(), bytes);
  });

  t.test('a large blob streams through staging and download byte-identical', async (t) => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const { created } = await put(bytes);
    t.equal(created, true);
    const back = await collect(await backend.openVerified(sha(bytes)));
    t.ok(back.equals(bytes), 'the same bytes');
    t.same(tmpFiles(), [], 'the verified download leaves no file behind');
  });

  t.test('the size limit: 413 past it, also for a stream a multipart limit cut short, and no file left', async (t) => {
    const over = backend.stage(Readable.from([Buffer.alloc(11)]), 10);
    await t.rejects(over, { code: 'payload_too_large', status: 413 });
    const truncated = Object.assign(Readable.from([Buffer.alloc(5)]), { truncated: true });
    await t.rejects(backend.stage(truncated, 10), { code: 'payload_too_large', status: 413 });
    t.same(tmpFiles(), []);
    t.notOk(await s3.has(sha(Buffer.alloc(11))), 'nothing uploaded');
  });

  t.test('an aborted upload drops its staged file and uploads nothing', async (t) => {
    const bytes = `aborted ${randomBytes(8).toString('hex')}`;
    const staged = await backend.stage(Readable.from([Buffer.from(bytes)]), 1024);
    t.equal(tmpFiles().length, 1);
    await backend.abort(staged);
    t.same(tmpFiles(), []);
    t.notOk(await s3.has(sha(bytes)));
    await t.rejects(backend.commit({ ...staged, token: '/etc/passwd' }), { code: 'internal' }, 'a token it did not make is refused');
  });

  t.test('tampered or missing objects fail the integrity check', async (t) => {
    const bytes = `genuine ${randomBytes(8).toString('hex')}`;
    await put(bytes);
    await s3.overwrite(sha(bytes), 'other bytes under the same name');
    const mismatch = { code: 'integrity_failed', message: /does not match its recorded SHA-256/ };
    await t.rejects(backend.openVerified(sha(bytes)), mismatch);
    await t.rejects(backend.readVerified(sha(bytes)), mismatch);
    t.same(tmpFiles(), [], 'the rejected download is not kept');
    const missing = { code: 'integrity_failed', message: 'the stored file is missing' };
    await t.rejects(backend.openVerified(sha('not stored')), missing);
    await t.rejects(backend.readVerified(sha('not stored')), missing);
    await t.rejects(backend.openVerified('../../etc/passwd'), { code: 'internal' }, 'only hashes name objects');
  });

  t.test('list pages through every blob under the prefix with its time; delete removes one', async (t) => {
    // Objects that are not blobs of this deployment: another prefix, a name that is not a hash.
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `other/sha256/${sha('x')}`, Body: 'x' }));
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${s3.config.prefix}sha256/readme.txt`, Body: 'x' }));
    const before = new Date(Date.now() - 2000);
    const names = new Set<string>();
    for (let i = 0; i < 5; i++) names.add((await put(`listed ${i} ${randomBytes(4).toString('hex')}`)).staged.sha256);
    const listed = new Map<string, Date>();
    for await (const blob of backend.list()) listed.set(blob.sha256, blob.modifiedAt);
    for (const name of names) {
      t.ok(listed.has(name), `listed ${name.slice(0, 8)} (pages of 2)`);
      t.ok(listed.get(name)! >= before && listed.get(name)! <= new Date(Date.now() + 2000), 'with its last-modified time');
    }
    t.notOk(listed.has(sha('x')), 'another prefix is not listed');
    t.ok(
      [...listed.keys()].every((k) => /^[0-9a-f]{64}$/.test(k)),
      'only hashes',
    );

    const gone = [...names][0]!;
    await backend.delete(gone);
    t.notOk(await backend.exists(gone));
    await t.resolves(backend.delete(gone), 'deleting a missing blob is no error');
    const after: string[] = [];
    for await (const blob of backend.list()) after.push(blob.sha256);
    t.notOk(after.includes(gone));
    t.equal(after.length, listed.size - 1);
  });

  t.test('the temp sweep removes old staged files and keeps fresh ones', async (t) => {
    fs.mkdirSync(tmpDir, { recursive: true });
    const old = path.join(tmpDir, 'crashed-upload');
    fs.writeFileSync(old, 'half an upload');
    const when = new Date(Date.now() - 2 * 60 * 60 * 1000);
    fs.utimesSync(old, when, when);
    const fresh = path.join(tmpDir, 'in-flight-upload');
    fs.writeFileSync(fresh, 'an upload in progress');
    t.equal(await backend.sweepTemp(new Date(Date.now() - 60 * 60 * 1000)), 1);
    t.notOk(fs.existsSync(old));
    t.ok(fs.existsSync(fresh));
    fs.rmSync(fresh);
  });
});

t.test('the bucket check fails with a message that names the bucket and the cause, never the secret', async (t) => {
  const s3 = await startS3(t);
  const tmpDir = t.testdir({});
  const check = async (overrides: Partial<typeof s3.config>) => {
    const backend = new S3BlobBackend({ ...s3.config, ...overrides, tmpDir });
    try {
      await backend.checkBucket();
      return undefined;
    } catch (err) {
      return err as Error;
    } finally {
      backend.close();
    }
  };
  const wrongBucket = await check({ bucket: 'no-such-bucket' });
  t.match(wrongBucket?.message, `S3 bucket no-such-bucket at ${s3.endpoint} is not reachable: no such bucket (HTTP 404): check S3_BUCKET`);
  t.notOk(wrongBucket instanceof DomainError, 'a boot failure, not an API error');

  const secret = `wrong-secret-${randomBytes(8).toString('hex')}`;
  // s3rver checks the key id only (not SigV4 signatures): an unknown one is its 403.
  const denied = await check({ credentials: { accessKeyId: 'NOT-A-KEY', secretAccessKey: secret } });
  t.match(denied?.message, /is not reachable: access denied \(HTTP 403\): check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY/);
  t.notMatch(denied?.message, secret, 'the secret is not in the message');

  const unreachable = await check({ endpoint: 'http://user:password@127.0.0.1:1' });
  t.match(unreachable?.message, /^S3 bucket trustcenter-test at http:\/\/user:\*\*\*@127\.0\.0\.1:1 is not reachable: .*ECONNREFUSED/);
});
