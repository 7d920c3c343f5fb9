import t from 'tap';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { memberWithRole, signup, testApp, wholeQuestionnaire } from '../../helpers/app.js';
import { prospectGrant } from '../../helpers/trust.js';
import { multipart } from '../../helpers/multipart.js';

const PRIVATE = 'PRIVATE-MARKER-7f3a';

t.test('prospect self-serve questionnaire: public sources only, weak answers wait for review', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  const b = await signup(app);
  const put = (ref: string, body: object) =>
    app.inject({ method: 'PUT', url: `/api/v1/controls/${ref}`, headers: a.auth, payload: { applicable: true, responsibility: 'provider', ...body } });
  await put('A.8.5', {
    status: 'implemented',
    implementation: `Okta with WebAuthn for every employee. ${PRIVATE}`,
    visibility: 'public',
    publicSummary: 'Every employee signs in with phishing-resistant multi-factor authentication.',
  });
  await put('A.8.24', { status: 'implemented', implementation: `Data at rest is encrypted with AES-256 in AWS KMS. ${PRIVATE}`, visibility: 'internal' });
  const { grant, base } = await prospectGrant(app, a);

  const upload = await app.inject({
    method: 'POST',
    url: `${base}/questionnaires`,
    payload: {
      name: 'Buyer review',
      questions: [
        { ref: 'P1', text: 'Do you enforce multi-factor authentication for employees?' },
        { ref: 'P2', text: 'Is customer data encrypted at rest with customer-managed keys?' },
      ],
    },
  });
  t.equal(upload.statusCode, 201, upload.body);
  const id = upload.json().id;
  t.equal(await runNextJob(app.jobDeps), true, 'queued at once');

  const view = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}` });
  t.equal(view.statusCode, 200);
  t.notMatch(view.body, PRIVATE, 'no internal text reaches the prospect');
  const [p1, p2] = view.json().questions;
  t.match(p1, { ref: 'P1', state: 'awaiting_review', pending: true, answer: null }, "a control's draft waits for the vendor under the default setting");
  t.match(p2, { ref: 'P2', state: 'awaiting_review', pending: true, answer: null }, 'an internal-only control gives the prospect nothing: awaiting review');

  t.test('the vendor reviews in its own queue, then releases', async (t) => {
    const vendor = await wholeQuestionnaire(app, a.auth, id);
    t.match(vendor.name, /pat@buyer\.example\.com/);
    const q2 = vendor.questions.find((q: { ref: string }) => q.ref === 'P2');
    t.equal(q2.answer.status, 'needs_review');
    const q1 = vendor.questions.find((q: { ref: string }) => q.ref === 'P1');
    t.match(
      q1.answer,
      { choice: 'yes', status: 'needs_review', reviewReason: /prospect sees it once you approve it/, text: /phishing-resistant multi-factor/ },
      'the held draft keeps its choice and public text',
    );
    t.notMatch(JSON.stringify(vendor), PRIVATE, "even the vendor's draft for the prospect used no internal text");
    const early = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}/export?format=csv` });
    t.equal(early.statusCode, 409, 'no file before release');
    await app.inject({
      method: 'PATCH',
      url: `/api/v1/questionnaires/${id}/questions/${q2.id}`,
      headers: a.auth,
      payload: { choice: 'yes', text: 'Yes: AES-256 at rest; customer-managed keys on request.', status: 'approved' },
    });
    const bulk = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/approve`, headers: a.auth, payload: { minConfidence: 0, force: true } });
    t.equal(bulk.json().approved, 1, 'bulk approval takes the draft the setting held back');
    const viewer = await memberWithRole(app, a, 'viewer');
    t.equal((await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/release`, headers: viewer.auth })).statusCode, 403);
    t.equal((await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/release`, headers: b.auth })).statusCode, 404);
    t.equal((await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/release`, headers: a.auth })).statusCode, 200);
    const after = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}` });
    t.same(
      after.json().questions.map((q: { pending: boolean }) => q.pending),
      [false, false],
    );
    const csv = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}/export?format=csv` });
    t.equal(csv.statusCode, 200);
    t.match(csv.body, /customer-managed keys on request/);
  });

  t.test('a revoked or foreign grant opens nothing', async (t) => {
    t.equal(
      (await app.inject({ method: 'GET', url: `/trust/${b.slug}/access/${base.split('/').pop()}/questionnaires/${id}` })).statusCode,
      404,
      'another organization',
    );
    t.equal((await app.inject({ method: 'GET', url: `${base}x/questionnaires/${id}` })).statusCode, 401, 'tampered');
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/access-grants/${grant.grantId}`, headers: a.auth })).statusCode, 204);
    t.equal((await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}` })).statusCode, 403, 'revoked');
    t.equal((await app.inject({ method: 'POST', url: `${base}/questionnaires`, payload: { name: 'x', questions: [{ text: 'Q?' }] } })).statusCode, 403);
  });
});

t.test('from the grant page in a browser: upload form, redirect, a page that follows the answers', async (t) => {
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
      implementation: `x ${PRIVATE}`,
      visibility: 'public',
      publicSummary: 'MFA <b>everywhere</b>.',
    },
  });
  const { base } = await prospectGrant(app, a);

  const page = await app.inject({ method: 'GET', url: base, headers: { accept: 'text/html' } });
  t.match(page.body, new RegExp(`<form method="post" action="${base}/questionnaires" enctype="multipart/form-data">`));
  t.match(page.body, /<label for="questionnaire-file">/, 'the file input is labelled');

  const file = multipart({}, [{ filename: 'q.csv', content: 'ID,Question\nQ1,Do you use multi-factor authentication?\n', contentType: 'text/csv' }]);
  const posted = await app.inject({
    method: 'POST',
    url: `${base}/questionnaires`,
    headers: { ...file.headers, accept: 'text/html,application/xhtml+xml' },
    payload: file.payload,
  });
  t.equal(posted.statusCode, 303, posted.body);
  const location = posted.headers.location as string;
  const working = await app.inject({ method: 'GET', url: location, headers: { accept: 'text/html' } });
  t.equal(working.statusCode, 200);
  t.match(working.body, /http-equiv="refresh"/, 'refreshes itself while answering');
  await runNextJob(app.jobDeps);
  // The vendor approves the answer (a weak one waits for review), so the page shows its text.
  const qid = location.split('/').pop()!;
  const [q1] = (await wholeQuestionnaire(app, a.auth, qid)).questions;
  await app.inject({ method: 'PATCH', url: `/api/v1/questionnaires/${qid}/questions/${q1.id}`, headers: a.auth, payload: { status: 'approved' } });
  const done = await app.inject({ method: 'GET', url: location, headers: { accept: 'text/html' } });
  t.notMatch(done.body, /http-equiv="refresh"/);
  t.match(done.body, /MFA &lt;b&gt;everywhere&lt;\/b&gt;\./, 'answers are escaped');
  t.notMatch(done.body, PRIVATE);
  t.match(done.headers['content-security-policy'], /default-src/);
});
