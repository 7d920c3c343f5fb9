// Past questionnaires into the library: each answered row becomes an entry (a draft unless an
// editor approves on import), rows the library already answers the same way are skipped as
// duplicates, and rows it answers differently are created as drafts and reported as conflicts.
import { and, eq } from 'drizzle-orm';
import { memberOf, requireRole, type ServiceContext } from '../../lib/context.js';
import { DomainError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { recordAudit } from '../audit/index.js';
import type { ParsedQuestion, ParsedQuestionnaire } from '../../formats/questionnaire.js';
import { checkOwner, entryView, type ControlRef } from './service.js';
import { answerKey, lexemesOf, questionKey, sameQuestion, type QuestionKey } from './matching.js';
import { libraryEntries, libraryEntryControls, libraryImports, type Choice } from './tables.js';

/**
 * The controls retrieval suggests for each question, best first (injected from the app: the
 * retrieval code lives in questionnaires, which sits above the library).
 */
export type ControlSuggester = (orgId: string, questions: Array<{ text: string; section?: string | null }>) => Promise<ControlRef[][]>;

/** Suggested controls kept per imported entry. */
const SUGGESTED = 3;

/** One answered row of a past questionnaire. */
export interface ImportRow {
  row: number;
  ref: string | null;
  section: string | null;
  question: string;
  choice: Choice | null;
  text: string | null;
}

// A cell holding only a choice word ("Yes", "N/A", "Partially implemented"); "Planned" is a "no" today.
const CHOICE_WORDS: Array<[Choice, RegExp]> = [
  ['yes', /^(yes|y|true|compliant|fully compliant|implemented|in place)$/i],
  ['no', /^(no|n|false|non[- ]?compliant|not compliant|not implemented|planned|not yet)$/i],
  ['partial', /^(partial|partially|partly|in progress|partially compliant|partially implemented)$/i],
  ['n/a', /^(n\/?a|not applicable|does not apply)$/i],
];
// A sentence that opens with its choice: "Yes, we ...", "No - ...", "N/A: ...".
const LEADING = /^(yes|no|n\/a|not applicable|partially|partial)\s*[,.;:!\u2013\u2014-]\s*\S/i;

/** The choice a cell states, and whether the cell says more than the choice. */
export function readChoice(value: string): { choice: Choice; sentence: boolean } | undefined {
  const v = value
    .trim()
    .replace(/[.!]+$/, '')
    .trim();
  for (const [choice, re] of CHOICE_WORDS) if (re.test(v)) return { choice, sentence: false };
  const lead = LEADING.exec(value.trim());
  if (!lead) return undefined;
  const word = lead[1]!.toLowerCase();
  const choice: Choice = word === 'yes' ? 'yes' : word === 'no' ? 'no' : word.startsWith('partial') ? 'partial' : 'n/a';
  return { choice, sentence: true };
}

/**
 * A parsed question with the values of its answer cells as a library answer: the first choice a
 * choice or answer cell states, the answer texts, then the comments appended. Undefined when the
 * row has neither a choice nor a text. Ownership and evidence-link columns are not answers.
 */
export function rowOf(q: ParsedQuestion, index: number): ImportRow | undefined {
  let choice: Choice | null = null;
  const texts: string[] = [];
  const comments: string[] = [];
  for (const cell of q.answerCells) {
    const value = cell.value?.trim();
    if (!value) continue;
    if (cell.role === 'comment') {
      comments.push(value);
      continue;
    }
    if (cell.role !== 'choice' && cell.role !== 'text' && cell.role !== 'vsaq') continue;
    const read = readChoice(value);
    if (read && (choice === null || choice === read.choice)) {
      choice = read.choice;
      if (read.sentence) texts.push(value);
    } else texts.push(value);
  }
  const text = [...texts, ...comments].join('\n\n') || null;
  if (choice === null && text === null) return undefined;
  return { row: q.row ?? index + 1, ref: q.ref ?? null, section: q.section ?? null, question: q.text.trim(), choice, text };
}

export type RowOutcome = 'imported' | 'duplicate' | 'conflict';

interface Classified extends ImportRow {
  outcome: RowOutcome;
  /** The entry created for the row, or (duplicates) the entry that already answers it. */
  entryId: string;
  /** Conflicts: the entries that answer the same question differently. */
  conflictsWith: string[];
}

/**
 * Sorts rows against the library and against the rows before them in the same file: the same
 * question with the same answer is a duplicate of that entry; with another answer, a conflict.
 */
export function classifyRows(rows: ImportRow[], rowKeys: QuestionKey[], existing: Array<{ id: string; key: QuestionKey; answer: string }>): Classified[] {
  const pool = [...existing];
  return rows.map((row, i) => {
    const key = rowKeys[i]!;
    const answer = answerKey(row);
    const matches = pool.filter((p) => sameQuestion(p.key, key));
    const same = matches.find((m) => m.answer === answer);
    if (same) return { ...row, outcome: 'duplicate', entryId: same.id, conflictsWith: [] };
    const id = newId();
    pool.push({ id, key, answer });
    return { ...row, outcome: matches.length > 0 ? 'conflict' : 'imported', entryId: id, conflictsWith: matches.map((m) => m.id) };
  });
}

export interface ImportRequest {
  sha256: string;
  fileName: string;
  /** Reads the file (in the parser pool); not called when this file was imported before. */
  parse: () => Promise<ParsedQuestionnaire>;
  approve?: boolean;
  ownerId?: string;
}

type ImportRecord = typeof libraryImports.$inferSelect;

/** The answer to the same file again: nothing changes, every row it had counts as a duplicate. */
function replay(rec: ImportRecord) {
  return {
    created: false,
    body: {
      importId: rec.id,
      fileName: rec.fileName,
      sha256: rec.sha256,
      replayed: true,
      imported: 0,
      duplicates: rec.imported + rec.duplicates + rec.conflicts,
      conflicts: 0,
      skipped: rec.skipped,
      entries: [],
      rows: [],
    },
  };
}

async function previousImport(ctx: ServiceContext, sha256: string): Promise<ImportRecord | undefined> {
  const [rec] = await ctx.db
    .select()
    .from(libraryImports)
    .where(and(eq(libraryImports.orgId, ctx.orgId), eq(libraryImports.sha256, sha256)));
  return rec;
}

/**
 * Imports a past questionnaire. Parsing, matching and control suggestions happen first; the one
 * short transaction then writes the import record, the entries and their suggested controls, and
 * one audit record with the counts. The same file (by SHA-256) again changes nothing.
 */
export async function importLibrary(ctx: ServiceContext, req: ImportRequest, suggest?: ControlSuggester) {
  requireRole(ctx.actor, 'editor');
  const ownerId = req.ownerId ?? memberOf(ctx.actor);
  await checkOwner(ctx, ownerId);
  const before = await previousImport(ctx, req.sha256);
  if (before) return replay(before);

  const parsed = await req.parse();
  const answered = parsed.questions.map(rowOf);
  const rows = answered.filter((r): r is ImportRow => r !== undefined);
  const skipped = answered.length - rows.length;
  if (rows.length === 0) {
    throw new DomainError(
      'unprocessable',
      `none of the ${parsed.questions.length} question(s) in the file has an answer: the library imports answered questionnaires (a question column and an answer or comment column with values)`,
    );
  }

  const current = await ctx.db
    .select({ id: libraryEntries.id, question: libraryEntries.question, choice: libraryEntries.choice, text: libraryEntries.answerText })
    .from(libraryEntries)
    .where(eq(libraryEntries.orgId, ctx.orgId));
  const lexemes = await lexemesOf(ctx.db, [...current.map((e) => e.question), ...rows.map((r) => r.question)]);
  const existing = current.map((e, i) => ({ id: e.id, key: questionKey(e.question, lexemes[i]!), answer: answerKey(e) }));
  const classified = classifyRows(
    rows,
    rows.map((r, i) => questionKey(r.question, lexemes[current.length + i]!)),
    existing,
  );
  const created = classified.filter((r) => r.outcome !== 'duplicate');
  const suggestions =
    suggest && created.length > 0
      ? await suggest(
          ctx.orgId,
          created.map((r) => ({ text: r.question, section: r.section })),
        )
      : [];
  const controlsOf = new Map(created.map((r, i) => [r.entryId, (suggestions[i] ?? []).slice(0, SUGGESTED)]));

  const counts = {
    rows: rows.length,
    imported: classified.filter((r) => r.outcome === 'imported').length,
    duplicates: classified.filter((r) => r.outcome === 'duplicate').length,
    conflicts: classified.filter((r) => r.outcome === 'conflict').length,
    skipped,
  };
  const importId = newId();
  const now = ctx.clock();
  const saved = await ctx.db.transaction(async (tx) => {
    const [rec] = await tx
      .insert(libraryImports)
      .values({
        orgId: ctx.orgId,
        id: importId,
        sha256: req.sha256,
        fileName: req.fileName,
        format: parsed.format,
        importedBy: ctx.actor.id,
        importedAt: now,
        rowCount: counts.rows,
        imported: counts.imported,
        duplicates: counts.duplicates,
        conflicts: counts.conflicts,
        skipped,
      })
      .onConflictDoNothing({ target: [libraryImports.orgId, libraryImports.sha256] })
      .returning();
    // The same file imported concurrently: that import stands, this one writes nothing.
    if (!rec) return undefined;
    const out: Array<typeof libraryEntries.$inferSelect> = [];
    for (let i = 0; i < created.length; i += 500) {
      // Conflicts stay drafts even when approving: a person picks between the answers first.
      out.push(
        ...(await tx
          .insert(libraryEntries)
          .values(
            created.slice(i, i + 500).map((r) => {
              const status = req.approve && r.outcome === 'imported' ? ('approved' as const) : ('draft' as const);
              return {
                orgId: ctx.orgId,
                id: r.entryId,
                question: r.question,
                choice: r.choice,
                answerText: r.text,
                status,
                public: false,
                ownerId,
                importId,
                importRow: r.row,
                controlsConfirmed: false,
                ...(status === 'approved' ? { approvedBy: ctx.actor.id, approvedAt: now } : {}),
                createdBy: ctx.actor.id,
                createdAt: now,
                updatedAt: now,
              };
            }),
          )
          .returning()),
      );
    }
    const links = created.flatMap((r) =>
      controlsOf.get(r.entryId)!.map((c, position) => ({ orgId: ctx.orgId, entryId: r.entryId, frameworkId: c.framework, ref: c.ref, position })),
    );
    for (let i = 0; i < links.length; i += 1000) await tx.insert(libraryEntryControls).values(links.slice(i, i + 1000));
    await recordAudit(tx, ctx, {
      action: 'library.imported',
      targetType: 'library_import',
      targetId: importId,
      summary: { fileName: req.fileName, sha256: req.sha256, format: parsed.format, approve: req.approve ?? false, ownerId, ...counts },
    });
    return out;
  });
  if (!saved) return replay((await previousImport(ctx, req.sha256))!);

  const byId = new Map(saved.map((e) => [e.id, e]));
  return {
    created: true,
    body: {
      importId,
      fileName: req.fileName,
      sha256: req.sha256,
      replayed: false,
      imported: counts.imported,
      duplicates: counts.duplicates,
      conflicts: counts.conflicts,
      skipped,
      entries: created.map((r) => entryView(byId.get(r.entryId)!, controlsOf.get(r.entryId)!)),
      rows: classified.map((r) => ({ row: r.row, ref: r.ref, question: r.question, outcome: r.outcome, entryId: r.entryId, conflictsWith: r.conflictsWith })),
    },
  };
}
