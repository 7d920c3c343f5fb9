import type { BlobStore } from '../../lib/storage.js';
import { toCsv, toXlsx, type Column } from '../../lib/tabular.js';
import type { questionnaires, questions } from './tables.js';
import { writeAnswers } from './xlsx-writeback.js';

type Q = typeof questions.$inferSelect;

const exported = (q: Q) => q.status !== null && q.status !== 'rejected';

const CHOICE_WORDS: Record<string, string[]> = { yes: ['yes', 'y', 'true'], no: ['no', 'n', 'false'], partial: ['partial', 'partially', 'in progress'], 'n/a': ['n/a', 'na', 'not applicable'] };

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

export function exportCsv(qs: Q[]): string {
  return toCsv(EXPORT_COLUMNS, qs);
}

/**
 * XLSX: into the buyer's original workbook when there is one (only the answer cells change, so
 * every other sheet, style, merge and dropdown survives); otherwise a workbook of our own.
 */
export async function exportXlsx(blobs: BlobStore, q: typeof questionnaires.$inferSelect, qs: Q[]): Promise<Buffer> {
  if (q.format !== 'xlsx' || !q.sourceSha256) {
    return toXlsx('Questionnaire', EXPORT_COLUMNS, qs, { name: q.name, generatedAt: new Date().toISOString() });
  }
  const edits: Array<{ sheet: string; cell: string; value: string }> = [];
  for (const item of qs) {
    if (!exported(item) || !item.sheet) continue;
    const choiceCell = item.answerCells.find((c) => c.role === 'choice');
    const textCell = item.answerCells.find((c) => c.role === 'text') ?? item.answerCells.find((c) => c.role === 'comment');
    if (choiceCell && item.choice) edits.push({ sheet: item.sheet, cell: choiceCell.cell, value: choiceLabel(item.choice, choiceCell.allowed ?? item.allowedAnswers ?? undefined) });
    if (textCell && item.answerText) {
      const text = !choiceCell && item.choice ? `${choiceLabel(item.choice, undefined)}. ${item.answerText}` : item.answerText;
      edits.push({ sheet: item.sheet, cell: textCell.cell, value: text });
    }
  }
  return writeAnswers(await blobs.readVerified(q.sourceSha256), edits);
}
