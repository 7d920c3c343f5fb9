// Every domain's tables, for drizzle's typed handle and drizzle-kit.
export * from '../modules/identity/tables.js';
export * from '../modules/audit/tables.js';
export * from '../modules/catalog/tables.js';
export * from '../modules/controls/tables.js';
export * from '../modules/evidence/tables.js';
export * from '../modules/certifications/tables.js';
export * from '../modules/events/tables.js';
export * from '../modules/webhooks/tables.js';
export * from '../modules/mail/tables.js';
export * from '../modules/idempotency/tables.js';
export * from '../modules/trust/tables.js';
export * from '../modules/questionnaires/tables.js';
export * from '../modules/library/tables.js';
export * from '../modules/blobs/tables.js';
export * from '../modules/profile/tables.js';
export * from '../modules/knowledge/tables.js';
export * from '../modules/keystore/tables.js';
