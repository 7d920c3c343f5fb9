import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, desc, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import {
  apiKeyActor,
  memberOf,
  requireRole,
  roleAtLeast,
  scopesOf,
  storedActor,
  userActor,
  type Actor,
  type Role,
  type ServiceContext,
} from '../../lib/context.js';
import { DomainError, isUniqueViolation, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { dummyHash, hashPassword, passwordWeakness, verifyPassword } from '../../lib/password.js';
import { recordAudit } from '../audit/index.js';
import { escapeHtml, mailHtml, queueMail } from '../mail/index.js';
import { SCOPES } from '../../lib/scopes.js';
import type { KeyRing } from './keys.js';
import type { SsoVerifier } from './sso.js';
import type { LoginThrottle } from './throttle.js';
import { apiKeys, invitations, memberships, organizations, users } from './tables.js';

/** Slugs become URLs (/trust/{slug}); these would shadow or impersonate our own paths. */
const RESERVED_SLUGS = new Set([
  'api',
  'admin',
  'docs',
  'trust',
  'www',
  'static',
  'assets',
  'login',
  'signup',
  'healthz',
  'readyz',
  'well-known',
  'public',
  'app',
  'settings',
]);
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
  /** Per-account lock-out after repeated wrong passwords. */
  throttle: LoginThrottle;
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
  const weakness = passwordWeakness(input.user.password, email, [slug, input.organization.name, input.user.name ?? '']);
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
      await recordAudit(
        tx,
        { orgId, actor: userActor(userId, 'owner'), requestId, clock: deps.clock },
        {
          action: 'organization.created',
          targetType: 'organization',
          targetId: orgId,
          summary: { slug, ownerEmail: email },
        },
      );
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
  await deps.throttle.begin(email);
  const [user] = await deps.db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${email}`)
    .limit(1);
  const ok = await verifyPassword(input.password, user?.passwordHash ?? (await dummyHash()));
  if (!user || !user.passwordHash || !ok) throw new DomainError('invalid_credentials', 'email or password is wrong');
  await deps.throttle.succeeded(email);
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
  return { orgId, actor: userActor(claims.sub, m.role) };
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
  return { orgId: m.orgId, actor: userActor(m.userId, m.role) };
}

/**
 * An API key acts for the member who created it: with the lower of its own role and that member's
 * role now (read per request, so a demotion binds the key at once), and not at all once the
 * member has left the organization.
 */
async function authenticateApiKey(deps: IdentityDeps, key: string): Promise<{ orgId: string; actor: Actor }> {
  const prefix = key.slice(0, API_KEY_PREFIX.length + 12);
  const [found] = await deps.db
    .select({ key: apiKeys, creatorRole: memberships.role })
    .from(apiKeys)
    .leftJoin(memberships, and(eq(memberships.orgId, apiKeys.orgId), eq(memberships.userId, apiKeys.createdBy)))
    .where(eq(apiKeys.prefix, prefix))
    .limit(1);
  const row = found?.key;
  const presented = Buffer.from(sha256(key), 'hex');
  const valid = row !== undefined && timingSafeEqual(presented, Buffer.from(row.keyHash, 'hex'));
  if (!found || !row || !valid) throw new DomainError('unauthenticated', 'invalid API key');
  if (row.revokedAt) throw new DomainError('unauthenticated', 'API key revoked');
  if (!found.creatorRole) throw new DomainError('unauthenticated', 'the member who created this API key has left the organization');
  const role = roleAtLeast(found.creatorRole, row.role) ? row.role : found.creatorRole;
  const now = deps.clock();
  // Touch last-used at most once a minute: a write per request would make every read a write.
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    await deps.db
      .update(apiKeys)
      .set({ lastUsedAt: now })
      .where(and(eq(apiKeys.orgId, row.orgId), eq(apiKeys.id, row.id)));
  }
  return { orgId: row.orgId, actor: apiKeyActor(row, role) };
}

export async function me(ctx: ServiceContext) {
  const [org] = await ctx.db.select().from(organizations).where(eq(organizations.id, ctx.orgId));
  const [user] = await ctx.db
    .select()
    .from(users)
    .where(eq(users.id, memberOf(ctx.actor)));
  if (!org || !user) throw notFound('organization');
  return {
    organization: { id: org.id, slug: org.slug, name: org.name },
    user: { id: user.id, email: user.email, name: user.name },
    actor: { type: storedActor(ctx.actor).type, id: ctx.actor.id },
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
 * A scoped API key may not create a person's credential: a member (and so an invitation) logs in
 * unscoped, which would reach beyond the key's scopes. Keys it creates stay within its scopes.
 */
function assertNotScopedKey(actor: Actor, what: string) {
  if (scopesOf(actor)) {
    throw new DomainError(
      'forbidden',
      `a scoped API key cannot ${what}: a member's sign-in is not limited to the key's scopes; use an unscoped key or a person's token`,
    );
  }
}

