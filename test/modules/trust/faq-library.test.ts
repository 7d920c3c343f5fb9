import t from 'tap';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { signup, testApp } from '../../helpers/app.js';
import { prospectGrant } from '../../helpers/trust.js';

const PRIVATE = 'PRIVATE-LIBRARY-MARKER-91c2';

t.test('the trust page FAQ is made of chosen library answers: approved, public and fresh', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const b = await signup(app);
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/A.8.5',
    headers: a.auth,
    payload: { applicable: true, status: 'implemented', responsibility: 'provider', implementation: 'Okta with WebAuthn keys.' },
  });
  const entry = async (tenant: typeof a, body: object) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/library',
      headers: tenant.auth,
      payload: {
        question: 'Do you enforce MFA?',
        answer: { choice: 'yes', text: 'Security keys for every employee <b>always</b>.' },
        controls: ['A.8.5'],
        ...body,
      },
    });
    t.equal(res.statusCode, 201, res.body);
    return res.json();
  };
  const shown = await entry(a, { public: true });
  const internal = await entry(a, { public: false, answer: { text: PRIVATE } });
  const draft = await entry(a, { public: true, status: 'draft' });
  const foreign = await entry(b, { public: true });
  const put = (faq: object[]) => app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: a.auth, payload: { published: true, faq } });

  for (const [id, why] of [
    [internal.id, 'not public'],
    [draft.id, 'a draft'],
    [foreign.id, "another organization's"],
    ['00000000-0000-7000-8000-000000000000', 'unknown'],
  ]) {
    const res = await put([{ libraryEntryId: id }]);
    t.equal(res.statusCode, 400, `${why} entry refused`);
    t.match(res.json(), { code: 'validation_failed', errors: [{ field: 'body/faq/0/libraryEntryId' }] });
  }
  t.equal((await put([{ libraryEntryId: 'not-a-uuid' }])).statusCode, 400);

  const saved = await put([{ libraryEntryId: shown.id }, { question: 'Written for the page?', answer: 'Yes.' }]);
  t.equal(saved.statusCode, 200, saved.body);
  t.same(saved.json().faq, [{ libraryEntryId: shown.id }, { question: 'Written for the page?', answer: 'Yes.' }]);
  const json = await app.inject({ method: 'GET', url: `/api/v1/public/trust/${a.slug}` });
  t.same(json.json().faq, [
    { question: 'Do you enforce MFA?', answer: 'Yes. Security keys for every employee <b>always</b>.' },
    { question: 'Written for the page?', answer: 'Yes.' },
  ]);
  const html = await app.inject({ method: 'GET', url: `/trust/${a.slug}` });
  t.match(html.body, 'Security keys for every employee &lt;b&gt;always&lt;/b&gt;.', 'escaped in HTML');
  t.notMatch(html.body + json.body, PRIVATE);

  // The control it rests on changes: the entry is stale and leaves the page until reviewed.
  const changed = await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/A.8.5',
    headers: { ...a.auth, 'if-match': '"1"' },
    payload: { applicable: true, status: 'partially_implemented', responsibility: 'provider', implementation: 'Okta; keys for admins only.' },
  });
  t.equal(changed.statusCode, 200, changed.body);
  const after = await app.inject({ method: 'GET', url: `/api/v1/public/trust/${a.slug}` });
  t.same(
    after.json().faq.map((f: { question: string }) => f.question),
    ['Written for the page?'],
  );
  const reviewed = await app.inject({
    method: 'PATCH',
    url: `/api/v1/library/${shown.id}`,
    headers: a.auth,
    payload: { answer: { choice: 'partial', text: 'Security keys for administrators.' }, status: 'approved' },
  });
  t.equal(reviewed.json().stale, false);
  const back = await app.inject({ method: 'GET', url: `/api/v1/public/trust/${a.slug}` });
  t.equal(back.json().faq[0].answer, 'Partially. Security keys for administrators.');
});

t.test('prospect self-serve reuses approved public library answers, never internal ones', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  await app.inject({
    method: 'POST',
    url: '/api/v1/library',
    headers: a.auth,
    payload: {
      question: 'Do you have a bug bounty programme?',
      answer: { choice: 'yes', text: 'Yes, a public programme on a well-known platform.' },
      public: true,
    },
  });
  await app.inject({
    method: 'POST',
    url: '/api/v1/library',
    headers: a.auth,
    payload: { question: 'Do you keep a vendor risk register?', answer: { choice: 'yes', text: `Yes, in our GRC tool. ${PRIVATE}` }, public: false },
  });
  const { base } = await prospectGrant(app, a);

  const upload = await app.inject({
    method: 'POST',
    url: `${base}/questionnaires`,
    payload: {
      name: 'Review',
      questions: [
        { ref: 'P1', text: 'Do you have a bug-bounty programme?' },
        { ref: 'P2', text: 'Do you keep a vendor risk register?' },
      ],
    },
  });
  t.equal(upload.statusCode, 201, upload.body);
  t.equal(await runNextJob(app.jobDeps), true);
  const view = await app.inject({ method: 'GET', url: `${base}/questionnaires/${upload.json().id}` });
  t.notMatch(view.body, PRIVATE, 'an internal library answer never reaches the prospect');
  const [p1, p2] = view.json().questions;
  t.match(p1, { pending: false, answer: { choice: 'yes', text: 'Yes, a public programme on a well-known platform.' } });
  t.match(p2, { pending: true, answer: null });
  const vendor = (await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${upload.json().id}`, headers: a.auth })).json();
  t.equal(vendor.questions[0].answer.sources[0].kind, 'library');
  t.notMatch(JSON.stringify(vendor), PRIVATE);
});
