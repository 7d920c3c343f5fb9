// The Idempotency-Key rows, read and written here only: the plugin (src/plugins/idempotency.ts)
// decides what to remember and calls these.
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { OrgScope } from '../../lib/context.js';
import { idempotencyKeys } from './tables.js';

/** A remembered request and, once done, its (sealed) answer. */
export type IdempotencyRow = typeof idempotencyKeys.$inferSelect;

/**
 * Deletes expired rows in bounded batches (short statements, no long lock), at most `maxBatches`
 * per call; returns how many went.
 */
export async function sweepIdempotencyKeys(db: Db, now: Date, opts: { batchSize?: number; maxBatches?: number } = {}): Promise<number> {
  const batchSize = opts.batchSize ?? 500;
  let total = 0;
  for (let i = 0; i < (opts.maxBatches ?? 20); i++) {
    const batch = db
      .select({ orgId: idempotencyKeys.orgId, key: idempotencyKeys.key })
      .from(idempotencyKeys)
      .where(lt(idempotencyKeys.expiresAt, now))
      .limit(batchSize);
    const gone = await db
      .delete(idempotencyKeys)
      .where(sql`(${idempotencyKeys.orgId}, ${idempotencyKeys.key}) in (${batch})`)
      .returning({ key: idempotencyKeys.key });
    total += gone.length;
    if (gone.length < batchSize) break;
  }
  return total;
}

/** The key's row unless it expired before `now` (an expired row is deleted first). */
export async function liveIdempotencyKey({ db, orgId }: OrgScope, key: string, now: Date): Promise<IdempotencyRow | undefined> {
  await db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.orgId, orgId), eq(idempotencyKeys.key, key), lt(idempotencyKeys.expiresAt, now)));
  const [existing] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.orgId, orgId), eq(idempotencyKeys.key, key)));
  return existing;
}

/** Records a request in progress; a concurrent first use of the same key fails with a unique violation. */
export async function insertIdempotencyKey(
  db: Db,
  row: Pick<IdempotencyRow, 'orgId' | 'key' | 'principal' | 'method' | 'path' | 'requestHash' | 'createdAt' | 'expiresAt'>,
): Promise<void> {
  await db.insert(idempotencyKeys).values({ ...row, state: 'in_progress' });
}

/** Records the answer to a request in progress. */
export async function completeIdempotencyKey(
  { db, orgId }: OrgScope,
  key: string,
  answer: Pick<IdempotencyRow, 'requestHash' | 'responseStatus' | 'responseHeaders' | 'responseBody'>,
): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({ state: 'done', ...answer })
    .where(and(eq(idempotencyKeys.orgId, orgId), eq(idempotencyKeys.key, key)));
}

/** Forgets a key (its request failed or was not read in full): the client may retry with it. */
export async function dropIdempotencyKey({ db, orgId }: OrgScope, key: string): Promise<void> {
  await db.delete(idempotencyKeys).where(and(eq(idempotencyKeys.orgId, orgId), eq(idempotencyKeys.key, key)));
}
