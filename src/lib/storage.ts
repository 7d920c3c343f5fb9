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
  /** The upload's claim on the bytes until its owner row commits (see src/modules/blobs). */
  lease?: string;
}

/**
 * What routes and services use: content-addressed blobs (a blob's name is its SHA-256), shared by
 * every organization that stores the same bytes. Callers never delete bytes: they give up their
 * claim (discard) or ask for collection after deleting an owner; the store removes a file only
 * when no reference to it remains (src/modules/blobs).
 */
export interface BlobStore {
  put(source: Readable, maxBytes: number): Promise<StoredBlob>;
  /** Streams a blob after checking its bytes still hash to its name. */
  openVerified(sha256: string): Promise<Readable>;
  /** The whole blob in memory, checked the same way (for parsing and rewriting small files). */
  readVerified(sha256: string): Promise<Buffer>;
  exists(sha256: string): Promise<boolean>;
  /** A failed request gives up a blob it put; the bytes go only if nothing else refers to them. */
  discard(stored: StoredBlob): Promise<void>;
  /** After owners were deleted (and committed): removes the bytes of each hash nothing refers to. */
  collect(sha256s: Iterable<string>): Promise<void>;
}

/** Bytes received and hashed, waiting in a temporary file to be moved under their name. */
export interface StagedBlob {
  sha256: string;
  size: number;
  /** Where the backend keeps the staged bytes (opaque to callers). */
  readonly token: string;
}

/**
 * The raw storage under a BlobStore: files under DATA_DIR (FsBlobStore) or objects in an
 * S3-compatible bucket (s3-storage.ts). Knows nothing of references: the blob service orders these calls.
 */
export interface BlobBackend {
  stage(source: Readable, maxBytes: number): Promise<StagedBlob>;
  /** Moves staged bytes under their name, or drops them when that name exists; true if created. */
  commit(staged: StagedBlob): Promise<boolean>;
  /** Drops staged bytes that were not committed. */
  abort(staged: StagedBlob): Promise<void>;
  openVerified(sha256: string): Promise<Readable>;
  readVerified(sha256: string): Promise<Buffer>;
  exists(sha256: string): Promise<boolean>;
  delete(sha256: string): Promise<void>;
  /** Every stored blob and when it was last written (for the orphan sweep). */
  list(): AsyncIterable<{ sha256: string; modifiedAt: Date }>;
  /** Removes temporary files last written before `olderThan` (left by a crash); returns how many. */
  sweepTemp(olderThan: Date): Promise<number>;
}

export const SHA = /^[0-9a-f]{64}$/;

/**
 * Local scratch for uploads in flight: each upload streams into its own file, hashed and measured
 * on the way, before a backend moves it under its name (a rename on disk, an upload to a bucket).
 */
export class StagingArea {
  constructor(readonly dir: string) {}

  async receive(source: Readable, maxBytes: number): Promise<StagedBlob> {
    await fsp.mkdir(this.dir, { recursive: true });
    const tmp = path.join(this.dir, randomUUID());
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
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    return { sha256: hash.digest('hex'), size, token: tmp };
  }

  /** The staged file's path; the token must be one this area made. */
  pathOf(staged: StagedBlob): string {
    if (path.dirname(staged.token) !== this.dir) throw new DomainError('internal', 'bad staged blob');
    return staged.token;
  }

  async drop(staged: StagedBlob): Promise<void> {
    await fsp.rm(this.pathOf(staged), { force: true });
  }

  /** Removes files last written before `olderThan` (uploads a crash cut off); returns how many. */
  async sweep(olderThan: Date): Promise<number> {
    let removed = 0;
    for (const name of await entries(this.dir)) {
      const file = path.join(this.dir, name);
      const st = await fsp.stat(file).catch(() => undefined);
      if (st?.isFile() && st.mtime < olderThan) {
        await fsp.rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

/**
 * Blobs as files: DATA_DIR/blobs/sha256/ab/cd/<sha256>, staged in DATA_DIR/blobs/tmp. Used bare
 * (seeding a database in a test) it is a BlobStore that never removes bytes; the app wraps it in
 * the blob service, which keeps references and collects unused files.
 */
export class FsBlobStore implements BlobBackend, BlobStore {
  private readonly staging: StagingArea;

  constructor(private readonly root: string) {
    this.staging = new StagingArea(path.join(root, 'tmp'));
  }

  private pathOf(sha256: string): string {
    if (!SHA.test(sha256)) throw new DomainError('internal', 'bad blob name');
    return path.join(this.root, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  stage(source: Readable, maxBytes: number): Promise<StagedBlob> {
    return this.staging.receive(source, maxBytes);
  }

  async commit(staged: StagedBlob): Promise<boolean> {
    const tmp = this.staging.pathOf(staged);
    const final = this.pathOf(staged.sha256);
    if (await this.exists(staged.sha256)) {
      await fsp.rm(tmp, { force: true });
      return false;
    }
    await fsp.mkdir(path.dirname(final), { recursive: true });
    await fsp.rename(tmp, final);
    return true;
  }

  abort(staged: StagedBlob): Promise<void> {
    return this.staging.drop(staged);
  }

  async put(source: Readable, maxBytes: number): Promise<StoredBlob> {
    const staged = await this.stage(source, maxBytes);
    try {
      return { sha256: staged.sha256, size: staged.size, created: await this.commit(staged) };
    } catch (err) {
      await this.abort(staged);
      throw err;
    }
  }

  /** A bare store keeps no references, so it cannot tell whether bytes are unused: it keeps them. */
  async discard(): Promise<void> {}

  async collect(): Promise<void> {}

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

  async *list(): AsyncIterable<{ sha256: string; modifiedAt: Date }> {
    const base = path.join(this.root, 'sha256');
    for (const a of await entries(base)) {
      for (const b of await entries(path.join(base, a))) {
        const dir = path.join(base, a, b);
        for (const name of await entries(dir)) {
          if (!SHA.test(name) || name.slice(0, 2) !== a || name.slice(2, 4) !== b) continue;
          const st = await fsp.stat(path.join(dir, name)).catch(() => undefined);
          if (st?.isFile()) yield { sha256: name, modifiedAt: st.mtime };
        }
      }
    }
  }

  sweepTemp(olderThan: Date): Promise<number> {
    return this.staging.sweep(olderThan);
  }
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
