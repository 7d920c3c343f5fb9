import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DomainError } from './errors.js';

export interface StoredBlob {
  sha256: string;
  size: number;
  /** False when identical content was already stored (content addressing deduplicates). */
  created: boolean;
}

/**
 * Content-addressed blob storage: a blob's name is its SHA-256. The file-system implementation
 * keeps blobs under DATA_DIR; an S3-compatible store can implement the same interface.
 */
export interface BlobStore {
  put(source: Readable, maxBytes: number): Promise<StoredBlob>;
  /** Streams a blob after checking its bytes still hash to its name. */
  openVerified(sha256: string): Promise<Readable>;
  /** The whole blob in memory, checked the same way (for parsing and rewriting small files). */
  readVerified(sha256: string): Promise<Buffer>;
  exists(sha256: string): Promise<boolean>;
  delete(sha256: string): Promise<void>;
}

const SHA = /^[0-9a-f]{64}$/;

export class FsBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private pathOf(sha256: string): string {
    if (!SHA.test(sha256)) throw new DomainError('internal', 'bad blob name');
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(source: Readable, maxBytes: number): Promise<StoredBlob> {
    const tmpDir = path.join(this.root, 'tmp');
    await fsp.mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new DomainError('payload_too_large', `upload exceeds the limit of ${maxBytes} bytes`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, fs.createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
      // A stream cut short by a size limit upstream (multipart) ends without an error: check it.
      if ((source as Readable & { truncated?: boolean }).truncated) {
        throw new DomainError('payload_too_large', `upload exceeds the limit of ${maxBytes} bytes`);
      }
      const sha256 = hash.digest('hex');
      const final = this.pathOf(sha256);
      if (await this.exists(sha256)) {
        await fsp.rm(tmp, { force: true });
        return { sha256, size, created: false };
      }
      await fsp.mkdir(path.dirname(final), { recursive: true });
      await fsp.rename(tmp, final);
      return { sha256, size, created: true };
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  }

  async openVerified(sha256: string): Promise<Readable> {
    const file = this.pathOf(sha256);
    const hash = createHash('sha256');
    try {
      await pipeline(fs.createReadStream(file), hash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DomainError('integrity_failed', 'the stored file is missing');
      throw err;
    }
    if (hash.digest('hex') !== sha256) throw new DomainError('integrity_failed', 'the stored file does not match its recorded SHA-256');
    return fs.createReadStream(file);
  }

  async readVerified(sha256: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.openVerified(sha256)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      await fsp.access(this.pathOf(sha256));
      return true;
    } catch {
      return false;
    }
  }

  async delete(sha256: string): Promise<void> {
    await fsp.rm(this.pathOf(sha256), { force: true });
  }
}
