import t from 'tap';
import { parse } from 'csv-parse/sync';
import type { App } from '../../../src/app.js';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { signup, testApp, wholeQuestionnaire, type Tenant } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';
import { prospectGrant } from '../../helpers/trust.js';

// A prospect's self-serve questionnaire follows the vendor's decision rules on public sources only,
// and shows an answer only once it is released: approved by a member, or let through at once by
// the trust page's prospectAutoRelease. Our own phrasings throughout.

interface ProspectQuestion {
  ref: string;
  text: string;
  state: 'being_prepared' | 'released' | 'awaiting_review';
  pending: boolean;
  answer: { choice: string | null; text: string | null; status: string; releasedBy: string } | null;
}
interface VendorQuestion {
  id: string;
  ref: string;
  answer: {
    choice: string | null;
    text: string | null;
    status: string;
    reviewReason: string | null;
    sources: Array<{ kind: string; id?: string; key?: string }>;
  } | null;
}

const isYes = (choice: string | null | undefined) => /^y(es)?$/i.test(choice ?? '');
const html = { accept: 'text/html' };

async function prospectJson(app: App, base: string, id: string) {
  const res = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}` });
  if (res.statusCode !== 200) throw new Error(`prospect view: ${res.statusCode} ${res.body}`);
  const body = res.json() as { counts: { released: number; awaitingReview: number; beingPrepared: number }; questions: ProspectQuestion[]; released: boolean };
  return { ...body, byRef: new Map(body.questions.map((q) => [q.ref, q])) };
}

async function vendorAnswers(app: App, who: Tenant, id: string) {
  return new Map(((await wholeQuestionnaire(app, who.auth, id)).questions as VendorQuestion[]).map((q) => [q.ref, q]));
}

async function upload(app: App, base: string, questions: Array<{ ref: string; text: string; allowedAnswers?: string[] }>) {
  const res = await app.inject({ method: 'POST', url: `${base}/questionnaires`, payload: { name: 'Vendor due diligence', questions } });
  if (res.statusCode !== 201) throw new Error(`upload: ${res.statusCode} ${res.body}`);
  return res.json().id as string;
}

const drain = async (app: App) => {
  while (await runNextJob(app.jobDeps)) {
    /* drain */
  }
};

// The public profile settles these as "no" for the demo organization (its storage countries hold
// no Chinese location, it handles no cardholder data); the third is a risk question that only a
// statement ruling it out could answer, so it must never be a "yes".
const SETTLED_NO = [
  { ref: 'N1', text: "Is any of your customers' data hosted in mainland China?" },
  { ref: 'N2', text: 'Does your platform store, process or transmit payment cardholder data?' },
  { ref: 'N3', text: "Is client data kept in the People's Republic of China?", allowedAnswers: ['Yes', 'No', 'N/A'] },
  { ref: 'N4', text: 'Do you store or handle credit card numbers?', allowedAnswers: ['Yes', 'No'] },
];
const NEVER_YES = [
  { ref: 'R1', text: 'Are there passwords hard-coded anywhere in your application source code?' },
  { ref: 'R2', text: 'Are credentials or API keys embedded in the code you ship?', allowedAnswers: ['Yes', 'No'] },
];
// Nothing public settles these: a private fact (the demo's insurance and headcount are private)
// and a practice only a control's status speaks to, which waits for a person by default.
const UNSETTLED = [
  { ref: 'U1', text: 'Do you hold a cyber insurance policy?' },
  { ref: 'U2', text: 'How many employees does your company have?' },
  { ref: 'U3', text: 'Is customer data encrypted at rest?' },
];

t.test('the demo organization: public facts answer no, nothing unsettled shows, only released answers count', async (t) => {
  const app = await testApp(t, { config: { seedDemo: true }, options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'owner@demo.example.com', password: 'Demo-Password-2026!' } });
  const demo = { auth: { authorization: `Bearer ${login.json().accessToken}` }, slug: 'demo' } as Tenant;
  const settings = await app.inject({ method: 'GET', url: '/api/v1/trust-page', headers: demo.auth });
  t.equal(settings.json().prospectAutoRelease, 'library_and_facts', 'the default: public facts and approved library answers show at once');

  const { grant, base } = await prospectGrant(app, demo, { name: 'Rin Okafor', email: 'rin@harbor-freight.example', company: 'Harbor Freight Analytics' });
  const id = await upload(app, base, [...SETTLED_NO, ...NEVER_YES, ...UNSETTLED]);
  const total = SETTLED_NO.length + NEVER_YES.length + UNSETTLED.length;

  // Before the fill runs: every question is being prepared, none is said to be under review.
  const early = await prospectJson(app, base, id);
  t.same(early.counts, { released: 0, awaitingReview: 0, beingPrepared: total });
  t.ok(early.questions.every((q) => q.state === 'being_prepared' && q.answer === null));
  const earlyPage = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}`, headers: html });
  t.equal(earlyPage.body.match(/Being prepared\./g)?.length, total, 'each question says it is being prepared');
  t.notMatch(earlyPage.body, /pending review|awaiting review/i, 'nothing claims a review while answers are being made');

  await drain(app);
  const view = await prospectJson(app, base, id);
  const vendor = await vendorAnswers(app, demo, id);

  for (const q of [...SETTLED_NO, ...NEVER_YES, ...UNSETTLED]) {
    t.notOk(isYes(view.byRef.get(q.ref)!.answer?.choice), `${q.ref}: no "yes" shown to the prospect`);
  }
  for (const q of [...SETTLED_NO, ...NEVER_YES]) {
    t.notOk(isYes(vendor.get(q.ref)!.answer?.choice), `${q.ref}: no "yes" in the vendor's draft either`);
  }
  for (const q of SETTLED_NO) {
    const p = view.byRef.get(q.ref)!;
    t.match(
      p,
      { state: 'released', pending: false, answer: { choice: /^no$/i, releasedBy: 'public_profile', text: /^No\./ } },
      `${q.ref}: the public profile's "no" shows at once`,
    );
    t.ok(
      vendor.get(q.ref)!.answer!.sources.every((s) => s.kind === 'fact'),
      `${q.ref}: cites facts only`,
    );
  }
  t.equal(view.byRef.get('N3')!.answer!.choice, 'No', "in the list's own spelling");
  for (const q of [...NEVER_YES, ...UNSETTLED]) {
    t.match(view.byRef.get(q.ref), { state: 'awaiting_review', pending: true, answer: null }, `${q.ref}: awaiting review, no answer shown`);
  }
  t.match(vendor.get('U1')!.answer, { choice: null, status: 'needs_review' }, 'a private fact does not reach the prospect path');
  t.match(
    vendor.get('U3')!.answer,
    { status: 'needs_review', reviewReason: /prospect sees it once you approve it/ },
    'a confident control draft is held for the vendor',
  );
  t.same(view.counts, { released: SETTLED_NO.length, awaitingReview: NEVER_YES.length + UNSETTLED.length, beingPrepared: 0 });

  const page = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}`, headers: html });
  t.match(page.body, `${SETTLED_NO.length} answered, ${NEVER_YES.length + UNSETTLED.length} awaiting review.`);
  t.equal(page.body.match(/Awaiting review by our security team\./g)?.length, NEVER_YES.length + UNSETTLED.length);
  t.equal(page.body.match(/class="badge"/g)?.length, SETTLED_NO.length, 'a badge only on released answers');
  t.equal(page.body.match(/From our published company facts\./g)?.length, SETTLED_NO.length, 'released facts say where they come from');
  t.notMatch(page.body, /pending review|Being prepared/i);

  await t.test('the vendor sees who asked, in its lists and its review queue', async (t) => {
    const list = await app.inject({ method: 'GET', url: '/api/v1/questionnaires', headers: demo.auth });
    const item = list.json().items.find((q: { id: string }) => q.id === id);
    t.match(item, {
      origin: 'prospect',
      prospect: { company: 'Harbor Freight Analytics', email: 'rin@harbor-freight.example', name: 'Rin Okafor', grantId: grant.grantId },
    });
    const one = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}?limit=1`, headers: demo.auth });
    t.match(one.json(), { origin: 'prospect', prospect: { company: 'Harbor Freight Analytics' } });
    const queue = (await app.inject({ method: 'GET', url: '/api/v1/review-queue?limit=200', headers: demo.auth }))
      .json()
      .items.filter((i: { questionnaire: { id: string } }) => i.questionnaire.id === id);
    t.equal(queue.length, NEVER_YES.length + UNSETTLED.length, 'every answer the prospect waits for is in the queue');
    t.ok(
      queue.every(
        (i: { questionnaire: { origin: string; prospect: { company: string } } }) =>
          i.questionnaire.origin === 'prospect' && i.questionnaire.prospect.company === 'Harbor Freight Analytics',
      ),
    );
  });

  await t.test('approving in the review queue releases the answer', async (t) => {
    const queue = (await app.inject({ method: 'GET', url: '/api/v1/review-queue?limit=200', headers: demo.auth })).json().items;
    const held = queue.find((i: { questionnaire: { id: string }; question: { ref: string } }) => i.questionnaire.id === id && i.question.ref === 'U3');
    t.ok(held, 'the held control draft is in the queue');
    const approved = await app.inject({
      method: 'PATCH',
      url: `/api/v1/questionnaires/${id}/questions/${held.question.id}`,
      headers: demo.auth,
      payload: { status: 'approved' },
    });
    t.equal(approved.statusCode, 200, approved.body);
    const after = await prospectJson(app, base, id);
    t.match(after.byRef.get('U3'), { state: 'released', answer: { choice: 'yes', releasedBy: 'review', text: /encrypted at rest/ } });
    t.same(after.counts, { released: SETTLED_NO.length + 1, awaitingReview: NEVER_YES.length + UNSETTLED.length - 1, beingPrepared: 0 });
    const shown = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}`, headers: html });
    t.match(shown.body, 'Reviewed by our security team.');
  });

  await t.test('the released file holds released answers only', async (t) => {
    t.equal((await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}/export?format=csv` })).statusCode, 409, 'not before the vendor releases it');
    t.equal((await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/release`, headers: demo.auth })).statusCode, 200);
    const csv = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}/export?format=csv` });
    t.equal(csv.statusCode, 200, csv.body);
    const [header, ...rows] = parse(csv.body, { bom: true }) as string[][];
    t.same(header, ['ref', 'section', 'question', 'choice', 'answer'], 'no confidence, status, sources or review notes for the prospect');
    const byRef = new Map(rows.map((r) => [r[0], r]));
    t.equal(rows.length, SETTLED_NO.length + NEVER_YES.length + UNSETTLED.length, 'every question is in the file');
    for (const q of SETTLED_NO) t.match(byRef.get(q.ref)![3], /^no$/i, `${q.ref}: released, written`);
    t.equal(byRef.get('U3')![3], 'yes', 'the approved answer is written');
    for (const q of [...NEVER_YES, UNSETTLED[0]!, UNSETTLED[1]!]) t.same(byRef.get(q.ref)!.slice(3), ['', ''], `${q.ref}: not released, left empty`);
    t.notMatch(csv.body, /needs review|Unreviewed|prospect sees it once/i);
    const xlsx = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}/export?format=xlsx` });
    t.equal(xlsx.statusCode, 200);
    t.equal(xlsx.headers['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  });

  await t.test('the setting: stricter at once, looser for what comes next', async (t) => {
    const bad = await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: demo.auth, payload: { prospectAutoRelease: 'everything' } });
    t.equal(bad.statusCode, 400);
    const none = await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: demo.auth, payload: { prospectAutoRelease: 'none' } });
    t.equal(none.json().prospectAutoRelease, 'none');
    const hidden = await prospectJson(app, base, id);
    for (const q of SETTLED_NO) t.match(hidden.byRef.get(q.ref), { state: 'awaiting_review', answer: null }, `${q.ref}: hidden until a person approves it`);
    t.equal(hidden.byRef.get('U3')!.state, 'released', 'an approved answer stays released');
    const csv = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}/export?format=csv` });
    t.same((parse(csv.body, { bom: true }) as string[][]).find((r) => r[0] === 'N1')!.slice(3), ['', ''], 'nor in the file');

    await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: demo.auth, payload: { prospectAutoRelease: 'confident_drafts' } });
    const again = await prospectJson(app, base, id);
    t.equal(again.byRef.get('N1')!.state, 'released', 'untouched fact answers show again');
    t.equal(again.byRef.get('R1')!.state, 'awaiting_review', 'an abstention never shows');

    // A questionnaire uploaded under confident_drafts shows a control's confident draft at once, marked as unreviewed.
    const next = await upload(app, base, [{ ref: 'C1', text: 'Is customer data encrypted at rest?' }, NEVER_YES[0]!]);
    await drain(app);
    const drafted = await prospectJson(app, base, next);
    t.match(drafted.byRef.get('C1'), { state: 'released', answer: { choice: 'yes', releasedBy: 'confident_draft' } });
    t.match(drafted.byRef.get('R1'), { state: 'awaiting_review', answer: null });
    const drafts = await app.inject({ method: 'GET', url: `${base}/questionnaires/${next}`, headers: html });
    t.match(drafts.body, 'not yet reviewed by a person');
    await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: demo.auth, payload: { prospectAutoRelease: 'library_and_facts' } });
  });
});

