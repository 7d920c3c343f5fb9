// What follows a fact change: outbox events, the trust page, stale library entries and answers.
import t from 'tap';
import { and, eq } from 'drizzle-orm';
import { events } from '../../../src/modules/events/tables.js';
import { webhookDeliveries } from '../../../src/modules/webhooks/tables.js';
import { questions } from '../../../src/modules/questionnaires/tables.js';
import { countriesOf, loadFacts, profileCatalog } from '../../../src/modules/profile/index.js';
import { signup, testApp, type Tenant } from '../../helpers/app.js';
import { profileClient } from '../../helpers/profile.js';

const NO_WORKERS = { jobs: { worker: false }, webhooks: { worker: false }, expiryScanIntervalMs: 0 };

const client = profileClient;

t.test('changes go through the outbox as profile.fact_changed', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { put, del } = client(app);
  const a = await signup(app);
  const hook = await app.inject({
    method: 'POST',
    url: '/api/v1/webhooks',
    headers: a.auth,
    payload: { url: 'https://hooks.example.com/profile', events: ['profile.fact_changed'] },
  });
  t.equal(hook.statusCode, 201, `webhooks can subscribe: ${hook.body}`);

  await put(a, 'data.storage_countries', { value: ['Ireland'], visibility: 'public' });
  await put(a, 'data.storage_countries', { value: ['Ireland', 'Germany'] }, '"1"');
  await del(a, 'data.storage_countries');
  const db = app.database.db;
  const rows = await db
    .select()
    .from(events)
    .where(and(eq(events.orgId, a.orgId), eq(events.type, 'profile.fact_changed')))
    .orderBy(events.id);
  t.match(
    rows.map((r) => r.data),
    [
      { key: 'data.storage_countries', change: 'created', version: 1, value: ['Ireland'], visibility: 'public', previousVersion: null },
      { key: 'data.storage_countries', change: 'updated', version: 2, value: ['Ireland', 'Germany'], previousVersion: 1, changed: ['value'] },
      { key: 'data.storage_countries', change: 'deleted', version: 3, value: null, previousVersion: 2 },
    ],
  );
  const deliveries = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.orgId, a.orgId), eq(webhookDeliveries.eventType, 'profile.fact_changed')));
  t.equal(deliveries.length, 3, 'one delivery queued per change');
  await put(a, 'company.legal_name', { value: 'Same Ltd' });
  await put(a, 'company.legal_name', { value: 'Same Ltd' }, '"1"');
  const after = await db
    .select()
    .from(events)
    .where(and(eq(events.orgId, a.orgId), eq(events.type, 'profile.fact_changed')));
  t.equal(after.length, 4, 'an identical write emits nothing');
});

