// The optional language model, end to end: the app is configured (as an operator would, through
// config.openai) to talk to a fake OpenAI-compatible server over HTTP through the real `openai`
// client. What is sent, what is cached, what the model may and may not change, and what happens
// when it misbehaves or is down.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import type { Test } from 'tap';
import type { App } from '../../../src/app.js';
import { runFillJob, runNextJob } from '../../../src/modules/questionnaires/service.js';
import { jobs, llmDrafts, questionnaires } from '../../../src/modules/questionnaires/tables.js';
import { newId } from '../../../src/lib/ids.js';
import { signup, testApp, type Tenant, wholeQuestionnaire } from '../../helpers/app.js';
import { prospectGrant } from '../../helpers/trust.js';
import { startFakeOpenAI, type FakeOpenAI } from '../../helpers/fake-openai.js';

const ISO = 'iso27001-2022';

/** The organization's own statements, by control: the only text a vendor fill may send out. */
const IMPLEMENTATIONS: Record<string, { status: string; implementation: string; applicable?: boolean }> = {
  'A.8.5': {
    status: 'implemented',
    implementation: 'Every employee signs in through Okta with phishing-resistant multi-factor authentication (WebAuthn security keys).',
  },
  'A.8.24': {
    status: 'partially_implemented',
    implementation: 'Customer data is encrypted at rest with AES-256 in AWS KMS; field-level encryption for exports is being rolled out.',
  },
  'A.8.13': { status: 'planned', implementation: 'Backups of production databases are planned to move to a second region with quarterly restore tests.' },
  'A.8.15': { status: 'implemented', implementation: 'Application and infrastructure logs are shipped to a central SIEM and kept for one year.' },
  'A.8.8': {
    status: 'implemented',
    implementation: 'Vulnerability scans run weekly on every host and container image; critical findings are patched within seven days.',
  },
  'A.5.24': {
    status: 'implemented',
    implementation: 'A documented incident response plan assigns an on-call incident commander and is rehearsed twice a year.',
  },
  'A.6.3': {
    status: 'implemented',
    implementation: 'All staff complete security awareness training at hiring and every year, with phishing simulations each quarter.',
  },
  'A.5.15': { status: 'implemented', implementation: 'Access to production follows least privilege through role-based groups reviewed every quarter.' },
};

const QUESTIONS = [
  { ref: 'Q1', text: 'Do you enforce multi-factor authentication for all employees?' },
  { ref: 'Q2', text: 'Is customer data encrypted at rest?' },
  { ref: 'Q3', text: 'Are backups replicated to another region and restore-tested?' },
  { ref: 'Q4', text: 'Do you collect and retain security logs centrally?' },
  { ref: 'Q5', text: 'Do you scan your systems for vulnerabilities and patch them?' },
];

interface Source {
  kind: string;
  framework?: string;
  ref?: string;
  id?: string;
}
interface Answer {
  choice: string | null;
  text: string | null;
  confidence: number;
  status: string;
  sources: Source[];
  reviewReason?: string | null;
}
interface QuestionView {
  id: string;
  ref: string;
  text: string;
  answer: Answer | null;
}
interface SentQuestion {
  id: string;
  text: string;
  sources: Array<{ id: string; text: string }>;
}

const LLM_CONFIG = (url: string) => ({ openai: { apiKey: 'test-key', baseUrl: url, model: 'fake-chat', embeddingModel: 'fake-embed' } });
const NO_WORKERS = { jobs: { worker: false }, webhooks: { worker: false } } as const;

async function fakeFor(t: Test): Promise<FakeOpenAI> {
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  return fake;
}

async function llmApp(t: Test, baseUrl: string): Promise<App> {
  return testApp(t, { config: LLM_CONFIG(baseUrl), options: NO_WORKERS });
}

const chatRequests = (fake: FakeOpenAI) => fake.requests.filter((r) => r.path.endsWith('/chat/completions'));
const embeddingRequests = (fake: FakeOpenAI) => fake.requests.filter((r) => r.path.endsWith('/embeddings'));
/** The questions (with their sources) that one chat request carried, from its user message. */
function sentQuestions(body: { messages: Array<{ role: string; content: string }> }): SentQuestion[] {
  const user = body.messages.find((m) => m.role === 'user');
  return (JSON.parse(user!.content) as { questions: SentQuestion[] }).questions;
}
const allSent = (fake: FakeOpenAI) => chatRequests(fake).flatMap((r) => sentQuestions(r.body));

