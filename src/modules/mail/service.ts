import { and, desc, eq, lt } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { requireRole, type ServiceContext } from '../../lib/context.js';
import { DomainError, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { recordAudit } from '../audit/index.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { mailOutbox, type MailKind, type MailStatus } from './tables.js';

/** One message to one address. `html` is a finished document: build it with escapeHtml/mailHtml. */
export interface MailMessage {
  kind: MailKind;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post (RFC 8058). */
  headers?: Record<string, string>;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Every value from a person or the database goes into a mail's HTML through this. */
export const escapeHtml = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);

/** A minimal HTML document around already-escaped content: mail clients ignore most CSS, so none. */
export function mailHtml(title: string, bodyHtml: string, footerHtml = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
${bodyHtml}
${footerHtml ? `<hr>\n${footerHtml}` : ''}
</body></html>
`;
}

/** Subjects and headers are single lines: a line break there would start a new header. */
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').trim();

/** Rows per insert: a statement takes at most 65,535 bind parameters. */
const CHUNK_ROWS = 500;

/**
 * Queues messages on the caller's transaction (the outbox): they exist exactly when the change
 * that caused them committed, and the mail worker sends them afterwards, never inside a transaction.
 */
export async function queueMails(tx: Executor, ctx: { orgId: string; clock: Clock }, messages: readonly MailMessage[]): Promise<string[]> {
  const now = ctx.clock();
  const rows = messages.map((m) => ({
    orgId: ctx.orgId,
    id: newId(),
    kind: m.kind,
    recipient: m.to.trim().toLowerCase(),
    subject: oneLine(m.subject),
    textBody: m.text,
    htmlBody: m.html,
    headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, oneLine(v)])),
    status: 'pending' as const,
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
  }));
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) await tx.insert(mailOutbox).values(rows.slice(i, i + CHUNK_ROWS));
  return rows.map((r) => r.id);
}

export async function queueMail(tx: Executor, ctx: { orgId: string; clock: Clock }, message: MailMessage): Promise<string> {
  const [id] = await queueMails(tx, ctx, [message]);
  return id!;
}

type MailRow = typeof mailOutbox.$inferSelect;

function mailView(r: MailRow) {
  const delivered = r.status === 'sent';
  return {
    id: r.id,
    kind: r.kind,
    to: r.recipient,
    subject: r.subject,
    // Sent messages lose their bodies (they may hold one-time links); waiting ones keep them, so an admin can pass them on.
    text: delivered ? null : r.textBody,
    headers: r.headers,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.nextAttemptAt?.toISOString() ?? null,
    lastAttemptAt: r.lastAttemptAt?.toISOString() ?? null,
    lastError: r.lastError,
    sentAt: r.sentAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
  };
}

/** The organization's outbox, newest first; admins only (waiting messages hold links meant for their recipients). */
export async function listMail(ctx: ServiceContext, q: { limit: number; cursor?: string; status?: MailStatus; to?: string }) {
  requireRole(ctx.actor, 'admin');
  const after = decodeCursor(q.cursor, ['uuid']);
  const rows = await ctx.db
    .select()
    .from(mailOutbox)
    .where(
      and(
        eq(mailOutbox.orgId, ctx.orgId),
        q.status ? eq(mailOutbox.status, q.status) : undefined,
        q.to ? eq(mailOutbox.recipient, q.to.trim().toLowerCase()) : undefined,
        after ? lt(mailOutbox.id, after) : undefined,
      ),
    )
    .orderBy(desc(mailOutbox.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  return { items: page.items.map(mailView), nextCursor: page.nextCursor };
}

/**
 * Sends a failed message again: a new round of tries on the retry schedule. Only failed ones:
 * a waiting message is tried anyway and a sent one has lost its body. Admins only.
 */
export async function retryMail(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'admin');
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(mailOutbox)
      .where(and(eq(mailOutbox.orgId, ctx.orgId), eq(mailOutbox.id, id)))
      .for('update');
    if (!row) throw notFound('message');
    if (row.status !== 'failed') throw new DomainError('conflict', `only a failed message can be sent again; this one is ${row.status}`);
    const now = ctx.clock();
    const [saved] = await tx
      .update(mailOutbox)
      .set({ status: 'pending', attempts: 0, nextAttemptAt: now })
      .where(and(eq(mailOutbox.orgId, ctx.orgId), eq(mailOutbox.id, id)))
      .returning();
    await recordAudit(tx, ctx, { action: 'mail.retried', targetType: 'mail', targetId: id, summary: { kind: row.kind, lastError: row.lastError } });
    return mailView(saved!);
  });
}
