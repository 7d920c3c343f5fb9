import t from 'tap';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { App } from '../../../src/app.js';
import { memberWithRole, signup, testApp, type Tenant } from '../../helpers/app.js';

interface Part {
  name: string;
  value: string | Buffer;
  filename?: string;
  contentType?: string;
}

/** A multipart/form-data body built by hand, as a browser or curl -F would send it. */
function multipartBody(parts: Part[]) {
  const boundary = `----soa-test-${Math.random().toString(36).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    const type = p.filename !== undefined ? `Content-Type: ${p.contentType ?? 'application/octet-stream'}\r\n` : '';
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`));
    chunks.push(Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

const COLUMNS = [
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
  'evidenceCurrent',
  'evidenceExpired',
];

const answer = {
  applicable: true,
  status: 'implemented',
  implementation: 'Okta with WebAuthn for all staff; SSO everywhere.',
  responsibility: 'shared',
  visibility: 'internal',
};

function helpers(app: App) {
  const put = async (who: Tenant, ref: string, payload: object, version?: number) => {
    const r = await app.inject({
      method: 'PUT',
      url: `/api/v1/controls/${ref}`,
      headers: who.auth,
      payload: { ...answer, ...payload, ...(version !== undefined ? { version } : {}) },
    });
    if (r.statusCode !== 200) throw new Error(`put ${ref}: ${r.statusCode} ${r.body}`);
    return r.json();
  };
  const get = (who: Tenant, ref: string) => app.inject({ method: 'GET', url: `/api/v1/controls/${ref}`, headers: who.auth });
  const history = async (who: Tenant, ref: string) =>
    (await app.inject({ method: 'GET', url: `/api/v1/controls/${ref}/history`, headers: who.auth })).json().items as Array<{
      version: number;
      changedFields: string[];
    }>;
  const exportSoa = (who: Tenant | null, format?: string) =>
    app.inject({ method: 'GET', url: `/api/v1/reports/soa${format ? `?format=${format}` : ''}`, headers: who ? who.auth : {} });
  const importSoa = (who: Tenant | null, file: string | Buffer, opts: { filename?: string; dryRun?: string; query?: string; extra?: Part[] } = {}) => {
    const parts: Part[] = [{ name: 'file', value: file, filename: opts.filename ?? 'soa.csv', contentType: 'text/csv' }];
    if (opts.dryRun !== undefined) parts.push({ name: 'dryRun', value: opts.dryRun });
    const body = multipartBody([...parts, ...(opts.extra ?? [])]);
    return app.inject({
      method: 'POST',
      url: `/api/v1/controls/import${opts.query ?? ''}`,
      headers: { ...(who ? who.auth : {}), 'content-type': body.contentType },
      payload: body.payload,
    });
  };
  const audit = async (who: Tenant, action: string) =>
    (await app.inject({ method: 'GET', url: `/api/v1/audit-events?action=${action}`, headers: who.auth })).json().items as Array<{
      summary: Record<string, unknown>;
    }>;
  return { put, get, history, exportSoa, importSoa, audit };
}

const csvRecords = (body: string | Buffer) => parse(body, { bom: true, relax_column_count: true }) as string[][];

async function readXlsx(buf: Buffer) {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buf as unknown as ExcelJS.Buffer);
  return wb;
}

