import t from 'tap';
import { and, eq } from 'drizzle-orm';
import { randomUUID } from 'node:crypto';
import type { App } from '../../../src/app.js';
import { scanExpiries } from '../../../src/scans.js';
import { events } from '../../../src/modules/events/tables.js';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { PASSWORD, manualClock, memberWithRole, signup, testApp, type Tenant, wholeQuestionnaire } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';

const NO_WORKERS = { jobs: { worker: false }, webhooks: { worker: false }, expiryScanIntervalMs: 0 };

const controlAnswer = (status: string, implementation: string) => ({ applicable: true, status, implementation, responsibility: 'provider' });

interface Source {
  kind: string;
  id?: string;
  framework?: string;
  ref?: string;
}
interface Answer {
  choice: string | null;
  text: string | null;
  confidence: number;
  status: string;
  sources: Source[];
  stale: boolean;
  staleReasons: string[];
}
interface Question {
  id: string;
  ref: string;
  text: string;
  answer: Answer | null;
}

/** Small request helpers bound to one app. */
function client(app: App) {
  const lib = (who: Tenant, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    app.inject({ method, url: `/api/v1/library${url}`, headers: who.auth, ...(payload ? { payload } : {}) });
  const putControl = (who: Tenant, ref: string, body: object, version?: number) =>
    app.inject({ method: 'PUT', url: `/api/v1/controls/${ref}`, headers: { ...who.auth, ...(version ? { 'if-match': `"${version}"` } : {}) }, payload: body });
  /** Imports a questionnaire from JSON, fills it with the job runner, and returns its questions by ref. */
  const fill = async (who: Tenant, qs: Array<{ ref: string; text: string }>) => {
    const created = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: who.auth, payload: { name: 'Buyer review', questions: qs } });
    if (created.statusCode !== 201) throw new Error(`import failed: ${created.statusCode} ${created.body}`);
    const id = created.json().id as string;
    const req = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: who.auth });
    if (req.statusCode !== 202) throw new Error(`fill failed: ${req.statusCode} ${req.body}`);
    while (await runNextJob(app.jobDeps)) {
      /* drain */
    }
    return { id, ...(await questionsOf(who, id)) };
  };
  const questionsOf = async (who: Tenant, id: string) => {
    const body = (await wholeQuestionnaire(app, who.auth, id)) as { status: string; questions: Question[] };
    return { status: body.status, byRef: Object.fromEntries(body.questions.map((q) => [q.ref, q])) as Record<string, Question> };
  };
  return { lib, putControl, fill, questionsOf };
}

