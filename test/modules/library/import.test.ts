import t from 'tap';
import ExcelJS from 'exceljs';
import { randomUUID } from 'node:crypto';
import type { App } from '../../../src/app.js';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { memberWithRole, signup, testApp, type Tenant } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';

const NO_WORKERS = { jobs: { worker: false }, webhooks: { worker: false }, expiryScanIntervalMs: 0 };

interface Entry {
  id: string;
  question: string;
  answer: { choice: string | null; text: string | null };
  status: string;
  ownerId: string;
  controls: Array<{ framework: string; ref: string }>;
  controlsConfirmed: boolean;
  import: { id: string; row: number | null } | null;
  approvedBy: string | null;
  version: number;
}
interface Row {
  row: number;
  ref: string | null;
  question: string;
  outcome: string;
  entryId: string;
  conflictsWith: string[];
}
interface ImportBody {
  importId: string;
  replayed: boolean;
  imported: number;
  duplicates: number;
  conflicts: number;
  skipped: number;
  entries: Entry[];
  rows: Row[];
}
interface Source {
  kind: string;
  id?: string;
  ref?: string;
}
interface Question {
  id: string;
  ref: string;
  answer: { choice: string | null; text: string | null; status: string; sources: Source[] } | null;
}

// A past questionnaire, as a vendor answered it for an earlier customer (our own words).
const CSV =
  [
    'ID,Section,Question,Answer,Comments',
    'AC-1,Access control,Do you enforce multi-factor authentication for administrators?,Yes,Hardware security keys for every engineer.',
    'AC-2,Access control,Are user access rights reviewed every quarter?,Partially,Reviews run twice a year.',
    'CR-1,Cryptography,Is customer data encrypted at rest?,Yes,AES-256 with keys in the provider key service.',
    'CR-2,Cryptography,Do you support customer-managed encryption keys?,No,',
    'HR-1,People,Do all employees take security awareness training every year?,Yes,',
    'HR-2,People,Describe the background checks you run when hiring.,"Every hire is screened, where local law allows.",',
    'AC-3,Access control,Is multi-factor authentication enforced for administrators?,Yes,',
    'GEN-1,General,Do you run a public bug bounty programme?,,',
  ].join('\r\n') + '\r\n';

async function workbook(rows: Array<[string, string, string, string, string]>): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Vendor answers');
  ws.addRow(['Question ID', 'Domain', 'Question', 'Response', 'Additional comments']);
  for (const r of rows) ws.addRow(r);
  ws.getRow(1).font = { bold: true };
  return Buffer.from(await wb.xlsx.writeBuffer());
}

function client(app: App) {
  const upload = (who: Tenant, file: { filename: string; content: Buffer | string }, fields: Record<string, string> = {}) => {
    const body = multipart(fields, [{ filename: file.filename, content: file.content }]);
    return app.inject({ method: 'POST', url: '/api/v1/library/import', headers: { ...who.auth, ...body.headers }, payload: body.payload });
  };
  const get = (who: Tenant, url: string) => app.inject({ method: 'GET', url: `/api/v1${url}`, headers: who.auth });
  const lib = (who: Tenant, method: 'POST' | 'PATCH', url: string, payload: object) =>
    app.inject({ method, url: `/api/v1/library${url}`, headers: who.auth, payload });
  const fill = async (who: Tenant, qs: Array<{ ref: string; text: string }>) => {
    const created = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: who.auth, payload: { name: 'New buyer', questions: qs } });
    if (created.statusCode !== 201) throw new Error(`import failed: ${created.statusCode} ${created.body}`);
    const id = created.json().id as string;
    const req = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: who.auth });
    if (req.statusCode !== 202) throw new Error(`fill failed: ${req.statusCode} ${req.body}`);
    while (await runNextJob(app.jobDeps)) {
      /* drain */
    }
    const doc = (await get(who, `/questionnaires/${id}`)).json() as { questions: Question[] };
    return Object.fromEntries(doc.questions.map((q) => [q.ref, q])) as Record<string, Question>;
  };
  return { upload, get, lib, fill };
}

