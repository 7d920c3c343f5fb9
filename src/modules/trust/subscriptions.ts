import { randomBytes } from 'node:crypto';
import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { prospectActor, requireRole, type ServiceContext } from '../../lib/context.js';
import { DomainError, notFound } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { recordAudit, type AuditContext } from '../audit/index.js';
import { emitEvent } from '../events/index.js';
import { escapeHtml, mailHtml, queueMail, type MailMessage } from '../mail/index.js';
import type { LinkClaims, LinkSigner } from './links.js';
import { loadPage, orgBySlug } from './service.js';
import { trustNoticeOptOuts, trustSubscribers, type SubscriberStatus, type TrustUpdateCategory } from './tables.js';

const DAY_MS = 86_400_000;
/** How long a confirmation link works. */
export const CONFIRM_TTL_DAYS = 7;
/** A second subscribe for the same address within this gap sends no second confirmation (no mail bombing). */
const RESEND_GAP_MS = 60_000;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface SubscriptionDeps {
  db: Db;
  clock: Clock;
  links: LinkSigner;
  publicUrl: string;
}

type SubscriberRow = typeof trustSubscribers.$inferSelect;
interface Org {
  id: string;
  slug: string;
  name: string;
}

// A visitor, not yet anyone's grantee: stored as the public actor, as access requests are.
const publicActor = (orgId: string, requestId: string, clock: Clock): AuditContext => ({ orgId, actor: prospectActor(null), requestId, clock });

export const confirmUrl = (deps: SubscriptionDeps, slug: string, token: string) =>
  `${deps.publicUrl}/trust/${slug}/subscriptions/confirm?token=${encodeURIComponent(token)}`;
export const unsubscribeUrl = (deps: SubscriptionDeps, slug: string, token: string) =>
  `${deps.publicUrl}/trust/${slug}/subscriptions/unsubscribe?token=${encodeURIComponent(token)}`;

