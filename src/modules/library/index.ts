// The answer library: reviewed answers an organization reuses, marked stale when the record they
// rest on changes (reactions), imports, and the public FAQ.
export { registerLibraryReactions } from './reactions.js';
export { entryFlagsOf, entrySearchTerms, publicFaqEntries } from './read.js';
export { libraryLinksOn, replaceLibraryLinksOn } from './retirement.js';
export { LibraryEntry, Owner } from './schemas.js';
export { createEntry, entryStates, reusableEntries, type Choice, type ReusableEntry } from './service.js';