async function seedControls(app: App, tenant: Tenant, refs = Object.keys(IMPLEMENTATIONS)) {
  for (const ref of refs) {
    const c = IMPLEMENTATIONS[ref]!;
    const res = await app.inject({
      method: 'PUT',
      url: `/api/v1/controls/${ref}`,
      headers: tenant.auth,
      payload: { applicable: c.applicable ?? true, status: c.status, implementation: c.implementation, responsibility: 'provider' },
    });
    if (res.statusCode !== 200) throw new Error(`PUT ${ref}: ${res.statusCode} ${res.body}`);
  }
}

async function importQuestionnaire(app: App, tenant: Tenant, name: string, qs: Array<{ ref: string; text: string }>): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: tenant.auth, payload: { name, questions: qs } });
  if (res.statusCode !== 201) throw new Error(`import: ${res.statusCode} ${res.body}`);
  return res.json().id;
}

/** Requests a fill, runs the one job it queued, and returns the questionnaire as the API shows it. */
async function fill(t: Test, app: App, tenant: Tenant, id: string) {
  const res = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: tenant.auth });
  t.equal(res.statusCode, 202, `fill requested: ${res.body}`);
  t.equal(await runNextJob(app.jobDeps), true, 'the fill job ran');
  return (await wholeQuestionnaire(app, tenant.auth, id)) as { status: string; progress: { done: number; total: number }; questions: QuestionView[] };
}

const byRef = (qs: QuestionView[]) => Object.fromEntries(qs.map((q) => [q.ref, q])) as Record<string, QuestionView>;

/** The text after the lead ("Yes. "), which the pipeline writes before any prose. */
const prose = (text: string | null | undefined) => (text ?? '').replace(/^(Yes|No|Partially|Not applicable)\. /, '');

t.test('a fill with the model: embeddings and structured chat, prose from the model, choices from the controls', async (t) => {
  const fake = await fakeFor(t);
  const app = await llmApp(t, fake.url);
  const a = await signup(app);
  await seedControls(app, a);
  const id = await importQuestionnaire(app, a, 'Buyer review', QUESTIONS);
  const filled = await fill(t, app, a, id);
  t.equal(filled.status, 'filled');
  t.same(filled.progress, { done: QUESTIONS.length, total: QUESTIONS.length });

  const embeds = embeddingRequests(fake);
  t.ok(embeds.length >= 2, `control and question vectors were asked for (${embeds.length} calls)`);
  for (const r of embeds) {
    t.equal(r.body.encoding_format, 'base64', 'the client asks for base64 vectors');
    t.equal(r.body.model, 'fake-embed', 'the configured embedding model');
  }
  const embedded = embeds.flatMap((r) => r.body.input as string[]);
  for (const q of QUESTIONS) t.ok(embedded.includes(q.text), `the question "${q.ref}" was embedded`);

  const chats = chatRequests(fake);
  t.ok(chats.length >= 1, 'the model drafted prose');
  for (const r of chats) {
    t.equal(r.body.model, 'fake-chat', 'the configured chat model');
    t.equal(r.body.response_format?.type, 'json_schema', 'structured output is asked for');
    t.equal(r.body.response_format?.json_schema?.strict, true);
    t.equal(r.body.messages[0].role, 'system');
  }

  const q = byRef(filled.questions);
  for (const ref of ['Q1', 'Q2', 'Q4', 'Q5']) {
    const answer = q[ref]!.answer!;
    t.match(answer.text, /^(Yes|No|Partially|Not applicable)\. In short: /, `${ref}: the text leads with the answer, then comes from the model`);
    const first = answer.sources[0]!;
    t.match(first, { kind: 'control', framework: ISO }, `${ref}: the cited control leads its sources`);
    t.equal(
      prose(answer.text),
      `In short: ${IMPLEMENTATIONS[first.ref!]!.implementation.split('. ')[0]!.replace(/\.$/, '')}.`,
      `${ref}: the prose restates the statement of the control it cites (${first.ref})`,
    );
  }
  t.match(q.Q1!.answer, { choice: 'yes' });
  t.equal(q.Q1!.answer!.sources[0]!.ref, 'A.8.5');
  t.equal(q.Q2!.answer!.sources[0]!.ref, 'A.8.24');
  t.equal(q.Q2!.answer!.choice, 'partial', 'a partially implemented control is a partial, whatever the prose says');
  t.equal(q.Q3!.answer!.choice, 'no', 'a planned control is a no');
  for (const question of filled.questions) {
    for (const s of question.answer!.sources.filter((x) => x.kind === 'control')) {
      t.equal(s.framework, s.ref!.startsWith('CLD.') ? 'iso27017-2015' : ISO, `${question.ref}: ${s.ref} keeps its framework`);
    }
  }
});

