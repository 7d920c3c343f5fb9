// An organization's certifications and attest reports with their validity, the evidence behind
// them and their expiry notices.
export { scanCertificationExpiries } from './expiry.js';
export { existingCertificationIds } from './read.js';
export { createCertification, listCertificationsForOrg, type CertificationInput, type CertificationView } from './service.js';
