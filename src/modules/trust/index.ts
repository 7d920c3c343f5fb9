// The public trust page: its settings, NDA-gated documents, access requests and grants, the
// prospect's portal and analytics.
export {
  accessByDomains,
  activityByDomains,
  type DomainAccessRequest,
  type DomainActivityEvent,
  type DomainGrant,
  type SharedDocument,
} from './account-read.js';
export { scanGrantExpiries } from './access.js';
export { createDocument } from './documents.js';
export { TrustPortal, safeRequestSerializer } from './portal.js';
export { lockPagesChoosing, setChosenControls } from './retirement.js';
export { loadPage, putTrustPage, setLogo, type Subprocessor } from './service.js';
