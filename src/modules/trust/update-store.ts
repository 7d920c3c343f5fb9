import { and, desc, eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { OrgScope, TxContext } from '../../lib/context.js';
import { newId } from '../../lib/ids.js';
import { recordAudit } from '../audit/index.js';
import { renderMarkdown } from './markdown.js';
import { trustUpdates, type Subprocessor, type SubprocessorChange } from './tables.js';

// Trust-page updates as stored, and the subprocessor change notices drafted from page saves.
// Kept apart from the update API so the page's own service can draft notices without a cycle.

const DAY_MS = 86_400_000;
export type UpdateRow = typeof trustUpdates.$inferSelect;

export function updateView(r: UpdateRow) {
  return {
    id: r.id,
    title: r.title,
    body: r.body,
    bodyHtml: renderMarkdown(r.body),
    category: r.category,
    audience: r.audience,
    status: r.status,
    origin: r.origin,
    effectiveAt: r.effectiveAt?.toISOString() ?? null,
    changes: r.changes ?? null,
    notify: r.notify ?? null,
    recipients: r.recipients ?? null,
    publishedAt: r.publishedAt?.toISOString() ?? null,
    version: r.version,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export interface PublicUpdate {
  id: string;
  title: string;
  category: string;
  body: string;
  bodyHtml: string;
  publishedAt: string;
  effectiveAt: string | null;
  url: string;
}

/** Published updates for everyone (audience public), newest first: the page, its JSON and the Atom feed. */
export async function publicUpdates({ db, orgId }: OrgScope, base: string, limit = 50): Promise<PublicUpdate[]> {
  const rows = await db
    .select()
    .from(trustUpdates)
    .where(and(eq(trustUpdates.orgId, orgId), eq(trustUpdates.status, 'published'), eq(trustUpdates.audience, 'public')))
    .orderBy(desc(trustUpdates.publishedAt), desc(trustUpdates.id))
    .limit(limit);
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    category: r.category,
    body: r.body,
    bodyHtml: renderMarkdown(r.body),
    publishedAt: r.publishedAt!.toISOString(),
    effectiveAt: r.effectiveAt?.toISOString() ?? null,
    url: `${base}#update-${r.id}`,
  }));
}

const keyOf = (s: Subprocessor) => s.name.trim().toLowerCase();

/** Added, removed, and changed purpose or location, by name (case ignored), in the new list's order. */
export function subprocessorChanges(before: readonly Subprocessor[], after: readonly Subprocessor[]): SubprocessorChange[] {
  const old = new Map(before.map((s) => [keyOf(s), s]));
  const now = new Map(after.map((s) => [keyOf(s), s]));
  const out: SubprocessorChange[] = [];
  for (const s of after) {
    const o = old.get(keyOf(s));
    if (!o) out.push({ change: 'added', name: s.name, before: null, after: { purpose: s.purpose, location: s.location } });
    else if (o.purpose !== s.purpose || o.location !== s.location)
      out.push({ change: 'changed', name: s.name, before: { purpose: o.purpose, location: o.location }, after: { purpose: s.purpose, location: s.location } });
  }
  for (const s of before)
    if (!now.has(keyOf(s))) out.push({ change: 'removed', name: s.name, before: { purpose: s.purpose, location: s.location }, after: null });
  return out;
}

const md = (s: string) => s.replace(/([\\`*_[\]#])/g, '\\$1').replace(/\n+/g, ' ');

function noticeBody(changes: SubprocessorChange[], effectiveAt: Date): string {
  const day = effectiveAt.toISOString().slice(0, 10);
  const line = (c: SubprocessorChange) => {
    if (c.change === 'added') return `- Added: **${md(c.name)}** (${md(c.after!.purpose)}; ${md(c.after!.location)})`;
    if (c.change === 'removed') return `- Removed: **${md(c.name)}**`;
    const parts = [
      c.before!.purpose !== c.after!.purpose ? `purpose from "${md(c.before!.purpose)}" to "${md(c.after!.purpose)}"` : '',
      c.before!.location !== c.after!.location ? `location from "${md(c.before!.location)}" to "${md(c.after!.location)}"` : '',
    ].filter(Boolean);
    return `- Changed: **${md(c.name)}**: ${parts.join('; ')}`;
  };
  return [`We are making the following changes to our subprocessors, effective ${day}:`, changes.map(line).join('\n')].join('\n\n');
}

const NOTICE_TITLE = 'Changes to our subprocessors';

/**
 * A change to the page's subprocessor list drafts (or brings up to date) one unpublished notice,
 * listing the changes since the list the notice started from, with an effective date `noticeDays`
 * ahead. Nothing is sent: a person publishes it. A list changed back to where it started drops
 * the draft. Runs in the page save's transaction.
 */
export async function draftSubprocessorNotice(
  tx: Executor,
  ctx: TxContext,
  before: readonly Subprocessor[],
  after: readonly Subprocessor[],
  noticeDays: number,
  reuseOpen = true,
): Promise<void> {
  const now = ctx.clock();
  const [open] = !reuseOpen
    ? []
    : await tx
        .select()
        .from(trustUpdates)
        .where(and(eq(trustUpdates.orgId, ctx.orgId), eq(trustUpdates.origin, 'subprocessor_change'), eq(trustUpdates.status, 'draft')))
        .orderBy(desc(trustUpdates.id))
        .limit(1)
        .for('update');
  // A draft a person edited (its text, title or date no longer the drafted ones) is theirs: it is
  // left as they wrote it, and the further change gets a draft of its own, from the list before it.
  const edited = open !== undefined && (open.title !== NOTICE_TITLE || open.body !== noticeBody(open.changes ?? [], open.effectiveAt ?? now));
  if (edited) return draftSubprocessorNotice(tx, ctx, before, after, noticeDays, false);
  const baseline = open?.baseline ?? [...before];
  const changes = subprocessorChanges(baseline, after);
  if (open && changes.length === 0) {
    await tx.delete(trustUpdates).where(and(eq(trustUpdates.orgId, ctx.orgId), eq(trustUpdates.id, open.id)));
    await recordAudit(tx, ctx, {
      action: 'trust_update.discarded',
      targetType: 'trust_update',
      targetId: open.id,
      summary: { reason: 'subprocessor list back to its baseline' },
    });
    return;
  }
  if (changes.length === 0) return;
  const effectiveAt = new Date(now.getTime() + noticeDays * DAY_MS);
  const fields = { body: noticeBody(changes, effectiveAt), changes, effectiveAt, updatedAt: now };
  if (open) {
    await tx
      .update(trustUpdates)
      .set({ ...fields, version: open.version + 1 })
      .where(and(eq(trustUpdates.orgId, ctx.orgId), eq(trustUpdates.id, open.id)));
    await recordAudit(tx, ctx, { action: 'trust_update.drafted', targetType: 'trust_update', targetId: open.id, summary: { changes: changes.length } });
    return;
  }
  const id = newId();
  await tx.insert(trustUpdates).values({
    ...fields,
    orgId: ctx.orgId,
    id,
    title: NOTICE_TITLE,
    category: 'subprocessor',
    audience: 'public',
    status: 'draft',
    origin: 'subprocessor_change',
    baseline,
    createdBy: 'subprocessor-change',
    version: 1,
    createdAt: now,
  });
  await recordAudit(tx, ctx, { action: 'trust_update.drafted', targetType: 'trust_update', targetId: id, summary: { changes: changes.length } });
}