t.test('export: JSON, CSV and XLSX with every answerable control in catalog order', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const { put, exportSoa } = helpers(app);
  await put(a, 'A.5.1', { visibility: 'public', publicSummary: 'Policies reviewed yearly.', reviewDueAt: '2026-12-31T00:00:00.000Z', owner: 'CISO' });
  await put(a, 'A.7.11', { applicable: false, status: 'not_implemented', justification: 'No premises with processing equipment.' });
  await put(a, 'CLD.15.1.3', { status: 'planned', responsibility: 'provider', providerStatement: 'Monitoring dashboards for customers.' });

  const json = await exportSoa(a);
  t.equal(json.statusCode, 200);
  const body = json.json();
  t.equal(body.rows.length, 100, '93 Annex A controls + 7 CLD controls');
  t.same(
    body.rows.slice(0, 93).map((r: { framework: string }) => r.framework),
    Array(93).fill('iso27001-2022'),
  );
  t.same(
    body.rows.slice(93).map((r: { framework: string }) => r.framework),
    Array(7).fill('iso27017-2015'),
  );
  t.equal(body.rows[0].ref, 'A.5.1');
  t.equal(body.rows[1].ref, 'A.5.2');
  t.equal(body.rows[92].ref, 'A.8.34');
  t.equal(body.rows[93].ref, 'CLD.6.3.1');
  t.equal(body.rows[99].ref, 'CLD.13.1.4');
  t.match(body.rows[0], {
    title: String,
    applicable: true,
    status: 'implemented',
    version: 1,
    owner: 'CISO',
    reviewDueAt: '2026-12-31T00:00:00.000Z',
    visibility: 'public',
  });
  t.match(body.rows[1], { ref: 'A.5.2', applicable: null, status: null, implementation: null, version: null, updatedAt: null });
  t.match(body.rows[99], { status: 'planned', responsibility: 'provider', providerStatement: 'Monitoring dashboards for customers.' });
  t.same(body.organization, { id: a.orgId, slug: a.slug, name: `Org ${a.slug}` });
  t.same(body.summary, {
    total: 100,
    answered: 3,
    applicable: 2,
    excluded: 1,
    byStatus: { implemented: 1, partially_implemented: 0, planned: 1, not_implemented: 0 },
  });
  t.match(json.headers['content-disposition'], new RegExp(`^attachment; filename="soa-${a.slug}-\\d{4}-\\d{2}-\\d{2}\\.json"$`));
  t.same((await exportSoa(a, 'json')).json().rows, body.rows, 'format=json is the default');
  t.same(Object.keys(body.rows[0]), COLUMNS, 'a JSON row has every column of the CSV and the workbook, in their order');
  t.match(body.rows[0], { evidenceCurrent: 0, evidenceExpired: 0 });

  const csv = await exportSoa(a, 'csv');
  t.equal(csv.statusCode, 200);
  t.match(csv.headers['content-type'], /^text\/csv/);
  t.match(csv.headers['content-disposition'], new RegExp(`^attachment; filename="soa-${a.slug}-\\d{4}-\\d{2}-\\d{2}\\.csv"$`));
  t.ok(csv.body.includes('\r\n'), 'CRLF line endings (RFC 4180)');
  const records = csvRecords(csv.body);
  t.same(records[0], COLUMNS, 'header row: exactly the column names');
  t.equal(records.length, 101);
  const byRef = new Map(records.slice(1).map((r) => [r[1], Object.fromEntries(COLUMNS.map((c, i) => [c, r[i]]))]));
  t.match(byRef.get('A.5.1'), {
    framework: 'iso27001-2022',
    applicable: 'yes',
    status: 'implemented',
    version: '1',
    visibility: 'public',
    publicSummary: 'Policies reviewed yearly.',
  });
  t.match(byRef.get('A.7.11'), { applicable: 'no', justification: 'No premises with processing equipment.' });
  t.match(byRef.get('A.5.2'), { title: /./, applicable: '', status: '', implementation: '', version: '', updatedAt: '' });

  const xlsx = await exportSoa(a, 'xlsx');
  t.equal(xlsx.statusCode, 200);
  t.equal(xlsx.headers['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  t.match(xlsx.headers['content-disposition'], new RegExp(`^attachment; filename="soa-${a.slug}-\\d{4}-\\d{2}-\\d{2}\\.xlsx"$`));
  const wb = await readXlsx(xlsx.rawPayload);
  t.same(
    wb.worksheets.map((w) => w.name),
    ['Statement of Applicability', 'About'],
  );
  const ws = wb.worksheets[0]!;
  t.same((ws.getRow(1).values as unknown[]).slice(1), COLUMNS);
  t.equal(ws.getRow(1).getCell(1).font?.bold, true, 'bold header');
  t.match(ws.views[0], { state: 'frozen', ySplit: 1 }, 'frozen header row');
  t.equal(ws.actualRowCount, 101, 'header + 100 data rows');
  t.ok((ws.getColumn(7).width ?? 0) >= 40, 'wide implementation column');
  const validations = (ws as unknown as { dataValidations: { model: Record<string, { type: string; formulae: string[] }> } }).dataValidations.model;
  const col = (name: string) => ws.getColumn(COLUMNS.indexOf(name) + 1).letter;
  t.match(validations[`${col('applicable')}2`], { type: 'list', formulae: ['"yes,no"'] });
  t.match(validations[`${col('status')}101`], { type: 'list', formulae: ['"implemented,partially_implemented,planned,not_implemented"'] });
  t.match(validations[`${col('responsibility')}50`], { type: 'list', formulae: ['"provider,customer,shared"'] });
  t.match(validations[`${col('visibility')}2`], { type: 'list', formulae: ['"public,internal"'] });
  t.notOk(validations[`${col('implementation')}2`], 'free text has no dropdown');
  const row2 = ws.getRow(2);
  t.equal(row2.getCell(2).value, 'A.5.1');
  t.equal(row2.getCell(4).value, 'yes');
  t.equal(row2.getCell(15).value, 1);
  const about = wb.getWorksheet('About')!;
  const aboutText = JSON.stringify(about.getSheetValues());
  t.ok(aboutText.includes(`Org ${a.slug}`), 'About names the organization');
  t.ok(aboutText.includes(body.generatedAt.slice(0, 10)), 'About has the generation time');

  t.test('any role exports; nobody without a token', async (t) => {
    const viewer = await memberWithRole(app, a, 'viewer');
    t.equal((await exportSoa(viewer, 'csv')).statusCode, 200);
    t.equal((await exportSoa(viewer, 'xlsx')).statusCode, 200);
    const none = await exportSoa(null, 'csv');
    t.equal(none.statusCode, 401);
    t.equal(none.json().code, 'unauthenticated');
    t.equal((await exportSoa(a, 'pdf')).statusCode, 400);
  });

  t.test("tenant B's export has none of tenant A's text", async (t) => {
    const b = await signup(app);
    for (const format of ['json', 'csv']) {
      const r = await exportSoa(b, format);
      t.notOk(r.body.includes('Okta with WebAuthn'), format);
      t.notOk(r.body.includes('No premises with processing equipment'), format);
      t.notOk(r.body.includes(a.slug), format);
    }
    const wbB = await readXlsx((await exportSoa(b, 'xlsx')).rawPayload);
    t.notOk(JSON.stringify(wbB.worksheets.map((w) => w.getSheetValues())).includes('Okta with WebAuthn'));
    t.equal((await exportSoa(b)).json().summary.answered, 0);
  });
});

t.test('formula injection is neutralized in CSV and XLSX, and the import undoes it exactly', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const { put, get, exportSoa, importSoa } = helpers(app);
  const evil = {
    implementation: '=HYPERLINK("http://evil.example","click")',
    providerStatement: '+1 555 0100',
    customerStatement: '-2+3',
    owner: '@admin',
    visibility: 'public',
    publicSummary: '\tTabbed',
    justification: "'=already quoted",
  };
  await put(a, 'A.5.9', evil);
  await put(a, 'A.5.10', { implementation: '\rcarriage', owner: "'plain apostrophe" });

  const csv = await exportSoa(a, 'csv');
  const rows = csvRecords(csv.body);
  const row = Object.fromEntries(COLUMNS.map((c, i) => [c, rows.find((r) => r[1] === 'A.5.9')![i]]));
  t.equal(row.implementation, `'${evil.implementation}`);
  t.equal(row.providerStatement, "'+1 555 0100");
  t.equal(row.customerStatement, "'-2+3");
  t.equal(row.owner, "'@admin");
  t.equal(row.publicSummary, "'\tTabbed");
  t.equal(row.justification, "''=already quoted", 'an apostrophe already there gets one more, so the import can strip exactly one');
  const row10 = rows.find((r) => r[1] === 'A.5.10')!;
  t.equal(row10[COLUMNS.indexOf('implementation')], "'\rcarriage");
  t.equal(row10[COLUMNS.indexOf('owner')], "'plain apostrophe", 'harmless text is left alone');
  for (const r of rows.slice(1)) {
    for (const cell of r) t.notOk(/^[=+\-@\t\r]/.test(cell), `no CSV cell starts a formula (${r[1]})`);
  }

  const xlsx = await exportSoa(a, 'xlsx');
  const ws = (await readXlsx(xlsx.rawPayload)).worksheets[0]!;
  let formulaCells = 0;
  ws.eachRow((r) =>
    r.eachCell((c) => {
      if (c.type === ExcelJS.ValueType.Formula) formulaCells++;
      if (typeof c.value === 'string' && /^[=+\-@\t\r]/.test(c.value)) formulaCells++;
    }),
  );
  t.equal(formulaCells, 0, 'no XLSX cell is or starts a formula');
  const xlsxRow = ws.getRow(2 + 8); // A.5.9 is the 9th control
  t.equal(xlsxRow.getCell(2).value, 'A.5.9');
  t.equal(xlsxRow.getCell(7).value, `'${evil.implementation}`);

  for (const [name, file] of [
    ['soa.csv', csv.rawPayload],
    ['soa.xlsx', xlsx.rawPayload],
  ] as const) {
    const r = await importSoa(a, file, { filename: name });
    t.equal(r.statusCode, 200, r.body);
    t.match(r.json(), { created: 0, updated: 0, unchanged: 2, skipped: 98 }, `${name}: the neutralized text re-imports as the original`);
  }
  const stored = (await get(a, 'A.5.9')).json();
  t.match(stored, { ...evil, version: 1 });
  t.match((await get(a, 'A.5.10')).json(), { implementation: '\rcarriage', owner: "'plain apostrophe", version: 1 });
});

