// /.well-known: security.txt (RFC 9116) and the JWKS of the access-token keys.
// Owns no tables.
