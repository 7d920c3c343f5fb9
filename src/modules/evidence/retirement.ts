// What retiring catalog controls does to evidence links (src/catalog-retire.ts calls these on the
// seeder's transaction, across organizations).
import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { evidenceControls } from './tables.js';

const CHUNK = 1000;

/** An evidence item's link to a control. */
export type EvidenceLink = typeof evidenceControls.$inferSelect;

/** Every organization's evidence links to these controls of one framework. */
export async function evidenceLinksOn(tx: Executor, frameworkId: string, refs: readonly string[]): Promise<EvidenceLink[]> {
  return tx
    .select()
    .from(evidenceControls)
    .where(and(eq(evidenceControls.frameworkId, frameworkId), inArray(evidenceControls.ref, [...refs])));
}

/** Adds these links (in chunks, an existing one left as it is), then deletes every link to these controls of one framework. */
export async function replaceEvidenceLinksOn(tx: Executor, frameworkId: string, refs: readonly string[], links: readonly EvidenceLink[]): Promise<void> {
  for (let i = 0; i < links.length; i += CHUNK)
    await tx
      .insert(evidenceControls)
      .values(links.slice(i, i + CHUNK))
      .onConflictDoNothing();
  await tx.delete(evidenceControls).where(and(eq(evidenceControls.frameworkId, frameworkId), inArray(evidenceControls.ref, [...refs])));
}
