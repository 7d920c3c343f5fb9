// Knowledge beyond the SoA: the text of policy documents and evidence files, split into passages
// that keep their page or heading, so answers can cite and quote them. The module that owns a
// document or an evidence item calls in here when a file arrives or its metadata changes; answering
// reads passages through loadPassages. Reading a file happens in the parser pool, before the one
// short transaction that replaces a source's passages.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { OrgScope, ServiceContext } from '../../lib/context.js';
import type { BlobStore } from '../../lib/storage.js';
import { QuestionnaireParseError } from '../../formats/errors.js';
import { knowledgePassages, knowledgeSources, type IndexStatus, type KnowledgeKind, type KnowledgeVisibility } from './tables.js';
import type { PassageRow } from './pure.js';

export type { PassageRow } from './pure.js';

export interface Passage {
  text: string;
  page?: number;
  heading?: string;
}
export interface ExtractedText {
  format: string;
  passages: Passage[];
  pages?: number;
  scanned: boolean;
  truncated: boolean;
}
/** The parser pool's text extraction (src/formats/text.ts), as this module needs it. */
export interface TextExtractor {
  extractText(input: { bytes: Buffer; fileName?: string; contentType?: string }): Promise<ExtractedText>;
}

export interface SourceMeta {
  kind: KnowledgeKind;
  id: string;
  title: string;
  version: number;
  visibility: KnowledgeVisibility;
  useForAnswers?: boolean;
}

export interface IndexState {
  status: IndexStatus;
  passages: number;
  version: number;
  useForAnswers: boolean;
  detail: string | null;
}

export function indexView(row: typeof knowledgeSources.$inferSelect | undefined): IndexState | null {
  if (!row) return null;
  return { status: row.status, passages: row.passages, version: row.version, useForAnswers: row.useForAnswers, detail: row.detail };
}

/** What indexing a file is done with: the organization, the pool (its own transaction) and the clock. */
export type FileContext = Pick<ServiceContext, 'orgId' | 'db' | 'clock'>;
export interface IndexTools {
  parsers: TextExtractor;
  blobs: Pick<BlobStore, 'readVerified'>;
}
type IndexedFile = SourceMeta & { sha256: string; fileName: string; contentType: string };

/**
 * Reads one version of a file and makes its passages the source's passages. A file that yields no
 * text (a scanned PDF, an unsupported format, a damaged file) keeps the upload and says why.
 */
export async function indexFile(ctx: FileContext, tools: IndexTools, source: IndexedFile): Promise<IndexState> {
  const { orgId } = ctx;
  let passages: Passage[] = [];
  let status: IndexStatus = 'indexed';
  let detail: string | null = null;
  try {
    const bytes = await tools.blobs.readVerified(source.sha256);
    const text = await tools.parsers.extractText({ bytes, fileName: source.fileName, contentType: source.contentType });
    passages = text.passages;
    if (text.scanned) {
      status = 'scanned';
      detail = 'The PDF has no text layer (a scan): nothing can be quoted from it. Upload a PDF with text to use it for answers.';
    } else if (text.truncated) {
      detail = 'The file is longer than the indexing limit: only its beginning is used for answers.';
    }
  } catch (err) {
    if (!(err instanceof QuestionnaireParseError)) throw err;
    status = err.code === 'unsupported' ? 'unsupported' : 'failed';
    detail = err.message;
  }
  const now = ctx.clock();
  return ctx.db.transaction(async (tx) => {
    // A newer version may have been indexed meanwhile: never replace it with an older one.
    const [current] = await tx
      .select()
      .from(knowledgeSources)
      .where(sourceKey(orgId, source.kind, source.id))
      .for('update');
    if (current && current.version > source.version) return indexView(current)!;
    const useForAnswers = source.useForAnswers ?? current?.useForAnswers ?? true;
    await tx
      .delete(knowledgePassages)
      .where(and(eq(knowledgePassages.orgId, orgId), eq(knowledgePassages.kind, source.kind), eq(knowledgePassages.sourceId, source.id)));
    for (let i = 0; i < passages.length; i += 500) {
      await tx.insert(knowledgePassages).values(
        passages.slice(i, i + 500).map((p, j) => ({
          orgId,
          kind: source.kind,
          sourceId: source.id,
          position: i + j,
          page: p.page ?? null,
          heading: p.heading ?? null,
          text: p.text,
        })),
      );
    }
    const row = {
      orgId,
      kind: source.kind,
      sourceId: source.id,
      title: source.title,
      version: source.version,
      visibility: source.visibility,
      useForAnswers,
      status,
      detail,
      passages: passages.length,
      indexedAt: now,
    };
    await tx
      .insert(knowledgeSources)
      .values(row)
      .onConflictDoUpdate({
        target: [knowledgeSources.orgId, knowledgeSources.kind, knowledgeSources.sourceId],
        set: { title: row.title, version: row.version, visibility: row.visibility, useForAnswers, status, detail, passages: row.passages, indexedAt: now },
      });
    return { status, passages: passages.length, version: source.version, useForAnswers, detail };
  });
}

