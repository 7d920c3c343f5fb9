// Liveness and readiness (/healthz, /readyz): the database answers and the keys are loaded.
// Owns no tables.
