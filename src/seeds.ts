import { SEEDS_DIR } from './lib/seeds-dir.js';
import type { Db } from './db/client.js';
import type { Clock } from './lib/clock.js';
import { seedCatalogs as loadCatalogs, type SeedReport } from './modules/catalog/index.js';
import { retireControls } from './catalog-retire.js';
import { seedDemo } from './modules/demo/index.js';
import type { BlobStore } from './lib/storage.js';

export { SEEDS_DIR };

/**
 * Loads catalogs and, when asked, the demo organization. Idempotent: safe on every start. The
 * report says what a new catalog version retired and what became of organizations' data on it.
 */
/**
 * Loads catalogs and crosswalks; a catalog version that drops controls moves organizations' data
 * off them first (retireControls, which reads the modules above the catalog).
 */
export async function seedCatalogs(db: Db, seedsDir: string = SEEDS_DIR, opts: { clock?: Clock } = {}): Promise<SeedReport> {
  return loadCatalogs(db, seedsDir, { ...opts, retire: retireControls });
}

export async function seedDatabase(db: Db, opts: { clock: Clock; seedsDir?: string; demo?: { blobs: BlobStore } }): Promise<SeedReport> {
  const dir = opts.seedsDir ?? SEEDS_DIR;
  const report = await seedCatalogs(db, dir, { clock: opts.clock });
  if (opts.demo) await seedDemo(db, dir, opts.clock, opts.demo.blobs);
  return report;
}