t.test('round trip: an unchanged export re-imports as unchanged; edits make new versions', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const { put, get, history, exportSoa, importSoa, audit } = helpers(app);
  await put(a, 'A.5.1', { visibility: 'public', publicSummary: 'Policies reviewed yearly.', reviewDueAt: '2026-12-31T00:00:00.000Z' });
  await put(a, 'A.5.15', { implementation: 'Line one\nLine two, with "quotes", commas; and semicolons.\n\n- a list item' });
  await put(a, 'A.7.11', { applicable: false, status: 'not_implemented', justification: 'No premises.' });
  await put(a, 'A.8.5', { status: 'partially_implemented', owner: 'Head of IT', customerStatement: 'Customers enable SSO. Ünïcödé ✓' });
  await put(a, 'CLD.13.1.4', { responsibility: 'provider' });
  await put(a, 'A.8.5', { status: 'implemented' }, 1);

  const csv = (await exportSoa(a, 'csv')).rawPayload;
  const xlsx = (await exportSoa(a, 'xlsx')).rawPayload;
  for (const [name, file] of [
    ['soa.csv', csv],
    ['soa.xlsx', xlsx],
  ] as const) {
    const r = await importSoa(a, file, { filename: name });
    t.equal(r.statusCode, 200, r.body);
    t.same(r.json(), { format: name.slice(4), created: 0, updated: 0, unchanged: 5, skipped: 95, dryRun: false, changes: [] }, `${name} re-imports unchanged`);
  }
  t.equal((await history(a, 'A.5.15')).length, 1, 'no new versions');
  t.equal((await history(a, 'A.8.5')).length, 2);

  t.test('edited CSV: updated rows get new versions; a filled-in blank row is created', async (t) => {
    const records = csvRecords(csv);
    const idx = (c: string) => COLUMNS.indexOf(c);
    const rowOf = (ref: string) => records.find((r) => r[1] === ref)!;
    rowOf('A.5.15')[idx('status')] = 'partially_implemented';
    rowOf('CLD.13.1.4')[idx('owner')] = 'Platform team';
    const blank = rowOf('A.6.3');
    Object.assign(blank, {
      [idx('applicable')]: 'yes',
      [idx('status')]: 'planned',
      [idx('implementation')]: 'Annual awareness course.',
      [idx('responsibility')]: 'provider',
    });
    const r = await importSoa(a, stringify(records));
    t.equal(r.statusCode, 200, r.body);
    t.match(r.json(), { created: 1, updated: 2, unchanged: 3, skipped: 94, dryRun: false });
    t.same(
      r.json().changes.map((c: { ref: string; outcome: string; version: number }) => [c.ref, c.outcome, c.version]),
      [
        ['A.5.15', 'updated', 2],
        ['A.6.3', 'created', 1],
        ['CLD.13.1.4', 'updated', 2],
      ],
    );
    const h = await history(a, 'A.5.15');
    t.same(
      h.map((v) => v.version),
      [2, 1],
    );
    t.same(h[0]!.changedFields, ['status']);
    t.same((await history(a, 'CLD.13.1.4'))[0]!.changedFields, ['owner']);
    t.match((await get(a, 'A.6.3')).json(), { version: 1, status: 'planned', visibility: 'internal', applicable: true });
    t.match((await get(a, 'A.5.15')).json(), { implementation: 'Line one\nLine two, with "quotes", commas; and semicolons.\n\n- a list item' });
    const imported = await audit(a, 'controls.imported');
    t.match(imported[0]!.summary, { format: 'csv', created: 1, updated: 2, unchanged: 3, skipped: 94 });
    const perRow = await app.inject({ method: 'GET', url: '/api/v1/audit-events?targetType=control&targetId=iso27001-2022:A.5.15', headers: a.auth });
    t.match(perRow.json().items[0], { action: 'control.updated', summary: { version: 2, via: 'import' } });
  });

  t.test('edited XLSX: the old file is now stale where it changed; a fresh export edits cleanly', async (t) => {
    const stale = await importSoa(a, xlsx, { filename: 'soa.xlsx' });
    t.equal(stale.statusCode, 422, 'A.5.15 and CLD.13.1.4 moved on since that export');
    t.same(
      stale.json().errors.map((e: { field: string }) => e.field),
      ['row 16/version', 'row 101/version'],
    );
    const wb = await readXlsx((await exportSoa(a, 'xlsx')).rawPayload);
    const ws = wb.worksheets[0]!;
    ws.getRow(2).getCell(COLUMNS.indexOf('status') + 1).value = 'planned'; // A.5.1
    ws.getRow(2).getCell(COLUMNS.indexOf('reviewDueAt') + 1).value = new Date('2027-03-31T00:00:00Z'); // a real date cell
    const r = await importSoa(a, Buffer.from(await wb.xlsx.writeBuffer()), { filename: 'edited.xlsx' });
    t.equal(r.statusCode, 200, r.body);
    t.match(r.json(), { format: 'xlsx', created: 0, updated: 1, unchanged: 5 });
    t.same((await history(a, 'A.5.1'))[0]!.changedFields, ['status', 'reviewDueAt']);
    t.match((await get(a, 'A.5.1')).json(), { version: 2, status: 'planned', reviewDueAt: '2027-03-31T00:00:00.000Z' });
  });
});