/**
 * Invites a person; the one-time token lets them join. It is answered to the inviter and e-mailed
 * to the invitee (the mail outbox, sent after commit; without SMTP it waits in GET /outbox/mail).
 * An existing account is never added silently: it joins only when its owner accepts the
 * invitation with their own password.
 */
export async function addMember(ctx: ServiceContext, input: { email: string; role: Role }, mail: { publicUrl: string }) {
  requireRole(ctx.actor, 'admin');
  assertNotScopedKey(ctx.actor, 'add or invite members');
  assertCanGrant(ctx.actor, input.role);
  const email = normalizeEmail(input.email);
  const now = ctx.clock();
  const [already] = await ctx.db
    .select({ userId: memberships.userId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, ctx.orgId), sql`lower(${users.email}) = ${email}`));
  if (already) throw new DomainError('conflict', `${email} is already a member`);
  const token = randomBytes(32).toString('base64url');
  const id = newId();
  const expiresAt = new Date(now.getTime() + INVITE_TTL_DAYS * 86_400_000);
  await ctx.db.transaction(async (tx) => {
    await tx
      .insert(invitations)
      .values({ orgId: ctx.orgId, id, email, role: input.role, tokenHash: sha256(token), invitedBy: memberOf(ctx.actor), expiresAt, createdAt: now });
    await recordAudit(tx, ctx, { action: 'member.invited', targetType: 'invitation', targetId: id, summary: { email, role: input.role } });
    const [org] = await tx.select({ name: organizations.name }).from(organizations).where(eq(organizations.id, ctx.orgId));
    const accept = `${mail.publicUrl}/api/v1/auth/accept-invitation`;
    const until = expiresAt.toISOString().slice(0, 10);
    const title = `You are invited to ${org!.name} on the trust center`;
    await queueMail(tx, ctx, {
      kind: 'invitation',
      to: email,
      subject: title,
      text: [
        `You are invited to join ${org!.name} as ${input.role}.`,
        `Your invitation token, valid until ${until}: ${token}`,
        `Accept it with POST ${accept} and {"token": "...", "password": "..."} (a new password, or your current one if you already have an account).`,
      ].join('\n\n'),
      html: mailHtml(
        title,
        `<p>You are invited to join ${escapeHtml(org!.name)} as ${escapeHtml(input.role)}.</p>
<p>Your invitation token, valid until ${escapeHtml(until)}: <code>${escapeHtml(token)}</code></p>
<p>Accept it with <code>POST ${escapeHtml(accept)}</code> and the token and a password (a new one, or your current one if you already have an account).</p>`,
      ),
    });
  });
  return { status: 'invited' as const, invitation: { id, email, role: input.role, token, expiresAt: expiresAt.toISOString() } };
}

/**
 * Joins the organization of an invitation. A new person sets a password here; someone who already
 * has an account confirms with their current password (the inviter holds the token too, so the
 * token alone never adds an existing account), counted by the same per-account throttle as login.
 */
