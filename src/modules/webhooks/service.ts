import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { requireRole, type ServiceContext } from '../../lib/context.js';
import { DomainError, notFound, type FieldError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { recordAudit } from '../audit/index.js';
import { EVENT_TYPES, recordEventOnly } from '../events/index.js';
import { checkUrlOnSave, type EgressPolicy } from './egress.js';
import { newSecret } from './signing.js';
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from './tables.js';

const ROTATION_GRACE_MS = 24 * 3600_000;

type EndpointRow = typeof webhookEndpoints.$inferSelect;

function endpointView(r: EndpointRow) {
  return {
    id: r.id,
    url: r.url,
    description: r.description,
    events: r.events,
    enabled: r.enabled,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/**
 * Outgoing URLs: http(s) only, no credentials in the URL (they would leak into logs and proxies),
 * and a host on the public internet (egress policy; checked again before every send).
 */
export async function validateUrl(raw: string, policy: WebhookPolicy): Promise<FieldError[]> {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return [{ field: 'body/url', message: 'is not a valid URL' }];
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return [{ field: 'body/url', message: 'must be an http or https URL' }];
  if (policy.requireHttps && u.protocol !== 'https:') return [{ field: 'body/url', message: 'must use https' }];
  if (u.username || u.password) return [{ field: 'body/url', message: 'must not contain credentials; use the signing secret to authenticate us' }];
  if (u.hash) return [{ field: 'body/url', message: 'must not contain a fragment' }];
  if (!(await checkUrlOnSave(u, policy))) {
    return [
      { field: 'body/url', message: 'must point to a public internet host; loopback, private, link-local and other special-purpose addresses are refused' },
    ];
  }
  return [];
}

function validateEvents(list: string[]): FieldError[] {
  const unknown = list.filter((e) => e !== '*' && !(EVENT_TYPES as readonly string[]).includes(e));
  return unknown.length > 0 ? [{ field: 'body/events', message: `unknown event types: ${unknown.join(', ')}` }] : [];
}

function failOn(errors: FieldError[]) {
  if (errors.length > 0) throw new DomainError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
}

export interface WebhookPolicy extends EgressPolicy {
  requireHttps: boolean;
}

export async function createEndpoint(
  ctx: ServiceContext,
  policy: WebhookPolicy,
  input: { url: string; events: string[]; description?: string; enabled?: boolean },
) {
  requireRole(ctx.actor, 'admin');
  failOn([...(await validateUrl(input.url, policy)), ...validateEvents(input.events)]);
  const id = newId();
  const secret = newSecret();
  const now = ctx.clock();
  const row = await ctx.db.transaction(async (tx) => {
    const [r] = await tx
      .insert(webhookEndpoints)
      .values({
        orgId: ctx.orgId,
        id,
        url: input.url,
        description: input.description ?? null,
        events: [...new Set(input.events)],
        enabled: input.enabled ?? true,
        secret,
        createdBy: ctx.actor.id,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await recordAudit(tx, ctx, { action: 'webhook.created', targetType: 'webhook', targetId: id, summary: { url: input.url, events: input.events } });
    return r!;
  });
  return { ...endpointView(row), secret };
}

async function loadEndpoint(ctx: ServiceContext, id: string) {
  const [row] = await ctx.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.orgId, ctx.orgId), eq(webhookEndpoints.id, id)));
  if (!row) throw notFound('webhook');
  return row;
}

export async function getEndpoint(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'admin');
  return endpointView(await loadEndpoint(ctx, id));
}

export async function listEndpoints(ctx: ServiceContext, q: { limit: number; cursor?: string }) {
  requireRole(ctx.actor, 'admin');
  const after = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.orgId, ctx.orgId), after ? lt(webhookEndpoints.id, after) : undefined))
    .orderBy(desc(webhookEndpoints.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  return { items: page.items.map(endpointView), nextCursor: page.nextCursor };
}

export async function updateEndpoint(
  ctx: ServiceContext,
  policy: WebhookPolicy,
  id: string,
  input: { url?: string; events?: string[]; description?: string | null; enabled?: boolean },
) {
  requireRole(ctx.actor, 'admin');
  failOn([...(input.url !== undefined ? await validateUrl(input.url, policy) : []), ...(input.events ? validateEvents(input.events) : [])]);
  await loadEndpoint(ctx, id);
  const row = await ctx.db.transaction(async (tx) => {
    const [r] = await tx
      .update(webhookEndpoints)
      .set({
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.events !== undefined ? { events: [...new Set(input.events)] } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        updatedAt: ctx.clock(),
      })
      .where(and(eq(webhookEndpoints.orgId, ctx.orgId), eq(webhookEndpoints.id, id)))
      .returning();
    await recordAudit(tx, ctx, { action: 'webhook.updated', targetType: 'webhook', targetId: id, summary: { fields: Object.keys(input) } });
    return r!;
  });
  return endpointView(row);
}

export async function deleteEndpoint(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'admin');
  await ctx.db.transaction(async (tx) => {
    const [r] = await tx
      .delete(webhookEndpoints)
      .where(and(eq(webhookEndpoints.orgId, ctx.orgId), eq(webhookEndpoints.id, id)))
      .returning();
    if (!r) throw notFound('webhook');
    await recordAudit(tx, ctx, { action: 'webhook.deleted', targetType: 'webhook', targetId: id, summary: { url: r.url } });
  });
}

