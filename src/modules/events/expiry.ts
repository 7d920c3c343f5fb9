import { and, asc, eq, isNotNull, lte, notExists, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { certificationStatus, nextStatusChange } from '../certifications/service.js';
import { certifications } from '../certifications/tables.js';
import { EXPIRING_SOON_DAYS } from '../evidence/service.js';
import { evidence } from '../evidence/tables.js';
import { emitEvent, type EventData } from './service.js';
import { expiryNotices } from './tables.js';

/** Rows of each kind one scan takes on; a backlog (a first scan after the upgrade) waits for the next scans. */
export const SCAN_BATCH = 500;

/**
 * Emits the time-driven events: evidence.expiring (within 30 days), evidence.expired, and
 * certification.expiring (a certificate or report turning due_soon, stale or expired). Each
 * notice goes out once per subject, kind and due date, recorded in the same transaction as its
 * event. Only due rows are read, each through an index: the work follows what changes, not
 * how many certificates and files all organizations hold.
 */
export async function scanExpiries(db: Db, clock: Clock): Promise<number> {
  const now = clock();
  const soon = new Date(now.getTime() + EXPIRING_SOON_DAYS * 86_400_000);
  let sent = 0;

  const dueEvidence = await db
    .select()
    .from(evidence)
    .where(
      and(
        isNotNull(evidence.expiresAt),
        lte(evidence.expiresAt, soon),
        notExists(
          db
            .select({ n: sql`1` })
            .from(expiryNotices)
            .where(
              and(
                eq(expiryNotices.orgId, evidence.orgId),
                eq(expiryNotices.subjectType, 'evidence'),
                eq(expiryNotices.subjectId, evidence.id),
                eq(expiryNotices.dueAt, evidence.expiresAt),
                eq(expiryNotices.kind, sql`case when ${evidence.expiresAt} <= ${now} then 'evidence.expired' else 'evidence.expiring' end`),
              ),
            ),
        ),
      ),
    )
    .orderBy(asc(evidence.expiresAt))
    .limit(SCAN_BATCH);
  for (const e of dueEvidence) {
    const kind = e.expiresAt! <= now ? ('evidence.expired' as const) : ('evidence.expiring' as const);
    // Expired evidence no longer backs the library answers resting on its controls: the library reacts to the event.
    if (await notice(db, clock, e.orgId, 'evidence', e.id, kind, e.expiresAt!, { id: e.id, title: e.title, expiresAt: e.expiresAt!.toISOString() }, kind))
      sent++;
  }

  // Certifications: only those whose attention time has come; the shared rules say what is due now and when to look next.
  const certs = await dueCertifications(db, now);
  const noticed = await sentCertificationNotices(db, certs);
  for (const c of certs) {
    const s = certificationStatus(c, now);
    if (s.status !== 'valid') {
      const kind = `certification.${s.status}`;
      const dueAt = c.expiresAt ?? c.periodEnd ?? c.issuedAt ?? now;
      // A notice already sent (an earlier scan, another replica) costs no transaction.
      if (!noticed.has(noticeKey(c.orgId, c.id, kind, dueAt))) {
        const data = { id: c.id, name: c.name, kind: c.kind, status: s.status, reason: s.statusReason };
        if (await notice(db, clock, c.orgId, 'certification', c.id, kind, dueAt, data, 'certification.expiring')) sent++;
      }
    }
    await lookAgainAt(db, c, nextStatusChange(c, now));
  }
  return sent;
}

type CertificationRow = typeof certifications.$inferSelect;

/** Certifications whose attention time has come, oldest first, through the partial index on attention_at. */
export async function dueCertifications(db: Executor, now: Date, limit = SCAN_BATCH): Promise<CertificationRow[]> {
  return db.select().from(certifications).where(lte(certifications.attentionAt, now)).orderBy(asc(certifications.attentionAt)).limit(limit);
}

const noticeKey = (orgId: string, id: string, kind: string, dueAt: Date) => `${orgId}|${id}|${kind}|${dueAt.getTime()}`;

/** The notices already sent for these certifications, in one query by primary key prefix. */
async function sentCertificationNotices(db: Executor, certs: CertificationRow[]): Promise<Set<string>> {
  if (certs.length === 0) return new Set();
  // Two array parameters (uuids need no quoting in an array literal), however many rows are due.
  const list = (xs: string[]) => `{${xs.join(',')}}`;
  const pairs = sql`select * from unnest(${list(certs.map((c) => c.orgId))}::uuid[], ${list(certs.map((c) => c.id))}::uuid[])`;
  const rows = await db
    .select({ orgId: expiryNotices.orgId, id: expiryNotices.subjectId, kind: expiryNotices.kind, dueAt: expiryNotices.dueAt })
    .from(expiryNotices)
    .where(and(eq(expiryNotices.subjectType, 'certification'), sql`(${expiryNotices.orgId}, ${expiryNotices.subjectId}) in (${pairs})`));
  return new Set(rows.map((r) => noticeKey(r.orgId, r.id, r.kind, r.dueAt)));
}

/**
 * Moves a certification's attention time on, unless it was written since it was read (compared
 * to the millisecond, as the service writes it): that write already set a time of its own.
 */
async function lookAgainAt(db: Executor, c: CertificationRow, next: Date | null): Promise<void> {
  await db
    .update(certifications)
    .set({ attentionAt: next })
    .where(
      and(
        eq(certifications.orgId, c.orgId),
        eq(certifications.id, c.id),
        sql`date_trunc('milliseconds', ${certifications.updatedAt}) = ${c.updatedAt.toISOString()}::timestamptz`,
      ),
    );
}

async function notice<T extends 'evidence.expiring' | 'evidence.expired' | 'certification.expiring'>(
  db: Db,
  clock: Clock,
  orgId: string,
  subjectType: string,
  subjectId: string,
  kind: string,
  dueAt: Date,
  data: EventData<T>,
  eventType: T,
): Promise<boolean> {
  return db.transaction(async (tx) => {
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