t.test('a CSV of past answers: drafts with suggested controls, duplicates, conflicts, one audit record, re-import changes nothing', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { upload, get, lib, fill } = client(app);
  const a = await signup(app);
  const b = await signup(app);
  const viewer = await memberWithRole(app, a, 'viewer');

  // Already in the library: one answered the same way (a duplicate), one answered differently (a conflict).
  const same = await lib(a, 'POST', '', { question: 'Is customer data encrypted at rest?', answer: { choice: 'yes', text: 'Yes, AES-256.' } });
  const other = await lib(a, 'POST', '', {
    question: 'Do you support customer-managed encryption keys?',
    answer: { choice: 'yes', text: 'Yes, through the provider key service.' },
  });
  t.equal(same.statusCode, 201);
  t.equal(other.statusCode, 201);

  const res = await upload(a, { filename: 'acme-2025.csv', content: CSV });
  t.equal(res.statusCode, 201, res.body);
  const body = res.json() as ImportBody;
  t.match(body, { replayed: false, imported: 4, duplicates: 2, conflicts: 1, skipped: 1 }, 'counts');
  t.match(body.importId, /^[0-9a-f-]{36}$/);

  const byRef = Object.fromEntries(body.rows.map((r) => [r.ref, r]));
  t.same(Object.keys(byRef).sort(), ['AC-1', 'AC-2', 'AC-3', 'CR-1', 'CR-2', 'HR-1', 'HR-2'], 'every answered row is reported; GEN-1 has no answer');
  t.match(byRef['CR-1'], { outcome: 'duplicate', entryId: same.json().id, row: 4 }, 'same question, same answer: the existing entry stands');
  t.match(
    byRef['AC-3'],
    { outcome: 'duplicate', entryId: byRef['AC-1']!.entryId },
    'the same question reworded in the same file is a duplicate of the first row',
  );
  t.match(byRef['CR-2'], { outcome: 'conflict', conflictsWith: [other.json().id] }, 'same question, another choice: a conflict');
  for (const ref of ['AC-1', 'AC-2', 'HR-1', 'HR-2']) t.equal(byRef[ref]!.outcome, 'imported', ref);

  t.equal(body.entries.length, 5, 'four new entries and the conflicting one');
  const entry = (ref: string) => body.entries.find((e) => e.id === byRef[ref]!.entryId)!;
  t.ok(
    body.entries.every((e) => e.status === 'draft' && e.ownerId === a.userId && e.approvedBy === null),
    'drafts owned by the importer',
  );
  t.ok(
    body.entries.every((e) => e.controlsConfirmed === false && e.import?.id === body.importId),
    'suggested controls, the import recorded',
  );
  t.match(entry('AC-1'), {
    question: 'Do you enforce multi-factor authentication for administrators?',
    answer: { choice: 'yes', text: 'Hardware security keys for every engineer.' },
    import: { row: 2 },
  });
  t.match(entry('AC-2').answer, { choice: 'partial', text: 'Reviews run twice a year.' }, '"Partially" is the choice partial, the comment the text');
  t.match(entry('CR-2').answer, { choice: 'no', text: null });
  t.match(entry('HR-2').answer, { choice: null, text: 'Every hire is screened, where local law allows.' }, 'an answer that is no choice word is the text');
  t.ok(
    body.entries.every((e) => e.controls.length >= 1 && e.controls.length <= 3),
    'one to three suggested controls each',
  );
  t.ok(
    entry('AC-1').controls.some((c) => c.ref === 'A.8.5'),
    `MFA suggests A.8.5: ${JSON.stringify(entry('AC-1').controls)}`,
  );
  t.ok(
    entry('HR-1').controls.some((c) => c.ref === 'A.6.3'),
    `awareness training suggests A.6.3: ${JSON.stringify(entry('HR-1').controls)}`,
  );
  const stored = (await get(a, `/library/${entry('AC-1').id}`)).json() as Entry;
  t.same(stored.controls, entry('AC-1').controls, "the suggestions are stored as the entry's controls");

  const audit = (await get(a, '/audit-events?action=library.imported')).json().items as Array<{ target: { id: string }; summary: Record<string, unknown> }>;
  t.equal(audit.length, 1, 'one audit record for the whole import');
  t.match(audit[0], { target: { id: body.importId }, summary: { fileName: 'acme-2025.csv', rows: 7, imported: 4, duplicates: 2, conflicts: 1, skipped: 1 } });
  t.equal((await get(a, '/audit-events?action=library.created')).json().items.length, 2, 'no record per row (only the two entries made by hand)');

  const before = (await get(a, '/library?limit=200')).json().items.length;
  t.equal(before, 7);
  const again = await upload(a, { filename: 'renamed-copy.csv', content: CSV });
  t.equal(again.statusCode, 200, again.body);
  t.match(
    again.json(),
    { importId: body.importId, replayed: true, imported: 0, duplicates: 7, conflicts: 0, skipped: 1, entries: [] },
    'the same file: every row a duplicate',
  );
  t.equal((await get(a, '/library?limit=200')).json().items.length, before, 're-import created nothing');
  t.equal((await get(a, '/audit-events?action=library.imported')).json().items.length, 1, 'and recorded nothing');

  // Hygiene: the conflict is listed; a redundant copy made by hand shows as a duplicate group.
  const copy = await lib(a, 'POST', '', { question: 'is customer data encrypted at rest', answer: { choice: 'yes' } });
  t.equal(copy.statusCode, 201);
  const conflicts = await get(viewer, '/library/conflicts');
  t.equal(conflicts.statusCode, 200, 'a viewer reads the hygiene list');
  const items = conflicts.json().items as Array<{
    kind: string;
    question: string;
    entries: Array<{ id: string; choice: string | null; status: string; stale: boolean }>;
  }>;
  t.equal(conflicts.json().nextCursor, null);
  const conflict = items.find((i) => i.kind === 'conflict');
  t.ok(conflict, 'a conflict group');
  t.same(
    conflict!.entries.map((e) => [e.id, e.choice, e.status]).sort(),
    [
      [other.json().id, 'yes', 'approved'],
      [byRef['CR-2']!.entryId, 'no', 'draft'],
    ].sort(),
    'both CMK answers, with their choices',
  );
  const duplicate = items.find((i) => i.kind === 'duplicate');
  t.same(duplicate?.entries.map((e) => e.id).sort(), [same.json().id, copy.json().id].sort(), 'the redundant entries');
  t.equal(duplicate?.question, 'Is customer data encrypted at rest?', 'named by the oldest wording');
  t.equal(items.filter((i) => i.kind === 'conflict').length, 1, 'AC-1 and AC-3 were not made twice, so no group for them');
  t.same(
    (await get(a, '/library/conflicts?kind=duplicate')).json().items.map((i: { kind: string }) => i.kind),
    ['duplicate'],
  );
  const paged = (await get(a, '/library/conflicts?limit=1')).json();
  t.equal(paged.items[0].kind, 'conflict', 'conflicts first');
  t.ok(paged.nextCursor, 'a cursor to the second group');
  t.equal((await get(a, `/library/conflicts?limit=1&cursor=${paged.nextCursor}`)).json().items[0].kind, 'duplicate');
  t.equal((await get(a, '/library/conflicts?cursor=abc')).statusCode, 400);

  // An editor confirms a draft (approving confirms its controls); a reworded questionnaire reuses it.
  const approved = await lib(a, 'PATCH', `/${entry('AC-1').id}`, { status: 'approved' });
  t.equal(approved.statusCode, 200, approved.body);
  t.match(approved.json(), { status: 'approved', controlsConfirmed: true });
  const answers = await fill(a, [
    { ref: 'N1', text: 'Is multi-factor authentication enforced for administrators?' },
    { ref: 'N2', text: 'Every year, do all employees take security awareness training?' },
  ]);
  t.match(answers.N1!.answer, { choice: 'yes', sources: [{ kind: 'library', id: entry('AC-1').id }] }, 'the approved import answers the reworded question');
  t.notOk(
    answers.N2!.answer?.sources.some((s) => s.kind === 'library'),
    'a draft is never reused',
  );

  // Tenancy: B sees none of it, and the same file is a new import in B's own library.
  t.equal((await get(b, `/library/${entry('AC-1').id}`)).statusCode, 404);
  t.same((await get(b, '/library/conflicts')).json().items, []);
  const inB = await upload(b, { filename: 'acme-2025.csv', content: CSV });
  t.equal(inB.statusCode, 201, inB.body);
  t.match(inB.json(), { replayed: false, imported: 6, duplicates: 1, conflicts: 0 }, "A's library plays no part in B's import");
  t.equal((await get(a, '/library?limit=200')).json().items.length, before + 1, 'A unchanged by B');
});

