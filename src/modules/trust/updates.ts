import { and, desc, eq, gt, isNull, lt } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { requireRole, type ServiceContext } from '../../lib/context.js';
import { DomainError, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { recordAudit } from '../audit/index.js';
import { emitEvent } from '../events/index.js';
import { organizationSummaries } from '../identity/index.js';
import { escapeHtml, mailHtml, queueMails, type MailMessage } from '../mail/index.js';
import { renderMarkdown } from './markdown.js';
import { granteeOptOutParts, optedOutAmong, unsubscribeParts, type SubscriptionDeps } from './subscriptions.js';
import { accessGrants, trustSubscribers, trustUpdates, type TrustUpdateAudience, type TrustUpdateCategory, type TrustUpdateStatus } from './tables.js';
import { updateView, type UpdateRow } from './update-store.js';

export interface UpdateInput {
  title?: string;
  body?: string;
  category?: TrustUpdateCategory;
  audience?: TrustUpdateAudience;
  effectiveAt?: string | null;
}

function cleaned(input: UpdateInput) {
  const title = input.title?.trim();
  const body = input.body?.trim();
  const errors = [
    ...(input.title !== undefined && !title ? [{ field: 'body/title', message: 'must not be empty' }] : []),
    ...(input.body !== undefined && !body ? [{ field: 'body/body', message: 'must not be empty' }] : []),
  ];
  if (errors.length > 0) throw new DomainError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
  return {
    ...(title !== undefined ? { title } : {}),
    ...(body !== undefined ? { body } : {}),
    ...(input.category !== undefined ? { category: input.category } : {}),
    ...(input.audience !== undefined ? { audience: input.audience } : {}),
    ...(input.effectiveAt !== undefined ? { effectiveAt: input.effectiveAt === null ? null : new Date(input.effectiveAt) } : {}),
  };
}

export async function createUpdate(ctx: ServiceContext, input: Required<Pick<UpdateInput, 'title' | 'body' | 'category'>> & UpdateInput) {
  requireRole(ctx.actor, 'editor');
  const now = ctx.clock();
  const values = cleaned(input);
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(trustUpdates)
      .values({
        orgId: ctx.orgId,
        id: newId(),
        title: values.title!,
        body: values.body!,
        category: values.category!,
        audience: values.audience ?? 'public',
        effectiveAt: values.effectiveAt ?? null,
        status: 'draft',
        origin: 'manual',
        createdBy: ctx.actor.id,
        version: 1,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await recordAudit(tx, ctx, { action: 'trust_update.created', targetType: 'trust_update', targetId: row!.id, summary: { category: row!.category } });
    return updateView(row!);
  });
}

export async function listUpdates(ctx: ServiceContext, q: { limit: number; cursor?: string; status?: TrustUpdateStatus }) {
  const after = decodeCursor(q.cursor, ['uuid']);
  const rows = await ctx.db
    .select()
    .from(trustUpdates)
    .where(and(eq(trustUpdates.orgId, ctx.orgId), q.status ? eq(trustUpdates.status, q.status) : undefined, after ? lt(trustUpdates.id, after) : undefined))
    .orderBy(desc(trustUpdates.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  return { items: page.items.map(updateView), nextCursor: page.nextCursor };
}

async function load(db: Executor, orgId: string, id: string, lock = false): Promise<UpdateRow> {
  const q = db
    .select()
    .from(trustUpdates)
    .where(and(eq(trustUpdates.orgId, orgId), eq(trustUpdates.id, id)));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw notFound('trust update');
  return row;
}

export async function getUpdate(ctx: ServiceContext, id: string) {
  return updateView(await load(ctx.db, ctx.orgId, id));
}

/** Edits a draft, or corrects a published update (the page and feed show the correction; nobody is mailed again). */
export async function patchUpdate(ctx: ServiceContext, id: string, input: UpdateInput) {
  requireRole(ctx.actor, 'editor');
  const values = cleaned(input);
  return ctx.db.transaction(async (tx) => {
    const row = await load(tx, ctx.orgId, id, true);
    const [saved] = await tx
      .update(trustUpdates)
      .set({ ...values, version: row.version + 1, updatedAt: ctx.clock() })
      .where(and(eq(trustUpdates.orgId, ctx.orgId), eq(trustUpdates.id, id)))
      .returning();
    await recordAudit(tx, ctx, { action: 'trust_update.updated', targetType: 'trust_update', targetId: id, summary: { changed: Object.keys(values) } });
    return updateView(saved!);
  });
}

/** Deletes a draft; a published update stays (the page, feed and sent mail refer to it): a 409. */
export async function deleteUpdate(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'editor');
  await ctx.db.transaction(async (tx) => {
    const row = await load(tx, ctx.orgId, id, true);
    if (row.status !== 'draft') throw new DomainError('conflict', 'a published update cannot be deleted; correct it with PATCH instead');
    await tx.delete(trustUpdates).where(and(eq(trustUpdates.orgId, ctx.orgId), eq(trustUpdates.id, id)));
    await recordAudit(tx, ctx, { action: 'trust_update.deleted', targetType: 'trust_update', targetId: id, summary: { title: row.title, origin: row.origin } });
  });
}

const CATEGORY_LABELS: Record<TrustUpdateCategory, string> = {
  security: 'Security',
  subprocessor: 'Subprocessors',
  certification: 'Certifications',
  incident: 'Incident',
  general: 'General',
};

function updateMail(
  org: { name: string; slug: string },
  u: UpdateRow,
  pageUrl: string,
  to: string,
  footer: { text: string; html: string; headers?: Record<string, string> },
): MailMessage {
  const effective = u.effectiveAt ? `Effective ${u.effectiveAt.toISOString().slice(0, 10)}.` : '';
  const link = `${pageUrl}#update-${u.id}`;
  return {
    kind: 'trust_update',
    to,
    subject: `${org.name}: ${u.title}`,
    text: [`${CATEGORY_LABELS[u.category]}: ${u.title}`, effective, u.body, `Read it on the trust center: ${link}`, footer.text].filter(Boolean).join('\n\n'),
    html: mailHtml(
      u.title,
      `<p>${escapeHtml(CATEGORY_LABELS[u.category])}</p>
<h1>${escapeHtml(u.title)}</h1>
${effective ? `<p>${escapeHtml(effective)}</p>` : ''}
${renderMarkdown(u.body, 2)}
<p><a href="${escapeHtml(link)}">Read it on the ${escapeHtml(org.name)} trust center</a></p>`,
      footer.html,
    ),
    ...(footer.headers ? { headers: footer.headers } : {}),
  };
}

/**
 * Publishes an update: it shows on the page, its JSON and the Atom feed (audience public), and
 * with notify `all` one message per recipient is queued in the same transaction: confirmed
 * subscribers following its category (each with their unsubscribe link and RFC 8058 headers), or
 * for audience `grantees` the holders of active grants, but those who opted out through an earlier
 * notice's link (theirs is in every such message, with the same headers). Publishing twice is a 409.
 */
export async function publishUpdate(deps: SubscriptionDeps, ctx: ServiceContext, id: string, input: { notify: 'all' | 'none' }) {
  requireRole(ctx.actor, 'admin');
  return ctx.db.transaction(async (tx) => {
    const row = await load(tx, ctx.orgId, id, true);
    if (row.status === 'published') throw new DomainError('conflict', 'this update is already published');
    const now = ctx.clock();
    const org = (await organizationSummaries(tx, [ctx.orgId])).get(ctx.orgId)!;
    const pageUrl = `${deps.publicUrl}/trust/${org.slug}`;
    const messages: MailMessage[] = [];
    if (input.notify === 'all' && row.audience === 'public') {
      const subs = await tx
        .select({ id: trustSubscribers.id, email: trustSubscribers.email, topics: trustSubscribers.topics })
        .from(trustSubscribers)
        .where(and(eq(trustSubscribers.orgId, ctx.orgId), eq(trustSubscribers.status, 'confirmed')));
      for (const s of subs) {
        if (s.topics.length > 0 && !s.topics.includes(row.category)) continue;
        messages.push(updateMail(org, row, pageUrl, s.email, unsubscribeParts(deps, { ...org, id: ctx.orgId }, s)));
      }
    } else if (input.notify === 'all') {
      const grants = await tx
        .selectDistinct({ email: accessGrants.email })
        .from(accessGrants)
        .where(and(eq(accessGrants.orgId, ctx.orgId), isNull(accessGrants.revokedAt), gt(accessGrants.expiresAt, now)));
      // Those who opted out through an earlier notice's link get no more.
      const out = await optedOutAmong(
        tx,
        ctx.orgId,
        grants.map((g) => g.email),
      );
      for (const g of grants) {
        if (out.has(g.email)) continue;
        messages.push(updateMail(org, row, pageUrl, g.email, granteeOptOutParts(deps, { ...org, id: ctx.orgId }, g.email)));
      }
    }
    await queueMails(tx, ctx, messages);
    const [saved] = await tx
      .update(trustUpdates)
      .set({
        status: 'published',
        publishedAt: now,
        publishedBy: ctx.actor.id,
        notify: input.notify,
        recipients: messages.length,
        version: row.version + 1,
        updatedAt: now,
      })
      .where(and(eq(trustUpdates.orgId, ctx.orgId), eq(trustUpdates.id, id), eq(trustUpdates.status, 'draft')))
      .returning();
    await recordAudit(tx, ctx, {
      action: 'trust_update.published',
      targetType: 'trust_update',
      targetId: id,
      summary: { notify: input.notify, recipients: messages.length },
    });
    await emitEvent(tx, ctx, 'trust.update_published', {
      updateId: id,
      title: row.title,
      category: row.category,
      audience: row.audience,
      publishedAt: now.toISOString(),
      effectiveAt: row.effectiveAt?.toISOString() ?? null,
      notify: input.notify,
      recipients: messages.length,
    });
    return updateView(saved!);
  });
}
