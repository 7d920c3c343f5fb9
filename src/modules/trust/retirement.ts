// What retiring catalog controls does to trust pages' chosen controls (src/catalog-retire.ts calls
// these on the seeder's transaction, across organizations).
import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { OrgScope } from '../../lib/context.js';
import { trustPages } from './tables.js';

const textArray = (xs: readonly string[]) =>
  sql`array[${sql.join(
    xs.map((x) => sql`${x}`),
    sql`, `,
  )}]::text[]`;

/** The pages whose chosen controls name any of these refs, with those choices, locked until the transaction ends. */
export async function lockPagesChoosing(tx: Executor, refs: readonly string[]): Promise<Array<{ orgId: string; controlRefs: string[] | null }>> {
  return tx
    .select({ orgId: trustPages.orgId, controlRefs: trustPages.controlRefs })
    .from(trustPages)
    .where(sql`${trustPages.controlRefs} ?| ${textArray(refs)}`)
    .for('update');
}

/** Replaces a page's chosen controls, as a new version of the page. */
export async function setChosenControls({ db: tx, orgId }: OrgScope, controlRefs: string[], now: Date): Promise<void> {
  await tx
    .update(trustPages)
    .set({ controlRefs, version: sql`${trustPages.version} + 1`, updatedAt: now })
    .where(eq(trustPages.orgId, orgId));
}
