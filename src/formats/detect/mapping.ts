// A caller's mapping (sheet, header row, columns) checked and normalised before it corrects the
// detection: column letters upper-cased and bounded to XFD, the header row a row number.
import { columnNumber } from '../cells.js';
import { QuestionnaireParseError } from '../errors.js';
import type { AnswerRole, MappingOverride } from '../questionnaire.js';

export function normaliseMapping(m: MappingOverride): MappingOverride {
  const col = (v: string | undefined, what: string) => {
    if (v === undefined) return undefined;
    const s = v.trim().toUpperCase();
    if (!/^[A-Z]{1,3}$/.test(s) || columnNumber(s) > 16_384)
      throw new QuestionnaireParseError('no_questions', `The mapping's ${what} "${v}" is not a column letter (A, B, ..., XFD).`);
    return s;
  };
  const out: MappingOverride = {};
  if (m.sheet !== undefined) out.sheet = m.sheet;
  if (m.headerRow !== undefined) {
    if (!Number.isInteger(m.headerRow) || m.headerRow < 0)
      throw new QuestionnaireParseError('no_questions', `The mapping's headerRow must be a row number (1-based), or 0 for no header; got ${m.headerRow}.`);
    out.headerRow = m.headerRow;
  }
  const q = col(m.questionColumn, 'questionColumn');
  if (q) out.questionColumn = q;
  const id = col(m.idColumn, 'idColumn');
  if (id) out.idColumn = id;
  const s = col(m.sectionColumn, 'sectionColumn');
  if (s) out.sectionColumn = s;
  if (m.withValues === true) out.withValues = true;
  if (m.answerColumns) {
    out.answerColumns = m.answerColumns.map((a) => {
      const c: { column: string; role: AnswerRole; header?: string } = { column: col(a.column, 'answer column')!, role: a.role };
      if (a.header !== undefined) c.header = a.header;
      return c;
    });
  }
  return out;
}
