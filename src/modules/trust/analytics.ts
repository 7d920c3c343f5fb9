import { and, desc, eq, gte, lt, lte, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import type { ServiceContext } from '../../lib/context.js';
import { accessGrants, accessRequests, documentDownloads, trustPageViews, type PageViewKind } from './tables.js';

/**
 * Anonymous page-view counters, kept in memory and added to the database in batches: a public
 * read never waits on a write. Only (organization, day, kind) counts are kept; nothing about the
 * visitor. Several replicas each add their own increments.
 */
export class PageViewCounter {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly db: Db, private readonly clock: Clock, private readonly onError: (err: unknown) => void, flushEveryMs = 10_000) {
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
        await this.db.insert(trustPageViews).values(rows)
          .onConflictDoUpdate({ target: [trustPageViews.orgId, trustPageViews.day, trustPageViews.kind], set: { count: sql`${trustPageViews.count} + excluded.count` } });
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

export async function trustAnalytics(ctx: ServiceContext, views: PageViewCounter, q: { from?: string; to?: string }) {
  await views.flush();
  const now = ctx.clock();
  const to = q.to ?? day(now);
  const from = q.from ?? day(new Date(now.getTime() - 29 * 86_400_000));
  const fromTs = new Date(`${from}T00:00:00Z`);
  const toTs = new Date(new Date(`${to}T00:00:00Z`).getTime() + 86_400_000);
  const inRange = (col: PgColumn) => and(gte(col, fromTs), lt(col, toTs));

  const [viewRows, requestRows, grantRows, downloadRows] = await Promise.all([
    ctx.db.select().from(trustPageViews).where(and(eq(trustPageViews.orgId, ctx.orgId), gte(trustPageViews.day, from), lte(trustPageViews.day, to))),
    ctx.db.select({ status: accessRequests.status, autoApproved: accessRequests.autoApproved, n: sql<number>`count(*)::int` }).from(accessRequests)
      .where(and(eq(accessRequests.orgId, ctx.orgId), inRange(accessRequests.createdAt))).groupBy(accessRequests.status, accessRequests.autoApproved),
    ctx.db.select().from(accessGrants).where(and(eq(accessGrants.orgId, ctx.orgId), inRange(accessGrants.createdAt))),
    ctx.db.select({
      grantId: documentDownloads.grantId, email: documentDownloads.email, documentId: documentDownloads.documentId, title: documentDownloads.documentTitle,
      n: sql<number>`count(*)::int`, last: sql<string>`max(${documentDownloads.at})`,
    }).from(documentDownloads).where(and(eq(documentDownloads.orgId, ctx.orgId), inRange(documentDownloads.at)))
      .groupBy(documentDownloads.grantId, documentDownloads.email, documentDownloads.documentId, documentDownloads.documentTitle)
      .orderBy(desc(sql`count(*)`)),
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
  const byGrant = new Map<string, { grantId: string; email: string | null; downloads: number; documents: { documentId: string; title: string; downloads: number; lastDownloadAt: string }[] }>();
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
    from, to,
    pageViews: { total: sum('html') + sum('json') + sum('profile'), html: sum('html'), json: sum('json'), profile: sum('profile'), grantPages: sum('grant'), byDay: days },
    accessRequests: requests,
    grants,
    downloads: {
      total: [...byDocument.values()].reduce((s, d) => s + d.downloads, 0),
      byDocument: [...byDocument.values()].sort((a, b) => b.downloads - a.downloads),
      byGrant: [...byGrant.values()].sort((a, b) => b.downloads - a.downloads),
    },
  };
}
