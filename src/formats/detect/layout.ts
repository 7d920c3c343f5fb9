// Layout detection for one sheet: the header row, the question, ID, section and answer columns,
// which rows are questions and which are headings, and each question's answer cells.
import { columnLetter, columnNumber } from '../cells.js';
import { tooManyQuestions } from '../errors.js';
import { EDITOR_LIMITS, type ParseLimits } from '../limits.js';
import type { AnswerCell, AnswerColumn, AnswerRole, MappingOverride, ParsedQuestion, SheetLayout } from '../questionnaire.js';
import { CLOSED, isIdLike, looksLikeQuestion, norm, squash, stripNumbering } from './cell-text.js';
import { listAt, type Book } from './dropdowns.js';
import { KEY, address, cellKey, mergeAt, ownCell, ownText, readText, type Grid } from './grid.js';
import { classifyHeader, headerCellScore, type HeaderClass, type HeaderKind } from './header-vocabulary.js';

interface Candidate {
  col: number;
  header: string;
  kind: HeaderKind | 'dv' | 'mapped';
  role?: AnswerRole;
}

export interface SheetResult {
  grid: Grid;
  layout: SheetLayout;
  questions: ParsedQuestion[];
  /** Answer cells in real (not proposed) columns that are input cells, not formulas. */
  realAnswerCells: number;
  notes: string[];
}

export const NO_QUESTION_HINT =
  'looked for a header (in the first 30 rows) containing "question", "control question", "requirement" or "description", ' +
  'and, failing that, for a column whose cells mostly end with "?" or start with a question or instruction word (what, how, is, are, do, does, describe, explain, list, provide...)';

