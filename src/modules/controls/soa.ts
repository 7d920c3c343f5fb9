import ExcelJS from 'exceljs';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import { CSV_OPTIONS, neutralize, unneutralize } from '../../lib/tabular.js';
import { readSoaTable, type RawTable, type UploadFormat } from '../../formats/soa-table.js';
import { evidenceByControl } from '../evidence/index.js';
import { requireRole, type ServiceContext, withTransaction } from '../../lib/context.js';
import { DomainError, isUniqueViolation, notFound, type FieldError } from '../../lib/errors.js';
import { recordAudit } from '../audit/index.js';
import { answerableCatalog, type CatalogControl } from '../catalog/index.js';
import { organizationSummaries } from '../identity/index.js';
import {
  answerRuleProblems,
  answersByControl,
  applyAnswerWrites,
  currentAnswers,
  planAnswerWrite,
  type AnswerRow,
  type AnswerWrite,
  type ControlAnswerInput,
  type WriteOutcome,
} from './service.js';
import { CONTROL_STATUSES, RESPONSIBILITIES, VISIBILITIES, type ControlStatus, type Responsibility, type Visibility } from './tables.js';

/* ------------------------------------------------------------------------------------------------
 * The Statement of Applicability as a table: one row per answerable control, in catalog order.
 * ---------------------------------------------------------------------------------------------- */

export const SOA_COLUMNS = [
  'framework',
  'ref',
  'title',
  'applicable',
  'justification',
  'status',
  'implementation',
  'responsibility',
  'providerStatement',
  'customerStatement',
  'owner',
  'reviewDueAt',
  'visibility',
  'publicSummary',
  'version',
  'updatedAt',
  // Read-only on import: so that a control whose evidence has expired shows it in this report too.
  'evidenceCurrent',
  'evidenceExpired',
] as const;
export type SoaColumn = (typeof SOA_COLUMNS)[number];

/** Columns that carry the answer itself; a row with all of them blank is an unanswered control. */
const ANSWER_COLUMNS = [
  'applicable',
  'justification',
  'status',
  'implementation',
  'responsibility',
  'providerStatement',
  'customerStatement',
  'owner',
  'reviewDueAt',
  'visibility',
  'publicSummary',
] as const satisfies readonly SoaColumn[];

/** Columns an import file must have (the others are optional). */
const REQUIRED_COLUMNS = ['ref', 'applicable', 'status', 'implementation', 'responsibility'] as const satisfies readonly SoaColumn[];

/** Same limits as the PUT /controls/{ref} body schema. */
const TEXT_LIMITS = {
  implementation: 20000,
  justification: 5000,
  providerStatement: 5000,
  customerStatement: 5000,
  owner: 200,
  publicSummary: 2000,
} as const;

export const SOA_IMPORT_LIMITS = {
  fileBytes: 5 * 1024 * 1024,
  dataRows: 1000,
  /** Declared uncompressed size of all parts of an .xlsx (zip-bomb guard). */
  xlsxExpandedBytes: 100 * 1024 * 1024,
  /** Rows/cells exceljs may read per worksheet before giving up. */
  xlsxMaxRows: 50_000,
  xlsxMaxCols: 500,
} as const;

export interface SoaRow {
  framework: string;
  ref: string;
  title: string;
  applicable: boolean | null;
  justification: string | null;
  status: ControlStatus | null;
  implementation: string | null;
  responsibility: Responsibility | null;
  providerStatement: string | null;
  customerStatement: string | null;
  owner: string | null;
  reviewDueAt: string | null;
  visibility: Visibility | null;
  publicSummary: string | null;
  version: number | null;
  updatedAt: string | null;
  evidenceCurrent: number;
  evidenceExpired: number;
}

export interface SoaReport {
  generatedAt: string;
  organization: { id: string; slug: string; name: string };
  rows: SoaRow[];
  summary: { total: number; answered: number; applicable: number; excluded: number; byStatus: Record<ControlStatus, number> };
}