t.test('a bad file is refused whole: 422 lists every problem and nothing is written', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const { put, get, exportSoa, importSoa, audit } = helpers(app);
  await put(a, 'A.5.1', {});
  await put(a, 'A.5.1', { status: 'planned' }, 1);
  const row = (o: Record<string, string>) => COLUMNS.map((c) => o[c] ?? '');
  const good = { applicable: 'yes', status: 'implemented', implementation: 'Done.', responsibility: 'provider' };
  const file = stringify([
    COLUMNS,
    row({ ...good, ref: 'A.99.1' }), // 2: unknown ref
    row({ ...good, ref: 'A.5.2', status: 'done' }), // 3: bad status
    row({ ...good, ref: 'A.5.3', applicable: 'no' }), // 4: no justification
    row({ ...good, ref: 'A.5.4' }), // 5: fine
    row({ ...good, ref: 'a.5.4' }), // 6: duplicate
    row({ ...good, ref: 'A.5.1', version: '1' }), // 7: stale (now at 2)
    row({ ...good, ref: 'A.5.5' }), // 8: fine
    row({
      ref: 'A.5.6',
      applicable: 'maybe',
      status: 'planned',
      responsibility: 'vendor',
      reviewDueAt: '31/12/2026',
      visibility: 'internal',
      publicSummary: 'x',
    }), // 9
    row({ ...good, ref: 'CLD.9.5.1', framework: 'iso27001-2022', implementation: 'x'.repeat(20001) }), // 10
    row({ ...good, ref: '' }), // 11: answer without ref
    row({}), // 12: blank line, ignored
  ]);
  const r = await importSoa(a, file);
  t.equal(r.statusCode, 422);
  t.equal(r.json().code, 'unprocessable');
  t.match(r.json().detail, /8 rows have problems; nothing was imported/);
  t.same(
    r.json().errors.map((e: { field: string }) => e.field),
    [
      'row 2/ref',
      'row 3/status',
      'row 4/justification',
      'row 6/ref',
      'row 7/version',
      'row 9/applicable',
      'row 9/implementation',
      'row 9/responsibility',
      'row 9/reviewDueAt',
      'row 9/publicSummary',
      'row 10/framework',
      'row 10/implementation',
      'row 11/ref',
    ],
  );
  const msg = (f: string) => r.json().errors.find((e: { field: string }) => e.field === f).message;
  t.match(msg('row 6/ref'), /A.5.4 already appears in row 5/);
  t.match(msg('row 7/version'), /is 1, but A.5.1 is at version 2/);
  t.match(msg('row 10/implementation'), /at most 20000/);
  t.equal((await get(a, 'A.5.4')).statusCode, 404, 'the good rows were not written either');
  t.equal((await get(a, 'A.5.5')).statusCode, 404);
  t.equal((await get(a, 'A.5.1')).json().version, 2);
  t.equal((await exportSoa(a)).json().summary.answered, 1);
  t.same(await audit(a, 'controls.imported'), []);

  t.test('the header must name the required columns', async (t) => {
    const r = await importSoa(a, 'ref,status,Status\nA.5.2,implemented,planned\n');
    t.equal(r.statusCode, 422);
    t.same(
      r.json().errors.map((e: { field: string }) => e.field),
      ['row 1/applicable', 'row 1/status', 'row 1/implementation', 'row 1/responsibility'],
    );
    const noRef = await importSoa(a, 'hello,world\n1,2\n');
    t.equal(noRef.statusCode, 422);
    t.same(
      noRef.json().errors.map((e: { field: string }) => e.field),
      ['row 1/ref', 'row 1/applicable', 'row 1/status', 'row 1/implementation', 'row 1/responsibility'],
    );
  });
});

