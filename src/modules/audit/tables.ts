import { index, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../identity/tables.js';

/** Append-only: a trigger in the migrations refuses UPDATE and DELETE. */
export const auditEvents = pgTable(
  'audit_events',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** UUIDv7: time-ordered, so it doubles as the pagination key. */
    id: uuid('id').notNull(),
    actorType: text('actor_type', { enum: ['user', 'api_key', 'system', 'public'] }).notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    requestId: text('request_id'),
    summary: jsonb('summary').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    index('audit_events_target_idx').on(t.orgId, t.targetType, t.targetId, t.id),
    index('audit_events_actor_idx').on(t.orgId, t.actorId, t.id),
  ],
);
