// The frameworks' catalogs (ISO/IEC 27001, 27017, SOC 2), aliases and crosswalk links, seeded from
// seeds/catalog; read-only for every other module (batched reads in read.ts).
export {
  answerableCatalog,
  answerableControlTerms,
  catalogControlsOf,
  catalogLinks,
  controlHeadingsOf,
  controlKindsOf,
  controlTitlesOf,
  type CatalogControl,
} from './read.js';
export { deleteOverrides, overridesOn, type RetireControls, type RetirementRecord } from './retirement.js';
export { seedCatalogs, type SeedReport } from './seed.js';
export { ANSWERABLE, effectiveCrosswalk, findControl, lookupAnswerable, resolveAnswerable, resolveAnswerableMany } from './service.js';
