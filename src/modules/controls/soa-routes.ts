import { Type } from 'typebox';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../../lib/errors.js';
import { bufferedParts } from '../../lib/multipart.js';
import { Timestamp, withProblems, Nullable } from '../../lib/schemas.js';
import { CONTROL_STATUSES, RESPONSIBILITIES, VISIBILITIES } from './tables.js';
import { SOA_COLUMNS, SOA_IMPORT_LIMITS, importSoa, renderSoaCsv, renderSoaXlsx, soaFilename, soaReport } from './soa.js';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const SoaRow = Type.Object(
  {
    framework: Type.String(),
    ref: Type.String(),
    title: Type.String(),
    applicable: Nullable(Type.Boolean()),
    justification: Nullable(Type.String()),
    status: Nullable(Type.Enum(CONTROL_STATUSES)),
    implementation: Nullable(Type.String()),
    responsibility: Nullable(Type.Enum(RESPONSIBILITIES)),
    providerStatement: Nullable(Type.String()),
    customerStatement: Nullable(Type.String()),
    owner: Nullable(Type.String()),
    reviewDueAt: Nullable(Timestamp),
    visibility: Nullable(Type.Enum(VISIBILITIES)),
    publicSummary: Nullable(Type.String()),
    version: Nullable(Type.Integer()),
    updatedAt: Nullable(Timestamp),
    evidenceCurrent: Type.Integer({ minimum: 0, description: 'Evidence items linked to the control that are current (read-only on import).' }),
    evidenceExpired: Type.Integer({ minimum: 0, description: 'Evidence items linked to the control whose validity has ended (read-only on import).' }),
  },
  {
    $id: 'SoaRow',
    description: 'One answerable control; the answer fields are null while the control is unanswered.',
    examples: [
      {
        framework: 'iso27001-2022',
        ref: 'A.8.5',
        title: 'Secure authentication',
        applicable: true,
        justification: null,
        status: 'implemented',
        implementation: 'All staff sign in through Okta with phishing-resistant MFA (WebAuthn).',
        responsibility: 'shared',
        providerStatement: 'We enforce MFA for every workforce and administrator account.',
        customerStatement: 'Customers enable SSO or MFA for their own users.',
        owner: 'Head of IT',
        reviewDueAt: '2027-01-31T00:00:00.000Z',
        visibility: 'public',
        publicSummary: 'Multi-factor authentication protects every workforce account.',
        version: 4,
        updatedAt: '2026-05-30T15:42:10.000Z',
        evidenceCurrent: 2,
        evidenceExpired: 0,
      },
    ],
  },
);

const SoaJson = Type.Object(
  {
    generatedAt: Timestamp,
    organization: Type.Object({ id: Type.String(), slug: Type.String(), name: Type.String() }),
    rows: Type.Array(SoaRow),
    summary: Type.Object({
      total: Type.Integer(),
      answered: Type.Integer(),
      applicable: Type.Integer({ description: 'Answered and applicable.' }),
      excluded: Type.Integer({ description: 'Answered and not applicable.' }),
      byStatus: Type.Record(Type.String(), Type.Integer(), { description: 'Applicable answered controls per status.' }),
    }),
  },
  {
    $id: 'StatementOfApplicability',
    description: 'The Statement of Applicability: every answerable control with its answer (or blanks), and counts.',
    examples: [
      {
        generatedAt: '2026-06-04T09:30:00.000Z',
        organization: { id: '0197a4a0-0a1b-7c2d-8e3f-405162738495', slug: 'acme', name: 'Acme Cloud Ltd' },
        rows: [
          {
            framework: 'iso27001-2022',
            ref: 'A.5.1',
            title: 'Policies for information security',
            applicable: true,
            justification: null,
            status: 'implemented',
            implementation: 'The information security policy is approved by the board and reviewed every year.',
            responsibility: 'provider',
            providerStatement: null,
            customerStatement: null,
            owner: 'CISO',
            reviewDueAt: '2027-03-01T00:00:00.000Z',
            visibility: 'internal',
            publicSummary: null,
            version: 2,
            updatedAt: '2026-03-02T10:00:00.000Z',
            evidenceCurrent: 1,
            evidenceExpired: 0,
          },
        ],
        summary: { total: 100, answered: 86, applicable: 80, excluded: 6, byStatus: { implemented: 69, partially_implemented: 7, planned: 4 } },
      },
    ],
  },
);