t.test('an XLSX approved on import by an editor; a reworded questionnaire reuses it', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { upload, get, fill } = client(app);
  const a = await signup(app);
  const editor = await memberWithRole(app, a, 'editor');
  const viewer = await memberWithRole(app, a, 'viewer');
  const xlsx = await workbook([
    ['Q-1', 'Data protection', 'Is customer data encrypted at rest?', 'Yes', 'AES-256; keys rotate yearly.'],
    ['Q-2', 'Data protection', 'Do you support customer-managed encryption keys?', 'No', 'On the roadmap.'],
    ['Q-3', 'Resilience', 'Are backups tested by restoring them every quarter?', 'Yes, a full restore is rehearsed each quarter.', ''],
    ['Q-4', 'Resilience', 'Is the service hosted in more than one region?', 'N/A', 'Single-region by design.'],
  ]);

  const refused = await upload(viewer, { filename: 'past.xlsx', content: xlsx }, { approve: 'true' });
  t.equal(refused.statusCode, 403, 'a viewer can neither import nor approve');
  t.equal(refused.json().code, 'forbidden');
  t.equal((await get(a, '/library')).json().items.length, 0, 'nothing stored');

  const notMember = await upload(editor, { filename: 'past.xlsx', content: xlsx }, { approve: 'true', ownerId: randomUUID() });
  t.equal(notMember.statusCode, 422, 'the owner must be a member');
  const badFlag = await upload(editor, { filename: 'past.xlsx', content: xlsx }, { approve: 'perhaps' });
  t.equal(badFlag.statusCode, 400);
  t.match(badFlag.json().errors, [{ field: 'body/approve' }]);
  t.equal((await get(a, '/library')).json().items.length, 0, 'refusals store nothing');

  const res = await upload(editor, { filename: 'past.xlsx', content: xlsx }, { approve: 'true', ownerId: a.userId });
  t.equal(res.statusCode, 201, res.body);
  const body = res.json() as ImportBody;
  t.match(body, { imported: 4, duplicates: 0, conflicts: 0, skipped: 0 });
  t.ok(
    body.entries.every((e) => e.status === 'approved' && e.ownerId === a.userId && e.approvedBy !== null),
    'approved on import, owned by the named member',
  );
  t.ok(
    body.entries.every((e) => e.controlsConfirmed === false),
    'controls stay suggestions until someone confirms them',
  );
  const byQuestion = Object.fromEntries(body.entries.map((e) => [e.question, e]));
  t.match(
    byQuestion['Are backups tested by restoring them every quarter?']!.answer,
    { choice: 'yes', text: 'Yes, a full restore is rehearsed each quarter.' },
    'a sentence opening with Yes',
  );
  t.match(byQuestion['Is the service hosted in more than one region?']!.answer, { choice: 'n/a', text: 'Single-region by design.' });
  t.match(byQuestion['Do you support customer-managed encryption keys?']!.answer, { choice: 'no', text: 'On the roadmap.' });
  t.same(
    body.entries.map((e) => e.import?.row),
    [2, 3, 4, 5],
    'workbook rows',
  );

  const answers = await fill(a, [
    { ref: 'N1', text: 'Do you encrypt customer data at rest?' },
    { ref: 'N2', text: 'Do you support encryption keys managed by the customer?' },
    { ref: 'N3', text: 'Every quarter, are backups tested by restoring them?' },
  ]);
  for (const [ref, question] of [
    ['N1', 'Is customer data encrypted at rest?'],
    ['N2', 'Do you support customer-managed encryption keys?'],
    ['N3', 'Are backups tested by restoring them every quarter?'],
  ] as const) {
    const e = byQuestion[question]!;
    t.match(answers[ref]!.answer, { choice: e.answer.choice, text: e.answer.text }, `${ref} takes the imported answer`);
    t.match(answers[ref]!.answer!.sources[0], { kind: 'library', id: e.id }, `${ref} cites the library entry first`);
  }
});

