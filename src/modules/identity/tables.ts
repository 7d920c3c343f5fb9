import { sql } from 'drizzle-orm';
import { index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid, foreignKey } from 'drizzle-orm/pg-core';
import { ROLES, type Role } from '../../lib/roles.js';

export { ROLES, type Role };

export const organizations = pgTable(
  'organizations',
  {
    id: uuid('id').primaryKey(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('organizations_slug_key').on(t.slug)],
);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    email: text('email').notNull(),
    name: text('name'),
    /** Null until an invited user sets a password. */
    passwordHash: text('password_hash'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('users_email_key').on(sql`lower(${t.email})`)],
);

export const memberships = pgTable(
  'memberships',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ROLES }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.userId] }), index('memberships_user_idx').on(t.userId)],
);

export const invitations = pgTable(
  'invitations',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    email: text('email').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    tokenHash: text('token_hash').notNull(),
    invitedBy: uuid('invited_by').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.id] }), uniqueIndex('invitations_token_key').on(t.tokenHash)],
);

export const apiKeys = pgTable(
  'api_keys',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    /** The visible, non-secret part of the key, used to find the row. */
    prefix: text('prefix').notNull(),
    /** SHA-256 of the whole key: the key is 256 random bits, so a slow KDF adds nothing. */
    keyHash: text('key_hash').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    /** Null: everything the role allows; otherwise only these scopes (e.g. controls:read). */
    scopes: text('scopes').array(),
    createdBy: uuid('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    uniqueIndex('api_keys_prefix_key').on(t.prefix),
    foreignKey({ columns: [t.orgId, t.createdBy], foreignColumns: [memberships.orgId, memberships.userId] }).onDelete('cascade'),
    // Removing a member cascades to their keys: without this, a scan of every tenant's keys.
    index('api_keys_created_by_idx').on(t.orgId, t.createdBy),
  ],
);

/**
 * Failed-login counters per account, in the database so every replica sees the same lock-out.
 * Keyed by a hash of the normalized email, whether or not an account exists, so the answer never
 * tells an attacker which addresses are registered; not a tenant table (logins precede tenancy).
 */
export const loginThrottle = pgTable(
  'login_throttle',
  {
    /** SHA-256 of the lower-cased email. */
    subject: text('subject').primaryKey(),
    /** Attempts counted in the current window (successes reset the row). */
    failures: integer('failures').notNull(),
    windowStartedAt: timestamp('window_started_at', { withTimezone: true }).notNull(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
  },
  (t) => [index('login_throttle_window_idx').on(t.windowStartedAt)],
);