t.test('public facts feed the trust page; private ones never do', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { put } = client(app);
  const a = await signup(app);
  t.equal((await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: a.auth, payload: { published: true } })).statusCode, 200);
  const pub = async () => app.inject({ method: 'GET', url: `/api/v1/public/trust/${a.slug}` });
  t.same((await pub()).json().facts, [], 'no public fact yet');

  await put(a, 'company.legal_name', { value: 'Alpha <script>alert(1)</script> Ltd', visibility: 'public' });
  await put(a, 'data.storage_countries', { value: ['Ireland', 'United States'], visibility: 'public' });
  await put(a, 'bcdr.rto_hours', { value: 4, visibility: 'public' });
  await put(a, 'company.employee_count', { value: 42 });
  await put(a, 'incidents.reportable_breach_last_36_months', { value: true, visibility: 'private' });

  const json = (await pub()).json();
  t.same(
    json.facts.map((f: { key: string }) => f.key),
    ['company.legal_name', 'bcdr.rto_hours', 'data.storage_countries'].sort(
      (x, y) => profileCatalog().items.findIndex((i) => i.key === x) - profileCatalog().items.findIndex((i) => i.key === y),
    ),
  );
  t.match(
    json.facts.find((f: { key: string }) => f.key === 'data.storage_countries'),
    {
      label: 'Data storage countries',
      type: 'string_list',
      value: ['Ireland', 'United States'],
      display: 'Ireland and the United States',
      statement: 'Customer data is stored in Ireland and the United States.',
    },
  );
  t.match(
    json.facts.find((f: { key: string }) => f.key === 'bcdr.rto_hours'),
    { value: 4, unit: 'hours', statement: 'Our recovery time objective is 4 hours.' },
  );
  const body = JSON.stringify(json);
  t.notOk(body.includes('employee_count'), 'private facts stay out');
  t.notOk(body.includes('reportable_breach'), 'private facts stay out');

  const html = await app.inject({ method: 'GET', url: `/trust/${a.slug}` });
  t.equal(html.statusCode, 200);
  t.match(html.body, /<h2 id="h-facts">Company facts<\/h2>/);
  t.match(html.body, /<dt>Recovery time objective<\/dt><dd>4 hours<\/dd>/);
  t.match(html.body, /Alpha &lt;script&gt;alert\(1\)&lt;\/script&gt; Ltd/, 'values are escaped');
  t.notOk(html.body.includes('<script>alert(1)'));
  t.notOk(html.body.includes('Employees'));
  t.match(html.body, /href="#facts"/, 'the section is in the page navigation');
  const profileJson = await app.inject({ method: 'GET', url: `/trust/${a.slug}/trust.json` });
  t.match(profileJson.json().facts, [{ key: 'company.legal_name' }]);
  const llms = await app.inject({ method: 'GET', url: `/trust/${a.slug}/llms.txt` });
  t.match(llms.body, /## Company facts\n\n.*Customer data is stored in Ireland and the United States\./s);

  // A fact made private leaves the page at once (the API write invalidates the cache).
  await put(a, 'bcdr.rto_hours', { value: 4, visibility: 'private' }, '"1"');
  t.notOk((await pub()).json().facts.some((f: { key: string }) => f.key === 'bcdr.rto_hours'));

  const facts = await loadFacts({ db: app.database.db, orgId: a.orgId }, { publicOnly: true });
  t.same([...facts.keys()].sort(), ['company.legal_name', 'data.storage_countries']);
  const all = await loadFacts({ db: app.database.db, orgId: a.orgId });
  t.match(all.get('bcdr.rto_hours'), {
    key: 'bcdr.rto_hours',
    type: 'number',
    value: 4,
    version: 2,
    visibility: 'private',
    label: 'Recovery time objective',
    unit: 'hours',
    phrase: /\{value\}/,
  });
  t.same(countriesOf(all), ['Ireland', 'United States']);
});

