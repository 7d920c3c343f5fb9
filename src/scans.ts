import type { Db } from './db/client.js';
import type { Clock } from './lib/clock.js';
import { scanCertificationExpiries } from './modules/certifications/index.js';
import { scanEvidenceExpiries } from './modules/evidence/index.js';

/**
 * The time-driven notices: evidence.expiring, evidence.expired and certification.expiring, each
 * sent once per subject, kind and due date (see each module's scan). Returns how many were sent.
 */
export async function scanExpiries(db: Db, clock: Clock): Promise<number> {
  return (await scanEvidenceExpiries(db, clock)) + (await scanCertificationExpiries(db, clock));
}
