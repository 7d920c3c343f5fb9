// Security questionnaire import: detects the layout of a buyer's spreadsheet (CSV, XLSX) or JSON
// questionnaire instead of asking the user to map it. Pure library: no database, no HTTP.
//
// XLSX note: exceljs expands every data-validation range into one entry per cell, so a real
// workbook with a validation on `N1:XFD1048576` (HECVAT 4.1.4 has one) never finishes loading. We
// therefore open the package ourselves (bounded inflate, zip-bomb checks), read every list
// validation - the standard <dataValidations> and the x14 extension that exceljs ignores - straight
// from the sheet XML, remove the standard block from the XML and only then hand the package to
// exceljs for cell values, formulas, styles and hidden rows.
import path from 'node:path';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { isVsaqTemplate, parseJsonWithExtensions, vsaqQuestions } from './vsaq.js';
import { QuestionnaireParseError, limitError, mib, type FormatErrorCode } from './errors.js';
import { EDITOR_LIMITS, type ParseLimits } from './limits.js';
import { checkTextRuns, checkZipLimits, openPackage, readZipDirectory, scanSheetXml, type CellTally } from './zip.js';
import { readCsvRecords } from './csv.js';
import { columnLetter, columnNumber } from './cells.js';

export { QuestionnaireParseError } from './errors.js';
export { readZipDirectory } from './zip.js';
export type { ParseLimits } from './limits.js';
import type {
  QuestionnaireFormat,
  AnswerRole,
  AnswerColumn,
  SheetLayout,
  VsaqOption,
  AnswerCell,
  ParsedQuestion,
  ParsedQuestionnaire,
  MappingOverride,
} from './questionnaire.js';
// The reader's results, for callers that import them from here.
export type * from './questionnaire.js';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export type QuestionnaireParseErrorCode = FormatErrorCode;

/** The editor's limits (src/formats/limits.ts has the prospect's and the SoA import's). */
export const QUESTIONNAIRE_LIMITS: ParseLimits = EDITOR_LIMITS;

// ---------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------

/**
 * Reads a questionnaire (XLSX, CSV or JSON, including Google VSAQ templates) and detects where its
 * questions, IDs, sections and answer cells are. `mapping` corrects the detection and takes
 * precedence. Throws QuestionnaireParseError (code: not_a_spreadsheet, encrypted, corrupt,
 * too_large, no_questions) with a message meant for the user.
 */
