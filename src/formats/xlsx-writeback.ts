/**
 * Write questionnaire answers back into the buyer's ORIGINAL .xlsx.
 *
 * Reading a workbook with exceljs and writing it out again loses data validations (dropdowns,
 * notably the x14 cross-sheet lists in <extLst>), protected ranges, feature property bags and more.
 * So this module never re-serialises a workbook: it opens the zip package, edits only the <c>
 * elements of the answer cells inside each target sheet's XML, at string level, and writes the
 * package back with every other entry's compressed bytes reused as they were.
 *
 * What may change, and nothing else:
 * - the edited worksheet parts: only the edited <c> elements, rows created for them inside
 *   <sheetData>, and <dimension ref> when a new cell lies outside it;
 * - when an edited cell held a formula: xl/calcChain.xml is removed, along with its Override in
 *   [Content_Types].xml and its Relationship in the workbook's .rels (Excel rebuilds the chain);
 * - workbook.xml gets fullCalcOnLoad="1" on <calcPr> only when the caller asks for it.
 *
 * Strings are written as inline strings (t="inlineStr"), so sharedStrings.xml is never touched.
 */
import path from 'node:path';
import JSZip from 'jszip';
import { columnLetter, columnNumber } from './cells.js';
import { neutralize } from '../lib/tabular.js';

export type CellValue = string | number | boolean | null;

export interface CellEdit {
  /** Worksheet name as shown on its tab (exact match first, then case-insensitive as Excel does). */
  sheet: string;
  /** A1 reference such as 'D12' ('$D$12' and lower case are accepted). */
  cell: string;
  /** null clears the value and keeps the cell's style. */
  value: CellValue;
}

export interface WritebackOptions {
  /**
   * Set fullCalcOnLoad="1" on workbook.xml's <calcPr> so Excel recalculates every formula when the
   * file is opened. Formulas that read the answer cells otherwise keep their stale cached results
   * until the user recalculates. Off by default because it changes workbook.xml.
   */
  fullCalcOnLoad?: boolean;
  /** Largest uncompressed part this module will read, in bytes. Default 256 MiB. */
  maxPartBytes?: number;
}

export type WritebackErrorCode =
  | 'not_xlsx' // not a zip, or a zip without a workbook
  | 'malformed' // a part could not be understood
  | 'unknown_sheet'
  | 'not_worksheet' // chartsheet, dialog sheet, ...
  | 'bad_cell'
  | 'bad_value'
  | 'unsupported'; // an edit that cannot be made safely (merged cell, shared/array formula, oversized part ...)

/** Every failure of writeAnswers; `code` says which kind. The input buffer is never modified. */
export class WritebackError extends Error {
  constructor(
    readonly code: WritebackErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WritebackError';
  }
}

/** Excel's limits. */
const MAX_ROW = 1_048_576;
const MAX_COL = 16_384;
const MAX_CELL_CHARS = 32_767;
const DEFAULT_MAX_PART_BYTES = 256 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Public entry point