const ImportResult = Type.Object(
  {
    format: Type.Enum(['csv', 'xlsx']),
    created: Type.Integer({ description: 'Controls answered for the first time.' }),
    updated: Type.Integer({ description: 'Answers that changed (each gets a new version).' }),
    unchanged: Type.Integer({ description: 'Rows identical to the current answer (no new version).' }),
    skipped: Type.Integer({ description: 'Rows with a ref and every answer field blank (unanswered controls in an export).' }),
    dryRun: Type.Boolean(),
    changes: Type.Array(
      Type.Object({
        row: Type.Integer({ description: 'Spreadsheet row number (header = 1).' }),
        framework: Type.String(),
        ref: Type.String(),
        outcome: Type.Enum(['created', 'updated']),
        version: Type.Integer({ description: 'The version written (or, in a dry run, that would be written).' }),
        changedFields: Type.Array(Type.String()),
      }),
    ),
  },
  {
    $id: 'SoaImportResult',
    description: 'What an SoA import changed (or, in a dry run, would change).',
    examples: [
      {
        format: 'xlsx',
        created: 3,
        updated: 2,
        unchanged: 81,
        skipped: 14,
        dryRun: false,
        changes: [
          {
            row: 12,
            framework: 'iso27001-2022',
            ref: 'A.5.10',
            outcome: 'created',
            version: 1,
            changedFields: ['applicable', 'status', 'implementation', 'responsibility'],
          },
          { row: 47, framework: 'iso27001-2022', ref: 'A.8.5', outcome: 'updated', version: 5, changedFields: ['implementation'] },
        ],
      },
    ],
  },
);

/** The import form, for the OpenAPI document only: readImportForm reads the body itself. */
const ImportForm = Type.Object({
  file: Type.String({
    format: 'binary',
    description: 'The Statement of Applicability: .csv (UTF-8) or .xlsx, at most 5 MiB, as exported by GET /api/v1/reports/soa.',
  }),
  dryRun: Type.Optional(Type.Enum(['true', 'false'], { description: '`true`: check and count without writing.' })),
});

const COLUMNS_DOC = SOA_COLUMNS.map((c) => `\`${c}\``).join(', ');

