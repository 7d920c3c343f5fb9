// An XLSX questionnaire: the layout detected on every visible sheet, the sheets with answer cells
// kept, a question ID repeated across sheets kept once, and warnings about what was left out.
import { QuestionnaireParseError, tooManyQuestions } from '../errors.js';
import type { ParseLimits } from '../limits.js';
import type { MappingOverride, ParsedQuestion, ParsedQuestionnaire } from '../questionnaire.js';
import type { Grid } from './grid.js';
import { NO_QUESTION_HINT, detectSheet, realCellsOf, type SheetResult } from './layout.js';
import { loadWorkbook } from './workbook.js';

export async function parseXlsx(bytes: Buffer, mapping: MappingOverride | undefined, limits: ParseLimits): Promise<ParsedQuestionnaire> {
  const { book, sheets } = await loadWorkbook(bytes, limits);
  const warnings: string[] = [];
  const order = sheets.map((s) => s.name).filter((n) => book.grids.has(n));
  for (const n of book.grids.keys()) if (!order.includes(n)) order.push(n);

  // Hidden sheets are lookup or master data the respondent never sees; a mapping can still pick one by name.
  let targets: Grid[];
  if (mapping?.sheet !== undefined) {
    const g = book.grids.get(mapping.sheet) ?? [...book.grids.values()].find((x) => x.name.toLowerCase() === mapping.sheet!.toLowerCase());
    if (!g)
      throw new QuestionnaireParseError(
        'no_questions',
        `The mapping names sheet "${mapping.sheet}", which is not in the workbook (sheets: ${order.join(', ')}).`,
      );
    targets = [g];
  } else {
    targets = order.map((n) => book.grids.get(n)!).filter((g) => !g.hidden);
    const hidden = order.filter((n) => book.grids.get(n)!.hidden);
    if (hidden.length) warnings.push(`Hidden sheets were not read for questions: ${hidden.join(', ')}.`);
  }

  const results: SheetResult[] = [];
  const failures: string[] = [];
  for (const g of targets) {
    const res = detectSheet(g, book, mapping, g.name, limits);
    if ('failure' in res) failures.push(res.failure);
    else if (res.questions.length) results.push(res);
  }
  if (!results.length) {
    throw new QuestionnaireParseError('no_questions', `No questions found in the workbook. ${failures.slice(0, 5).join('; ') || NO_QUESTION_HINT}.`);
  }

  // Sheets with real answer cells win; sheets that only list questions (reports, reference tabs) are then ignored.
  const withAnswers = results.filter((r) => r.realAnswerCells > 0);
  const kept = withAnswers.length ? withAnswers : results;
  const ignored = results.filter((r) => !kept.includes(r)).map((r) => r.grid.name);
  if (ignored.length) warnings.push(`Sheets that list questions but have no answer cells were ignored: ${ignored.join(', ')}.`);

  // The same question ID on several sheets (formula mirrors) is kept once: its first occurrence with answer cells.
  const byRef = new Map<string, { q: ParsedQuestion; real: boolean }>();
  const questions: ParsedQuestion[] = [];
  const repeated = new Set<string>();
  const realCells = (q: ParsedQuestion) => (realCellsOf.get(q.answerCells) ?? 0) > 0;
  for (const res of kept) {
    for (const q of res.questions) {
      if (!q.ref || kept.length === 1) {
        questions.push(q);
        continue;
      }
      const real = realCells(q);
      const prev = byRef.get(q.ref);
      if (!prev) {
        byRef.set(q.ref, { q, real });
        questions.push(q);
        continue;
      }
      repeated.add(q.ref);
      if (!prev.real && real) {
        questions[questions.indexOf(prev.q)] = q;
        if (!q.section && prev.q.section) q.section = prev.q.section;
        byRef.set(q.ref, { q, real });
      } else if (!prev.q.section && q.section) prev.q.section = q.section;
    }
  }
  if (repeated.size) {
    const some = [...repeated].slice(0, 5).join(', ');
    warnings.push(`${repeated.size} question ID(s) appear on more than one sheet (e.g. ${some}); each is kept once, where it has answer cells first.`);
  }
  if (questions.length > limits.maxQuestions) throw tooManyQuestions(questions.length, limits.maxQuestions);

  const usedSheets = new Set(questions.map((q) => q.sheet));
  const layouts = kept.filter((r) => usedSheets.has(r.grid.name)).map((r) => r.layout);
  for (const r of kept) if (usedSheets.has(r.grid.name)) warnings.push(...r.notes);

  // A hidden master list (HECVAT's "Questions") whose IDs mostly match: report the IDs no visible sheet lets you answer.
  if (mapping?.sheet === undefined) {
    const refs = new Set(questions.map((q) => q.ref).filter(Boolean));
    for (const n of order) {
      const g = book.grids.get(n)!;
      if (!g.hidden) continue;
      const res = detectSheet(g, book, undefined, n, limits);
      if ('failure' in res || !res.layout.idColumn) continue;
      const listed = [...new Set(res.questions.map((q) => q.ref).filter((x): x is string => !!x))];
      const missing = listed.filter((x) => !refs.has(x));
      if (listed.length >= 5 && missing.length && missing.length <= listed.length / 2) {
        warnings.push(
          `Hidden sheet "${n}" lists ${listed.length} question IDs; ${missing.length} of them appear on no visible sheet and have no answer cell: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}.`,
        );
      }
    }
  }
  warnings.push(...book.warnings);
  return { format: 'xlsx', sheets: layouts, questions, warnings };
}