export async function writeAnswers(original: Buffer, edits: readonly CellEdit[], options: WritebackOptions = {}): Promise<Buffer> {
  if (!(original instanceof Uint8Array)) throw new WritebackError('not_xlsx', 'original must be a Buffer holding an .xlsx file');
  if (!Array.isArray(edits)) throw new WritebackError('bad_value', 'edits must be an array');
  const maxPartBytes = options.maxPartBytes ?? DEFAULT_MAX_PART_BYTES;

  // Validate every edit before touching the package, so a bad edit fails fast and clearly.
  const bySheet = new Map<string, Map<string, NormalizedEdit>>();
  edits.forEach((edit, i) => {
    const e = normalizeEdit(edit, i);
    let cells = bySheet.get(e.sheet);
    if (!cells) bySheet.set(e.sheet, (cells = new Map()));
    cells.delete(e.ref); // the last edit of a cell wins, in its own position
    cells.set(e.ref, e);
  });

  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(original, { checkCRC32: false, createFolders: false });
  } catch (err) {
    throw new WritebackError('not_xlsx', `not a readable .xlsx (zip) file: ${(err as Error).message}`, { cause: err });
  }
  const pkg = new Package(zip, maxPartBytes);

  const workbookPath = await pkg.workbookPath();
  const workbookXml = await pkg.readText(workbookPath);
  const workbookRelsPath = pkg.find(relsPathFor(workbookPath));
  if (!workbookRelsPath) throw new WritebackError('malformed', `the package has no ${relsPathFor(workbookPath)}: cannot find the sheets`);
  const workbookRels = parseRelationships(await pkg.readText(workbookRelsPath), workbookPath);
  const sheets = parseSheets(workbookXml);

  let formulaRemoved = false;
  for (const [sheetName, cells] of bySheet) {
    const sheet = findSheet(sheets, sheetName);
    const rel = workbookRels.find((r) => r.id === sheet.rid);
    if (!rel) throw new WritebackError('malformed', `sheet "${sheet.name}" points at relationship ${sheet.rid}, which ${workbookRelsPath} does not define`);
    if (!/\/worksheet$/.test(rel.type)) {
      throw new WritebackError('not_worksheet', `sheet "${sheet.name}" is not a worksheet (${rel.type.split('/').pop()}); only worksheet cells can be written`);
    }
    const partPath = pkg.resolve(rel.target);
    const xml = await pkg.readText(partPath);
    const result = editSheetXml(xml, [...cells.values()], sheet.name);
    formulaRemoved ||= result.formulaRemoved;
    pkg.write(partPath, result.xml);
  }

  if (formulaRemoved) {
    const calc = workbookRels.find((r) => /\/calcChain$/.test(r.type));
    if (calc) {
      const calcPath = pkg.resolve(calc.target);
      pkg.remove(calcPath);
      pkg.write(
        workbookRelsPath,
        removeElements(await pkg.readText(workbookRelsPath), 'Relationship', (a) => a.get('Id') === calc.id),
      );
      const ctPath = pkg.find('[Content_Types].xml');
      if (ctPath) {
        const partName = `/${calcPath}`.toLowerCase();
        pkg.write(
          ctPath,
          removeElements(await pkg.readText(ctPath), 'Override', (a) => (a.get('PartName') ?? '').toLowerCase() === partName),
        );
      }
    }
  }

  if (options.fullCalcOnLoad) pkg.write(workbookPath, setFullCalcOnLoad(workbookXml));

  return pkg.generate();
}

// ---------------------------------------------------------------------------------------------
// Edits

interface NormalizedEdit {
  sheet: string;
  ref: string;
  row: number;
  col: number;
  value: CellValue;
}

const CELL_REF = /^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$/;

export function parseCellRef(ref: string): { row: number; col: number } | null {
  const m = CELL_REF.exec(ref.trim());
  if (!m) return null;
  const col = columnNumber(m[1]!.toUpperCase());
  const row = Number(m[2]);
  if (row < 1 || row > MAX_ROW || col < 1 || col > MAX_COL) return null;
  return { row, col };
}

function normalizeEdit(edit: CellEdit, i: number): NormalizedEdit {
  if (!edit || typeof edit !== 'object') throw new WritebackError('bad_value', `edit ${i} is not an object`);
  if (typeof edit.sheet !== 'string' || edit.sheet === '') throw new WritebackError('unknown_sheet', `edit ${i} has no sheet name`);
  const at = typeof edit.cell === 'string' ? parseCellRef(edit.cell) : null;
  if (!at) throw new WritebackError('bad_cell', `edit ${i}: "${String(edit.cell)}" is not a cell reference such as D12 (columns A-XFD, rows 1-${MAX_ROW})`);
  const v = edit.value;
  if (typeof v === 'number' && !Number.isFinite(v))
    throw new WritebackError('bad_value', `edit ${i} (${edit.sheet}!${edit.cell}): ${v} cannot be stored in a cell`);
  if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
    throw new WritebackError('bad_value', `edit ${i} (${edit.sheet}!${edit.cell}): value must be a string, number, boolean or null`);
  }
  let value: CellValue = v;
  if (typeof value === 'string') {
    value = neutralizeFormula(value);
    if (value.length > MAX_CELL_CHARS)
      throw new WritebackError('bad_value', `edit ${i} (${edit.sheet}!${edit.cell}): text longer than Excel's ${MAX_CELL_CHARS} characters per cell`);
  }
  return { sheet: edit.sheet, ref: columnLetter(at.col) + at.row, row: at.row, col: at.col, value };
}

/** Text that a spreadsheet (or a CSV export of it) could take for a formula gets a quote, on every line. */
export function neutralizeFormula(text: string): string {
  return neutralize(text);
}

// ---------------------------------------------------------------------------------------------
// The zip package

class Package {
  private readonly names: string[];
  constructor(
    private readonly zip: JSZip,
    private readonly maxPartBytes: number,
  ) {
    this.names = Object.keys(zip.files).filter((n) => !zip.files[n]!.dir);
  }

