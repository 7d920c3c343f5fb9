import { sql } from 'drizzle-orm';
import { index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** `access_token`: an ES256 key that signs access tokens; `root`: the secret grant, replay and cursor keys are derived from. */
export const KEY_PURPOSES = ['access_token', 'root'] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

/**
 * The instance's own secrets when KEY_ENCRYPTION_KEY is set (no organization: they sign for all).
 * The private material is AES-256-GCM ciphertext (base64) with its IV and tag; the kid and purpose
 * are its associated data, so a row's material cannot be moved to another row.
 */
export const instanceKeys = pgTable(
  'instance_keys',
  {
    kid: text('kid').primaryKey(),
    purpose: text('purpose', { enum: KEY_PURPOSES }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    retiredAt: timestamp('retired_at', { withTimezone: true }),
    iv: text('iv').notNull(),
    authTag: text('auth_tag').notNull(),
    ciphertext: text('ciphertext').notNull(),
  },
  // One root ever: everything derived from it (grant links, sealed replays, cursors) depends on it.
  (t) => [
    index('instance_keys_purpose_idx').on(t.purpose, t.createdAt),
    uniqueIndex('instance_keys_one_root')
      .on(t.purpose)
      .where(sql`${t.purpose} = 'root'`),
  ],
);
