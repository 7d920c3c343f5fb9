import { and, asc, eq, lte, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { SCAN_BATCH, noticeKey, sendNotice, sentNotices } from '../events/index.js';
import { certificationStatus, nextStatusChange } from './service.js';
import { certifications } from './tables.js';

/**
 * Emits certification.expiring when a certificate or report turns due_soon, stale or expired,
 * once per certification, kind and due date, and moves each one's attention time on. Only
 * certifications whose attention time has come are read, through a partial index.
 */
export async function scanCertificationExpiries(db: Db, clock: Clock): Promise<number> {
  const now = clock();
  let sent = 0;
  // Certifications: only those whose attention time has come; the shared rules say what is due now and when to look next.
  const certs = await dueCertifications(db, now);
  const noticed = await sentNotices(db, 'certification', certs);
  for (const c of certs) {
    const s = certificationStatus(c, now);
    if (s.status !== 'valid') {
      const kind = `certification.${s.status}`;
      const dueAt = c.expiresAt ?? c.periodEnd ?? c.issuedAt ?? now;
      // A notice already sent (an earlier scan, another replica) costs no transaction.
      if (!noticed.has(noticeKey(c.orgId, c.id, kind, dueAt))) {
        const data = { id: c.id, name: c.name, kind: c.kind, status: s.status, reason: s.statusReason };
        if (await sendNotice({ orgId: c.orgId, db, clock }, 'certification', c.id, kind, dueAt, data, 'certification.expiring')) sent++;
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
