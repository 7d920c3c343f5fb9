import t from 'tap';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { signup, testApp, type Tenant, wholeQuestionnaire } from '../../helpers/app.js';
import { docxOf, pdfOf } from '../../helpers/documents.js';
import { multipart } from '../../helpers/multipart.js';
import { prospectGrant } from '../../helpers/trust.js';
import { startFakeOpenAI } from '../../helpers/fake-openai.js';
import type { App } from '../../../src/app.js';

// A policy set of our own for an organization whose controls are not answered yet: only the
// documents can answer these questions.
const PRIVATE = 'PRIVATE-KNOWLEDGE-MARKER-51c2';
const MARKDOWN = `# Access control policy

## Passwords

Staff passwords must be at least 14 characters long and are checked against a list of breached passwords. ${PRIVATE}

## Remote access

Remote access to production requires the company VPN and a hardware security key.
`;

interface Source {
  kind: string;
  id?: string;
  version?: number;
  title?: string;
  page?: number;
  heading?: string;
}
interface Answer {
  choice: string | null;
  text: string | null;
  status: string;
  sources: Source[];
  reviewReason: string | null;
  stale?: boolean;
  staleReasons?: string[];
}

async function upload(
  app: App,
  a: Tenant,
  url: string,
  fields: Record<string, string>,
  file: { filename: string; content: Buffer | string; contentType: string },
) {
  const body = multipart(fields, [file]);
  return app.inject({ method: 'POST', url, headers: { ...a.auth, ...body.headers }, payload: body.payload });
}

async function fill(app: App, a: Tenant, questions: Array<{ ref: string; text: string }>): Promise<{ id: string; answers: Map<string, Answer> }> {
  const created = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: a.auth, payload: { name: 'Policy questions', questions } });
  if (created.statusCode !== 201) throw new Error(created.body);
  const id = created.json().id as string;
  await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: a.auth });
  while (await runNextJob(app.jobDeps)) {
    /* drain */
  }
  return { id, answers: await answersOf(app, a, id) };
}

async function answersOf(app: App, a: Tenant, id: string): Promise<Map<string, Answer>> {
  return new Map(((await wholeQuestionnaire(app, a.auth, id)).questions as Array<{ ref: string; answer: Answer }>).map((q) => [q.ref, q.answer]));
}

