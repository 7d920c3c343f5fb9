// The demo organization of seeds/demo, loaded at start when SEED_DEMO is on, and its overview PDF;
// owns no tables: it writes through the other modules' APIs.
export { seedDemo } from './seed.js';