t.test('create, list, get, patch and delete', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { lib } = client(app);
  const a = await signup(app);
  const editor = await memberWithRole(app, a, 'editor');

  const created = await lib(a, 'POST', '', {
    question: '  Do you enforce multi-factor authentication for all employees?  ',
    answer: { choice: 'yes', text: 'Yes. Every employee signs in through Okta with WebAuthn security keys.' },
    controls: ['a.8.5', 'A.8.5', 'CLD.15.1.3'],
  });
  t.equal(created.statusCode, 201, created.body);
  const entry = created.json();
  t.match(
    entry,
    {
      question: 'Do you enforce multi-factor authentication for all employees?',
      answer: { choice: 'yes', text: 'Yes. Every employee signs in through Okta with WebAuthn security keys.' },
      status: 'approved',
      public: false,
      ownerId: a.userId,
      stale: false,
      staleReason: null,
      staleAt: null,
      source: null,
      version: 1,
    },
    'approved by default, owned by the caller, question trimmed',
  );
  t.same(
    entry.controls,
    [
      { framework: 'iso27001-2022', ref: 'A.8.5' },
      { framework: 'iso27017-2015', ref: 'CLD.13.1.4' },
    ],
    'refs resolved case-insensitively, through aliases, without duplicates, in the given order',
  );
  t.ok(entry.approvedAt, 'an approved entry records when');
  t.ok(entry.approvedBy, 'and by whom');
  t.match(entry.id, /^[0-9a-f-]{36}$/);

  const draft = await lib(editor, 'POST', '', {
    question: 'Describe your backup strategy.',
    answer: { text: 'Nightly snapshots, kept 35 days.' },
    status: 'draft',
    public: true,
    ownerId: a.userId,
  });
  t.equal(draft.statusCode, 201, draft.body);
  t.match(draft.json(), {
    status: 'draft',
    public: true,
    ownerId: a.userId,
    approvedAt: null,
    approvedBy: null,
    controls: [],
    answer: { choice: null, text: 'Nightly snapshots, kept 35 days.' },
  });
  const third = await lib(a, 'POST', '', { question: 'Is data encrypted at rest?', answer: { choice: 'yes' }, ownerId: editor.userId });
  t.equal(third.statusCode, 201, third.body);
  t.equal(third.json().ownerId, editor.userId, 'another member can own it');
  t.equal(third.json().answer.text, null, 'a choice alone is enough');

  const get = await lib(a, 'GET', `/${entry.id}`);
  t.equal(get.statusCode, 200);
  t.same(get.json(), entry, 'GET returns what POST returned');

  const list = await lib(a, 'GET', '');
  t.equal(list.statusCode, 200);
  t.same(
    list.json().items.map((e: { id: string }) => e.id),
    [third.json().id, draft.json().id, entry.id],
    'newest first',
  );
  t.equal(list.json().nextCursor, null);
  t.same(list.json().items[2].controls, entry.controls, 'list carries controls');
  t.same(
    (await lib(a, 'GET', '?status=draft')).json().items.map((e: { id: string }) => e.id),
    [draft.json().id],
  );
  t.same(
    (await lib(a, 'GET', '?status=approved')).json().items.map((e: { id: string }) => e.id),
    [third.json().id, entry.id],
  );
  t.same(
    (await lib(a, 'GET', '?public=true')).json().items.map((e: { id: string }) => e.id),
    [draft.json().id],
  );
  t.equal((await lib(a, 'GET', '?public=false')).json().items.length, 2);
  t.equal((await lib(a, 'GET', '?stale=true')).json().items.length, 0);
  t.equal((await lib(a, 'GET', '?stale=false')).json().items.length, 3);

  const page1 = await lib(a, 'GET', '?limit=2');
  t.equal(page1.json().items.length, 2);
  t.ok(page1.json().nextCursor, 'a cursor when more remain');
  const page2 = await lib(a, 'GET', `?limit=2&cursor=${encodeURIComponent(page1.json().nextCursor)}`);
  t.same(
    page2.json().items.map((e: { id: string }) => e.id),
    [entry.id],
  );
  t.equal(page2.json().nextCursor, null);

  const patched = await lib(editor, 'PATCH', `/${entry.id}`, {
    answer: { text: 'Yes: WebAuthn keys for every employee, enforced in Okta.' },
    public: true,
    controls: ['A.8.5'],
    version: 1,
  });
  t.equal(patched.statusCode, 200, patched.body);
  t.match(
    patched.json(),
    { version: 2, public: true, answer: { choice: 'yes', text: 'Yes: WebAuthn keys for every employee, enforced in Okta.' }, status: 'approved' },
    'an answer patch keeps the fields it does not name',
  );
  t.same(patched.json().controls, [{ framework: 'iso27001-2022', ref: 'A.8.5' }], 'controls replaced');
  t.same((await lib(a, 'GET', `/${entry.id}`)).json().controls, [{ framework: 'iso27001-2022', ref: 'A.8.5' }], 'and persisted');

  const approveDraft = await lib(a, 'PATCH', `/${draft.json().id}`, { status: 'approved' });
  t.equal(approveDraft.statusCode, 200);
  t.match(approveDraft.json(), { status: 'approved', version: 2 });
  t.ok(approveDraft.json().approvedAt, 'approving a draft records the approval');
  const reassign = await lib(a, 'PATCH', `/${draft.json().id}`, { ownerId: editor.userId, question: 'Describe your backup strategy and retention.' });
  t.match(reassign.json(), { ownerId: editor.userId, question: 'Describe your backup strategy and retention.', version: 3 });

  const del = await lib(editor, 'DELETE', `/${entry.id}`);
  t.equal(del.statusCode, 204);
  t.equal(del.body, '');
  t.equal((await lib(a, 'GET', `/${entry.id}`)).statusCode, 404, 'gone');
  t.equal((await lib(a, 'DELETE', `/${entry.id}`)).statusCode, 404, 'deleting twice is a 404');
  t.equal((await lib(a, 'GET', '')).json().items.length, 2);
});

