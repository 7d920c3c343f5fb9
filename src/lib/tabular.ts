import ExcelJS from 'exceljs';
import { stringify } from 'csv-stringify/sync';

export type Cell = string | number | boolean | null | undefined;

export interface Column<T> {
  header: string;
  value: (row: T) => Cell;
  width?: number;
  /** Offered as a dropdown in XLSX. */
  allowed?: readonly string[];
}

/*
 * Formula injection. A spreadsheet cell that starts with = + - @ tab or CR may run as a formula,
 * so such values get a leading apostrophe. Values that already start with apostrophes before one
 * of those characters get one more, so an import can strip exactly one and get the value back.
 */
const FORMULA_LIKE = /^'*[=+\-@\t\r]/;
const NEUTRALIZED = /^'+[=+\-@\t\r]/;

export const neutralize = (v: string): string => (FORMULA_LIKE.test(v) ? `'${v}` : v);
export const unneutralize = (v: string): string => (NEUTRALIZED.test(v) ? v.slice(1) : v);

const cell = (value: Cell): string | number | boolean | null => (typeof value === 'string' ? neutralize(value) : (value ?? null));

/** RFC 4180 (CRLF, quotes where needed) with a UTF-8 BOM so spreadsheet programs read the encoding right. */
export function toCsv<T>(columns: Column<T>[], rows: T[]): string {
  return stringify([columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => cell(c.value(r)) ?? ''))], { bom: true, record_delimiter: 'windows' });
}

export async function toXlsx<T>(sheet: string, columns: Column<T>[], rows: T[], about: Record<string, string> = {}): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.created = new Date(about.generatedAt ?? Date.now());
  const ws = wb.addWorksheet(sheet, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = columns.map((c) => ({ header: c.header, key: c.header, width: c.width ?? Math.min(60, Math.max(12, c.header.length + 2)) }));
  ws.getRow(1).font = { bold: true };
  for (const r of rows) ws.addRow(columns.map((c) => cell(c.value(r))));
  columns.forEach((c, i) => {
    if (!c.allowed || rows.length === 0) return;
    const letter = ws.getColumn(i + 1).letter;
    // One range-wide rule: ExcelJS writes it as a single dataValidation element.
    (ws as unknown as { dataValidations: { add(range: string, v: object): void } }).dataValidations.add(`${letter}2:${letter}${rows.length + 1}`, {
      type: 'list', allowBlank: true, formulae: [`"${c.allowed.join(',')}"`],
    });
  });
  if (Object.keys(about).length > 0) {
    const info = wb.addWorksheet('About');
    info.columns = [{ header: 'Field', key: 'k', width: 20 }, { header: 'Value', key: 'v', width: 60 }];
    info.getRow(1).font = { bold: true };
    for (const [k, v] of Object.entries(about)) info.addRow([k, neutralize(v)]);
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  json: 'application/json; charset=utf-8',
} as const;