t.test('flexible input: headers in any case and order, aliases, ; delimiters, a workbook whose SoA is not the first sheet', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const { get, importSoa } = helpers(app);
  const csv =
    '\uFEFFRef;Applicable;Status;Implementation;Responsibility;Notes\r\nCLD.15.1.3;TRUE;Partially implemented;Dashboards;shared;ignored\r\n;;;;;\r\nA.5.2;yes;implemented;Roles are defined.;provider;\r\n';
  const r = await importSoa(a, csv);
  t.equal(r.statusCode, 200, r.body);
  t.match(r.json(), { format: 'csv', created: 2, updated: 0, unchanged: 0, skipped: 0 });
  t.match((await get(a, 'CLD.13.1.4')).json(), { version: 1, status: 'partially_implemented', implementation: 'Dashboards' });

  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('Notes').addRow(['Anything here', 'is ignored']);
  const ws = wb.addWorksheet('SoA');
  ws.addRow(['REF', 'applicable', 'status', 'implementation', 'responsibility', 'version']);
  ws.addRow(['A.5.2', true, 'planned', { richText: [{ text: 'Rich ' }, { text: 'text', font: { bold: true } }] }, 'provider', 1]);
  ws.addRow(['A.5.3', 'no', 'not_implemented', 'n/a', 'customer', '']).getCell(7).value = 'a note outside the columns';
  ws.getRow(3).getCell(8).value = 'extra';
  const r2 = await importSoa(a, Buffer.from(await wb.xlsx.writeBuffer()), { filename: 'mine.xlsx' });
  t.equal(r2.statusCode, 422, 'A.5.3 is excluded without a justification');
  t.same(r2.json().errors, [{ field: 'row 3/justification', message: 'is required when the control is not applicable (the SoA must say why it is excluded)' }]);
  ws.getRow(3).getCell(1).value = null;
  ws.getRow(3).values = [];
  const r3 = await importSoa(a, Buffer.from(await wb.xlsx.writeBuffer()), { filename: 'mine.xlsx' });
  t.equal(r3.statusCode, 200, r3.body);
  t.match(r3.json(), { format: 'xlsx', created: 0, updated: 1 });
  t.match((await get(a, 'A.5.2')).json(), { version: 2, status: 'planned', implementation: 'Rich text' });
});

