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
 * and so may every line of a multi-line cell once a tool splits it into rows (an unquoted CSV
 * field, a paste), so each such start gets an apostrophe: the start of the value (= + - @ tab CR)
 * and the start of every line after a CR or LF (= + - @ tab). Apostrophes already there before one
 * of those characters get one more, so an import can strip exactly one per line and get the value back.
 */
const FORMULA_STARTS = /^(?='*[=+\-@\t\r])|(?<=[\r\n])(?='*[=+\-@\t])/g;
const NEUTRALIZED_STARTS = /^'(?='*[=+\-@\t\r])|(?<=[\r\n])'(?='*[=+\-@\t])/g;

export const neutralize = (v: string): string => v.replace(FORMULA_STARTS, "'");
export const unneutralize = (v: string): string => v.replace(NEUTRALIZED_STARTS, '');

const cell = (value: Cell): string | number | boolean | null => (typeof value === 'string' ? neutralize(value) : (value ?? null));

/**
 * RFC 4180 options: CRLF records, a UTF-8 BOM so spreadsheet programs read the encoding right, and
 * quotes around any field with a CR or LF (csv-stringify quotes only its own record delimiter, so a
 * lone LF would otherwise start a new row).
 */
export const CSV_OPTIONS = { bom: true, record_delimiter: 'windows', quoted_match: /[\r\n]/ } as const;

export function toCsv<T>(columns: Column<T>[], rows: T[]): string {
  return stringify([columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => cell(c.value(r)) ?? ''))], CSV_OPTIONS);
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
      type: 'list',
      allowBlank: true,
      formulae: [`"${c.allowed.join(',')}"`],
    });
  });
  if (Object.keys(about).length > 0) {
    const info = wb.addWorksheet('About');
    info.columns = [
      { header: 'Field', key: 'k', width: 20 },
      { header: 'Value', key: 'v', width: 60 },
    ];
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
