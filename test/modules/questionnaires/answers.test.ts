import t, { type Test } from 'tap';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { signup, testApp, type Tenant, wholeQuestionnaire } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';
import type { App } from '../../../src/app.js';

// A small organization of our own and questions of every kind, in our own words.
const CONTROLS: Record<string, [string, string]> = {
  'A.8.5': [
    'implemented',
    'Every sign-in to production consoles and the admin panel needs a second factor. We issue hardware security keys to engineers. Password-only logins are blocked by the identity provider.',
  ],
  'A.8.24': [
    'implemented',
    'Databases and object storage are encrypted at rest with AES-256 keys held in the provider key service. Connections from browsers use TLS 1.2 or newer.',
  ],
  'A.5.30': [
    'partially_implemented',
    'A continuity plan is written and the database failover was rehearsed in March. A full switch of the application to another region has not been rehearsed.',
  ],
  'A.6.3': ['implemented', 'All staff complete security awareness training when they join and every year after.'],
};
const FACTS: Record<string, unknown> = {
  'company.legal_name': 'Fjordline Analytics AS',
  'company.headquarters': 'Bergen, Norway',
  'data.storage_countries': ['Norway', 'Sweden'],
  'data.processes_phi': false,
  'data.processes_cardholder_data': false,
  'hosting.providers': ['Microsoft Azure'],
  'bcdr.rto_hours': 12,
};
const QUESTIONS = [
  { ref: 'F1', text: 'Please give the full registered name of your company.' },
  { ref: 'F2', text: 'In which city is your main office?' },
  { ref: 'F3', text: 'What recovery time objective do you commit to?' },
  { ref: 'S1', text: 'Is any of our data kept in India?' },
  { ref: 'S2', text: 'Will our records be stored in Sweden? (Y/N)' },
  { ref: 'S3', text: 'Do you store or process credit card numbers?' },
  { ref: 'S4', text: 'Is your recovery time objective 24 hours or less?' },
  { ref: 'R1', text: 'Are any API secrets written directly into your source code?' },
  { ref: 'P1', text: 'Confirm that administrators must use multi-factor authentication (Y/N)' },
  { ref: 'P2', text: 'Do all employees take security awareness training every year?' },
  { ref: 'D1', text: 'Which cloud platform runs the service?', allowedAnswers: ['AWS', 'Microsoft Azure', 'Google Cloud', 'Other'] },
  { ref: 'D2', text: 'Has a failover of the whole application to a second region been rehearsed?', allowedAnswers: ['Yes', 'No'] },
  { ref: 'D3', text: 'Is stored customer data encrypted?', allowedAnswers: ['Yes', 'No', 'N/A'] },
  { ref: 'D4', text: 'Has a failover of the whole application to a second region been rehearsed?', allowedAnswers: ['Yes', 'No', 'Partial'] },
  { ref: 'D5', text: 'Was the database failover rehearsed?', allowedAnswers: ['Yes', 'No', 'Partial'] },
  { ref: 'T1', text: 'Describe how you encrypt customer data at rest.' },
];

type Answer = {
  choice: string | null;
  text: string | null;
  status: string;
  confidence: number;
  reviewReason?: string | null;
  sources: Array<{ kind: string; key?: string; ref?: string }>;
};
type Q = { id: string; ref: string; answer: Answer };

async function setUp(t: Test): Promise<{ app: App; org: Tenant; id: string; byRef: Map<string, Q> }> {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const org = await signup(app, 'answers');
  for (const [ref, [status, implementation]] of Object.entries(CONTROLS)) {
    const res = await app.inject({
      method: 'PUT',
      url: `/api/v1/controls/${ref}`,
      headers: org.auth,
      payload: { applicable: true, status, implementation, responsibility: 'provider' },
    });
    t.equal(res.statusCode, 200, res.body);
  }
  for (const [key, value] of Object.entries(FACTS)) {
    const res = await app.inject({ method: 'PUT', url: `/api/v1/profile/facts/${key}`, headers: org.auth, payload: { value } });
    t.ok([200, 201].includes(res.statusCode), `${key}: ${res.body}`);
  }
  const created = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: org.auth, payload: { name: 'Kinds', questions: QUESTIONS } });
  t.equal(created.statusCode, 201, created.body);
  const id = created.json().id as string;
  await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: org.auth });
  while (await runNextJob(app.jobDeps)) {
    /* drain */
  }
  const byRef = await answers(app, org, id);
  return { app, org, id, byRef };
}