const sourceKey = (orgId: string, kind: KnowledgeKind, id: string) =>
  and(eq(knowledgeSources.orgId, orgId), eq(knowledgeSources.kind, kind), eq(knowledgeSources.sourceId, id));

/**
 * Keeps a source's title, visibility and answer flag in step with its owner, in the owner's
 * transaction: a document made private stops answering prospects at once.
 */
type SyncedMeta = Partial<SourceMeta> & Pick<SourceMeta, 'kind' | 'id'>;
export async function syncSource({ db: tx, orgId }: OrgScope, meta: SyncedMeta, now: Date): Promise<void> {
  const set: Partial<typeof knowledgeSources.$inferInsert> = {};
  if (meta.title !== undefined) set.title = meta.title;
  if (meta.visibility !== undefined) set.visibility = meta.visibility;
  if (meta.useForAnswers !== undefined) set.useForAnswers = meta.useForAnswers;
  if (Object.keys(set).length === 0) return;
  const updated = await tx
    .update(knowledgeSources)
    .set(set)
    .where(sourceKey(orgId, meta.kind, meta.id))
    .returning({ id: knowledgeSources.sourceId });
  // Not indexed yet (a file from before indexing existed): remember the flag for when it is.
  if (updated.length === 0 && meta.title !== undefined && meta.visibility !== undefined && meta.version !== undefined) {
    await tx
      .insert(knowledgeSources)
      .values({
        orgId,
        kind: meta.kind,
        sourceId: meta.id,
        title: meta.title,
        version: meta.version,
        visibility: meta.visibility,
        useForAnswers: meta.useForAnswers ?? true,
        status: 'pending',
        detail: null,
        passages: 0,
        indexedAt: now,
      })
      .onConflictDoNothing();
  }
}

/** A deleted document or evidence item takes its passages with it. */
export async function dropSource({ db: tx, orgId }: OrgScope, kind: KnowledgeKind, id: string): Promise<void> {
  await tx.delete(knowledgePassages).where(and(eq(knowledgePassages.orgId, orgId), eq(knowledgePassages.kind, kind), eq(knowledgePassages.sourceId, id)));
  await tx.delete(knowledgeSources).where(sourceKey(orgId, kind, id));
}

/** Index states of some sources of one kind, for their owners' views. */
export async function indexStates({ db, orgId }: OrgScope, kind: KnowledgeKind, ids: string[]): Promise<Map<string, IndexState>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select()
    .from(knowledgeSources)
    .where(and(eq(knowledgeSources.orgId, orgId), eq(knowledgeSources.kind, kind), inArray(knowledgeSources.sourceId, ids)));
  return new Map(rows.map((r) => [r.sourceId, indexView(r)!]));
}

/** The current version and title of cited sources, for staleness (absent: deleted). */
export async function sourceVersions(
  { db, orgId }: OrgScope,
  ids: string[],
): Promise<Map<string, { kind: KnowledgeKind; version: number; title: string; useForAnswers: boolean }>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({
      kind: knowledgeSources.kind,
      id: knowledgeSources.sourceId,
      version: knowledgeSources.version,
      title: knowledgeSources.title,
      useForAnswers: knowledgeSources.useForAnswers,
    })
    .from(knowledgeSources)
    .where(and(eq(knowledgeSources.orgId, orgId), inArray(knowledgeSources.sourceId, ids)));
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * The passages answers may draw on: sources marked for answers, and on the prospect path
 * (`publicOnly`) public ones alone, so no NDA or private sentence reaches a prospect.
 */
export async function loadPassages({ db, orgId }: OrgScope, opts: { publicOnly: boolean }): Promise<PassageRow[]> {
  const rows = (await db.execute(sql`
    select p.kind, p.source_id, s.title, s.version, s.visibility, p.position, p.page, p.heading, p.text,
           coalesce((select json_agg(json_build_object('lexeme', l.lexeme, 'weights', l.weights::text[])) from unnest(p.search) l), '[]'::json) as terms
    from ${knowledgePassages} p
    join ${knowledgeSources} s on s.org_id = p.org_id and s.kind = p.kind and s.source_id = p.source_id
    where p.org_id = ${orgId} and s.use_for_answers and s.status = 'indexed'
      ${opts.publicOnly ? sql`and s.visibility = 'public'` : sql``}
    order by p.kind, p.source_id, p.position`)) as unknown as { rows: Array<Record<string, unknown>> };
  return rows.rows.map((r) => ({
    kind: r.kind as KnowledgeKind,
    sourceId: r.source_id as string,
    title: r.title as string,
    version: Number(r.version),
    visibility: r.visibility as KnowledgeVisibility,
    position: Number(r.position),
    page: r.page === null ? null : Number(r.page),
    heading: (r.heading as string | null) ?? null,
    text: r.text as string,
    terms: (typeof r.terms === 'string' ? JSON.parse(r.terms) : r.terms) as PassageRow['terms'],
  }));
}
