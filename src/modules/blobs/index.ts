// File bytes by SHA-256 and who refers to them: uploads hold leases, owners hold refs, GC removes
// the rest. Owns blob_refs and blob_leases; the bytes live in a backend (DATA_DIR files or S3).
export { BlobService, addBlobRef, discardBlob, dropBlobRefs, type SweepResult } from './service.js';
