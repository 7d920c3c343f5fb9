import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, desc, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { requireRole, roleAtLeast, type Actor, type Role, type ServiceContext } from '../../lib/context.js';
import { DomainError, isUniqueViolation, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { dummyHash, hashPassword, passwordWeakness, verifyPassword } from '../../lib/password.js';
import { recordAudit } from '../audit/service.js';
import { SCOPES } from '../../lib/scopes.js';
import type { KeyRing } from './keys.js';
import type { SsoVerifier } from './sso.js';
import { apiKeys, invitations, memberships, organizations, users } from './tables.js';

/** Slugs become URLs (/trust/{slug}); these would shadow or impersonate our own paths. */
const RESERVED_SLUGS = new Set(['api', 'admin', 'docs', 'trust', 'www', 'static', 'assets', 'login', 'signup', 'healthz', 'readyz', 'well-known', 'public', 'app', 'settings']);
export const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$';

const API_KEY_PREFIX = 'tck_';
const INVITE_TTL_DAYS = 7;

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const normalizeEmail = (e: string) => e.trim().toLowerCase();

/** Deps the identity service needs beyond a request context. */
export interface IdentityDeps {
  db: Db;
  keys: KeyRing;
  clock: Clock;
  /** Accepts tokens from an external OpenID Connect issuer when configured. */
  sso?: SsoVerifier;
}

export interface SignupInput {
  organization: { name: string; slug: string };
  user: { email: string; password: string; name?: string };
}

export async function signup(deps: IdentityDeps, input: SignupInput, requestId: string) {
  const slug = input.organization.slug.trim().toLowerCase();
  if (RESERVED_SLUGS.has(slug)) {
    throw new DomainError('validation_failed', `slug "${slug}" is reserved`, { errors: [{ field: 'body/organization/slug', message: 'reserved' }] });
  }
  const email = normalizeEmail(input.user.email);
  const weakness = passwordWeakness(input.user.password, email);
  if (weakness) {
    throw new DomainError('weak_password', `password ${weakness}`, { errors: [{ field: 'body/user/password', message: weakness }] });
  }
  // Hash before the transaction: it is the slow part and needs no lock.
  const passwordHash = await hashPassword(input.user.password);
  const orgId = newId();
  const userId = newId();
  const now = deps.clock();
  try {
    await deps.db.transaction(async (tx) => {
      await tx.insert(organizations).values({ id: orgId, slug, name: input.organization.name.trim(), createdAt: now });
      await tx.insert(users).values({ id: userId, email, name: input.user.name ?? null, passwordHash, createdAt: now });
      await tx.insert(memberships).values({ orgId, userId, role: 'owner', createdAt: now });
      const actor: Actor = { type: 'user', id: userId, role: 'owner', userId };
      await recordAudit(tx, { orgId, actor, requestId, clock: deps.clock }, {
        action: 'organization.created', targetType: 'organization', targetId: orgId, summary: { slug, ownerEmail: email },
      });
    });
  } catch (err) {
    if (isUniqueViolation(err, 'organizations_slug_key')) throw new DomainError('slug_taken', `slug "${slug}" is already taken`);
    if (isUniqueViolation(err, 'users_email_key')) throw new DomainError('email_taken', 'an account with this email exists; log in instead');
    throw err;
  }
  const { token, expiresAt } = await deps.keys.sign({ sub: userId, org: orgId });
  return {
    organization: { id: orgId, slug, name: input.organization.name.trim() },
    user: { id: userId, email },
    accessToken: token,
    expiresAt: expiresAt.toISOString(),
  };
}

export async function login(deps: IdentityDeps, input: { email: string; password: string; organization?: string }) {
  const email = normalizeEmail(input.email);
  const [user] = await deps.db.select().from(users).where(sql`lower(${users.email}) = ${email}`).limit(1);
  const ok = await verifyPassword(input.password, user?.passwordHash ?? (await dummyHash()));
  if (!user || !user.passwordHash || !ok) throw new DomainError('invalid_credentials', 'email or password is wrong');
  const rows = await deps.db
    .select({ orgId: memberships.orgId, slug: organizations.slug })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .where(eq(memberships.userId, user.id))
    .orderBy(asc(memberships.createdAt));
  const chosen = input.organization ? rows.find((r) => r.slug === input.organization || r.orgId === input.organization) : rows[0];
  if (!chosen) throw new DomainError('invalid_credentials', 'no membership in that organization');
  const { token, expiresAt } = await deps.keys.sign({ sub: user.id, org: chosen.orgId });
  return { accessToken: token, expiresAt: expiresAt.toISOString(), organization: { id: chosen.orgId, slug: chosen.slug } };
}

/** Turns a bearer credential into an actor and organization, or throws a 401. */
export async function authenticate(deps: IdentityDeps, bearer: string): Promise<{ orgId: string; actor: Actor }> {
  if (bearer.startsWith(API_KEY_PREFIX)) return authenticateApiKey(deps, bearer);
  if (deps.sso?.claims(bearer)) return authenticateSso(deps, deps.sso, bearer);
  const claims = await deps.keys.verify(bearer);
  const orgId = typeof claims.org === 'string' ? claims.org : undefined;
  if (!orgId || !claims.sub) throw new DomainError('unauthenticated', 'invalid access token');
  // The role is read per request, so removing a member or changing a role takes effect at once.
  const [m] = await deps.db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, claims.sub)));
  if (!m) throw new DomainError('unauthenticated', 'no longer a member of this organization');
  return { orgId, actor: { type: 'user', id: claims.sub, role: m.role, userId: claims.sub } };
}

