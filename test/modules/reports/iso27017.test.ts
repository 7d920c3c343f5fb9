import t from 'tap';
import ExcelJS from 'exceljs';
import { manualClock, memberWithRole, signup, testApp } from '../../helpers/app.js';

const base = { applicable: true, implementation: 'Done our way.', visibility: 'internal' };

t.test('ISO/IEC 27017 readiness', async (t) => {
  const time = manualClock(new Date('2026-06-01T00:00:00Z'));
  const app = await testApp(t, { clock: time.clock });
  const a = await signup(app);
  const b = await signup(app);
  const report = async (who = a) => {
    const r = await app.inject({ method: 'GET', url: '/api/v1/reports/iso27017-readiness', headers: who.auth });
    t.equal(r.statusCode, 200);
    return r.json();
  };
  type Item = { ref: string; gaps: string[]; expectedEvidence: string[]; ready: boolean; [k: string]: unknown };
  const item = (body: { items: Item[] }, ref: string): Item => body.items.find((i) => i.ref === ref)!;

  const empty = await report();
  t.equal(empty.summary.cloudControls.total, 7);
  t.equal(empty.summary.cloudGuidance.total, 37, 'the clauses X.1631 gives cloud guidance for');
  t.same(item(empty, 'CLD.9.5.1').gaps.sort(), ['no_current_evidence', 'not_answered']);
  t.ok(item(empty, 'CLD.9.5.1').expectedEvidence.length >= 3, 'says what an auditor expects');

  // CLD.9.5.1: shared, implemented, both statements, current evidence -> ready.
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/CLD.9.5.1',
    headers: a.auth,
    payload: {
      ...base,
      status: 'implemented',
      responsibility: 'shared',
      providerStatement: 'Tenants are isolated per VPC.',
      customerStatement: 'Customers scope their own IAM.',
    },
  });
  const ev = await app.inject({
    method: 'POST',
    url: '/api/v1/evidence',
    headers: a.auth,
    payload: { title: 'Isolation config', url: 'https://git.example.com/infra/isolation', controls: ['CLD.9.5.1'], expiresAt: '2026-09-01' },
  });
  t.equal(ev.statusCode, 201);
  // CLD.12.1.5: shared but no customer statement, partially implemented.
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/CLD.12.1.5',
    headers: a.auth,
    payload: { ...base, status: 'partially_implemented', responsibility: 'shared', providerStatement: 'JIT admin access.' },
  });
  // CLD.8.1.5: excluded with a justification: needs no evidence.
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/CLD.8.1.5',
    headers: a.auth,
    payload: { ...base, applicable: false, justification: 'We hold no customer assets.', status: 'not_implemented', responsibility: 'provider' },
  });

  const now = await report();
  t.match(item(now, 'CLD.9.5.1'), { answered: true, implemented: true, evidenced: true, ready: true, gaps: [] });
  t.same(item(now, 'CLD.12.1.5').gaps.sort(), ['missing_customer_statement', 'no_current_evidence', 'partially_implemented']);
  t.match(item(now, 'CLD.8.1.5'), { answered: true, excluded: true, implemented: true, evidenced: true });
  t.equal(now.summary.cloudControls.ready, 2);

  t.test('a guidance item is judged through the 2022 controls it maps to', async (t) => {
    const g = item(now, '12.4.1') as unknown as { mapsTo: string[]; answered: boolean; gaps: string[] };
    t.ok(g.mapsTo.includes('A.8.15'));
    t.equal(g.answered, false);
    for (const ref of g.mapsTo)
      await app.inject({
        method: 'PUT',
        url: `/api/v1/controls/${ref}`,
        headers: a.auth,
        payload: { ...base, status: 'implemented', responsibility: 'provider' },
      });
    const after = item(await report(), '12.4.1') as unknown as { answered: boolean; implemented: boolean; ready: boolean };
    t.match(after, { answered: true, implemented: true, ready: true });
  });

  t.test('expired evidence shows as a gap', async (t) => {
    time.set(new Date('2026-09-02T00:00:00Z'));
    for (const who of [a, b]) {
      const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: who.email, password: 'Correct-Horse-Battery-9' } });
      who.auth.authorization = `Bearer ${login.json().accessToken}`;
    }
    const later = await report();
    t.same(item(later, 'CLD.9.5.1').gaps, ['evidence_expired']);
    t.equal(item(later, 'CLD.9.5.1').ready, false);
  });

  t.test('tenant B sees only its own state', async (t) => {
    const other = await report(b);
    t.equal(other.summary.cloudControls.answered, 0);
  });
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/reports/iso27017-readiness' })).statusCode, 401);
});

