// Reading a Statement of Applicability upload (CSV or XLSX) into a header and data rows, under the
// same bounded reader as questionnaires: the ZIP's declared sizes are checked, every part is
// inflated with a hard cap and counted, cells/rows/text are counted in the XML, and only then are
// the verified parts handed to exceljs (repacked uncompressed, so exceljs inflates nothing).
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { DomainError } from '../lib/errors.js';
import { readCsvRecords } from './csv.js';
import { QuestionnaireParseError } from './errors.js';
import { SOA_LIMITS, type ParseLimits } from './limits.js';
import { checkTextRuns, openPackage, readZipDirectory, scanSheetXml, type CellTally } from './zip.js';

export type UploadFormat = 'csv' | 'xlsx';

export interface RawTable {
  format: UploadFormat;
  /** Header cells by column index (row 1). */
  header: string[];
  /** Data rows with their row number as a spreadsheet shows it (header = 1). */
  rows: Array<{ rowNumber: number; cells: string[] }>;
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
const CFB_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
const unsupported = () =>
  new DomainError('unsupported_media_type', 'the file is neither an .xlsx workbook nor UTF-8 CSV text; upload a .csv or .xlsx like the SoA export');
const corruptXlsx = () => new DomainError('bad_request', 'the .xlsx file is corrupt (not a readable ZIP archive); save it again from your spreadsheet program');

/** By content, never by name: a ZIP header is a workbook, UTF-8 text is CSV, anything else is refused. */
export function sniffUpload(buf: Buffer): UploadFormat {
  if (buf.length === 0) throw new DomainError('bad_request', 'the uploaded file is empty');
  if (buf.subarray(0, 4).equals(ZIP_MAGIC)) return 'xlsx';
  if (buf.subarray(0, 8).equals(CFB_MAGIC)) {
    // An OLE compound file: a password-protected Office file or a legacy .xls.
    if (buf.includes(Buffer.from('EncryptionInfo', 'utf16le'))) {
      throw new DomainError('bad_request', 'the workbook is password-protected (encrypted); remove the password in Excel and upload it again');
    }
    throw new DomainError('unsupported_media_type', 'legacy .xls workbooks are not supported; save the file as .xlsx or CSV UTF-8');
  }
  if (buf.includes(0)) throw unsupported();
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw unsupported();
  }
  return 'csv';
}

/** The upload as a table; every refusal is a DomainError (413 naming the limit when one was hit). */
export async function readSoaTable(buf: Buffer, limits: ParseLimits = SOA_LIMITS): Promise<RawTable> {
  try {
    return sniffUpload(buf) === 'csv' ? readCsv(buf, limits) : await readXlsx(buf, limits);
  } catch (err) {
    if (err instanceof QuestionnaireParseError) {
      if (err.code === 'too_large') throw new DomainError('payload_too_large', err.message);
      if (err.code === 'encrypted') throw new DomainError('bad_request', 'the workbook is encrypted; remove the password and upload it again');
      throw corruptXlsx();
    }
    throw err;
  }
}

function readCsv(buf: Buffer, limits: ParseLimits): RawTable {
  if (buf.length > limits.maxTextBytes)
    throw new DomainError('payload_too_large', `the CSV file is larger than ${limits.maxTextBytes / 1024 / 1024} MiB (limit: text file bytes)`);
  const text = buf.toString('utf8').replace(/^\uFEFF/, '');
  // Spreadsheet programs in some locales write ; or tab: take whichever the header line uses most.
  const firstLine = text.slice(0, Math.min(text.search(/\r|\n|$/), 100_000));
  const delimiter = [',', ';', '\t'].reduce((best, d) => (firstLine.split(d).length > firstLine.split(best).length ? d : best), ',');
  let records: string[][];
  try {
    records = readCsvRecords(text, delimiter, limits);
  } catch (err) {
    if (err instanceof QuestionnaireParseError) throw err;
    throw new DomainError('bad_request', `the CSV file could not be read: ${(err as Error).message}`);
  }
  const [header = [], ...data] = records;
  return { format: 'csv', header, rows: data.map((cells, i) => ({ rowNumber: i + 2, cells })) };
}