  /** Part names are case-insensitive in OPC; zip entry names are not. */
  find(name: string): string | undefined {
    if (this.zip.files[name] && !this.zip.files[name].dir) return name;
    const lower = name.toLowerCase();
    return this.names.find((n) => n.toLowerCase() === lower);
  }

  /** A relationship target (already made absolute by parseRelationships) -> an existing entry name. */
  resolve(target: string): string {
    const found = this.find(target) ?? this.find(safeDecodeUri(target));
    if (!found) throw new WritebackError('malformed', `the package has no part ${target}`);
    return found;
  }

  async workbookPath(): Promise<string> {
    const rootRels = this.find('_rels/.rels');
    if (rootRels) {
      const office = parseRelationships(await this.readText(rootRels), '').find((r) => /\/officeDocument$/.test(r.type));
      if (office) {
        const found = this.find(office.target) ?? this.find(safeDecodeUri(office.target));
        if (found) {
          if (!/\.xml$/i.test(found))
            throw new WritebackError('not_xlsx', `the workbook part ${found} is not XML (an .xlsb file?); only .xlsx/.xlsm can be written`);
          return found;
        }
      }
    }
    const fallback = this.find('xl/workbook.xml');
    if (!fallback) throw new WritebackError('not_xlsx', 'the zip file holds no workbook (xl/workbook.xml): not an .xlsx file');
    return fallback;
  }

  async readText(name: string): Promise<string> {
    const entry = this.zip.files[name];
    if (!entry) throw new WritebackError('malformed', `the package has no part ${name}`);
    const declared = (entry as unknown as { _data?: { uncompressedSize?: number } })._data?.uncompressedSize;
    if (typeof declared === 'number' && declared > this.maxPartBytes) {
      throw new WritebackError('unsupported', `part ${name} is ${declared} bytes uncompressed, over the ${this.maxPartBytes}-byte limit`);
    }
    const bytes = await entry.async('uint8array');
    if (bytes.length > this.maxPartBytes) throw new WritebackError('unsupported', `part ${name} is over the ${this.maxPartBytes}-byte limit`);
    if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
      throw new WritebackError('unsupported', `part ${name} is UTF-16 encoded; only UTF-8 parts are supported`);
    }
    try {
      // ignoreBOM keeps a UTF-8 byte order mark in the string, so it is written back as it was.
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch (err) {
      throw new WritebackError('malformed', `part ${name} is not valid UTF-8`, { cause: err });
    }
  }

  /** Replace one entry's content, keeping its place in the zip, its date, permissions and compression. */
  write(name: string, text: string): void {
    const old = this.zip.files[name];
    const opts: JSZip.JSZipFileOptions = { binary: true, createFolders: false, compression: entryCompression(old) ?? 'DEFLATE' };
    if (old) {
      opts.date = old.date;
      if (old.comment) opts.comment = old.comment;
      if (old.unixPermissions != null) opts.unixPermissions = old.unixPermissions;
      if (old.dosPermissions != null) opts.dosPermissions = old.dosPermissions;
    }
    this.zip.file(name, Buffer.from(text, 'utf8'), opts);
  }

  remove(name: string): void {
    this.zip.remove(name);
  }

  async generate(): Promise<Buffer> {
    // Untouched entries keep their own compression method, so jszip copies their compressed bytes
    // as they are instead of recompressing them.
    for (const entry of Object.values(this.zip.files)) {
      const method = entryCompression(entry);
      if (method && !entry.options.compression) entry.options.compression = method;
    }
    return this.zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 6 } });
  }
}

/** The compression method an entry was loaded with (jszip keeps it on a private field). */
function entryCompression(entry: JSZip.JSZipObject | undefined): 'STORE' | 'DEFLATE' | undefined {
  const magic = (entry as unknown as { _data?: { compression?: { magic?: string } } } | undefined)?._data?.compression?.magic;
  if (magic === '\x00\x00') return 'STORE';
  if (magic === '\x08\x00') return 'DEFLATE';
  return undefined;
}

