import { and, eq, notExists, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.js';
import type { ServiceContext } from '../../lib/context.js';
import { emitEvent, type EventData } from './service.js';
import { expiryNotices } from './tables.js';

/** Rows of each kind one scan takes on; a backlog (a first scan after the upgrade) waits for the next scans. */
export const SCAN_BATCH = 500;

type NoticeEvent = 'evidence.expiring' | 'evidence.expired' | 'certification.expiring';

/** What a scan sends a notice with: the organization, the pool (the notice opens its own transaction) and the clock. */
export type NoticeContext = Pick<ServiceContext, 'orgId' | 'db' | 'clock'>;

/**
 * Sends a time-driven notice once per subject, kind and due date: the notice row and its event
 * in one transaction. False when it was already sent (an earlier scan, another replica).
 */
export async function sendNotice<T extends NoticeEvent>(
  ctx: NoticeContext,
  subjectType: string,
  subjectId: string,
  kind: string,
  dueAt: Date,
  data: EventData<T>,
  eventType: T,
): Promise<boolean> {
  const { orgId, clock } = ctx;
  return ctx.db.transaction(async (tx) => {
    const inserted = await tx
      .insert(expiryNotices)
      .values({ orgId, subjectType, subjectId, kind, dueAt, sentAt: clock() })
      .onConflictDoNothing()
      .returning({ kind: expiryNotices.kind });
    if (inserted.length === 0) return false; // another replica, or an earlier run, sent it
    await emitEvent(tx, { orgId, clock }, eventType, data);
    return true;
  });
}

/**
 * For a scan over a module's own rows: true where no notice of `kind` was sent for the row and
 * its due date (the notices stay this module's table).
 */
export function noticeNotSent(db: Executor, subjectType: string, row: { orgId: PgColumn; id: PgColumn; dueAt: PgColumn }, kind: SQL): SQL {
  return notExists(
    db
      .select({ n: sql`1` })
      .from(expiryNotices)
      .where(
        and(
          eq(expiryNotices.orgId, row.orgId),
          eq(expiryNotices.subjectType, subjectType),
          eq(expiryNotices.subjectId, row.id),
          eq(expiryNotices.dueAt, row.dueAt),
          eq(expiryNotices.kind, kind),
        ),
      ),
  );
}

export const noticeKey = (orgId: string, id: string, kind: string, dueAt: Date) => `${orgId}|${id}|${kind}|${dueAt.getTime()}`;

/** The notices already sent for these subjects, as noticeKey strings, in one query by primary key prefix. */
export async function sentNotices(db: Executor, subjectType: string, subjects: readonly { orgId: string; id: string }[]): Promise<Set<string>> {
  if (subjects.length === 0) return new Set();
  // Two array parameters (uuids need no quoting in an array literal), however many rows are due.
  const list = (xs: string[]) => `{${xs.join(',')}}`;
  const pairs = sql`select * from unnest(${list(subjects.map((c) => c.orgId))}::uuid[], ${list(subjects.map((c) => c.id))}::uuid[])`;
  const rows = await db
    .select({ orgId: expiryNotices.orgId, id: expiryNotices.subjectId, kind: expiryNotices.kind, dueAt: expiryNotices.dueAt })
    .from(expiryNotices)
    .where(and(eq(expiryNotices.subjectType, subjectType), sql`(${expiryNotices.orgId}, ${expiryNotices.subjectId}) in (${pairs})`));
  return new Set(rows.map((r) => noticeKey(r.orgId, r.id, r.kind, r.dueAt)));
}
