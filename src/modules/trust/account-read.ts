// The trust page's activity by e-mail domain, for the accounts read model and read here only:
// access requests, grants with the documents they share, and grantees' visits and downloads.
import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { OrgScope } from '../../lib/context.js';
import { accessGrants, accessRequests, documentDownloads, documents, grantVisits } from './tables.js';

/** Rows of each kind one call answers at most (newest first): an account view is a summary. */
export const MAX_ACCOUNT_ROWS = 200;

/** The same expression as the access_*_domain_idx indexes, so they serve the lookup. */
const domainIn = (email: PgColumn, domains: readonly string[]): SQL => inArray(sql`split_part(${email}, '@', 2)`, [...domains]);

export interface DomainAccessRequest {
  id: string;
  name: string;
  email: string;
  company: string;
  status: 'pending' | 'approved' | 'denied';
  /** Every request records the NDA accepted with it (the public form refuses one without). */
  ndaAccepted: boolean;
  ndaVersion: string;
  ndaAcceptedAt: Date;
  grantId: string | null;
  createdAt: Date;
}

export interface DomainGrant {
  id: string;
  accessRequestId: string | null;
  email: string;
  name: string | null;
  company: string | null;
  documentIds: string[];
  status: 'active' | 'expired' | 'revoked';
  /** From the access request the grant came from; false for a grant without one. */
  ndaAccepted: boolean;
  ndaAcceptedAt: Date | null;
  expiresAt: Date;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface SharedDocument {
  documentId: string;
  /** Null when the document was deleted since. */
  title: string | null;
  grantIds: string[];
  downloads: number;
}

/** Access requests and grants whose e-mail domain is one of `domains` (lower-cased), and the documents the grants share. */
export async function accessByDomains(
  { db, orgId }: OrgScope,
  domains: readonly string[],
  now: Date,
): Promise<{ accessRequests: DomainAccessRequest[]; grants: DomainGrant[]; documents: SharedDocument[] }> {
  if (domains.length === 0) return { accessRequests: [], grants: [], documents: [] };
  const [requests, grants] = await Promise.all([
    db
      .select()
      .from(accessRequests)
      .where(and(eq(accessRequests.orgId, orgId), domainIn(accessRequests.email, domains)))
      .orderBy(desc(accessRequests.id))
      .limit(MAX_ACCOUNT_ROWS),
    db
      .select({ g: accessGrants, ndaAcceptedAt: accessRequests.ndaAcceptedAt })
      .from(accessGrants)
      .leftJoin(accessRequests, and(eq(accessRequests.orgId, accessGrants.orgId), eq(accessRequests.id, accessGrants.requestId)))
      .where(and(eq(accessGrants.orgId, orgId), domainIn(accessGrants.email, domains)))
      .orderBy(desc(accessGrants.id))
      .limit(MAX_ACCOUNT_ROWS),
  ]);

  const grantsOf = new Map<string, string[]>();
  for (const { g } of grants) for (const d of g.documentIds) grantsOf.set(d, [...(grantsOf.get(d) ?? []), g.id]);
  const docIds = [...grantsOf.keys()];
  const grantIds = grants.map(({ g }) => g.id);
  const [titles, downloads] =
    docIds.length === 0
      ? [[], []]
      : await Promise.all([
          db
            .select({ id: documents.id, title: documents.title })
            .from(documents)
            .where(and(eq(documents.orgId, orgId), inArray(documents.id, docIds))),
          db
            .select({ documentId: documentDownloads.documentId, n: sql<number>`count(*)::int` })
            .from(documentDownloads)
            .where(and(eq(documentDownloads.orgId, orgId), inArray(documentDownloads.grantId, grantIds)))
            .groupBy(documentDownloads.documentId),
        ]);
  const titleOf = new Map(titles.map((t) => [t.id, t.title]));
  const downloadsOf = new Map(downloads.map((d) => [d.documentId, Number(d.n)]));

  return {
    accessRequests: requests.map((r) => ({
      id: r.id,
      name: r.name,
      email: r.email,
      company: r.company,
      status: r.status,
      ndaAccepted: true,
      ndaVersion: r.ndaVersion,
      ndaAcceptedAt: r.ndaAcceptedAt,
      grantId: r.grantId,
      createdAt: r.createdAt,
    })),
    grants: grants.map(({ g, ndaAcceptedAt }) => ({
      id: g.id,
      accessRequestId: g.requestId,
      email: g.email,
      name: g.name,
      company: g.company,
      documentIds: g.documentIds,
      status: g.revokedAt ? 'revoked' : g.expiresAt <= now ? 'expired' : 'active',
      ndaAccepted: ndaAcceptedAt !== null,
      ndaAcceptedAt,
      expiresAt: g.expiresAt,
      createdAt: g.createdAt,
      lastUsedAt: g.lastUsedAt,
    })),
    documents: docIds.map((id) => ({ documentId: id, title: titleOf.get(id) ?? null, grantIds: grantsOf.get(id)!, downloads: downloadsOf.get(id) ?? 0 })),
  };
}

export interface DomainActivityEvent {
  id: string;
  at: Date;
  kind: 'visit' | 'download';
  email: string;
  grantId: string;
  documentId: string | null;
  documentTitle: string | null;
}

/**
 * Grantees' visits and downloads (the analytics events) through grants whose e-mail domain is one
 * of `domains`: the newest events, and totals over all of them. Anonymous page views are counts
 * with no visitor and belong to no domain.
 */
export async function activityByDomains(
  { db, orgId }: OrgScope,
  domains: readonly string[],
): Promise<{ events: DomainActivityEvent[]; visits: number; downloads: number; lastVisitAt: Date | null }> {
  if (domains.length === 0) return { events: [], visits: 0, downloads: 0, lastVisitAt: null };
  const grantsHere = and(eq(accessGrants.orgId, orgId), domainIn(accessGrants.email, domains));
  const visitJoin = and(eq(accessGrants.orgId, grantVisits.orgId), eq(accessGrants.id, grantVisits.grantId));
  const downloadJoin = and(eq(accessGrants.orgId, documentDownloads.orgId), eq(accessGrants.id, documentDownloads.grantId));
  const [visits, downloads, visitTotals, downloadTotals] = await Promise.all([
    db
      .select({ id: grantVisits.id, at: grantVisits.at, email: accessGrants.email, grantId: grantVisits.grantId })
      .from(grantVisits)
      .innerJoin(accessGrants, visitJoin)
      .where(and(eq(grantVisits.orgId, orgId), grantsHere))
      .orderBy(desc(grantVisits.id))
      .limit(MAX_ACCOUNT_ROWS),
    db
      .select({
        id: documentDownloads.id,
        at: documentDownloads.at,
        email: accessGrants.email,
        grantId: accessGrants.id,
        documentId: documentDownloads.documentId,
        documentTitle: documentDownloads.documentTitle,
      })
      .from(documentDownloads)
      .innerJoin(accessGrants, downloadJoin)
      .where(and(eq(documentDownloads.orgId, orgId), grantsHere))
      .orderBy(desc(documentDownloads.id))
      .limit(MAX_ACCOUNT_ROWS),
    db
      .select({ n: sql<number>`count(*)::int`, last: sql<Date | null>`max(${grantVisits.at})`.mapWith(grantVisits.at) })
      .from(grantVisits)
      .innerJoin(accessGrants, visitJoin)
      .where(and(eq(grantVisits.orgId, orgId), grantsHere)),
    db
      .select({ n: sql<number>`count(*)::int` })
      .from(documentDownloads)
      .innerJoin(accessGrants, downloadJoin)
      .where(and(eq(documentDownloads.orgId, orgId), grantsHere)),
  ]);
  const events: DomainActivityEvent[] = [
    ...visits.map((v) => ({ ...v, kind: 'visit' as const, documentId: null, documentTitle: null })),
    ...downloads.map((d) => ({ ...d, kind: 'download' as const })),
  ]
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, MAX_ACCOUNT_ROWS);
  const last = visitTotals[0]?.last;
  return {
    events,
    visits: Number(visitTotals[0]?.n ?? 0),
    downloads: Number(downloadTotals[0]?.n ?? 0),
    lastVisitAt: last ?? null,
  };
}