async function answers(app: App, org: Tenant, id: string): Promise<Map<string, Q>> {
  const doc = await wholeQuestionnaire(app, org.auth, id);
  return new Map((doc.questions as Q[]).map((q) => [q.ref, q]));
}

t.test('every kind of question gets the right source, a list value, or an abstention', async (t) => {
  const { app, org, id, byRef } = await setUp(t);
  const a = (ref: string) => byRef.get(ref)!.answer;

  t.match(a('F1').text, /Fjordline Analytics AS/, 'the legal name is stated');
  t.equal(a('F1').choice, null);
  t.match(a('F1').sources, [{ kind: 'fact', key: 'company.legal_name' }]);
  t.match(a('F2').text, /Bergen/);
  t.match(a('F3').text, /12 hours/);

  t.equal(a('S1').choice, 'no', 'India is not a storage country');
  t.match(a('S1').text, /^No\. .*Norway/);
  t.equal(a('S2').choice, 'yes');
  t.equal(a('S3').choice, 'no', 'no cardholder data');
  t.equal(a('S4').choice, 'yes', '12 h is within 24 h');
  for (const ref of ['S1', 'S2', 'S3', 'S4', 'F1']) t.equal(a(ref).status, 'draft', `${ref} settled by a fact is a draft`);

  t.equal(a('R1').choice, null, 'a risk question is never answered from a control status');
  t.equal(a('R1').status, 'needs_review');
  t.ok(a('R1').reviewReason, `the reviewer is told why (${a('R1').reviewReason})`);

  t.equal(a('P1').choice, 'yes', 'Confirm ... (Y/N) gets a choice');
  t.match(a('P1').text, /^Yes\. /);
  t.notMatch(a('P1').text, /AES/, 'only the sentences about this practice');
  t.equal(a('P2').choice, 'yes');

  t.equal(a('D1').choice, 'Microsoft Azure', 'the provider, verbatim from the list');
  t.equal(a('D2').choice, null, 'partly implemented and the list has no Partial: left for review');
  t.equal(a('D2').status, 'needs_review');
  t.match(a('D2').reviewReason, /Partial/);
  // With Partial offered the control's status would give it, but the statement's own sentence says
  // the asked failover has not been rehearsed: "Partial" would call it half done.
  t.equal(a('D4').choice, null, 'not "Partial" for the part the statement says is missing');
  t.equal(a('D4').status, 'needs_review');
  t.match(a('D4').reviewReason, /A\.5\.30 is partly implemented and the sentence closest to the question says something is not in place/);
  // The mirror: the closest sentence says the asked part is done, so "Partial" may undersell it.
  t.equal(a('D5').choice, null, 'not "Partial" for the part the statement says is in place');
  t.match(a('D5').reviewReason, /partly implemented, but the sentence closest to the question says it is in place/);
  t.ok(a('D3').choice === 'Yes' || a('D3').choice === null, `D3 in its list (${a('D3').choice})`);
  t.equal(a('T1').choice, null);
  t.match(a('T1').text, /AES-256/);
  for (const q of byRef.values()) {
    const allowed = QUESTIONS.find((x) => x.ref === q.ref)?.allowedAnswers;
    if (allowed && q.answer.choice !== null) t.ok(allowed.includes(q.answer.choice), `${q.ref}: ${q.answer.choice} is in its list`);
  }

  // A reviewer may pick any value of the list, and nothing outside it.
  const d1 = byRef.get('D1')!;
  const ok = await app.inject({ method: 'PATCH', url: `/api/v1/questionnaires/${id}/questions/${d1.id}`, headers: org.auth, payload: { choice: 'aws' } });
  t.equal(ok.statusCode, 200, ok.body);
  t.equal(ok.json().answer.choice, 'AWS', "stored in the list's spelling");
  const bad = await app.inject({ method: 'PATCH', url: `/api/v1/questionnaires/${id}/questions/${d1.id}`, headers: org.auth, payload: { choice: 'Maybe' } });
  t.equal(bad.statusCode, 400);
  t.match(bad.json(), { code: 'bad_request', errors: [{ field: '/choice' }] });
  const p1 = byRef.get('P1')!;
  const generic = await app.inject({
    method: 'PATCH',
    url: `/api/v1/questionnaires/${id}/questions/${p1.id}`,
    headers: org.auth,
    payload: { choice: 'Partial' },
  });
  t.equal(generic.json().answer.choice, 'partial');
});

