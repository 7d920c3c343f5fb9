import { is } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Db, Executor, Tx } from '../db/client.js';
import type { Clock } from './clock.js';
import { DomainError } from './errors.js';
import { ROLES, type Role } from './roles.js';

/** What every actor carries: the id its writes are attributed to (createdBy, decidedBy, ...) and the role checks read. */
interface Acting {
  id: string;
  role: Role;
}

/** A member signed in (password or SSO). */
export interface UserActor extends Acting {
  kind: 'user';
  userId: string;
}

/** An API key (`id`), acting for the member who created it (`userId`). */
export interface ApiKeyActor extends Acting {
  kind: 'apiKey';
  userId: string;
  /** The scopes the key is limited to (undefined: whatever the role allows). */
  scopes?: string[];
}

/** The app itself: scans, workers, the trust page it builds, rules, catalog retirement. */
export interface SystemActor extends Acting {
  kind: 'system';
  name: string;
}

/** A trust-page grantee acting through grant `grantId`; null for a visitor asking for access, before any grant. */
export interface ProspectActor extends Acting {
  kind: 'prospect';
  grantId: string | null;
}

export type Actor = UserActor | ApiKeyActor | SystemActor | ProspectActor;

export const userActor = (userId: string, role: Role): UserActor => ({ kind: 'user', id: userId, role, userId });

export const apiKeyActor = (key: { id: string; createdBy: string; scopes?: string[] | null }, role: Role): ApiKeyActor => ({
  kind: 'apiKey',
  id: key.id,
  role,
  userId: key.createdBy,
  ...(key.scopes ? { scopes: key.scopes } : {}),
});

/**
 * The app acting as `name`, which is also the id its writes carry. Viewer unless told: a job that
 * writes through role-checked services says which role it acts with.
 */
export const systemActor = (name: string, role: Role = 'viewer'): SystemActor => ({ kind: 'system', id: name, role, name });

/** Prospects only ever read, and write their own questionnaires (attributed to `grant:<id>`). */
export const prospectActor = (grantId: string | null): ProspectActor => ({
  kind: 'prospect',
  id: grantId === null ? 'public' : `grant:${grantId}`,
  role: 'viewer',
  grantId,
});

/** An actor as it has always been recorded (the audit log's actor_type and actor_id). */
export type StoredActorType = 'user' | 'api_key' | 'system' | 'public';

/** The one mapping from the union to what is stored and answered: audit rows, /me, credential keys. */
export function storedActor(actor: Actor): { type: StoredActorType; id: string | null } {
  switch (actor.kind) {
    case 'user':
      return { type: 'user', id: actor.id };
    case 'apiKey':
      return { type: 'api_key', id: actor.id };
    case 'system':
      return { type: 'system', id: actor.id };
    case 'prospect':
      return { type: 'public', id: actor.grantId === null ? null : actor.id };
  }
}

/** `type:id` of a credential, as rate limits and idempotency keys name it. */
export const actorKey = (actor: Actor): string => `${storedActor(actor).type}:${actor.id}`;

/** The member an action counts for (a key's creator); system and prospect actors are nobody's member. */
export function memberOf(actor: Actor): string {
  if (actor.kind === 'user' || actor.kind === 'apiKey') return actor.userId;
  throw new DomainError('forbidden', 'this action needs a member of the organization');
}

/** The scopes an actor is limited to; only API keys have any. */
export const scopesOf = (actor: Actor): string[] | undefined => (actor.kind === 'apiKey' ? actor.scopes : undefined);

/** What every tenant-scoped service call receives: who, for which organization, on which handle. */
export interface ServiceContext {
  orgId: string;
  actor: Actor;
  requestId: string;
  db: Db;
  clock: Clock;
}

/** Same context, running on an open transaction. */
export type TxContext = Omit<ServiceContext, 'db'> & { db: Executor };

/** The organization and a handle: what a read other modules call needs, nothing more. */
export type OrgScope = Pick<TxContext, 'orgId' | 'db'>;

/** A context on an open transaction. */
export type InTransaction<C extends { db: Executor }> = Omit<C, 'db'> & { db: Tx };

/**
 * Runs `fn` with the same context on a transaction. A context already on one joins it: the
 * caller's transaction commits or rolls back the whole (no savepoint).
 */
export async function withTransaction<C extends { db: Executor }, T>(ctx: C, fn: (tctx: InTransaction<C>) => Promise<T>): Promise<T> {
  if (is(ctx.db, PgTransaction)) return fn(ctx as unknown as InTransaction<C>);
  return (ctx.db as Db).transaction((tx) => fn({ ...ctx, db: tx }));
}

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

export const roleAtLeast = (role: Role, min: Role): boolean => RANK[role] >= RANK[min];

export function requireRole(actor: Actor, min: Role): void {
  if (!roleAtLeast(actor.role, min)) {
    throw new DomainError('forbidden', `this action needs the ${min} role or higher; you have ${actor.role}`);
  }
}

export { ROLES, type Role };
