import type { UploadedFile } from '../../lib/multipart.js';
import { discardBlob } from '../blobs/index.js';
import { and, asc, desc, eq, gt, inArray, lt, lte, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { requireRole, type OrgScope, type ServiceContext } from '../../lib/context.js';
import { DomainError, type FieldError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import type { BlobStore } from '../../lib/storage.js';
import type { IndexState, TextExtractor } from '../knowledge/index.js';
import { recordAudit } from '../audit/index.js';
import { lookupAnswerable, resolveAnswerable } from '../catalog/index.js';
import { VersionedFiles, indexView, versionView } from '../files/index.js';
import { evidence, evidenceControls, evidenceVersions } from './tables.js';

// Versions, their blob refs, text index, audit and downloads: the shared versioned-file code, on evidence's own tables.
const files = new VersionedFiles({ kind: 'evidence', blobOwner: 'evidence_version', items: evidence, versions: evidenceVersions, itemKey: 'evidenceId' });

export const EXPIRING_SOON_DAYS = 30;
export const EVIDENCE_STATUSES = ['valid', 'expiring', 'expired', 'not_yet_valid'] as const;
export type EvidenceStatus = (typeof EVIDENCE_STATUSES)[number];

/** expired once expiresAt passes; expiring within 30 days of it; not_yet_valid before validFrom. */
export function evidenceStatus(row: { validFrom: Date | null; expiresAt: Date | null }, now: Date): EvidenceStatus {
  if (row.expiresAt && row.expiresAt <= now) return 'expired';
  if (row.validFrom && row.validFrom > now) return 'not_yet_valid';
  if (row.expiresAt && row.expiresAt.getTime() - now.getTime() <= EXPIRING_SOON_DAYS * 86_400_000) return 'expiring';
  return 'valid';
}

export interface EvidenceInput {
  title?: string;
  description?: string | null;
  url?: string | null;
  visibility?: 'public' | 'internal';
  validFrom?: string | null;
  expiresAt?: string | null;
  controls?: string[];
  /** Whether a file's text may answer questionnaires (default true). */
  useForAnswers?: boolean;
}

export type FileInput = UploadedFile;

type EvidenceRow = typeof evidence.$inferSelect;
type VersionRow = typeof evidenceVersions.$inferSelect;

function view(row: EvidenceRow, controls: { framework: string; ref: string }[], now: Date, versions?: VersionRow[], index?: IndexState) {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    kind: row.kind,
    url: row.url,
    visibility: row.visibility,
    validFrom: row.validFrom?.toISOString() ?? null,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    status: evidenceStatus(row, now),
    currentVersion: row.currentVersion,
    controls,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    ...indexView(index),
    ...(versions ? { versions: versions.map((v) => ({ ...versionView(v), url: v.url })) } : {}),
  };
}

// Evidence visibility in the knowledge index: internal text is for members only.
const knowledgeVisibility = (v: EvidenceRow['visibility']) => (v === 'public' ? ('public' as const) : ('private' as const));

/** Reads a file's current version into passages answers can cite (in the parser pool, after the upload committed). */
export async function indexEvidence(ctx: ServiceContext, deps: { parsers: TextExtractor; blobs: BlobStore }, id: string, useForAnswers?: boolean) {
  const row = await files.item(ctx, id);
  if (row.kind === 'file') await files.indexCurrent(ctx, deps, row, knowledgeVisibility(row.visibility), useForAnswers);
  return getEvidence(ctx, id);
}

function parseDate(value: string | null | undefined, fieldName: string, errors: FieldError[]): Date | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    errors.push({ field: `body/${fieldName}`, message: 'must be an ISO 8601 date or date-time' });
    return undefined;
  }
  return d;
}

function checkUrl(url: string, errors: FieldError[]) {
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('protocol');
    if (u.username || u.password) errors.push({ field: 'body/url', message: 'must not contain credentials' });
  } catch {
    errors.push({ field: 'body/url', message: 'must be an http(s) URL' });
  }
}

async function resolveControls(db: Executor, refs: string[], errors: FieldError[]) {
  const out: { frameworkId: string; ref: string }[] = [];
  const found = await lookupAnswerable(db, refs);
  found.forEach((c, i) => {
    if (!c) errors.push({ field: 'body/controls', message: `unknown control "${refs[i]}"` });
    else if (!out.some((o) => o.frameworkId === c.frameworkId && o.ref === c.ref)) out.push({ frameworkId: c.frameworkId, ref: c.ref });
  });
  return out;
}

function fail(errors: FieldError[]): never {
  throw new DomainError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
}

export { discardBlob };