t.test('library entries citing a fact go stale when it changes', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { put, del } = client(app);
  const a = await signup(app);
  const b = await signup(app);
  const lib = (who: Tenant, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    app.inject({ method, url: `/api/v1/library${url}`, headers: who.auth, ...(payload ? { payload } : {}) });
  await put(a, 'data.storage_countries', { value: ['Ireland', 'United States'] });
  await put(a, 'bcdr.rpo_minutes', { value: 60 });

  const unknown = await lib(a, 'POST', '', { question: 'Where is data stored?', answer: { text: 'Ireland.' }, facts: ['bcdr.rto_hours'] });
  t.equal(unknown.statusCode, 422, 'a fact the organization does not have cannot be cited');
  t.equal(
    (await lib(b, 'POST', '', { question: 'Where?', answer: { text: 'x' }, facts: ['data.storage_countries'] })).statusCode,
    422,
    "nor another organization's fact",
  );
  const created = await lib(a, 'POST', '', {
    question: 'Where is customer data stored?',
    answer: { text: 'In Ireland and the United States.' },
    facts: ['data.storage_countries', 'data.storage_countries'],
  });
  t.equal(created.statusCode, 201, created.body);
  t.same(created.json().facts, ['data.storage_countries']);
  const other = await lib(a, 'POST', '', { question: 'What is your RPO?', answer: { text: 'One hour.' }, facts: ['bcdr.rpo_minutes'] });
  const id = created.json().id;
  t.same((await lib(a, 'GET', `/${id}`)).json().facts, ['data.storage_countries']);

  await put(a, 'data.storage_countries', { value: ['Ireland', 'United States', 'Germany'] }, '"1"');
  const stale = (await lib(a, 'GET', `/${id}`)).json();
  t.match(stale, { stale: true, staleReason: 'fact data.storage_countries changed (version 2)' });
  t.equal((await lib(a, 'GET', `/${other.json().id}`)).json().stale, false, 'an entry citing another fact is untouched');
  const notices = await app.database.db
    .select()
    .from(events)
    .where(and(eq(events.orgId, a.orgId), eq(events.type, 'library.entry_stale')));
  t.match(
    notices.map((n) => n.data),
    [{ id, reason: 'fact data.storage_countries changed (version 2)' }],
  );

  const reapproved = await lib(a, 'PATCH', `/${id}`, { status: 'approved', answer: { text: 'In Ireland, the United States and Germany.' } });
  t.equal(reapproved.json().stale, false, 'a person re-approving clears it');
  await del(a, 'data.storage_countries');
  t.match((await lib(a, 'GET', `/${id}`)).json(), { stale: true, staleReason: 'fact data.storage_countries changed (deleted)' });
  const listed = await lib(a, 'GET', '?stale=true');
  t.same(
    listed.json().items.map((e: { id: string; facts: string[] }) => [e.id, e.facts]),
    [[id, ['data.storage_countries']]],
  );
});

t.test('questionnaire answers citing a fact show it changed or deleted', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { put, del } = client(app);
  const a = await signup(app);
  await put(a, 'data.processes_phi', { value: false });
  const imported = await app.inject({
    method: 'POST',
    url: '/api/v1/questionnaires',
    headers: a.auth,
    payload: { name: 'Buyer', questions: [{ ref: '1', text: 'Do you process PHI?' }] },
  });
  t.equal(imported.statusCode, 201, imported.body);
  const qid = imported.json().id as string;
  const db = app.database.db;
  const [row] = await db
    .select()
    .from(questions)
    .where(and(eq(questions.orgId, a.orgId), eq(questions.questionnaireId, qid)));
  // The answer as the fill writes one from a fact: {kind:'fact', key, version}.
  await db
    .update(questions)
    .set({
      choice: 'no',
      answerText: 'No.',
      confidence: 0.9,
      status: 'draft',
      answeredAt: new Date(),
      sources: [{ kind: 'fact', key: 'data.processes_phi', version: 1 }],
    })
    .where(and(eq(questions.orgId, a.orgId), eq(questions.id, row!.id)));
  const answerOf = async () => {
    const r = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${qid}`, headers: a.auth });
    t.equal(r.statusCode, 200, r.body);
    return r.json().questions[0].answer as { stale: boolean; staleReasons: string[]; sources: Array<{ version?: number }> };
  };
  t.match(await answerOf(), { stale: false, staleReasons: [] });
  await put(a, 'data.processes_phi', { value: true }, '"1"');
  t.match(await answerOf(), { stale: true, staleReasons: ['fact data.processes_phi changed (version 2)'] });

  const approved = await app.inject({
    method: 'PATCH',
    url: `/api/v1/questionnaires/${qid}/questions/${row!.id}`,
    headers: a.auth,
    payload: { status: 'approved' },
  });
  t.equal(approved.statusCode, 200, approved.body);
  const [saved] = await db
    .select()
    .from(questions)
    .where(and(eq(questions.orgId, a.orgId), eq(questions.id, row!.id)));
  t.same(saved!.sources, [{ kind: 'fact', key: 'data.processes_phi', version: 2 }], 'approving moves the source to the current version');
  t.match(await answerOf(), { stale: false });
  await del(a, 'data.processes_phi');
  t.match(await answerOf(), { stale: true, staleReasons: ['fact data.processes_phi was deleted'] });
});