export async function acceptInvitation(deps: IdentityDeps, input: { token: string; password: string; name?: string }, requestId: string) {
  const now = deps.clock();
  const [inv] = await deps.db
    .select()
    .from(invitations)
    .where(eq(invitations.tokenHash, sha256(input.token)))
    .limit(1);
  if (!inv || inv.acceptedAt || inv.expiresAt <= now) throw new DomainError('not_found', 'invitation not found, used or expired');
  const [existing] = await deps.db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = ${inv.email}`)
    .limit(1);
  let userId: string;
  let passwordHash: string | undefined;
  if (existing) {
    await deps.throttle.begin(inv.email);
    const ok = await verifyPassword(input.password, existing.passwordHash ?? (await dummyHash()));
    if (!existing.passwordHash || !ok) {
      throw new DomainError('invalid_credentials', 'this email already has an account: accept with its current password', {
        errors: [{ field: 'body/password', message: 'is not the password of the existing account' }],
      });
    }
    await deps.throttle.succeeded(inv.email);
    userId = existing.id;
  } else {
    const weakness = passwordWeakness(input.password, inv.email, [input.name ?? '']);
    if (weakness) throw new DomainError('weak_password', `password ${weakness}`, { errors: [{ field: 'body/password', message: weakness }] });
    passwordHash = await hashPassword(input.password);
    userId = newId();
  }
  try {
    await deps.db.transaction(async (tx) => {
      // Claim the invitation first: a second acceptance racing this one updates no row.
      const claimed = await tx
        .update(invitations)
        .set({ acceptedAt: now })
        .where(and(eq(invitations.orgId, inv.orgId), eq(invitations.id, inv.id), isNull(invitations.acceptedAt)))
        .returning({ id: invitations.id });
      if (claimed.length === 0) throw new DomainError('not_found', 'invitation not found, used or expired');
      if (passwordHash) await tx.insert(users).values({ id: userId, email: inv.email, name: input.name ?? null, passwordHash, createdAt: now });
      await tx.insert(memberships).values({ orgId: inv.orgId, userId, role: inv.role, createdAt: now });
      await recordAudit(
        tx,
        { orgId: inv.orgId, actor: userActor(userId, inv.role), requestId, clock: deps.clock },
        {
          action: 'member.joined',
          targetType: 'member',
          targetId: userId,
          summary: { email: inv.email, role: inv.role, invitationId: inv.id, existingAccount: !passwordHash },
        },
      );
    });
  } catch (err) {
    if (isUniqueViolation(err, 'users_email_key'))
      throw new DomainError('email_taken', 'an account with this email was created meanwhile; accept again with its password');
    if (isUniqueViolation(err)) throw new DomainError('conflict', 'you are already a member of this organization');
    throw err;
  }
  const { token, expiresAt } = await deps.keys.sign({ sub: userId, org: inv.orgId });
  return { accessToken: token, expiresAt: expiresAt.toISOString() };
}

export async function changeMemberRole(ctx: ServiceContext, userId: string, role: Role) {
  requireRole(ctx.actor, 'admin');
  return ctx.db.transaction(async (tx) => {
    await lockMemberships(tx, ctx.orgId);
    const [m] = await tx
      .select()
      .from(memberships)
      .where(and(eq(memberships.orgId, ctx.orgId), eq(memberships.userId, userId)))
      .for('update');
    if (!m) throw notFound('member');
    assertCanGrant(ctx.actor, role);
    assertCanGrant(ctx.actor, m.role);
    // Lowering a role narrows a credential; raising one would widen a login the key does not bound.
    if (roleAtLeast(role, m.role) && role !== m.role) assertNotScopedKey(ctx.actor, "raise a member's role");
    if (m.role === 'owner' && role !== 'owner') await assertAnotherOwner(tx, ctx.orgId, userId);
    await tx
      .update(memberships)
      .set({ role })
      .where(and(eq(memberships.orgId, ctx.orgId), eq(memberships.userId, userId)));
    await recordAudit(tx, ctx, { action: 'member.role_changed', targetType: 'member', targetId: userId, summary: { from: m.role, to: role } });
    const [u] = await tx.select().from(users).where(eq(users.id, userId));
    return memberView({ userId, email: u!.email, name: u!.name, role, createdAt: m.createdAt });
  });
}

export async function removeMember(ctx: ServiceContext, userId: string) {
  requireRole(ctx.actor, 'admin');
  await ctx.db.transaction(async (tx) => {
    await lockMemberships(tx, ctx.orgId);
    const [m] = await tx
      .select()
      .from(memberships)
      .where(and(eq(memberships.orgId, ctx.orgId), eq(memberships.userId, userId)))
      .for('update');
    if (!m) throw notFound('member');
    assertCanGrant(ctx.actor, m.role);
    if (m.role === 'owner') await assertAnotherOwner(tx, ctx.orgId, userId);
    // API keys act with their creator's authority: authentication refuses them once the
    // membership is gone, and the FK cascade deletes them with it.
    await tx.delete(memberships).where(and(eq(memberships.orgId, ctx.orgId), eq(memberships.userId, userId)));
    await recordAudit(tx, ctx, { action: 'member.removed', targetType: 'member', targetId: userId, summary: { role: m.role } });
  });
}

/**
 * Role changes and removals in one organization take turns: each checks that another owner
 * remains, and two owners demoting each other at once would otherwise both pass that check.
 * The organization's row is the lock (no key update: rows that reference it are not blocked).
 */
async function lockMemberships(tx: Parameters<Parameters<Db['transaction']>[0]>[0], orgId: string) {
  await tx.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, orgId)).for('no key update');
}

async function assertAnotherOwner(tx: Parameters<Parameters<Db['transaction']>[0]>[0], orgId: string, except: string) {
  const owners = await tx
    .select({ userId: memberships.userId })
    .from(memberships)
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
    throw new DomainError('validation_failed', `unknown scopes: ${unknown.join(', ')}`, {
      errors: [{ field: 'body/scopes', message: `known scopes: ${SCOPES.join(', ')}` }],
    });
  }
  // A key made by a scoped key cannot reach beyond its maker.
  const own = scopesOf(ctx.actor);
  if (own && (!input.scopes || input.scopes.some((s) => !own.includes(s)))) {
    throw new DomainError('forbidden', 'a scoped API key can only create keys within its own scopes');
  }
  // tck_ + 12 visible chars to find the row, then 32 secret chars: 256 bits of entropy in all.
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url').replace(/[-_]/g, 'x');
  const prefix = key.slice(0, API_KEY_PREFIX.length + 12);
  const id = newId();
  const now = ctx.clock();
  const [row] = await ctx.db.transaction(async (tx) => {
    const inserted = await tx
      .insert(apiKeys)
      .values({
        orgId: ctx.orgId,
        id,
        name: input.name,
        prefix,
        keyHash: sha256(key),
        role: input.role,
        scopes: input.scopes ? [...new Set(input.scopes)].sort() : null,
        createdBy: memberOf(ctx.actor),
        createdAt: now,
      })
      .returning();
    await recordAudit(tx, ctx, {
      action: 'api_key.created',
      targetType: 'api_key',
      targetId: id,
      summary: { name: input.name, role: input.role, prefix, scopes: input.scopes ?? null },
    });
    return inserted;
  });
  return { ...apiKeyView(row!), key };
}

export async function listApiKeys(ctx: ServiceContext, q: { limit: number; cursor?: string }) {
  requireRole(ctx.actor, 'admin');
  const after = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.orgId, ctx.orgId), after ? lt(apiKeys.id, after) : undefined))
    .orderBy(desc(apiKeys.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  return { items: page.items.map(apiKeyView), nextCursor: page.nextCursor };
}

export async function revokeApiKey(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'admin');
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ revokedAt: ctx.clock() })
      .where(and(eq(apiKeys.orgId, ctx.orgId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    if (!row) {
      const [exists] = await tx
        .select({ id: apiKeys.id })
        .from(apiKeys)
        .where(and(eq(apiKeys.orgId, ctx.orgId), eq(apiKeys.id, id)));
      if (!exists) throw notFound('API key');
      return; // already revoked: revoking again is a no-op
    }
    await recordAudit(tx, ctx, { action: 'api_key.revoked', targetType: 'api_key', targetId: id, summary: { name: row.name, prefix: row.prefix } });
  });
}
