import { and, asc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { events } from '../events/tables.js';
import { sign } from './signing.js';
import { startPoller, type Poller } from '../../lib/poller.js';
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from './tables.js';

/**
 * Delay before each retry, after the first attempt fails. The Standard Webhooks schedule:
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: just over a day in all, then the delivery fails.
 */
export const DEFAULT_RETRY_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

export interface DeliveryWorkerOptions {
  db: Db;
  clock: Clock;
  log: FastifyBaseLogger;
  retryScheduleMs?: number[];
  pollIntervalMs?: number;
  timeoutMs?: number;
  maxResponseBytes?: number;
  batchSize?: number;
}

const LEASE_MS = 60_000;

/**
 * Sends queued webhook deliveries. State lives in the database: a claim is a lease, so a process
 * that dies mid-send leaves deliveries that the next run (here or in another replica) picks up.
 */
export class DeliveryWorker {
  private poller: Poller | undefined;
  private readonly schedule: number[];

  constructor(private readonly opts: DeliveryWorkerOptions) {
    this.schedule = opts.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS;
  }

  start(): void {
    this.poller ??= startPoller('webhook delivery run', () => this.runOnce(), this.opts.pollIntervalMs ?? 500, this.opts.log);
  }

  async stop(): Promise<void> {
    await this.poller?.stop();
    this.poller = undefined;
  }

  /** Claims due deliveries, sends them outside any transaction, records each outcome. */
  async runOnce(): Promise<number> {
    const { db, clock } = this.opts;
    const now = clock();
    const claimed = await db.transaction(async (tx) => {
      const due = await tx.select({ orgId: webhookDeliveries.orgId, id: webhookDeliveries.id }).from(webhookDeliveries)
        .where(and(
          inArray(webhookDeliveries.status, ['pending', 'retrying']),
          lte(webhookDeliveries.nextAttemptAt, now),
          or(isNull(webhookDeliveries.lockedUntil), lte(webhookDeliveries.lockedUntil, now)),
        ))
        .orderBy(asc(webhookDeliveries.nextAttemptAt))
        .limit(this.opts.batchSize ?? 20)
        .for('update', { skipLocked: true });
      if (due.length === 0) return [];
      const lease = new Date(now.getTime() + LEASE_MS);
      for (const d of due) {
        await tx.update(webhookDeliveries).set({ lockedUntil: lease }).where(and(eq(webhookDeliveries.orgId, d.orgId), eq(webhookDeliveries.id, d.id)));
      }
      return due;
    });
    await Promise.all(claimed.map((d) => this.deliver(d.orgId, d.id)));
    return claimed.length;
  }

  private async deliver(orgId: string, id: string): Promise<void> {
    const { db, clock } = this.opts;
    const [row] = await db
      .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints, event: events })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, and(eq(webhookEndpoints.orgId, webhookDeliveries.orgId), eq(webhookEndpoints.id, webhookDeliveries.endpointId)))
      .innerJoin(events, and(eq(events.orgId, webhookDeliveries.orgId), eq(events.id, webhookDeliveries.eventId)))
      .where(and(eq(webhookDeliveries.orgId, orgId), eq(webhookDeliveries.id, id)));
    if (!row) return;
    const { delivery, endpoint, event } = row;
    const started = clock();
    const body = JSON.stringify({ type: event.type, timestamp: event.createdAt.toISOString(), data: event.data });
    const secrets = [endpoint.secret];
    if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > started) secrets.push(endpoint.previousSecret);
    const ts = Math.floor(started.getTime() / 1000);
    let statusCode: number | null = null;
    let error: string | null = null;
    let snippet: string | null = null;
    const t0 = performance.now();
    try {
      const res = await fetch(endpoint.url, {
        method: 'POST',
        redirect: 'manual', // a redirect could point anywhere: do not follow it
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'trustcenter-webhooks/1',
          'webhook-id': event.id,
          'webhook-timestamp': String(ts),
          'webhook-signature': sign(secrets, event.id, ts, body),
        },
        body,
      });
      statusCode = res.status;
      snippet = await readCapped(res, this.opts.maxResponseBytes ?? 4096);
      if (!res.ok) error = `receiver answered ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? (err.name === 'TimeoutError' ? 'timed out' : err.message) : String(err);
    }
    const durationMs = Math.round(performance.now() - t0);
    const attempt = delivery.attempts + 1;
    const ok = error === null;
    const delay = this.schedule[attempt - 1];
    const finished = clock();
    await db.transaction(async (tx) => {
      await tx.insert(webhookAttempts).values({ orgId, deliveryId: id, attempt, at: started, statusCode, durationMs, error, responseSnippet: snippet });
      await tx.update(webhookDeliveries).set({
        attempts: attempt,
        status: ok ? 'succeeded' : delay === undefined ? 'failed' : 'retrying',
        nextAttemptAt: ok || delay === undefined ? null : new Date(finished.getTime() + delay),
        lockedUntil: null,
        lastAttemptAt: started,
        lastStatusCode: statusCode,
        lastError: error,
      }).where(and(eq(webhookDeliveries.orgId, orgId), eq(webhookDeliveries.id, id), sql`${webhookDeliveries.attempts} = ${delivery.attempts}`));
    });
    if (!ok) this.opts.log.warn({ deliveryId: id, endpointId: endpoint.id, attempt, error }, 'webhook delivery failed');
  }
}

/** Reads at most `max` bytes of a response body, then stops reading. */
async function readCapped(res: Response, max: number): Promise<string | null> {
  if (!res.body) return null;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < max) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => {});
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}
