import { index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../identity/tables.js';

export const MAIL_KINDS = ['invitation', 'access_grant', 'subscription_confirmation', 'trust_update', 'assignment', 'mention', 'due_soon'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];
export const MAIL_STATUSES = ['pending', 'retrying', 'sent', 'failed'] as const;
export type MailStatus = (typeof MAIL_STATUSES)[number];

/**
 * The mail outbox: every message, written in the transaction of the change that caused it and
 * sent by the mail worker after commit. Without SMTP_URL rows stay pending (and listed), never dropped.
 */
export const mailOutbox = pgTable(
  'mail_outbox',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    kind: text('kind', { enum: MAIL_KINDS }).notNull(),
    /** One recipient per row: a failure or an unsubscribe concerns one address. */
    recipient: text('recipient').notNull(),
    subject: text('subject').notNull(),
    /** The plain-text and HTML parts; emptied once sent, since they may carry one-time links. */
    textBody: text('text_body').notNull(),
    htmlBody: text('html_body').notNull(),
    headers: jsonb('headers').$type<Record<string, string>>().notNull(),
    status: text('status', { enum: MAIL_STATUSES }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    /** A worker's claim; a crashed worker's claim lapses and the message is picked up again. */
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    lastError: text('last_error'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    index('mail_outbox_due_idx').on(t.status, t.nextAttemptAt),
    index('mail_outbox_status_idx').on(t.orgId, t.status, t.id),
  ],
);
