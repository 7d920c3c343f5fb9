// Opening an XLSX workbook into grids: the package read under the ZIP limits, sheets, defined names,
// list validations and merges taken from the XML, and only then cell values and styles from exceljs.
//
// exceljs expands every data-validation range into one entry per cell, so a real workbook with a
// validation on `N1:XFD1048576` (HECVAT 4.1.4 has one) never finishes loading. We therefore open
// the package ourselves (bounded inflate, zip-bomb checks), read every list validation - the
// standard <dataValidations> and the x14 extension that exceljs ignores - straight from the sheet
// XML, remove the standard block from the XML and only then hand the package to exceljs for cell
// values, formulas, styles and hidden rows.
import path from 'node:path';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { columnLetter } from '../cells.js';
import { QuestionnaireParseError, limitError } from '../errors.js';
import type { ParseLimits } from '../limits.js';
import { checkTextRuns, checkZipLimits, openPackage, readZipDirectory, scanSheetXml, type CellTally } from '../zip.js';
import { extractListValidations, type Book, type DefinedName } from './dropdowns.js';
import { address, emptyGrid, indexMerges, parseRange, setCell, type Grid, type ListValidation, type Rect } from './grid.js';
import { attrByLocalName, xmlAttrs, xmlDecode } from './xml.js';

function resolvePartPath(target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  return path.posix.normalize(path.posix.join('xl', target));
}

export interface SheetInfo {
  name: string;
  state: string;
  path?: string;
}

export async function loadWorkbook(bytes: Buffer, limits: ParseLimits): Promise<{ book: Book; sheets: SheetInfo[] }> {
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