t.test('JSON exports and refusals', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { upload, get } = client(app);
  const a = await signup(app);
  const json = JSON.stringify({
    name: 'Earlier review',
    questions: [
      { ref: 'J1', text: 'Do you log administrator actions?', answer: { choice: 'yes', text: 'Yes. Admin actions go to an append-only log.' } },
      { ref: 'J2', text: 'Where is your headquarters?', answer: 'Bergen, Norway', comment: 'Registered office.' },
      { ref: 'J3', text: 'Do you hold a SOC 2 report?' },
    ],
  });
  const res = await upload(a, { filename: 'earlier.json', content: json });
  t.equal(res.statusCode, 201, res.body);
  t.match(res.json(), { imported: 2, skipped: 1 });
  t.match(
    res.json().entries,
    [
      { question: 'Do you log administrator actions?', answer: { choice: 'yes', text: 'Yes. Admin actions go to an append-only log.' } },
      { question: 'Where is your headquarters?', answer: { choice: null, text: 'Bergen, Norway\n\nRegistered office.' } },
    ],
    "this API's own {choice, text} and plain answers with comments",
  );

  const unanswered = await upload(a, { filename: 'blank.csv', content: 'Question,Answer\nDo you encrypt backups?,\nDo you scan for vulnerabilities?,\n' });
  t.equal(unanswered.statusCode, 422, 'a questionnaire without answers is not a past questionnaire');
  t.equal(unanswered.json().code, 'unprocessable');
  const pdf = await upload(a, { filename: 'x.pdf', content: Buffer.from('%PDF-1.7\n...') });
  t.equal(pdf.statusCode, 415);
  const noFile = multipart({ approve: 'true' });
  const missing = await app.inject({ method: 'POST', url: '/api/v1/library/import', headers: { ...a.auth, ...noFile.headers }, payload: noFile.payload });
  t.equal(missing.statusCode, 400);
  t.match(missing.json().errors, [{ field: 'body/file' }]);
  const asJson = await app.inject({ method: 'POST', url: '/api/v1/library/import', headers: a.auth, payload: { file: 'x' } });
  t.equal(asJson.statusCode, 415, 'JSON bodies are not an upload');
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/library/import', payload: {} })).statusCode, 401);
  t.equal((await get(a, '/library')).json().items.length, 2, 'refusals stored nothing');
  t.equal((await get(a, '/audit-events?action=library.imported')).json().items.length, 1);
});