t.test('bad requests, authentication, roles, tenancy, versions', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { lib } = client(app);
  const a = await signup(app);
  const b = await signup(app);
  const viewer = await memberWithRole(app, a, 'viewer');
  const created = await lib(a, 'POST', '', {
    question: 'Do you run annual penetration tests?',
    answer: { choice: 'yes', text: 'Yes, by an external firm.' },
    controls: ['A.8.8'],
  });
  t.equal(created.statusCode, 201, created.body);
  const id = created.json().id as string;

  t.test('400: malformed bodies, params and queries', async (t) => {
    const bad = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, why = '') => {
      const r = await lib(a, method, url, payload);
      t.equal(r.statusCode, 400, `${method} ${url} ${why}: ${r.body}`);
    };
    await bad('POST', '', { answer: { text: 'x' } }, 'no question');
    await bad('POST', '', { question: '', answer: { text: 'x' } }, 'empty question');
    await bad('POST', '', { question: 'Q?' }, 'no answer');
    await bad('POST', '', { question: 'Q?', answer: { choice: 'maybe' } }, 'unknown choice');
    await bad('POST', '', { question: 'Q?', answer: { text: 'x' }, status: 'published' }, 'unknown status');
    await bad('POST', '', { question: 'Q?', answer: { text: 'x' }, ownerId: 'not-a-uuid' }, 'owner not a uuid');
    await bad('POST', '', { question: 'Q?', answer: { text: 'x' }, controls: 'A.8.5' }, 'controls not an array');
    await bad('PATCH', `/${id}`, {}, 'empty patch');
    await bad('PATCH', `/${id}`, { version: 0 }, 'version below 1');
    await bad('GET', '/not-a-uuid');
    await bad('PATCH', '/not-a-uuid', { public: true });
    await bad('DELETE', '/not-a-uuid');
    await bad('GET', '?status=published');
    await bad('GET', '?stale=perhaps');
    const save = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/nope/questions/${randomUUID()}/library`, headers: a.auth, payload: {} });
    t.equal(save.statusCode, 400, 'save-from-answer with a non-uuid questionnaire id');
    t.equal((await lib(a, 'GET', '')).json().items.length, 1, 'nothing was created by bad requests');
  });

  t.test('401 without a token', async (t) => {
    for (const [method, url] of [
      ['GET', '/api/v1/library'],
      ['POST', '/api/v1/library'],
      ['GET', `/api/v1/library/${id}`],
      ['PATCH', `/api/v1/library/${id}`],
      ['DELETE', `/api/v1/library/${id}`],
    ] as const) {
      const r = await app.inject({ method, url, payload: method === 'POST' || method === 'PATCH' ? { question: 'Q?', answer: { text: 'x' } } : undefined });
      t.equal(r.statusCode, 401, `${method} ${url}`);
    }
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/library', headers: { authorization: 'Bearer garbage' } })).statusCode, 401);
  });

  t.test('403: a viewer reads but does not write', async (t) => {
    t.equal((await lib(viewer, 'GET', '')).statusCode, 200);
    t.equal((await lib(viewer, 'GET', `/${id}`)).statusCode, 200);
    t.equal((await lib(viewer, 'POST', '', { question: 'Q?', answer: { text: 'x' } })).statusCode, 403);
    t.equal((await lib(viewer, 'PATCH', `/${id}`, { public: true })).statusCode, 403);
    t.equal((await lib(viewer, 'DELETE', `/${id}`)).statusCode, 403);
    const save = await app.inject({
      method: 'POST',
      url: `/api/v1/questionnaires/${randomUUID()}/questions/${randomUUID()}/library`,
      headers: viewer.auth,
      payload: {},
    });
    t.equal(save.statusCode, 403);
    const after = (await lib(a, 'GET', `/${id}`)).json();
    t.match(after, { version: 1, public: false }, 'unchanged');
  });

  t.test('404: another tenant, or no such entry', async (t) => {
    t.equal((await lib(b, 'GET', `/${id}`)).statusCode, 404);
    t.equal((await lib(b, 'PATCH', `/${id}`, { public: true })).statusCode, 404);
    t.equal((await lib(b, 'DELETE', `/${id}`)).statusCode, 404);
    t.equal((await lib(b, 'GET', '')).json().items.length, 0, "B lists none of A's entries");
    t.equal((await lib(a, 'GET', `/${randomUUID()}`)).statusCode, 404);
    t.equal((await lib(a, 'PATCH', `/${randomUUID()}`, { public: true })).statusCode, 404);
    t.equal((await lib(a, 'GET', `/${id}`)).json().version, 1, "A's entry untouched");
  });

  t.test('409: a stale version', async (t) => {
    const ok = await lib(a, 'PATCH', `/${id}`, { public: true, version: 1 });
    t.equal(ok.statusCode, 200);
    t.equal(ok.json().version, 2);
    const late = await lib(a, 'PATCH', `/${id}`, { answer: { text: 'Overwritten?' }, version: 1 });
    t.equal(late.statusCode, 409, late.body);
    t.equal(late.json().code, 'version_conflict');
    t.match(late.json().detail, /version 2/);
    const now = (await lib(a, 'GET', `/${id}`)).json();
    t.match(now, { version: 2, answer: { text: 'Yes, by an external firm.' } }, 'a conflict changes nothing');
    t.equal((await lib(a, 'PATCH', `/${id}`, { public: false })).json().version, 3, 'without a version, the edit applies');
  });

  t.test('422: content, controls and owners', async (t) => {
    const bad = async (method: 'POST' | 'PATCH', url: string, payload: object, detail: RegExp, why: string) => {
      const r = await lib(a, method, url, payload);
      t.equal(r.statusCode, 422, `${why}: ${r.body}`);
      t.equal(r.json().code, 'unprocessable', why);
      t.match(r.json().detail, detail, why);
    };
    await bad('POST', '', { question: 'Q?', answer: {} }, /choice or a text/, 'no choice nor text');
    await bad('POST', '', { question: 'Q?', answer: { choice: null, text: '   ' } }, /choice or a text/, 'blank text');
    await bad('POST', '', { question: 'Q?', answer: { text: 'x' }, controls: ['A.9.99'] }, /A\.9\.99/i, 'unknown control');
    await bad('POST', '', { question: 'Q?', answer: { text: 'x' }, controls: ['A.8.5', 'CC6.1'] }, /CC6\.1/i, 'a SOC 2 criterion is not an answerable control');
    await bad('POST', '', { question: 'Q?', answer: { text: 'x' }, ownerId: b.userId }, /not a member/, 'owner from another organization');
    await bad('POST', '', { question: 'Q?', answer: { text: 'x' }, ownerId: randomUUID() }, /not a member/, 'owner who does not exist');
    await bad('PATCH', `/${id}`, { answer: { choice: null, text: null } }, /choice or a text/, 'patching the answer away');
    await bad('PATCH', `/${id}`, { controls: ['A.99.1'] }, /A\.99\.1/i, 'patching in an unknown control');
    await bad('PATCH', `/${id}`, { ownerId: b.userId }, /not a member/, 'reassigning outside the organization');
    t.equal((await lib(a, 'GET', '')).json().items.length, 1, 'nothing created');
    const after = (await lib(a, 'GET', `/${id}`)).json();
    t.match(after, { ownerId: a.userId, answer: { choice: 'yes', text: 'Yes, by an external firm.' } });
    t.same(after.controls, [{ framework: 'iso27001-2022', ref: 'A.8.8' }], 'controls untouched');
  });
});

t.test('saving an approved questionnaire answer to the library', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { lib, putControl, fill } = client(app);
  const a = await signup(app);
  const b = await signup(app);
  const editor = await memberWithRole(app, a, 'editor');
  t.equal(
    (
      await putControl(
        a,
        'A.8.5',
        controlAnswer('implemented', 'Every employee signs in through Okta with phishing-resistant multi-factor authentication (WebAuthn security keys).'),
      )
    ).statusCode,
    200,
  );
  t.equal(
    (await putControl(a, 'A.8.24', controlAnswer('partially_implemented', 'Customer data is encrypted at rest with AES-256 in AWS KMS.'))).statusCode,
    200,
  );

  const { id: qnId, byRef } = await fill(a, [
    { ref: 'Q1', text: 'Do you enforce 2FA for all employees?' },
    { ref: 'Q2', text: 'Is customer data encrypted at rest?' },
  ]);
  const q1 = byRef.Q1!;
  const q2 = byRef.Q2!;
  t.equal(q1.answer!.choice, 'yes');
  t.not(q1.answer!.status, 'approved');
  const save = (who: Tenant, questionId: string, payload: object = {}, qid = qnId) =>
    app.inject({ method: 'POST', url: `/api/v1/questionnaires/${qid}/questions/${questionId}/library`, headers: who.auth, payload });

  const notYet = await save(a, q1.id);
  t.equal(notYet.statusCode, 422, 'a drafted answer is not saved');
  t.match(notYet.json().detail, /approved/);
  t.equal((await lib(a, 'GET', '')).json().items.length, 0);

  const review = await app.inject({
    method: 'PATCH',
    url: `/api/v1/questionnaires/${qnId}/questions/${q1.id}`,
    headers: a.auth,
    payload: { status: 'approved' },
  });
  t.equal(review.statusCode, 200, review.body);
  const saved = await save(a, q1.id, { public: true });
  t.equal(saved.statusCode, 201, saved.body);
  const cited = q1.answer!.sources.filter((s) => s.kind === 'control').map((s) => ({ framework: s.framework, ref: s.ref }));
  t.ok(cited.length >= 1);
  t.equal(cited[0]!.ref, 'A.8.5');
  t.match(saved.json(), {
    question: 'Do you enforce 2FA for all employees?',
    answer: { choice: 'yes', text: q1.answer!.text },
    status: 'approved',
    public: true,
    ownerId: a.userId,
    stale: false,
    source: { questionnaireId: qnId, questionId: q1.id },
    version: 1,
  });
  t.same(saved.json().controls, cited, 'the controls the answer cited');
  t.same((await lib(a, 'GET', `/${saved.json().id}`)).json(), saved.json());

  t.test('an edited answer, with a general wording and another owner', async (t) => {
    const edit = await app.inject({
      method: 'PATCH',
      url: `/api/v1/questionnaires/${qnId}/questions/${q2.id}`,
      headers: a.auth,
      payload: { choice: 'yes', text: 'All customer data is encrypted at rest with AES-256.', status: 'approved' },
    });
    t.equal(edit.statusCode, 200, edit.body);
    const r = await save(editor, q2.id, { question: 'Is data encrypted at rest?', ownerId: editor.userId });
    t.equal(r.statusCode, 201, r.body);
    t.match(r.json(), {
      question: 'Is data encrypted at rest?',
      answer: { choice: 'yes', text: 'All customer data is encrypted at rest with AES-256.' },
      ownerId: editor.userId,
      public: false,
      source: { questionnaireId: qnId, questionId: q2.id },
    });
  });

  t.test('rejected answers, missing questions, other tenants, bad owners', async (t) => {
    const reject = await app.inject({
      method: 'PATCH',
      url: `/api/v1/questionnaires/${qnId}/questions/${q1.id}`,
      headers: a.auth,
      payload: { status: 'rejected' },
    });
    t.equal(reject.statusCode, 200);
    t.equal((await save(a, q1.id)).statusCode, 422, 'a rejected answer is not saved');
    t.equal((await save(a, randomUUID())).statusCode, 404, 'no such question');
    t.equal((await save(a, q2.id, {}, randomUUID())).statusCode, 404, 'question of another questionnaire id');
    t.equal((await save(b, q2.id)).statusCode, 404, 'another tenant');
    const badOwner = await save(a, q2.id, { ownerId: b.userId });
    t.equal(badOwner.statusCode, 422, 'owner outside the organization');
    t.equal((await lib(a, 'GET', '')).json().items.length, 2, 'only the two good saves');
    t.equal((await lib(b, 'GET', '')).json().items.length, 0);
  });
});

t.test('a fill reuses library answers to the same question', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { lib, putControl, fill } = client(app);
  const a = await signup(app);
  const b = await signup(app);
  // The control would answer otherwise: its own text must not be what the fill says.
  await putControl(a, 'A.8.5', controlAnswer('partially_implemented', 'Multi-factor authentication is being rolled out to engineering staff.'));
  await putControl(a, 'A.8.24', controlAnswer('implemented', 'Databases use AES-256 volume encryption.'));
  const mfa = (
    await lib(a, 'POST', '', {
      question: 'Do you enforce multi-factor authentication for all employees?',
      answer: { choice: 'yes', text: 'LIBRARY: WebAuthn keys for every employee since 2024.' },
      controls: ['A.8.5'],
    })
  ).json();
  const enc = (
    await lib(a, 'POST', '', {
      question: 'Is customer data encrypted at rest?',
      answer: { choice: 'partial', text: 'LIBRARY: AES-256 for databases; exports from Q3.' },
      controls: ['A.8.24'],
    })
  ).json();
  const draft = (
    await lib(a, 'POST', '', {
      question: 'Do you have a bug bounty programme?',
      answer: { choice: 'yes', text: 'LIBRARY-DRAFT: a private programme.' },
      status: 'draft',
    })
  ).json();

  const { byRef } = await fill(a, [
    { ref: 'EXACT', text: 'do you enforce MULTI-FACTOR authentication for all employees' },
    { ref: 'NEAR', text: 'Does your company enforce multi-factor authentication for all of its employees?' },
    { ref: 'DESCRIBE', text: 'Is customer data encrypted at rest?!' },
    { ref: 'DRAFT', text: 'Do you have a bug bounty programme?' },
    { ref: 'OTHER', text: 'Describe your approach to quantum teleportation of widgets.' },
  ]);

  const exact = byRef.EXACT!.answer!;
  t.match(exact.sources[0], { kind: 'library', id: mfa.id }, 'same words after case and punctuation: reused');
  t.equal(exact.text, mfa.answer.text, 'as is');
  t.equal(exact.choice, 'yes', "the entry's choice, not the control's (partial)");
  t.ok(exact.confidence >= 0.9, `confidence ${exact.confidence}`);
  t.equal(exact.status, 'draft');
  t.ok(
    exact.sources.some((s) => s.kind === 'control' && s.ref === 'A.8.5'),
    "the entry's controls are cited too",
  );
  t.equal(exact.stale, false);

  const near = byRef.NEAR!.answer!;
  t.match(near.sources[0], { kind: 'library', id: mfa.id }, 'nearly the same lexemes: reused');
  t.equal(near.text, mfa.answer.text);
  t.equal(near.choice, 'yes');
  t.ok(near.confidence >= 0.9, `confidence ${near.confidence}`);

  const describe = byRef.DESCRIBE!.answer!;
  t.match(describe.sources[0], { kind: 'library', id: enc.id });
  t.equal(describe.text, enc.answer.text);
  t.equal(describe.choice, 'partial', "the entry's partial, not the control's yes");

  const drafted = byRef.DRAFT!.answer!;
  t.notOk(
    drafted.sources.some((s) => s.kind === 'library' && s.id === draft.id),
    'a draft entry is never reused',
  );
  t.not(drafted.text, draft.answer.text);

  t.notOk(
    byRef.OTHER!.answer!.sources.some((s) => s.kind === 'library'),
    'an unrelated question is not answered from the library',
  );
  t.not(byRef.OTHER!.answer!.text, mfa.answer.text);

  t.test("another tenant's library is not used", async (t) => {
    const other = await fill(b, [{ ref: 'EXACT', text: 'Do you enforce multi-factor authentication for all employees?' }]);
    const ans = other.byRef.EXACT!.answer!;
    t.notOk(
      ans.sources.some((s) => s.kind === 'library'),
      'B has no library',
    );
    t.not(ans.text, mfa.answer.text);
  });
});

t.test('a control change makes linked entries stale; stale entries are not reused; review clears it', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { lib, putControl, fill, questionsOf } = client(app);
  const a = await signup(app);
  t.equal((await putControl(a, 'A.8.5', controlAnswer('implemented', 'Okta with WebAuthn for all staff.'))).statusCode, 200);
  t.equal((await putControl(a, 'A.8.13', controlAnswer('implemented', 'Nightly backups, restore-tested quarterly.'))).statusCode, 200);
  const question = 'Do you enforce multi-factor authentication for all employees?';
  const entry = (
    await lib(a, 'POST', '', { question, answer: { choice: 'yes', text: 'LIBRARY: WebAuthn keys for every employee.' }, controls: ['A.8.5'] })
  ).json();
  const unrelated = (
    await lib(a, 'POST', '', { question: 'Are backups restore-tested?', answer: { choice: 'yes', text: 'Quarterly.' }, controls: ['A.8.13'] })
  ).json();
  const noControls = (await lib(a, 'POST', '', { question: 'Do you have a security team?', answer: { choice: 'yes', text: 'Three people.' } })).json();

  // A questionnaire answered from the entry while it was fresh.
  const before = await fill(a, [{ ref: 'Q1', text: question }]);
  t.match(before.byRef.Q1!.answer, { stale: false, staleReasons: [], sources: [{ kind: 'library', id: entry.id }] });

  await t.test('an unchanged write, or a change to the owner only, leaves entries fresh', async (t) => {
    const same = await putControl(a, 'A.8.5', controlAnswer('implemented', 'Okta with WebAuthn for all staff.'), 1);
    t.equal(same.json().version, 1, 'identical write: no new version');
    const owner = await putControl(a, 'A.8.5', { ...controlAnswer('implemented', 'Okta with WebAuthn for all staff.'), owner: 'Head of IT' }, 1);
    t.equal(owner.statusCode, 200, owner.body);
    t.equal(owner.json().version, 2);
    t.equal((await lib(a, 'GET', `/${entry.id}`)).json().stale, false, 'the owner is not what the entry rests on');
  });

  const change = await putControl(a, 'A.8.5', { ...controlAnswer('partially_implemented', 'Okta with WebAuthn for all staff.'), owner: 'Head of IT' }, 2);
  t.equal(change.statusCode, 200, change.body);
  t.equal(change.json().version, 3);

  const stale = (await lib(a, 'GET', `/${entry.id}`)).json();
  t.equal(stale.stale, true, 'the linked entry is stale');
  t.match(stale.staleReason, /A\.8\.5/);
  t.match(stale.staleReason, /status/);
  t.ok(stale.staleAt);
  t.equal(stale.status, 'approved', 'still approved, just stale');
  t.equal((await lib(a, 'GET', `/${unrelated.id}`)).json().stale, false, 'an entry on another control stays fresh');
  t.equal((await lib(a, 'GET', `/${noControls.id}`)).json().stale, false, 'an entry on no control stays fresh');
  t.same(
    (await lib(a, 'GET', '?stale=true')).json().items.map((e: { id: string }) => e.id),
    [entry.id],
  );
  t.equal((await lib(a, 'GET', '?stale=false')).json().items.length, 2);

  const emitted = await app.database.db
    .select()
    .from(events)
    .where(and(eq(events.orgId, a.orgId), eq(events.type, 'library.entry_stale')));
  t.equal(emitted.length, 1, 'one library.entry_stale event');
  t.match(emitted[0]!.data, { id: entry.id, ownerId: a.userId, question });
  t.match(String(emitted[0]!.data.reason), /A\.8\.5/);

  await t.test('the answers that used it are flagged', async (t) => {
    const after = await questionsOf(a, before.id);
    const ans = after.byRef.Q1!.answer!;
    t.equal(ans.stale, true);
    t.ok(
      ans.staleReasons.some((r) => r.startsWith(`library entry ${entry.id}:`) && /A\.8\.5/.test(r)),
      ans.staleReasons.join(' | '),
    );
  });

  await t.test('a changed implementation text also makes it stale, once', async (t) => {
    const impl = await putControl(a, 'A.8.13', controlAnswer('implemented', 'Nightly backups to a second region, restore-tested quarterly.'), 1);
    t.equal(impl.statusCode, 200, impl.body);
    const u = (await lib(a, 'GET', `/${unrelated.id}`)).json();
    t.equal(u.stale, true);
    t.match(u.staleReason, /A\.8\.13.*implementation/);
    const again = await putControl(a, 'A.8.13', controlAnswer('planned', 'Nightly backups to a second region, restore-tested quarterly.'), 2);
    t.equal(again.statusCode, 200);
    t.match((await lib(a, 'GET', `/${unrelated.id}`)).json().staleReason, /version 2/, 'an entry already stale keeps its first reason');
    const n = await app.database.db
      .select()
      .from(events)
      .where(and(eq(events.orgId, a.orgId), eq(events.type, 'library.entry_stale')));
    t.equal(n.length, 2, 'no second event for an entry already stale');
  });

  await t.test('a stale entry is not reused', async (t) => {
    const refill = await fill(a, [{ ref: 'Q1', text: question }]);
    const ans = refill.byRef.Q1!.answer!;
    t.notOk(
      ans.sources.some((s) => s.kind === 'library' && s.id === entry.id),
      JSON.stringify(ans.sources),
    );
    t.not(ans.text, entry.answer.text);
    t.equal(ans.choice, 'partial', 'answered from the control as it is now');
  });

  await t.test('a change to presentation only (public, owner) does not clear it', async (t) => {
    const r = await lib(a, 'PATCH', `/${entry.id}`, { public: true });
    t.equal(r.statusCode, 200);
    t.equal(r.json().stale, true);
    t.match(r.json().staleReason, /A\.8\.5/);
  });

  await t.test('re-approving clears it, and the entry is reused again', async (t) => {
    const cur = (await lib(a, 'GET', `/${entry.id}`)).json();
    const r = await lib(a, 'PATCH', `/${entry.id}`, { status: 'approved', version: cur.version });
    t.equal(r.statusCode, 200, r.body);
    t.match(r.json(), { stale: false, staleReason: null, staleAt: null, status: 'approved', version: cur.version + 1 });
    t.equal((await lib(a, 'GET', '?stale=true')).json().items.length, 1, 'only the backups entry is still stale');
    const refill = await fill(a, [{ ref: 'Q1', text: question }]);
    t.match(refill.byRef.Q1!.answer!.sources[0], { kind: 'library', id: entry.id });
    t.equal(refill.byRef.Q1!.answer!.text, entry.answer.text);
    t.equal(refill.byRef.Q1!.answer!.choice, 'yes');
    t.equal(refill.byRef.Q1!.answer!.stale, false);
  });

  await t.test('editing the answer clears it too', async (t) => {
    const r = await lib(a, 'PATCH', `/${unrelated.id}`, { answer: { choice: 'no', text: 'Backups are planned for a second region.' } });
    t.equal(r.statusCode, 200);
    t.match(r.json(), { stale: false, staleReason: null, answer: { choice: 'no' } });
    t.equal((await lib(a, 'GET', '?stale=true')).json().items.length, 0);
  });

  await t.test('a deleted entry flags the answers that used it', async (t) => {
    const used = await fill(a, [{ ref: 'Q1', text: question }]);
    t.equal(used.byRef.Q1!.answer!.stale, false);
    t.equal((await lib(a, 'DELETE', `/${entry.id}`)).statusCode, 204);
    const after = await questionsOf(a, used.id);
    t.equal(after.byRef.Q1!.answer!.stale, true);
    t.ok(after.byRef.Q1!.answer!.staleReasons.includes(`library entry ${entry.id} was deleted`), after.byRef.Q1!.answer!.staleReasons.join(' | '));
  });
});

t.test('expired evidence on a linked control makes the entry stale', async (t) => {
  const time = manualClock(new Date('2026-06-01T00:00:00Z'));
  const app = await testApp(t, { clock: time.clock, options: NO_WORKERS });
  const { lib, fill, questionsOf } = client(app);
  let a = await signup(app);
  const entry = (
    await lib(a, 'POST', '', {
      question: 'Are backups restore-tested at least annually?',
      answer: { choice: 'yes', text: 'LIBRARY: quarterly restore tests.' },
      controls: ['A.8.13'],
    })
  ).json();
  const other = (
    await lib(a, 'POST', '', {
      question: 'Do you enforce multi-factor authentication?',
      answer: { choice: 'yes', text: 'WebAuthn keys.' },
      controls: ['A.8.5'],
    })
  ).json();
  const body = multipart({ title: 'Restore test report Q2', controls: ['A.8.13'], expiresAt: '2026-06-20' }, [
    { filename: 'restore.csv', content: 'date,result\n2026-05-01,ok\n', contentType: 'text/csv' },
  ]);
  const ev = await app.inject({ method: 'POST', url: '/api/v1/evidence', headers: { ...a.auth, ...body.headers }, payload: body.payload });
  t.equal(ev.statusCode, 201, ev.body);
  t.same(ev.json().controls, [{ framework: 'iso27001-2022', ref: 'A.8.13' }]);
  const far = await app.inject({
    method: 'POST',
    url: '/api/v1/evidence',
    headers: a.auth,
    payload: { title: 'MFA policy', url: 'https://example.com/mfa', controls: ['A.8.5'], expiresAt: '2027-06-20' },
  });
  t.equal(far.statusCode, 201, far.body);

  const used = await fill(a, [{ ref: 'Q1', text: 'Are backups restore-tested at least annually?' }]);
  t.match(used.byRef.Q1!.answer, { stale: false, sources: [{ kind: 'library', id: entry.id }] });

  await scanExpiries(app.database.db, time.clock);
  t.equal((await lib(a, 'GET', `/${entry.id}`)).json().stale, false, 'expiring soon is not expired');

  time.set(new Date('2026-06-21T00:00:00Z'));
  await scanExpiries(app.database.db, time.clock);
  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: a.email, password: PASSWORD } });
  t.equal(login.statusCode, 200, login.body);
  a = { ...a, token: login.json().accessToken, auth: { authorization: `Bearer ${login.json().accessToken}` } };

  const stale = (await lib(a, 'GET', `/${entry.id}`)).json();
  t.equal(stale.stale, true);
  t.match(stale.staleReason, /Restore test report Q2/);
  t.match(stale.staleReason, /expired/);
  t.equal(stale.staleAt, '2026-06-21T00:00:00.000Z', 'stale as of the scan');
  t.equal((await lib(a, 'GET', `/${other.id}`)).json().stale, false, 'evidence on another control has not expired');
  const emitted = await app.database.db
    .select()
    .from(events)
    .where(and(eq(events.orgId, a.orgId), eq(events.type, 'library.entry_stale')));
  t.equal(emitted.length, 1);
  t.match(emitted[0]!.data, { id: entry.id });

  const after = await questionsOf(a, used.id);
  t.equal(after.byRef.Q1!.answer!.stale, true, 'the questionnaire answer that used it is flagged');
  t.ok(
    after.byRef.Q1!.answer!.staleReasons.some((r) => r.startsWith(`library entry ${entry.id}:`)),
    after.byRef.Q1!.answer!.staleReasons.join(' | '),
  );

  await scanExpiries(app.database.db, time.clock);
  t.equal(
    (
      await app.database.db
        .select()
        .from(events)
        .where(and(eq(events.orgId, a.orgId), eq(events.type, 'library.entry_stale')))
    ).length,
    1,
    'a second scan changes nothing',
  );

  const refill = await fill(a, [{ ref: 'Q1', text: 'Are backups restore-tested at least annually?' }]);
  t.notOk(
    refill.byRef.Q1!.answer!.sources.some((s) => s.kind === 'library' && s.id === entry.id),
    'not reused while stale',
  );

  const approve = await lib(a, 'PATCH', `/${entry.id}`, { status: 'approved' });
  t.match(approve.json(), { stale: false, staleReason: null, staleAt: null });
  t.equal(approve.json().approvedAt, '2026-06-21T00:00:00.000Z', 're-approval is recorded at the current time');
});

t.test('reuse needs the same meaning: other scripts, negations and time words are not "the same question"', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { lib, fill, putControl } = client(app);
  const a = await signup(app);
  await putControl(a, 'A.8.2', controlAnswer('implemented', 'Administrator accounts are personal and reviewed monthly.'));
  const jp = (await lib(a, 'POST', '', { question: 'データは暗号化されていますか？', answer: { choice: 'yes', text: 'JP: はい' } })).json();
  const shared = (
    await lib(a, 'POST', '', { question: 'Do you permit shared administrator accounts?', answer: { choice: 'no', text: 'NEG: No shared admin accounts.' } })
  ).json();
  const before = (
    await lib(a, 'POST', '', { question: 'Is data encrypted before it is uploaded?', answer: { choice: 'yes', text: 'BEFORE: client-side encryption.' } })
  ).json();
  const { byRef } = await fill(a, [
    { ref: 'JP-SAME', text: 'データは暗号化されていますか' },
    { ref: 'JP-OTHER', text: 'ペネトレーションテストを毎年実施していますか？' },
    { ref: 'RU', text: 'Вы используете шифрование?' },
    { ref: 'NOT', text: 'Do you not permit shared administrator accounts?' },
    { ref: 'AFTER', text: 'Is data encrypted after it is uploaded?' },
  ]);
  const libraryIds = (ref: string) => byRef[ref]!.answer!.sources.filter((s) => s.kind === 'library').map((s) => s.id);
  t.same(libraryIds('JP-SAME').slice(0, 1), [jp.id], 'the same Japanese question is reused');
  t.notOk(libraryIds('JP-OTHER').includes(jp.id), 'another Japanese question is not');
  t.notOk(libraryIds('RU').includes(jp.id), 'nor a Russian one');
  t.not(byRef.NOT!.answer!.sources[0]?.id, shared.id, 'a negated question is not reused');
  t.not(byRef.AFTER!.answer!.sources[0]?.id, before.id, '"after" is not "before"');
});

t.test('a draft entry does not go stale or notify: only approved answers are claims', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { lib, putControl } = client(app);
  const a = await signup(app);
  await putControl(a, 'A.8.5', controlAnswer('implemented', 'MFA everywhere.'));
  const draft = (await lib(a, 'POST', '', { question: 'MFA?', answer: { text: 'Draft text.' }, controls: ['A.8.5'], status: 'draft' })).json();
  t.equal((await putControl(a, 'A.8.5', controlAnswer('partially_implemented', 'MFA for admins.'), 1)).statusCode, 200);
  t.equal((await lib(a, 'GET', `/${draft.id}`)).json().stale, false);
  const stale = await app.database.db
    .select()
    .from(events)
    .where(and(eq(events.orgId, a.orgId), eq(events.type, 'library.entry_stale')));
  t.equal(stale.length, 0);
});

t.test('the library is searchable with web-search syntax', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { lib } = client(app);
  const a = await signup(app);
  const b = await signup(app);
  await lib(a, 'POST', '', { question: 'Do you encrypt backups?', answer: { choice: 'yes', text: 'Backups are encrypted with AES-256.' } });
  await lib(a, 'POST', '', { question: 'Do you run penetration tests?', answer: { choice: 'yes', text: 'An external firm tests yearly.' } });
  await lib(b, 'POST', '', { question: 'Do you encrypt backups?', answer: { choice: 'no', text: 'Other tenant.' } });
  const search = async (q: string) => (await lib(a, 'GET', `?q=${encodeURIComponent(q)}`)).json().items.map((e: { question: string }) => e.question);
  t.same(await search('encrypted'), ['Do you encrypt backups?'], 'stemmed: encrypted finds encrypt, and only our own entries');
  t.same(await search('"external firm"'), ['Do you run penetration tests?'], 'a phrase in the answer');
  t.same(await search('backups -encrypt'), [], 'a minus excludes');
  t.same((await search('backups or penetration')).sort(), ['Do you encrypt backups?', 'Do you run penetration tests?']);
  t.equal((await lib(a, 'GET', `?q=${'x'.repeat(501)}`)).statusCode, 400);
});

t.test('answers record the versions they drew from; a newer version makes them stale until a person vouches again', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { lib, putControl, fill, questionsOf } = client(app);
  const a = await signup(app);
  await putControl(a, 'A.8.5', controlAnswer('implemented', 'Security keys for every employee.'));
  const entry = (
    await lib(a, 'POST', '', { question: 'Do you use SSO for internal tools?', answer: { choice: 'yes', text: 'Okta SSO.' }, controls: ['A.5.17'] })
  ).json();
  const { id, byRef } = await fill(a, [
    { ref: 'C', text: 'Do you enforce multi-factor authentication?' },
    { ref: 'L', text: 'Do you use SSO for internal tools?' },
  ]);
  t.match(byRef.C!.answer!.sources[0], { kind: 'control', ref: 'A.8.5', version: 1 });
  t.match(byRef.L!.answer!.sources[0], { kind: 'library', id: entry.id, version: 1 });

  // Editing the library entry (it stays approved and fresh) is still a change to a source.
  t.equal((await lib(a, 'PATCH', `/${entry.id}`, { answer: { text: 'Okta SSO with SCIM.' } })).statusCode, 200);
  await putControl(a, 'A.8.5', controlAnswer('partially_implemented', 'Security keys for administrators.'), 1);
  const after = (await questionsOf(a, id)).byRef;
  t.match(after.L!.answer!.staleReasons, [`library entry ${entry.id} changed (version 2)`]);
  t.match(after.C!.answer!.staleReasons, ['control A.8.5 changed (version 2)']);

  // The reviewer approves: the answer now stands on the current versions.
  const reviewed = await app.inject({
    method: 'PATCH',
    url: `/api/v1/questionnaires/${id}/questions/${after.C!.id}`,
    headers: a.auth,
    payload: { choice: 'partial', status: 'approved' },
  });
  t.equal(reviewed.statusCode, 200, reviewed.body);
  t.match(reviewed.json().answer, { stale: false, staleReasons: [] });
  t.match(reviewed.json().answer.sources[0], { ref: 'A.8.5', version: 2 });
  t.equal((await questionsOf(a, id)).byRef.L!.answer!.stale, true, 'the other answer still waits');
});
