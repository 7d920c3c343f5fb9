import type { UploadedFile } from '../../lib/multipart.js';
import { addBlobRef, discardBlob, dropBlobRefs } from '../blobs/index.js';
import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import { requireRole, type ServiceContext } from '../../lib/context.js';
import { DomainError, notFound, type FieldError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import type { BlobStore, StoredBlob } from '../../lib/storage.js';
import { recordAudit } from '../audit/index.js';
import { signal } from '../events/index.js';
import { dropSource, indexFile, indexStates, syncSource, type IndexState, type TextExtractor } from '../knowledge/index.js';
import { DOCUMENT_VISIBILITIES, documentVersions, documents, trustPages, type DocumentVisibility } from './tables.js';

export interface DocumentInput {
  title?: string;
  description?: string | null;
  visibility?: string;
  /** Whether its text may answer questionnaires (default true). */
  useForAnswers?: boolean;
}

export type DocumentFile = UploadedFile;

type DocumentRow = typeof documents.$inferSelect;
type VersionRow = typeof documentVersions.$inferSelect;

export function versionView(v: VersionRow) {
  return {
    version: v.version,
    sha256: v.sha256,
    size: v.size,
    fileName: v.fileName,
    contentType: v.contentType,
    uploadedBy: v.uploadedBy,
    uploadedAt: v.uploadedAt.toISOString(),
  };
}

function view(row: DocumentRow, current: VersionRow | undefined, versions?: VersionRow[], index?: IndexState) {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    visibility: row.visibility,
    currentVersion: row.currentVersion,
    fileName: current?.fileName ?? null,
    contentType: current?.contentType ?? null,
    size: current?.size ?? null,
    sha256: current?.sha256 ?? null,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    useForAnswers: index?.useForAnswers ?? true,
    // What answering can draw from this document: its passages, or why there are none.
    textIndex: index ? { status: index.status, passages: index.passages, version: index.version, detail: index.detail } : null,
    ...(versions ? { versions: versions.map(versionView) } : {}),
  };
}
export type DocumentView = ReturnType<typeof view>;

function fail(errors: FieldError[]): never {
  throw new DomainError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
}

function checkVisibility(v: string | undefined, errors: FieldError[]): DocumentVisibility | undefined {
  if (v === undefined) return undefined;
  if (!(DOCUMENT_VISIBILITIES as readonly string[]).includes(v)) {
    errors.push({ field: 'body/visibility', message: `must be one of ${DOCUMENT_VISIBILITIES.join(', ')}` });
    return undefined;
  }
  return v as DocumentVisibility;
}

export { discardBlob };

export async function createDocument(ctx: ServiceContext, input: DocumentInput, file: DocumentFile | undefined) {
  requireRole(ctx.actor, 'editor');
  const errors: FieldError[] = [];
  const title = input.title?.trim();
  if (!title) errors.push({ field: 'body/title', message: 'is required' });
  else if (title.length > 300) errors.push({ field: 'body/title', message: 'must be at most 300 characters' });
  if (input.visibility === undefined) errors.push({ field: 'body/visibility', message: 'is required (public, nda or private)' });
  const visibility = checkVisibility(input.visibility, errors);
  if (!file) errors.push({ field: 'body/file', message: 'is required' });
  if (input.description && input.description.length > 5000) errors.push({ field: 'body/description', message: 'must be at most 5000 characters' });
  if (errors.length > 0) fail(errors);

  const id = newId();
  const now = ctx.clock();
  await ctx.db.transaction(async (tx) => {
    await tx.insert(documents).values({
      orgId: ctx.orgId,
      id,
      title: title!,
      description: input.description?.trim() || null,
      visibility: visibility!,
      currentVersion: 1,
      createdBy: ctx.actor.id,
      createdAt: now,
      updatedAt: now,
    });
    await tx.insert(documentVersions).values({
      orgId: ctx.orgId,
      documentId: id,
      version: 1,
      sha256: file!.stored.sha256,
      size: file!.stored.size,
      fileName: file!.fileName,
      contentType: file!.contentType,
      uploadedBy: ctx.actor.id,
      uploadedAt: now,
    });
    await addBlobRef(tx, { orgId: ctx.orgId, ownerKind: 'document_version', ownerId: id }, file!.stored);
    await recordAudit(tx, ctx, {
      action: 'document.created',
      targetType: 'document',
      targetId: id,
      summary: { title, visibility, sha256: file!.stored.sha256, fileName: file!.fileName },
    });
  });
  return getDocument(ctx, id);
}

