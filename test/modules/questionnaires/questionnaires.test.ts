import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import JSZip from 'jszip';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { choiceFor } from '../../../src/modules/questionnaires/answering.js';
import { memberWithRole, signup, testApp, wholeQuestionnaire } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';

const DATA = path.resolve('..', 'shared', 'data');
const answer = (status: string, implementation: string, applicable = true) => ({
  applicable,
  status,
  implementation,
  responsibility: 'provider',
  ...(applicable ? {} : { justification: 'Out of scope for us.' }),
});

t.test('choice follows the control status, never optimism', async (t) => {
  t.equal(choiceFor({ applicable: true, status: 'implemented' }), 'yes');
  t.equal(choiceFor({ applicable: true, status: 'partially_implemented' }), 'partial');
  t.equal(choiceFor({ applicable: true, status: 'planned' }), 'no');
  t.equal(choiceFor({ applicable: true, status: 'not_implemented' }), 'no');
  t.equal(choiceFor({ applicable: false, status: 'implemented' }), 'n/a');
  t.equal(choiceFor(undefined), null);
});

t.test('import, fill, review and export', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  const b = await signup(app);
  const put = (ref: string, body: object) => app.inject({ method: 'PUT', url: `/api/v1/controls/${ref}`, headers: a.auth, payload: body });
  await put(
    'A.8.5',
    answer('implemented', 'Every employee signs in through Okta with phishing-resistant multi-factor authentication (WebAuthn security keys).'),
  );
  await put(
    'A.8.24',
    answer('partially_implemented', 'Customer data is encrypted at rest with AES-256 in AWS KMS; field-level encryption for exports is being rolled out.'),
  );
  await put('A.8.13', answer('planned', 'Backups of production databases are planned to move to a second region with quarterly restore tests.'));
  await put('A.7.4', answer('not_implemented', 'We run no physical security monitoring ourselves.', false));

  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/questionnaires',
    headers: a.auth,
    payload: {
      name: 'Buyer security review',
      questions: [
        { ref: 'Q1', text: 'Do you enforce 2FA for all employees?' },
        { ref: 'Q2', text: 'Is customer data encrypted at rest?' },
        { ref: 'Q3', text: 'Are backups replicated to another region and restore-tested?' },
        { ref: 'Q4', text: 'Do you monitor your physical premises with CCTV?' },
        { ref: 'Q5', text: 'Describe your approach to quantum teleportation of widgets.' },
      ],
    },
  });
  t.equal(created.statusCode, 201, created.body);
  t.equal(created.json().questionCount, 5);
  const id = created.json().id;

  const fill = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: a.auth });
  t.equal(fill.statusCode, 202);
  t.equal((await wholeQuestionnaire(app, a.auth, id)).status, 'queued');
  t.equal(await runNextJob(app.jobDeps), true);
  t.equal(await runNextJob(app.jobDeps), false, 'one job, run once');

  const filled = await wholeQuestionnaire(app, a.auth, id);
  t.equal(filled.status, 'filled');
  t.same(filled.progress, { done: 5, total: 5 });
  const byRef = Object.fromEntries(filled.questions.map((q: { ref: string }) => [q.ref, q])) as Record<
    string,
    { id: string; answer: { choice: string | null; text: string | null; confidence: number; status: string; sources: { kind: string; ref?: string }[] } }
  >;
  t.match(byRef.Q1!.answer, { choice: 'yes', sources: [{ kind: 'control', framework: 'iso27001-2022', ref: 'A.8.5' }] });
  t.match(byRef.Q1!.answer.text, /WebAuthn/, 'the text is composed from the cited implementation');
  t.equal(byRef.Q2!.answer.choice, 'partial');
  t.equal(byRef.Q2!.answer.sources[0]!.ref, 'A.8.24');
  t.equal(byRef.Q3!.answer.choice, 'no', 'a planned control is a no');
  t.equal(byRef.Q4!.answer.choice, 'n/a', 'an excluded control is n/a');
  t.equal(byRef.Q5!.answer.status, 'needs_review', 'no good source: review');
  for (const q of Object.values(byRef)) t.ok(q.answer.confidence >= 0 && q.answer.confidence <= 1);

  t.test('review, and re-filling keeps approved answers', async (t) => {
    const edit = await app.inject({
      method: 'PATCH',
      url: `/api/v1/questionnaires/${id}/questions/${byRef.Q5!.id}`,
      headers: a.auth,
      payload: { choice: null, text: 'We do not teleport widgets.', status: 'approved' },
    });
    t.equal(edit.statusCode, 200);
    t.match(edit.json().answer, { text: 'We do not teleport widgets.', status: 'approved', confidence: 1 });
    await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: a.auth });
    await runNextJob(app.jobDeps);
    const again = await wholeQuestionnaire(app, a.auth, id);
    t.equal(again.questions.find((q: { ref: string }) => q.ref === 'Q5').answer.text, 'We do not teleport widgets.');
    const drafts = again.questions.filter((q: { answer: { status: string } | null }) => q.answer?.status === 'draft').length;
    const bulk = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/approve`, headers: a.auth, payload: { minConfidence: 0, force: true } });
    t.equal(bulk.json().approved, drafts, 'with force, every draft is approved, and nothing waiting for review');
    const empty = await app.inject({
      method: 'PATCH',
      url: `/api/v1/questionnaires/${id}/questions/${byRef.Q5!.id}`,
      headers: a.auth,
      payload: { text: null, status: 'approved' },
    });
    t.equal(empty.statusCode, 422, `an empty answer cannot be approved: ${empty.body}`);
  });

  t.test('export as JSON and CSV', async (t) => {
    const json = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/export?format=json`, headers: a.auth });
    t.equal(json.json().questions.length, 5);
    const csv = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/export?format=csv`, headers: a.auth });
    t.match(csv.body, /Q1,.*Do you enforce 2FA/);
    t.match(csv.headers['content-disposition'], /answered\.csv/);
  });

  t.test('tenancy, roles and bad input', async (t) => {
    for (const [method, url] of [
      ['GET', `/api/v1/questionnaires/${id}`],
      ['POST', `/api/v1/questionnaires/${id}/fill`],
      ['GET', `/api/v1/questionnaires/${id}/export?format=csv`],
      ['DELETE', `/api/v1/questionnaires/${id}`],
    ] as const) {
      t.equal((await app.inject({ method, url, headers: b.auth })).statusCode, 404, `B: ${method} ${url}`);
    }
    t.equal(
      (await app.inject({ method: 'PATCH', url: `/api/v1/questionnaires/${id}/questions/${byRef.Q1!.id}`, headers: b.auth, payload: { status: 'approved' } }))
        .statusCode,
      404,
    );
    const viewer = await memberWithRole(app, a, 'viewer');
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}`, headers: viewer.auth })).statusCode, 200);
    t.equal((await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: viewer.auth })).statusCode, 403);
    t.equal((await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: a.auth, payload: { name: 'x', questions: [] } })).statusCode, 400);
    const junk = multipart({}, [{ filename: 'x.bin', content: Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) }]);
    t.equal(
      (await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: { ...a.auth, ...junk.headers }, payload: junk.payload })).statusCode,
      415,
    );
    const noQ = multipart({}, [{ filename: 'x.csv', content: 'a,b\n1,2\n3,4\n' }]);
    const r = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: { ...a.auth, ...noQ.headers }, payload: noQ.payload });
    t.equal(r.statusCode, 422);
    t.match(r.json().detail, /question/i, 'says what was looked for');
  });
});

