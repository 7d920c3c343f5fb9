import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { and, desc, eq, gte, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { rowsOf, type Db, type Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import type { ServiceContext } from '../../lib/context.js';
import { decodeCursor, encodeCursor, toPage } from '../../lib/pagination.js';
import { CSV_OPTIONS, neutralize, toCsv, type Column } from '../../lib/tabular.js';
import { accessGrants, accessRequests, documentDownloads, grantVisits, trustPageViews, type PageViewKind } from './tables.js';

/**
 * Anonymous page-view counters, kept in memory and added to the database in batches: a public
 * read never waits on a write. Only (organization, day, kind) counts are kept; nothing about the
 * visitor. Several replicas each add their own increments.
 */
export class PageViewCounter {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void,
    flushEveryMs = 10_000,
  ) {
    if (flushEveryMs > 0) {
      this.timer = setInterval(() => void this.flush(), flushEveryMs);
      this.timer.unref();
    }
  }

  add(orgId: string, kind: PageViewKind) {
    const key = `${orgId}|${this.clock().toISOString().slice(0, 10)}|${kind}`;
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
  }

  /** Writes what has been counted so far; concurrent calls run one after the other. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = this.pending;
      this.pending = new Map();
      const rows = [...batch].map(([key, count]) => {
        const [orgId, day, kind] = key.split('|') as [string, string, PageViewKind];
        return { orgId, day, kind, count };
      });
      try {
        await this.db
          .insert(trustPageViews)
          .values(rows)
          .onConflictDoUpdate({
            target: [trustPageViews.orgId, trustPageViews.day, trustPageViews.kind],
            set: { count: sql`${trustPageViews.count} + excluded.count` },
          });
      } catch (err) {
        // Put the counts back for the next attempt (an organization deleted meanwhile is dropped by the FK).
        for (const [k, n] of batch) this.pending.set(k, (this.pending.get(k) ?? 0) + n);
        this.onError(err);
      }
    });
    return this.flushing;
  }

  async close() {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}

const day = (d: Date) => d.toISOString().slice(0, 10);

export interface AnalyticsRange {
  /** Days, YYYY-MM-DD (UTC), both included; default the last 30 days. */
  from?: string;
  to?: string;
}

function rangeOf(now: Date, q: AnalyticsRange) {
  const to = q.to ?? day(now);
  const from = q.from ?? day(new Date(now.getTime() - 29 * 86_400_000));
  return { from, to, fromTs: new Date(`${from}T00:00:00Z`), toTs: new Date(new Date(`${to}T00:00:00Z`).getTime() + 86_400_000) };
}

export async function trustAnalytics(ctx: ServiceContext, views: PageViewCounter, q: AnalyticsRange) {
  await views.flush();
  const now = ctx.clock();
  const { from, to, fromTs, toTs } = rangeOf(now, q);
  const inRange = (col: PgColumn) => and(gte(col, fromTs), lt(col, toTs));

  const [viewRows, requestRows, grantRows, downloadRows, companies] = await Promise.all([
    ctx.db
      .select()
      .from(trustPageViews)
      .where(and(eq(trustPageViews.orgId, ctx.orgId), gte(trustPageViews.day, from), lte(trustPageViews.day, to))),
    ctx.db
      .select({ status: accessRequests.status, autoApproved: accessRequests.autoApproved, n: sql<number>`count(*)::int` })
      .from(accessRequests)
      .where(and(eq(accessRequests.orgId, ctx.orgId), inRange(accessRequests.createdAt)))
      .groupBy(accessRequests.status, accessRequests.autoApproved),
    ctx.db
      .select()
      .from(accessGrants)
      .where(and(eq(accessGrants.orgId, ctx.orgId), inRange(accessGrants.createdAt))),
    ctx.db
      .select({
        grantId: documentDownloads.grantId,
        email: documentDownloads.email,
        documentId: documentDownloads.documentId,
        title: documentDownloads.documentTitle,
        n: sql<number>`count(*)::int`,
        last: sql<string>`max(${documentDownloads.at})`,
      })
      .from(documentDownloads)
      .where(and(eq(documentDownloads.orgId, ctx.orgId), inRange(documentDownloads.at)))
      .groupBy(documentDownloads.grantId, documentDownloads.email, documentDownloads.documentId, documentDownloads.documentTitle)
      .orderBy(desc(sql`count(*)`)),
    companyRows(ctx.db, ctx.orgId, fromTs, toTs),
  ]);

  const byDay = new Map<string, Record<PageViewKind, number>>();
  for (const r of viewRows) {
    const d = byDay.get(r.day) ?? { html: 0, json: 0, profile: 0, grant: 0 };
    d[r.kind] += Number(r.count);
    byDay.set(r.day, d);
  }
  const days = [...byDay].sort(([a], [b]) => a.localeCompare(b)).map(([d, c]) => ({ day: d, ...c }));
  const requests = { total: 0, pending: 0, approved: 0, denied: 0, autoApproved: 0 };
  for (const r of requestRows) {
    const n = Number(r.n);
    requests.total += n;
    requests[r.status] += n;
    if (r.autoApproved) requests.autoApproved += n;
  }
  const grants = { total: grantRows.length, active: 0, expired: 0, revoked: 0 };
  for (const g of grantRows) grants[g.revokedAt ? 'revoked' : g.expiresAt <= now ? 'expired' : 'active']++;

  const byDocument = new Map<string, { documentId: string; title: string; downloads: number; viaGrant: number }>();
  const byGrant = new Map<
    string,
    { grantId: string; email: string | null; downloads: number; documents: { documentId: string; title: string; downloads: number; lastDownloadAt: string }[] }
  >();
  for (const r of downloadRows) {
    const n = Number(r.n);
    const d = byDocument.get(r.documentId) ?? { documentId: r.documentId, title: r.title, downloads: 0, viaGrant: 0 };
    d.downloads += n;
    if (r.grantId) d.viaGrant += n;
    byDocument.set(r.documentId, d);
    if (r.grantId) {
      const g = byGrant.get(r.grantId) ?? { grantId: r.grantId, email: r.email, downloads: 0, documents: [] };
      g.downloads += n;
      g.documents.push({ documentId: r.documentId, title: r.title, downloads: n, lastDownloadAt: new Date(r.last).toISOString() });
      byGrant.set(r.grantId, g);
    }
  }
  const sum = (k: PageViewKind) => days.reduce((s, d) => s + d[k], 0);
  return {
    from,
    to,
    pageViews: {
      total: sum('html') + sum('json') + sum('profile'),
      html: sum('html'),
      json: sum('json'),
      profile: sum('profile'),
      grantPages: sum('grant'),
      byDay: days,
    },
    accessRequests: requests,
    grants,
    downloads: {
      total: [...byDocument.values()].reduce((s, d) => s + d.downloads, 0),
      byDocument: [...byDocument.values()].sort((a, b) => b.downloads - a.downloads),
      byGrant: [...byGrant.values()].sort((a, b) => b.downloads - a.downloads),
    },
    byCompany: companies.slice(0, MAX_COMPANIES),
    byCompanyTruncated: companies.length > MAX_COMPANIES,
  };
}

// ---------------------------------------------------------------------------------------------
// Per company: who looked, downloaded and asked. Known people only: requesters and grantees
// (visits and downloads through their grant); anonymous page views and public downloads are
// counted above and have no company.

/** Companies in one answer (the most recently seen first); the JSON says when more were seen. */
export const MAX_COMPANIES = 1000;

export interface CompanyActivity {
  company: string | null;
  domain: string | null;
  visits: number;
  downloads: number;
  requests: number;
  lastSeenAt: string;
}

/** The UTC ISO text of a timestamp with its microseconds: exact in cursors, whatever the session's time zone. */
const isoText = (col: SQL) => sql`to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * One row per (company as written, case aside; e-mail domain): a company name is typed by each
 * requester, the domain comes from the address, so both together name whom a CRM would match.
 * The company shown is the latest spelling seen.
 */
async function companyRows(db: Executor, orgId: string, fromTs: Date, toTs: Date): Promise<CompanyActivity[]> {
  const rows = await rowsOf<{ company: string | null; domain: string | null; visits: number; downloads: number; requests: number; last_seen: string }>(
    db,
    sql`
    select (array_agg(e.company order by e.at desc))[1] as company, e.domain,
      count(*) filter (where e.kind = 'visit')::int as visits,
      count(*) filter (where e.kind = 'download')::int as downloads,
      count(*) filter (where e.kind = 'request')::int as requests,
      ${isoText(sql`max(e.at)`)} as last_seen
    from (
      select 'visit' as kind, v.at, g.company, split_part(g.email, '@', 2) as domain
        from ${grantVisits} v join ${accessGrants} g on g.org_id = v.org_id and g.id = v.grant_id
        where v.org_id = ${orgId} and v.at >= ${fromTs} and v.at < ${toTs}
      union all
      select 'download', d.at, g.company, split_part(g.email, '@', 2)
        from ${documentDownloads} d join ${accessGrants} g on g.org_id = d.org_id and g.id = d.grant_id
        where d.org_id = ${orgId} and d.at >= ${fromTs} and d.at < ${toTs}
      union all
      select 'request', r.created_at, r.company, split_part(r.email, '@', 2)
        from ${accessRequests} r
        where r.org_id = ${orgId} and r.created_at >= ${fromTs} and r.created_at < ${toTs}
    ) e
    group by lower(e.company), e.domain
    order by max(e.at) desc, lower(e.company), e.domain
    limit ${MAX_COMPANIES + 1}`,
  );
  return rows.map((r) => ({
    company: r.company,
    domain: r.domain || null,
    visits: Number(r.visits),
    downloads: Number(r.downloads),
    requests: Number(r.requests),
    lastSeenAt: new Date(r.last_seen).toISOString(),
  }));
}

const COMPANY_COLUMNS: Column<CompanyActivity>[] = [
  { header: 'company', value: (r) => r.company },
  { header: 'domain', value: (r) => r.domain },
  { header: 'visits', value: (r) => r.visits },
  { header: 'downloads', value: (r) => r.downloads },
  { header: 'requests', value: (r) => r.requests },
  { header: 'lastSeenAt', value: (r) => r.lastSeenAt },
];

/** The per-company breakdown as CSV (the same rows as `byCompany`), cells neutralized against formulas. */
export async function companyCsv(ctx: ServiceContext, q: AnalyticsRange): Promise<string> {
  const { fromTs, toTs } = rangeOf(ctx.clock(), q);
  const rows = await companyRows(ctx.db, ctx.orgId, fromTs, toTs);
  return toCsv(COMPANY_COLUMNS, rows.slice(0, MAX_COMPANIES));
}

// ---------------------------------------------------------------------------------------------
// The event list: visits and downloads one by one, newest first.

export const ANALYTICS_EVENT_KINDS = ['visit', 'download'] as const;
export type AnalyticsEventKind = (typeof ANALYTICS_EVENT_KINDS)[number];

export interface AnalyticsEventQuery {
  cursor?: string;
  /** ISO date-times: at or after `since`, before `until`. */
  since?: string;
  until?: string;
  kind?: AnalyticsEventKind;
  domain?: string;
  company?: string;
}

export interface AnalyticsEvent {
  id: string;
  at: string;
  kind: AnalyticsEventKind;
  company: string | null;
  domain: string | null;
  email: string | null;
  grantId: string | null;
  documentId: string | null;
  documentTitle: string | null;
}

interface EventRow {
  id: string;
  at: string;
  kind: AnalyticsEventKind;
  company: string | null;
  email: string | null;
  grant_id: string | null;
  document_id: string | null;
  document_title: string | null;
}

/** Which ids a query reads: below `before`, at or below `notAfter`, at or above `notBefore`. */
interface Window {
  before?: string;
  notAfter?: string;
  notBefore?: string;
  limit: number;
  offset?: number;
}

/**
 * Visits and downloads, newest first by id (time-ordered ids: the order they were recorded), so
 * the cursor is a row id like every other list's. Each branch is ordered and limited on its own
 * before the merge, so a page reads at most `limit + offset` rows of each table. `since`/`until`
 * compare as timestamptz in SQL (microseconds kept). Domain and company come from the grant:
 * anonymous downloads of public documents match neither filter.
 */
async function eventRows(db: Executor, orgId: string, q: AnalyticsEventQuery, w: Window): Promise<EventRow[]> {
  const offset = w.offset ?? 0;
  const where = (t: SQL, grantEmail: SQL, grantCompany: SQL) => {
    const conds: SQL[] = [sql`${t}.org_id = ${orgId}`];
    if (q.since !== undefined) conds.push(sql`${t}.at >= ${q.since}::timestamptz`);
    if (q.until !== undefined) conds.push(sql`${t}.at < ${q.until}::timestamptz`);
    if (q.domain !== undefined) conds.push(sql`split_part(${grantEmail}, '@', 2) = ${q.domain.trim().toLowerCase().replace(/^@/, '')}`);
    if (q.company !== undefined) conds.push(sql`lower(${grantCompany}) = lower(${q.company.trim()})`);
    if (w.before !== undefined) conds.push(sql`${t}.id < ${w.before}::uuid`);
    if (w.notAfter !== undefined) conds.push(sql`${t}.id <= ${w.notAfter}::uuid`);
    if (w.notBefore !== undefined) conds.push(sql`${t}.id >= ${w.notBefore}::uuid`);
    return sql.join(conds, sql` and `);
  };
  const parts: SQL[] = [];
  if (q.kind !== 'download') {
    parts.push(sql`(select v.id, v.at, 'visit' as kind, g.company, g.email, v.grant_id, null::uuid as document_id, null::text as document_title
      from ${grantVisits} v join ${accessGrants} g on g.org_id = v.org_id and g.id = v.grant_id
      where ${where(sql`v`, sql`g.email`, sql`g.company`)}
      order by v.id desc limit ${w.limit + offset})`);
  }
  if (q.kind !== 'visit') {
    parts.push(sql`(select d.id, d.at, 'download' as kind, g.company, coalesce(g.email, d.email) as email, d.grant_id, d.document_id, d.document_title
      from ${documentDownloads} d left join ${accessGrants} g on g.org_id = d.org_id and g.id = d.grant_id
      where ${where(sql`d`, sql`g.email`, sql`g.company`)}
      order by d.id desc limit ${w.limit + offset})`);
  }
  return rowsOf<EventRow>(
    db,
    sql`
    select e.id, ${isoText(sql`e.at`)} as at, e.kind, e.company, e.email, e.grant_id, e.document_id, e.document_title
    from (${sql.join(parts, sql` union all `)}) e
    order by e.id desc limit ${w.limit} offset ${offset}`,
  );
}

const eventView = (r: EventRow): AnalyticsEvent => ({
  id: r.id,
  at: new Date(r.at).toISOString(),
  kind: r.kind,
  company: r.company,
  domain: r.email ? r.email.slice(r.email.lastIndexOf('@') + 1) : null,
  email: r.email,
  grantId: r.grant_id,
  documentId: r.document_id,
  documentTitle: r.document_title,
});

export async function listAnalyticsEvents(ctx: ServiceContext, q: AnalyticsEventQuery & { limit: number }) {
  const rows = await eventRows(ctx.db, ctx.orgId, q, { before: decodeCursor(q.cursor, ['uuid']), limit: q.limit + 1 });
  const page = toPage(rows, q.limit, (r) => r.id);
  return { items: page.items.map(eventView), nextCursor: page.nextCursor };
}

/** Rows in one CSV export at most; past them the answer says it was truncated. */
export const CSV_EVENT_ROWS = 10_000;
const CSV_PAGE = 1000;

const EVENT_COLUMNS: Column<AnalyticsEvent>[] = [
  { header: 'at', value: (r) => r.at },
  { header: 'kind', value: (r) => r.kind },
  { header: 'company', value: (r) => r.company },
  { header: 'domain', value: (r) => r.domain },
  { header: 'email', value: (r) => r.email },
  { header: 'documentId', value: (r) => r.documentId },
  { header: 'documentTitle', value: (r) => r.documentTitle },
  { header: 'grantId', value: (r) => r.grantId },
  { header: 'id', value: (r) => r.id },
];

/** Data lines without header or BOM, cells neutralized as toCsv does. */
const csvLines = (rows: AnalyticsEvent[]) =>
  stringify(
    rows.map((r) =>
      EVENT_COLUMNS.map((c) => {
        const v = c.value(r);
        return typeof v === 'string' ? neutralize(v) : (v ?? '');
      }),
    ),
    { ...CSV_OPTIONS, bom: false },
  );

/**
 * The event list as CSV: at most CSV_EVENT_ROWS rows from `cursor` on, streamed in pages of
 * CSV_PAGE (one short query each). The first and last row are fixed before the first byte goes
 * out, so rows recorded meanwhile neither lengthen the export nor slip into it.
 */
export async function analyticsEventsCsv(
  ctx: ServiceContext,
  q: AnalyticsEventQuery,
): Promise<{ body: Readable; truncated: boolean; nextCursor: string | null }> {
  const { db, orgId } = ctx;
  const [top] = await eventRows(db, orgId, q, { before: decodeCursor(q.cursor, ['uuid']), limit: 1 });
  const edge = top ? await eventRows(db, orgId, q, { notAfter: top.id, limit: 2, offset: CSV_EVENT_ROWS - 1 }) : [];
  const last = edge[0];
  async function* chunks() {
    yield toCsv(EVENT_COLUMNS, []);
    if (!top) return;
    let w: Window = { notAfter: top.id, notBefore: last?.id, limit: CSV_PAGE };
    for (;;) {
      const rows = await eventRows(db, orgId, q, w);
      if (rows.length > 0) yield csvLines(rows.map(eventView));
      if (rows.length < CSV_PAGE) return;
      w = { before: rows[rows.length - 1]!.id, notBefore: last?.id, limit: CSV_PAGE };
    }
  }
  // Past the last row, the next export (or JSON page) goes on from it.
  const truncated = edge.length > 1;
  return { body: Readable.from(chunks()), truncated, nextCursor: truncated ? encodeCursor(last!.id) : null };
}
