import { createHash } from 'node:crypto';
import { and, eq, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/errors.js';
import { loginThrottle } from './tables.js';

export interface LoginThrottleOptions {
  /** Attempts allowed within the window; the next one locks the account. */
  maxFailures: number;
  /** Both the counting window and the lock-out. */
  lockoutSeconds: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = { maxFailures: 5, lockoutSeconds: 900 };

/**
 * Per-account password throttling, kept in the database so every replica counts together.
 * An attempt is counted before the password is checked (a parallel burst cannot slip past the
 * limit) and a correct password clears the count. Unknown emails are counted the same way, and a
 * locked account answers 429 before any hash is computed, so the answer never says whether an
 * account exists.
 */
export class LoginThrottle {
  private lastSweep = 0;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly opts: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE,
  ) {}

  private static subject(email: string): string {
    return createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
  }

  /** Counts an attempt for `email`; throws 429 with Retry-After while the account is locked. */
  async begin(email: string): Promise<void> {
    const now = this.clock();
    const nowSql = sql`${now.toISOString()}::timestamptz`;
    const windowStart = sql`${new Date(now.getTime() - this.opts.lockoutSeconds * 1000).toISOString()}::timestamptz`;
    const lockEnd = sql`${new Date(now.getTime() + this.opts.lockoutSeconds * 1000).toISOString()}::timestamptz`;
    const t = loginThrottle;
    // One statement, so concurrent attempts count exactly. In SET every column reads the old row.
    const locked = sql`(${t.lockedUntil} IS NOT NULL AND ${t.lockedUntil} > ${nowSql})`;
    const stale = sql`(${t.windowStartedAt} <= ${windowStart} OR (${t.lockedUntil} IS NOT NULL AND ${t.lockedUntil} <= ${nowSql}))`;
    const [row] = await this.db
      .insert(t)
      .values({ subject: LoginThrottle.subject(email), failures: 1, windowStartedAt: now, lockedUntil: null })
      .onConflictDoUpdate({
        target: t.subject,
        set: {
          failures: sql`CASE WHEN ${locked} THEN ${t.failures} WHEN ${stale} THEN 1 ELSE ${t.failures} + 1 END`,
          windowStartedAt: sql`CASE WHEN ${locked} THEN ${t.windowStartedAt} WHEN ${stale} THEN ${nowSql} ELSE ${t.windowStartedAt} END`,
          lockedUntil: sql`CASE WHEN ${locked} THEN ${t.lockedUntil} WHEN ${stale} THEN NULL
            WHEN ${t.failures} + 1 > ${this.opts.maxFailures} THEN ${lockEnd} ELSE NULL END`,
        },
      })
      .returning({ lockedUntil: t.lockedUntil });
    await this.sweep(now);
    const until = row?.lockedUntil;
    if (until && until > now) {
      const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
      throw new DomainError('rate_limited', `too many failed sign-in attempts for this account; try again in ${seconds} seconds`, {
        headers: { 'retry-after': String(seconds) },
      });
    }
  }

  /** A correct password: the count starts again. */
  async succeeded(email: string): Promise<void> {
    await this.db.delete(loginThrottle).where(eq(loginThrottle.subject, LoginThrottle.subject(email)));
  }

  /** Drops rows whose window and lock have both passed, at most once a window per process. */
  private async sweep(now: Date): Promise<void> {
    const windowMs = this.opts.lockoutSeconds * 1000;
    if (now.getTime() - this.lastSweep < windowMs) return;
    this.lastSweep = now.getTime();
    const cutoff = new Date(now.getTime() - windowMs);
    await this.db
      .delete(loginThrottle)
      .where(and(lte(loginThrottle.windowStartedAt, cutoff), or(isNull(loginThrottle.lockedUntil), lte(loginThrottle.lockedUntil, now))));
  }
}
