// What retiring catalog controls does to library entries' controls (src/catalog-retire.ts calls
// these on the seeder's transaction, across organizations).
import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { libraryEntryControls } from './tables.js';

const CHUNK = 1000;

/** A library entry's link to a control, with its place among the entry's controls. */
export type LibraryLink = typeof libraryEntryControls.$inferSelect;

/** Every organization's library links to these controls of one framework. */
export async function libraryLinksOn(tx: Executor, frameworkId: string, refs: readonly string[]): Promise<LibraryLink[]> {
  return tx
    .select()
    .from(libraryEntryControls)
    .where(and(eq(libraryEntryControls.frameworkId, frameworkId), inArray(libraryEntryControls.ref, [...refs])));
}

/** Adds these links (in chunks, an existing one left as it is), then deletes every link to these controls of one framework. */
export async function replaceLibraryLinksOn(tx: Executor, frameworkId: string, refs: readonly string[], links: readonly LibraryLink[]): Promise<void> {
  for (let i = 0; i < links.length; i += CHUNK)
    await tx
      .insert(libraryEntryControls)
      .values(links.slice(i, i + CHUNK))
      .onConflictDoNothing();
  await tx.delete(libraryEntryControls).where(and(eq(libraryEntryControls.frameworkId, frameworkId), inArray(libraryEntryControls.ref, [...refs])));
}
