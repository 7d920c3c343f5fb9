import { and, asc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { startPoller, type Poller } from '../../lib/poller.js';
import { mailOutbox } from './tables.js';

/** Delay before each retry after a temporary failure: 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h; then the message fails. */
export const DEFAULT_MAIL_RETRY_SCHEDULE_MS = [60_000, 300_000, 1_800_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000];

export interface MailWorkerOptions {
  db: Db;
  clock: Clock;
  log: FastifyBaseLogger;
  /** smtp:// or smtps:// with optional user:password@ (validated at boot). */
  smtpUrl: string;
  from: string;
  retryScheduleMs?: number[];
  pollIntervalMs?: number;
  /** Messages claimed per run; sent one after the other over the transport. */
  batchSize?: number;
  /** Connection, greeting and socket timeouts of one send. */
  timeoutMs?: number;
}

const LEASE_MS = 120_000;

/** nodemailer's options from the URL, so timeouts can be set alongside (a URL string takes none). */
function transportOf(smtpUrl: string, timeoutMs: number): Transporter {
  const u = new URL(smtpUrl);
  const secure = u.protocol === 'smtps:';
  return nodemailer.createTransport({
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    ...(u.username ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
}

/** A coarse reason for the outbox listing: the SMTP reply code, or the kind of network failure. */
function reasonOf(err: unknown): { reason: string; permanent: boolean } {
  const e = err as { responseCode?: unknown; code?: unknown };
  if (typeof e.responseCode === 'number') return { reason: `SMTP ${e.responseCode}`, permanent: e.responseCode >= 500 };
  if (e.code === 'ETIMEDOUT') return { reason: 'timed out', permanent: false };
  if (e.code === 'EAUTH') return { reason: 'authentication failed', permanent: false };
  return { reason: 'connection failed', permanent: false };
}

/**
 * Sends the mail outbox through SMTP. A claim is a lease on the row, so a process that dies
 * mid-send leaves messages the next run (here or on another replica) takes up; sends happen after
 * the claim's transaction has committed, never inside one. Temporary failures (4xx, network) are
 * retried on the schedule; a permanent refusal (5xx) or the end of the schedule marks the message
 * failed, which the outbox listing shows.
 */
export class MailWorker {
  private poller: Poller | undefined;
  private readonly transport: Transporter;
  private readonly schedule: number[];

  constructor(private readonly opts: MailWorkerOptions) {
    this.transport = transportOf(opts.smtpUrl, opts.timeoutMs ?? 10_000);
    this.schedule = opts.retryScheduleMs ?? DEFAULT_MAIL_RETRY_SCHEDULE_MS;
  }

  start(): void {
    this.poller ??= startPoller('mail send run', () => this.runOnce(), this.opts.pollIntervalMs ?? 1000, this.opts.log);
  }

  async stop(): Promise<void> {
    await this.poller?.stop();
    this.poller = undefined;
    this.transport.close();
  }

  /** Claims due messages and sends them; returns how many were claimed. */
  async runOnce(): Promise<number> {
    const { db, clock } = this.opts;
    const now = clock();
    const claimed = await db.transaction(async (tx) => {
      const due = await tx
        .select({ orgId: mailOutbox.orgId, id: mailOutbox.id, attempts: mailOutbox.attempts })
        .from(mailOutbox)
        .where(
          and(
            inArray(mailOutbox.status, ['pending', 'retrying']),
            lte(mailOutbox.nextAttemptAt, now),
            or(isNull(mailOutbox.lockedUntil), lte(mailOutbox.lockedUntil, now)),
          ),
        )
        .orderBy(asc(mailOutbox.nextAttemptAt))
        .limit(this.opts.batchSize ?? 20)
        .for('update', { skipLocked: true });
      const lease = new Date(now.getTime() + LEASE_MS);
      for (const m of due) {
        await tx
          .update(mailOutbox)
          .set({ lockedUntil: lease })
          .where(and(eq(mailOutbox.orgId, m.orgId), eq(mailOutbox.id, m.id)));
      }
      return due;
    });
    for (const m of claimed) {
      try {
        await this.send(m.orgId, m.id, m.attempts);
      } catch (err) {
        this.opts.log.error({ err, mailId: m.id }, 'mail send crashed');
      }
    }
    return claimed.length;
  }

  private async send(orgId: string, id: string, attemptsBefore: number): Promise<void> {
    const { db, clock } = this.opts;
    const [row] = await db
      .select()
      .from(mailOutbox)
      .where(and(eq(mailOutbox.orgId, orgId), eq(mailOutbox.id, id)));
    if (!row || row.status === 'sent' || row.status === 'failed') return;
    const started = clock();
    let failure: { reason: string; permanent: boolean } | null = null;
    try {
      await this.transport.sendMail({
        from: this.opts.from,
        to: row.recipient,
        subject: row.subject,
        text: row.textBody,
        html: row.htmlBody,
        headers: row.headers,
      });
    } catch (err) {
      failure = reasonOf(err);
      // The cause for operators, without the message (its body may hold one-time links).
      this.opts.log.warn({ mailId: id, kind: row.kind, attempt: attemptsBefore + 1, reason: failure.reason }, 'mail send failed');
    }
    const attempt = attemptsBefore + 1;
    const delay = failure && !failure.permanent ? this.schedule[attempt - 1] : undefined;
    const finished = clock();
    await db
      .update(mailOutbox)
      .set(
        failure === null
          ? {
              status: 'sent',
              attempts: attempt,
              sentAt: finished,
              lastAttemptAt: started,
              lastError: null,
              lockedUntil: null,
              nextAttemptAt: null,
              textBody: '',
              htmlBody: '',
            }
          : {
              status: delay === undefined ? 'failed' : 'retrying',
              attempts: attempt,
              lastAttemptAt: started,
              lastError: failure.reason,
              lockedUntil: null,
              nextAttemptAt: delay === undefined ? null : new Date(finished.getTime() + delay),
            },
      )
      // Only the claim that read `attemptsBefore` records its outcome: a lapsed lease taken over is not overwritten.
      .where(and(eq(mailOutbox.orgId, orgId), eq(mailOutbox.id, id), sql`${mailOutbox.attempts} = ${attemptsBefore}`));
  }
}