export async function parseQuestionnaire(input: {
  fileName?: string;
  bytes: Buffer | Uint8Array;
  mapping?: MappingOverride;
  limits?: ParseLimits;
}): Promise<ParsedQuestionnaire> {
  const bytes = Buffer.isBuffer(input.bytes) ? input.bytes : Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
  const limits = input.limits ?? EDITOR_LIMITS;
  const ext = input.fileName ? path.extname(input.fileName).toLowerCase() : '';
  const mapping = input.mapping ? normaliseMapping(input.mapping) : undefined;
  if (bytes.length === 0) throw new QuestionnaireParseError('not_a_spreadsheet', 'The file is empty.');

  // Magic bytes decide the format; the file name only sharpens error messages.
  if (startsWith(bytes, ZIP_MAGIC)) return parseXlsx(bytes, mapping, limits);
  if (startsWith(bytes, OLE_MAGIC)) throw oleError(bytes, ext);
  const binary = knownBinary(bytes);
  if (binary) throw new QuestionnaireParseError('not_a_spreadsheet', `This is ${binary}, not a questionnaire. Upload an .xlsx, .csv or .json file.`);
  if (ext === '.xlsx' || ext === '.xlsm')
    throw new QuestionnaireParseError('corrupt', `"${input.fileName}" is named like an Excel workbook but is not a ZIP package; it is damaged or was renamed.`);
  if (bytes.length > limits.maxTextBytes) {
    throw limitError(`The file is ${mib(bytes.length)}; text questionnaires are limited to ${mib(limits.maxTextBytes)} (limit: text file bytes).`);
  }
  const text = decodeText(bytes);
  const head = text.replace(/^\s+/, '').slice(0, 2000);
  const markup = markupKind(head);
  if (markup) throw new QuestionnaireParseError('not_a_spreadsheet', markup);
  // JSON when named .json or when it opens like JSON; anything else that opens like JSON but does not parse is read as CSV.
  if (ext === '.json') return parseJson(text, limits, mapping?.withValues);
  if (/^(\{|\[|\/\/|\/\*)/.test(head)) {
    try {
      return parseJson(text, limits, mapping?.withValues);
    } catch (err) {
      if (!(err instanceof QuestionnaireParseError && err.code === 'corrupt')) throw err;
    }
  }
  return parseCsvText(text, input.fileName, mapping, limits);
}

// HTML tables and Excel 2003 XML are often saved with an .xls name; say how to convert them.
function markupKind(head: string): string | undefined {
  const h = head.toLowerCase();
  if (h.startsWith('<?xml') && h.includes('urn:schemas-microsoft-com:office:spreadsheet')) {
    return 'This is an Excel 2003 XML spreadsheet, which is not supported. Open it in Excel and save it as .xlsx (Excel Workbook), then upload that.';
  }
  if (/^(<!doctype html|<html|<table|<meta|<head)/.test(h)) {
    return 'This is an HTML page (some tools export "Excel" files as HTML). Open it in Excel and save it as .xlsx, or export the questionnaire as CSV.';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Sniffing and decoding
// ---------------------------------------------------------------------------------------------

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

function startsWith(b: Buffer, magic: number[]): boolean {
  return b.length >= magic.length && magic.every((v, i) => b[i] === v);
}

function containsName(bytes: Buffer, name: string): boolean {
  // OLE directory entries store names in UTF-16LE; look for both encodings.
  return bytes.includes(Buffer.from(name, 'utf16le')) || bytes.includes(Buffer.from(name, 'latin1'));
}

// OLE compound file: an encrypted OOXML package (EncryptedPackage stream) or a legacy Office file.
function oleError(bytes: Buffer, ext: string): QuestionnaireParseError {
  if (containsName(bytes, 'EncryptedPackage')) {
    return new QuestionnaireParseError(
      'encrypted',
      'The workbook is password-protected (encrypted). Open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password) and upload it again.',
    );
  }
  if (containsName(bytes, 'Workbook') || containsName(bytes, 'Book') || ext === '.xls') {
    return new QuestionnaireParseError(
      'not_a_spreadsheet',
      'This is a legacy Excel 97-2003 workbook (.xls), which is not supported. Open it in Excel or LibreOffice and save it as .xlsx (Excel Workbook), then upload that.',
    );
  }
  return new QuestionnaireParseError(
    'not_a_spreadsheet',
    'This is a legacy Office document (OLE compound file), not a spreadsheet we can read. Save the questionnaire as .xlsx or .csv and upload that.',
  );
}

function knownBinary(b: Buffer): string | undefined {
  const s = b.subarray(0, 8).toString('latin1');
  if (s.startsWith('%PDF')) return 'a PDF document';
  if (s.startsWith('\x89PNG')) return 'a PNG image';
  if (s.startsWith('GIF8')) return 'a GIF image';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'a JPEG image';
  if (b[0] === 0x1f && b[1] === 0x8b) return 'a gzip archive';
  if (s.startsWith('Rar!')) return 'a RAR archive';
  if (s.startsWith('7z\xbc\xaf')) return 'a 7-Zip archive';
  return undefined;
}

// Text files: UTF-8 (BOM optional), UTF-16 with BOM (Excel "Unicode text"), else Windows-1252; NULs or many control characters mean binary.
function decodeText(bytes: Buffer): string {
  let text: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) text = new TextDecoder('utf-16le').decode(bytes.subarray(2));
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) text = new TextDecoder('utf-16be').decode(bytes.subarray(2));
  else {
    const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
    if (body.subarray(0, 65536).includes(0)) throw notText();
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      text = new TextDecoder('windows-1252').decode(body);
    }
  }
  const sample = text.slice(0, 65536);
  let control = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13) || c === 0x7f || c === 0xfffd) control++;
  }
  if (control > Math.max(2, sample.length * 0.01)) throw notText();
  return text;
}

const notText = () =>
  new QuestionnaireParseError(
    'not_a_spreadsheet',
    'The file is neither an Excel workbook (.xlsx), a CSV file nor JSON: its bytes are binary. Upload the questionnaire as .xlsx, .csv or .json.',
  );

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

const address = (row: number, col: number) => `${columnLetter(col)}${row}`;
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
const norm = (s: string) => squash(s.toLowerCase().replace(/[_\u00a0]/g, ' '));

// ID values: "A&A-01.1", "IAM-02", "HPSS-01", "CC6.1", "A.5.1", "Q12" or dotted numbers "1.2.3".
const ID_VALUE = /^(?:[A-Za-z][A-Za-z0-9&]{0,11}(?:[-_.][A-Za-z0-9&]{1,8}){0,3}[-_.]?\d+(?:\.\d+)*[a-z]?|\d{1,4}(?:\.\d+)*\.?[a-z]?)$/;
export function isIdLike(value: string): boolean {
  const v = value.trim();
  return v.length > 0 && v.length <= 24 && ID_VALUE.test(v);
}

const INTERROGATIVE =
  /^(what|when|where|which|who|whom|whose|why|how|is|are|was|were|do|does|did|has|have|had|can|could|will|would|shall|should|may|might|must|describe|explain|list|provide|please|specify|state|indicate|identify|confirm|detail|outline|attach|upload|enter|select|summari[sz]e|share|name)\b/i;
const CLOSED = /^(is|are|was|were|do|does|did|has|have|had|can|could|will|would|shall|should|may|must)\b/i;
const stripNumbering = (s: string) => s.replace(/^\s*(?:\(?[0-9]+(?:\.[0-9]+)*[.)]?|\(?[a-z][.)])\s+/i, '');
// A question-like text ends with '?' or starts with an interrogative or imperative word.
export function looksLikeQuestion(text: string): boolean {
  const t = text.trim();
  return t.endsWith('?') || INTERROGATIVE.test(stripNumbering(t));
}

