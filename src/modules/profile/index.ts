// The organization profile: facts about the organization that settle fact and scope questions.
// Other modules import from here, never from its files.
export { profileRoutes } from './routes.js';
export {
  loadFacts,
  factStates,
  existingFactKeys,
  factSentence,
  formatFactValue,
  putFact,
  deleteFact,
  getFact,
  listFacts,
  type LoadedFact,
  type FactInput,
} from './service.js';
export { profileCatalog, checkValue, type CatalogFact } from './catalog.js';
export { countriesOf, normalizeCountry, regionCountry, groupOf, inGroup, formatList } from './regions.js';
export { FACT_TYPES, FACT_VISIBILITIES, type FactType, type FactValue, type FactVisibility } from './tables.js';
