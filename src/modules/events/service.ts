import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { webhookDeliveries, webhookEndpoints } from '../webhooks/tables.js';
import type { EventData, EventInput } from './payloads.js';
import { events, type EventType } from './tables.js';

export type { EventData, EventInput } from './payloads.js';

export interface EventContext {
  orgId: string;
  requestId?: string;
  clock: Clock;
}

/**
 * Records a domain event on the caller's transaction (the outbox) and queues one delivery per
 * enabled webhook endpoint subscribed to it. Nothing is sent here: the delivery worker sends
 * after commit, so an event is delivered exactly when its change committed.
 */
export async function emitEvent<T extends EventType>(tx: Executor, ctx: EventContext, type: T, data: EventData<T>): Promise<string> {
  const [id] = await emitEvents(tx, ctx, [{ type, data } as EventInput]);
  return id!;
}

/** Rows per insert: a statement takes at most 65,535 bind parameters, and a batch may fan out to many endpoints. */
const CHUNK_ROWS = 1000;
function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) yield rows.slice(i, i + CHUNK_ROWS);
}

/**
 * emitEvent for many events at once, in three statements whatever their number: the events (ids
 * in list order, so they sort as if emitted one by one), the subscribed endpoints, the deliveries.
 */
export async function emitEvents(tx: Executor, ctx: EventContext, list: readonly EventInput[]): Promise<string[]> {
  if (list.length === 0) return [];
  const rows = list.map((e) => ({ orgId: ctx.orgId, id: newId(), type: e.type, data: e.data, requestId: ctx.requestId ?? null, createdAt: ctx.clock() }));
  for (const part of chunks(rows)) await tx.insert(events).values(part);
  const types = [...new Set(list.map((e) => e.type))];
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
  const deliveries = rows.flatMap((ev) =>
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
  for (const part of chunks(deliveries)) await tx.insert(webhookDeliveries).values(part);
  return rows.map((r) => r.id);
}
