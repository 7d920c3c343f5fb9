import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's seeds/ directory: catalogs, crosswalks, the demo, calibration and place tables. */
export const SEEDS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../seeds');