t.test('several questions per chat call', async (t) => {
  const fake = await fakeFor(t);
  const app = await llmApp(t, fake.url);
  const a = await signup(app);
  await seedControls(app, a);
  const topics = [
    'multi-factor authentication for employees',
    'encryption of customer data at rest',
    'backups in another region',
    'central security logging',
    'vulnerability scanning and patching',
    'incident response planning',
    'security awareness training',
    'least privilege access to production',
    'encryption keys in KMS',
    'phishing simulations',
  ];
  const qs = Array.from({ length: 20 }, (_, i) => ({
    ref: `B${i + 1}`,
    text: `Describe your ${topics[i % topics.length]} (${i < 10 ? 'policy' : 'practice'}).`,
  }));
  const id = await importQuestionnaire(app, a, 'Batched', qs);
  const filled = await fill(t, app, a, id);
  t.equal(filled.status, 'filled');

  const chats = chatRequests(fake);
  const sent = allSent(fake);
  const drafted = filled.questions.filter((q) => prose(q.answer?.text).startsWith('In short: '));
  t.ok(sent.length >= 16, `most questions went to the model (${sent.length} of 20)`);
  t.equal(new Set(sent.map((s) => s.id)).size, sent.length, 'no question is sent twice');
  t.equal(drafted.length, sent.length, 'every question sent came back drafted');
  t.ok(chats.length < qs.length, `${chats.length} chat calls for ${sent.length} questions`);
  t.equal(chats.length, Math.ceil(sent.length / 8), 'eight questions per call by default');
  for (const r of chats) t.ok(sentQuestions(r.body).length <= 8, 'no call carries more than the batch size');
  t.ok(Math.max(...chats.map((r) => sentQuestions(r.body).length)) > 1, 'calls carry several questions');
});

t.test('drafts and vectors are cached: an unchanged question costs no call', async (t) => {
  const fake = await fakeFor(t);
  const app = await llmApp(t, fake.url);
  const a = await signup(app);
  await seedControls(app, a);
  const id = await importQuestionnaire(app, a, 'First', QUESTIONS);
  const first = await fill(t, app, a, id);
  t.ok(fake.usage().calls > 0 && fake.usage().embeddingCalls > 0, 'the first fill called the model');

  fake.reset();
  const again = await fill(t, app, a, id);
  t.equal(again.status, 'filled');
  t.equal(fake.usage().calls, 0, 're-filling the same questionnaire: no chat call');
  t.equal(fake.usage().embeddingCalls, 0, 're-filling the same questionnaire: no embedding call');
  t.same(
    again.questions.map((q) => q.answer?.text),
    first.questions.map((q) => q.answer?.text),
    'the same drafted texts, from the cache',
  );

  // Another questionnaire, the same questions but the last one reworded.
  fake.reset();
  const changed = 'Are security events logged to a central system and retained?';
  const second = await importQuestionnaire(app, a, 'Second', [...QUESTIONS.slice(0, -1), { ref: 'Q5', text: changed }]);
  const other = await fill(t, app, a, second);
  t.equal(fake.usage().embeddingCalls, 1, 'one embedding call');
  t.same(
    embeddingRequests(fake).map((r) => r.body.input),
    [[changed]],
    'only the changed question is embedded',
  );
  t.equal(fake.usage().calls, 1, 'one chat call');
  t.same(
    allSent(fake).map((s) => s.text),
    [changed],
    'only the changed question is drafted',
  );
  const o = byRef(other.questions);
  const f = byRef(first.questions);
  for (const ref of ['Q1', 'Q2', 'Q3', 'Q4']) t.equal(o[ref]!.answer!.text, f[ref]!.answer!.text, `${ref}: the cached draft is reused`);
  t.match(prose(o.Q5!.answer!.text), /^In short: /);
});

