import { index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../identity/tables.js';

export const EVENT_TYPES = [
  'questionnaire.imported',
  'questionnaire.filled',
  'answer.needs_review',
  'question.assigned',
  'questionnaire.due_soon',
  'comment.created',
  'control.updated',
  'profile.fact_changed',
  'library.entry_stale',
  'evidence.expiring',
  'evidence.expired',
  'certification.expiring',
  'access_request.created',
  'access_request.approved',
  'access_request.denied',
  'access_grant.created',
  'access_grant.revoked',
  'access_grant.expired',
  'document.downloaded',
  'trust.update_published',
  'subscriber.confirmed',
  'subscriber.removed',
  'webhook.test',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The outbox: every domain event, written in the same transaction as the change that caused it,
 * so an event exists exactly when its change committed. Webhook deliveries fan out from here.
 */
export const events = pgTable(
  'events',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    type: text('type', { enum: EVENT_TYPES }).notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    requestId: text('request_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.id] }), index('events_type_idx').on(t.orgId, t.type, t.id)],
);

/**
 * Time-driven events already sent (evidence expiring or expired, certifications due): one row per
 * subject and kind, so a notice goes out once however often the scan runs, and from one replica.
 */
export const expiryNotices = pgTable(
  'expiry_notices',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    subjectType: text('subject_type').notNull(),
    subjectId: uuid('subject_id').notNull(),
    kind: text('kind').notNull(),
    /** The date the notice is about (expiry, period end): a renewed subject is noticed again. */
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.subjectType, t.subjectId, t.kind, t.dueAt] })],
);