function rowOf(c: CatalogControl, a: AnswerRow | undefined, ev: { current: number; expired: number } | undefined): SoaRow {
  return {
    framework: c.frameworkId,
    ref: c.ref,
    title: c.title,
    applicable: a?.applicable ?? null,
    justification: a?.justification ?? null,
    status: a?.status ?? null,
    implementation: a?.implementation ?? null,
    responsibility: a?.responsibility ?? null,
    providerStatement: a?.providerStatement ?? null,
    customerStatement: a?.customerStatement ?? null,
    owner: a?.owner ?? null,
    reviewDueAt: a?.reviewDueAt?.toISOString() ?? null,
    visibility: a?.visibility ?? null,
    publicSummary: a?.publicSummary ?? null,
    version: a?.version ?? null,
    updatedAt: a?.updatedAt.toISOString() ?? null,
    evidenceCurrent: ev?.current ?? 0,
    evidenceExpired: ev?.expired ?? 0,
  };
}

/** The whole SoA of the caller's organization, unanswered controls included (blank answer fields). */
export async function soaReport(ctx: ServiceContext): Promise<SoaReport> {
  const [catalog, answers, evidence, orgs] = await Promise.all([
    answerableCatalog(ctx.db),
    answersByControl(ctx),
    evidenceByControl(ctx, ctx.clock()),
    organizationSummaries(ctx.db, [ctx.orgId]),
  ]);
  const org = orgs.get(ctx.orgId);
  if (!org) throw notFound('organization');
  const rows = catalog.controls.map((c) => rowOf(c, answers.get(`${c.frameworkId}:${c.ref}`), evidence.get(`${c.frameworkId}:${c.ref}`)));
  const byStatus = Object.fromEntries(CONTROL_STATUSES.map((s) => [s, 0])) as Record<ControlStatus, number>;
  let answered = 0;
  let applicable = 0;
  for (const r of rows) {
    if (r.version === null) continue;
    answered++;
    if (r.applicable) {
      applicable++;
      byStatus[r.status!]++;
    }
  }
  return {
    generatedAt: ctx.clock().toISOString(),
    organization: org,
    rows,
    summary: { total: rows.length, answered, applicable, excluded: answered - applicable, byStatus },
  };
}

export function soaFilename(report: SoaReport, ext: string): string {
  const slug = report.organization.slug.replace(/[^a-z0-9-]/gi, '-');
  return `soa-${slug}-${report.generatedAt.slice(0, 10)}.${ext}`;
}

/**
 * The row as spreadsheet cells: yes/no, blanks for nulls, every text neutralized. XML turns CR and
 * CRLF into LF when the workbook is read, so XLSX text is given LF line ends before neutralizing.
 */
function cellsOf(r: SoaRow, target: 'csv' | 'xlsx'): Array<string | number> {
  return SOA_COLUMNS.map((col) => {
    const v = r[col];
    if (v === null) return '';
    if (col === 'applicable') return v ? 'yes' : 'no';
    if (typeof v === 'number') return v;
    return neutralize(target === 'xlsx' ? String(v).replace(/\r\n?/g, '\n') : String(v));
  });
}

export function renderSoaCsv(report: SoaReport): string {
  // RFC 4180 (CRLF, quotes where needed) with a UTF-8 BOM so spreadsheet programs read the encoding right.
  return stringifyCsv([[...SOA_COLUMNS], ...report.rows.map((r) => cellsOf(r, 'csv'))], CSV_OPTIONS);
}

const WIDTHS: Record<SoaColumn, number> = {
  framework: 15,
  ref: 12,
  title: 45,
  applicable: 12,
  justification: 40,
  status: 22,
  implementation: 60,
  responsibility: 15,
  providerStatement: 40,
  customerStatement: 40,
  owner: 20,
  reviewDueAt: 26,
  visibility: 12,
  publicSummary: 40,
  version: 9,
  updatedAt: 26,
  evidenceCurrent: 16,
  evidenceExpired: 16,
};

