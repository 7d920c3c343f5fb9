import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { newId } from '../../lib/ids.js';
import { onRecorded, type EventContext, type RecordedEvent } from '../events/index.js';
import { webhookDeliveries, webhookEndpoints } from './tables.js';

/** Rows per insert: a statement takes at most 65,535 bind parameters, and a batch may fan out to many endpoints. */
const CHUNK_ROWS = 1000;

/**
 * Queues one delivery per enabled endpoint subscribed to each recorded event, on the emitting
 * transaction, in two statements whatever their number: the subscribed endpoints, the deliveries.
 */
async function queueDeliveries(tx: Executor, ctx: EventContext, recorded: readonly RecordedEvent[]): Promise<void> {
  if (recorded.length === 0) return;
  const types = [...new Set(recorded.map((e) => e.type))];
  const endpoints = await tx
    .select({ id: webhookEndpoints.id, events: webhookEndpoints.events })
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.orgId, ctx.orgId),
        eq(webhookEndpoints.enabled, true),
        sql`(${webhookEndpoints.events} && array[${sql.join(
          types.map((t) => sql`${t}`),
          sql`, `,
        )}]::text[] or '*' = any(${webhookEndpoints.events}))`,
      ),
    );
  const deliveries = recorded.flatMap((ev) =>
    endpoints
      .filter((e) => e.events.includes(ev.type) || e.events.includes('*'))
      .map((e) => ({
        orgId: ctx.orgId,
        id: newId(),
        endpointId: e.id,
        eventId: ev.id,
        eventType: ev.type,
        status: 'pending' as const,
        attempts: 0,
        nextAttemptAt: ev.createdAt,
        createdAt: ev.createdAt,
      })),
  );
  for (let i = 0; i < deliveries.length; i += CHUNK_ROWS) await tx.insert(webhookDeliveries).values(deliveries.slice(i, i + CHUNK_ROWS));
}

/** The outbox's webhook consumer: deliveries are queued as each event is recorded. */
export function registerWebhookReactions(): void {
  onRecorded('webhooks.deliveries', queueDeliveries);
}
