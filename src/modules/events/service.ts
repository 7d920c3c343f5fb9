import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { newId } from '../../lib/ids.js';
import { webhookDeliveries, webhookEndpoints } from '../webhooks/tables.js';
import { events, type EventType } from './tables.js';

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
export async function emitEvent(tx: Executor, ctx: EventContext, type: EventType, data: Record<string, unknown>): Promise<string> {
  const id = newId();
  const now = ctx.clock();
  await tx.insert(events).values({ orgId: ctx.orgId, id, type, data, requestId: ctx.requestId ?? null, createdAt: now });
  const endpoints = await tx.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(and(
    eq(webhookEndpoints.orgId, ctx.orgId),
    eq(webhookEndpoints.enabled, true),
    sql`(${type} = any(${webhookEndpoints.events}) or '*' = any(${webhookEndpoints.events}))`,
  ));
  if (endpoints.length > 0) {
    await tx.insert(webhookDeliveries).values(endpoints.map((e) => ({
      orgId: ctx.orgId, id: newId(), endpointId: e.id, eventId: id, eventType: type, status: 'pending' as const, attempts: 0, nextAttemptAt: now, createdAt: now,
    })));
  }
  return id;
}
