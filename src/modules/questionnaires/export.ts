import type { BlobStore } from '../../lib/storage.js';
import { toCsv, toXlsx, type Column } from '../../lib/tabular.js';
import type { questionnaires, questions } from './tables.js';
import { writeAnswers } from '../../formats/xlsx-writeback.js';

type Q = typeof questions.$inferSelect;

/**
 * What an export writes. `approved`: approved answers only. `all` (the default): approved and
 * drafted answers go into the answer cells, and unreviewed ones are marked: a draft gets
 * "Unreviewed draft." in the comment column (or before its text when the row has none), and an
 * answer waiting for review leaves the answer cell empty with its draft and reason in the comment.
 */
export type ExportScope = 'all' | 'approved';

const answered = (q: Q, scope: ExportScope) => (scope === 'approved' ? q.status === 'approved' : q.status === 'approved' || q.status === 'draft');
const exported = (q: Q) => q.status !== null && q.status !== 'rejected';

const CHOICE_WORDS: Record<string, string[]> = {
  yes: ['yes', 'y', 'true'],
  no: ['no', 'n', 'false'],
  partial: ['partial', 'partially', 'in progress'],
  'n/a': ['n/a', 'na', 'not applicable'],
};

/** The buyer's own spelling of a choice, from the cell's dropdown when it has one. */
export function choiceLabel(choice: string, allowed: string[] | undefined): string {
  for (const option of allowed ?? []) {
    if (CHOICE_WORDS[choice]?.includes(option.trim().toLowerCase())) return option;
  }
  return choice === 'n/a' ? 'N/A' : choice.charAt(0).toUpperCase() + choice.slice(1);
}

export const EXPORT_COLUMNS: Column<Q>[] = [
  { header: 'ref', value: (q) => q.ref, width: 14 },
  { header: 'section', value: (q) => q.section, width: 24 },
  { header: 'question', value: (q) => q.text, width: 60 },
  { header: 'choice', value: (q) => (exported(q) ? q.choice : null), width: 10 },
  { header: 'answer', value: (q) => (exported(q) ? q.answerText : null), width: 70 },
  { header: 'confidence', value: (q) => (exported(q) ? q.confidence : null), width: 12 },
  { header: 'status', value: (q) => q.status, width: 14 },
  { header: 'sources', value: (q) => q.sources.map((s) => s.ref ?? `${s.kind}:${s.id}`).join('; '), width: 30 },
];

function columns(scope: ExportScope): Column<Q>[] {
  return [
    ...EXPORT_COLUMNS.map((c) =>
      c.header === 'choice'
        ? { ...c, value: (q: Q) => (answered(q, scope) ? q.choice : null) }
        : c.header === 'answer'
          ? { ...c, value: (q: Q) => (answered(q, scope) ? q.answerText : null) }
          : c.header === 'confidence'
            ? { ...c, value: (q: Q) => (answered(q, scope) ? q.confidence : null) }
            : c,
    ),
    {
      header: 'review',
      value: (q) => (q.status === 'needs_review' ? `needs review: ${q.reviewReason ?? 'low confidence'}` : q.status === 'draft' ? 'unreviewed draft' : null),
      width: 30,
    },
  ];
}

export function exportCsv(qs: Q[], scope: ExportScope = 'all'): string {
  return toCsv(columns(scope), scope === 'approved' ? qs.filter((q) => q.status === 'approved') : qs);
}

/**
 * VSAQ's own answer format, which its tool loads back: item or option id -> value. A chosen radio
 * or check option's key maps to "checked", a yes/no item to "yes" or "no", a text item to its text.
 */
export function exportVsaq(qs: Q[], scope: ExportScope = 'all'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const q of qs) {
    if (!answered(q, scope)) continue;
    const cell = q.answerCells.find((c) => c.role === 'vsaq');
    if (!cell || !q.ref) continue;
    if (cell.options && cell.options.length > 0) {
      const picked = cell.options.find((o) => o.label === q.choice);
      if (picked) out[picked.key] = 'checked';
    } else if (cell.vsaqType === 'yesno' && q.choice) {
      out[q.ref] = q.choice.toLowerCase().startsWith('y') ? 'yes' : 'no';
    } else if (cell.vsaqType === 'check' && q.choice) {
      if (q.choice.toLowerCase().startsWith('y')) out[q.ref] = 'checked';
    } else if (q.answerText) {
      out[q.ref] = q.answerText;
    }
  }
  return out;
}

