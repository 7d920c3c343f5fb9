// The upload findings of the 2026-12-02 review, replayed through HTTP: each hostile file gets a 413
// naming the limit it hit, nothing is stored, and the server answers afterwards. Prospects (grant
// link only) have lower limits than editors.
import t, { type Test } from 'tap';
import { memberWithRole, signup, testApp, type Tenant } from '../helpers/app.js';
import { multipart } from '../helpers/multipart.js';
import { prospectGrant } from '../helpers/trust.js';
import { bigCsv, lyingSoaWorkbook, manyCellsWorkbook, nestedVsaq, oneCellCsv } from '../helpers/hostile.js';
import type { App } from '../../src/app.js';

const upload = (app: App, url: string, headers: Record<string, string>, filename: string, content: Buffer | string) => {
  const body = multipart({}, [{ filename, content }]);
  return app.inject({ method: 'POST', url, headers: { ...headers, ...body.headers }, payload: body.payload });
};

async function stillServing(t: Test, app: App) {
  const health = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(health.statusCode, 200, 'the server still answers');
}

async function questionnaireCount(app: App, a: Tenant): Promise<number> {
  const list = await app.inject({ method: 'GET', url: '/api/v1/questionnaires', headers: a.auth });
  const body = list.json() as { items?: unknown[] } | unknown[];
  return Array.isArray(body) ? body.length : (body.items ?? []).length;
}

t.test('editor uploads: each hostile questionnaire is a 413 naming its limit, and nothing is stored', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  const url = '/api/v1/questionnaires';
  const cases: Array<[string, string, Buffer, RegExp]> = [
    // Finding 1: the review's 5 MB VSAQ, 2,500 nested blocks with long titles.
    ['nested VSAQ (2,500 blocks)', 'nested.json', nestedVsaq(2500, 2000), /limit: nesting depth/],
    // Within the nesting cap, but the section path (titles joined) passes its length cap.
    ['nested VSAQ (long section path)', 'sections.json', nestedVsaq(20, 100), /limit: section length/],
    // Finding 9: cells counted in the sheet XML before exceljs builds any.
    ['XLSX of 600,000 cells', 'cells.xlsx', manyCellsWorkbook(600_000), /limit: cells/],
    ['CSV of 12 MB', 'big.csv', bigCsv(12 * 1024 * 1024), /limit: text file bytes/],
    ['CSV of 600,000 tiny cells', 'cells.csv', Buffer.from('a,b,c,d,e,f,g,h,i,j\n'.repeat(60_001)), /limit: cells/],
    ['CSV whose question is one 1 MB cell', 'cell.csv', oneCellCsv(1024 * 1024), /limit: characters per row/],
  ];
  for (const [what, name, file, limit] of cases) {
    const r = await upload(app, url, a.auth, name, file);
    t.equal(r.statusCode, 413, `${what}: ${r.body.slice(0, 300)}`);
    t.match(r.json().detail, limit, `${what}: the detail names the limit`);
  }
  t.equal(await questionnaireCount(app, a), 0, 'nothing was stored');
  await stillServing(t, app);
  const ok = await upload(app, url, a.auth, 'q.csv', 'ID,Question\nQ1,Do you encrypt data at rest?\n');
  t.equal(ok.statusCode, 201, 'the parser pool still reads an ordinary file');
});

t.test('the prospect path has lower limits than the editor path', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  const { base } = await prospectGrant(app, a);
  // A 20,000-character question: within the editor's 32,767 per cell, over the prospect's 8,000.
  const long = `ID,Question\nQ1,Do you ${'really '.repeat(2857)}encrypt data?\n`;
  const editor = await upload(app, '/api/v1/questionnaires', a.auth, 'long.csv', long);
  t.equal(editor.statusCode, 201, editor.body.slice(0, 300));
  const prospect = await upload(app, `${base}/questionnaires`, {}, 'long.csv', long);
  t.equal(prospect.statusCode, 413, prospect.body.slice(0, 300));
  t.match(prospect.json().detail, /limit: characters per cell/);

  const nested = await upload(app, `${base}/questionnaires`, {}, 'nested.json', nestedVsaq(2500, 2000));
  t.equal(nested.statusCode, 413, 'finding 1 through a grant link');
  t.match(nested.json().detail, /limit: text file bytes/, "the 5 MB file is over the prospect's 2 MiB");
  // 30 blocks: JSON 62 levels deep, within the editor's 64, over the prospect's 32.
  const deep = await upload(app, `${base}/questionnaires`, {}, 'deep.json', nestedVsaq(30, 10));
  t.equal(deep.statusCode, 413, deep.body.slice(0, 300));
  t.match(deep.json().detail, /limit: nesting depth/);
  t.equal((await upload(app, '/api/v1/questionnaires', a.auth, 'deep.json', nestedVsaq(30, 10))).statusCode, 201, 'the editor may upload it');
  const cells = await upload(app, `${base}/questionnaires`, {}, 'cells.xlsx', manyCellsWorkbook(150_000));
  t.equal(cells.statusCode, 413, 'a workbook the editor could upload is too big for a prospect');
  t.match(cells.json().detail, /limit: (cells|uncompressed bytes)/);
  t.equal(await questionnaireCount(app, a), 2, "only the editor's uploads were stored");
  await stillServing(t, app);
});

t.test('SoA import: a workbook that lies about its sizes is refused before it inflates past them', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  const editor = await memberWithRole(app, a, 'editor');
  const importSoa = (file: Buffer, filename: string) => upload(app, '/api/v1/controls/import', editor.auth, filename, file);

  // Finding 2: a sheet that declares 1,000 bytes and inflates to 64 MiB (the review's: 1 GiB).
  const lying = await importSoa(lyingSoaWorkbook(64 * 1024 * 1024, 1000), 'soa.xlsx');
  t.equal(lying.statusCode, 413, lying.body.slice(0, 300));
  t.match(lying.json().detail, /limit: declared size/);
  const cells = await importSoa(manyCellsWorkbook(250_000), 'soa.xlsx');
  t.equal(cells.statusCode, 413, cells.body.slice(0, 300));
  t.match(cells.json().detail, /limit: cells/);
  const cell = await importSoa(oneCellCsv(1024 * 1024), 'soa.csv');
  t.equal(cell.statusCode, 413, cell.body.slice(0, 300));

  const soa = await app.inject({ method: 'GET', url: '/api/v1/reports/soa', headers: a.auth });
  t.equal(soa.json().summary.answered, 0, 'nothing was imported');
  await stillServing(t, app);
  const ok = await importSoa(
    Buffer.from('ref,applicable,status,implementation,responsibility\nA.5.1,yes,implemented,Policies are approved yearly.,provider\n'),
    'soa.csv',
  );
  t.equal(ok.statusCode, 200, ok.body.slice(0, 300));
});