function safeDecodeUri(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function relsPathFor(partPath: string): string {
  const dir = path.posix.dirname(partPath);
  return `${dir === '.' ? '' : `${dir}/`}_rels/${path.posix.basename(partPath)}.rels`;
}

// ---------------------------------------------------------------------------------------------
// Small XML helpers (string level; the parts are produced by spreadsheet programs)

/** Attribute list of a start tag: quoted values may hold '>' and the other quote. */
const ATTRS = String.raw`(?:[^>"']|"[^"]*"|'[^']*')*?`;

function parseAttrs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/([^\s=/<>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) out.set(m[1]!, decodeEntities(m[2] ?? m[3] ?? ''));
  return out;
}

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e]!;
  });
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Cell text for <t>: XML-escaped; CR as a character reference (a bare CR would be read back as LF);
 * characters XML 1.0 cannot carry, and text that Excel would read as its own _xHHHH_ escape,
 * written the way Excel writes them.
 */
export function escapeCellText(s: string): string {
  return s
    .replace(/_x([0-9A-Fa-f]{4})_/g, '_x005F_x$1_')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\r/g, '&#13;')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, (c) => `_x${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`);
}

/** Remove every element <name .../> (or <name ...>...</name>) whose attributes match. */
function removeElements(xml: string, name: string, match: (attrs: Map<string, string>) => boolean): string {
  const re = new RegExp(String.raw`<((?:[\w.-]+:)?)${name}\b(${ATTRS})(/?)>`, 'g');
  let out = '';
  let last = 0;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    if (!match(parseAttrs(m[2]!))) continue;
    let end = m.index + m[0].length;
    if (!m[3]) {
      const close = xml.indexOf(`</${m[1]}${name}>`, end);
      if (close < 0) throw new WritebackError('malformed', `unclosed <${name}> element`);
      end = close + `</${m[1]}${name}>`.length;
    }
    out += xml.slice(last, m.index);
    last = end;
    re.lastIndex = end;
  }
  return out + xml.slice(last);
}

interface Relationship {
  id: string;
  type: string;
  /** Entry name inside the zip (no leading slash), resolved against the source part. */
  target: string;
}

function parseRelationships(xml: string, sourcePart: string): Relationship[] {
  const rels: Relationship[] = [];
  const baseDir = path.posix.dirname(sourcePart || '/x');
  for (const m of xml.matchAll(new RegExp(String.raw`<(?:[\w.-]+:)?Relationship\b(${ATTRS})/?>`, 'g'))) {
    const a = parseAttrs(m[1]!);
    const id = a.get('Id');
    const type = a.get('Type');
    const target = a.get('Target');
    if (!id || !type || target === undefined || a.get('TargetMode') === 'External') continue;
    const abs = target.startsWith('/') ? path.posix.normalize(target) : path.posix.normalize(path.posix.join('/', baseDir, target));
    rels.push({ id, type, target: abs.replace(/^\/+/, '') });
  }
  return rels;
}

interface SheetEntry {
  name: string;
  rid: string;
}

function parseSheets(workbookXml: string): SheetEntry[] {
  const sheets: SheetEntry[] = [];
  for (const m of workbookXml.matchAll(new RegExp(String.raw`<(?:[\w.-]+:)?sheet\b(${ATTRS})/?>`, 'g'))) {
    const a = parseAttrs(m[1]!);
    const name = a.get('name');
    // r:id, whatever prefix the relationships namespace was given
    const rid = [...a].find(([k]) => /^[\w.-]+:id$/.test(k))?.[1];
    if (name !== undefined && rid) sheets.push({ name, rid });
  }
  if (sheets.length === 0) throw new WritebackError('malformed', 'the workbook lists no sheets');
  return sheets;
}

function findSheet(sheets: SheetEntry[], name: string): SheetEntry {
  const exact = sheets.find((s) => s.name === name);
  if (exact) return exact;
  const folded = sheets.filter((s) => s.name.toLowerCase() === name.toLowerCase());
  if (folded.length === 1) return folded[0]!;
  throw new WritebackError('unknown_sheet', `the workbook has no sheet named "${name}" (sheets: ${sheets.map((s) => `"${s.name}"`).join(', ')})`);
}

