import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { BlobStore, StoredBlob } from '../../lib/storage.js';
import { evidenceVersions } from '../evidence/tables.js';
import { documentVersions, trustPages } from '../trust/tables.js';

/**
 * Whether anything still refers to a blob. Content is shared by hash across modules (evidence,
 * documents, logos), so every referrer is checked; a new referrer must be added here.
 */
export async function blobInUse(db: Executor, sha256: string): Promise<boolean> {
  const one = { n: sql<number>`1` };
  const refs = await Promise.all([
    db.select(one).from(evidenceVersions).where(eq(evidenceVersions.sha256, sha256)).limit(1),
    db.select(one).from(documentVersions).where(eq(documentVersions.sha256, sha256)).limit(1),
    db.select(one).from(trustPages).where(eq(trustPages.logoSha256, sha256)).limit(1),
  ]);
  return refs.some((r) => r.length > 0);
}

/** Drops a blob this request created (or whose last user went) unless something refers to it. */
export async function discardBlob(db: Executor, blobs: BlobStore, stored: StoredBlob | undefined): Promise<void> {
  if (!stored?.created) return;
  if (!(await blobInUse(db, stored.sha256))) await blobs.delete(stored.sha256);
}
