import type { Db } from './db/client.js';
import type { Clock } from './lib/clock.js';

/** Loads catalogs and, when asked, the demo organization. Idempotent: safe on every start. */
export async function seedDatabase(_db: Db, _opts: { demo: boolean; clock: Clock }): Promise<void> {
  // Catalog and demo content arrive with the content module.
}
