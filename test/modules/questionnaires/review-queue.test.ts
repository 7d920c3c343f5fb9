import t from 'tap';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { memberWithRole, signup, testApp, type Tenant, wholeQuestionnaire } from '../../helpers/app.js';

// One strong question (its control is answered) and weak ones (nothing answers them).
const QUESTIONS = [
  { ref: 'S1', text: 'Do you enforce multi-factor authentication for employees?' },
  { ref: 'W1', text: 'Describe the colour of your office carpets.' },
  { ref: 'W2', text: 'How many parking spaces does your headquarters have?' },
];

t.test('the review queue and question filters', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  const b = await signup(app);
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/A.8.5',
    headers: a.auth,
    payload: {
      applicable: true,
      status: 'implemented',
      responsibility: 'provider',
      implementation: 'Every employee uses multi-factor authentication with security keys.',
    },
  });
  const fill = async (who: Tenant, name: string) => {
    const created = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: who.auth, payload: { name, questions: QUESTIONS } });
    await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${created.json().id}/fill`, headers: who.auth });
    while (await runNextJob(app.jobDeps)) {
      /* drain */
    }
    return created.json().id as string;
  };
  const first = await fill(a, 'First');
  const second = await fill(a, 'Second');
  await fill(b, 'Other tenant');

  const all = await wholeQuestionnaire(app, a.auth, first);
  const statusOf = Object.fromEntries(all.questions.map((q: { ref: string; answer: { status: string } }) => [q.ref, q.answer.status]));
  t.equal(statusOf.S1, 'draft');
  t.equal(statusOf.W1, 'needs_review');
  t.equal(statusOf.W2, 'needs_review');

  const weak = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${first}?status=needs_review`, headers: a.auth });
  t.same(
    weak.json().questions.map((q: { ref: string }) => q.ref),
    ['W1', 'W2'],
  );
  t.same((await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${first}?status=approved`, headers: a.auth })).json().questions, []);
  t.same((await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${first}?stale=true`, headers: a.auth })).json().questions, []);
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${first}?status=maybe`, headers: a.auth })).statusCode, 400);

  // A changed control makes the strong answer stale.
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/A.8.5',
    headers: { ...a.auth, 'if-match': '"1"' },
    payload: { applicable: true, status: 'partially_implemented', responsibility: 'provider', implementation: 'Security keys for administrators only.' },
  });
  const stale = (await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${first}?stale=true`, headers: a.auth })).json();
  t.same(
    stale.questions.map((q: { ref: string }) => q.ref),
    ['S1'],
  );
  t.match(stale.questions[0].answer.staleReasons, [/control A\.8\.5 changed/]);

  const viewer = await memberWithRole(app, a, 'viewer');
  const page1 = await app.inject({ method: 'GET', url: '/api/v1/review-queue?limit=3', headers: viewer.auth });
  t.equal(page1.statusCode, 200, 'a viewer may read the queue');
  const p1 = page1.json();
  t.equal(p1.items.length, 3);
  t.ok(p1.nextCursor);
  const page2 = (await app.inject({ method: 'GET', url: `/api/v1/review-queue?limit=3&cursor=${p1.nextCursor}`, headers: a.auth })).json();
  t.equal(page2.items.length, 1);
  t.equal(page2.nextCursor, null);
  const items = [...p1.items, ...page2.items];
  t.same(
    items.map((i: { question: { ref: string } }) => i.question.ref),
    ['W1', 'W2', 'W1', 'W2'],
  );
  t.same([...new Set(items.map((i: { questionnaire: { id: string } }) => i.questionnaire.id))].sort(), [first, second].sort(), 'only our own questionnaires');
  t.ok(items.every((i: { question: { answer: { status: string } } }) => i.question.answer.status === 'needs_review'));

  // Approving one takes it off the queue.
  const w1 = items[0].question;
  await app.inject({
    method: 'PATCH',
    url: `/api/v1/questionnaires/${items[0].questionnaire.id}/questions/${w1.id}`,
    headers: a.auth,
    payload: { text: 'Grey.', status: 'approved' },
  });
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/review-queue', headers: a.auth })).json().items.length, 3);

  t.equal((await app.inject({ method: 'GET', url: '/api/v1/review-queue' })).statusCode, 401);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/review-queue?cursor=nope', headers: a.auth })).statusCode, 400);
  const forged = Buffer.from(JSON.stringify({ k: "x'; drop table questions;--:1" })).toString('base64url');
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/review-queue?cursor=${forged}`, headers: a.auth })).statusCode, 400);
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${first}?status=needs_review`, headers: b.auth })).statusCode, 404, 'another tenant');
});

t.test("a question that matches nothing is not answered from the previous question's topic", async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/A.8.5',
    headers: a.auth,
    payload: {
      applicable: true,
      status: 'implemented',
      responsibility: 'provider',
      implementation: 'Every employee uses multi-factor authentication with security keys.',
    },
  });
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/questionnaires',
    headers: a.auth,
    payload: {
      name: 'Topic',
      questions: [
        { ref: 'Q1', text: 'Do you enforce multi-factor authentication?' },
        { ref: 'Q2', text: 'Zxqv plorf wibble?' },
      ],
    },
  });
  await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${created.json().id}/fill`, headers: a.auth });
  while (await runNextJob(app.jobDeps)) {
    /* drain */
  }
  const [q1, q2] = (await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${created.json().id}`, headers: a.auth })).json().questions;
  t.equal(q1.answer.sources[0].ref, 'A.8.5');
  t.match(q2.answer, { choice: null, text: null, status: 'needs_review', sources: [] });
});
