// The profile's I/O-free API: the catalog, places and facts as words, with no database or
// services behind them, so that a worker thread (the fill's drafting) can load them alone.
export { profileCatalog, type CatalogFact } from './catalog.js';
export { countriesOf, formatList, groupOf, inGroup, partlyInGroup, normalizeCountry, regionCountry } from './regions.js';
export { factSentence, formatFactValue, type LoadedFact } from './sentences.js';
