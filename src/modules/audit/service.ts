import { and, desc, eq, lt } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { storedActor, type ServiceContext } from '../../lib/context.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { auditEvents } from './tables.js';

export interface AuditEntry {
  action: string;
  targetType: string;
  targetId?: string | null;
  summary?: Record<string, unknown>;
}

/**
 * Who an audit event is written for (a member, a key, a prospect, the system), in which
 * organization and request: any service context will do.
 */
export type AuditContext = Pick<ServiceContext, 'orgId' | 'actor' | 'requestId' | 'clock'>;

/** Writes one append-only audit event on the caller's transaction, so it lands with the change or not at all. */
export async function recordAudit(tx: Executor, ctx: AuditContext, entry: AuditEntry): Promise<void> {
  await recordAudits(tx, ctx, [entry]);
}

/** Rows per insert, under PostgreSQL's 65,535 bind parameters. */
const CHUNK_ROWS = 1000;

/** recordAudit for many entries (a bulk import), in one insert per thousand. */
export async function recordAudits(tx: Executor, ctx: AuditContext, entries: readonly AuditEntry[]): Promise<void> {
  await recordAuditsAcross(
    tx,
    ctx,
    entries.map((entry) => ({ ...entry, orgId: ctx.orgId })),
  );
}

/**
 * Audit events of one actor in several organizations (a catalog migration touches every tenant),
 * in one insert per thousand. The only writer of the audit table: every other path comes here.
 */
export async function recordAuditsAcross(tx: Executor, ctx: Omit<AuditContext, 'orgId'>, entries: readonly (AuditEntry & { orgId: string })[]): Promise<void> {
  const now = ctx.clock();
  const actor = storedActor(ctx.actor);
  const rows = entries.map((entry) => ({
    orgId: entry.orgId,
    id: newId(),
    actorType: actor.type,
    actorId: actor.id,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId ?? null,
    requestId: ctx.requestId,
    summary: entry.summary ?? {},
    createdAt: now,
  }));
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) await tx.insert(auditEvents).values(rows.slice(i, i + CHUNK_ROWS));
}

export interface AuditQuery {
  limit: number;
  cursor?: string;
  targetType?: string;
  targetId?: string;
  actorId?: string;
  action?: string;
}

export async function listAuditEvents(ctx: ServiceContext, q: AuditQuery) {
  const after = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.orgId, ctx.orgId),
        q.targetType ? eq(auditEvents.targetType, q.targetType) : undefined,
        q.targetId ? eq(auditEvents.targetId, q.targetId) : undefined,
        q.actorId ? eq(auditEvents.actorId, q.actorId) : undefined,
        q.action ? eq(auditEvents.action, q.action) : undefined,
        after ? lt(auditEvents.id, after) : undefined,
      ),
    )
    .orderBy(desc(auditEvents.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  return {
    items: page.items.map((r) => ({
      id: r.id,
      actor: { type: r.actorType, id: r.actorId },
      action: r.action,
      target: { type: r.targetType, id: r.targetId },
      requestId: r.requestId,
      summary: r.summary,
      createdAt: r.createdAt.toISOString(),
    })),
    nextCursor: page.nextCursor,
  };
}
