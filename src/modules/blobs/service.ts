import type { Readable } from 'node:stream';
import { and, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import { newId } from '../../lib/ids.js';
import type { BlobBackend, BlobStore, StoredBlob } from '../../lib/storage.js';
import { blobLeases, blobRefs, type BlobOwnerKind } from './tables.js';

/** Files and leases younger than this are never swept: an upload may be between its steps. */
export const BLOB_GRACE_MS = 60 * 60 * 1000;

// Two-key advisory locks live apart from one-key ones (the migration lock); this names ours ("blob").
const LOCK_SPACE = 0x626c6f62 | 0;

/**
 * The per-hash lock, held to the end of the transaction. Uploads take their lease and GC removes
 * bytes under it, so a removal never slips between an upload claiming a hash and storing its bytes.
 * The hash is already uniform: its first 32 bits are the key (a collision only serializes).
 */
export async function lockBlob(tx: Executor, sha256: string): Promise<void> {
  const key = Number.parseInt(sha256.slice(0, 8), 16) | 0;
  await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_SPACE}::int4, ${key}::int4)`);
}

export interface BlobOwner {
  orgId: string;
  ownerKind: BlobOwnerKind;
  ownerId: string;
}

/**
 * Records that an owner uses a file, in the owner's own transaction. The upload's lease (if the
 * bytes came with this request) ends in the same transaction: from its commit the ref protects them.
 */
export async function addBlobRef(tx: Executor, owner: BlobOwner, blob: { sha256: string; lease?: string | undefined }): Promise<void> {
  await tx
    .insert(blobRefs)
    .values({ ...owner, sha256: blob.sha256 })
    .onConflictDoNothing();
  if (blob.lease) await tx.delete(blobLeases).where(eq(blobLeases.id, blob.lease));
}

/**
 * Drops an owner's refs (all of them, or one file's), in the transaction that deletes or changes
 * the owner; returns the hashes to collect once it has committed.
 */
export async function dropBlobRefs(tx: Executor, owner: BlobOwner, sha256?: string): Promise<string[]> {
  const rows = await tx
    .delete(blobRefs)
    .where(
      and(
        eq(blobRefs.orgId, owner.orgId),
        eq(blobRefs.ownerKind, owner.ownerKind),
        eq(blobRefs.ownerId, owner.ownerId),
        sha256 ? eq(blobRefs.sha256, sha256) : undefined,
      ),
    )
    .returning({ sha256: blobRefs.sha256 });
  return [...new Set(rows.map((r) => r.sha256))];
}

/** Kept for the routes that call it: a failed request gives up the blob it put. */
export async function discardBlob(_db: Executor, blobs: BlobStore, stored: StoredBlob | undefined): Promise<void> {
  if (stored) await blobs.discard(stored);
}

export interface SweepResult {
  /** Temporary files older than the grace period (uploads cut off by a crash). */
  temp: number;
  /** Upload leases older than the grace period (requests that never finished). */
  leases: number;
  /** Files no organization refers to. */
  orphans: number;
}

/**
 * The blob store the app uses: content-addressed bytes on a backend, with references in the
 * database. Bytes are removed only by collect (GC) under the per-hash lock, and only when no
 * organization refers to the hash and no upload holds a lease on it.
 */
export class BlobService implements BlobStore {
  private stopping = false;

  constructor(
    private readonly db: Db,
    readonly backend: BlobBackend,
  ) {}

  async put(source: Readable, maxBytes: number): Promise<StoredBlob> {
    const staged = await this.backend.stage(source, maxBytes);
    const lease = newId();
    let leased = false;
    try {
      // The lease first, under the lock: from its commit GC keeps the hash, so the bytes can be
      // moved into place after it, outside the transaction (an upload to S3 may take a while).
      await this.db.transaction(async (tx) => {
        await lockBlob(tx, staged.sha256);
        await tx.insert(blobLeases).values({ id: lease, sha256: staged.sha256 });
      });
      leased = true;
      const created = await this.backend.commit(staged);
      return { sha256: staged.sha256, size: staged.size, created, lease };
    } catch (err) {
      await this.backend.abort(staged);
      if (leased) await this.discard({ sha256: staged.sha256, size: staged.size, created: false, lease });
      throw err;
    }
  }

  openVerified(sha256: string): Promise<Readable> {
    return this.backend.openVerified(sha256);
  }

  readVerified(sha256: string): Promise<Buffer> {
    return this.backend.readVerified(sha256);
  }

  exists(sha256: string): Promise<boolean> {
    return this.backend.exists(sha256);
  }

  async discard(stored: StoredBlob): Promise<void> {
    if (stored.lease) await this.db.delete(blobLeases).where(eq(blobLeases.id, stored.lease));
    await this.collect([stored.sha256]);
  }

  async collect(sha256s: Iterable<string>): Promise<void> {
    for (const sha256 of new Set(sha256s)) await this.collectOne(sha256);
  }

  /** GC of one hash: removes the bytes if, under the lock, no ref in any organization and no lease remains. */
  private async collectOne(sha256: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await lockBlob(tx, sha256);
      // One statement, one snapshot: a ref and the lease it replaced commit together, so one is seen.
      const result = (await tx.execute(sql`select (exists (select 1 from ${blobRefs} where ${blobRefs.sha256} = ${sha256})
        or exists (select 1 from ${blobLeases} where ${blobLeases.sha256} = ${sha256})) as used`)) as unknown as { rows: { used: boolean }[] };
      if (result.rows[0]?.used !== false) return false;
      await this.backend.delete(sha256);
      return true;
    });
  }

  /**
   * The startup sweep: temporary files, leases and unreferenced files older than the grace period
   * (younger ones may belong to an upload in flight). Each removal is rechecked by collect.
   */
  async sweep(opts: { graceMs?: number } = {}): Promise<SweepResult> {
    const graceMs = opts.graceMs ?? BLOB_GRACE_MS;
    const cutoff = new Date(Date.now() - graceMs);
    this.stopping = false;
    const result: SweepResult = { temp: await this.backend.sweepTemp(cutoff), leases: 0, orphans: 0 };
    const expired = await this.db.delete(blobLeases).where(lt(blobLeases.createdAt, cutoff)).returning({ sha256: blobLeases.sha256 });
    result.leases = expired.length;
    let batch: string[] = [];
    const flush = async () => {
      const used = new Set<string>();
      if (batch.length > 0) {
        const [refs, leases] = await Promise.all([
          this.db.selectDistinct({ sha256: blobRefs.sha256 }).from(blobRefs).where(inArray(blobRefs.sha256, batch)),
          this.db.selectDistinct({ sha256: blobLeases.sha256 }).from(blobLeases).where(inArray(blobLeases.sha256, batch)),
        ]);
        for (const r of [...refs, ...leases]) used.add(r.sha256);
      }
      for (const sha of batch) if (!used.has(sha) && !this.stopping && (await this.collectOne(sha))) result.orphans++;
      batch = [];
    };
    for await (const blob of this.backend.list()) {
      if (this.stopping) break;
      if (blob.modifiedAt >= cutoff) continue;
      batch.push(blob.sha256);
      if (batch.length >= 500) await flush();
    }
    await flush();
    return result;
  }

  /** Ends a running sweep early (the app is closing); what it removed so far stays removed. */
  stopSweep(): void {
    this.stopping = true;
  }
}