const squash = (h: string) =>
  h
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');

async function readXlsx(buf: Buffer, limits: ParseLimits): Promise<RawTable> {
  const entries = readZipDirectory(buf, limits.maxZipEntries);
  if (entries.some((e) => (e.flags & 1) === 1)) {
    throw new DomainError('bad_request', 'the workbook is encrypted; remove the password and upload it again');
  }
  if (!entries.some((e) => e.name.replace(/^\//, '') === 'xl/workbook.xml')) {
    throw new DomainError('unsupported_media_type', 'the file is a ZIP archive but not an Excel workbook (.xlsx); upload a .csv or .xlsx like the SoA export');
  }
  // Declared sizes checked, then each part inflated under its declared size and the real total counted.
  const { files } = openPackage(buf, limits);
  const tally: CellTally = { cells: 0 };
  const zip = new JSZip();
  for (const [name, data] of files) {
    if (/^xl\/worksheets\/[^/]+\.xml$/i.test(name)) scanSheetXml(data, name, limits, tally);
    else if (/^xl\/sharedStrings\.xml$/i.test(name)) checkTextRuns(data, limits, 'the shared strings');
    zip.file(name, data);
  }
  files.clear();
  const verified = await zip.generateAsync({ type: 'nodebuffer', compression: 'STORE' });
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(
      verified as unknown as ExcelJS.Buffer,
      {
        // Whole-column validations and formats expand to a million entries in exceljs; the import needs neither.
        ignoreNodes: ['dataValidations', 'conditionalFormatting'],
        maxRows: limits.maxRows,
        maxCols: limits.maxColumns,
      } as Partial<ExcelJS.XlsxReadOptions>,
    );
  } catch (err) {
    if (/^Max \w+ count/.test((err as Error)?.message ?? '')) {
      throw new DomainError('payload_too_large', `a worksheet has more than ${limits.maxRows} rows or ${limits.maxColumns} columns (limit: rows, columns)`);
    }
    throw new DomainError('bad_request', 'the .xlsx file is corrupt or not a workbook exceljs can read; save it again from your spreadsheet program');
  }
  const order = (ws: ExcelJS.Worksheet) => (ws as unknown as { orderNo?: number }).orderNo ?? ws.id;
  const sheets = [...wb.worksheets].sort((a, b) => order(a) - order(b)).filter((ws) => ws.state !== 'hidden' && ws.state !== 'veryHidden');
  for (const ws of sheets) {
    const header: string[] = [];
    ws.getRow(1).eachCell({ includeEmpty: false }, (cell, col) => {
      header[col - 1] = cellText(cell.value);
    });
    if (!header.some((h) => squash(h ?? '') === 'ref')) continue;
    // A number in the date column is an Excel date serial (a date cell without a date format).
    const dateCol = header.findIndex((h) => squash(h ?? '') === 'reviewdueat') + 1;
    const epoch = wb.properties?.date1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, 30);
    const rows: RawTable['rows'] = [];
    ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
      if (rowNumber === 1) return;
      const cells: string[] = [];
      row.eachCell({ includeEmpty: false }, (cell, col) => {
        const v = cell.value;
        cells[col - 1] =
          col === dateCol && typeof v === 'number' && v > 0 && v < 2958466 ? new Date(epoch + Math.round(v * 86_400_000)).toISOString() : cellText(v);
      });
      rows.push({ rowNumber, cells });
    });
    return { format: 'xlsx', header: Array.from(header, (h) => h ?? ''), rows };
  }
  throw new DomainError('unprocessable', 'no visible worksheet has a "ref" column in its first row', {
    errors: [{ field: 'row 1/ref', message: 'no worksheet has a "ref" column header' }],
  });
}

/** A cell as the text a person sees in it. */
function cellText(v: ExcelJS.CellValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  if ('richText' in v) return v.richText.map((t) => t.text).join('');
  if ('formula' in v || 'sharedFormula' in v) return cellText((v as { result?: ExcelJS.CellValue }).result);
  if ('hyperlink' in v) return cellText((v as { text?: ExcelJS.CellValue }).text);
  if ('error' in v) return String(v.error);
  return '';
}