export async function createEvidence(ctx: ServiceContext, input: EvidenceInput, file: FileInput | undefined) {
  requireRole(ctx.actor, 'editor');
  const errors: FieldError[] = [];
  const title = input.title?.trim();
  if (!title) errors.push({ field: 'body/title', message: 'is required' });
  else if (title.length > 300) errors.push({ field: 'body/title', message: 'must be at most 300 characters' });
  if (file && input.url) errors.push({ field: 'body/url', message: 'send a file or a url, not both' });
  if (!file && !input.url) errors.push({ field: 'body/file', message: 'send a file, or a url for link evidence' });
  if (input.url) checkUrl(input.url, errors);
  const validFrom = parseDate(input.validFrom, 'validFrom', errors);
  const expiresAt = parseDate(input.expiresAt, 'expiresAt', errors);
  if (validFrom && expiresAt && validFrom >= expiresAt) errors.push({ field: 'body/expiresAt', message: 'must be after validFrom' });
  const controls = await resolveControls(ctx.db, input.controls ?? [], errors);
  if (errors.length > 0) fail(errors);

  const id = newId();
  const item = {
    title: title!,
    description: input.description ?? null,
    kind: file ? ('file' as const) : ('link' as const),
    url: input.url ?? null,
    visibility: input.visibility ?? 'internal',
    validFrom: validFrom ?? null,
    expiresAt: expiresAt ?? null,
  };
  await files.create(ctx, id, item, { file, extra: { url: input.url ?? null } }, async (tx) => {
    if (controls.length > 0) await tx.insert(evidenceControls).values(controls.map((c) => ({ orgId: ctx.orgId, evidenceId: id, ...c })));
    await recordAudit(tx, ctx, {
      action: 'evidence.created',
      targetType: 'evidence',
      targetId: id,
      summary: { title, kind: item.kind, sha256: file?.stored.sha256, controls: controls.map((c) => c.ref) },
    });
  });
  return getEvidence(ctx, id);
}

async function controlsOf(db: Executor, orgId: string, ids: string[]) {
  if (ids.length === 0) return new Map<string, { framework: string; ref: string }[]>();
  const rows = await db
    .select()
    .from(evidenceControls)
    .where(and(eq(evidenceControls.orgId, orgId), inArray(evidenceControls.evidenceId, ids)));
  const map = new Map<string, { framework: string; ref: string }[]>();
  for (const r of rows) map.set(r.evidenceId, [...(map.get(r.evidenceId) ?? []), { framework: r.frameworkId, ref: r.ref }]);
  for (const list of map.values()) list.sort((x, y) => x.framework.localeCompare(y.framework) || x.ref.localeCompare(y.ref, 'en', { numeric: true }));
  return map;
}

export async function getEvidence(ctx: ServiceContext, id: string) {
  const row = await files.item(ctx, id);
  const versions = await files.versions(ctx, id);
  const index = (await files.indexStates(ctx, [id])).get(id);
  return view(row, (await controlsOf(ctx.db, ctx.orgId, [id])).get(id) ?? [], ctx.clock(), versions, index);
}

export async function listEvidence(
  ctx: ServiceContext,
  q: { limit: number; cursor?: string; status?: EvidenceStatus; control?: string; expiringWithinDays?: number },
) {
  const now = ctx.clock();
  const after = decodeCursor(q.cursor);
  let controlFilter;
  if (q.control) {
    const c = await resolveAnswerable(ctx.db, q.control);
    controlFilter = sql`exists (select 1 from ${evidenceControls} ec where ec.org_id = ${evidence.orgId} and ec.evidence_id = ${evidence.id} and ec.framework_id = ${c.frameworkId} and ec.ref = ${c.ref})`;
  }
  const soon = new Date(now.getTime() + EXPIRING_SOON_DAYS * 86_400_000);
  const statusFilter = {
    expired: lte(evidence.expiresAt, now),
    expiring: and(gt(evidence.expiresAt, now), lte(evidence.expiresAt, soon), sql`(${evidence.validFrom} is null or ${evidence.validFrom} <= ${now})`),
    not_yet_valid: and(gt(evidence.validFrom, now), sql`(${evidence.expiresAt} is null or ${evidence.expiresAt} > ${now})`),
    valid: and(
      sql`(${evidence.expiresAt} is null or ${evidence.expiresAt} > ${soon})`,
      sql`(${evidence.validFrom} is null or ${evidence.validFrom} <= ${now})`,
    ),
  };
  const rows = await ctx.db
    .select()
    .from(evidence)
    .where(
      and(
        eq(evidence.orgId, ctx.orgId),
        after ? lt(evidence.id, after) : undefined,
        q.status ? statusFilter[q.status] : undefined,
        q.expiringWithinDays !== undefined
          ? and(gt(evidence.expiresAt, now), lte(evidence.expiresAt, new Date(now.getTime() + q.expiringWithinDays * 86_400_000)))
          : undefined,
        controlFilter,
      ),
    )
    .orderBy(desc(evidence.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  const controls = await controlsOf(
    ctx.db,
    ctx.orgId,
    page.items.map((r) => r.id),
  );
  const index = await files.indexStates(
    ctx,
    page.items.map((r) => r.id),
  );
  return { items: page.items.map((r) => view(r, controls.get(r.id) ?? [], now, undefined, index.get(r.id))), nextCursor: page.nextCursor };
}

export async function updateEvidence(ctx: ServiceContext, id: string, input: EvidenceInput) {
  requireRole(ctx.actor, 'editor');
  const errors: FieldError[] = [];
  const current = await files.item(ctx, id);
  const validFrom = parseDate(input.validFrom, 'validFrom', errors);
  const expiresAt = parseDate(input.expiresAt, 'expiresAt', errors);
  const vf = validFrom === undefined ? current.validFrom : validFrom;
  const ea = expiresAt === undefined ? current.expiresAt : expiresAt;
  if (vf && ea && vf >= ea) errors.push({ field: 'body/expiresAt', message: 'must be after validFrom' });
  if (input.title !== undefined && !input.title.trim()) errors.push({ field: 'body/title', message: 'must not be empty' });
  const controls = input.controls ? await resolveControls(ctx.db, input.controls, errors) : undefined;
  if (errors.length > 0) fail(errors);
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(evidence)
      .set({
        ...(input.title !== undefined ? { title: input.title.trim() } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.visibility !== undefined ? { visibility: input.visibility } : {}),
        validFrom: vf,
        expiresAt: ea,
        updatedAt: ctx.clock(),
      })
      .where(and(eq(evidence.orgId, ctx.orgId), eq(evidence.id, id)));
    if (controls) {
      await tx.delete(evidenceControls).where(and(eq(evidenceControls.orgId, ctx.orgId), eq(evidenceControls.evidenceId, id)));
      if (controls.length > 0) await tx.insert(evidenceControls).values(controls.map((c) => ({ orgId: ctx.orgId, evidenceId: id, ...c })));
    }
    if (current.kind === 'file') {
      const title = input.title?.trim() ?? current.title;
      await files.syncIndex(tx, ctx, { ...current, title }, knowledgeVisibility(input.visibility ?? current.visibility), input.useForAnswers);
    }
    await recordAudit(tx, ctx, { action: 'evidence.updated', targetType: 'evidence', targetId: id, summary: { fields: Object.keys(input) } });
  });
  return getEvidence(ctx, id);
}

