import type { Db, Executor } from '../db/client.js';
import type { Clock } from './clock.js';
import { DomainError } from './errors.js';
import { ROLES, type Role } from './roles.js';

export interface Actor {
  /** `public`: a prospect acting through a trust-page grant (never a member). */
  type: 'user' | 'api_key' | 'public';
  id: string;
  role: Role;
  /** For API keys, the member who created the key; for users, the user. */
  userId: string;
  /** API keys only: the scopes the key is limited to (undefined: whatever the role allows). */
  scopes?: string[];
}

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

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

export const roleAtLeast = (role: Role, min: Role): boolean => RANK[role] >= RANK[min];

export function requireRole(actor: Actor, min: Role): void {
  if (!roleAtLeast(actor.role, min)) {
    throw new DomainError('forbidden', `this action needs the ${min} role or higher; you have ${actor.role}`);
  }
}

export { ROLES, type Role };
