import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import type { OrgScope } from '../../lib/context.js';
import { newId } from '../../lib/ids.js';
import type { EventData, EventInput } from './payloads.js';
import { events, type EventType } from './tables.js';

export type { EventData, EventInput } from './payloads.js';
/** The event types, for the modules that subscribe to them (they never import tables.ts). */
export { EVENT_TYPES, type EventType } from './tables.js';

export interface EventContext {
  orgId: string;
  requestId?: string;
  clock: Clock;
}

/** An event as the outbox recorded it. */
export interface RecordedEvent {
  id: string;
  type: EventType;
  createdAt: Date;
}

/**
 * A consumer's reaction to events of these types, before they are recorded, on the emitting
 * transaction: its own writes, and follow-up events, each recorded right after the event
 * (`cause`, an index into `events`) that caused it. How a module further up learns of a change
 * without the module that made it knowing it exists.
 */
export type Deriver = (
  tx: Executor,
  ctx: EventContext,
  events: readonly { index: number; event: EventInput }[],
) => Promise<{ cause: number; event: EventInput }[]>;

/** A consumer's reaction to events once recorded (with their ids), on the same transaction. */
export type Recorder = (tx: Executor, ctx: EventContext, recorded: readonly RecordedEvent[]) => Promise<void>;

/**
 * Changes no webhook subscriber sees, only reactions: a file's new version once its text is
 * indexed. Their data is typed here, as the events' is in payloads.ts.
 */
export interface Signals {
  'source.version_indexed': { kind: 'document' | 'evidence'; id: string; version: number; title: string };
}
export type SignalHandler<S extends keyof Signals> = (tx: Executor, ctx: EventContext, data: Signals[S]) => Promise<void>;

// Registered once per process by name (buildApp registers each consumer's reactions; a second app
// in the same process replaces them with identical ones).
const derivers = new Map<string, { types: ReadonlySet<EventType>; fn: Deriver }>();
const recorders = new Map<string, Recorder>();
const signalHandlers = new Map<string, { signal: keyof Signals; fn: SignalHandler<keyof Signals> }>();

export function deriveOn(name: string, types: readonly EventType[], fn: Deriver): void {
  derivers.set(name, { types: new Set(types), fn });
}
export function onRecorded(name: string, fn: Recorder): void {
  recorders.set(name, fn);
}
export function onSignal<S extends keyof Signals>(name: string, signal: S, fn: SignalHandler<S>): void {
  signalHandlers.set(name, { signal, fn: fn as SignalHandler<keyof Signals> });
}

/** Runs the reactions to a signal on the caller's transaction; nothing is recorded. */
export async function signal<S extends keyof Signals>(tx: Executor, ctx: EventContext, name: S, data: Signals[S]): Promise<void> {
  for (const h of signalHandlers.values()) if (h.signal === name) await h.fn(tx, ctx, data);
}

/** Reactions that follow reactions stop here: a loop between consumers is a bug, not a workload. */
const MAX_DEPTH = 4;

/** For each event of the list: the event, then the events its reactions caused (recursively). */
async function withFollowUps(tx: Executor, ctx: EventContext, list: readonly EventInput[], depth = 0): Promise<EventInput[][]> {
  const groups = list.map((e) => [e]);
  const follow: { cause: number; event: EventInput }[] = [];
  for (const d of derivers.values()) {
    const mine = list.flatMap((event, index) => (d.types.has(event.type) ? [{ index, event }] : []));
    if (mine.length > 0) follow.push(...(await d.fn(tx, ctx, mine)));
  }
  if (follow.length === 0) return groups;
  if (depth >= MAX_DEPTH) throw new Error(`event reactions nest deeper than ${MAX_DEPTH} levels`);
  const sub = await withFollowUps(
    tx,
    ctx,
    follow.map((f) => f.event),
    depth + 1,
  );
  follow.forEach((f, j) => groups[f.cause]!.push(...sub[j]!));
  return groups;
}

/**
 * Records a domain event on the caller's transaction (the outbox), after the reactions it
 * causes; consumers then see it recorded (webhook deliveries are queued this way). Nothing is
 * sent here: the delivery worker sends after commit, so an event is delivered exactly when its
 * change committed.
 */
export async function emitEvent<T extends EventType>(tx: Executor, ctx: EventContext, type: T, data: EventData<T>): Promise<string> {
  const [id] = await emitEvents(tx, ctx, [{ type, data } as EventInput]);
  return id!;
}

/** Rows per insert: a statement takes at most 65,535 bind parameters. */
const CHUNK_ROWS = 1000;
function* chunks<T>(rows: T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) yield rows.slice(i, i + CHUNK_ROWS);
}

/**
 * emitEvent for many events at once, each followed by the events its reactions caused, in one
 * insert per thousand whatever their number (ids in list order, so they sort as if emitted one
 * by one). Returns the ids of the given events, not of their follow-ups.
 */
export async function emitEvents(tx: Executor, ctx: EventContext, list: readonly EventInput[]): Promise<string[]> {
  if (list.length === 0) return [];
  const groups = await withFollowUps(tx, ctx, list);
  const rows = groups
    .flat()
    .map((e) => ({ orgId: ctx.orgId, id: newId(), type: e.type, data: e.data, requestId: ctx.requestId ?? null, createdAt: ctx.clock() }));
  for (const part of chunks(rows)) await tx.insert(events).values(part);
  for (const r of recorders.values()) await r(tx, ctx, rows);
  // The given events head their groups.
  const heads: string[] = [];
  let at = 0;
  for (const g of groups) {
    heads.push(rows[at]!.id);
    at += g.length;
  }
  return heads;
}

/**
 * Records one event on the caller's transaction without running any reaction, so no consumer
 * hears of it: for a consumer's own use (the webhooks' test event, queued for one endpoint only).
 */
export async function recordEventOnly(tx: Executor, ctx: EventContext, event: EventInput, createdAt: Date = ctx.clock()): Promise<RecordedEvent> {
  const row = { orgId: ctx.orgId, id: newId(), type: event.type, data: event.data, requestId: ctx.requestId ?? null, createdAt };
  await tx.insert(events).values(row);
  return { id: row.id, type: row.type, createdAt: row.createdAt };
}

/** An event as stored in the outbox. */
export type StoredEvent = typeof events.$inferSelect;

/** These events of the organization, by id, in one query; an unknown id is absent. */
export async function eventsByIds({ db, orgId }: OrgScope, ids: readonly string[]): Promise<Map<string, StoredEvent>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select()
    .from(events)
    .where(and(eq(events.orgId, orgId), inArray(events.id, [...new Set(ids)])));
  return new Map(rows.map((r) => [r.id, r]));
}