/** The one-click unsubscribe link of a subscriber and its RFC 8058 headers: in every message to them. */
export function unsubscribeParts(deps: SubscriptionDeps, org: Org, s: Pick<SubscriberRow, 'id'>) {
  const url = unsubscribeUrl(deps, org.slug, deps.links.sign({ purpose: 'unsubscribe', orgId: org.id, subscriberId: s.id }));
  return {
    url,
    headers: { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    text: `To stop receiving these e-mails, unsubscribe: ${url}`,
    html: `<p>To stop receiving these e-mails, <a href="${escapeHtml(url)}">unsubscribe</a>.</p>`,
  };
}

function confirmationMail(deps: SubscriptionDeps, org: Org, s: SubscriberRow, expiresAt: Date): MailMessage {
  const link = confirmUrl(deps, org.slug, deps.links.sign({ purpose: 'confirm', orgId: org.id, subscriberId: s.id, nonce: s.confirmNonce, expiresAt }));
  const unsub = unsubscribeParts(deps, org, s);
  const title = `Confirm your subscription to ${org.name} trust center updates`;
  const topics = s.topics.length > 0 ? s.topics.join(', ') : 'all updates';
  return {
    kind: 'subscription_confirmation',
    to: s.email,
    subject: title,
    text: [
      `Someone, hopefully you, asked to receive ${org.name} trust center updates (${topics}) at this address.`,
      `Confirm within ${CONFIRM_TTL_DAYS} days: ${link}`,
      'If you did not ask for this, ignore this e-mail: nothing will be sent to you.',
      unsub.text,
    ].join('\n\n'),
    html: mailHtml(
      title,
      `<p>Someone, hopefully you, asked to receive ${escapeHtml(org.name)} trust center updates (${escapeHtml(topics)}) at this address.</p>
<p><a href="${escapeHtml(link)}">Confirm your subscription</a> within ${CONFIRM_TTL_DAYS} days.</p>
<p>If you did not ask for this, ignore this e-mail: nothing will be sent to you.</p>`,
      unsub.html,
    ),
    headers: unsub.headers,
  };
}

async function publishedOrg(db: Executor, slug: string): Promise<Org> {
  const org = await orgBySlug(db, slug);
  const page = org ? await loadPage({ db, orgId: org.id }) : undefined;
  if (!org || !page?.published) throw notFound('trust page');
  return org;
}

export function checkEmail(raw: string | undefined): string {
  const email = raw?.trim().toLowerCase() ?? '';
  if (!EMAIL.test(email) || email.length > 254) {
    throw new DomainError('validation_failed', 'body/email must be an email address', {
      errors: [{ field: 'body/email', message: 'must be an email address' }],
    });
  }
  return email;
}

/**
 * Double opt-in: records the address as pending and queues a confirmation e-mail. The answer is
 * the same whatever the address's state (new, pending, confirmed, unsubscribed), so this public
 * route tells nobody who follows the page; a confirmed address gets no mail, and a pending one at
 * most one confirmation a minute.
 */
export async function subscribe(deps: SubscriptionDeps, slug: string, input: { email: string; topics?: TrustUpdateCategory[] }, requestId: string) {
  const org = await publishedOrg(deps.db, slug);
  const email = checkEmail(input.email);
  const topics = [...new Set(input.topics ?? [])];
  await deps.db.transaction(async (tx) => {
    const now = deps.clock();
    const [current] = await tx
      .select()
      .from(trustSubscribers)
      .where(and(eq(trustSubscribers.orgId, org.id), eq(trustSubscribers.email, email)))
      .for('update');
    if (current?.status === 'confirmed') return;
    if (current?.confirmSentAt && now.getTime() - current.confirmSentAt.getTime() < RESEND_GAP_MS) return;
    const fields = { topics, status: 'pending' as const, confirmNonce: randomBytes(9).toString('base64url'), confirmSentAt: now, updatedAt: now };
    let row: SubscriberRow;
    if (current) {
      [row] = (await tx
        .update(trustSubscribers)
        .set({ ...fields, unsubscribedAt: null })
        .where(and(eq(trustSubscribers.orgId, org.id), eq(trustSubscribers.id, current.id)))
        .returning()) as [SubscriberRow];
    } else {
      // Another request may insert the same address at once: the unique index decides, and the loser sends nothing.
      const inserted = await tx
        .insert(trustSubscribers)
        .values({ ...fields, orgId: org.id, id: newId(), email, createdAt: now })
        .onConflictDoNothing()
        .returning();
      if (inserted.length === 0) return;
      row = inserted[0]!;
    }
    await recordAudit(tx, publicActor(org.id, requestId, deps.clock), {
      action: 'trust_subscriber.requested',
      targetType: 'trust_subscriber',
      targetId: row.id,
      summary: { topics },
    });
    await queueMail(tx, { orgId: org.id, clock: deps.clock }, confirmationMail(deps, org, row, new Date(now.getTime() + CONFIRM_TTL_DAYS * DAY_MS)));
  });
}

/** A link checked against the page's organization; anything off is one answer. */
async function linkOf(deps: SubscriptionDeps, db: Executor, slug: string, token: string, purpose: 'confirm' | 'unsubscribe') {
  const claims = deps.links.verify(token, purpose);
  if (!claims) throw invalidLink();
  const org = await orgBySlug(db, slug);
  if (!org || org.id !== claims.orgId) throw notFound('trust page');
  if (claims.expiresAt && claims.expiresAt <= deps.clock())
    throw new DomainError('gone', 'this confirmation link has expired; subscribe again to get a new one');
  return { org, claims };
}

const invalidLink = () => new DomainError('unauthenticated', 'this link is not valid');

/** A checked link's subscriber (a removed one's links lead nowhere, as an unknown one's). */
async function subscriberOf(db: Executor, org: Org, claims: LinkClaims, lock = false) {
  if (!claims.subscriberId) throw invalidLink();
  const q = db
    .select()
    .from(trustSubscribers)
    .where(and(eq(trustSubscribers.orgId, org.id), eq(trustSubscribers.id, claims.subscriberId)));
  const [row] = lock ? await q.for('update') : await q;
  if (!row) throw invalidLink();
  return row;
}

/** A subscription link's subscriber, the link checked first. */
async function subscriberOfLink(deps: SubscriptionDeps, db: Executor, slug: string, token: string, purpose: 'confirm' | 'unsubscribe', lock = false) {
  const { org, claims } = await linkOf(deps, db, slug, token, purpose);
  return { org, claims, row: await subscriberOf(db, org, claims, lock) };
}

export type LinkState = 'pending' | 'confirmed' | 'unsubscribed' | 'superseded';

/** What a confirmation link would do, for the page that asks to confirm (a GET changes nothing: mail scanners open links). */
export async function confirmationState(deps: SubscriptionDeps, slug: string, token: string): Promise<{ org: Org; state: LinkState }> {
  const { org, row, claims } = await subscriberOfLink(deps, deps.db, slug, token, 'confirm');
  const state: LinkState = row.status === 'pending' && row.confirmNonce !== claims.nonce ? 'superseded' : row.status;
  return { org, state };
}

/** Confirms the address of a valid, current confirmation link; confirming twice changes nothing. */
export async function confirmSubscription(
  deps: SubscriptionDeps,
  slug: string,
  token: string,
  requestId: string,
): Promise<{ org: Org; state: LinkState; changed: boolean }> {
  return deps.db.transaction(async (tx) => {
    const { org, row, claims } = await subscriberOfLink(deps, tx, slug, token, 'confirm', true);
    if (row.status === 'confirmed') return { org, state: 'confirmed' as const, changed: false };
    // Only the latest confirmation e-mail counts; after an unsubscribe a new subscribe is needed.
    if (row.status !== 'pending' || row.confirmNonce !== claims.nonce)
      return { org, state: row.status === 'pending' ? ('superseded' as const) : row.status, changed: false };
    const now = deps.clock();
    await tx
      .update(trustSubscribers)
      .set({ status: 'confirmed', confirmedAt: now, updatedAt: now })
      .where(and(eq(trustSubscribers.orgId, org.id), eq(trustSubscribers.id, row.id)));
    await recordAudit(tx, publicActor(org.id, requestId, deps.clock), {
      action: 'trust_subscriber.confirmed',
      targetType: 'trust_subscriber',
      targetId: row.id,
    });
    await emitEvent(tx, { orgId: org.id, requestId, clock: deps.clock }, 'subscriber.confirmed', {
      subscriberId: row.id,
      email: row.email,
      topics: row.topics,
      confirmedAt: now.toISOString(),
    });
    return { org, state: 'confirmed' as const, changed: true };
  });
}

/**
 * The one-click opt-out of an update notice sent to grant holders: grantees are not subscribers,
 * so their link names the address, and an opt-out keeps it out of later notices to grantees.
 */
export function granteeOptOutParts(deps: SubscriptionDeps, org: Org, email: string) {
  const url = unsubscribeUrl(deps, org.slug, deps.links.sign({ purpose: 'unsubscribe', orgId: org.id, grantee: email }));
  const note = `You receive this because you have access to documents of the ${org.name} trust center.`;
  return {
    url,
    headers: { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    text: `${note} To stop receiving these e-mails, unsubscribe: ${url}`,
    html: `<p>${escapeHtml(note)} To stop receiving these e-mails, <a href="${escapeHtml(url)}">unsubscribe</a>.</p>`,
  };
}

/** Of these addresses, the ones that opted out of update notices to grantees. */
export async function optedOutAmong(db: Executor, orgId: string, emails: string[]): Promise<Set<string>> {
  if (emails.length === 0) return new Set();
  const rows = await db
    .select({ email: trustNoticeOptOuts.email })
    .from(trustNoticeOptOuts)
    .where(and(eq(trustNoticeOptOuts.orgId, orgId), inArray(trustNoticeOptOuts.email, emails)));
  return new Set(rows.map((r) => r.email));
}

/** What an unsubscribe link's address receives now (for the page with the one-click button). */
export async function unsubscribeState(deps: SubscriptionDeps, slug: string, token: string): Promise<{ org: Org; state: LinkState }> {
  const { org, claims } = await linkOf(deps, deps.db, slug, token, 'unsubscribe');
  if (claims.grantee !== undefined) {
    const out = await optedOutAmong(deps.db, org.id, [claims.grantee]);
    return { org, state: out.size > 0 ? 'unsubscribed' : 'confirmed' };
  }
  return { org, state: (await subscriberOf(deps.db, org, claims)).status };
}

/** One click (RFC 8058): no further message reaches the address; again changes nothing. */
export async function unsubscribe(deps: SubscriptionDeps, slug: string, token: string, requestId: string): Promise<{ org: Org }> {
  return deps.db.transaction(async (tx) => {
    const { org, claims } = await linkOf(deps, tx, slug, token, 'unsubscribe');
    const now = deps.clock();
    if (claims.grantee !== undefined) {
      const added = await tx.insert(trustNoticeOptOuts).values({ orgId: org.id, email: claims.grantee, createdAt: now }).onConflictDoNothing().returning();
      if (added.length > 0) {
        await recordAudit(tx, publicActor(org.id, requestId, deps.clock), {
          action: 'trust_notice.grantee_opted_out',
          targetType: 'trust_notice_opt_out',
          targetId: claims.grantee,
        });
      }
      return { org };
    }
    const row = await subscriberOf(tx, org, claims, true);
    if (row.status === 'unsubscribed') return { org };
    await tx
      .update(trustSubscribers)
      .set({ status: 'unsubscribed', unsubscribedAt: now, updatedAt: now })
      .where(and(eq(trustSubscribers.orgId, org.id), eq(trustSubscribers.id, row.id)));
    await recordAudit(tx, publicActor(org.id, requestId, deps.clock), {
      action: 'trust_subscriber.unsubscribed',
      targetType: 'trust_subscriber',
      targetId: row.id,
    });
    if (row.status === 'confirmed') {
      await emitEvent(tx, { orgId: org.id, requestId, clock: deps.clock }, 'subscriber.removed', {
        subscriberId: row.id,
        email: row.email,
        reason: 'unsubscribed',
        removedAt: now.toISOString(),
      });
    }
    return { org };
  });
}

// ---------------------------------------------------------------------------------------------
// The organization's side

function subscriberView(r: SubscriberRow) {
  return {
    id: r.id,
    email: r.email,
    topics: r.topics,
    status: r.status,
    confirmedAt: r.confirmedAt?.toISOString() ?? null,
    unsubscribedAt: r.unsubscribedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export async function listSubscribers(ctx: ServiceContext, q: { limit: number; cursor?: string; status?: SubscriberStatus; email?: string }) {
  const after = decodeCursor(q.cursor, ['uuid']);
  const rows = await ctx.db
    .select()
    .from(trustSubscribers)
    .where(
      and(
        eq(trustSubscribers.orgId, ctx.orgId),
        q.status ? eq(trustSubscribers.status, q.status) : undefined,
        q.email ? eq(trustSubscribers.email, q.email.trim().toLowerCase()) : undefined,
        after ? lt(trustSubscribers.id, after) : undefined,
      ),
    )
    .orderBy(desc(trustSubscribers.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  return { items: page.items.map(subscriberView), nextCursor: page.nextCursor };
}

/** Deletes the subscriber (their address is not kept); their links stop working. */
export async function removeSubscriber(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'admin');
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .delete(trustSubscribers)
      .where(and(eq(trustSubscribers.orgId, ctx.orgId), eq(trustSubscribers.id, id)))
      .returning();
    if (!row) throw notFound('subscriber');
    await recordAudit(tx, ctx, { action: 'trust_subscriber.removed', targetType: 'trust_subscriber', targetId: id, summary: { status: row.status } });
    if (row.status === 'confirmed') {
      await emitEvent(tx, ctx, 'subscriber.removed', { subscriberId: id, email: row.email, reason: 'removed', removedAt: ctx.clock().toISOString() });
    }
  });
}
