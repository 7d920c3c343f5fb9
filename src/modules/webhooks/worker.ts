import { and, asc, eq, inArray, isNull, lte, notInArray, or, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { eventsByIds } from '../events/index.js';
import { postUnderPolicy } from './egress.js';
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
  /** Per request: DNS, connect, answer and body together. */
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** Deliveries in flight at once, over all organizations. */
  batchSize?: number;
  /** Deliveries of one organization in flight at once: a tenant with slow receivers cannot take every slot. */
  perOrgConcurrency?: number;
  /** Egress policy: false (the default) refuses loopback, private and other non-public addresses. */
  allowPrivateNetworks?: boolean;
}

const LEASE_MS = 60_000;

/**
 * Sends queued webhook deliveries. State lives in the database: a claim is a lease, so a process
 * that dies mid-send leaves deliveries that the next run (here or in another replica) picks up.
 * Sends run concurrently and each poll only fills free slots, so one slow receiver holds one slot,
 * not the whole worker.
 */
export class DeliveryWorker {
  private poller: Poller | undefined;
  private readonly schedule: number[];
  private readonly inFlightByOrg = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly opts: DeliveryWorkerOptions) {
    this.schedule = opts.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS;
  }

  start(): void {
    this.poller ??= startPoller('webhook delivery run', () => this.runOnce(), this.opts.pollIntervalMs ?? 500, this.opts.log);
  }

  /** Stops claiming, then waits for the sends in flight (each ends within its timeout). */
  async stop(): Promise<void> {
    await this.poller?.stop();
    this.poller = undefined;
    await this.idle();
  }

  /** Resolves when no delivery is being sent. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /**
   * Claims due deliveries for the free slots, fairly: every organization's oldest due delivery
   * comes before any organization's second, and none has more than its share in flight. Sends
   * start outside any transaction; returns how many were claimed.
   */
  async runOnce(): Promise<number> {
    const { db, clock } = this.opts;
    const capacity = this.opts.batchSize ?? 20;
    const perOrg = Math.max(1, Math.min(this.opts.perOrgConcurrency ?? 4, capacity));
    const free = capacity - this.running.size;
    if (free <= 0) return 0;
    const now = clock();
    const full = [...this.inFlightByOrg].filter(([, n]) => n >= perOrg).map(([org]) => org);
    const due = (at: Date) =>
      and(
        inArray(webhookDeliveries.status, ['pending', 'retrying']),
        lte(webhookDeliveries.nextAttemptAt, at),
        or(isNull(webhookDeliveries.lockedUntil), lte(webhookDeliveries.lockedUntil, at)),
      );
    const claimed = await db.transaction(async (tx) => {
      const ranked = tx
        .select({
          orgId: webhookDeliveries.orgId,
          id: webhookDeliveries.id,
          nextAttemptAt: webhookDeliveries.nextAttemptAt,
          rank: sql<number>`row_number() over (partition by ${webhookDeliveries.orgId} order by ${webhookDeliveries.nextAttemptAt}, ${webhookDeliveries.id})`.as(
            'rank',
          ),
        })
        .from(webhookDeliveries)
        .where(and(due(now), full.length > 0 ? notInArray(webhookDeliveries.orgId, full) : undefined))
        .as('ranked');
      // Skipped candidates belong to organizations already in flight, at most one per running send: `capacity` rows suffice.
      const candidates = await tx
        .select({ orgId: ranked.orgId, id: ranked.id })
        .from(ranked)
        .where(lte(ranked.rank, perOrg))
        .orderBy(asc(ranked.rank), asc(ranked.nextAttemptAt))
        .limit(capacity);
      const taken = new Map<string, number>();
      const picked = candidates
        .filter((c) => {
          const n = (this.inFlightByOrg.get(c.orgId) ?? 0) + (taken.get(c.orgId) ?? 0);
          if (n >= perOrg) return false;
          taken.set(c.orgId, (taken.get(c.orgId) ?? 0) + 1);
          return true;
        })
        .slice(0, free);
      if (picked.length === 0) return [];
      // Row locks cannot go with a window function: lock the picked rows now, still due, skipping another worker's.
      const locked = await tx
        .select({ orgId: webhookDeliveries.orgId, id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .where(and(due(now), or(...picked.map((p) => and(eq(webhookDeliveries.orgId, p.orgId), eq(webhookDeliveries.id, p.id))))))
        .for('update', { skipLocked: true });
      const lease = new Date(now.getTime() + LEASE_MS);
      for (const d of locked) {
        await tx
          .update(webhookDeliveries)
          .set({ lockedUntil: lease })
          .where(and(eq(webhookDeliveries.orgId, d.orgId), eq(webhookDeliveries.id, d.id)));
      }
      return locked;
    });
    for (const d of claimed) this.launch(d.orgId, d.id);
    return claimed.length;
  }

  private launch(orgId: string, id: string): void {
    this.inFlightByOrg.set(orgId, (this.inFlightByOrg.get(orgId) ?? 0) + 1);
    const send: Promise<void> = this.deliver(orgId, id)
      .catch((err) => this.opts.log.error({ err, deliveryId: id }, 'webhook delivery crashed'))
      .finally(() => {
        const left = (this.inFlightByOrg.get(orgId) ?? 1) - 1;
        if (left > 0) this.inFlightByOrg.set(orgId, left);
        else this.inFlightByOrg.delete(orgId);
        this.running.delete(send);
      });
    this.running.add(send);
  }

  private async deliver(orgId: string, id: string): Promise<void> {
    const { db, clock } = this.opts;
    const [row] = await db
      .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, and(eq(webhookEndpoints.orgId, webhookDeliveries.orgId), eq(webhookEndpoints.id, webhookDeliveries.endpointId)))
      .where(and(eq(webhookDeliveries.orgId, orgId), eq(webhookDeliveries.id, id)));
    if (!row) return;
    const { delivery, endpoint } = row;
    const event = (await eventsByIds({ db, orgId }, [delivery.eventId])).get(delivery.eventId);
    if (!event) return;
    const started = clock();
    const body = JSON.stringify({ type: event.type, timestamp: event.createdAt.toISOString(), data: event.data });
    const secrets = [endpoint.secret];
    if (endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > started) secrets.push(endpoint.previousSecret);
    const ts = Math.floor(started.getTime() / 1000);
    const result = await postUnderPolicy(endpoint.url, {
      policy: { allowPrivateNetworks: this.opts.allowPrivateNetworks ?? false },
      timeoutMs: this.opts.timeoutMs ?? 10_000,
      maxResponseBytes: this.opts.maxResponseBytes ?? 4096,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'trustcenter-webhooks/1',
        'webhook-id': event.id,
        'webhook-timestamp': String(ts),
        'webhook-signature': sign(secrets, event.id, ts, body),
      },
      body,
    });
    // Tenants see a status and duration only from a server that answered, else a coarse reason:
    // no errno, no timing of refused or silent ports (the log would otherwise be a port scanner).
    const statusCode = result.ok ? result.statusCode : null;
    const error = result.ok ? (result.statusCode >= 200 && result.statusCode < 300 ? null : `HTTP ${result.statusCode}`) : result.error;
    const durationMs = result.ok ? result.durationMs : 0;
    const snippet = result.ok ? result.snippet : null;
    const attempt = delivery.attempts + 1;
    const ok = error === null;
    const delay = this.schedule[attempt - 1 - delivery.scheduleStart];
    const finished = clock();
    await db.transaction(async (tx) => {
      await tx.insert(webhookAttempts).values({ orgId, deliveryId: id, attempt, at: started, statusCode, durationMs, error, responseSnippet: snippet });
      await tx
        .update(webhookDeliveries)
        .set({
          attempts: attempt,
          status: ok ? 'succeeded' : delay === undefined ? 'failed' : 'retrying',
          nextAttemptAt: ok || delay === undefined ? null : new Date(finished.getTime() + delay),
          lockedUntil: null,
          lastAttemptAt: started,
          lastStatusCode: statusCode,
          lastError: error,
        })
        .where(and(eq(webhookDeliveries.orgId, orgId), eq(webhookDeliveries.id, id), sql`${webhookDeliveries.attempts} = ${delivery.attempts}`));
    });
    // Operators get the precise cause in the server log.
    if (!ok)
      this.opts.log.warn({ deliveryId: id, endpointId: endpoint.id, attempt, error, detail: result.ok ? undefined : result.detail }, 'webhook delivery failed');
  }
}
