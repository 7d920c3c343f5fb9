// The public trust page: its settings, NDA-gated documents, access requests and grants, the
// prospect's portal and analytics.
export { scanGrantExpiries } from './access.js';
export { createDocument } from './documents.js';
export { TrustPortal, safeRequestSerializer } from './portal.js';
export { lockPagesChoosing, setChosenControls } from './retirement.js';
export { loadPage, putTrustPage, setLogo, type Subprocessor } from './service.js';