/**
 * XLSX: into the buyer's original workbook when there is one (only the answer cells change, so
 * every other sheet, style, merge and dropdown survives); otherwise a workbook of our own.
 */
export async function exportXlsx(blobs: BlobStore, q: typeof questionnaires.$inferSelect, qs: Q[], scope: ExportScope = 'all'): Promise<Buffer> {
  if (q.format !== 'xlsx' || !q.sourceSha256) {
    return toXlsx('Questionnaire', columns(scope), scope === 'approved' ? qs.filter((x) => x.status === 'approved') : qs, {
      name: q.name,
      generatedAt: new Date().toISOString(),
    });
  }
  const edits: Array<{ sheet: string; cell: string; value: string }> = [];
  for (const item of qs) {
    if (!exported(item) || !item.sheet) continue;
    const choiceCell = item.answerCells.find((c) => c.role === 'choice');
    const textCell = item.answerCells.find((c) => c.role === 'text') ?? item.answerCells.find((c) => c.role === 'comment');
    const commentCell = item.answerCells.find((c) => c.role === 'comment' && c !== textCell);
    if (!answered(item, scope)) {
      // Waiting for a person: the answer cell stays empty; the draft and why go beside it.
      if (scope === 'all' && item.status === 'needs_review') {
        const note = `[Needs review: ${item.reviewReason ?? 'low confidence'}]${item.answerText ? ' ' + item.answerText : ''}`;
        const where = commentCell ?? (choiceCell ? textCell : undefined);
        if (where) edits.push({ sheet: item.sheet, cell: where.cell, value: note });
      }
      continue;
    }
    const allowed = choiceCell?.allowed ?? item.allowedAnswers ?? undefined;
    // A value outside the cell's list is never written: the buyer's dropdown would reject it.
    const choice = item.choice && (!allowed || allowed.length === 0 || allowed.includes(item.choice)) ? item.choice : null;
    if (choiceCell && choice) edits.push({ sheet: item.sheet, cell: choiceCell.cell, value: allowed?.length ? choice : choiceLabel(choice, undefined) });
    const draft = item.status === 'draft';
    if (textCell && item.answerText) {
      let text =
        !choiceCell && choice && (!allowed || allowed.length === 0)
          ? `${choiceLabel(choice, undefined)}. ${item.answerText.replace(/^(yes|no|partially|not applicable)\.\s*/i, '')}`
          : item.answerText;
      if (draft && !commentCell) text = `[Unreviewed draft] ${text}`;
      edits.push({ sheet: item.sheet, cell: textCell.cell, value: text });
    }
    if (draft && commentCell) edits.push({ sheet: item.sheet, cell: commentCell.cell, value: 'Unreviewed draft.' });
  }
  return writeAnswers(await blobs.readVerified(q.sourceSha256), edits);
}

/** The prospect's file: the question and the released answer only (no confidence, status, sources or review notes). */
const PROSPECT_COLUMNS: Column<Q>[] = [
  { header: 'ref', value: (q) => q.ref, width: 14 },
  { header: 'section', value: (q) => q.section, width: 24 },
  { header: 'question', value: (q) => q.text, width: 60 },
  { header: 'choice', value: (q) => (q.status === 'approved' ? q.choice : null), width: 10 },
  { header: 'answer', value: (q) => (q.status === 'approved' ? q.answerText : null), width: 70 },
];

/**
 * The released file a prospect downloads. `qs` holds every question with its released answers as
 * `approved` and the rest emptied (prospectView), so nothing unreleased is written.
 */
export async function exportForProspect(blobs: BlobStore, q: typeof questionnaires.$inferSelect, qs: Q[], format: 'csv' | 'xlsx'): Promise<string | Buffer> {
  if (format === 'csv') return toCsv(PROSPECT_COLUMNS, qs);
  if (q.format === 'xlsx' && q.sourceSha256) return exportXlsx(blobs, q, qs, 'approved');
  return toXlsx('Questionnaire', PROSPECT_COLUMNS, qs, { name: q.name, generatedAt: new Date().toISOString() });
}