/** A new version of the file (or link); metadata dates may move with it. */
export async function addEvidenceVersion(ctx: ServiceContext, id: string, input: EvidenceInput, file: FileInput | undefined) {
  requireRole(ctx.actor, 'editor');
  const current = await files.item(ctx, id);
  const errors: FieldError[] = [];
  if (current.kind === 'file' && !file) errors.push({ field: 'body/file', message: 'a new version of file evidence needs a file' });
  // A url beside the file would be stored and shown as if it were the evidence: refused, not kept.
  if (current.kind === 'file' && input.url) errors.push({ field: 'body/url', message: 'file evidence takes a file, not a url; send the file alone' });
  if (current.kind === 'link' && (!input.url || file)) errors.push({ field: 'body/url', message: 'a new version of link evidence needs a url and no file' });
  if (input.url) checkUrl(input.url, errors);
  const validFrom = parseDate(input.validFrom, 'validFrom', errors);
  const expiresAt = parseDate(input.expiresAt, 'expiresAt', errors);
  if (errors.length > 0) fail(errors);
  // The link and the validity dates move with the version.
  const itemSet = {
    ...(input.url ? { url: input.url } : {}),
    ...(validFrom !== undefined ? { validFrom } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
  await files.addVersion(ctx, id, { file, extra: { url: input.url ?? null } }, itemSet);
  return getEvidence(ctx, id);
}

export async function deleteEvidence(ctx: ServiceContext, blobs: BlobStore, id: string) {
  requireRole(ctx.actor, 'editor');
  await files.delete(ctx, blobs, id);
}

export async function openEvidenceFile(ctx: ServiceContext, blobs: BlobStore, id: string, version?: number) {
  const row = await files.item(ctx, id);
  if (row.kind === 'link') throw new DomainError('conflict', 'this evidence is a link; open its url');
  return files.open(ctx.db, blobs, row, version);
}

/** Evidence per control with counts of current and expired items: what reports show. */
export async function evidenceByControl({ db, orgId }: OrgScope, now: Date) {
  const rows = await db
    .select({
      frameworkId: evidenceControls.frameworkId,
      ref: evidenceControls.ref,
      id: evidence.id,
      title: evidence.title,
      version: evidence.currentVersion,
      validFrom: evidence.validFrom,
      expiresAt: evidence.expiresAt,
    })
    .from(evidenceControls)
    .innerJoin(evidence, and(eq(evidence.orgId, evidenceControls.orgId), eq(evidence.id, evidenceControls.evidenceId)))
    .where(eq(evidenceControls.orgId, orgId))
    .orderBy(asc(evidence.id));
  const map = new Map<
    string,
    {
      total: number;
      current: number;
      expired: number;
      items: { id: string; title: string; version: number; status: EvidenceStatus; expiresAt: string | null }[];
    }
  >();
  for (const r of rows) {
    const key = `${r.frameworkId}:${r.ref}`;
    const entry = map.get(key) ?? { total: 0, current: 0, expired: 0, items: [] };
    const status = evidenceStatus(r, now);
    entry.total++;
    if (status === 'expired') entry.expired++;
    else if (status !== 'not_yet_valid') entry.current++;
    entry.items.push({ id: r.id, title: r.title, version: r.version, status, expiresAt: r.expiresAt?.toISOString() ?? null });
    map.set(key, entry);
  }
  return map;
}