/** Reads the one `file` part and the optional `dryRun` field, mapping multipart limits onto our codes. */
async function readImportForm(req: FastifyRequest) {
  if (!req.isMultipart()) {
    throw new DomainError('unsupported_media_type', 'send multipart/form-data with the spreadsheet in a "file" part');
  }
  let file: { data: Buffer; filename: string } | undefined;
  let dryRun: boolean | undefined;
  try {
    // The shared reader records the form for Idempotency-Key (src/plugins/idempotency.ts).
    for await (const part of bufferedParts(req)) {
      if (part.type === 'file') {
        if (part.fieldname !== 'file') {
          await part.toBuffer();
          throw new DomainError('validation_failed', `unexpected file part "${part.fieldname}"; send the spreadsheet as "file"`, {
            errors: [{ field: `body/${part.fieldname}`, message: 'unexpected file part' }],
          });
        }
        file = { data: await part.toBuffer(), filename: part.filename };
      } else if (part.fieldname === 'dryRun') {
        const v = String(part.value).trim().toLowerCase();
        if (!['true', 'false', '1', '0', ''].includes(v)) {
          throw new DomainError('validation_failed', 'dryRun must be true or false', { errors: [{ field: 'body/dryRun', message: 'must be true or false' }] });
        }
        dryRun = v === 'true' || v === '1';
      }
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE')
      throw new DomainError('payload_too_large', `the file is larger than ${SOA_IMPORT_LIMITS.fileBytes / 1024 / 1024} MiB`);
    if (code === 'FST_FILES_LIMIT') throw new DomainError('payload_too_large', 'send exactly one file part');
    if (code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT')
      throw new DomainError('payload_too_large', 'too many form fields; send only "file" and "dryRun"');
    if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE')
      throw new DomainError('unsupported_media_type', 'send multipart/form-data with the spreadsheet in a "file" part');
    if (err instanceof DomainError) throw err;
    throw new DomainError('bad_request', `the multipart body could not be read: ${(err as Error).message}`);
  }
  if (!file) {
    throw new DomainError('validation_failed', 'the "file" part is required: a .csv or .xlsx Statement of Applicability', {
      errors: [{ field: 'body/file', message: 'is required' }],
    });
  }
  return { file, dryRun };
}

export const soaRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Encapsulated here: only this plugin's routes accept multipart bodies, with tight limits.
  await app.register(multipart, { limits: { fileSize: SOA_IMPORT_LIMITS.fileBytes, files: 1, fields: 10, parts: 20 } });

  app.get('/reports/soa', {
    schema: {
      tags: ['reports'],
      operationId: 'exportSoa',
      summary: 'Export the Statement of Applicability: every ISO/IEC 27001:2022 Annex A control, then the ISO/IEC 27017 CLD controls, in catalog order',
      description:
        `One row per answerable control, unanswered ones included with blank answer fields. \`format=json\` (default) answers the rows typed; ` +
        `\`csv\` (RFC 4180, UTF-8 with BOM) and \`xlsx\` (sheet "Statement of Applicability" with dropdowns, plus an "About" sheet) are downloads ` +
        `with the columns ${COLUMNS_DOC}, \`applicable\` as yes/no, and any text starting with = + - @ tab or CR prefixed with an apostrophe ` +
        '(formula injection). Both re-import unchanged through POST /controls/import.',
      querystring: Type.Object({ format: Type.Optional(Type.Enum(['json', 'csv', 'xlsx'], { default: 'json' })) }),
      response: withProblems({
        200: {
          description: 'The SoA; csv and xlsx come as attachments named soa-<slug>-<yyyy-mm-dd>.<ext>.',
          content: {
            'application/json': { schema: SoaJson },
            'text/csv': { schema: Type.String({ description: 'RFC 4180 CSV with a header row.' }) },
            [XLSX_TYPE]: { schema: Type.String({ format: 'binary', description: 'An Excel workbook.' }) },
          },
        },
      }),
    },
    handler: async (req, reply) => {
      const report = await soaReport(req.ctx());
      const format = req.query.format ?? 'json';
      reply.header('content-disposition', `attachment; filename="${soaFilename(report, format)}"`);
      reply.header('cache-control', 'no-store');
      if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(renderSoaCsv(report));
      if (format === 'xlsx') return reply.type(XLSX_TYPE).send(await renderSoaXlsx(report));
      return reply.type('application/json; charset=utf-8').send(report);
    },
  });

  app.post('/controls/import', {
    config: { role: 'editor' },
    schema: {
      tags: ['controls'],
      operationId: 'importSoa',
      summary: 'Import the Statement of Applicability from CSV or XLSX: every row checked first, then all changes in one transaction',
      description:
        'multipart/form-data with one `file` part (.csv UTF-8 or .xlsx, detected by content, at most 5 MiB and ' +
        `${SOA_IMPORT_LIMITS.dataRows} data rows) and an optional \`dryRun\` field (\`true\` checks and counts without writing; ` +
        '`?dryRun=true` works too). Columns are matched by header name, case-insensitively, as the export writes them ' +
        `(${COLUMNS_DOC}); \`ref\`, \`applicable\`, \`status\`, \`implementation\` and \`responsibility\` are required, others optional, ` +
        'extra columns ignored. In a workbook, the first visible worksheet with a `ref` header is read. Rows with every answer field ' +
        'blank are skipped. A `version` value must equal the current version, else the row is stale; a blank version overwrites. ' +
        'Any problem in any row answers 422 with every problem as `errors[].field` = `row <n>/<column>` and nothing is written. ' +
        'Unsupported files are 415, corrupt or encrypted ones 400, too many rows or too big a file 413.',
      querystring: Type.Object({ dryRun: Type.Optional(Type.Boolean({ description: 'Same as the `dryRun` form field.' })) }),
      'x-multipart': ImportForm,
      response: withProblems({ 200: ImportResult }, ['unprocessable', 'version_conflict']),
    },
    handler: async (req) => {
      const { file, dryRun } = await readImportForm(req);
      return importSoa(req.ctx(), file.data, {
        dryRun: dryRun ?? req.query.dryRun ?? false,
        filename: file.filename,
        read: (b) => req.server.parsers.readSoa(b),
      });
    },
  });
};