t.test('policy documents answer what controls and facts do not, cited with page or heading', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  const b = await signup(app);

  const md = await upload(
    app,
    a,
    '/api/v1/documents',
    { title: 'Access control policy', visibility: 'private' },
    { filename: 'access.md', content: MARKDOWN, contentType: 'text/markdown' },
  );
  t.equal(md.statusCode, 201, md.body);
  t.match(md.json(), { useForAnswers: true, textIndex: { status: 'indexed', version: 1 } });
  t.ok(md.json().textIndex.passages >= 2, 'one passage per heading at least');

  const pdf = await upload(
    app,
    a,
    '/api/v1/documents',
    { title: 'Backup standard', visibility: 'public' },
    {
      filename: 'backup.pdf',
      contentType: 'application/pdf',
      content: await pdfOf([
        ['Backup standard', 'Scope: every production database.'],
        ['Database backups are kept for 35 days in a second region.', 'Restores are rehearsed once a quarter.'],
      ]),
    },
  );
  t.equal(pdf.statusCode, 201, pdf.body);
  t.match(pdf.json().textIndex, { status: 'indexed' });

  const docx = await upload(
    app,
    a,
    '/api/v1/documents',
    { title: 'Supplier management', visibility: 'nda' },
    {
      filename: 'suppliers.docx',
      contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      content: await docxOf([
        '# Supplier management',
        'This standard covers every vendor that handles customer data.',
        '## Supplier reviews',
        'Critical suppliers are reassessed every 18 months against our security questionnaire.',
      ]),
    },
  );
  t.equal(docx.statusCode, 201, docx.body);
  t.match(docx.json().textIndex, { status: 'indexed' });

  const evidence = await upload(
    app,
    a,
    '/api/v1/evidence',
    { title: 'Endpoint protection rollout' },
    {
      filename: 'endpoint.txt',
      contentType: 'text/plain',
      content: 'Every company laptop runs the Falcon endpoint agent, and its console alerts the on-call engineer.',
    },
  );
  t.equal(evidence.statusCode, 201, evidence.body);
  t.match(evidence.json(), { useForAnswers: true, textIndex: { status: 'indexed' } });

  const { id, answers } = await fill(app, a, [
    { ref: 'Q1', text: 'What is the minimum length of staff passwords?' },
    { ref: 'Q2', text: 'How long do you keep database backups?' },
    { ref: 'Q3', text: 'How often are critical suppliers reassessed?' },
    { ref: 'Q4', text: 'Which endpoint agent runs on company laptops?' },
  ]);
  const q1 = answers.get('Q1')!;
  t.match(q1.text, /at least 14 characters/, 'the fact is in the text');
  t.match(q1.sources[0], { kind: 'document', id: md.json().id, version: 1, title: 'Access control policy', heading: /Passwords/ });
  t.equal(q1.choice, null, 'a document never picks a choice by itself');
  t.equal(q1.status, 'needs_review');
  t.match(q1.reviewReason, /"Access control policy"/);
  const q2 = answers.get('Q2')!;
  t.match(q2.text, /35 days/);
  t.match(q2.sources[0], { kind: 'document', id: pdf.json().id, page: 2 });
  const q3 = answers.get('Q3')!;
  t.match(q3.text, /every 18 months/);
  t.match(q3.sources[0], { kind: 'document', id: docx.json().id, heading: /Supplier reviews/ });
  const q4 = answers.get('Q4')!;
  t.match(q4.text, /Falcon endpoint agent/);
  t.match(q4.sources[0], { kind: 'evidence', id: evidence.json().id, version: 1 });

  t.test('another organization sees none of it', async (t) => {
    const other = await fill(app, b, [{ ref: 'Q1', text: 'What is the minimum length of staff passwords?' }]);
    t.notMatch(JSON.stringify([...other.answers.values()]), /14 characters|PRIVATE-KNOWLEDGE/);
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/documents/${md.json().id}`, headers: b.auth })).statusCode, 404);
  });

  t.test('a new version re-indexes, and answers citing the old one turn stale', async (t) => {
    const body = multipart({}, [
      {
        filename: 'backup-v2.pdf',
        contentType: 'application/pdf',
        content: await pdfOf([['Backup standard v2'], ['Database backups are kept for 90 days in a second region.']]),
      },
    ]);
    const v2 = await app.inject({
      method: 'POST',
      url: `/api/v1/documents/${pdf.json().id}/versions`,
      headers: { ...a.auth, ...body.headers },
      payload: body.payload,
    });
    t.equal(v2.statusCode, 201, v2.body);
    t.match(v2.json().textIndex, { status: 'indexed', version: 2 });
    const after = await answersOf(app, a, id);
    t.equal(after.get('Q2')!.stale, true);
    t.match(after.get('Q2')!.staleReasons, [/"Backup standard" has a new version \(2\)/]);
    t.equal(after.get('Q1')!.stale, false, "other documents' answers stay fresh");
    const refill = await fill(app, a, [{ ref: 'Q2', text: 'How long do you keep database backups?' }]);
    t.match(refill.answers.get('Q2')!.text, /90 days/);
    t.match(refill.answers.get('Q2')!.sources[0], { kind: 'document', version: 2 });
  });

  t.test('a document taken out of answering stops answering, and its answers say so', async (t) => {
    const patched = await app.inject({ method: 'PATCH', url: `/api/v1/documents/${md.json().id}`, headers: a.auth, payload: { useForAnswers: false } });
    t.equal(patched.statusCode, 200, patched.body);
    t.equal(patched.json().useForAnswers, false);
    t.match((await answersOf(app, a, id)).get('Q1')!.staleReasons, [/no longer used for answers/]);
    const refill = await fill(app, a, [{ ref: 'Q1', text: 'What is the minimum length of staff passwords?' }]);
    t.notMatch(refill.answers.get('Q1')!.text ?? '', /14 characters/);
    t.notOk(refill.answers.get('Q1')!.sources.some((s) => s.id === md.json().id));
    await app.inject({ method: 'PATCH', url: `/api/v1/documents/${md.json().id}`, headers: a.auth, payload: { useForAnswers: true } });
  });

  t.test('the prospect path quotes public documents only', async (t) => {
    const { base } = await prospectGrant(app, a);
    const posted = await app.inject({
      method: 'POST',
      url: `${base}/questionnaires`,
      payload: {
        name: 'Buyer review',
        questions: [
          { ref: 'P1', text: 'What is the minimum length of staff passwords?' },
          { ref: 'P2', text: 'How long do you keep database backups?' },
          { ref: 'P3', text: 'How often are critical suppliers reassessed?' },
        ],
      },
    });
    t.equal(posted.statusCode, 201, posted.body);
    while (await runNextJob(app.jobDeps)) {
      /* drain */
    }
    const prospectView = await app.inject({ method: 'GET', url: `${base}/questionnaires/${posted.json().id}` });
    t.notMatch(prospectView.body, PRIVATE);
    const vendorView = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${posted.json().id}`, headers: a.auth });
    t.notMatch(vendorView.body, PRIVATE, "even the vendor's draft for the prospect used no private passage");
    t.notMatch(vendorView.body, /14 characters|18 months/, 'private and NDA documents do not answer prospects');
    const p2 = (vendorView.json().questions as Array<{ ref: string; answer: Answer }>).find((q) => q.ref === 'P2')!;
    t.match(p2.answer.text, /90 days/, 'the public PDF does');
    t.match(p2.answer.sources[0], { kind: 'document', id: pdf.json().id });
  });
});

