import type { UploadedFile } from '../../lib/multipart.js';
import { discardBlob } from '../blobs/index.js';
import { and, desc, eq, lt } from 'drizzle-orm';
import { requireRole, type OrgScope, type ServiceContext } from '../../lib/context.js';
import { DomainError, notFound, type FieldError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import type { BlobStore } from '../../lib/storage.js';
import { recordAudit } from '../audit/index.js';
import { VersionedFiles, indexView, versionView } from '../files/index.js';
import type { IndexState, TextExtractor } from '../knowledge/index.js';
import { DOCUMENT_VISIBILITIES, documentVersions, documents, type DocumentVisibility } from './tables.js';

// Versions, their blob refs, text index, audit and downloads: the shared versioned-file code, on the documents' own tables.
const files = new VersionedFiles({ kind: 'document', blobOwner: 'document_version', items: documents, versions: documentVersions, itemKey: 'documentId' });

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
    ...indexView(index),
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
  const item = { title: title!, description: input.description?.trim() || null, visibility: visibility! };
  await files.create(ctx, id, item, { file }, async (tx) => {
    await recordAudit(tx, ctx, {
      action: 'document.created',
      targetType: 'document',
      targetId: id,
      summary: { title, visibility, sha256: file!.stored.sha256, fileName: file!.fileName },
    });
  });
  return getDocument(ctx, id);
}

/** A version of a document, or a 404 that names it. */
export function loadVersion(scope: OrgScope, id: string, version: number) {
  return files.requireVersion(scope, id, version);
}

export async function getDocument(ctx: ServiceContext, id: string) {
  const row = await files.item(ctx, id);
  const versions = await files.versions(ctx, id);
  const index = (await files.indexStates(ctx, [id])).get(id);
  return view(
    row,
    versions.find((v) => v.version === row.currentVersion),
    versions,
    index,
  );
}

/** Current versions of the given documents, by document id. */
export function currentVersions(scope: OrgScope, rows: DocumentRow[]) {
  return files.currentVersions(scope, rows);
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
  const current = await currentVersions(ctx, page.items);
  const index = await files.indexStates(
    ctx,
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
    await files.syncIndex(tx, ctx, row, row.visibility, input.useForAnswers);
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
  await files.item(ctx, id);
  if (!file) fail([{ field: 'body/file', message: 'a new version needs a file' }]);
  await files.addVersion(ctx, id, { file });
  return getDocument(ctx, id);
}

export async function deleteDocument(ctx: ServiceContext, blobs: BlobStore, id: string) {
  requireRole(ctx.actor, 'editor');
  await files.delete(ctx, blobs, id);
}

/**
 * Reads the current version's text into passages answers can cite (in the parser pool, after the
 * upload committed). A new version replaces the old passages; answers citing the old one turn stale.
 */
export async function indexDocument(ctx: ServiceContext, deps: { parsers: TextExtractor; blobs: BlobStore }, id: string, useForAnswers?: boolean) {
  const row = await files.item(ctx, id);
  await files.indexCurrent(ctx, deps, row, row.visibility, useForAnswers);
  return getDocument(ctx, id);
}

export async function openDocumentFile(ctx: ServiceContext, blobs: BlobStore, id: string, version?: number) {
  const row = await files.item(ctx, id);
  return files.open(ctx.db, blobs, row, version);
}
