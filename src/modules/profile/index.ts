// The organization profile: facts about the organization that settle fact and scope questions.
// Other modules import from here, never from its files.
export { loadFacts, factStates, existingFactKeys, putFact, deleteFact, getFact, listFacts, type FactInput } from './service.js';
export { factSentence, formatFactValue, type LoadedFact } from './sentences.js';
export { profileCatalog, checkValue, type CatalogFact } from './catalog.js';
export { countriesOf, normalizeCountry, regionCountry, groupOf, inGroup, partlyInGroup, formatList } from './regions.js';
export { FACT_TYPES, FACT_VISIBILITIES, type FactType, type FactValue, type FactVisibility } from './tables.js';