/** A new secret, shown once; the old one keeps signing (a second signature) for 24 hours. */
export async function rotateSecret(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'admin');
  const current = await loadEndpoint(ctx, id);
  const secret = newSecret();
  const now = ctx.clock();
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(webhookEndpoints)
      .set({
        secret,
        previousSecret: current.secret,
        previousSecretExpiresAt: new Date(now.getTime() + ROTATION_GRACE_MS),
        updatedAt: now,
      })
      .where(and(eq(webhookEndpoints.orgId, ctx.orgId), eq(webhookEndpoints.id, id)));
    await recordAudit(tx, ctx, { action: 'webhook.secret_rotated', targetType: 'webhook', targetId: id });
  });
  return { id, secret, previousSecretExpiresAt: new Date(now.getTime() + ROTATION_GRACE_MS).toISOString() };
}

/** Queues a `webhook.test` event for this endpoint only. */
export async function sendTest(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'admin');
  await loadEndpoint(ctx, id);
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    const { id: eventId } = await recordEventOnly(tx, ctx, { type: 'webhook.test', data: { endpointId: id } }, now);
    const deliveryId = newId();
    await tx
      .insert(webhookDeliveries)
      .values({ orgId: ctx.orgId, id: deliveryId, endpointId: id, eventId, eventType: 'webhook.test', status: 'pending', nextAttemptAt: now, createdAt: now });
    return { deliveryId, eventId };
  });
}

export async function listDeliveries(ctx: ServiceContext, endpointId: string, q: { limit: number; cursor?: string }) {
  requireRole(ctx.actor, 'admin');
  await loadEndpoint(ctx, endpointId);
  const after = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.orgId, ctx.orgId), eq(webhookDeliveries.endpointId, endpointId), after ? lt(webhookDeliveries.id, after) : undefined))
    .orderBy(desc(webhookDeliveries.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  const attempts =
    page.items.length === 0
      ? []
      : await ctx.db
          .select()
          .from(webhookAttempts)
          .where(
            and(
              eq(webhookAttempts.orgId, ctx.orgId),
              inArray(
                webhookAttempts.deliveryId,
                page.items.map((d) => d.id),
              ),
            ),
          );
  const byDelivery = new Map<string, typeof attempts>();
  for (const a of attempts) byDelivery.set(a.deliveryId, [...(byDelivery.get(a.deliveryId) ?? []), a]);
  return {
    items: page.items.map((d) => ({
      id: d.id,
      eventId: d.eventId,
      eventType: d.eventType,
      status: d.status,
      attempts: d.attempts,
      nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
      lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
      lastStatusCode: d.lastStatusCode,
      lastError: d.lastError,
      createdAt: d.createdAt.toISOString(),
      attemptLog: (byDelivery.get(d.id) ?? [])
        .sort((x, y) => x.attempt - y.attempt)
        .map((a) => ({
          attempt: a.attempt,
          at: a.at.toISOString(),
          statusCode: a.statusCode,
          durationMs: a.durationMs,
          error: a.error,
        })),
    })),
    nextCursor: page.nextCursor,
  };
}

/**
 * Sends a delivery again from the start of the retry schedule; the attempt numbers go on, so the
 * log keeps every earlier attempt.
 */
export async function redeliver(ctx: ServiceContext, endpointId: string, deliveryId: string) {
  requireRole(ctx.actor, 'admin');
  const [row] = await ctx.db
    .update(webhookDeliveries)
    .set({ status: 'pending', nextAttemptAt: ctx.clock(), lockedUntil: null, scheduleStart: sql`${webhookDeliveries.attempts}` })
    .where(and(eq(webhookDeliveries.orgId, ctx.orgId), eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.id, deliveryId)))
    .returning();
  if (!row) throw notFound('delivery');
  return { id: row.id, status: row.status };
}