// ---------------------------------------------------------------------------------------------
// Header vocabulary
// ---------------------------------------------------------------------------------------------

type HeaderKind = 'reference' | 'id' | 'choices' | 'ownership' | 'other' | 'comment' | 'text' | 'answer' | 'section' | 'question';
interface HeaderClass {
  kind: HeaderKind | null;
  rank: number;
}

// Checked in this order; the first match wins.
const HEADER_RULES: [HeaderKind, RegExp, number][] = [
  // Possible-answer lists ("Choices", "Options") feed allowedAnswers.
  ['choices', /^(choices|options|answer (options|choices)|allowed (answers|values)|possible (answers|values)|valid (answers|values))$/, 1],
  // Reference material (guidance, mappings, scoring, reviewer-only columns) is never a question or an answer column.
  [
    'reference',
    /\b(guidance|guidelines?|mappings?|specifications?|typical|applicability|relevance|addendum|gap level|lite|scores?|scoring|weights?|importance|compliant response|reason for (the )?question|follow.?up|auditing|instructions?|analysts?|reviewers?|assessors?|auditors?|internal use|office use|examples?|version)\b/,
    1,
  ],
  // ID headers: "ID", "Ref", "#", "No.", "Question ID", "Control ID", "Item No", "Code" (a bare "No" is an answer header).
  [
    'id',
    /^(id|ids|ref\.?|refs|reference|no\.|nr\.?|num|number|code|key|qid|s\.? ?no\.?|sl\.? ?no\.?)$|[\s/(](id|ref\.?|reference|no\.?|nr\.?|num|number|code)$|#$/,
    1,
  ],
  // Shared-responsibility ownership ("SSRM Control Ownership").
  ['ownership', /\b(ownership|ssrm|owner|responsible party)\b/, 1],
  // Evidence and links.
  ['other', /\b(evidence|attachments?|artifacts?|supporting documents?|links?|urls?)\b/, 1],
  // Comment columns: comments, notes, explanation, remarks, additional information.
  [
    'comment',
    /\b(comments?|notes?|explanations?|explain|remarks?|justifications?|additional (info|information|details|comments|context)|clarifications?|details)\b/,
    1,
  ],
  // Free-text answers: "CSP Implementation Description", "CSC Responsibilities".
  ['text', /(implementation description|description of (the )?implementation|responsibilit(y|ies)|\bdescribe\b|narrative|free text)/, 1],
  // Answer columns: answer, response, yes/no, compliance, status ("CSP CAIQ Answer").
  ['answer', /\b(answers?|responses?|yes|y\/n|compliance|compliant|status|applicable|selection|reply|replies)\b|^(no|n\/?a)$/, 1],
  // Section columns: section, domain, category, area, topic.
  ['section', /\b(sections?|domains?|categor(y|ies)|areas?|topics?|chapters?|famil(y|ies)|groups?|headings?|themes?)\b/, 1],
  // Question columns, strongest first: question > requirement / control question > description.
  ['question', /\bquestions?\b/, 3],
  ['question', /\b(requirements?|queries|query|criteria|criterion|statements?)\b/, 2],
  ['question', /\b(descriptions?|prompt)\b/, 1],
];

export function classifyHeader(text: string): HeaderClass {
  const h = norm(text)
    .replace(/\s*\((optional|recommended|optional\/recommended|required|mandatory)\)\s*/g, ' ')
    .trim();
  if (!h || h.length > 100) return { kind: null, rank: 0 };
  for (const [kind, re, rank] of HEADER_RULES) {
    if (kind === 'id' && /\byes\b/.test(h)) continue; // "Yes/No" is an answer header, not "No."
    if (re.test(h)) return { kind, rank };
  }
  return { kind: null, rank: 0 };
}

// Header score of one cell: question words 3, other header words 2, reference words 1, data-looking values -1.
function headerCellScore(text: string): number {
  const t = text.trim();
  if (!t) return 0;
  if (t.length > 80 || t.endsWith('?') || isIdLike(t) || /^(yes|no|n\/?a|true|false|x)$/i.test(t) || /^[\d.,%\s-]+$/.test(t)) return -1;
  const c = classifyHeader(t);
  if (c.kind === 'question') return c.rank >= 3 ? 3 : 2;
  if (c.kind === 'reference' || c.kind === 'other') return 1;
  return c.kind ? 2 : 0;
}

// ---------------------------------------------------------------------------------------------
// Grid model shared by CSV and XLSX
// ---------------------------------------------------------------------------------------------

interface GridCell {
  text: string;
  formula: boolean;
  bold: boolean;
  filled: boolean;
}
interface Rect {
  top: number;
  left: number;
  bottom: number;
  right: number;
}
interface ListValidation {
  ranges: Rect[];
  formula: string;
}
interface Grid {
  name: string;
  hidden: boolean;
  rows: Map<number, Map<number, GridCell>>;
  maxRow: number;
  maxCol: number;
  hiddenRows: Set<number>;
  merges: Rect[];
  /** Covered (non top-left) cell key -> top-left cell key of its merge. */
  mergeMaster: Map<number, number>;
  validations: ListValidation[];
}

const KEY = 20_000; // > 16,384 columns
const cellKey = (r: number, c: number) => r * KEY + c;

function emptyGrid(name: string): Grid {
  return { name, hidden: false, rows: new Map(), maxRow: 0, maxCol: 0, hiddenRows: new Set(), merges: [], mergeMaster: new Map(), validations: [] };
}

function setCell(g: Grid, r: number, c: number, cell: GridCell): void {
  let row = g.rows.get(r);
  if (!row) g.rows.set(r, (row = new Map()));
  row.set(c, cell);
  if (r > g.maxRow) g.maxRow = r;
  if (c > g.maxCol && cell.text !== '') g.maxCol = c;
}

const ownCell = (g: Grid, r: number, c: number) => g.rows.get(r)?.get(c);
const ownText = (g: Grid, r: number, c: number) => ownCell(g, r, c)?.text ?? '';

// Merged cells are read from their top-left cell.
function readText(g: Grid, r: number, c: number): string {
  const m = g.mergeMaster.get(cellKey(r, c));
  if (m === undefined) return ownText(g, r, c);
  return ownText(g, Math.floor(m / KEY), m % KEY);
}

function indexMerges(g: Grid): void {
  let budget = 2_000_000;
  for (const m of g.merges) {
    const area = (m.bottom - m.top + 1) * (m.right - m.left + 1);
    if (area > 100_000 || (budget -= area) < 0) continue;
    const master = cellKey(m.top, m.left);
    for (let r = m.top; r <= m.bottom; r++) for (let c = m.left; c <= m.right; c++) if (r !== m.top || c !== m.left) g.mergeMaster.set(cellKey(r, c), master);
  }
}

function mergeAt(g: Grid, r: number, c: number): Rect | undefined {
  const key = cellKey(r, c);
  const master = g.mergeMaster.get(key) ?? key;
  const mr = Math.floor(master / KEY);
  const mc = master % KEY;
  return g.merges.find((m) => m.top === mr && m.left === mc);
}

export function parseRange(ref: string): Rect | undefined {
  const s = ref.replace(/\$/g, '').trim().toUpperCase();
  let m = /^([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?$/.exec(s);
  if (m) {
    const top = Number(m[2]);
    const left = columnNumber(m[1]!);
    const bottom = m[4] ? Number(m[4]) : top;
    const right = m[3] ? columnNumber(m[3]) : left;
    return { top: Math.min(top, bottom), left: Math.min(left, right), bottom: Math.max(top, bottom), right: Math.max(left, right) };
  }
  m = /^([A-Z]{1,3}):([A-Z]{1,3})$/.exec(s);
  if (m) return { top: 1, left: columnNumber(m[1]!), bottom: 1_048_576, right: columnNumber(m[2]!) };
  m = /^(\d+):(\d+)$/.exec(s);
  if (m) return { top: Number(m[1]), left: 1, bottom: Number(m[2]), right: 16_384 };
  return undefined;
}

const inRect = (x: Rect, r: number, c: number) => r >= x.top && r <= x.bottom && c >= x.left && c <= x.right;

// ---------------------------------------------------------------------------------------------
// Workbook context: list validations resolved to values
// ---------------------------------------------------------------------------------------------

interface DefinedName {
  name: string;
  localSheet?: string;
  ref: string;
}
interface Book {
  grids: Map<string, Grid>;
  definedNames: DefinedName[];
  warnings: Set<string>;
  resolved: Map<string, string[] | null>;
}

function splitSheetRef(ref: string): { sheet?: string; range: string } {
  const s = ref.trim().replace(/^=/, '');
  const quoted = /^'((?:[^']|'')+)'!(.+)$/.exec(s);
  if (quoted) return { sheet: quoted[1]!.replace(/''/g, "'"), range: quoted[2]! };
  const plain = /^([^!'"]+)!(.+)$/.exec(s);
  if (plain) return { sheet: plain[1]!, range: plain[2]! };
  return { range: s };
}

function rangeValues(g: Grid, rect: Rect): string[] {
  const out: string[] = [];
  const bottom = Math.min(rect.bottom, g.maxRow);
  const right = Math.min(rect.right, Math.max(g.maxCol, rect.left));
  for (let r = rect.top; r <= bottom && out.length < 1000; r++) {
    for (let c = rect.left; c <= right; c++) {
      const t = squash(readText(g, r, c));
      if (t && !out.includes(t)) out.push(t);
    }
  }
  return out;
}

// Dropdown values: inline lists ("Yes,No,NA"), ranges on any sheet ('Lists'!$A$1:$A$3) and defined names.
function resolveList(book: Book | undefined, g: Grid, formula: string, depth = 0): string[] | undefined {
  const f = formula.trim().replace(/^=/, '');
  const cacheKey = `${g.name}\u0000${f}`;
  const cached = book?.resolved.get(cacheKey);
  if (cached !== undefined) return cached ?? undefined;
  let out: string[] | undefined;
  if (f.startsWith('"')) {
    out = f.replace(/^"|"$/g, '').replace(/""/g, '"').split(',').map(squash).filter(Boolean);
  } else {
    const { sheet, range } = splitSheetRef(f);
    const rect = parseRange(range);
    if (rect) {
      const target =
        sheet === undefined ? g : (book?.grids.get(sheet) ?? [...(book?.grids.values() ?? [])].find((x) => x.name.toLowerCase() === sheet.toLowerCase()));
      if (target) out = rangeValues(target, rect);
    } else if (book && depth < 3 && /^[A-Za-z_\\][\w.\\]*$/.test(f)) {
      const candidates = book.definedNames.filter((d) => d.name.toLowerCase() === f.toLowerCase());
      const dn = candidates.find((d) => d.localSheet === g.name) ?? candidates.find((d) => d.localSheet === undefined) ?? candidates[0];
      if (dn) out = resolveList(book, g, dn.ref, depth + 1);
    }
  }
  if (out === undefined)
    book?.warnings.add(
      `A dropdown list on sheet "${g.name}" uses "${f.slice(0, 80)}", which cannot be resolved to values; its allowed answers are left empty.`,
    );
  book?.resolved.set(cacheKey, out ?? null);
  return out;
}

function listAt(book: Book | undefined, g: Grid, r: number, c: number): string[] | undefined {
  for (const v of g.validations) {
    if (v.ranges.some((x) => inRect(x, r, c))) {
      const values = resolveList(book, g, v.formula);
      return values && values.length ? values : undefined;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Layout detection for one sheet
// ---------------------------------------------------------------------------------------------

interface Candidate {
  col: number;
  header: string;
  kind: HeaderKind | 'dv' | 'mapped';
  role?: AnswerRole;
}

interface SheetResult {
  grid: Grid;
  layout: SheetLayout;
  questions: ParsedQuestion[];
  /** Answer cells in real (not proposed) columns that are input cells, not formulas. */
  realAnswerCells: number;
  notes: string[];
}

const NO_QUESTION_HINT =
  'looked for a header (in the first 30 rows) containing "question", "control question", "requirement" or "description", ' +
  'and, failing that, for a column whose cells mostly end with "?" or start with a question or instruction word (what, how, is, are, do, does, describe, explain, list, provide...)';

function detectSheet(
  g: Grid,
  book: Book | undefined,
  mapping: MappingOverride | undefined,
  sheetLabel: string | undefined,
  limits: ParseLimits = EDITOR_LIMITS,
): SheetResult | { failure: string } {
  const notes: string[] = [];
  const visible = (r: number) => !g.hiddenRows.has(r);
  const rowCells = (r: number) => [...(g.rows.get(r)?.entries() ?? [])].filter(([, x]) => x.text !== '');

  // Header row: the best-scoring row of header words within the first 30 rows (ties: the earliest); none below a score of 3.
  let headerRow = 0;
  if (mapping?.headerRow !== undefined) headerRow = mapping.headerRow;
  else {
    let best = 2;
    for (let r = 1; r <= Math.min(QUESTIONNAIRE_LIMITS.headerScanRows, g.maxRow); r++) {
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
    notes.push(`No header row found on "${g.name}" in the first ${QUESTIONNAIRE_LIMITS.headerScanRows} rows; columns were detected from their contents.`);
  return { grid: g, layout, questions, realAnswerCells, notes };
}

// Number of answer cells of a question that are real input cells (not in a proposed column).
const realCellsOf = new WeakMap<AnswerCell[], number>();

const tooLongSection = (limits: ParseLimits): never => {
  throw limitError(`A section name has more than ${limits.maxSectionChars} characters (limit: section length).`);
};

const tooManyQuestions = (n: number, max: number) =>
  limitError(`The questionnaire has more than ${max} questions (${n} found so far; limit: questions); split it into smaller files.`);

function normaliseMapping(m: MappingOverride): MappingOverride {
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

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

// Delimiter: the most frequent of , ; TAB | on the first line (outside quotes).
function sniffDelimiter(text: string): string {
  const counts = new Map<string, number>([
    [',', 0],
    [';', 0],
    ['\t', 0],
    ['|', 0],
  ]);
  let quoted = false;
  for (let i = 0; i < text.length && i < 100_000; i++) {
    const ch = text[i]!;
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const [d, n] of counts) if (n > counts.get(best)!) best = d;
  return best;
}

function parseCsvText(text: string, fileName: string | undefined, mapping: MappingOverride | undefined, limits: ParseLimits): ParsedQuestionnaire {
  let records: string[][];
  try {
    records = readCsvRecords(text, sniffDelimiter(text), limits, { bom: true });
  } catch (err) {
    if (err instanceof QuestionnaireParseError) throw err;
    throw new QuestionnaireParseError('corrupt', `The CSV file cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const name = fileName ? path.basename(fileName, path.extname(fileName)) : 'CSV';
  const g = emptyGrid(name);
  records.forEach((rec, i) => rec.forEach((v, j) => v !== '' && setCell(g, i + 1, j + 1, { text: v, formula: false, bold: false, filled: false })));
  const res = detectSheet(g, undefined, mapping, undefined, limits);
  if ('failure' in res)
    throw new QuestionnaireParseError('no_questions', `No questions found in the CSV file: ${res.failure}. Use a mapping to name the question column.`);
  if (!res.questions.length)
    throw new QuestionnaireParseError('no_questions', `The CSV file has a question column (${res.layout.questionColumn}) but no question rows.`);
  return { format: 'csv', sheets: [res.layout], questions: res.questions, warnings: res.notes };
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

const pick = (o: Record<string, unknown>, keys: string[]): string | undefined => {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v.trim()) return squash(v);
    if (typeof v === 'number') return String(v);
  }
  return undefined;
};

// JSON: {name?, questions:[{ref?, text, section?}]} (also a bare array, and common key spellings), or a Google VSAQ template.
function parseJson(text: string, limits: ParseLimits, withValues = false): ParsedQuestionnaire {
  let data: unknown;
  try {
    data = parseJsonWithExtensions(text, limits.maxJsonDepth);
  } catch (err) {
    if (err instanceof QuestionnaireParseError) throw err;
    throw new QuestionnaireParseError('corrupt', `The JSON file cannot be parsed: ${(err as Error).message}`, { cause: err });
  }
  if (isVsaqTemplate(data)) {
    const { name, questions } = vsaqQuestions(data, limits);
    if (!questions.length)
      throw new QuestionnaireParseError('no_questions', 'The VSAQ template has no answerable items (yesno, radiogroup, checkgroup, line, box).');
    const out: ParsedQuestionnaire = { format: 'vsaq', sheets: [], questions, warnings: [] };
    if (name) out.name = name;
    return out;
  }
  const obj = data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  const list = Array.isArray(data) ? data : Array.isArray(obj?.questions) ? (obj!.questions as unknown[]) : undefined;
  if (!list) {
    throw new QuestionnaireParseError(
      'no_questions',
      'The JSON file is neither {"questions": [{"ref", "text", "section"}]} nor a Google VSAQ template ({"questionnaire": [...]}).',
    );
  }
  if (list.length > limits.maxQuestions) throw tooManyQuestions(list.length, limits.maxQuestions);
  const questions: ParsedQuestion[] = [];
  let skipped = 0;
  for (const item of list) {
    if (typeof item === 'string') {
      if (item.trim()) questions.push({ text: squash(item), answerCells: [] });
      else skipped++;
      continue;
    }
    if (!item || typeof item !== 'object') {
      skipped++;
      continue;
    }
    const o = item as Record<string, unknown>;
    const qText = pick(o, ['text', 'question', 'questionText', 'question_text', 'prompt', 'title']);
    if (qText && qText.length > limits.maxCellChars)
      throw limitError(`A question has more than ${limits.maxCellChars.toLocaleString('en')} characters (limit: characters per question).`);
    if (!qText) {
      skipped++;
      continue;
    }
    const q: ParsedQuestion = { text: qText, answerCells: [] };
    const ref = pick(o, ['ref', 'id', 'question_id', 'questionId', 'qid', 'number', 'code']);
    if (ref) q.ref = ref;
    const section =
      pick(o, ['section', 'domain', 'category', 'group']) ??
      pick(
        o,
        Object.keys(o).filter((k) => /section|domain|category/i.test(k)),
      );
    if (section) q.section = section.length > limits.maxSectionChars ? tooLongSection(limits) : section;
    for (const k of ['allowedAnswers', 'allowed', 'choices', 'options']) {
      const v = o[k];
      if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string')) {
        q.allowedAnswers = (v as string[]).map(squash);
        break;
      }
    }
    if (withValues) q.answerCells = jsonAnswerValues(o);
    questions.push(q);
  }
  if (!questions.length) throw new QuestionnaireParseError('no_questions', 'The JSON questions list has no item with question text ("text" or "question").');
  const out: ParsedQuestionnaire = {
    format: 'json',
    sheets: [],
    questions,
    warnings: skipped ? [`${skipped} JSON item(s) without question text were skipped.`] : [],
  };
  const name = obj ? pick(obj, ['name', 'title', 'specification_name']) : undefined;
  if (name) out.name = name;
  return out;
}

// An item's past answer, as answer cells named after their keys: `answer` as a string, or as this
// API's own export writes it ({choice, text}), and a comment. Only read for `withValues`.
function jsonAnswerValues(o: Record<string, unknown>): AnswerCell[] {
  const cells: AnswerCell[] = [];
  const add = (cell: string, role: AnswerRole, v: unknown) => {
    const text = typeof v === 'string' ? v.trim() : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
    if (text) cells.push({ cell, role, header: cell, value: text });
  };
  const answer = o.answer;
  if (answer && typeof answer === 'object' && !Array.isArray(answer)) {
    add('answer.choice', 'choice', (answer as Record<string, unknown>).choice);
    add('answer.text', 'text', (answer as Record<string, unknown>).text);
  } else add('answer', 'text', answer ?? o.response);
  add('choice', 'choice', o.choice);
  add('comment', 'comment', o.comment ?? o.comments ?? o.notes);
  return cells;
}

// ---------------------------------------------------------------------------------------------
// XLSX
// ---------------------------------------------------------------------------------------------

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const xmlDecode = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return XML_ENTITIES[e.toLowerCase()] ?? m;
  });

function xmlAttrs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out[m[1]!] = xmlDecode(m[2] ?? m[3] ?? '');
  return out;
}

const attrByLocalName = (a: Record<string, string>, local: string) => {
  for (const [k, v] of Object.entries(a)) if (k === local || k.endsWith(`:${local}`)) return v;
  return undefined;
};

// List validations from the sheet XML: the standard <dataValidation> and the x14 extension (<x14:dataValidation> with <xm:f>/<xm:sqref>).
export function extractListValidations(xml: string): ListValidation[] {
  const out: ListValidation[] = [];
  const re = /<((?:[\w-]+:)?)dataValidation\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1dataValidation>)/g;
  for (const m of xml.matchAll(re)) {
    const attrs = xmlAttrs(m[2] ?? '');
    if (attrs.type !== 'list') continue;
    const inner = m[3] ?? '';
    const f1 = /<(?:[\w-]+:)?formula1\b[^>]*>([\s\S]*?)<\/(?:[\w-]+:)?formula1>/.exec(inner);
    if (!f1) continue;
    const formula = xmlDecode(f1[1]!.replace(/<[^>]+>/g, '')).trim();
    const sqref = attrs.sqref ?? xmlDecode(/<(?:[\w-]+:)?sqref\b[^>]*>([\s\S]*?)<\/(?:[\w-]+:)?sqref>/.exec(inner)?.[1] ?? '');
    const ranges = sqref
      .split(/\s+/)
      .map(parseRange)
      .filter((x): x is Rect => !!x);
    if (formula && ranges.length) out.push({ ranges, formula });
  }
  return out;
}

function resolvePartPath(target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  return path.posix.normalize(path.posix.join('xl', target));
}

interface SheetInfo {
  name: string;
  state: string;
  path?: string;
}

async function loadWorkbook(bytes: Buffer, limits: ParseLimits): Promise<{ book: Book; sheets: SheetInfo[] }> {
  const entries = readZipDirectory(bytes, limits.maxZipEntries);
  checkZipLimits(entries, bytes.length, limits);
  const names = new Set(entries.map((e) => e.name));
  if (!names.has('xl/workbook.xml')) {
    if (names.has('xl/workbook.bin'))
      throw new QuestionnaireParseError(
        'not_a_spreadsheet',
        'This is an Excel binary workbook (.xlsb), which is not supported. Save it as .xlsx (Excel Workbook) and upload that.',
      );
    if (names.has('content.xml') && names.has('mimetype'))
      throw new QuestionnaireParseError('not_a_spreadsheet', 'This is an OpenDocument file (.ods). Save it as .xlsx or .csv and upload that.');
    if (names.has('word/document.xml'))
      throw new QuestionnaireParseError('not_a_spreadsheet', 'This is a Word document, not a spreadsheet. Upload the questionnaire as .xlsx, .csv or .json.');
    if (names.has('ppt/presentation.xml'))
      throw new QuestionnaireParseError('not_a_spreadsheet', 'This is a PowerPoint file, not a spreadsheet. Upload the questionnaire as .xlsx, .csv or .json.');
    throw new QuestionnaireParseError(
      'not_a_spreadsheet',
      'This ZIP archive is not an Excel workbook (no xl/workbook.xml). Upload the questionnaire as .xlsx, .csv or .json.',
    );
  }
  const { files } = openPackage(bytes, limits);
  const str = (name: string) => files.get(name)?.toString('utf8') ?? '';

  // Sheets (name, state, part) from workbook.xml and its relationships; defined names for dropdown lists.
  const wbXml = str('xl/workbook.xml');
  const rels = new Map<string, string>();
  for (const m of str('xl/_rels/workbook.xml.rels').matchAll(/<(?:[\w-]+:)?Relationship\b([^>]*?)\/?>/g)) {
    const a = xmlAttrs(m[1] ?? '');
    if (a.Id && a.Target) rels.set(a.Id, resolvePartPath(a.Target));
  }
  const sheets: SheetInfo[] = [];
  for (const m of wbXml.matchAll(/<(?:[\w-]+:)?sheet\b([^>]*?)\/?>/g)) {
    const a = xmlAttrs(m[1] ?? '');
    if (a.name === undefined) continue;
    const rid = attrByLocalName(a, 'id');
    const info: SheetInfo = { name: a.name, state: a.state ?? 'visible' };
    const p = rid ? rels.get(rid) : undefined;
    if (p) info.path = p;
    sheets.push(info);
  }
  const definedNames: DefinedName[] = [];
  for (const m of wbXml.matchAll(/<(?:[\w-]+:)?definedName\b([^>]*)>([\s\S]*?)<\/(?:[\w-]+:)?definedName>/g)) {
    const a = xmlAttrs(m[1] ?? '');
    if (!a.name) continue;
    const dn: DefinedName = { name: a.name, ref: xmlDecode(m[2] ?? '').trim() };
    const local = a.localSheetId !== undefined ? sheets[Number(a.localSheetId)]?.name : undefined;
    if (local) dn.localSheet = local;
    definedNames.push(dn);
  }

  // Validations and merges come from the XML; the standard validation block is removed before exceljs sees it.
  const validations = new Map<string, ListValidation[]>();
  const merges = new Map<string, Rect[]>();
  const zip = new JSZip();
  const sheetPaths = new Set(sheets.map((s) => s.path).filter(Boolean));
  // Cells, rows and text lengths are counted in the XML bytes before exceljs builds a single cell.
  const tally: CellTally = { cells: 0 };
  for (const [name, data] of files) {
    if (sheetPaths.has(name)) scanSheetXml(data, sheets.find((x) => x.path === name)?.name ?? name, limits, tally);
    else if (/^xl\/sharedStrings\.xml$/i.test(name)) checkTextRuns(data, limits, 'the shared strings');
  }
  for (const [name, data] of files) {
    if (sheetPaths.has(name)) {
      let xml = data.toString('utf8');
      validations.set(name, extractListValidations(xml));
      merges.set(
        name,
        [...xml.matchAll(/<(?:[\w-]+:)?mergeCell\b[^>]*?\bref="([^"]+)"/g)].map((m) => parseRange(m[1]!)).filter((x): x is Rect => !!x),
      );
      xml = xml.replace(/<dataValidations\b[^>]*?(?:\/>|>[\s\S]*?<\/dataValidations>)/g, '');
      zip.file(name, xml);
    } else zip.file(name, data);
  }
  files.clear();
  const repacked = await zip.generateAsync({ type: 'nodebuffer', compression: 'STORE' });
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(repacked as unknown as ExcelJS.Buffer);
  } catch (err) {
    throw new QuestionnaireParseError('corrupt', `The workbook cannot be read: ${(err as Error).message}. Re-save it from Excel and upload it again.`, {
      cause: err,
    });
  }

  const book: Book = { grids: new Map(), definedNames, warnings: new Set(), resolved: new Map() };
  wb.worksheets.forEach((ws, i) => {
    const info = sheets.find((s) => s.name === ws.name) ?? sheets[i];
    const g = gridFromWorksheet(ws, limits);
    g.hidden = (info?.state ?? ws.state) !== 'visible';
    if (info?.path) {
      g.validations = validations.get(info.path) ?? [];
      g.merges = merges.get(info.path) ?? [];
      indexMerges(g);
    }
    book.grids.set(ws.name, g);
  });
  return { book, sheets };
}

function textOf(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    const o = v as { richText?: { text?: string }[]; text?: unknown; result?: unknown; error?: unknown; formula?: unknown; sharedFormula?: unknown };
    if (Array.isArray(o.richText)) return o.richText.map((t) => t.text ?? '').join('');
    if ('formula' in o || 'sharedFormula' in o) return textOf(o.result);
    if ('error' in o) return '';
    if ('text' in o) return textOf(o.text);
  }
  return '';
}

function gridFromWorksheet(ws: ExcelJS.Worksheet, limits: ParseLimits): Grid {
  const g = emptyGrid(ws.name);
  ws.eachRow((row, r) => {
    if (row.hidden) g.hiddenRows.add(r);
    if (r > limits.maxRows)
      throw limitError(`The sheet "${ws.name}" uses row ${r}; at most ${limits.maxRows.toLocaleString('en')} rows are read (limit: rows).`);
    row.eachCell((cell, c) => {
      if (cell.type === ExcelJS.ValueType.Merge) return;
      if (c > limits.maxColumns)
        throw limitError(`The sheet "${ws.name}" uses column ${columnLetter(c)}; at most ${limits.maxColumns} columns are read (limit: columns).`);
      const text = textOf(cell.value);
      if (text.length > limits.maxCellChars)
        throw limitError(
          `The cell ${address(r, c)} on "${ws.name}" holds ${text.length.toLocaleString('en')} characters; at most ${limits.maxCellChars.toLocaleString('en')} are accepted (limit: characters per cell).`,
        );
      const fill = cell.fill as { type?: string; pattern?: string } | undefined;
      setCell(g, r, c, {
        text,
        formula: cell.type === ExcelJS.ValueType.Formula,
        bold: !!cell.font?.bold,
        filled: !!fill && (fill.type === 'gradient' || (fill.type === 'pattern' && !!fill.pattern && fill.pattern !== 'none')),
      });
    });
  });
  return g;
}

async function parseXlsx(bytes: Buffer, mapping: MappingOverride | undefined, limits: ParseLimits): Promise<ParsedQuestionnaire> {
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