export function detectSheet(
  g: Grid,
  book: Book | undefined,
  mapping: MappingOverride | undefined,
  sheetLabel: string | undefined,
  limits: ParseLimits = EDITOR_LIMITS,
): SheetResult | { failure: string } {
  const notes: string[] = [];
  const visible = (r: number) => !g.hiddenRows.has(r);
  const rowCells = (r: number) => [...(g.rows.get(r)?.entries() ?? [])].filter(([, x]) => x.text !== '');

  // The scan depth is the editor's for every limits profile (all of them set 30).
  // Header row: the best-scoring row of header words within the first 30 rows (ties: the earliest); none below a score of 3.
  let headerRow = 0;
  if (mapping?.headerRow !== undefined) headerRow = mapping.headerRow;
  else {
    let best = 2;
    for (let r = 1; r <= Math.min(EDITOR_LIMITS.headerScanRows, g.maxRow); r++) {
      if (!visible(r)) continue;
      const score = rowCells(r).reduce((s, [, x]) => s + headerCellScore(x.text), 0);
      if (score > best) {
        best = score;
        headerRow = r;
      }
    }
  }
  const headers = new Map<number, { text: string } & HeaderClass>();
  if (headerRow > 0) for (const [c, x] of rowCells(headerRow)) headers.set(c, { text: squash(x.text), ...classifyHeader(x.text) });
  const headerText = (c: number) => headers.get(c)?.text ?? '';
  const kindOf = (c: number) => headers.get(c)?.kind ?? null;

  const dataRows: number[] = [];
  for (const r of [...g.rows.keys()].sort((a, b) => a - b)) if (r > headerRow && visible(r) && rowCells(r).length) dataRows.push(r);

  // Question column: the column whose header has question words (question > requirement > description), else the column
  // with the most and longest question-like texts (ending in '?' or starting with an interrogative/imperative word).
  let qCol = mapping?.questionColumn ? columnNumber(mapping.questionColumn) : 0;
  const avgLen = (c: number) => {
    let n = 0;
    let len = 0;
    for (const r of dataRows) {
      const t = ownText(g, r, c);
      if (t) {
        n++;
        len += t.length;
      }
    }
    return n ? len / n : 0;
  };
  // A question header over a column of IDs or short labels (HECVAT titles a block " Required Questions") is not the question column.
  for (const [c, h] of headers) {
    if (h.kind !== 'question' || c === qCol) continue;
    const vals = dataRows.map((r) => ownText(g, r, c).trim()).filter(Boolean);
    const ids = vals.filter(isIdLike).length;
    if (!vals.length || ids >= vals.length / 2 || avgLen(c) < 12) h.kind = null;
  }
  if (!qCol) {
    const byHeader = [...headers.entries()].filter(([c, h]) => h.kind === 'question' && avgLen(c) > 0);
    byHeader.sort((a, b) => b[1].rank - a[1].rank || avgLen(b[0]) - avgLen(a[0]) || a[0] - b[0]);
    if (byHeader[0]) qCol = byHeader[0][0];
  }
  if (!qCol) {
    let bestScore = 0;
    for (let c = 1; c <= g.maxCol; c++) {
      const k = kindOf(c);
      if (k && k !== 'question') continue;
      let n = 0;
      let q = 0;
      let len = 0;
      for (const r of dataRows) {
        const t = ownText(g, r, c).trim();
        if (!t) continue;
        n++;
        len += t.length;
        if (looksLikeQuestion(t)) q++;
      }
      if (n === 0 || q < Math.min(2, n) || q / n < 0.3 || len / n < 10) continue;
      const score = q * (len / n);
      if (score > bestScore) {
        bestScore = score;
        qCol = c;
      }
    }
  }
  if (!qCol) return { failure: `no question column found on "${g.name}": ${NO_QUESTION_HINT}` };

  const questionRowsGuess = dataRows.filter((r) => ownText(g, r, qCol).trim() !== '');

  // ID column: a header like ID / Ref / # / Question ID (preferring unique values), else the column whose values look like
  // "A&A-01.1", "IAM-02", "HPSS-01" or "1.2.3" on most question rows.
  let idCol = mapping?.idColumn ? columnNumber(mapping.idColumn) : 0;
  let idFromHeader = idCol > 0;
  const uniqueness = (c: number) => {
    const vals = questionRowsGuess.map((r) => ownText(g, r, c).trim()).filter(Boolean);
    return vals.length ? new Set(vals).size / vals.length : 0;
  };
  if (!idCol) {
    const byHeader = [...headers.entries()].filter(([c, h]) => h.kind === 'id' && c !== qCol);
    byHeader.sort((a, b) => uniqueness(b[0]) - uniqueness(a[0]) || Number(/question/i.test(b[1].text)) - Number(/question/i.test(a[1].text)) || a[0] - b[0]);
    if (byHeader[0] && uniqueness(byHeader[0][0]) > 0) {
      idCol = byHeader[0][0];
      idFromHeader = true;
    }
  }
  if (!idCol && questionRowsGuess.length) {
    let best: [number, number, number] | undefined; // [letters?, count, col]
    for (let c = 1; c <= g.maxCol; c++) {
      if (c === qCol || (kindOf(c) && kindOf(c) !== 'id')) continue;
      let count = 0;
      let letters = 0;
      for (const r of questionRowsGuess) {
        const t = ownText(g, r, c).trim();
        if (isIdLike(t)) {
          count++;
          if (/[A-Za-z]/.test(t)) letters++;
        }
      }
      if (count < Math.max(1, questionRowsGuess.length * 0.5)) continue;
      const lettered = letters >= count / 2 ? 1 : 0;
      if (!best || lettered > best[0] || (lettered === best[0] && count > best[1])) best = [lettered, count, c];
    }
    if (best) idCol = best[2];
  }

  // Repeated header rows (one per block) may name columns the first header lacks: take the union.
  if (headerRow > 0) {
    for (const r of g.rows.keys()) {
      if (r === headerRow || !visible(r) || ownText(g, r, qCol).trim() || (idCol && isIdLike(ownText(g, r, idCol)))) continue;
      const cells = rowCells(r);
      const repeats = cells.some(([c, x]) => headers.get(c)?.kind && norm(x.text) === norm(headers.get(c)!.text));
      if (!repeats) continue;
      for (const [c, x] of cells) {
        if (headers.has(c) || c === qCol || c === idCol) continue;
        const h = classifyHeader(x.text);
        if (h.kind && h.kind !== 'question') headers.set(c, { text: squash(x.text), ...h });
      }
    }
  }

  // Section column: a header like Section / Domain / Category / Area.
  let sectionCol = mapping?.sectionColumn ? columnNumber(mapping.sectionColumn) : 0;
  if (!sectionCol) {
    const found = [...headers.entries()].find(([c, h]) => h.kind === 'section' && c !== qCol && c !== idCol && avgLen(c) > 0);
    if (found) sectionCol = found[0];
  }
  const choicesCol = [...headers.entries()].find(([c, h]) => h.kind === 'choices' && c !== qCol)?.[0] ?? 0;

  // Answer and comment columns by header words; a mapping replaces them entirely.
  const taken = new Set([qCol, idCol, sectionCol, choicesCol]);
  let candidates: Candidate[] = [];
  if (mapping?.answerColumns) {
    candidates = mapping.answerColumns.map((a) => ({
      col: columnNumber(a.column),
      header: a.header ?? headerText(columnNumber(a.column)),
      kind: 'mapped',
      role: a.role,
    }));
  } else {
    for (const [c, h] of headers) {
      if (taken.has(c) || !h.kind) continue;
      if (h.kind === 'answer' || h.kind === 'comment' || h.kind === 'text' || h.kind === 'ownership' || h.kind === 'other')
        candidates.push({ col: c, header: h.text, kind: h.kind });
    }
  }
  const candidateCols = () => candidates.map((x) => x.col);

  const idOk = (r: number) => {
    if (!idCol) return false;
    const t = readText(g, r, idCol).trim();
    return t !== '' && (idFromHeader || isIdLike(t));
  };
  const answersFilled = (r: number) =>
    candidateCols().some((c) => {
      const x = ownCell(g, r, c);
      return !!x && x.text.trim() !== '' && !x.formula;
    });
  // Header repeats (HECVAT repeats "Answer | Additional Information" above every block) start a new block, not a question.
  const isHeaderRepeat = (r: number) => {
    if (r === headerRow || !headerRow) return false;
    let matches = 0;
    for (const [c, h] of headers) if (h.kind && norm(ownText(g, r, c)) === norm(h.text)) matches++;
    return matches >= 1 && ownText(g, r, qCol).trim() === '' && !idOk(r);
  };
  // A header (or a repeat of it) whose ID-column cell holds a title instead of an ID header names the section below it.
  const headerSection = (r: number): string | undefined => {
    const c = idCol || (qCol > 1 ? 1 : 0);
    if (!c) return undefined;
    const t = squash(readText(g, r, c));
    if (!t || classifyHeader(t).kind === 'id' || (c !== idCol && classifyHeader(t).kind)) return undefined;
    if (r !== headerRow && norm(t) === norm(headerText(c))) return undefined;
    return t;
  };

  // Bold is a heading signal only if question rows are not bold themselves.
  const boldShare = questionRowsGuess.length ? questionRowsGuess.filter((r) => ownCell(g, r, qCol)?.bold).length / questionRowsGuess.length : 0;
  const filledShare = questionRowsGuess.length ? questionRowsGuess.filter((r) => ownCell(g, r, qCol)?.filled).length / questionRowsGuess.length : 0;

  type RowKind = { kind: 'skip' } | { kind: 'section'; text: string } | { kind: 'question' };
  const classifyRow = (r: number): RowKind => {
    if (isHeaderRepeat(r)) {
      const s = headerSection(r);
      return s ? { kind: 'section', text: s } : { kind: 'skip' };
    }
    const cells = rowCells(r).filter(([, x]) => x.text.trim() !== '');
    if (!cells.length) return { kind: 'skip' };
    const q = readText(g, r, qCol).trim();
    const filled = answersFilled(r);
    // A merge that covers the question column and the ID or an answer column is a heading: nothing can be answered there.
    const qMerged = mergeAt(g, r, qCol);
    if (!filled && qMerged && qMerged.right > qMerged.left && [idCol, ...candidateCols()].some((c) => c && c >= qMerged.left && c <= qMerged.right)) {
      return q ? { kind: 'section', text: squash(q) } : { kind: 'skip' };
    }
    const hasId = idOk(r);
    if (!q) {
      // A short row with text but no ID-like value, no question text and no answers is a heading (e.g. a title in column A).
      if (!isIdLike(idCol ? readText(g, r, idCol) : '') && !filled && cells.length <= 2) {
        const t = squash(cells[0]![1].text);
        if (t.length <= 200 && !isIdLike(t)) return { kind: 'section', text: t.replace(/:$/, '') };
      }
      return { kind: 'skip' };
    }
    if (hasId) return { kind: 'question' };
    const qCell = ownCell(g, r, qCol) ?? ownCell(g, r, cells[0]![0]);
    const styled = (!!qCell?.bold && boldShare < 0.5) || (!!qCell?.filled && filledShare < 0.5);
    // Headings stand (nearly) alone on their row: at most one other non-empty cell besides the text.
    const sparse = cells.filter(([c]) => c !== qCol).length <= 1;
    // With an ID column: a lone text without an ID and without answers that does not read as a question is a heading.
    if (idCol && !filled && sparse && !looksLikeQuestion(q)) return { kind: 'section', text: squash(q) };
    // Without an ID column: a lone bold or filled text (when questions are not) that does not read as a question is a heading.
    if (!idCol && !filled && sparse && styled && !looksLikeQuestion(q)) return { kind: 'section', text: squash(q) };
    return { kind: 'question' };
  };

  // Rows above the header whose ID has the ID shape form a leading block without its own header (HECVAT "START HERE").
  let firstRow = headerRow + 1;
  if (headerRow > 1 && idCol && mapping?.headerRow === undefined) {
    for (let r = headerRow - 1; r >= 1; r--) {
      if (!visible(r)) break;
      const cells = rowCells(r).filter(([, x]) => x.text.trim() !== '');
      if (!cells.length) continue;
      if (isHeaderRepeat(r)) {
        firstRow = r;
        continue;
      }
      if (isIdLike(ownText(g, r, idCol)) && ownText(g, r, qCol).trim()) {
        firstRow = r;
        continue;
      }
      break;
    }
    // Leading blank or repeat rows are not part of the block.
    while (firstRow < headerRow && !(isIdLike(ownText(g, firstRow, idCol)) && ownText(g, firstRow, qCol).trim()) && !isHeaderRepeat(firstRow)) firstRow++;
  }

  let section: string | undefined;
  const questionRows: { r: number; section?: string }[] = [];
  const rowsInOrder = [...g.rows.keys()].filter((r) => (r >= firstRow || r === headerRow) && visible(r)).sort((a, b) => a - b);
  let noText = 0;
  for (const r of rowsInOrder) {
    if (r === headerRow) {
      const s = headerSection(r);
      if (s) section = s;
      continue;
    }
    const k = classifyRow(r);
    if (k.kind === 'section') section = k.text;
    else if (k.kind === 'question') {
      const own = sectionCol ? squash(readText(g, r, sectionCol)) : '';
      questionRows.push({ r, section: own || section });
      if (questionRows.length > limits.maxQuestions) throw tooManyQuestions(questionRows.length, limits.maxQuestions);
    } else if (idOk(r) && !readText(g, r, qCol).trim()) noText++;
  }
  if (noText) notes.push(`${noText} row(s) on "${g.name}" have an ID but no question text in column ${columnLetter(qCol)} and were skipped.`);

  // Computed columns (formulas on most question rows) are outputs of the workbook, not answer cells.
  const qrs = questionRows.map((x) => x.r);
  const formulaShare = (c: number) => (qrs.length ? qrs.filter((r) => ownCell(g, r, c)?.formula).length / qrs.length : 0);
  const dvShare = (c: number) => (qrs.length ? qrs.filter((r) => listAt(book, g, r, c)).length / qrs.length : 0);
  if (!mapping?.answerColumns) {
    candidates = candidates.filter((x) => {
      if (formulaShare(x.col) < 0.8) return true;
      notes.push(`Column ${columnLetter(x.col)} ("${x.header}") on "${g.name}" is computed by formulas and is not treated as an answer column.`);
      return false;
    });
    // Columns whose cells carry a dropdown list on most question rows are choice answers even without a header word.
    if (g.validations.length) {
      const used = new Set([...taken, ...candidateCols()]);
      for (let c = 1; c <= Math.max(g.maxCol, ...g.validations.flatMap((v) => v.ranges.map((x) => Math.min(x.right, 200)))); c++) {
        if (used.has(c) || kindOf(c) === 'reference') continue;
        if (dvShare(c) >= 0.3 && formulaShare(c) < 0.8) candidates.push({ col: c, header: headerText(c), kind: 'dv' });
      }
    }
  }

  const closedShare = qrs.length ? qrs.filter((r) => CLOSED.test(stripNumbering(readText(g, r, qCol).trim()))).length / qrs.length : 0;
  const answerColumns: (AnswerColumn & { fromDv: boolean })[] = [];
  for (const x of candidates.sort((a, b) => a.col - b.col)) {
    const share = dvShare(x.col);
    let role: AnswerRole;
    if (x.role) role = x.role;
    else if (x.kind === 'dv') role = 'choice';
    else if (x.kind === 'answer') {
      // An answer column is a choice when it has dropdowns, names yes/no, holds a few short values, or the questions are mostly closed.
      const vals = qrs
        .map((r) => ownCell(g, r, x.col))
        .filter((v) => v && !v.formula && v.text.trim())
        .map((v) => norm(v!.text));
      const distinct = new Set(vals);
      const fewValues =
        vals.length >= 3 && distinct.size <= 6 && [...distinct].every((v) => v.length <= 20) && [...distinct].some((v) => /^(yes|no|n\/?a|y|n)$/.test(v));
      role = share >= 0.3 || /\b(yes|y\/n)\b/.test(norm(x.header)) || fewValues || closedShare >= 0.6 ? 'choice' : 'text';
    } else role = x.kind === 'comment' ? 'comment' : x.kind === 'text' ? 'text' : x.kind === 'ownership' ? 'ownership' : 'other';
    const col: AnswerColumn & { fromDv: boolean } = { column: columnLetter(x.col), header: x.header, role, fromDv: share > 0 };
    const lists = new Map<string, { values: string[]; n: number }>();
    for (const r of qrs) {
      const l = listAt(book, g, r, x.col);
      if (!l) continue;
      const k = l.join('\u0000');
      const e = lists.get(k) ?? { values: l, n: 0 };
      e.n++;
      lists.set(k, e);
    }
    const common = [...lists.values()].sort((a, b) => b.n - a.n)[0];
    if (common) col.allowed = common.values;
    answerColumns.push(col);
  }

  // No answer column at all: propose an answer column and a comment column after the last used column.
  if (!answerColumns.length && !mapping?.answerColumns) {
    let last = Math.max(qCol, idCol, sectionCol, choicesCol, ...headers.keys());
    for (const r of qrs) for (const c of g.rows.get(r)?.keys() ?? []) if (ownText(g, r, c).trim() && c > last) last = c;
    const role: AnswerRole = closedShare >= 0.6 ? 'choice' : 'text';
    answerColumns.push({ column: columnLetter(last + 1), header: 'Answer', role, proposed: true, fromDv: false });
    answerColumns.push({ column: columnLetter(last + 2), header: 'Comments', role: 'comment', proposed: true, fromDv: false });
    notes.push(
      `No answer column found on "${g.name}"; proposing column ${columnLetter(last + 1)} "Answer" (${role}) and ${columnLetter(last + 2)} "Comments" after the last used column.`,
    );
  }

  const questions: ParsedQuestion[] = [];
  let realAnswerCells = 0;
  for (const { r, section: sec } of questionRows) {
    const qMaster = g.mergeMaster.get(cellKey(r, qCol));
    const qAddr = qMaster === undefined ? address(r, qCol) : address(Math.floor(qMaster / KEY), qMaster % KEY);
    const answerCells: AnswerCell[] = [];
    let real = 0;
    for (const ac of answerColumns) {
      const c = columnNumber(ac.column);
      const cell = ownCell(g, r, c);
      if (cell?.formula) continue; // computed cell: never overwrite a formula
      const master = g.mergeMaster.get(cellKey(r, c));
      if (master !== undefined) continue; // covered by a merge: the top-left cell takes the answer
      const allowed = ac.proposed ? undefined : listAt(book, g, r, c);
      // In a dropdown column, a cell without a dropdown takes free text.
      const role: AnswerRole = ac.role === 'choice' && ac.fromDv && !allowed ? 'text' : ac.role;
      const a: AnswerCell = { cell: address(r, c), role, header: ac.header };
      if (allowed) a.allowed = allowed;
      if (mapping?.withValues && !ac.proposed && cell && cell.text.trim()) a.value = cell.text.trim();
      answerCells.push(a);
      if (!ac.proposed) real++;
    }
    realAnswerCells += real;
    realCellsOf.set(answerCells, real);
    const q: ParsedQuestion = { text: squash(readText(g, r, qCol)), answerCells };
    const ref = idCol ? squash(readText(g, r, idCol)) : '';
    if (ref) q.ref = ref;
    if (sec) q.section = sec;
    if (sheetLabel !== undefined) q.sheet = sheetLabel;
    q.row = r;
    q.questionCell = qAddr;
    const allowed = answerCells.find((a) => a.allowed)?.allowed;
    const choices = choicesCol
      ? readText(g, r, choicesCol)
          .split(/\s*[|\n]\s*/)
          .map(squash)
          .filter(Boolean)
      : [];
    if (allowed) q.allowedAnswers = allowed;
    else if (choices.length) q.allowedAnswers = choices;
    questions.push(q);
  }

  const layout: SheetLayout = {
    name: g.name,
    headerRow,
    questionColumn: columnLetter(qCol),
    answerColumns: answerColumns.map(({ fromDv: _fromDv, ...a }) => a),
  };
  if (idCol) layout.idColumn = columnLetter(idCol);
  if (sectionCol) layout.sectionColumn = columnLetter(sectionCol);
  if (headerRow === 0)
    notes.push(`No header row found on "${g.name}" in the first ${EDITOR_LIMITS.headerScanRows} rows; columns were detected from their contents.`);
  return { grid: g, layout, questions, realAnswerCells, notes };
}

// Number of answer cells of a question that are real input cells (not in a proposed column).
export const realCellsOf = new WeakMap<AnswerCell[], number>();
