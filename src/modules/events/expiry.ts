import { and, eq, isNotNull, lte, notExists, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { certificationStatus } from '../certifications/service.js';
import { certifications } from '../certifications/tables.js';
import { EXPIRING_SOON_DAYS } from '../evidence/service.js';
import { evidence } from '../evidence/tables.js';
import { markStaleForEvidence } from '../library/service.js';
import { emitEvent } from './service.js';
import { expiryNotices } from './tables.js';

/**
 * Emits the time-driven events: evidence.expiring (within 30 days), evidence.expired, and
 * certification.expiring (a certificate or report turning due_soon, stale or expired). Each
 * notice goes out once per subject, kind and due date, recorded in the same transaction as its event.
 */
export async function scanExpiries(db: Db, clock: Clock): Promise<number> {
  const now = clock();
  const soon = new Date(now.getTime() + EXPIRING_SOON_DAYS * 86_400_000);
  let sent = 0;

  const dueEvidence = await db.select().from(evidence).where(and(
    isNotNull(evidence.expiresAt),
    lte(evidence.expiresAt, soon),
    notExists(db.select({ n: sql`1` }).from(expiryNotices).where(and(
      eq(expiryNotices.orgId, evidence.orgId), eq(expiryNotices.subjectType, 'evidence'), eq(expiryNotices.subjectId, evidence.id),
      eq(expiryNotices.dueAt, evidence.expiresAt),
      eq(expiryNotices.kind, sql`case when ${evidence.expiresAt} <= ${now} then 'evidence.expired' else 'evidence.expiring' end`),
    ))),
  ));
  for (const e of dueEvidence) {
    const kind = e.expiresAt! <= now ? 'evidence.expired' as const : 'evidence.expiring' as const;
    // Expired evidence no longer backs the library answers resting on its controls.
    const then = kind === 'evidence.expired' ? (tx: Executor) => markStaleForEvidence(tx, { orgId: e.orgId, clock }, e.id, e.title) : undefined;
    if (await notice(db, clock, e.orgId, 'evidence', e.id, kind, e.expiresAt!, { id: e.id, title: e.title, expiresAt: e.expiresAt!.toISOString() }, kind, then)) sent++;
  }

  // Certifications are few per organization: compute their status in process with the shared rules.
  const certs = await db.select().from(certifications);
  for (const c of certs) {
    const s = certificationStatus(c, now);
    if (s.status === 'valid') continue;
    const dueAt = c.expiresAt ?? c.periodEnd ?? c.issuedAt ?? now;
    const data = { id: c.id, name: c.name, kind: c.kind, status: s.status, reason: s.statusReason };
    if (await notice(db, clock, c.orgId, 'certification', c.id, `certification.${s.status}`, dueAt, data, 'certification.expiring')) sent++;
  }
  return sent;
}

async function notice(
  db: Db, clock: Clock, orgId: string, subjectType: string, subjectId: string, kind: string, dueAt: Date,
  data: Record<string, unknown>, eventType: 'evidence.expiring' | 'evidence.expired' | 'certification.expiring' = kind as 'evidence.expiring',
  then?: (tx: Executor) => Promise<unknown>,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const inserted = await tx.insert(expiryNotices).values({ orgId, subjectType, subjectId, kind, dueAt, sentAt: clock() })
      .onConflictDoNothing().returning({ kind: expiryNotices.kind });
    if (inserted.length === 0) return false; // another replica, or an earlier run, sent it
    await emitEvent(tx, { orgId, clock }, eventType, data);
    await then?.(tx);
    return true;
  });
}