t.test('a tenant of our own: public facts and documents only, held answers, library answers', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  const put = (key: string, value: unknown, visibility: 'public' | 'private') =>
    app.inject({ method: 'PUT', url: `/api/v1/profile/facts/${key}`, headers: a.auth, payload: { value, visibility } });
  t.equal((await put('data.storage_countries', ['Germany', 'Ireland'], 'public')).statusCode, 200);
  t.equal((await put('data.processes_cardholder_data', false, 'public')).statusCode, 200);
  t.equal((await put('company.cyber_insurance', true, 'private')).statusCode, 200);
  for (const ref of ['A.8.4', 'A.5.17', 'A.8.28']) {
    const res = await app.inject({
      method: 'PUT',
      url: `/api/v1/controls/${ref}`,
      headers: a.auth,
      payload: {
        applicable: true,
        status: 'implemented',
        responsibility: 'provider',
        visibility: 'public',
        implementation: 'Application secrets and service passwords are issued from HashiCorp Vault at deploy time.',
        publicSummary: 'Application secrets and service passwords live in a managed vault, never in source code.',
      },
    });
    t.equal(res.statusCode, 200, `${ref} saved with a public summary`);
  }
  const NDA_MARKER = 'NDA-ONLY-FINDINGS-3e9d';
  const doc = (title: string, visibility: string, content: string) => {
    const body = multipart({ title, visibility }, [{ filename: `${title.toLowerCase().replace(/\W+/g, '-')}.md`, content, contentType: 'text/markdown' }]);
    return app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...a.auth, ...body.headers }, payload: body.payload });
  };
  const summary = await doc(
    'Penetration test summary',
    'public',
    '# Penetration test summary\n\nAn independent penetration test of the web application and its API is carried out every year by an outside security firm; the latest one found no critical issues.\n',
  );
  t.equal(summary.statusCode, 201, 'a public penetration-test summary');
  t.equal(
    (
      await doc(
        'Penetration test report',
        'nda',
        `# Penetration test report\n\nThe penetration test carried out by the outside security firm listed every finding in detail. ${NDA_MARKER}\n`,
      )
    ).statusCode,
    201,
  );
  const entry = await app.inject({
    method: 'POST',
    url: '/api/v1/library',
    headers: a.auth,
    payload: {
      question: 'Do you offer a status page for service availability?',
      answer: { choice: 'yes', text: 'Yes. Our public status page reports availability and incidents.' },
      public: true,
    },
  });
  t.equal(entry.statusCode, 201, 'an approved public library answer');

  const { base } = await prospectGrant(app, a, { name: 'Sam Ode', email: 'sam@northpier.example', company: 'North Pier Logistics' });
  const id = await upload(app, base, [
    { ref: 'F1', text: 'Is customer data stored in mainland China?' },
    { ref: 'F2', text: 'Do you store or process cardholder data?' },
    { ref: 'R1', text: 'Are any passwords hard-coded in your source code?' },
    { ref: 'D1', text: 'How often is an independent penetration test of your application carried out?' },
    { ref: 'L1', text: 'Do you offer a status page for service availability?' },
    { ref: 'P1', text: 'Do you carry cyber insurance?' },
  ]);
  await drain(app);
  const view = await prospectJson(app, base, id);
  const vendor = await vendorAnswers(app, a, id);

  t.match(view.byRef.get('F1'), { state: 'released', answer: { choice: 'no', releasedBy: 'public_profile', text: /Germany|Ireland/ } });
  t.match(view.byRef.get('F2'), { state: 'released', answer: { choice: 'no', releasedBy: 'public_profile' } });
  t.notOk(isYes(vendor.get('R1')!.answer!.choice), 'a vault statement does not make the hard-coded question a "yes"');
  t.match(view.byRef.get('R1'), { state: 'awaiting_review', answer: null });
  t.match(
    view.byRef.get('L1'),
    { state: 'released', answer: { choice: 'yes', releasedBy: 'approved_library' } },
    'an approved public library answer shows at once',
  );
  t.match(view.byRef.get('P1'), { state: 'awaiting_review', answer: null });
  t.match(vendor.get('P1')!.answer, { choice: null, status: 'needs_review' }, 'the private fact is not used');
  const d1 = vendor.get('D1')!.answer!;
  t.match(d1.sources[0], { kind: 'document', id: summary.json().id }, 'the public penetration-test summary answers the penetration-test question');
  t.match(d1, { status: 'needs_review', text: /every year/ }, 'a quoted document waits for a person');
  t.equal(view.byRef.get('D1')!.state, 'awaiting_review');
  t.notMatch(JSON.stringify([...vendor.values()]), NDA_MARKER, 'the NDA report never answers a prospect');

  await t.test('under "none", every draft waits and bulk approval releases it', async (t) => {
    t.equal((await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: a.auth, payload: { prospectAutoRelease: 'none' } })).statusCode, 200);
    const strict = await upload(app, base, [
      { ref: 'F1', text: 'Is customer data stored in mainland China?' },
      { ref: 'R1', text: 'Are any passwords hard-coded in your source code?' },
    ]);
    await drain(app);
    const held = await vendorAnswers(app, a, strict);
    t.match(
      held.get('F1')!.answer,
      { choice: 'no', status: 'needs_review', reviewReason: /prospectAutoRelease: none/ },
      'the fact answer keeps its choice and waits',
    );
    t.match((await prospectJson(app, base, strict)).byRef.get('F1'), { state: 'awaiting_review', answer: null });
    const bulk = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${strict}/approve`, headers: a.auth, payload: { minConfidence: 0.95 } });
    t.equal(bulk.json().approved, 1, 'the held draft is approved; the abstention is not');
    const after = await prospectJson(app, base, strict);
    t.match(after.byRef.get('F1'), { state: 'released', answer: { choice: 'no', releasedBy: 'review' } });
    t.match(after.byRef.get('R1'), { state: 'awaiting_review' });
  });
});
