// Idempotency-Key: a request's first answer stored sealed and replayed to its retries; a different
// request under the same key is refused. Owns idempotency_keys.
export { ReplaySealer } from './seal.js';
export { completeIdempotencyKey, dropIdempotencyKey, insertIdempotencyKey, liveIdempotencyKey, sweepIdempotencyKeys } from './store.js';