t.test('dry run: counts what would happen and writes nothing', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const { put, get, history, importSoa, audit } = helpers(app);
  await put(a, 'A.5.1', {});
  const file = [
    'ref,applicable,status,implementation,responsibility,visibility,version',
    `A.5.1,yes,planned,${answer.implementation},shared,internal,1`,
    'A.5.2,yes,implemented,New.,provider,,',
    'A.5.3,,,,,,',
  ].join('\n');
  for (const opts of [{ dryRun: 'true' }, { query: '?dryRun=true' }, { dryRun: '1' }]) {
    const r = await importSoa(a, file, opts);
    t.equal(r.statusCode, 200, r.body);
    t.same(r.json(), {
      format: 'csv',
      created: 1,
      updated: 1,
      unchanged: 0,
      skipped: 1,
      dryRun: true,
      changes: [
        { row: 2, framework: 'iso27001-2022', ref: 'A.5.1', outcome: 'updated', version: 2, changedFields: ['status'] },
        {
          row: 3,
          framework: 'iso27001-2022',
          ref: 'A.5.2',
          outcome: 'created',
          version: 1,
          changedFields: [
            'applicable',
            'status',
            'implementation',
            'responsibility',
            'providerStatement',
            'customerStatement',
            'justification',
            'owner',
            'reviewDueAt',
            'visibility',
            'publicSummary',
          ],
        },
      ],
    });
  }
  t.equal((await get(a, 'A.5.2')).statusCode, 404);
  t.equal((await history(a, 'A.5.1')).length, 1);
  t.same(await audit(a, 'controls.imported'), []);
  t.equal((await importSoa(a, file, { dryRun: 'perhaps' })).statusCode, 400);
  const stale = await importSoa(a, file.replace(',internal,1', ',internal,7'), { dryRun: 'true' });
  t.equal(stale.statusCode, 422, 'a dry run reports the same problems');
  const real = await importSoa(a, file, { dryRun: 'false' });
  t.match(real.json(), { created: 1, updated: 1, skipped: 1, dryRun: false });
  t.equal((await get(a, 'A.5.1')).json().version, 2);
});