export async function loadDocument(db: Executor, orgId: string, id: string) {
  const [row] = await db
    .select()
    .from(documents)
    .where(and(eq(documents.orgId, orgId), eq(documents.id, id)));
  if (!row) throw notFound('document');
  return row;
}

export async function loadVersion(db: Executor, orgId: string, id: string, version: number) {
  const [v] = await db
    .select()
    .from(documentVersions)
    .where(and(eq(documentVersions.orgId, orgId), eq(documentVersions.documentId, id), eq(documentVersions.version, version)));
  if (!v) throw notFound(`version ${version} of this document`);
  return v;
}

export async function getDocument(ctx: ServiceContext, id: string) {
  const row = await loadDocument(ctx.db, ctx.orgId, id);
  const versions = await ctx.db
    .select()
    .from(documentVersions)
    .where(and(eq(documentVersions.orgId, ctx.orgId), eq(documentVersions.documentId, id)))
    .orderBy(desc(documentVersions.version));
  const index = (await indexStates(ctx.db, ctx.orgId, 'document', [id])).get(id);
  return view(
    row,
    versions.find((v) => v.version === row.currentVersion),
    versions,
    index,
  );
}

/** Current versions of the given documents, by document id. */
export async function currentVersions(db: Executor, orgId: string, rows: DocumentRow[]) {
  if (rows.length === 0) return new Map<string, VersionRow>();
  const versions = await db
    .select()
    .from(documentVersions)
    .where(
      and(
        eq(documentVersions.orgId, orgId),
        inArray(
          documentVersions.documentId,
          rows.map((r) => r.id),
        ),
      ),
    );
  const current = new Map(rows.map((r) => [r.id, r.currentVersion]));
  return new Map(versions.filter((v) => current.get(v.documentId) === v.version).map((v) => [v.documentId, v]));
}

export async function listDocuments(ctx: ServiceContext, q: { limit: number; cursor?: string; visibility?: DocumentVisibility }) {
  const after = decodeCursor(q.cursor);
  const rows = await ctx.db
    .select()
    .from(documents)
    .where(and(eq(documents.orgId, ctx.orgId), q.visibility ? eq(documents.visibility, q.visibility) : undefined, after ? lt(documents.id, after) : undefined))
    .orderBy(desc(documents.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  const current = await currentVersions(ctx.db, ctx.orgId, page.items);
  const index = await indexStates(
    ctx.db,
    ctx.orgId,
    'document',
    page.items.map((r) => r.id),
  );
  return { items: page.items.map((r) => view(r, current.get(r.id), undefined, index.get(r.id))), nextCursor: page.nextCursor };
}

export async function updateDocument(ctx: ServiceContext, id: string, input: DocumentInput) {
  requireRole(ctx.actor, 'editor');
  const errors: FieldError[] = [];
  const visibility = checkVisibility(input.visibility, errors);
  if (input.title !== undefined && !input.title.trim()) errors.push({ field: 'body/title', message: 'must not be empty' });
  if (errors.length > 0) fail(errors);
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(documents)
      .set({
        ...(input.title !== undefined ? { title: input.title.trim() } : {}),
        ...(input.description !== undefined ? { description: input.description?.trim() || null } : {}),
        ...(visibility ? { visibility } : {}),
        updatedAt: ctx.clock(),
      })
      .where(and(eq(documents.orgId, ctx.orgId), eq(documents.id, id)))
      .returning();
    if (!row) throw notFound('document');
    await syncSource(
      tx,
      ctx.orgId,
      {
        kind: 'document',
        id,
        title: row.title,
        visibility: row.visibility,
        version: row.currentVersion,
        ...(input.useForAnswers !== undefined ? { useForAnswers: input.useForAnswers } : {}),
      },
      ctx.clock(),
    );
    await recordAudit(tx, ctx, {
      action: 'document.updated',
      targetType: 'document',
      targetId: id,
      summary: { fields: Object.keys(input), visibility: row.visibility },
    });
  });
  return getDocument(ctx, id);
}

