// The outbox: domain events recorded in the transaction that caused them, the reactions run in that
// transaction, and the event vocabulary; webhooks and the library consume it.
export { SCAN_BATCH, noticeKey, noticeNotSent, sendNotice, sentNotices } from './expiry.js';
export { EVENT_PAYLOADS } from './payloads.js';
export { TRUST_UPDATE_AUDIENCES, TRUST_UPDATE_CATEGORIES } from './vocabulary.js';
export {
  EVENT_TYPES,
  deriveOn,
  emitEvent,
  emitEvents,
  eventsByIds,
  onRecorded,
  onSignal,
  recordEventOnly,
  signal,
  type EventContext,
  type EventInput,
  type EventType,
  type RecordedEvent,
} from './service.js';