/** An SSO token names a person and an organization; the membership decides the role. */
async function authenticateSso(deps: IdentityDeps, sso: SsoVerifier, token: string): Promise<{ orgId: string; actor: Actor }> {
  const { email, orgSlug } = await sso.verify(token);
  const [m] = await deps.db
    .select({ orgId: memberships.orgId, userId: memberships.userId, role: memberships.role })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .where(and(eq(organizations.slug, orgSlug), sql`lower(${users.email}) = ${email}`));
  if (!m) throw new DomainError('unauthenticated', 'the single sign-on identity is not a member of that organization');
  return { orgId: m.orgId, actor: { type: 'user', id: m.userId, role: m.role, userId: m.userId } };
}

async function authenticateApiKey(deps: IdentityDeps, key: string): Promise<{ orgId: string; actor: Actor }> {
  const prefix = key.slice(0, API_KEY_PREFIX.length + 12);
  const [row] = await deps.db.select().from(apiKeys).where(eq(apiKeys.prefix, prefix)).limit(1);
  const presented = Buffer.from(sha256(key), 'hex');
  const valid = row !== undefined && timingSafeEqual(presented, Buffer.from(row.keyHash, 'hex'));
  if (!row || !valid) throw new DomainError('unauthenticated', 'invalid API key');
  if (row.revokedAt) throw new DomainError('unauthenticated', 'API key revoked');
  const now = deps.clock();
  // Touch last-used at most once a minute: a write per request would make every read a write.
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    await deps.db.update(apiKeys).set({ lastUsedAt: now }).where(and(eq(apiKeys.orgId, row.orgId), eq(apiKeys.id, row.id)));
  }
  return { orgId: row.orgId, actor: { type: 'api_key', id: row.id, role: row.role, userId: row.createdBy, ...(row.scopes ? { scopes: row.scopes } : {}) } };
}

export async function me(ctx: ServiceContext) {
  const [org] = await ctx.db.select().from(organizations).where(eq(organizations.id, ctx.orgId));
  const [user] = await ctx.db.select().from(users).where(eq(users.id, ctx.actor.userId));
  if (!org || !user) throw notFound('organization');
  return {
    organization: { id: org.id, slug: org.slug, name: org.name },
    user: { id: user.id, email: user.email, name: user.name },
    actor: { type: ctx.actor.type, id: ctx.actor.id },
    role: ctx.actor.role,
  };
}

// ---- members and invitations ------------------------------------------------------------------

function memberView(r: { userId: string; email: string; name: string | null; role: Role; createdAt: Date }) {
  return { id: r.userId, email: r.email, name: r.name, role: r.role, createdAt: r.createdAt.toISOString() };
}

export async function listMembers(ctx: ServiceContext, q: { limit: number; cursor?: string }) {
  const after = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select({ userId: memberships.userId, email: users.email, name: users.name, role: memberships.role, createdAt: memberships.createdAt })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, ctx.orgId), after ? gt(memberships.userId, after) : undefined))
    .orderBy(asc(memberships.userId))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.userId);
  return { items: page.items.map(memberView), nextCursor: page.nextCursor };
}

/** Nobody grants a role above their own, and only owners make owners. */
function assertCanGrant(actor: Actor, role: Role) {
  if (!roleAtLeast(actor.role, role)) {
    throw new DomainError('forbidden', `you cannot grant the ${role} role with the ${actor.role} role`);
  }
}

/**
 * Adds an existing account to the organization at once, or creates an invitation whose one-time
 * token lets the invitee set a password (we send no email: the caller delivers the link).
 */