export async function addDocumentVersion(ctx: ServiceContext, id: string, file: DocumentFile | undefined) {
  requireRole(ctx.actor, 'editor');
  await loadDocument(ctx.db, ctx.orgId, id);
  if (!file) fail([{ field: 'body/file', message: 'a new version needs a file' }]);
  const now = ctx.clock();
  await ctx.db.transaction(async (tx) => {
    // Lock the row so two uploads get consecutive versions.
    const [row] = await tx
      .select()
      .from(documents)
      .where(and(eq(documents.orgId, ctx.orgId), eq(documents.id, id)))
      .for('update');
    if (!row) throw notFound('document');
    const version = row.currentVersion + 1;
    await tx.insert(documentVersions).values({
      orgId: ctx.orgId,
      documentId: id,
      version,
      sha256: file.stored.sha256,
      size: file.stored.size,
      fileName: file.fileName,
      contentType: file.contentType,
      uploadedBy: ctx.actor.id,
      uploadedAt: now,
    });
    await addBlobRef(tx, { orgId: ctx.orgId, ownerKind: 'document_version', ownerId: id }, file.stored);
    await tx
      .update(documents)
      .set({ currentVersion: version, updatedAt: now })
      .where(and(eq(documents.orgId, ctx.orgId), eq(documents.id, id)));
    await recordAudit(tx, ctx, { action: 'document.version_added', targetType: 'document', targetId: id, summary: { version, sha256: file.stored.sha256 } });
  });
  return getDocument(ctx, id);
}

export async function deleteDocument(ctx: ServiceContext, blobs: BlobStore, id: string) {
  requireRole(ctx.actor, 'editor');
  const shas = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .delete(documents)
      .where(and(eq(documents.orgId, ctx.orgId), eq(documents.id, id)))
      .returning();
    if (!row) throw notFound('document');
    await dropSource(tx, ctx.orgId, 'document', id);
    await recordAudit(tx, ctx, { action: 'document.deleted', targetType: 'document', targetId: id, summary: { title: row.title } });
    return dropBlobRefs(tx, { orgId: ctx.orgId, ownerKind: 'document_version', ownerId: id });
  });
  // After commit, outside the transaction: GC removes files no organization refers to any more.
  await blobs.collect(shas);
}

/**
 * Reads the current version's text into passages answers can cite (in the parser pool, after the
 * upload committed). A new version replaces the old passages; answers citing the old one turn stale.
 */
export async function indexDocument(ctx: ServiceContext, deps: { parsers: TextExtractor; blobs: BlobStore }, id: string, useForAnswers?: boolean) {
  const row = await loadDocument(ctx.db, ctx.orgId, id);
  const v = await loadVersion(ctx.db, ctx.orgId, id, row.currentVersion);
  await indexFile({ db: ctx.db as Db, parsers: deps.parsers, blobs: deps.blobs, clock: ctx.clock }, ctx.orgId, {
    kind: 'document',
    id,
    title: row.title,
    version: v.version,
    visibility: row.visibility,
    sha256: v.sha256,
    fileName: v.fileName,
    contentType: v.contentType,
    ...(useForAnswers !== undefined ? { useForAnswers } : {}),
  });
  if (v.version > 1)
    await ctx.db.transaction((tx) => signal(tx, ctx, 'source.version_indexed', { kind: 'document', id, version: v.version, title: row.title }));
  return getDocument(ctx, id);
}

export async function openDocumentFile(ctx: ServiceContext, blobs: BlobStore, id: string, version?: number) {
  const row = await loadDocument(ctx.db, ctx.orgId, id);
  const v = await loadVersion(ctx.db, ctx.orgId, id, version ?? row.currentVersion);
  return { stream: await blobs.openVerified(v.sha256), version: v };
}