function setFullCalcOnLoad(workbookXml: string): string {
  const m = new RegExp(String.raw`<((?:[\w.-]+:)?)calcPr\b(${ATTRS})(/?)>`).exec(workbookXml);
  if (m) {
    if (/\sfullCalcOnLoad\s*=\s*["'](1|true)["']/.test(m[2]!)) return workbookXml;
    const attrs = m[2]!.replace(/\sfullCalcOnLoad\s*=\s*("[^"]*"|'[^']*')/, '');
    const tag = `<${m[1]}calcPr${attrs.replace(/\s+$/, '')} fullCalcOnLoad="1"${m[3]}>`;
    return workbookXml.slice(0, m.index) + tag + workbookXml.slice(m.index + m[0].length);
  }
  // No <calcPr>: it goes after the last of the elements that precede it in CT_Workbook.
  const prefix = /<((?:[\w.-]+:)?)workbook\b/.exec(workbookXml)?.[1] ?? '';
  for (const before of ['definedNames', 'externalReferences', 'functionGroups', 'sheets']) {
    const close = workbookXml.lastIndexOf(`</${prefix}${before}>`);
    if (close >= 0) {
      const at = close + `</${prefix}${before}>`.length;
      return `${workbookXml.slice(0, at)}<${prefix}calcPr fullCalcOnLoad="1"/>${workbookXml.slice(at)}`;
    }
  }
  throw new WritebackError('malformed', 'workbook.xml has no <sheets> element');
}

// ---------------------------------------------------------------------------------------------
// Worksheet editing

interface CellInfo {
  col: number;
  start: number;
  end: number;
  attrs: Map<string, string>;
  /** The whole element, for formula inspection. */
  text: string;
}

interface RowInfo {
  row: number;
  start: number;
  /** Index just after the start tag's '>'. */
  openEnd: number;
  end: number;
  selfClosing: boolean;
  attrs: Map<string, string>;
  cells: CellInfo[];
  /** Where a cell after the last one goes (before any <extLst> of the row). */
  cellsEnd: number;
}

interface Splice {
  start: number;
  end: number;
  text: string;
}

interface Range {
  r1: number;
  c1: number;
  r2: number;
  c2: number;
}

function parseRange(ref: string): Range | null {
  const [a, b] = ref.split(':');
  const p = a ? parseCellRef(a) : null;
  const q = b === undefined ? p : parseCellRef(b);
  if (!p || !q) return null;
  return { r1: Math.min(p.row, q.row), c1: Math.min(p.col, q.col), r2: Math.max(p.row, q.row), c2: Math.max(p.col, q.col) };
}

const inRange = (g: Range, row: number, col: number) => row >= g.r1 && row <= g.r2 && col >= g.c1 && col <= g.c2;

/** Edit the cells of one worksheet part. Exported for tests and reuse; pure string in, string out. */
export function editSheetXml(
  xml: string,
  edits: readonly { row: number; col: number; ref: string; value: CellValue }[],
  sheetName = 'sheet',
): { xml: string; formulaRemoved: boolean } {
  const sd = new RegExp(String.raw`<((?:[\w.-]+:)?)sheetData\b(${ATTRS})(/?)>`).exec(xml);
  if (!sd) throw new WritebackError('malformed', `sheet "${sheetName}" has no <sheetData>`);
  const P = sd[1]!; // namespace prefix of SpreadsheetML elements in this part, usually ''
  const sdSelfClosing = sd[3] === '/';
  const sdContentStart = sd.index + sd[0].length;
  const sdClose = sdSelfClosing ? sdContentStart : xml.indexOf(`</${P}sheetData>`, sdContentStart);
  if (sdClose < 0) throw new WritebackError('malformed', `sheet "${sheetName}": unclosed <sheetData>`);

  const rows = sdSelfClosing ? [] : scanRows(xml, P, sdContentStart, sdClose, sheetName);
  const rowByNumber = new Map(rows.map((r) => [r.row, r]));
  const colStyles = parseColStyles(xml.slice(0, sd.index), P);
  const merges = [...xml.slice(sdClose).matchAll(new RegExp(String.raw`<${P}mergeCell\b(${ATTRS})/?>`, 'g'))]
    .map((m) => parseAttrs(m[1]!).get('ref'))
    .map((ref) => (ref ? { ref, range: parseRange(ref) } : null))
    .filter((m): m is { ref: string; range: Range } => m !== null && m.range !== null);
  let formulaRanges: { master: string; range: Range }[] | undefined; // array / data-table formulas, found on first need

  const splices: Splice[] = [];
  const newRows = new Map<number, string[]>(); // insertion point -> row XML, in row order
  let formulaRemoved = false;
  let bounds: Range | null = null;

  const byRow = new Map<number, (typeof edits)[number][]>();
  for (const e of edits) {
    const list = byRow.get(e.row) ?? [];
    list.push(e);
    byRow.set(e.row, list);
  }

  for (const rowNumber of [...byRow.keys()].sort((a, b) => a - b)) {
    const rowEdits = byRow.get(rowNumber)!.sort((a, b) => a.col - b.col);
    const row = rowByNumber.get(rowNumber);
    const rowStyle = row && /^(1|true)$/.test(row.attrs.get('customFormat') ?? '') ? row.attrs.get('s') : undefined;
    const inserts = new Map<number, string[]>(); // position -> new cells at it, in column order
    const newCells: string[] = []; // for a self-closing or missing row

    for (const e of rowEdits) {
      for (const m of merges) {
        if (inRange(m.range, e.row, e.col) && !(e.row === m.range.r1 && e.col === m.range.c1)) {
          throw new WritebackError(
            'unsupported',
            `${sheetName}!${e.ref} lies inside the merged range ${m.ref}; write to its top-left cell ${columnLetter(m.range.c1)}${m.range.r1} instead`,
          );
        }
      }
      formulaRanges ??= findFormulaRanges(xml, P, sdContentStart, sdClose);
      for (const f of formulaRanges) {
        if (inRange(f.range, e.row, e.col) && !(f.master === e.ref && f.range.r1 === f.range.r2 && f.range.c1 === f.range.c2)) {
          throw new WritebackError(
            'unsupported',
            `${sheetName}!${e.ref} is part of the array formula in ${f.master} (${columnLetter(f.range.c1)}${f.range.r1}:${columnLetter(f.range.c2)}${f.range.r2}); it cannot be overwritten cell by cell`,
          );
        }
      }

      const cell = row?.cells.find((c) => c.col === e.col);
      if (cell) {
        const f = new RegExp(String.raw`<${P}f\b(${ATTRS})/?>`).exec(cell.text);
        if (f) {
          const fa = parseAttrs(f[1]!);
          if (fa.get('t') === 'shared' && fa.has('ref') && hasSharedDependents(xml, P, sdContentStart, sdClose, fa.get('si') ?? '')) {
            throw new WritebackError(
              'unsupported',
              `${sheetName}!${e.ref} holds the shared formula that the cells of ${fa.get('ref')} copy; overwriting it would break them`,
            );
          }
          formulaRemoved = true;
        }
        splices.push({ start: cell.start, end: cell.end, text: cellXml(P, cell.attrs, e.ref, e.value) });
      } else {
        if (e.value === null) continue; // nothing to clear
        const style = rowStyle ?? colStyles.find((c) => e.col >= c.min && e.col <= c.max)?.style;
        const attrs = new Map<string, string>(style && style !== '0' ? [['s', style]] : []);
        const text = cellXml(P, attrs, e.ref, e.value);
        if (!row || row.selfClosing) newCells.push(text);
        else {
          const at = row.cells.find((c) => c.col > e.col)?.start ?? row.cellsEnd;
          const list = inserts.get(at) ?? [];
          list.push(text);
          inserts.set(at, list);
        }
      }
      bounds = extend(bounds, e.row, e.col);
    }

    for (const [at, cells] of inserts) splices.push({ start: at, end: at, text: cells.join('') });
    if (newCells.length > 0) {
      if (row) {
        // <row .../> becomes <row ...>cells</row>, its attributes as they were
        const tag = xml.slice(row.start, row.end).replace(/\s*\/>$/, '>');
        splices.push({ start: row.start, end: row.end, text: `${tag}${newCells.join('')}</${P}row>` });
      } else {
        const at = rows.find((r) => r.row > rowNumber)?.start ?? sdClose;
        const list = newRows.get(at) ?? [];
        list.push(`<${P}row r="${rowNumber}">${newCells.join('')}</${P}row>`);
        newRows.set(at, list);
      }
    }
  }

  for (const [at, rowXml] of newRows) {
    if (sdSelfClosing) {
      splices.push({ start: sd.index, end: sdContentStart, text: `<${P}sheetData${sd[2]!.replace(/\s+$/, '')}>${rowXml.join('')}</${P}sheetData>` });
    } else splices.push({ start: at, end: at, text: rowXml.join('') });
  }

  const dim = bounds
    ? dimensionSplice(
        xml,
        P,
        sd.index,
        bounds,
        rows.some((r) => r.cells.length > 0),
      )
    : null;
  if (dim) splices.push(dim);

  return { xml: applySplices(xml, splices), formulaRemoved };
}

function extend(b: Range | null, row: number, col: number): Range {
  if (!b) return { r1: row, c1: col, r2: row, c2: col };
  return { r1: Math.min(b.r1, row), c1: Math.min(b.c1, col), r2: Math.max(b.r2, row), c2: Math.max(b.c2, col) };
}

/** Widen <dimension ref> when written cells fall outside it; leave it alone otherwise. */
function dimensionSplice(xml: string, P: string, limit: number, written: Range, sheetHadCells: boolean): Splice | null {
  const m = new RegExp(String.raw`<${P}dimension\b(${ATTRS})(/?)>`).exec(xml.slice(0, limit));
  if (!m) return null;
  const ref = parseAttrs(m[1]!).get('ref');
  const cur = ref ? parseRange(ref) : null;
  if (!cur) return null;
  // A lone "A1" is what an empty sheet declares: the new bounds are the written cells.
  const empty = ref === 'A1' && !sheetHadCells;
  const next = empty
    ? written
    : { r1: Math.min(cur.r1, written.r1), c1: Math.min(cur.c1, written.c1), r2: Math.max(cur.r2, written.r2), c2: Math.max(cur.c2, written.c2) };
  if (!empty && next.r1 === cur.r1 && next.c1 === cur.c1 && next.r2 === cur.r2 && next.c2 === cur.c2) return null;
  const a = `${columnLetter(next.c1)}${next.r1}`;
  const b = `${columnLetter(next.c2)}${next.r2}`;
  const newRef = a === b ? a : `${a}:${b}`;
  if (newRef === ref) return null;
  const tag = m[0].replace(/(\sref\s*=\s*)("[^"]*"|'[^']*')/, `$1"${newRef}"`);
  return { start: m.index, end: m.index + m[0].length, text: tag };
}

/** Splices never overlap; build the result in one pass. */
function applySplices(xml: string, splices: Splice[]): string {
  // At one position, a zero-width insertion goes before the replacement of the element there.
  const sorted = [...splices].sort((a, b) => a.start - b.start || a.end - b.end);
  const parts: string[] = [];
  let last = 0;
  for (const s of sorted) {
    if (s.start < last) throw new Error(`internal: overlapping edits at offset ${s.start}`);
    parts.push(xml.slice(last, s.start), s.text);
    last = s.end;
  }
  parts.push(xml.slice(last));
  return parts.join('');
}

function scanRows(xml: string, P: string, from: number, to: number, sheetName: string): RowInfo[] {
  const rows: RowInfo[] = [];
  const rowRe = new RegExp(String.raw`<${P}row\b(${ATTRS})(/?)>`, 'y');
  const rowClose = `</${P}row>`;
  let pos = from;
  let implicitRow = 0;
  for (;;) {
    pos = skipWhitespaceAndComments(xml, pos, to);
    if (pos >= to) break;
    rowRe.lastIndex = pos;
    const m = rowRe.exec(xml);
    if (!m) throw new WritebackError('malformed', `sheet "${sheetName}": unexpected content in <sheetData> at offset ${pos}`);
    const attrs = parseAttrs(m[1]!);
    const r = attrs.has('r') ? Number(attrs.get('r')) : implicitRow + 1;
    if (!Number.isInteger(r) || r < 1 || r > MAX_ROW) throw new WritebackError('malformed', `sheet "${sheetName}": bad row number ${attrs.get('r')}`);
    implicitRow = r;
    const openEnd = m.index + m[0].length;
    if (m[2] === '/') {
      rows.push({ row: r, start: m.index, openEnd, end: openEnd, selfClosing: true, attrs, cells: [], cellsEnd: openEnd });
      pos = openEnd;
      continue;
    }
    const close = xml.indexOf(rowClose, openEnd);
    if (close < 0 || close > to) throw new WritebackError('malformed', `sheet "${sheetName}": unclosed row ${r}`);
    const { cells, cellsEnd } = scanCells(xml, P, openEnd, close, r, sheetName);
    rows.push({ row: r, start: m.index, openEnd, end: close + rowClose.length, selfClosing: false, attrs, cells, cellsEnd });
    pos = close + rowClose.length;
  }
  return rows;
}

function scanCells(xml: string, P: string, from: number, to: number, rowNumber: number, sheetName: string): { cells: CellInfo[]; cellsEnd: number } {
  const cells: CellInfo[] = [];
  const cellRe = new RegExp(String.raw`<${P}c\b(${ATTRS})(/?)>`, 'y');
  const cellClose = `</${P}c>`;
  let pos = from;
  let cellsEnd = from;
  let implicitCol = 0;
  for (;;) {
    pos = skipWhitespaceAndComments(xml, pos, to);
    if (pos >= to) break;
    cellRe.lastIndex = pos;
    const m = cellRe.exec(xml);
    if (!m) break; // the row's <extLst>, if any
    const attrs = parseAttrs(m[1]!);
    let col = implicitCol + 1;
    const r = attrs.get('r');
    if (r !== undefined) {
      const at = parseCellRef(r);
      if (!at || at.row !== rowNumber) throw new WritebackError('malformed', `sheet "${sheetName}": cell "${r}" in row ${rowNumber}`);
      col = at.col;
    }
    implicitCol = col;
    let end = m.index + m[0].length;
    if (m[2] !== '/') {
      const close = xml.indexOf(cellClose, end);
      if (close < 0 || close > to) throw new WritebackError('malformed', `sheet "${sheetName}": unclosed cell ${r ?? col}`);
      end = close + cellClose.length;
    }
    cells.push({ col, start: m.index, end, attrs, text: xml.slice(m.index, end) });
    pos = cellsEnd = end;
  }
  return { cells, cellsEnd };
}

function skipWhitespaceAndComments(xml: string, pos: number, to: number): number {
  for (;;) {
    while (pos < to && /\s/.test(xml[pos]!)) pos++;
    if (xml.startsWith('<!--', pos)) {
      const end = xml.indexOf('-->', pos + 4);
      if (end < 0 || end >= to) return to;
      pos = end + 3;
    } else return pos;
  }
}

function parseColStyles(head: string, P: string): { min: number; max: number; style: string }[] {
  const out: { min: number; max: number; style: string }[] = [];
  for (const m of head.matchAll(new RegExp(String.raw`<${P}col\b(${ATTRS})/?>`, 'g'))) {
    const a = parseAttrs(m[1]!);
    const style = a.get('style');
    if (style) out.push({ min: Number(a.get('min')), max: Number(a.get('max')), style });
  }
  return out;
}

/** Ranges of array and data-table formulas: cells inside them cannot be overwritten one by one. */
function findFormulaRanges(xml: string, P: string, from: number, to: number): { master: string; range: Range }[] {
  const out: { master: string; range: Range }[] = [];
  const re = new RegExp(String.raw`<${P}f\b(${ATTRS})/?>`, 'g');
  re.lastIndex = from;
  for (let m = re.exec(xml); m && m.index < to; m = re.exec(xml)) {
    const fa = parseAttrs(m[1]!);
    const t = fa.get('t');
    const ref = fa.get('ref');
    if (!ref || (t !== 'array' && t !== 'dataTable')) continue;
    const range = parseRange(ref);
    const cellTag = new RegExp(String.raw`<${P}c\b(${ATTRS})>`, 'g');
    let master = '';
    // the <c> start tag that holds this <f>: the last one before it
    cellTag.lastIndex = Math.max(from, xml.lastIndexOf(`<${P}c `, m.index));
    const c = cellTag.exec(xml);
    if (c && c.index < m.index) master = parseAttrs(c[1]!).get('r') ?? '';
    if (range) out.push({ master, range });
  }
  return out;
}

/** Does any cell other than the master copy shared formula `si`? (Dependents carry no ref.) */
function hasSharedDependents(xml: string, P: string, from: number, to: number, si: string): boolean {
  const re = new RegExp(String.raw`<${P}f\b(${ATTRS})/?>`, 'g');
  re.lastIndex = from;
  for (let m = re.exec(xml); m && m.index < to; m = re.exec(xml)) {
    const a = parseAttrs(m[1]!);
    if (a.get('t') === 'shared' && a.get('si') === si && !a.has('ref')) return true;
  }
  return false;
}

/** The new <c> element: same r and s (and phonetic flag); type, formula and metadata go. */
function cellXml(P: string, oldAttrs: Map<string, string>, ref: string, value: CellValue): string {
  let attrs = ` r="${ref}"`;
  const s = oldAttrs.get('s');
  if (s !== undefined) attrs += ` s="${escapeAttr(s)}"`;
  const ph = oldAttrs.get('ph');
  if (ph !== undefined) attrs += ` ph="${escapeAttr(ph)}"`;
  if (value === null) return `<${P}c${attrs}/>`;
  if (typeof value === 'boolean') return `<${P}c${attrs} t="b"><${P}v>${value ? 1 : 0}</${P}v></${P}c>`;
  if (typeof value === 'number') return `<${P}c${attrs}><${P}v>${String(value)}</${P}v></${P}c>`;
  return `<${P}c${attrs} t="inlineStr"><${P}is><${P}t xml:space="preserve">${escapeCellText(value)}</${P}t></${P}is></${P}c>`;
}
