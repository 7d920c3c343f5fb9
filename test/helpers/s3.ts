// A real S3-compatible server for tests: s3rver on 127.0.0.1, on a free port, with its own directory
// and one bucket. It runs in a child process with OpenSSL's legacy provider: s3rver signs its list
// continuation tokens with DES, which Node's OpenSSL 3 refuses by default (any paged listing fails).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Test } from 'tap';
import type { S3Config } from '../../src/config.js';

const S3RVER = createRequire(import.meta.url).resolve('s3rver');

// The child ends when its stdin closes, so a test process that dies leaves no server behind.
const CHILD = `
const S3rver = require(process.env.S3RVER_MODULE);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.env.S3RVER_DIR, configureBuckets: [{ name: process.env.S3RVER_BUCKET }] });
server.run().then(
  (address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'),
  (err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); },
);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** s3rver's fixed account (it checks request signatures against it). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** What BLOB_STORE=s3 and the S3_* variables give the app. */
  config: S3Config;
  /** The same for a server process: BLOB_STORE=s3 and the S3_* variables. */
  env: Record<string, string>;
  /** A client on the bucket, for tests that go behind the app's back. */
  client: S3Client;
  /** The object name of a blob. */
  keyOf(sha256: string): string;
  has(sha256: string): Promise<boolean>;
  /** Stores other bytes under a blob's name, as a corrupted or tampered store would hold. */
  overwrite(sha256: string, bytes: Buffer | string): Promise<void>;
  /** Makes a blob look written `ms` ago (s3rver reports its file's mtime as LastModified). */
  age(sha256: string, ms: number): void;
  close(): Promise<void>;
}

/** Starts s3rver with one bucket; closed when `t` ends. */
export async function startS3(t: Test, opts: { bucket?: string; prefix?: string } = {}): Promise<S3Server> {
  const bucket = opts.bucket ?? 'trustcenter-test';
  const prefix = opts.prefix ?? 'trustcenter/';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD], {
    env: { PATH: process.env.PATH ?? '', S3RVER_MODULE: S3RVER, S3RVER_DIR: dir, S3RVER_BUCKET: bucket },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start in 20 s: ${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const config: S3Config = { endpoint, bucket, region: 'us-east-1', credentials: S3RVER_CREDENTIALS, forcePathStyle: true, prefix };
  const client = new S3Client({
    endpoint,
    region: config.region,
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const keyOf = (sha256: string) => `${prefix}sha256/${sha256}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    client.destroy();
    child.stdin!.end();
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  t.teardown(close);
  return {
    endpoint,
    bucket,
    config,
    env: {
      BLOB_STORE: 's3',
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_REGION: config.region,
      S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
      S3_PREFIX: prefix,
    },
    client,
    keyOf,
    has: async (sha256) => {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: keyOf(sha256) }));
        return true;
      } catch (err) {
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
        throw err;
      }
    },
    overwrite: async (sha256, bytes) => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(sha256), Body: Buffer.from(bytes) }));
    },
    age: (sha256, ms) => {
      const file = path.join(dir, bucket, ...keyOf(sha256).split('/').slice(0, -1), `${sha256}._S3rver_object`);
      const when = new Date(Date.now() - ms);
      fs.utimesSync(file, when, when);
    },
    close,
  };
}
