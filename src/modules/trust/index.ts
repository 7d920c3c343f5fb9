// The public trust page: its settings, NDA-gated documents, access requests and grants, the
// prospect's portal and analytics.
export { scanGrantExpiries } from './access.js';
export { createDocument } from './documents.js';
export { TrustPortal, safeRequestSerializer } from './portal.js';
export { prospectQuestionnaireRoutes } from './prospect-routes.js';
export { trustPublicRoutes } from './public-routes.js';
export { lockPagesChoosing, setChosenControls } from './retirement.js';
export { trustRoutes } from './routes.js';
export { loadPage, putTrustPage, setLogo, type Subprocessor } from './service.js';
