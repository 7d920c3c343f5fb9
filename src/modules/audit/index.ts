// The audit trail: who changed what, written in the transaction of the change, and its reads.
// Owns the audit table; other modules write through recordAudit and recordAuditsAcross only.
export { recordAudit, recordAudits, recordAuditsAcross, type AuditContext } from './service.js';
