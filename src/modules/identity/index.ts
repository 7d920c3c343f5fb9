// Organizations, users, memberships, invitations, API keys and sign-in (passwords, SSO, login
// throttling), and the access-token key ring.
export { KeyRing } from './keys.js';
export { anOwnerOf, insertOrganizationWithOwner, memberEmails, membersAmong, organizationBySlug, organizationSummaries } from './read.js';
export { authenticate, type IdentityDeps } from './service.js';
export { SsoVerifier } from './sso.js';
export { LoginThrottle } from './throttle.js';
