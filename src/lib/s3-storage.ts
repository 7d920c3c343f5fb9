import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { redactUrl, type S3Config } from '../config.js';
import { DomainError } from './errors.js';
import { SHA, StagingArea, type BlobBackend, type StagedBlob } from './storage.js';

export interface S3BlobOptions extends S3Config {
  /** Local scratch for uploads and downloads in flight (per process: nothing in it is shared). */
  tmpDir: string;
  /** Keys per ListObjectsV2 page (S3 returns at most 1000). */
  pageSize?: number;
}

/**
 * Blobs as objects in an S3-compatible bucket: `${prefix}sha256/<sha256>`. Uploads are staged in a
 * local file (hashed and measured on the way, as on disk) and put once their name is known; the
 * blob service orders the calls and decides deletions, exactly as for files.
 */
export class S3BlobBackend implements BlobBackend {
  private readonly client: S3Client;
  private readonly staging: StagingArea;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly pageSize: number;
  /** Where the bucket is, for messages (the endpoint without any credentials in it). */
  readonly location: string;

  constructor(options: S3BlobOptions) {
    this.bucket = options.bucket;
    this.prefix = `${options.prefix}sha256/`;
    this.pageSize = options.pageSize ?? 1000;
    this.staging = new StagingArea(options.tmpDir);
    this.location = options.endpoint ? redactUrl(options.endpoint) : `AWS S3 (${options.region})`;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle,
      // Unset: the SDK's default chain (environment, shared profile, instance or task role). A plain
      // copy: the configuration keeps the secret out of enumeration, which the SDK may not expect.
      ...(options.credentials ? { credentials: { accessKeyId: options.credentials.accessKeyId, secretAccessKey: options.credentials.secretAccessKey } } : {}),
      // Checksums only where S3 demands them: some S3-compatible servers (s3rver among them) store the
      // aws-chunked bodies the SDK's default checksums produce verbatim. Our SHA-256 covers the bytes.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // A wrong or unreachable endpoint fails the boot check in seconds, not after the OS's TCP timeout.
      requestHandler: { connectionTimeout: 5000 },
    });
  }

  private keyOf(sha256: string): string {
    if (!SHA.test(sha256)) throw new DomainError('internal', 'bad blob name');
    return this.prefix + sha256;
  }

  /** Fails with a message naming the bucket and what went wrong (the server checks it at boot). */
  async checkBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      throw new Error(`S3 bucket ${this.bucket} at ${this.location} is not reachable: ${describe(err)}`);
    }
  }

  stage(source: Readable, maxBytes: number): Promise<StagedBlob> {
    return this.staging.receive(source, maxBytes);
  }

  async commit(staged: StagedBlob): Promise<boolean> {
    const tmp = this.staging.pathOf(staged);
    const created = !(await this.exists(staged.sha256));
    if (created) {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.keyOf(staged.sha256),
          Body: fs.createReadStream(tmp),
          ContentLength: staged.size,
          ContentType: 'application/octet-stream',
        }),
      );
    }
    await fsp.rm(tmp, { force: true });
    return created;
  }

  abort(staged: StagedBlob): Promise<void> {
    return this.staging.drop(staged);
  }

  /**
   * Downloads into a local file while hashing, and hands out that file only if it matches: the
   * caller never streams unverified bytes, and memory stays flat however large the blob.
   */
  async openVerified(sha256: string): Promise<Readable> {
    await fsp.mkdir(this.staging.dir, { recursive: true });
    const tmp = path.join(this.staging.dir, `get-${randomUUID()}`);
    try {
      const hash = createHash('sha256');
      const body = await this.download(sha256);
      await pipeline(
        body,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            yield chunk;
          }
        },
        fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600 }),
      );
      if (hash.digest('hex') !== sha256) throw mismatch();
      // Unlinked once open: the stream keeps the bytes, and nothing is left behind when it closes.
      const handle = await fsp.open(tmp, 'r');
      await fsp.rm(tmp, { force: true });
      return handle.createReadStream();
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  }

  async readVerified(sha256: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.download(sha256)) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    if (createHash('sha256').update(bytes).digest('hex') !== sha256) throw mismatch();
    return bytes;
  }

  private async download(sha256: string): Promise<Readable> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
      return res.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new DomainError('integrity_failed', 'the stored file is missing');
      throw err;
    }
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
      return true;
    } catch (err) {
      // Only "not there" is false: an unreachable bucket must not look like a missing file.
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async delete(sha256: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
  }

  async *list(): AsyncIterable<{ sha256: string; modifiedAt: Date }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, MaxKeys: this.pageSize, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        const name = object.Key?.slice(this.prefix.length) ?? '';
        // Other objects under the prefix (not named by a hash) are not ours to collect.
        if (SHA.test(name) && object.LastModified) yield { sha256: name, modifiedAt: object.LastModified };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  sweepTemp(olderThan: Date): Promise<number> {
    return this.staging.sweep(olderThan);
  }

  close(): void {
    this.client.destroy();
  }
}

const mismatch = () => new DomainError('integrity_failed', 'the stored file does not match its recorded SHA-256');

function isNotFound(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound');
}

/** What went wrong talking to the bucket, in words an operator can act on (never the credentials). */
function describe(err: unknown): string {
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode;
    if (status === 404) return 'no such bucket (HTTP 404): check S3_BUCKET';
    if (status === 403) return 'access denied (HTTP 403): check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY';
    if (status === 301) return 'the bucket is in another region (HTTP 301): check S3_REGION';
    // Answers to HEAD carry no body: the SDK then reports the message "UnknownError".
    const message = err.message && err.message !== 'UnknownError' ? `: ${err.message}` : '';
    return `${err.name}${status ? ` (HTTP ${status})` : ''}${message}`;
  }
  const e = err as Error & { code?: string };
  return e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : (e.message ?? String(err));
}