const DROPDOWNS: Partial<Record<SoaColumn, readonly string[]>> = {
  applicable: ['yes', 'no'],
  status: CONTROL_STATUSES,
  responsibility: RESPONSIBILITIES,
  visibility: VISIBILITIES,
};

export const SOA_SHEET = 'Statement of Applicability';

export async function renderSoaXlsx(report: SoaReport): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Trust Center';
  wb.created = new Date(report.generatedAt);
  const ws = wb.addWorksheet(SOA_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = SOA_COLUMNS.map((c) => ({ header: c, key: c, width: WIDTHS[c] }));
  ws.getRow(1).font = { bold: true };
  for (const r of report.rows) ws.addRow(cellsOf(r, 'xlsx')).alignment = { vertical: 'top' };
  ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: SOA_COLUMNS.length } };
  // Dropdowns reach past the data so that rows added by hand get them too (as far as an import goes).
  const dv = (ws as unknown as { dataValidations: { add(range: string, v: ExcelJS.DataValidation): void } }).dataValidations;
  for (const [col, values] of Object.entries(DROPDOWNS) as Array<[SoaColumn, readonly string[]]>) {
    const letter = ws.getColumn(SOA_COLUMNS.indexOf(col) + 1).letter;
    dv.add(`${letter}2:${letter}${SOA_IMPORT_LIMITS.dataRows + 1}`, {
      type: 'list',
      allowBlank: true,
      formulae: [`"${values.join(',')}"`],
      showErrorMessage: true,
      errorStyle: 'stop',
      errorTitle: col,
      error: `Choose one of: ${values.join(', ')}`,
    });
  }

  const about = wb.addWorksheet('About');
  about.columns = [{ width: 24 }, { width: 100 }];
  const lines: Array<[string, string | number]> = [
    ['Statement of Applicability', ''],
    ['Organization', report.organization.name],
    ['Organization slug', report.organization.slug],
    ['Generated at', report.generatedAt],
    ['Controls', report.summary.total],
    ['Answered', report.summary.answered],
    ['Applicable', report.summary.applicable],
    ['Excluded', report.summary.excluded],
    ['', ''],
    ['Re-import', 'Edit the first sheet and upload the file to POST /api/v1/controls/import (editor role). Rows are matched by "ref"; blank rows are skipped.'],
    ['Version column', 'Leave "version" as exported: a row whose control changed since this export is refused as stale. Clear it to overwrite.'],
    ['Rules', 'applicable yes/no; a justification is required when not applicable; publicSummary only with visibility public; implementation is required.'],
  ];
  for (const [k, v] of lines) about.addRow([neutralize(k), typeof v === 'string' ? neutralize(v) : v]);
  about.getRow(1).font = { bold: true, size: 14 };
  about.getColumn(1).font = { bold: true };

  return Buffer.from(await wb.xlsx.writeBuffer());
}

/* ------------------------------------------------------------------------------------------------
 * Reading an upload: sniff the type, decode it into a header and data rows.
 * ---------------------------------------------------------------------------------------------- */

export { sniffUpload, type RawTable, type UploadFormat } from '../../formats/soa-table.js';

/* ------------------------------------------------------------------------------------------------
 * Validating rows into answers.
 * ---------------------------------------------------------------------------------------------- */

const squash = (h: string) =>
  h
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
const KNOWN_COLUMNS = new Map<string, SoaColumn>(SOA_COLUMNS.map((c) => [squash(c), c]));
/** Header names are matched case-insensitively, ignoring spaces and punctuation ("Provider statement"). */
const columnOf = (header: string): SoaColumn | undefined => KNOWN_COLUMNS.get(squash(header));

interface RowProblem {
  row: number;
  column: SoaColumn;
  message: string;
}

interface PlannedRow {
  rowNumber: number;
  control: CatalogControl;
  input: ControlAnswerInput;
  expectedVersion: number | undefined;
}

interface ValidatedTable {
  planned: PlannedRow[];
  skipped: number;
  dataRows: number;
  problems: RowProblem[];
}

