import type { Readable } from 'node:stream';
import { and, asc, desc, eq, gt, gte, inArray, isNotNull, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db, Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { prospectActor, requireRole, systemActor, type ServiceContext } from '../../lib/context.js';
import { DomainError, notFound, type FieldError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import type { BlobStore } from '../../lib/storage.js';
import { recordAudit, type AuditContext } from '../audit/index.js';
import { emitEvent } from '../events/index.js';
import { escapeHtml, mailHtml, queueMail } from '../mail/index.js';
import { organizationSummaries } from '../identity/index.js';
import { currentVersions, loadVersion } from './documents.js';
import type { GrantSigner } from './grants.js';
import { loadPage, ndaVersionOf, orgBySlug } from './service.js';
import { accessGrants, accessRequests, documentDownloads, documents, grantVisits, type AccessRequestStatus } from './tables.js';
import { isPdf, watermarkPdf } from '../../formats/watermark.js';

const DAY_MS = 86_400_000;

export interface AccessDeps {
  db: Db;
  clock: Clock;
  signer: GrantSigner;
  blobs: BlobStore;
  publicUrl: string;
  /** Where PDFs are stamped (the worker pool); default: here, on the calling thread. */
  stampPdf?: typeof watermarkPdf;
}

type RequestRow = typeof accessRequests.$inferSelect;
type GrantRow = typeof accessGrants.$inferSelect;

export function requestView(r: RequestRow) {
  return {
    id: r.id,
    name: r.name,
    email: r.email,
    company: r.company,
    reason: r.reason,
    documentIds: r.documentIds,
    status: r.status,
    ndaVersion: r.ndaVersion,
    ndaAcceptedAt: r.ndaAcceptedAt.toISOString(),
    ip: r.ip,
    userAgent: r.userAgent,
    requestCount: r.requestCount,
    autoApproved: r.autoApproved,
    decidedBy: r.decidedBy,
    decidedAt: r.decidedAt?.toISOString() ?? null,
    decisionNote: r.decisionNote,
    grantId: r.grantId,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export const GRANT_STATUSES = ['active', 'expired', 'revoked'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];
const grantStatus = (g: GrantRow, now: Date): GrantStatus => (g.revokedAt ? 'revoked' : g.expiresAt <= now ? 'expired' : 'active');

export function grantView(g: GrantRow, now: Date, downloads?: number) {
  return {
    // requestId: the access request's id under its old name, kept one release for existing clients.
    id: g.id,
    accessRequestId: g.requestId,
    requestId: g.requestId,
    email: g.email,
    name: g.name,
    company: g.company,
    documentIds: g.documentIds,
    status: grantStatus(g, now),
    expiresAt: g.expiresAt.toISOString(),
    revokedAt: g.revokedAt?.toISOString() ?? null,
    revokedBy: g.revokedBy,
    createdBy: g.createdBy,
    createdAt: g.createdAt.toISOString(),
    updatedAt: g.updatedAt.toISOString(),
    lastUsedAt: g.lastUsedAt?.toISOString() ?? null,
    ...(downloads !== undefined ? { downloads } : {}),
  };
}

/** The part of an address after the @ (addresses are validated with exactly one @ and stored lower-cased). */
export const domainOf = (email: string): string => email.slice(email.lastIndexOf('@') + 1);

// Event data: `requestId` repeats `accessRequestId` for one release (it clashed with the error
// `requestId`); both carry the access request's id.
const requestEventBase = (r: RequestRow) => ({
  accessRequestId: r.id,
  requestId: r.id,
  name: r.name,
  email: r.email,
  company: r.company,
  domain: domainOf(r.email),
});
const grantEventBase = (g: GrantRow) => ({
  grantId: g.id,
  accessRequestId: g.requestId,
  requestId: g.requestId,
  email: g.email,
  company: g.company,
  domain: domainOf(g.email),
});

/** access_request.approved and access_grant.created, on the transaction that approved. */
async function emitApproval(tx: Executor, ctx: { orgId: string; requestId?: string; clock: Clock }, req: RequestRow, g: GrantRow, autoApproved: boolean) {
  const expiresAt = g.expiresAt.toISOString();
  await emitEvent(tx, ctx, 'access_request.approved', {
    ...requestEventBase(req),
    grantId: g.id,
    documentIds: g.documentIds,
    expiresAt,
    autoApproved,
  });
  await emitEvent(tx, ctx, 'access_grant.created', { ...grantEventBase(g), documentIds: g.documentIds, expiresAt, autoApproved });
}

export const grantUrl = (publicUrl: string, slug: string, token: string) => `${publicUrl}/trust/${slug}/access/${token}`;

/** Who approves a request whose email domain the page auto-approves: the page's rule, not a member. */
const AUTO_APPROVE = systemActor('auto-approve');

/**
 * The grant link to the requester, queued on the approving transaction (sent after commit). The
 * token is signed here (no network): the link in the mail and the one the API answers are both valid.
 */
async function queueGrantMail(tx: Executor, deps: AccessDeps, org: { id: string; slug: string; name: string }, g: GrantRow) {
  const token = await deps.signer.sign({ grantId: g.id, orgId: org.id, email: g.email, documentIds: g.documentIds, expiresAt: g.expiresAt });
  const url = grantUrl(deps.publicUrl, org.slug, token);
  const until = g.expiresAt.toISOString().slice(0, 10);
  const title = `Your access to ${org.name} trust center documents`;
  await queueMail(
    tx,
    { orgId: org.id, clock: deps.clock },
    {
      kind: 'access_grant',
      to: g.email,
      subject: title,
      text: [
        `Your request for ${org.name}'s documents under NDA is approved.`,
        `Open them with this personal link until ${until}: ${url}`,
        'Do not forward it: PDF copies are marked with your e-mail address and each download is recorded.',
      ].join('\n\n'),
      html: mailHtml(
        title,
        `<p>Your request for ${escapeHtml(org.name)}'s documents under NDA is approved.</p>
<p><a href="${escapeHtml(url)}">Open the documents</a> with this personal link until ${escapeHtml(until)}.</p>
<p>Do not forward it: PDF copies are marked with your e-mail address and each download is recorded.</p>`,
      ),
    },
  );
}

function fail(errors: FieldError[]): never {
  throw new DomainError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
}

/** NDA (or public) documents of the organization among `ids`; every id must be one. */
async function shareableDocuments(db: Executor, orgId: string, ids: string[], field: string): Promise<string[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  const rows = await db
    .select({ id: documents.id, visibility: documents.visibility })
    .from(documents)
    .where(and(eq(documents.orgId, orgId), inArray(documents.id, unique)));
  const byId = new Map(rows.map((r) => [r.id, r.visibility]));
  const errors: FieldError[] = [];
  unique.forEach((id, i) => {
    const v = byId.get(id);
    if (!v || v === 'private') errors.push({ field: `${field}/${i}`, message: 'no such document on the trust page' });
  });
  if (errors.length > 0) fail(errors);
  return unique;
}

async function allNdaDocuments(db: Executor, orgId: string) {
  const rows = await db
    .select({ id: documents.id })
    .from(documents)
    .where(and(eq(documents.orgId, orgId), eq(documents.visibility, 'nda')))
    .orderBy(asc(documents.title));
  return rows.map((r) => r.id);
}

async function insertGrant(tx: Executor, orgId: string, req: RequestRow, documentIds: string[], expiresAt: Date, createdBy: string, now: Date) {
  const [g] = await tx
    .insert(accessGrants)
    .values({
      orgId,
      id: newId(),
      requestId: req.id,
      email: req.email,
      name: req.name,
      company: req.company,
      documentIds,
      expiresAt,
      createdBy,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return g!;
}

// ---------------------------------------------------------------------------------------------
// Public: a prospect asks for access

export interface AccessRequestInput {
  name: string;
  email: string;
  company: string;
  reason?: string | null;
  ndaAccepted?: unknown;
  documentIds?: string[];
}

export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

/**
 * Records an access request with the NDA version accepted, the time, address and agent.
 * Every request is its own record: a second one with the same email neither changes a pending
 * one nor answers differently, so nobody learns from this public route that one exists. An address
 * whose domain is on the page's auto-approve list is granted at once; its link is delivered
 * by the organization (see the access_grant.created event), never in this public answer.
 */
export async function createAccessRequest(deps: AccessDeps, slug: string, input: AccessRequestInput, meta: RequestMeta) {
  const org = await orgBySlug(deps.db, slug);
  const page = org ? await loadPage({ db: deps.db, orgId: org.id }) : undefined;
  if (!org || !page?.published) throw notFound('trust page');
  const errors: FieldError[] = [];
  if (input.ndaAccepted !== true) errors.push({ field: 'body/ndaAccepted', message: 'you must accept the NDA to request access (ndaAccepted: true)' });
  const name = input.name?.trim();
  const company = input.company?.trim();
  const email = input.email?.trim().toLowerCase();
  if (!name) errors.push({ field: 'body/name', message: 'is required' });
  if (!company) errors.push({ field: 'body/company', message: 'is required' });
  if (!email || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) errors.push({ field: 'body/email', message: 'must be an email address' });
  if (errors.length > 0) fail(errors);
  const wanted = await shareableDocuments(deps.db, org.id, input.documentIds ?? [], 'body/documentIds');
  const ndaVersion = ndaVersionOf(page);
  const domain = email!.split('@')[1]!;
  const auto = page.autoApproveDomains.includes(domain);

  const outcome = await deps.db.transaction(async (tx) => {
    const now = deps.clock();
    // Nobody signed in: a visitor asks (a prospect with no grant yet), and the page's rule may approve.
    const visitor: AuditContext = { orgId: org.id, actor: prospectActor(null), requestId: meta.requestId, clock: () => now };
    const rule: AuditContext = { ...visitor, actor: AUTO_APPROVE };
    const fields = {
      name: name!,
      company: company!,
      reason: input.reason?.trim() || null,
      ndaVersion,
      ndaAcceptedAt: now,
      ip: meta.ip,
      userAgent: meta.userAgent?.slice(0, 500) ?? null,
      updatedAt: now,
    };
    const [created] = await tx
      .insert(accessRequests)
      .values({
        ...fields,
        orgId: org.id,
        id: newId(),
        email: email!,
        documentIds: wanted,
        status: 'pending',
        createdAt: now,
      })
      .returning();
    let request = created!;
    await recordAudit(tx, visitor, {
      action: 'access_request.created',
      targetType: 'access_request',
      targetId: request.id,
      summary: { ndaVersion, domain },
    });
    await emitEvent(tx, { orgId: org.id, requestId: meta.requestId, clock: deps.clock }, 'access_request.created', {
      ...requestEventBase(request),
      reason: request.reason,
      documentIds: request.documentIds,
      ndaVersion,
    });
    if (auto) {
      const docs = wanted.length > 0 ? wanted : await allNdaDocuments(tx, org.id);
      const expiresAt = new Date(now.getTime() + page.autoApproveExpiresInDays * DAY_MS);
      const grant = await insertGrant(tx, org.id, request, docs, expiresAt, AUTO_APPROVE.id, now);
      [request] = (await tx
        .update(accessRequests)
        .set({
          status: 'approved',
          autoApproved: true,
          decidedBy: AUTO_APPROVE.id,
          decidedAt: now,
          grantId: grant.id,
          decisionNote: `email domain ${domain} is auto-approved`,
          updatedAt: now,
        })
        .where(and(eq(accessRequests.orgId, org.id), eq(accessRequests.id, request.id)))
        .returning()) as [RequestRow];
      await recordAudit(tx, rule, {
        action: 'access_grant.created',
        targetType: 'access_grant',
        targetId: grant.id,
        summary: { requestId: request.id, documents: docs.length, expiresAt: expiresAt.toISOString(), auto: true },
      });
      await emitApproval(tx, { orgId: org.id, requestId: meta.requestId, clock: deps.clock }, request, grant, true);
      await queueGrantMail(tx, deps, org, grant);
    }
    return { request };
  });
  return outcome.request;
}

// ---------------------------------------------------------------------------------------------
// The organization decides

async function lockRequest(tx: Executor, orgId: string, id: string) {
  const [r] = await tx
    .select()
    .from(accessRequests)
    .where(and(eq(accessRequests.orgId, orgId), eq(accessRequests.id, id)))
    .for('update');
  if (!r) throw notFound('access request');
  return r;
}

/** The list filters an integration (a CRM) syncs with; each narrows the list (AND). */
export interface ListFilters {
  email?: string;
  domain?: string;
  company?: string;
  /** An ISO date-time: rows whose updated_at is at or after it. */
  updatedSince?: string;
}

/**
 * Conditions for the filters, written as the indexes on (org_id, ...) are: addresses are stored
 * lower-cased, the domain is split_part(email, '@', 2), the company compares lower() on both sides.
 */
function filterConditions(cols: { email: PgColumn; company: PgColumn; updatedAt: PgColumn }, f: ListFilters): (SQL | undefined)[] {
  const email = f.email?.trim().toLowerCase();
  const domain = f.domain?.trim().toLowerCase().replace(/^@/, '');
  const company = f.company?.trim();
  return [
    email !== undefined ? eq(cols.email, email) : undefined,
    domain !== undefined ? sql`split_part(${cols.email}, '@', 2) = ${domain}` : undefined,
    company !== undefined ? sql`lower(${cols.company}) = lower(${company})` : undefined,
    f.updatedSince !== undefined ? gte(cols.updatedAt, new Date(f.updatedSince)) : undefined,
  ];
}

export async function listAccessRequests(ctx: ServiceContext, q: ListFilters & { limit: number; cursor?: string; status?: AccessRequestStatus }) {
  const after = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(accessRequests)
    .where(
      and(
        eq(accessRequests.orgId, ctx.orgId),
        q.status ? eq(accessRequests.status, q.status) : undefined,
        ...filterConditions(accessRequests, q),
        after ? lt(accessRequests.id, after) : undefined,
      ),
    )
    .orderBy(desc(accessRequests.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  return { items: page.items.map(requestView), nextCursor: page.nextCursor };
}

export async function getAccessRequest(ctx: ServiceContext, id: string) {
  const [r] = await ctx.db
    .select()
    .from(accessRequests)
    .where(and(eq(accessRequests.orgId, ctx.orgId), eq(accessRequests.id, id)));
  if (!r) throw notFound('access request');
  return requestView(r);
}

export async function approveAccessRequest(
  deps: AccessDeps,
  ctx: ServiceContext,
  id: string,
  input: { expiresInDays: number; documentIds?: string[]; note?: string | null },
) {
  requireRole(ctx.actor, 'admin');
  const now = ctx.clock();
  const { grant, slug } = await ctx.db.transaction(async (tx) => {
    const req = await lockRequest(tx, ctx.orgId, id);
    if (req.status !== 'pending') throw new DomainError('conflict', `this request is already ${req.status}`);
    let docs = input.documentIds ? await shareableDocuments(tx, ctx.orgId, input.documentIds, 'body/documentIds') : [];
    if (!input.documentIds) {
      const nda = await allNdaDocuments(tx, ctx.orgId);
      docs = req.documentIds.length > 0 ? req.documentIds.filter((d) => nda.includes(d)) : nda;
      if (docs.length === 0) docs = nda;
    }
    if (docs.length === 0) throw new DomainError('unprocessable', 'there is no NDA document to share: upload one (visibility nda) or name documentIds');
    const expiresAt = new Date(now.getTime() + input.expiresInDays * DAY_MS);
    const g = await insertGrant(tx, ctx.orgId, req, docs, expiresAt, ctx.actor.id, now);
    const [saved] = await tx
      .update(accessRequests)
      .set({ status: 'approved', decidedBy: ctx.actor.id, decidedAt: now, grantId: g.id, decisionNote: input.note?.trim() || null, updatedAt: now })
      .where(and(eq(accessRequests.orgId, ctx.orgId), eq(accessRequests.id, id)))
      .returning();
    await recordAudit(tx, ctx, {
      action: 'access_grant.created',
      targetType: 'access_grant',
      targetId: g.id,
      summary: { requestId: id, documents: docs.length, expiresAt: expiresAt.toISOString() },
    });
    await emitApproval(tx, ctx, saved!, g, false);
    const org = (await organizationSummaries(tx, [ctx.orgId])).get(ctx.orgId);
    await queueGrantMail(tx, deps, { ...org!, id: ctx.orgId }, g);
    return { grant: g, slug: org!.slug };
  });
  const token = await deps.signer.sign({ grantId: grant.id, orgId: ctx.orgId, email: grant.email, documentIds: grant.documentIds, expiresAt: grant.expiresAt });
  return {
    grantId: grant.id,
    url: grantUrl(deps.publicUrl, slug, token),
    expiresAt: grant.expiresAt.toISOString(),
    documentIds: grant.documentIds,
    email: grant.email,
  };
}

export async function denyAccessRequest(ctx: ServiceContext, id: string, input: { note?: string | null }) {
  requireRole(ctx.actor, 'admin');
  const now = ctx.clock();
  const row = await ctx.db.transaction(async (tx) => {
    const req = await lockRequest(tx, ctx.orgId, id);
    if (req.status !== 'pending') throw new DomainError('conflict', `this request is already ${req.status}`);
    const [saved] = await tx
      .update(accessRequests)
      .set({ status: 'denied', decidedBy: ctx.actor.id, decidedAt: now, decisionNote: input.note?.trim() || null, updatedAt: now })
      .where(and(eq(accessRequests.orgId, ctx.orgId), eq(accessRequests.id, id)))
      .returning();
    await recordAudit(tx, ctx, { action: 'access_request.denied', targetType: 'access_request', targetId: id, summary: {} });
    await emitEvent(tx, ctx, 'access_request.denied', { ...requestEventBase(saved!), note: saved!.decisionNote });
    return saved!;
  });
  return requestView(row);
}

async function downloadCounts(db: Executor, orgId: string, grantIds: string[]) {
  if (grantIds.length === 0) return new Map<string, number>();
  const rows = await db
    .select({ grantId: documentDownloads.grantId, n: sql<number>`count(*)::int` })
    .from(documentDownloads)
    .where(and(eq(documentDownloads.orgId, orgId), inArray(documentDownloads.grantId, grantIds)))
    .groupBy(documentDownloads.grantId);
  return new Map(rows.map((r) => [r.grantId!, Number(r.n)]));
}

/** A grant's status as a condition on its row, the same rule as grantStatus. */
function statusCondition(status: GrantStatus, now: Date): SQL | undefined {
  if (status === 'revoked') return isNotNull(accessGrants.revokedAt);
  return and(isNull(accessGrants.revokedAt), status === 'expired' ? lte(accessGrants.expiresAt, now) : gt(accessGrants.expiresAt, now));
}

export async function listGrants(ctx: ServiceContext, q: ListFilters & { limit: number; cursor?: string; status?: GrantStatus }) {
  const after = decodeCursor(q.cursor);
  const now = ctx.clock();
  const rows = await ctx.db
    .select()
    .from(accessGrants)
    .where(
      and(
        eq(accessGrants.orgId, ctx.orgId),
        q.status ? statusCondition(q.status, now) : undefined,
        ...filterConditions(accessGrants, q),
        after ? lt(accessGrants.id, after) : undefined,
      ),
    )
    .orderBy(desc(accessGrants.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  const counts = await downloadCounts(
    ctx.db,
    ctx.orgId,
    page.items.map((g) => g.id),
  );
  return { items: page.items.map((g) => grantView(g, now, counts.get(g.id) ?? 0)), nextCursor: page.nextCursor };
}

async function loadGrant(db: Executor, orgId: string, id: string) {
  const [g] = await db
    .select()
    .from(accessGrants)
    .where(and(eq(accessGrants.orgId, orgId), eq(accessGrants.id, id)));
  if (!g) throw notFound('access grant');
  return g;
}

export async function getGrant(ctx: ServiceContext, id: string) {
  const g = await loadGrant(ctx.db, ctx.orgId, id);
  const counts = await downloadCounts(ctx.db, ctx.orgId, [id]);
  return grantView(g, ctx.clock(), counts.get(id) ?? 0);
}

/** Revocation is a row update that every use of the link checks: effective at once. */
export async function revokeGrant(ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'admin');
  await ctx.db.transaction(async (tx) => {
    const [g] = await tx
      .select()
      .from(accessGrants)
      .where(and(eq(accessGrants.orgId, ctx.orgId), eq(accessGrants.id, id)))
      .for('update');
    if (!g) throw notFound('access grant');
    if (g.revokedAt) return;
    const now = ctx.clock();
    await tx
      .update(accessGrants)
      .set({ revokedAt: now, revokedBy: ctx.actor.id, updatedAt: now })
      .where(and(eq(accessGrants.orgId, ctx.orgId), eq(accessGrants.id, id)));
    await recordAudit(tx, ctx, { action: 'access_grant.revoked', targetType: 'access_grant', targetId: id, summary: { email: g.email } });
    await emitEvent(tx, ctx, 'access_grant.revoked', { ...grantEventBase(g), revokedAt: now.toISOString() });
  });
}

/** A fresh link for an active grant (same jti, same expiry), e.g. for an integration that mails it. */
export async function reissueGrantLink(deps: AccessDeps, ctx: ServiceContext, id: string) {
  requireRole(ctx.actor, 'admin');
  const g = await loadGrant(ctx.db, ctx.orgId, id);
  const status = grantStatus(g, ctx.clock());
  if (status !== 'active') throw new DomainError('gone', `this grant is ${status}`);
  const org = (await organizationSummaries(ctx.db, [ctx.orgId])).get(ctx.orgId);
  const token = await deps.signer.sign({ grantId: g.id, orgId: ctx.orgId, email: g.email, documentIds: g.documentIds, expiresAt: g.expiresAt });
  return { grantId: g.id, url: grantUrl(deps.publicUrl, org!.slug, token), expiresAt: g.expiresAt.toISOString(), documentIds: g.documentIds, email: g.email };
}

// ---------------------------------------------------------------------------------------------
// The grantee uses the link

export interface ResolvedGrant {
  org: { id: string; slug: string; name: string };
  grant: GrantRow;
  documents: { id: string; title: string; description: string | null; fileName: string; contentType: string; size: number }[];
}

/**
 * Checks a link: signature and expiry of the token (401, 410), the organization of the page it is
 * used on (another organization's link is 404), and the grant row (unknown 404, revoked 403,
 * expired 410). Documents are the granted ones that are still public or NDA.
 */
export async function resolveGrant(deps: AccessDeps, slug: string, token: string): Promise<ResolvedGrant> {
  const claims = await deps.signer.verify(token);
  const org = await orgBySlug(deps.db, slug);
  if (!org || claims.orgId !== org.id) throw notFound('access link');
  const grant = await loadGrant(deps.db, org.id, claims.grantId).catch(() => {
    throw notFound('access link');
  });
  const now = deps.clock();
  if (grant.revokedAt) throw new DomainError('forbidden', 'this access link has been revoked');
  if (grant.expiresAt <= now) throw new DomainError('gone', 'this access link has expired; ask for access again');
  const rows =
    grant.documentIds.length === 0
      ? []
      : await deps.db
          .select()
          .from(documents)
          .where(and(eq(documents.orgId, org.id), inArray(documents.id, grant.documentIds), inArray(documents.visibility, ['public', 'nda'])))
          .orderBy(asc(documents.title));
  const current = await currentVersions({ db: deps.db, orgId: org.id }, rows);
  await noteUse(deps.db, org.id, grant, now);
  return {
    org: { id: org.id, slug: org.slug, name: org.name },
    grant,
    documents: rows.flatMap((d) => {
      const v = current.get(d.id);
      return v ? [{ id: d.id, title: d.title, description: d.description, fileName: v.fileName, contentType: v.contentType, size: v.size }] : [];
    }),
  };
}

/** A use of the link after this long without one starts a new visit (as web analytics count sessions). */
export const VISIT_GAP_MS = 30 * 60_000;

/**
 * Records the use of a link: last_used_at (at most once a minute, to spare writes) and, after a
 * quiet spell, a visit. The visit is claimed by the conditional update, so two requests racing
 * at the start of a session record one visit.
 */
async function noteUse(db: Db, orgId: string, grant: GrantRow, now: Date) {
  const idle = grant.lastUsedAt ? now.getTime() - grant.lastUsedAt.getTime() : Infinity;
  const mine = and(eq(accessGrants.orgId, orgId), eq(accessGrants.id, grant.id));
  if (idle > VISIT_GAP_MS) {
    await db.transaction(async (tx) => {
      const claimed = await tx
        .update(accessGrants)
        .set({ lastUsedAt: now, updatedAt: now })
        .where(and(mine, or(isNull(accessGrants.lastUsedAt), lt(accessGrants.lastUsedAt, new Date(now.getTime() - VISIT_GAP_MS)))))
        .returning({ id: accessGrants.id });
      if (claimed.length > 0) await tx.insert(grantVisits).values({ orgId, id: newId(), grantId: grant.id, at: now });
    });
  } else if (idle > 60_000) {
    await db.update(accessGrants).set({ lastUsedAt: now, updatedAt: now }).where(mine);
  }
}

/** Grants one expiry scan takes on; a backlog waits for the next scans. */
export const GRANT_SCAN_BATCH = 500;

/**
 * Emits access_grant.expired once per grant that expired unrevoked: the due grants come from the
 * partial index on expires_at, oldest first, at most GRANT_SCAN_BATCH a run. Each is claimed by
 * setting expiry_notified_at in the transaction that emits its event, so replicas scanning at the
 * same time (or a later run) find it taken. Returns the number of events emitted.
 */
export async function scanGrantExpiries(db: Db, clock: Clock, limit = GRANT_SCAN_BATCH): Promise<number> {
  const now = clock();
  const due = await db
    .select()
    .from(accessGrants)
    .where(and(isNull(accessGrants.revokedAt), isNull(accessGrants.expiryNotifiedAt), lte(accessGrants.expiresAt, now)))
    .orderBy(asc(accessGrants.expiresAt))
    .limit(limit);
  let sent = 0;
  for (const g of due) {
    const emitted = await db.transaction(async (tx) => {
      const at = clock();
      const claimed = await tx
        .update(accessGrants)
        .set({ expiryNotifiedAt: at, updatedAt: at })
        .where(and(eq(accessGrants.orgId, g.orgId), eq(accessGrants.id, g.id), isNull(accessGrants.revokedAt), isNull(accessGrants.expiryNotifiedAt)))
        .returning({ id: accessGrants.id });
      if (claimed.length === 0) return false;
      await emitEvent(tx, { orgId: g.orgId, clock }, 'access_grant.expired', { ...grantEventBase(g), expiredAt: g.expiresAt.toISOString() });
      return true;
    });
    if (emitted) sent++;
  }
  return sent;
}

export interface Download {
  fileName: string;
  contentType: string;
  body: Buffer | Readable;
  watermarked: boolean;
  sha256: string;
}

async function recordDownload(
  deps: AccessDeps,
  orgId: string,
  requestId: string,
  d: { documentId: string; title: string; version: number; grantId: string | null; email: string | null; watermarked: boolean },
) {
  await deps.db.transaction(async (tx) => {
    const at = deps.clock();
    await tx.insert(documentDownloads).values({
      orgId,
      id: newId(),
      documentId: d.documentId,
      documentTitle: d.title,
      version: d.version,
      grantId: d.grantId,
      email: d.email,
      watermarked: d.watermarked,
      at,
    });
    await emitEvent(tx, { orgId, requestId, clock: deps.clock }, 'document.downloaded', {
      documentId: d.documentId,
      title: d.title,
      version: d.version,
      grantId: d.grantId,
      email: d.email,
      watermarked: d.watermarked,
    });
  });
}

/** An NDA (or public) document through a grant: PDFs stamped with the grantee and time, every download logged. */
export async function downloadWithGrant(deps: AccessDeps, resolved: ResolvedGrant, documentId: string, requestId: string): Promise<Download> {
  const doc = resolved.documents.find((d) => d.id === documentId);
  if (!doc) throw notFound('document in this grant');
  const [row] = await deps.db
    .select()
    .from(documents)
    .where(and(eq(documents.orgId, resolved.org.id), eq(documents.id, documentId)));
  if (!row) throw notFound('document in this grant');
  const v = await loadVersion({ db: deps.db, orgId: resolved.org.id }, documentId, row.currentVersion);
  const bytes = await deps.blobs.readVerified(v.sha256);
  const at = deps.clock();
  const pdf = isPdf(v.contentType, bytes);
  const body = pdf ? await (deps.stampPdf ?? watermarkPdf)(bytes, { email: resolved.grant.email, at, organization: resolved.org.name }) : bytes;
  await recordDownload(deps, resolved.org.id, requestId, {
    documentId,
    title: row.title,
    version: v.version,
    grantId: resolved.grant.id,
    email: resolved.grant.email,
    watermarked: pdf,
  });
  return { fileName: v.fileName, contentType: pdf ? 'application/pdf' : v.contentType, body, watermarked: pdf, sha256: v.sha256 };
}

/** A public document: anyone, no personal data kept; the download is still counted and announced. */
export async function downloadPublic(deps: AccessDeps, slug: string, documentId: string, requestId: string): Promise<Download> {
  const org = await orgBySlug(deps.db, slug);
  const page = org ? await loadPage({ db: deps.db, orgId: org.id }) : undefined;
  if (!org || !page?.published) throw notFound('trust page');
  const [row] = await deps.db
    .select()
    .from(documents)
    .where(and(eq(documents.orgId, org.id), eq(documents.id, documentId)));
  if (!row || row.visibility === 'private') throw notFound('document');
  if (row.visibility === 'nda') throw new DomainError('forbidden', 'this document is shared under NDA: request access on the trust page');
  const v = await loadVersion({ db: deps.db, orgId: org.id }, documentId, row.currentVersion);
  const stream = await deps.blobs.openVerified(v.sha256);
  await recordDownload(deps, org.id, requestId, { documentId, title: row.title, version: v.version, grantId: null, email: null, watermarked: false });
  return { fileName: v.fileName, contentType: v.contentType, body: stream, watermarked: false, sha256: v.sha256 };
}
