// Evidence: files and links with versions, validity and expiry, linked to controls, and the expiry
// scan. Owns the evidence tables; the bytes are blobs.
export { scanEvidenceExpiries } from './expiry.js';
export { controlsOfEvidence, evidenceStates, existingEvidenceIds } from './read.js';
export { evidenceLinksOn, replaceEvidenceLinksOn } from './retirement.js';
export { createEvidence, evidenceByControl } from './service.js';
