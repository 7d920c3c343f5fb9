// The instance's own keys in the database (KEY_ENCRYPTION_KEY): access-token signing keys and the
// root secret, encrypted with AES-256-GCM. Not a tenant module.
export { KeyStore } from './store.js';
