import t from 'tap';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { memberWithRole, signup, testApp, wholeQuestionnaire } from '../../helpers/app.js';

t.test('section actions: n/a, approve and refill, with each answer kept in its history', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  const b = await signup(app);
  const viewer = await memberWithRole(app, a, 'viewer');
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/A.8.5',
    headers: a.auth,
    payload: {
      applicable: true,
      status: 'implemented',
      implementation: 'Every employee signs in with multi-factor authentication (WebAuthn).',
      responsibility: 'provider',
    },
  });
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/questionnaires',
    headers: a.auth,
    payload: {
      name: 'Sections',
      questions: [
        { ref: 'P1', section: 'Physical', text: 'Do you monitor your premises with CCTV?', allowedAnswers: ['Yes', 'No', 'N/A'] },
        { ref: 'P2', section: 'Physical', text: 'Do you keep a visitor log?', allowedAnswers: ['Yes', 'No'] },
        { ref: 'P3', section: 'Physical', text: 'Are server rooms locked?' },
        { ref: 'A1', section: 'Access', text: 'Do you enforce multi-factor authentication for employees?' },
        { ref: 'A2', section: 'Access', text: 'Do you enforce MFA for all employee accounts?' },
        { ref: 'O1', section: 'Other', text: 'Do you enforce multi-factor authentication for administrators?' },
      ],
    },
  });
  const id = created.json().id;
  await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: a.auth });
  t.equal(await runNextJob(app.jobDeps), true);
  const byRef = async () =>
    Object.fromEntries((await wholeQuestionnaire(app, a.auth, id)).questions.map((q: { ref: string }) => [q.ref, q])) as Record<string, any>;
  const before = await byRef();
  const act = (who: { auth: Record<string, string> }, payload: object, qid = id) =>
    app.inject({ method: 'POST', url: `/api/v1/questionnaires/${qid}/section-actions`, headers: who.auth, payload });
  const history = async (qid: string) => {
    const r = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/questions/${qid}/history`, headers: viewer.auth });
    t.equal(r.statusCode, 200);
    return r.json().items as any[];
  };

  t.equal((await act(a, { section: 'Physical', action: 'not_applicable' })).statusCode, 400, 'n/a needs a reason');
  t.equal((await act(viewer, { section: 'Physical', action: 'approve' })).statusCode, 403, 'viewers cannot');
  t.equal((await act(a, { section: 'Nowhere', action: 'approve' })).statusCode, 404, 'a section no question has');
  t.equal((await act(b, { section: 'Physical', action: 'approve' })).statusCode, 404, "another organization's questionnaire");
  t.equal(
    (await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/questions/${before.P1.id}/history`, headers: b.auth })).statusCode,
    404,
    "another organization's question history",
  );

  const na = await act(a, { section: 'Physical', action: 'not_applicable', reason: 'We have no premises: everything runs on AWS.' });
  t.equal(na.statusCode, 200, na.body);
  t.same(na.json(), {
    section: 'Physical',
    action: 'not_applicable',
    affected: 2,
    skipped: [{ questionId: before.P2.id, reason: 'its allowed answers (Yes, No) offer no n/a value' }],
  });
  const afterNa = await byRef();
  t.match(afterNa.P1.answer, { choice: 'N/A', text: 'We have no premises: everything runs on AWS.', status: 'approved', confidence: 1 }, "the list's own n/a");
  t.match(afterNa.P3.answer, { choice: 'n/a', status: 'approved' }, 'the generic n/a without a list');
  t.same(afterNa.P2.answer, before.P2.answer, 'a list without n/a: left unchanged');
  const p1History = await history(before.P1.id);
  t.equal(p1History.length, 1);
  t.match(p1History[0], { cause: 'section_not_applicable', changedBy: a.userId, status: before.P1.answer.status, text: before.P1.answer.text });

  // Approve: the answered questions not yet approved; history keeps the drafts.
  t.equal(before.A1.answer.status, 'draft');
  await app.inject({ method: 'PATCH', url: `/api/v1/questionnaires/${id}/questions/${before.A2.id}`, headers: a.auth, payload: { status: 'rejected' } });
  const approve = await act(a, { section: 'Access', action: 'approve' });
  t.equal(approve.statusCode, 200);
  t.match(approve.json(), { affected: 1, skipped: [{ questionId: before.A2.id, reason: /rejected/ }] });
  const afterApprove = await byRef();
  t.equal(afterApprove.A1.answer.status, 'approved');
  t.equal(afterApprove.A1.answer.choice, before.A1.answer.choice, 'the answer itself is unchanged');
  t.equal(afterApprove.A2.answer.status, 'rejected');
  const a2History = await history(before.A2.id);
  t.match(a2History, [{ cause: 'review', status: before.A2.answer.status }], 'the review kept the draft');

  // A review then overwrites again: newest first.
  await app.inject({
    method: 'PATCH',
    url: `/api/v1/questionnaires/${id}/questions/${before.A1.id}`,
    headers: a.auth,
    payload: { text: 'Yes, WebAuthn keys.' },
  });
  const a1History = await history(before.A1.id);
  t.match(a1History, [
    { cause: 'review', status: 'approved' },
    { cause: 'section_approve', status: 'draft', text: before.A1.answer.text },
  ]);
  const paged = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/questions/${before.A1.id}/history?limit=1`, headers: a.auth });
  const next = await app.inject({
    method: 'GET',
    url: `/api/v1/questionnaires/${id}/questions/${before.A1.id}/history?limit=1&cursor=${paged.json().nextCursor}`,
    headers: a.auth,
  });
  t.same(
    [...paged.json().items, ...next.json().items].map((r: { id: string }) => r.id),
    a1History.map((r) => r.id),
    'paged',
  );

  // Refill: a fill already queued is a conflict; approved answers stay unless forced; other sections are untouched.
  await app.inject({
    method: 'PATCH',
    url: `/api/v1/questionnaires/${id}/questions/${before.O1.id}`,
    headers: a.auth,
    payload: { text: 'Our own words.', status: 'needs_review' },
  });
  await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: a.auth });
  t.equal((await act(a, { section: 'Access', action: 'refill' })).statusCode, 409, 'a fill is queued');
  await runNextJob(app.jobDeps);
  // The whole fill re-drafted these: set them again.
  await app.inject({
    method: 'PATCH',
    url: `/api/v1/questionnaires/${id}/questions/${before.O1.id}`,
    headers: a.auth,
    payload: { text: 'Our own words.', status: 'needs_review' },
  });
  await app.inject({ method: 'PATCH', url: `/api/v1/questionnaires/${id}/questions/${before.A2.id}`, headers: a.auth, payload: { status: 'rejected' } });
  const o1Before = (await byRef()).O1;

  const kept = await act(a, { section: 'Access', action: 'refill' });
  t.equal(kept.statusCode, 200);
  t.match(kept.json(), { affected: 1, skipped: [{ questionId: before.A1.id, reason: /force/ }], jobId: String });
  t.equal(await runNextJob(app.jobDeps), true, 'the section job runs');
  const afterRefill = await byRef();
  t.equal(afterRefill.A1.answer.text, 'Yes, WebAuthn keys.', 'the approved answer is kept');
  t.not(afterRefill.A2.answer.status, 'rejected', 'the rejected answer is re-drafted');
  t.same(afterRefill.O1.answer, o1Before.answer, 'another section is not touched');
  t.match((await history(before.A2.id))[0], { cause: 'section_refill', status: 'rejected' });
  const summary = (await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}`, headers: a.auth })).json();
  t.match(summary, { status: 'filled', progress: { done: 6, total: 6 } });

  const forced = await act(a, { section: 'Access', action: 'refill', force: true });
  t.match(forced.json(), { affected: 2, skipped: [], jobId: String });
  await runNextJob(app.jobDeps);
  const afterForce = await byRef();
  t.not(afterForce.A1.answer.status, 'approved', 'forced: the approved answer is re-drafted');
  t.match((await history(before.A1.id))[0], { cause: 'section_refill', status: 'approved', text: 'Yes, WebAuthn keys.' });
  t.same(afterForce.O1.answer, o1Before.answer, 'another section is still not touched');

  const audit = await app.inject({ method: 'GET', url: '/api/v1/audit-events?limit=200', headers: a.auth });
  const actions = audit.json().items.map((e: { action: string }) => e.action);
  for (const action of ['questionnaire.section_not_applicable', 'questionnaire.section_approve', 'questionnaire.section_refill'])
    t.ok(actions.includes(action), action);
});