t.test('bulk approve keeps to the measured threshold; export marks or leaves out unreviewed answers', async (t) => {
  const { app, org, id } = await setUp(t);
  const low = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/approve`, headers: org.auth, payload: { minConfidence: 0.5 } });
  t.equal(low.statusCode, 422, 'below the draft threshold without force');
  t.match(low.json().detail, /threshold/);
  const forced = await app.inject({
    method: 'POST',
    url: `/api/v1/questionnaires/${id}/approve`,
    headers: org.auth,
    payload: { minConfidence: 1, force: true }, // above every calibrated confidence: approves nothing, tells the threshold
  });
  t.equal(forced.statusCode, 200);
  const approve = await app.inject({
    method: 'POST',
    url: `/api/v1/questionnaires/${id}/approve`,
    headers: org.auth,
    payload: { minConfidence: forced.json().threshold },
  });
  t.equal(approve.statusCode, 200, approve.body);
  t.ok(approve.json().approved > 0);

  const only = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/export?format=json&only=approved`, headers: org.auth });
  t.equal(only.statusCode, 200);
  t.ok(only.json().questions.length > 0);
  t.ok(
    only.json().questions.every((q: Q) => q.answer.status === 'approved'),
    'only approved answers',
  );
  const csv = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/export?format=csv`, headers: org.auth });
  t.match(csv.body, /needs review: /, 'unreviewed answers are marked in the CSV');
  const csvApproved = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/export?format=csv&only=approved`, headers: org.auth });
  t.notMatch(csvApproved.body, /needs review/);
});

t.test('a saved library answer is reused for its own question and changes no other answer', async (t) => {
  const { app, org, id, byRef } = await setUp(t);
  const p2 = byRef.get('P2')!;
  await app.inject({ method: 'PATCH', url: `/api/v1/questionnaires/${id}/questions/${p2.id}`, headers: org.auth, payload: { status: 'approved' } });
  const saved = await app.inject({
    method: 'POST',
    url: `/api/v1/questionnaires/${id}/questions/${p2.id}/library`,
    headers: org.auth,
    payload: { controls: ['A.6.3'] },
  });
  t.equal(saved.statusCode, 201, saved.body);
  t.match(saved.json().controls, [{ ref: 'A.6.3' }], 'the reviewer confirmed the controls');
  await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: org.auth });
  while (await runNextJob(app.jobDeps)) {
    /* drain */
  }
  const after = await answers(app, org, id);
  for (const [ref, q] of byRef) {
    if (ref === 'P2') continue;
    const now = after.get(ref)!.answer;
    t.same(
      [now.choice, now.confidence, now.status, now.sources.map((s) => s.ref ?? s.key)],
      [q.answer.choice, q.answer.confidence, q.answer.status, q.answer.sources.map((s) => s.ref ?? s.key)],
      `${ref} unchanged`,
    );
  }
  // The same question in a new questionnaire reuses the library entry.
  const again = await app.inject({
    method: 'POST',
    url: '/api/v1/questionnaires',
    headers: org.auth,
    payload: { name: 'Again', questions: [{ ref: 'X', text: QUESTIONS.find((q) => q.ref === 'P2')!.text }] },
  });
  await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${again.json().id}/fill`, headers: org.auth });
  while (await runNextJob(app.jobDeps)) {
    /* drain */
  }
  const reused = (await answers(app, org, again.json().id)).get('X')!.answer;
  t.equal(reused.sources[0]?.kind, 'library');
  t.equal(reused.choice, 'yes');
});

t.test('a changed fact makes the answers that cite it stale', async (t) => {
  const { app, org, id } = await setUp(t);
  const put = await app.inject({
    method: 'PUT',
    url: '/api/v1/profile/facts/data.storage_countries',
    headers: { ...org.auth, 'if-match': '"1"' },
    payload: { value: ['Norway', 'India'] },
  });
  t.equal(put.statusCode, 200, put.body);
  const after = await answers(app, org, id);
  t.equal((after.get('S1')!.answer as Answer & { stale: boolean }).stale, true);
  t.equal((after.get('P1')!.answer as Answer & { stale: boolean }).stale, false);
});

// Approving vouches for an answer as its sources stand now: the bulk approval as the single one.
t.test("bulk approval moves the approved answers to their sources' current versions", async (t) => {
  const { app, org, id } = await setUp(t);
  const put = await app.inject({
    method: 'PUT',
    url: '/api/v1/profile/facts/data.storage_countries',
    headers: { ...org.auth, 'if-match': '"1"' },
    payload: { value: ['Norway', 'Denmark'] },
  });
  t.equal(put.statusCode, 200, put.body);
  const before = (await answers(app, org, id)).get('S1')!.answer as Answer & { stale: boolean; status: string };
  t.match(before, { stale: true, status: 'draft' }, 'the fact moved on after the draft was written');
  const bulk = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/approve`, headers: org.auth, payload: { minConfidence: 0, force: true } });
  t.equal(bulk.statusCode, 200, bulk.body);
  const after = await answers(app, org, id);
  const s1 = after.get('S1')!.answer as Answer & { stale: boolean; status: string; sources: Array<{ kind: string; key?: string; version?: number }> };
  t.match(s1, { status: 'approved', stale: false }, 'approved and current, not stale the moment it is approved');
  t.match(
    s1.sources.find((s) => s.key === 'data.storage_countries'),
    { kind: 'fact', version: 2 },
  );
  const approved = [...after.values()].filter((q) => (q.answer as { status?: string } | null)?.status === 'approved');
  t.ok(approved.length > 1, 'several answers approved at once');
  t.ok(
    approved.every((q) => (q.answer as Answer & { stale: boolean }).stale === false),
    'none of them reads stale',
  );
});