export async function addMember(ctx: ServiceContext, input: { email: string; role: Role }) {
  requireRole(ctx.actor, 'admin');
  assertCanGrant(ctx.actor, input.role);
  const email = normalizeEmail(input.email);
  const now = ctx.clock();
  const [existing] = await ctx.db.select().from(users).where(sql`lower(${users.email}) = ${email}`).limit(1);
  if (existing) {
    try {
      await ctx.db.transaction(async (tx) => {
        await tx.insert(memberships).values({ orgId: ctx.orgId, userId: existing.id, role: input.role, createdAt: now });
        await recordAudit(tx, ctx, { action: 'member.added', targetType: 'member', targetId: existing.id, summary: { email, role: input.role } });
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new DomainError('conflict', `${email} is already a member`);
      throw err;
    }
    return { status: 'added' as const, member: memberView({ userId: existing.id, email: existing.email, name: existing.name, role: input.role, createdAt: now }) };
  }
  const token = randomBytes(32).toString('base64url');
  const id = newId();
  const expiresAt = new Date(now.getTime() + INVITE_TTL_DAYS * 86_400_000);
  await ctx.db.transaction(async (tx) => {
    await tx.insert(invitations).values({ orgId: ctx.orgId, id, email, role: input.role, tokenHash: sha256(token), invitedBy: ctx.actor.userId, expiresAt, createdAt: now });
    await recordAudit(tx, ctx, { action: 'member.invited', targetType: 'invitation', targetId: id, summary: { email, role: input.role } });
  });
  return { status: 'invited' as const, invitation: { id, email, role: input.role, token, expiresAt: expiresAt.toISOString() } };
}

export async function acceptInvitation(deps: IdentityDeps, input: { token: string; password: string; name?: string }, requestId: string) {
  const now = deps.clock();
  const [inv] = await deps.db.select().from(invitations).where(eq(invitations.tokenHash, sha256(input.token))).limit(1);
  if (!inv || inv.acceptedAt || inv.expiresAt <= now) throw new DomainError('not_found', 'invitation not found, used or expired');
  const weakness = passwordWeakness(input.password, inv.email);
  if (weakness) throw new DomainError('weak_password', `password ${weakness}`, { errors: [{ field: 'body/password', message: weakness }] });
  const passwordHash = await hashPassword(input.password);
  const userId = newId();
  try {
    await deps.db.transaction(async (tx) => {
      // Claim the invitation first: a second acceptance racing this one updates no row.
      const claimed = await tx.update(invitations).set({ acceptedAt: now })
        .where(and(eq(invitations.orgId, inv.orgId), eq(invitations.id, inv.id), isNull(invitations.acceptedAt))).returning({ id: invitations.id });
      if (claimed.length === 0) throw new DomainError('not_found', 'invitation not found, used or expired');
      await tx.insert(users).values({ id: userId, email: inv.email, name: input.name ?? null, passwordHash, createdAt: now });
      await tx.insert(memberships).values({ orgId: inv.orgId, userId, role: inv.role, createdAt: now });
      await recordAudit(tx, { orgId: inv.orgId, actor: { type: 'user', id: userId, role: inv.role, userId }, requestId, clock: deps.clock }, {
        action: 'member.joined', targetType: 'member', targetId: userId, summary: { email: inv.email, role: inv.role, invitationId: inv.id },
      });
    });
  } catch (err) {
    if (isUniqueViolation(err, 'users_email_key')) throw new DomainError('email_taken', 'an account with this email exists; ask to be added instead');
    throw err;
  }
  const { token, expiresAt } = await deps.keys.sign({ sub: userId, org: inv.orgId });
  return { accessToken: token, expiresAt: expiresAt.toISOString() };
}

export async function changeMemberRole(ctx: ServiceContext, userId: string, role: Role) {
  requireRole(ctx.actor, 'admin');
  return ctx.db.transaction(async (tx) => {
    const [m] = await tx.select().from(memberships).where(and(eq(memberships.orgId, ctx.orgId), eq(memberships.userId, userId))).for('update');
    if (!m) throw notFound('member');
    assertCanGrant(ctx.actor, role);
    assertCanGrant(ctx.actor, m.role);
    if (m.role === 'owner' && role !== 'owner') await assertAnotherOwner(tx, ctx.orgId, userId);
    await tx.update(memberships).set({ role }).where(and(eq(memberships.orgId, ctx.orgId), eq(memberships.userId, userId)));
    await recordAudit(tx, ctx, { action: 'member.role_changed', targetType: 'member', targetId: userId, summary: { from: m.role, to: role } });
    const [u] = await tx.select().from(users).where(eq(users.id, userId));
    return memberView({ userId, email: u!.email, name: u!.name, role, createdAt: m.createdAt });
  });
}

export async function removeMember(ctx: ServiceContext, userId: string) {
  requireRole(ctx.actor, 'admin');
  await ctx.db.transaction(async (tx) => {
    const [m] = await tx.select().from(memberships).where(and(eq(memberships.orgId, ctx.orgId), eq(memberships.userId, userId))).for('update');
    if (!m) throw notFound('member');
    assertCanGrant(ctx.actor, m.role);
    if (m.role === 'owner') await assertAnotherOwner(tx, ctx.orgId, userId);
    // API keys act with their creator's authority; they leave with the member (FK cascade).
    await tx.delete(memberships).where(and(eq(memberships.orgId, ctx.orgId), eq(memberships.userId, userId)));
    await recordAudit(tx, ctx, { action: 'member.removed', targetType: 'member', targetId: userId, summary: { role: m.role } });
  });
}

async function assertAnotherOwner(tx: Parameters<Parameters<Db['transaction']>[0]>[0], orgId: string, except: string) {
  const owners = await tx.select({ userId: memberships.userId }).from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.role, 'owner')));
  if (!owners.some((o) => o.userId !== except)) throw new DomainError('conflict', 'an organization must keep at least one owner');
}

