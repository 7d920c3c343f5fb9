import { and, arrayContains, arrayOverlaps, desc, eq, inArray, lt, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { requireRole, type ServiceContext } from '../../lib/context.js';
import { DomainError, badRequest, isUniqueViolation, notFound, type FieldError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { recordAudit } from '../audit/index.js';
import { prospectQuestionnairesByDomains, questionnairesByIds, type QuestionnaireSummary } from '../questionnaires/index.js';
import { accessByDomains, activityByDomains } from '../trust/index.js';
import { accountQuestionnaires, accounts } from './tables.js';

type AccountRow = typeof accounts.$inferSelect;

export interface AccountInput {
  name: string;
  domains?: string[];
  crmRef?: string | null;
}

export type AccountPatch = Partial<AccountInput>;

/** A questionnaire is due when its due date is this close, or past. */
export const DUE_WITHIN_MS = 7 * 86_400_000;

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/;

/** Lower-cased, without a leading `@`, each once; a value that is no domain is a 400 naming it. */
export function normalizeDomains(domains: readonly string[]): string[] {
  const errors: FieldError[] = [];
  const out = new Set<string>();
  domains.forEach((raw, i) => {
    const d = raw.trim().toLowerCase().replace(/^@/, '');
    if (DOMAIN.test(d)) out.add(d);
    else errors.push({ field: `body/domains/${i}`, message: `"${raw}" is not an e-mail domain (e.g. buyer.example.com)` });
  });
  if (errors.length > 0) throw badRequest('domains must be e-mail domains', errors);
  return [...out];
}

export function accountView(r: AccountRow) {
  return {
    id: r.id,
    name: r.name,
    domains: r.domains,
    crmRef: r.crmRef,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

const nameTaken = (name: string) => new DomainError('conflict', `an account named "${name}" already exists`);

/**
 * Refuses domains another account of the organization has. Callers hold the organization's
 * account lock, so two writes cannot both pass the check with the same domain.
 */
async function assertDomainsFree(tx: Executor, orgId: string, domains: string[], exceptId?: string) {
  if (domains.length === 0) return;
  const clash = await tx
    .select({ id: accounts.id, name: accounts.name, domains: accounts.domains })
    .from(accounts)
    .where(and(eq(accounts.orgId, orgId), arrayOverlaps(accounts.domains, domains), exceptId ? ne(accounts.id, exceptId) : undefined))
    .limit(1);
  const other = clash[0];
  if (other) {
    const taken = domains.filter((d) => other.domains.includes(d));
    throw new DomainError('conflict', `${taken.join(', ')} already belongs to the account "${other.name}" (${other.id})`);
  }
}

/** One writer of an organization's account domains at a time, for this transaction. */
const lockAccounts = (tx: Executor, orgId: string) => tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`accounts:${orgId}`}, 0))`);

export async function createAccount(ctx: ServiceContext, input: AccountInput) {
  requireRole(ctx.actor, 'editor');
  const name = input.name.trim();
  if (!name) throw badRequest('name must not be blank', [{ field: 'body/name', message: 'must not be blank' }]);
  const domains = normalizeDomains(input.domains ?? []);
  const now = ctx.clock();
  try {
    return await ctx.db.transaction(async (tx) => {
      await lockAccounts(tx, ctx.orgId);
      await assertDomainsFree(tx, ctx.orgId, domains);
      const [row] = await tx
        .insert(accounts)
        .values({ orgId: ctx.orgId, id: newId(), name, domains, crmRef: input.crmRef?.trim() || null, createdAt: now, updatedAt: now })
        .returning();
      await recordAudit(tx, ctx, { action: 'account.created', targetType: 'account', targetId: row!.id, summary: { name, domains, crmRef: row!.crmRef } });
      return accountView(row!);
    });
  } catch (err) {
    if (isUniqueViolation(err, 'accounts_name_key')) throw nameTaken(name);
    throw err;
  }
}

export async function updateAccount(ctx: ServiceContext, id: string, patch: AccountPatch) {
  requireRole(ctx.actor, 'editor');
  const name = patch.name?.trim();
  if (name === '') throw badRequest('name must not be blank', [{ field: 'body/name', message: 'must not be blank' }]);
  const domains = patch.domains ? normalizeDomains(patch.domains) : undefined;
  const now = ctx.clock();
  try {
    return await ctx.db.transaction(async (tx) => {
      if (domains) await lockAccounts(tx, ctx.orgId);
      const [before] = await tx
        .select()
        .from(accounts)
        .where(and(eq(accounts.orgId, ctx.orgId), eq(accounts.id, id)))
        .for('update');
      if (!before) throw notFound('account');
      if (domains) await assertDomainsFree(tx, ctx.orgId, domains, id);
      const set = {
        ...(name !== undefined ? { name } : {}),
        ...(domains ? { domains } : {}),
        ...(patch.crmRef !== undefined ? { crmRef: patch.crmRef?.trim() || null } : {}),
        updatedAt: now,
      };
      const [row] = await tx
        .update(accounts)
        .set(set)
        .where(and(eq(accounts.orgId, ctx.orgId), eq(accounts.id, id)))
        .returning();
      const changed = Object.keys(set).filter((k) => k !== 'updatedAt');
      await recordAudit(tx, ctx, {
        action: 'account.updated',
        targetType: 'account',
        targetId: id,
        summary: { changed, ...(domains ? { domains: { from: before.domains, to: domains } } : {}), ...(name !== undefined ? { name } : {}) },
      });
      return accountView(row!);
    });
  } catch (err) {
    if (isUniqueViolation(err, 'accounts_name_key')) throw nameTaken(name ?? '');
    throw err;
  }
}

/** Newest first (ids are uuidv7), keyset-paged; `domain` narrows to the account that has it. */
export async function listAccounts(ctx: ServiceContext, q: { limit: number; cursor?: string; domain?: string }) {
  const after = decodeCursor(q.cursor, ['uuid']);
  const domain = q.domain?.trim().toLowerCase().replace(/^@/, '');
  const rows = await ctx.db
    .select()
    .from(accounts)
    .where(and(eq(accounts.orgId, ctx.orgId), domain ? arrayContains(accounts.domains, [domain]) : undefined, after ? lt(accounts.id, after) : undefined))
    .orderBy(desc(accounts.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  return { items: page.items.map(accountView), nextCursor: page.nextCursor };
}

async function loadAccount(db: Executor, orgId: string, id: string): Promise<AccountRow> {
  const [row] = await db
    .select()
    .from(accounts)
    .where(and(eq(accounts.orgId, orgId), eq(accounts.id, id)));
  if (!row) throw notFound('account');
  return row;
}

/** Attaches a questionnaire of the organization by id; one attached to another account moves here. */
export async function attachQuestionnaire(ctx: ServiceContext, id: string, questionnaireId: string) {
  requireRole(ctx.actor, 'editor');
  await loadAccount(ctx.db, ctx.orgId, id);
  const [found] = await questionnairesByIds(ctx, [questionnaireId]);
  if (!found) throw notFound('questionnaire');
  const now = ctx.clock();
  await ctx.db.transaction(async (tx) => {
    const [before] = await tx
      .select({ accountId: accountQuestionnaires.accountId })
      .from(accountQuestionnaires)
      .where(and(eq(accountQuestionnaires.orgId, ctx.orgId), eq(accountQuestionnaires.questionnaireId, questionnaireId)))
      .for('update');
    if (before?.accountId === id) return;
    await tx
      .insert(accountQuestionnaires)
      .values({ orgId: ctx.orgId, accountId: id, questionnaireId, attachedAt: now, attachedBy: ctx.actor.id })
      .onConflictDoUpdate({
        target: [accountQuestionnaires.orgId, accountQuestionnaires.questionnaireId],
        set: { accountId: id, attachedAt: now, attachedBy: ctx.actor.id },
      });
    await recordAudit(tx, ctx, {
      action: 'account.questionnaire_attached',
      targetType: 'account',
      targetId: id,
      summary: { questionnaireId, name: found.name, movedFrom: before?.accountId ?? null },
    });
  });
}

export async function detachQuestionnaire(ctx: ServiceContext, id: string, questionnaireId: string) {
  requireRole(ctx.actor, 'editor');
  await loadAccount(ctx.db, ctx.orgId, id);
  await ctx.db.transaction(async (tx) => {
    const gone = await tx
      .delete(accountQuestionnaires)
      .where(
        and(eq(accountQuestionnaires.orgId, ctx.orgId), eq(accountQuestionnaires.accountId, id), eq(accountQuestionnaires.questionnaireId, questionnaireId)),
      )
      .returning({ questionnaireId: accountQuestionnaires.questionnaireId });
    if (gone.length === 0) throw notFound('questionnaire attached to this account');
    await recordAudit(tx, ctx, { action: 'account.questionnaire_detached', targetType: 'account', targetId: id, summary: { questionnaireId } });
  });
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/** Open: answers still to approve, and not yet released to the prospect (a released file is done). */
const isOpen = (q: QuestionnaireSummary) => q.releasedAt === null && (q.status === 'failed' || q.counts.approved < q.counts.total);

/**
 * The account with everything that belongs to it: questionnaires attached by id, and those
 * prospects of its domains uploaded (unless attached to another account); access requests,
 * grants, the documents they share and grantees' visits, by e-mail domain; and a summary.
 */
export async function getAccount(ctx: ServiceContext, id: string) {
  const account = await loadAccount(ctx.db, ctx.orgId, id);
  const attachedRows = await ctx.db
    .select({ questionnaireId: accountQuestionnaires.questionnaireId, attachedAt: accountQuestionnaires.attachedAt })
    .from(accountQuestionnaires)
    .where(and(eq(accountQuestionnaires.orgId, ctx.orgId), eq(accountQuestionnaires.accountId, id)));
  const now = ctx.clock();
  const [attached, byDomain, access, activity] = await Promise.all([
    questionnairesByIds(
      ctx,
      attachedRows.map((r) => r.questionnaireId),
    ),
    prospectQuestionnairesByDomains(ctx, account.domains),
    accessByDomains(ctx, account.domains, now),
    activityByDomains(ctx, account.domains),
  ]);
  // A prospect's questionnaire attached to another account by id belongs there, not here.
  const elsewhere =
    byDomain.length === 0
      ? new Set<string>()
      : new Set(
          (
            await ctx.db
              .select({ questionnaireId: accountQuestionnaires.questionnaireId })
              .from(accountQuestionnaires)
              .where(
                and(
                  eq(accountQuestionnaires.orgId, ctx.orgId),
                  ne(accountQuestionnaires.accountId, id),
                  inArray(
                    accountQuestionnaires.questionnaireId,
                    byDomain.map((q) => q.id),
                  ),
                ),
              )
          ).map((r) => r.questionnaireId),
        );
  const attachedAt = new Map(attachedRows.map((r) => [r.questionnaireId, r.attachedAt]));
  const seen = new Set<string>();
  const questionnaires = [
    ...attached.map((q) => ({ q, via: 'attached' as const })),
    ...byDomain.filter((q) => !elsewhere.has(q.id)).map((q) => ({ q, via: 'domain' as const })),
  ]
    .filter(({ q }) => !seen.has(q.id) && seen.add(q.id))
    .sort((a, b) => (a.q.id < b.q.id ? 1 : a.q.id > b.q.id ? -1 : 0));

  const open = questionnaires.filter(({ q }) => isOpen(q));
  const summary = {
    questionnairesOpen: open.length,
    questionnairesDue: open.filter(({ q }) => q.dueAt !== null && q.dueAt.getTime() - now.getTime() <= DUE_WITHIN_MS).length,
    documentsShared: access.documents.length,
    ndaAccepted: access.accessRequests.some((r) => r.ndaAccepted) || access.grants.some((g) => g.ndaAccepted),
    lastVisitAt: iso(activity.lastVisitAt),
  };
  return {
    ...accountView(account),
    summary,
    questionnaires: questionnaires.map(({ q, via }) => ({
      id: q.id,
      name: q.name,
      status: q.status,
      origin: q.origin,
      via,
      attachedAt: iso(attachedAt.get(q.id) ?? null),
      prospect: q.prospect,
      counts: q.counts,
      open: isOpen(q),
      dueAt: iso(q.dueAt),
      releasedAt: iso(q.releasedAt),
      createdAt: q.createdAt.toISOString(),
      updatedAt: q.updatedAt.toISOString(),
    })),
    accessRequests: access.accessRequests.map((r) => ({ ...r, ndaAcceptedAt: r.ndaAcceptedAt.toISOString(), createdAt: r.createdAt.toISOString() })),
    grants: access.grants.map((g) => ({
      ...g,
      ndaAcceptedAt: iso(g.ndaAcceptedAt),
      expiresAt: g.expiresAt.toISOString(),
      createdAt: g.createdAt.toISOString(),
      lastUsedAt: iso(g.lastUsedAt),
    })),
    documentsShared: access.documents,
    trustActivity: {
      visits: activity.visits,
      downloads: activity.downloads,
      events: activity.events.map((e) => ({ ...e, at: e.at.toISOString() })),
    },
  };
}