t.test("a VSAQ template: options picked by their keys, hidden items left empty, exported in VSAQ's own format", async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const org = await signup(app, 'vsaq');
  await app.inject({
    method: 'PUT',
    url: `/api/v1/controls/A.8.5`,
    headers: org.auth,
    payload: { applicable: true, status: 'implemented', implementation: CONTROLS['A.8.5']![1], responsibility: 'provider' },
  });
  await app.inject({ method: 'PUT', url: '/api/v1/profile/facts/company.legal_name', headers: org.auth, payload: { value: 'Fjordline Analytics AS' } });
  // A template of our own in VSAQ's shape: a radio group whose keys end in _yes/_no, an item shown
  // only when an unknown option is chosen, an item hidden by a chosen one, and a text line.
  const template = {
    questionnaire: [
      {
        type: 'block',
        text: 'Access',
        items: [
          {
            type: 'radiogroup',
            id: 'mfa',
            text: 'Is a second factor required when administrators sign in?',
            choices: [{ mfa_yes: 'Yes, always for administrators.' }, { mfa_no: 'No, a password is enough.' }],
          },
          { type: 'box', id: 'mfa_gap', cond: 'mfa_no', text: 'Explain why administrators sign in without a second factor.' },
          { type: 'line', id: 'vendor_name', text: 'Legal name of the vendor' },
          { type: 'box', id: 'sso_detail', cond: 'sso_yes', text: 'Describe your single sign-on setup.' },
        ],
      },
    ],
  };
  const body = multipart({ name: 'vsaq' }, [{ filename: 'template.json', content: JSON.stringify(template), contentType: 'application/json' }]);
  const up = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: { ...org.auth, ...body.headers }, payload: body.payload });
  t.equal(up.statusCode, 201, up.body);
  const id = up.json().id;
  await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: org.auth });
  while (await runNextJob(app.jobDeps)) {
    /* drain */
  }
  const byRef = await answers(app, org, id);
  t.equal(byRef.get('mfa')!.answer.choice, 'Yes, always for administrators.', 'the option that means yes, verbatim');
  t.match(byRef.get('vendor_name')!.answer.text, /Fjordline Analytics AS/);
  t.match(byRef.get('mfa_gap')!.answer, { choice: null, text: null }, 'hidden: its condition is false given our answer');
  t.not(byRef.get('sso_detail')!.answer.status, 'draft', 'an unknown condition hides nothing');
  // A reviewer approves; the export loads back into VSAQ: option keys checked, text items as text.
  for (const q of byRef.values())
    await app.inject({
      method: 'PATCH',
      url: `/api/v1/questionnaires/${id}/questions/${q.id}`,
      headers: org.auth,
      payload: { status: 'approved', ...(q.answer.choice === null && q.answer.text === null ? { text: 'n/a' } : {}) },
    });
  const out = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/export?format=vsaq&only=approved`, headers: org.auth });
  t.equal(out.statusCode, 200, out.body);
  t.match(out.json(), { mfa_yes: 'checked', vendor_name: /Fjordline/ });
  t.notOk('mfa_no' in out.json());
  const notVsaq = await app.inject({
    method: 'POST',
    url: '/api/v1/questionnaires',
    headers: org.auth,
    payload: { name: 'plain', questions: [{ text: 'Do you encrypt backups?' }] },
  });
  const refused = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${notVsaq.json().id}/export?format=vsaq`, headers: org.auth });
  t.equal(refused.statusCode, 400, 'format=vsaq only for VSAQ imports');
});