function enumValue<T extends string>(raw: string, allowed: readonly T[]): T | undefined {
  const v = raw
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  return (allowed as readonly string[]).includes(v) ? (v as T) : undefined;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

function isoDate(raw: string): string | undefined {
  const v = raw.trim();
  const m = ISO_DATE.exec(v);
  if (!m) return undefined;
  const withZone = m[4] === undefined ? `${v.slice(0, 10)}T00:00:00Z` : m[7] === undefined ? `${v.replace(' ', 'T')}Z` : v.replace(' ', 'T');
  const d = new Date(withZone);
  if (Number.isNaN(d.getTime())) return undefined;
  // 2026-02-30 must not quietly become March 2.
  if (d.getUTCFullYear() !== Number(m[1]) || d.getUTCMonth() + 1 !== Number(m[2]) || (m[7] === undefined && d.getUTCDate() !== Number(m[3]))) return undefined;
  return d.toISOString();
}

export function validateTable(table: RawTable, resolve: (ref: string) => CatalogControl | undefined): ValidatedTable {
  const problems: RowProblem[] = [];
  const index = new Map<SoaColumn, number>();
  table.header.forEach((h, i) => {
    const col = columnOf(h);
    if (!col) return; // extra columns are ignored
    if (index.has(col)) problems.push({ row: 1, column: col, message: `the column "${col}" appears twice in the header` });
    else index.set(col, i);
  });
  for (const col of REQUIRED_COLUMNS) {
    if (!index.has(col)) problems.push({ row: 1, column: col, message: `the header row has no "${col}" column` });
  }
  if (problems.length > 0) return { planned: [], skipped: 0, dataRows: 0, problems };

  const rows = table.rows
    .map((r) => ({ rowNumber: r.rowNumber, get: (c: SoaColumn) => unneutralize(r.cells[index.get(c) ?? -1] ?? '') }))
    .filter((r) => r.get('ref').trim() !== '' || ANSWER_COLUMNS.some((c) => r.get(c).trim() !== ''));
  if (rows.length > SOA_IMPORT_LIMITS.dataRows) {
    throw new DomainError('payload_too_large', `the file has ${rows.length} data rows; an import takes at most ${SOA_IMPORT_LIMITS.dataRows}; split the file`);
  }

  const planned: PlannedRow[] = [];
  const seen = new Map<string, number>();
  let skipped = 0;
  for (const { rowNumber, get } of rows) {
    const problem = (column: SoaColumn, message: string) => problems.push({ row: rowNumber, column, message });
    const text = (c: keyof typeof TEXT_LIMITS): string | null => {
      const v = get(c);
      if (v.trim() === '') return null;
      if (v.length > TEXT_LIMITS[c]) problem(c, `is ${v.length} characters long; at most ${TEXT_LIMITS[c]}`);
      return v;
    };

    const rawRef = get('ref').trim();
    let control: CatalogControl | undefined;
    if (rawRef === '') problem('ref', 'is required');
    else if (rawRef.length > 50 || !(control = resolve(rawRef)))
      problem('ref', `"${rawRef.slice(0, 50)}" is not an ISO/IEC 27001:2022 Annex A or ISO/IEC 27017 CLD control`);
    if (control) {
      const key = `${control.frameworkId}:${control.ref}`;
      const first = seen.get(key);
      if (first !== undefined) problem('ref', `${control.ref} already appears in row ${first}`);
      else seen.set(key, rowNumber);
      const fw = get('framework').trim();
      if (fw !== '' && fw.toLowerCase() !== control.frameworkId)
        problem('framework', `${control.ref} belongs to ${control.frameworkId}, not "${fw.slice(0, 50)}"`);
    }

    if (ANSWER_COLUMNS.every((c) => get(c).trim() === '')) {
      skipped++; // an unanswered control, as the export writes it
      continue;
    }

    const applicableRaw = get('applicable').trim().toLowerCase();
    const applicable = ['yes', 'true'].includes(applicableRaw) ? true : ['no', 'false'].includes(applicableRaw) ? false : undefined;
    if (applicable === undefined) problem('applicable', applicableRaw === '' ? 'is required: yes or no' : 'must be yes or no (or true/false)');
    const justification = text('justification');
    const status = enumValue(get('status'), CONTROL_STATUSES);
    if (!status) problem('status', `${get('status').trim() === '' ? 'is required' : 'is not a status'}: one of ${CONTROL_STATUSES.join(', ')}`);
    const implementation = text('implementation');
    if (implementation === null) problem('implementation', 'is required: how the control is met');
    const responsibility = enumValue(get('responsibility'), RESPONSIBILITIES);
    if (!responsibility)
      problem('responsibility', `${get('responsibility').trim() === '' ? 'is required' : 'is not a responsibility'}: one of ${RESPONSIBILITIES.join(', ')}`);
    const providerStatement = text('providerStatement');
    const customerStatement = text('customerStatement');
    const owner = text('owner');
    let reviewDueAt: string | null = null;
    if (get('reviewDueAt').trim() !== '') {
      reviewDueAt = isoDate(get('reviewDueAt')) ?? null;
      if (!reviewDueAt) problem('reviewDueAt', 'must be an ISO date such as 2026-12-31 (or a date-time)');
    }
    const visibilityRaw = get('visibility');
    const visibility = visibilityRaw.trim() === '' ? 'internal' : enumValue(visibilityRaw, VISIBILITIES);
    if (!visibility) problem('visibility', `must be one of ${VISIBILITIES.join(', ')}`);
    const publicSummary = text('publicSummary');
    // The record's own cross-field rules, checked only where the fields they read are valid.
    for (const e of answerRuleProblems({ applicable: applicable ?? true, justification, visibility: visibility ?? 'public', publicSummary })) {
      problem(e.field as SoaColumn, e.message);
    }
    const versionRaw = get('version').trim();
    let expectedVersion: number | undefined;
    if (versionRaw !== '') {
      if (/^\d{1,9}(?:\.0+)?$/.test(versionRaw)) expectedVersion = Number.parseInt(versionRaw, 10);
      else problem('version', 'must be the whole-number version from the export, or blank');
    }

    if (control && applicable !== undefined && status && implementation !== null && responsibility && visibility) {
      planned.push({
        rowNumber,
        control,
        expectedVersion,
        input: {
          applicable,
          status,
          implementation,
          responsibility,
          justification,
          providerStatement,
          customerStatement,
          owner,
          reviewDueAt,
          visibility,
          publicSummary,
        },
      });
    }
  }
  return { planned, skipped, dataRows: rows.length, problems };
}

/**
 * Text that is the same as what is stored, give or take line endings, or blank where the stored
 * value is blank too, keeps the stored value: a spreadsheet round trip must not make new versions.
 */
function settle(input: ControlAnswerInput, current: AnswerRow | undefined): ControlAnswerInput {
  if (!current) return input;
  const norm = (v: string | null | undefined) => (v ?? '').replace(/\r\n?/g, '\n');
  const same = (a: string | null | undefined, b: string | null | undefined) => norm(a) === norm(b) || (norm(a).trim() === '' && norm(b).trim() === '');
  const out = { ...input };
  if (same(input.implementation, current.implementation)) out.implementation = current.implementation;
  for (const f of ['justification', 'providerStatement', 'customerStatement', 'owner', 'publicSummary'] as const) {
    if (same(input[f], current[f])) out[f] = current[f];
  }
  return out;
}

function problemsToErrors(problems: RowProblem[]): FieldError[] {
  return [...problems]
    .sort((a, b) => a.row - b.row || SOA_COLUMNS.indexOf(a.column) - SOA_COLUMNS.indexOf(b.column))
    .map((p) => ({ field: `row ${p.row}/${p.column}`, message: p.message }));
}

export interface SoaImportResult {
  format: UploadFormat;
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  dryRun: boolean;
  changes: Array<{ row: number; framework: string; ref: string; outcome: Exclude<WriteOutcome, 'unchanged'>; version: number; changedFields: string[] }>;
}

/**
 * The outcome of a checked file against the stored answers: the version problems join the row
 * problems (any problem refuses the whole file), else the writes it makes and the result.
 */
function planImport(
  ctx: ServiceContext,
  format: UploadFormat,
  checked: ValidatedTable,
  current: Map<string, AnswerRow>,
  dryRun: boolean,
): { result: SoaImportResult; writes: AnswerWrite[] } {
  const problems = [...checked.problems];
  for (const p of checked.planned) {
    const now = current.get(`${p.control.frameworkId}:${p.control.ref}`)?.version ?? 0;
    if (p.expectedVersion !== undefined && p.expectedVersion !== now) {
      problems.push({
        row: p.rowNumber,
        column: 'version',
        message: `is ${p.expectedVersion}, but ${p.control.ref} is at version ${now}: it changed since this file was exported; export again and reapply your change`,
      });
    }
  }
  if (problems.length > 0) {
    const rowsWithProblems = new Set(problems.map((p) => p.row)).size;
    throw new DomainError('unprocessable', `${rowsWithProblems} row${rowsWithProblems === 1 ? ' has' : 's have'} problems; nothing was imported`, {
      errors: problemsToErrors(problems),
    });
  }

  const result: SoaImportResult = { format, created: 0, updated: 0, unchanged: 0, skipped: checked.skipped, dryRun, changes: [] };
  const writes: AnswerWrite[] = [];
  for (const p of checked.planned) {
    const before = current.get(`${p.control.frameworkId}:${p.control.ref}`);
    const write = planAnswerWrite(ctx, p.control, before, settle(p.input, before), p.expectedVersion, { overwrite: true });
    const outcome: WriteOutcome = !before ? 'created' : write.changed.length > 0 ? 'updated' : 'unchanged';
    result[outcome]++;
    if (outcome === 'unchanged') continue;
    writes.push(write);
    result.changes.push({
      row: p.rowNumber,
      framework: p.control.frameworkId,
      ref: p.control.ref,
      outcome,
      version: (before?.version ?? 0) + 1,
      changedFields: write.changed,
    });
  }
  return { result, writes };
}

/**
 * Imports an SoA file: every row is checked first, against the catalog and the stored versions,
 * and any problem refuses the whole file (422, every problem listed) before a transaction opens;
 * otherwise one short transaction writes all changed rows in a few multi-row statements.
 */
export async function importSoa(
  ctx: ServiceContext,
  file: Buffer,
  opts: { dryRun: boolean; filename?: string; read?: (file: Buffer) => Promise<RawTable> },
): Promise<SoaImportResult> {
  requireRole(ctx.actor, 'editor');
  // The route reads the file in the parser pool; a direct caller may read it here.
  const table = await (opts.read ?? readSoaTable)(file);
  const catalog = await answerableCatalog(ctx.db);
  const checked = validateTable(table, catalog.resolve);
  const controls = checked.planned.map((p) => p.control);
  const first = planImport(ctx, table.format, checked, await currentAnswers(ctx, controls), opts.dryRun);
  if (opts.dryRun) return first.result;

  try {
    return await withTransaction(ctx, async (tctx) => {
      // The same plan again on the rows under lock: a change saved since the first read is a stale version, as before.
      const { result, writes } = planImport(ctx, table.format, checked, await currentAnswers(tctx, controls, { lock: true }), false);
      await applyAnswerWrites(tctx, writes, { overwrite: true, via: 'import' });
      await recordAudit(tctx.db, tctx, {
        action: 'controls.imported',
        targetType: 'soa',
        targetId: null,
        summary: {
          format: table.format,
          filename: opts.filename?.slice(0, 200) ?? null,
          rows: checked.dataRows,
          created: result.created,
          updated: result.updated,
          unchanged: result.unchanged,
          skipped: result.skipped,
        },
      });
      return result;
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new DomainError('version_conflict', 'another change to these controls was saved while importing; nothing was imported; try again');
    }
    throw err;
  }
}