// ---- API keys ---------------------------------------------------------------------------------

function apiKeyView(r: typeof apiKeys.$inferSelect) {
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    role: r.role,
    scopes: r.scopes ?? null,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
    revokedAt: r.revokedAt?.toISOString() ?? null,
  };
}

export async function createApiKey(ctx: ServiceContext, input: { name: string; role: Role; scopes?: string[] }) {
  requireRole(ctx.actor, 'admin');
  assertCanGrant(ctx.actor, input.role);
  const unknown = (input.scopes ?? []).filter((s) => !SCOPES.includes(s));
  if (unknown.length > 0) {
    throw new DomainError('validation_failed', `unknown scopes: ${unknown.join(', ')}`, { errors: [{ field: 'body/scopes', message: `known scopes: ${SCOPES.join(', ')}` }] });
  }
  // A key made by a scoped key cannot reach beyond its maker.
  if (ctx.actor.scopes && (!input.scopes || input.scopes.some((s) => !ctx.actor.scopes!.includes(s)))) {
    throw new DomainError('forbidden', 'a scoped API key can only create keys within its own scopes');
  }
  // tck_ + 12 visible chars to find the row, then 32 secret chars: 256 bits of entropy in all.
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url').replace(/[-_]/g, 'x');
  const prefix = key.slice(0, API_KEY_PREFIX.length + 12);
  const id = newId();
  const now = ctx.clock();
  const [row] = await ctx.db.transaction(async (tx) => {
    const inserted = await tx.insert(apiKeys).values({
      orgId: ctx.orgId, id, name: input.name, prefix, keyHash: sha256(key), role: input.role, scopes: input.scopes ? [...new Set(input.scopes)].sort() : null,
      createdBy: ctx.actor.userId, createdAt: now,
    }).returning();
    await recordAudit(tx, ctx, { action: 'api_key.created', targetType: 'api_key', targetId: id, summary: { name: input.name, role: input.role, prefix, scopes: input.scopes ?? null } });
    return inserted;
  });
  return { ...apiKeyView(row!), key };
}

export async function listApiKeys(ctx: ServiceContext, q: { limit: number; cursor?: string }) {
  requireRole(ctx.actor, 'admin');
  const after = decodeCursor(q.cursor);
  const rows = await ctx.db.select().from(apiKeys)
    .where(and(eq(apiKeys.orgId, ctx.orgId), after ? lt(apiKeys.id, after) : undefined))
    .orderBy(desc(apiKeys.id)).limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  return { items: page.items.map(apiKeyView), nextCursor: page.nextCursor };
}

export async function revokeApiKey(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'admin');
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx.update(apiKeys).set({ revokedAt: ctx.clock() })
      .where(and(eq(apiKeys.orgId, ctx.orgId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt))).returning();
    if (!row) {
      const [exists] = await tx.select({ id: apiKeys.id }).from(apiKeys).where(and(eq(apiKeys.orgId, ctx.orgId), eq(apiKeys.id, id)));
      if (!exists) throw notFound('API key');
      return; // already revoked: revoking again is a no-op
    }
    await recordAudit(tx, ctx, { action: 'api_key.revoked', targetType: 'api_key', targetId: id, summary: { name: row.name, prefix: row.prefix } });
  });
}