t.test('responsibility matrix (RACI) in three formats', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/CLD.6.3.1',
    headers: a.auth,
    payload: {
      ...base,
      status: 'implemented',
      responsibility: 'shared',
      providerStatement: 'We publish the matrix.',
      customerStatement: '=HYPERLINK("http://evil")',
    },
  });
  await app.inject({ method: 'PUT', url: '/api/v1/controls/A.5.1', headers: a.auth, payload: { ...base, status: 'implemented', responsibility: 'provider' } });
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/A.7.11',
    headers: a.auth,
    payload: { ...base, applicable: false, justification: 'No premises.', status: 'not_implemented', responsibility: 'provider' },
  });

  const json = await app.inject({ method: 'GET', url: '/api/v1/reports/responsibility-matrix', headers: a.auth });
  t.equal(json.statusCode, 200);
  const body = json.json();
  t.equal(body.rows.length, 93 + 7 - 1, 'excluded controls are not in the matrix');
  t.match(
    body.rows.find((r: { ref: string }) => r.ref === 'CLD.6.3.1'),
    { responsibility: 'shared', provider: 'R,A (own side)', customer: 'R,A (own side)', providerStatement: 'We publish the matrix.' },
  );
  t.match(
    body.rows.find((r: { ref: string }) => r.ref === 'A.5.1'),
    { provider: 'R,A', customer: 'I' },
  );
  t.same(body.summary, { provider: 1, customer: 0, shared: 1, unanswered: 97 });

  const csv = await app.inject({ method: 'GET', url: '/api/v1/reports/responsibility-matrix?format=csv', headers: a.auth });
  t.match(csv.headers['content-type'], /text\/csv/);
  t.match(csv.headers['content-disposition'], /responsibility-matrix-.*\.csv/);
  t.match(
    csv.body.replace(/^\uFEFF/, '').split('\r\n')[0],
    /^framework,ref,title,responsibility,provider,customer,providerStatement,customerStatement,status,evidenceCurrent,evidenceExpired$/,
  );
  t.match(csv.body, /"'=HYPERLINK/, 'formulas are neutralized');

  const xlsx = await app.inject({ method: 'GET', url: '/api/v1/reports/responsibility-matrix?format=xlsx', headers: a.auth });
  t.equal(xlsx.statusCode, 200);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
  const ws = wb.getWorksheet('Responsibility matrix')!;
  t.equal(ws.rowCount, 100);
  t.equal(ws.getRow(1).getCell(2).value, 'ref');
  const cldRow = ws.getRows(2, 99)!.find((r) => r.getCell(2).value === 'CLD.6.3.1')!;
  t.equal(String(cldRow.getCell(8).value).startsWith("'="), true, 'neutralized in XLSX too');

  const viewer = await memberWithRole(app, a, 'viewer');
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/reports/responsibility-matrix', headers: viewer.auth })).statusCode, 200);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/reports/responsibility-matrix?format=pdf', headers: a.auth })).statusCode, 400);
  const b = await signup(app);
  const other = await app.inject({ method: 'GET', url: '/api/v1/reports/responsibility-matrix?format=csv', headers: b.auth });
  t.notMatch(other.body, /We publish the matrix/, 'no cross-tenant text');
});
