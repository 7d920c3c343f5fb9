// The versioned-file entity that evidence and trust documents share: an item whose file (or link)
// comes in numbered versions, one of them current. The owner passes its own item and versions tables
// in a VersionedFiles; this module has no tables and reads an owner's only when that owner calls.
import type { Readable } from 'node:stream';
import { and, desc, eq, getTableColumns, inArray } from 'drizzle-orm';
import type { AnyPgColumn, PgInsertValue, PgTable, PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.js';
import type { OrgScope, ServiceContext } from '../../lib/context.js';
import { notFound } from '../../lib/errors.js';
import type { UploadedFile } from '../../lib/multipart.js';
import type { BlobStore } from '../../lib/storage.js';
import { recordAudit } from '../audit/index.js';
import { addBlobRef, dropBlobRefs } from '../blobs/index.js';
import { signal } from '../events/index.js';
import { dropSource, indexFile, indexStates, syncSource, type IndexState, type TextExtractor } from '../knowledge/index.js';

/** What keeps versioned files (evidence, document): the knowledge kind, also the audit target type and the 404's noun. */
export type FileKind = Parameters<typeof dropSource>[1];
type BlobOwnerKind = Parameters<typeof addBlobRef>[1]['ownerKind'];
type SourceVisibility = NonNullable<Parameters<typeof syncSource>[1]['visibility']>;

/** The item columns used here; the owner's other columns are its own. */
export interface ItemFields {
  orgId: string;
  id: string;
  title: string;
  currentVersion: number;
}

/** A version's file (sha256 and the rest null for a link version, whose url is the owner's column). */
export interface VersionFields {
  version: number;
  sha256: string | null;
  size: number | null;
  fileName: string | null;
  contentType: string | null;
  uploadedBy: string;
  uploadedAt: Date;
}

type ItemTable = PgTable & { orgId: AnyPgColumn; id: AnyPgColumn; title: AnyPgColumn; currentVersion: AnyPgColumn; $inferSelect: ItemFields };
type VersionTable = PgTable & { orgId: AnyPgColumn; version: AnyPgColumn; $inferSelect: VersionFields };

export interface VersionedFileTables<I extends ItemTable, V extends VersionTable> {
  kind: FileKind;
  /** The blob refs' owner kind; the owner id is the item's id, for all its versions. */
  blobOwner: BlobOwnerKind;
  items: I;
  versions: V;
  /** The versions table's key naming the item (evidenceId, documentId). */
  itemKey: string & keyof V['$inferInsert'];
}

/** What a new version holds: the uploaded file, if any, and the owner's own version columns (a link's url). */
export interface VersionContent<V extends VersionTable> {
  file?: UploadedFile | undefined;
  extra?: Partial<V['$inferInsert']>;
}

/** The item columns the owner sets on creation; the rest (ids, version, who and when) are set here. */
type NewItem<I extends ItemTable> = Omit<I['$inferInsert'], 'orgId' | 'id' | 'currentVersion' | 'createdBy' | 'createdAt' | 'updatedAt'>;

export class VersionedFiles<I extends ItemTable, V extends VersionTable> {
  readonly kind: FileKind;
  private readonly itemId: AnyPgColumn;

  constructor(private readonly t: VersionedFileTables<I, V>) {
    this.kind = t.kind;
    this.itemId = getTableColumns(t.versions)[t.itemKey] as AnyPgColumn;
  }

  private itemWhere(orgId: string, id: string) {
    return and(eq(this.t.items.orgId, orgId), eq(this.t.items.id, id));
  }

  private versionsWhere(orgId: string, id: string) {
    return and(eq(this.t.versions.orgId, orgId), eq(this.itemId, id));
  }

  private versionRow(ctx: ServiceContext, id: string, version: number, content: VersionContent<V>, now: Date) {
    const file = content.file;
    return {
      orgId: ctx.orgId,
      [this.t.itemKey]: id,
      version,
      sha256: file?.stored.sha256 ?? null,
      size: file?.stored.size ?? null,
      fileName: file?.fileName ?? null,
      contentType: file?.contentType ?? null,
      uploadedBy: ctx.actor.id,
      uploadedAt: now,
      ...content.extra,
    } as PgInsertValue<V>;
  }

  /** Inserts a version and refers to its file, in the caller's transaction; the upload's lease ends with it. */
  private async insertVersion(tx: Executor, ctx: ServiceContext, id: string, version: number, content: VersionContent<V>, now: Date) {
    await tx.insert(this.t.versions).values(this.versionRow(ctx, id, version, content, now));
    if (content.file) await addBlobRef(tx, { orgId: ctx.orgId, ownerKind: this.t.blobOwner, ownerId: id }, content.file.stored);
  }

  /** The organization's item, or a 404. */
  async item({ db, orgId }: OrgScope, id: string): Promise<I['$inferSelect']> {
    const [row] = await db
      .select()
      .from(this.t.items as PgTable)
      .where(this.itemWhere(orgId, id));
    if (!row) throw notFound(this.kind);
    return row as I['$inferSelect'];
  }

  /** Every version of an item, newest first. */
  async versions({ db, orgId }: OrgScope, id: string): Promise<V['$inferSelect'][]> {
    const rows = await db
      .select()
      .from(this.t.versions as PgTable)
      .where(this.versionsWhere(orgId, id))
      .orderBy(desc(this.t.versions.version));
    return rows as V['$inferSelect'][];
  }

  /** One version of an item, or undefined. */
  async version({ db, orgId }: OrgScope, id: string, version: number): Promise<V['$inferSelect'] | undefined> {
    const [v] = await db
      .select()
      .from(this.t.versions as PgTable)
      .where(and(this.versionsWhere(orgId, id), eq(this.t.versions.version, version)));
    return v as V['$inferSelect'] | undefined;
  }

  /** One version of an item, or a 404 that names it. */
  async requireVersion(scope: OrgScope, id: string, version: number): Promise<V['$inferSelect']> {
    const v = await this.version(scope, id, version);
    if (!v) throw notFound(`version ${version} of this ${this.kind}`);
    return v;
  }

  /** The current version of each of these items, by item id, in one query. */
  async currentVersions({ db, orgId }: OrgScope, items: readonly { id: string; currentVersion: number }[]): Promise<Map<string, V['$inferSelect']>> {
    if (items.length === 0) return new Map();
    const rows = (await db
      .select()
      .from(this.t.versions as PgTable)
      .where(
        and(
          eq(this.t.versions.orgId, orgId),
          inArray(
            this.itemId,
            items.map((r) => r.id),
          ),
        ),
      )) as (V['$inferSelect'] & Record<string, unknown>)[];
    const current = new Map(items.map((r) => [r.id, r.currentVersion]));
    const key = this.t.itemKey;
    return new Map(rows.filter((v) => current.get(v[key] as string) === v.version).map((v) => [v[key] as string, v]));
  }

  /**
   * An item and its version 1 in one transaction, with the ref to its file; `then` writes the
   * owner's own rows and its audit in the same transaction.
   */
  async create(ctx: ServiceContext, id: string, item: NewItem<I>, first: VersionContent<V>, then: (tx: Executor) => Promise<void>): Promise<void> {
    const now = ctx.clock();
    await ctx.db.transaction(async (tx) => {
      const row = { ...item, orgId: ctx.orgId, id, currentVersion: 1, createdBy: ctx.actor.id, createdAt: now, updatedAt: now };
      await tx.insert(this.t.items).values(row as PgInsertValue<I>);
      await this.insertVersion(tx, ctx, id, 1, first, now);
      await then(tx);
    });
  }

  /**
   * The next version, current from now on (with the owner's item columns that move with it), and
   * its audit row; the item row is locked so two uploads get consecutive numbers.
   */
  async addVersion(ctx: ServiceContext, id: string, content: VersionContent<V>, itemSet: PgUpdateSetSource<I> = {}): Promise<void> {
    const now = ctx.clock();
    await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(this.t.items as PgTable)
        .where(this.itemWhere(ctx.orgId, id))
        .for('update');
      if (!row) throw notFound(this.kind);
      const version = (row as I['$inferSelect']).currentVersion + 1;
      await this.insertVersion(tx, ctx, id, version, content, now);
      await tx
        .update(this.t.items)
        .set({ currentVersion: version, updatedAt: now, ...itemSet } as PgUpdateSetSource<I>)
        .where(this.itemWhere(ctx.orgId, id));
      await recordAudit(tx, ctx, {
        action: `${this.kind}.version_added`,
        targetType: this.kind,
        targetId: id,
        summary: { version, sha256: content.file?.stored.sha256 },
      });
    });
  }

  /**
   * Deletes an item with its versions (their foreign key cascades), its passages and its blob refs,
   * with its audit row; after commit, outside the transaction, GC removes files no one refers to.
   */
  async delete(ctx: ServiceContext, blobs: BlobStore, id: string): Promise<void> {
    const shas = await ctx.db.transaction(async (tx) => {
      const [row] = await tx.delete(this.t.items).where(this.itemWhere(ctx.orgId, id)).returning({ title: this.t.items.title });
      if (!row) throw notFound(this.kind);
      await dropSource({ db: tx, orgId: ctx.orgId }, this.kind, id);
      await recordAudit(tx, ctx, { action: `${this.kind}.deleted`, targetType: this.kind, targetId: id, summary: { title: row.title } });
      return dropBlobRefs(tx, { orgId: ctx.orgId, ownerKind: this.t.blobOwner, ownerId: id });
    });
    await blobs.collect(shas);
  }

  /** A version's file (default: the current one) as a stream checked against its SHA-256; a link version is a 404. */
  async open(db: Executor, blobs: BlobStore, item: ItemFields, version?: number): Promise<{ stream: Readable; version: V['$inferSelect'] }> {
    const n = version ?? item.currentVersion;
    const v = await this.requireVersion({ db, orgId: item.orgId }, item.id, n);
    if (!v.sha256) throw notFound(`version ${n} of this ${this.kind}`);
    return { stream: await blobs.openVerified(v.sha256), version: v };
  }

  /**
   * Reads the current version's text into passages answers can cite (in the parser pool, after the
   * upload committed); from version 2 on, answers citing an older one hear of it. A link has no text.
   */
  async indexCurrent(
    ctx: ServiceContext,
    deps: { parsers: TextExtractor; blobs: BlobStore },
    item: ItemFields,
    visibility: SourceVisibility,
    useForAnswers?: boolean,
  ): Promise<void> {
    const v = await this.requireVersion(ctx, item.id, item.currentVersion);
    if (!v.sha256) return;
    await indexFile(ctx, deps, {
      kind: this.kind,
      id: item.id,
      title: item.title,
      version: v.version,
      visibility,
      sha256: v.sha256,
      fileName: v.fileName ?? '',
      contentType: v.contentType ?? '',
      ...(useForAnswers !== undefined ? { useForAnswers } : {}),
    });
    if (v.version > 1)
      await ctx.db.transaction((tx) => signal(tx, ctx, 'source.version_indexed', { kind: this.kind, id: item.id, version: v.version, title: item.title }));
  }

  /** Keeps the passages' title, visibility and use for answers in step with a changed item, in its transaction. */
  async syncIndex(
    tx: Executor,
    ctx: ServiceContext,
    item: { id: string; title: string; currentVersion: number },
    visibility: SourceVisibility,
    useForAnswers?: boolean,
  ): Promise<void> {
    await syncSource(
      { db: tx, orgId: ctx.orgId },
      {
        kind: this.kind,
        id: item.id,
        title: item.title,
        visibility,
        version: item.currentVersion,
        ...(useForAnswers !== undefined ? { useForAnswers } : {}),
      },
      ctx.clock(),
    );
  }

  /** The text index state of these items, by id, for their views. */
  indexStates(scope: OrgScope, ids: string[]): Promise<Map<string, IndexState>> {
    return indexStates(scope, this.kind, ids);
  }
}

/** A version as the API shows it, with the owner's column types (the owner adds its own columns, such as a link's url). */
export function versionView<V extends VersionFields>(
  v: V,
): Pick<V, 'version' | 'sha256' | 'size' | 'fileName' | 'contentType' | 'uploadedBy'> & { uploadedAt: string } {
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

/** What an item's view says of its text index: whether it answers questionnaires, and its passages or why there are none. */
export function indexView(index: IndexState | undefined) {
  return {
    useForAnswers: index?.useForAnswers ?? true,
    textIndex: index ? { status: index.status, passages: index.passages, version: index.version, detail: index.detail } : null,
  };
}

/** The Repr-Digest header (RFC 9530) of a file served as stored. */
export function reprDigest(sha256: string): string {
  return `sha-256=:${Buffer.from(sha256, 'hex').toString('base64')}:`;
}
