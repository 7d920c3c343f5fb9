import { and, asc, isNotNull, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { SCAN_BATCH, noticeNotSent, sendNotice } from '../events/index.js';
import { EXPIRING_SOON_DAYS } from './service.js';
import { evidence } from './tables.js';

/**
 * Emits evidence.expiring (within 30 days) and evidence.expired, once per file and due date.
 * Only due rows are read, through an index: the work follows what changes, not how many files
 * all organizations hold.
 */
export async function scanEvidenceExpiries(db: Db, clock: Clock): Promise<number> {
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
        noticeNotSent(
          db,
          'evidence',
          { orgId: evidence.orgId, id: evidence.id, dueAt: evidence.expiresAt },
          sql`case when ${evidence.expiresAt} <= ${now} then 'evidence.expired' else 'evidence.expiring' end`,
        ),
      ),
    )
    .orderBy(asc(evidence.expiresAt))
    .limit(SCAN_BATCH);
  for (const e of dueEvidence) {
    const kind = e.expiresAt! <= now ? ('evidence.expired' as const) : ('evidence.expiring' as const);
    // Expired evidence no longer backs the library answers resting on its controls: the library reacts to the event.
    if (
      await sendNotice(
        { orgId: e.orgId, db, clock },
        'evidence',
        e.id,
        kind,
        e.expiresAt!,
        { id: e.id, title: e.title, expiresAt: e.expiresAt!.toISOString() },
        kind,
      )
    )
      sent++;
  }
  return sent;
}
