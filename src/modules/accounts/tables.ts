import { sql } from 'drizzle-orm';
import { foreignKey, index, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { organizations } from '../identity/tables.js';
import { questionnaires } from '../questionnaires/tables.js';

/**
 * A customer (or prospect) the organization deals with: its questionnaires, NDA state and
 * trust-page activity are gathered under it by e-mail domain and by questionnaires attached by id.
 */
export const accounts = pgTable(
  'accounts',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
    /**
     * Lower-cased e-mail domains (`buyer.example.com`). A domain belongs to at most one account of
     * the organization: the service checks it under a per-organization lock (no index can say it of array elements).
     */
    domains: text('domains')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /** The account's id in the organization's CRM (e.g. a Salesforce account id): stored, never interpreted. */
    crmRef: text('crm_ref'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.id] }),
    // Names compare case aside, so "Buyer Inc" and "buyer inc" are one account.
    uniqueIndex('accounts_name_key').on(t.orgId, sql`lower(${t.name})`),
    // The ?domain= filter and the clash check (domains && ...).
    index('accounts_domains_idx').using('gin', t.domains),
  ],
);

/** Questionnaires attached to an account by id; one account per questionnaire (attaching elsewhere moves it). */
export const accountQuestionnaires = pgTable(
  'account_questionnaires',
  {
    orgId: uuid('org_id').notNull(),
    accountId: uuid('account_id').notNull(),
    questionnaireId: uuid('questionnaire_id').notNull(),
    attachedAt: timestamp('attached_at', { withTimezone: true }).notNull(),
    attachedBy: text('attached_by').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.questionnaireId] }),
    index('account_questionnaires_account_idx').on(t.orgId, t.accountId),
    foreignKey({ name: 'account_questionnaires_account_fk', columns: [t.orgId, t.accountId], foreignColumns: [accounts.orgId, accounts.id] }).onDelete(
      'cascade',
    ),
    // A deleted questionnaire leaves its account with it.
    foreignKey({
      name: 'account_questionnaires_questionnaire_fk',
      columns: [t.orgId, t.questionnaireId],
      foreignColumns: [questionnaires.orgId, questionnaires.id],
    }).onDelete('cascade'),
  ],
);