t.test('refusals: type, corruption, size, auth and role', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const { get, importSoa } = helpers(app);
  const header = 'ref,applicable,status,implementation,responsibility\n';

  const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
  const notSheet = await importSoa(a, png, { filename: 'soa.csv' });
  t.equal(notSheet.statusCode, 415);
  t.equal(notSheet.json().code, 'unsupported_media_type');
  const latin1 = await importSoa(a, Buffer.concat([Buffer.from(header), Buffer.from('A.5.1,yes,implemented,Caf\xe9,provider\n', 'latin1')]));
  t.equal(latin1.statusCode, 415, 'CSV must be UTF-8');
  const xls = await importSoa(a, Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(512)]), { filename: 'old.xls' });
  t.equal(xls.statusCode, 415, 'legacy .xls');
  const encrypted = await importSoa(a, Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(64), Buffer.from('EncryptionInfo', 'utf16le')]), {
    filename: 'soa.xlsx',
  });
  t.equal(encrypted.statusCode, 400);
  t.match(encrypted.json().detail, /password-protected/);
  const zipNotXlsx = await importSoa(
    a,
    await (async () => {
      const wb = new ExcelJS.Workbook();
      wb.addWorksheet('x');
      const buf = Buffer.from(await wb.xlsx.writeBuffer());
      return Buffer.from(buf.toString('latin1').replaceAll('xl/workbook.xml', 'xl/notebook.xml'), 'latin1');
    })(),
    { filename: 'soa.xlsx' },
  );
  t.equal(zipNotXlsx.statusCode, 415, 'a ZIP that is not a workbook');
  const json = await app.inject({ method: 'POST', url: '/api/v1/controls/import', headers: a.auth, payload: { file: 'x' } });
  t.equal(json.statusCode, 415, 'not multipart');

  const corrupt = await importSoa(a, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.from('garbage '.repeat(100))]), { filename: 'soa.xlsx' });
  t.equal(corrupt.statusCode, 400);
  t.equal(corrupt.json().code, 'bad_request');
  t.match(corrupt.json().detail, /corrupt/);
  const wb = new ExcelJS.Workbook();
  wb.addWorksheet('SoA').addRow(['ref', 'applicable', 'status', 'implementation', 'responsibility']);
  const real = Buffer.from(await wb.xlsx.writeBuffer());
  const truncated = await importSoa(a, real.subarray(0, real.length - 200), { filename: 'soa.xlsx' });
  t.equal(truncated.statusCode, 400, 'a truncated workbook');
  t.equal((await importSoa(a, Buffer.alloc(0))).statusCode, 400, 'an empty file');
  const noFile = multipartBody([{ name: 'dryRun', value: 'true' }]);
  const missing = await app.inject({
    method: 'POST',
    url: '/api/v1/controls/import',
    headers: { ...a.auth, 'content-type': noFile.contentType },
    payload: noFile.payload,
  });
  t.equal(missing.statusCode, 400, 'no file part');
  t.same(missing.json().errors, [{ field: 'body/file', message: 'is required' }]);

  const rows = Array.from({ length: 1001 }, (_, i) => `A.5.${(i % 37) + 1},yes,implemented,Row ${i},provider`).join('\n');
  const tooMany = await importSoa(a, header + rows);
  t.equal(tooMany.statusCode, 413);
  t.equal(tooMany.json().code, 'payload_too_large');
  t.match(tooMany.json().detail, /1001 data rows; an import takes at most 1000/);
  const big = await importSoa(a, Buffer.concat([Buffer.from(header), Buffer.alloc(5 * 1024 * 1024 + 10, 'a')]));
  t.equal(big.statusCode, 413);
  t.match(big.json().detail, /larger than 5 MiB/);
  const twoFiles = await importSoa(a, header, { extra: [{ name: 'file', value: header, filename: 'b.csv' }] });
  t.equal(twoFiles.statusCode, 413, 'one file only');
  t.equal((await get(a, 'A.5.1')).statusCode, 404, 'nothing written by any of these');

  const ok = header + 'A.5.1,yes,implemented,Done.,provider\n';
  const anon = await importSoa(null, ok);
  t.equal(anon.statusCode, 401);
  const viewer = await memberWithRole(app, a, 'viewer');
  const denied = await importSoa(viewer, ok);
  t.equal(denied.statusCode, 403);
  t.equal(denied.json().code, 'forbidden');
  const editor = await memberWithRole(app, a, 'editor');
  t.equal((await importSoa(editor, ok)).statusCode, 200, 'editors import');
  t.equal((await get(a, 'A.5.1')).json().updatedBy, editor.userId);

  const b = await signup(app);
  t.equal((await get(b, 'A.5.1')).statusCode, 404, "the import wrote into the importer's organization only");
});
