// Versioned files: items whose file or link comes in numbered versions (evidence, trust documents),
// their blob refs, text index, audit and downloads. Owns no tables: each owner passes its own.
export { VersionedFiles, indexView, reprDigest, versionView, type FileKind, type VersionContent } from './service.js';