t.test('files without text say why; bad flags are refused', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  const scan = await upload(
    app,
    a,
    '/api/v1/documents',
    { title: 'Scanned policy', visibility: 'private' },
    {
      filename: 'scan.pdf',
      contentType: 'application/pdf',
      content: await pdfOf([[], []]),
    },
  );
  t.equal(scan.statusCode, 201, scan.body);
  t.match(scan.json().textIndex, { status: 'scanned', passages: 0, detail: /no text layer/ });
  const image = await upload(
    app,
    a,
    '/api/v1/documents',
    { title: 'Logo', visibility: 'public' },
    {
      filename: 'logo.png',
      contentType: 'image/png',
      content: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
    },
  );
  t.equal(image.statusCode, 201, 'the upload itself is kept');
  t.match(image.json().textIndex, { status: 'unsupported', passages: 0 });
  const off = await upload(
    app,
    a,
    '/api/v1/documents',
    { title: 'Draft policy', visibility: 'private', useForAnswers: 'false' },
    {
      filename: 'draft.md',
      contentType: 'text/markdown',
      content: '# Draft\n\nNothing final here.',
    },
  );
  t.equal(off.statusCode, 201, off.body);
  t.match(off.json(), { useForAnswers: false, textIndex: { status: 'indexed' } });
  const bad = await upload(
    app,
    a,
    '/api/v1/documents',
    { title: 'X', visibility: 'private', useForAnswers: 'maybe' },
    { filename: 'x.md', contentType: 'text/markdown', content: '# X' },
  );
  t.equal(bad.statusCode, 400);
  t.match(bad.json(), { code: 'validation_failed' });
  const del = await app.inject({ method: 'DELETE', url: `/api/v1/documents/${off.json().id}`, headers: a.auth });
  t.equal(del.statusCode, 204);
});

t.test("a library entry that quotes a document goes stale with the document's next version", async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  const doc = await upload(
    app,
    a,
    '/api/v1/documents',
    { title: 'Logging standard', visibility: 'private' },
    {
      filename: 'logging.md',
      contentType: 'text/markdown',
      content: '# Logging standard\n\n## Retention\n\nApplication logs are retained for 400 days in write-once storage.\n',
    },
  );
  t.equal(doc.statusCode, 201, doc.body);
  const { id, answers } = await fill(app, a, [{ ref: 'L1', text: 'How long are application logs retained?' }]);
  const l1 = answers.get('L1')!;
  t.match(l1.text, /400 days/);
  const qs = (await wholeQuestionnaire(app, a.auth, id)).questions as Array<{ id: string }>;
  const approved = await app.inject({
    method: 'PATCH',
    url: `/api/v1/questionnaires/${id}/questions/${qs[0]!.id}`,
    headers: a.auth,
    payload: { status: 'approved' },
  });
  t.equal(approved.statusCode, 200, approved.body);
  const saved = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/questions/${qs[0]!.id}/library`, headers: a.auth, payload: {} });
  t.equal(saved.statusCode, 201, saved.body);
  t.equal(saved.json().stale, false);

  const body = multipart({}, [
    { filename: 'logging-v2.md', contentType: 'text/markdown', content: '# Logging standard\n\n## Retention\n\nApplication logs are retained for 730 days.\n' },
  ]);
  const v2 = await app.inject({
    method: 'POST',
    url: `/api/v1/documents/${doc.json().id}/versions`,
    headers: { ...a.auth, ...body.headers },
    payload: body.payload,
  });
  t.equal(v2.statusCode, 201, v2.body);
  const entry = await app.inject({ method: 'GET', url: `/api/v1/library/${saved.json().id}`, headers: a.auth });
  t.match(entry.json(), { stale: true, staleReason: /document "Logging standard" has a new version \(2\)/ });
});

t.test('with a model configured, passages are embedded (once) and ranked by meaning as well', async (t) => {
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  const app = await testApp(t, {
    config: { openai: { apiKey: 'test-key', baseUrl: fake.url, model: 'fake-chat', embeddingModel: 'fake-embed' } },
    options: { jobs: { worker: false }, webhooks: { worker: false } },
  });
  const a = await signup(app);
  const doc = await upload(
    app,
    a,
    '/api/v1/documents',
    { title: 'Access control policy', visibility: 'private' },
    { filename: 'access.md', content: MARKDOWN, contentType: 'text/markdown' },
  );
  t.equal(doc.statusCode, 201, doc.body);
  fake.reset();
  const first = await fill(app, a, [{ ref: 'Q1', text: 'What is the minimum length of staff passwords?' }]);
  t.match(first.answers.get('Q1')!.text, /14 characters/);
  const embedded = fake.requests
    .filter((r) => r.path.endsWith('/embeddings'))
    .flatMap((r) => (Array.isArray(r.body.input) ? r.body.input : [r.body.input]) as string[]);
  t.ok(
    embedded.some((text) => text.includes('Staff passwords must be at least 14 characters')),
    'the passage was embedded',
  );
  fake.reset();
  await fill(app, a, [{ ref: 'Q1', text: 'What is the minimum length of staff passwords?' }]);
  const again = fake.requests
    .filter((r) => r.path.endsWith('/embeddings'))
    .flatMap((r) => (Array.isArray(r.body.input) ? r.body.input : [r.body.input]) as string[]);
  t.notOk(
    again.some((text) => text.includes('Staff passwords must be at least 14 characters')),
    'vectors come from the cache the second time',
  );
});