/** A proxy in front of the fake that rewrites the model's answers, for misbehaviours the fake lacks. */
async function rewritingProxy(t: Test, target: string, rewrite: (answer: { id: string; text: string; citations: string[] }) => void) {
  const server = http.createServer((req, res) => {
    let raw = '';
    req
      .setEncoding('utf8')
      .on('data', (c) => {
        raw += c;
      })
      .on(
        'end',
        () =>
          void (async () => {
            const upstream = await fetch(target + req.url!.replace(/^\/v1/, ''), {
              method: req.method,
              headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' },
              body: raw,
            });
            let body = await upstream.text();
            if (upstream.ok && req.url!.endsWith('/chat/completions')) {
              const json = JSON.parse(body);
              const content = JSON.parse(json.choices[0].message.content) as { answers: Array<{ id: string; text: string; citations: string[] }> };
              content.answers.forEach(rewrite);
              json.choices[0].message.content = JSON.stringify(content);
              body = JSON.stringify(json);
            }
            res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(body);
          })().catch(() => res.writeHead(502).end()),
      ); // a failed upstream is a bad gateway, not an unhandled rejection
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

t.test('citations: only the sources sent may be cited', async (t) => {
  t.test('a citation the product never sent is dropped', async (t) => {
    const fake = await fakeFor(t);
    fake.behaviour.extraCitation = 'A.9.9.9';
    const app = await llmApp(t, fake.url);
    const a = await signup(app);
    await seedControls(app, a);
    const id = await importQuestionnaire(app, a, 'Extra citation', QUESTIONS);
    const filled = await fill(t, app, a, id);
    t.ok(chatRequests(fake).length > 0);
    t.notOk(
      allSent(fake).some((q) => q.sources.some((s) => s.id === 'A.9.9.9')),
      'A.9.9.9 was never sent',
    );
    for (const q of filled.questions) {
      t.notOk(
        q.answer!.sources.some((s) => s.ref === 'A.9.9.9'),
        `${q.ref}: the invented citation is not a source`,
      );
    }
    const q1 = byRef(filled.questions).Q1!.answer!;
    t.match(q1, { text: /^Yes\. In short: /, choice: 'yes' }, 'a valid citation alongside keeps the draft');
    t.notMatch(q1.reviewReason ?? '', /prose/, 'not sent to review for its citations');
    // The guard is in the stored drafts too: a cached draft never carries the invented citation.
    const stored = await app.database.db.select().from(llmDrafts).where(eq(llmDrafts.orgId, a.orgId));
    t.equal(stored.length, allSent(fake).length, 'one cached draft per question sent');
    for (const d of stored) {
      t.notOk(d.citations.includes('A.9.9.9'), 'no cached draft cites A.9.9.9');
      t.ok(d.citations.length >= 1, 'the valid citation is kept');
    }
  });

  t.test('prose citing none of its sources goes to review', async (t) => {
    const fake = await fakeFor(t);
    const url = await rewritingProxy(t, fake.url, (a) => {
      a.citations = ['A.9.9.9'];
      a.text = 'We are fully certified for everything.';
    });
    const app = await llmApp(t, url);
    const a = await signup(app);
    await seedControls(app, a);
    const id = await importQuestionnaire(app, a, 'No valid citation', QUESTIONS);
    const filled = await fill(t, app, a, id);
    const sent = new Set(allSent(fake).map((s) => s.id));
    t.ok(sent.size > 0, 'questions went to the model through the proxy');
    for (const q of filled.questions.filter((x) => sent.has(x.id))) {
      t.match(q.answer, { text: 'We are fully certified for everything.', status: 'needs_review' }, `${q.ref}: untraceable prose waits for a person`);
      t.notOk(
        q.answer!.sources.some((s) => s.ref === 'A.9.9.9'),
        `${q.ref}: no invented source`,
      );
      t.ok(
        q.answer!.sources.some((s) => s.kind === 'control'),
        `${q.ref}: retrieval's sources stay`,
      );
    }
    t.equal(byRef(filled.questions).Q1!.answer!.choice, 'yes', "the choice is still retrieval's");
  });

  t.test("the model's prose never sets the choice", async (t) => {
    const fake = await fakeFor(t);
    fake.behaviour.text = 'No, we do not.';
    const app = await llmApp(t, fake.url);
    const a = await signup(app);
    await seedControls(app, a);
    const id = await importQuestionnaire(app, a, 'Contrarian prose', QUESTIONS.slice(0, 3));
    const filled = byRef((await fill(t, app, a, id)).questions);
    t.match(
      filled.Q1!.answer,
      { text: 'No, we do not.', choice: 'yes', status: 'needs_review' },
      'implemented: yes, whatever the prose; prose against the choice goes to review',
    );
    t.match(filled.Q2!.answer, { text: 'No, we do not.', choice: 'partial' });
    t.match(filled.Q3!.answer, { text: 'No, we do not.', choice: 'no' });
  });

  t.test('blank prose leaves the offline text', async (t) => {
    const fake = await fakeFor(t);
    fake.behaviour.text = '   ';
    const app = await llmApp(t, fake.url);
    const a = await signup(app);
    await seedControls(app, a);
    const id = await importQuestionnaire(app, a, 'Blank prose', QUESTIONS.slice(0, 2));
    const filled = byRef((await fill(t, app, a, id)).questions);
    t.ok(chatRequests(fake).length > 0);
    t.ok(IMPLEMENTATIONS['A.8.5']!.implementation.includes(prose(filled.Q1!.answer!.text).split('. ')[0]!), "the control statement's own sentences stand");
    t.ok(IMPLEMENTATIONS['A.8.24']!.implementation.includes(prose(filled.Q2!.answer!.text).split('. ')[0]!));
  });
});

t.test('a model that fails degrades the fill to offline answers', async (t) => {
  const fake = await fakeFor(t);
  fake.behaviour.chatStatus = 500;
  const app = await llmApp(t, fake.url);
  const a = await signup(app);
  await seedControls(app, a);
  const id = await importQuestionnaire(app, a, 'Model down', QUESTIONS.slice(0, 3));
  const filled = await fill(t, app, a, id);
  t.equal(filled.status, 'filled', 'the fill finishes');
  t.same(filled.progress, { done: 3, total: 3 });
  t.equal(chatRequests(fake).length, 3, 'one call, retried twice by the client');
  const q = byRef(filled.questions);
  for (const question of filled.questions) t.notMatch(prose(question.answer!.text), /^In short:/, `${question.ref}: no model prose`);
  t.match(q.Q1!.answer, { choice: 'yes', text: IMPLEMENTATIONS['A.8.5']!.implementation }, 'the offline answer: the control statement');
  t.match(q.Q2!.answer, { choice: 'partial', text: IMPLEMENTATIONS['A.8.24']!.implementation });

  t.test('a failure is not cached: the next fill drafts again', async (t) => {
    delete fake.behaviour.chatStatus;
    fake.reset();
    const again = byRef((await fill(t, app, a, id)).questions);
    t.equal(fake.usage().calls, 1);
    t.equal(fake.usage().embeddingCalls, 0, 'the vectors of the failed fill were kept');
    t.match(prose(again.Q1!.answer!.text), /^In short: /);
  });
});

t.test('the prospect path never calls the model', async (t) => {
  const PRIVATE = 'PRIVATE-MARKER-7f3a';
  const fake = await fakeFor(t);
  const app = await llmApp(t, fake.url);
  const a = await signup(app);
  const put = (ref: string, body: object) =>
    app.inject({ method: 'PUT', url: `/api/v1/controls/${ref}`, headers: a.auth, payload: { applicable: true, responsibility: 'provider', ...body } });
  t.equal(
    (
      await put('A.8.5', {
        status: 'implemented',
        implementation: `Okta with WebAuthn for every employee. ${PRIVATE}`,
        visibility: 'public',
        publicSummary: 'Every employee signs in with phishing-resistant multi-factor authentication.',
      })
    ).statusCode,
    200,
  );
  t.equal(
    (await put('A.8.24', { status: 'implemented', implementation: `Data at rest is encrypted with AES-256 in AWS KMS. ${PRIVATE}`, visibility: 'internal' }))
      .statusCode,
    200,
  );
  const { base } = await prospectGrant(app, a);

  const upload = await app.inject({
    method: 'POST',
    url: `${base}/questionnaires`,
    payload: {
      name: 'Buyer review',
      questions: [
        { ref: 'P1', text: 'Do you enforce multi-factor authentication for employees?' },
        { ref: 'P2', text: 'Is customer data encrypted at rest?' },
      ],
    },
  });
  t.equal(upload.statusCode, 201, upload.body);
  const id = upload.json().id;
  t.equal(await runNextJob(app.jobDeps), true, "the prospect's fill ran");
  t.same(fake.requests, [], 'no request reached the model: no embedding, no chat');

  const vendor = await wholeQuestionnaire(app, a.auth, id);
  t.equal(vendor.status, 'filled');
  const p = byRef(vendor.questions);
  t.match(
    p.P1!.answer,
    { choice: 'yes', text: 'Every employee signs in with phishing-resistant multi-factor authentication.' },
    'answered from the public summary',
  );
  t.notMatch(JSON.stringify(vendor), PRIVATE);

  t.test('even a re-fill by the vendor, and a job run directly, stay offline', async (t) => {
    fake.reset();
    const again = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: a.auth });
    t.equal(again.statusCode, 202);
    t.equal(await runNextJob(app.jobDeps), true);
    t.same(fake.requests, [], 're-filled from public text only');

    // A vendor questionnaire turned prospect's in the database: runFillJob looks at the row's origin.
    const own = await importQuestionnaire(app, a, 'Turned prospect', [{ ref: 'X1', text: 'Is customer data encrypted at rest?' }]);
    const { db } = app.database;
    await db
      .update(questionnaires)
      .set({ origin: 'prospect' })
      .where(and(eq(questionnaires.orgId, a.orgId), eq(questionnaires.id, own)));
    const now = new Date();
    const [job] = await db
      .insert(jobs)
      .values({
        orgId: a.orgId,
        id: newId(),
        kind: 'questionnaire.fill',
        subjectId: own,
        status: 'running',
        requestedBy: a.userId,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await runFillJob(app.jobDeps, job!);
    t.same(fake.requests, [], 'runFillJob on a prospect-origin row sends nothing');
    const row = await wholeQuestionnaire(app, a.auth, own);
    t.equal(row.status, 'filled');
    t.notMatch(JSON.stringify(row), PRIVATE);

    // The same app does call the model for a vendor questionnaire: the silence above is the prospect path's.
    const vendorQ = await importQuestionnaire(app, a, 'Vendor', [{ ref: 'V1', text: 'Do you enforce multi-factor authentication for employees?' }]);
    await fill(t, app, a, vendorQ);
    t.ok(fake.usage().calls > 0 && fake.usage().embeddingCalls > 0, "the model is configured and used for the vendor's own questionnaires");
  });
});

t.test("a vendor fill sends only the cited controls' statements, and no library reuse", async (t) => {
  const fake = await fakeFor(t);
  const app = await llmApp(t, fake.url);
  const a = await signup(app);
  const b = await signup(app);
  await seedControls(app, a);
  // Another organization's statements must never travel with A's questions.
  const B_SECRET = 'B-ORG-SECRET-31c9';
  for (const ref of ['A.8.5', 'A.8.24']) {
    await app.inject({
      method: 'PUT',
      url: `/api/v1/controls/${ref}`,
      headers: b.auth,
      payload: { applicable: true, status: 'implemented', implementation: `${B_SECRET} statement for ${ref}.`, responsibility: 'provider' },
    });
  }
  const library = await app.inject({
    method: 'POST',
    url: '/api/v1/library',
    headers: a.auth,
    payload: { question: 'Do you have a bug bounty programme?', answer: { choice: 'yes', text: 'LIBRARY-ANSWER: yes, on HackerOne.' }, controls: ['A.8.8'] },
  });
  t.equal(library.statusCode, 201, library.body);
  const qs = [...QUESTIONS, { ref: 'L1', text: 'Do you have a bug bounty programme?' }];
  const id = await importQuestionnaire(app, a, 'Privacy', qs);
  const filled = byRef((await fill(t, app, a, id)).questions);

  const sent = allSent(fake);
  t.ok(sent.length >= 4, `${sent.length} questions sent`);
  const texts = new Set(qs.map((q) => q.text));
  for (const q of sent) {
    t.ok(texts.has(q.text), `the question text is the buyer's: ${q.text}`);
    t.same(Object.keys(q).sort(), ['id', 'sources', 'text'], 'nothing else travels with a question');
    t.ok(q.sources.length >= 1 && q.sources.length <= 3, 'at most the top three controls');
    for (const s of q.sources) {
      t.same(Object.keys(s).sort(), ['id', 'text']);
      t.equal(s.text, IMPLEMENTATIONS[s.id]?.implementation, `source ${s.id} is A's own implementation text for that control`);
    }
    const answer = Object.values(filled).find((x) => x.id === q.id)!.answer!;
    const cited = answer.sources
      .filter((s) => s.kind === 'control')
      .slice(0, 3)
      .map((s) => s.ref);
    for (const s of q.sources) t.ok(cited.includes(s.id), `source ${s.id} is one of the answer's controls`);
  }
  const wire = JSON.stringify(fake.requests);
  t.notMatch(wire, B_SECRET, "no other organization's text is sent");
  t.notMatch(wire, 'LIBRARY-ANSWER', 'library answers are not sent');
  t.notOk(
    sent.some((q) => q.text === 'Do you have a bug bounty programme?'),
    'a library reuse is not sent to the model',
  );
  t.match(filled.L1!.answer, { choice: 'yes', text: 'LIBRARY-ANSWER: yes, on HackerOne.' }, 'the library answer is reused as is');
  t.equal(filled.L1!.answer!.sources[0]!.kind, 'library');
  const embedded = embeddingRequests(fake).flatMap((r) => r.body.input as string[]);
  t.ok(
    embedded.some((x) => x.includes(IMPLEMENTATIONS['A.8.5']!.implementation)),
    "A's own statements are embedded",
  );
  t.notOk(
    embedded.some((x) => x.includes(B_SECRET)),
    "embeddings carry no other organization's text either",
  );
});

t.test("a finished fill logs its counts and this job's model usage, never question or answer text", async (t) => {
  const fake = await fakeFor(t);
  const app = await llmApp(t, fake.url);
  const a = await signup(app);
  await seedControls(app, a);
  const logged: Array<[object, string]> = [];
  const deps = {
    ...app.jobDeps,
    log: {
      info: (obj: object, msg: string) => {
        logged.push([obj, msg]);
      },
    },
  };
  for (const name of ['First', 'Second']) {
    const id = await importQuestionnaire(app, a, name, QUESTIONS.slice(0, 3));
    await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: a.auth });
    while (await runNextJob(deps)) {
      /* drain */
    }
  }
  t.equal(logged.length, 2);
  const [first, second] = logged as Array<[{ answered: number; byStatus: Record<string, number>; llm: { chatCalls: number; cachedDrafts: number } }, string]>;
  t.equal(first![1], 'questionnaire fill finished');
  t.equal(first![0].answered, 3);
  t.ok(first![0].llm.chatCalls >= 1, 'the first fill called the model');
  t.equal(second![0].llm.chatCalls, 0, 'the second, same questions: only its own share, all from the cache');
  t.equal(second![0].llm.cachedDrafts, first![0].llm.chatCalls > 0 ? 3 : 0);
  const text = JSON.stringify(logged);
  for (const q of QUESTIONS.slice(0, 3)) t.notMatch(text, q.text);
  for (const impl of Object.values(IMPLEMENTATIONS)) t.notMatch(text, impl.implementation);
});

t.test('after the first failure a job stops asking the model', async (t) => {
  const fake = await fakeFor(t);
  fake.behaviour.chatStatus = 500;
  const app = await testApp(t, { config: LLM_CONFIG(fake.url), options: { jobs: { worker: false, batchSize: 5 }, webhooks: { worker: false } } });
  const a = await signup(app);
  await seedControls(app, a);
  const qs = Object.keys(IMPLEMENTATIONS).flatMap((ref, i) => [
    { ref: `M${i}a`, text: `How is ${IMPLEMENTATIONS[ref]!.implementation.split(' ').slice(0, 6).join(' ')} handled?` },
    { ref: `M${i}b`, text: `Who reviews ${IMPLEMENTATIONS[ref]!.implementation.split(' ').slice(0, 6).join(' ')}?` },
  ]);
  const id = await importQuestionnaire(app, a, 'Model down, many batches', qs);
  const filled = await fill(t, app, a, id);
  t.equal(filled.status, 'filled');
  t.same(filled.progress, { done: qs.length, total: qs.length });
  t.ok(qs.length > 10, `${qs.length} questions in batches of 5`);
  t.equal(chatRequests(fake).length, 3, "one failing call (with the client's two retries), then no more");
});