t.test('a fill job resumes after a crash without duplicating or losing answers', async (t) => {
  let crash = true;
  const app = await testApp(t, {
    options: {
      jobs: {
        worker: false,
        batchSize: 2,
        afterBatch: async (done) => {
          if (crash && done >= 2) throw new Error('simulated crash');
        },
      },
      webhooks: { worker: false },
    },
  });
  const a = await signup(app);
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/questionnaires',
    headers: a.auth,
    payload: { name: 'resume', questions: [1, 2, 3, 4, 5].map((i) => ({ ref: `R${i}`, text: `Do you encrypt data at rest, item ${i}?` })) },
  });
  const id = created.json().id;
  await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: a.auth });
  await t.rejects(runNextJob(app.jobDeps), /simulated crash/);
  const mid = await wholeQuestionnaire(app, a.auth, id);
  t.same(mid.progress, { done: 2, total: 5 }, 'the first batch is committed');
  crash = false;
  t.equal(await runNextJob(app.jobDeps), true, 'the job is picked up again');
  const done = await wholeQuestionnaire(app, a.auth, id);
  t.equal(done.status, 'filled');
  t.same(done.progress, { done: 5, total: 5 });
  t.equal(done.questions.filter((q: { answer: unknown }) => q.answer).length, 5, 'every question answered once');
});

t.test("HECVAT: detected on upload, answered, written back into the buyer's workbook", async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/A.8.5',
    headers: a.auth,
    payload: answer('implemented', 'Multi-factor authentication is enforced for every account.'),
  });
  const original = fs.readFileSync(path.join(DATA, 'hecvat', 'HECVAT414.xlsx'));
  const body = multipart({ name: 'HECVAT for State University' }, [
    { filename: 'HECVAT414.xlsx', content: original, contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  ]);
  const created = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: { ...a.auth, ...body.headers }, payload: body.payload });
  t.equal(created.statusCode, 201, created.body);
  t.equal(created.json().questionCount, 331);
  const id = created.json().id;
  await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: a.auth });
  await runNextJob(app.jobDeps);
  const xlsx = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/export?format=xlsx`, headers: a.auth });
  t.equal(xlsx.statusCode, 200);
  const [before, after] = await Promise.all([JSZip.loadAsync(original), JSZip.loadAsync(xlsx.rawPayload)]);
  t.same(Object.keys(after.files).sort(), Object.keys(before.files).sort(), 'same parts');
  let changed = 0;
  for (const name of Object.keys(before.files)) {
    const [x, y] = await Promise.all([before.file(name)?.async('nodebuffer'), after.file(name)?.async('nodebuffer')]);
    if (x && y && !x.equals(y)) {
      changed++;
      t.match(
        name,
        /^xl\/worksheets\/sheet\d+\.xml$|^xl\/calcChain\.xml$|^\[Content_Types\]\.xml$|^xl\/_rels\/workbook\.xml\.rels$/,
        `only answer sheets change (${name})`,
      );
      const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;
      t.equal(count(y.toString(), /<x14:dataValidation /g), count(x.toString(), /<x14:dataValidation /g), `${name}: dropdowns intact`);
      t.equal(count(y.toString(), /<mergeCell /g), count(x.toString(), /<mergeCell /g), `${name}: merges intact`);
    }
  }
  t.ok(changed >= 1, `${changed} sheets carry answers`);
  const reimport = multipart({}, [{ filename: 'answered.xlsx', content: xlsx.rawPayload }]);
  const again = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: { ...a.auth, ...reimport.headers }, payload: reimport.payload });
  t.equal(again.json().questionCount, 331, 'the exported workbook imports the same way');
});
