// Webhook endpoints and deliveries: the outbox's events sent signed, with retries and an attempt
// log. Consumes events; the record never calls it.
export { registerWebhookReactions } from './fanout.js';
export { DeliveryWorker } from './worker.js';
