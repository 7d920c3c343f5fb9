// A big fill never holds the API: ranking and drafting run in the worker pool (the same answers as
// in process), answers are written a batch per statement, progress moves batch by batch, another
// request completes while a large fill runs on PGlite, and the detail view pages its questions.
import fs from 'node:fs';
import t from 'tap';
import { PGlite } from '@electric-sql/pglite';
import { and, asc, eq } from 'drizzle-orm';
import { buildApp, type App } from '../../../src/app.js';
import { defaultConfig } from '../../../src/config.js';
import { openDatabase } from '../../../src/db/client.js';
import { seedDatabase } from '../../../src/seeds.js';
import { systemClock } from '../../../src/lib/clock.js';
import { loadCorpus, loadThesaurus, prepareBatch, draftPrepared, type QuestionInput } from '../../../src/modules/questionnaires/answering.js';
import { draftInPool, runDraftTask, type DraftTask } from '../../../src/modules/questionnaires/draft-task.js';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { questions } from '../../../src/modules/questionnaires/tables.js';
import { events } from '../../../src/modules/events/tables.js';
import { SEEDS_DIR } from '../../../src/seeds.js';
import { PGLITE_DUMP } from '../../helpers/db.js';
import { signup, testApp, type Tenant } from '../../helpers/app.js';

const NO_WORKERS = { jobs: { worker: false }, webhooks: { worker: false } } as const;

const CONTROLS: Record<string, [string, string]> = {
  'A.5.15': ['implemented', 'Access is granted by role and reviewed every quarter by the system owner.'],
  'A.8.5': ['implemented', 'All staff sign in with single sign-on and a hardware security key.'],
  'A.8.13': ['implemented', 'Production databases are backed up every night to a second region and restores are rehearsed twice a year.'],
  'A.8.24': ['partially_implemented', 'Data is encrypted at rest with managed keys; field-level encryption is being rolled out.'],
  'A.5.24': ['implemented', 'An incident response plan names the on-call roles and is exercised every year.'],
  'A.6.3': ['planned', 'A security awareness course for all staff is scheduled for next quarter.'],
};

// Questions in our own words, in variants, up to n.
const STEMS = [
  'Do you review user access rights on a regular basis?',
  'Is multi-factor authentication required for staff accounts?',
  'How often are backups taken and are restores tested?',
  'Is customer data encrypted at rest?',
  'Do you have a documented incident response plan?',
  'Do employees receive security awareness training?',
  'Is there a named owner for each production system?',
  'Are vulnerability scans run against internet-facing hosts?',
];
const PREFIXES = ['', 'Please confirm: ', 'For the hosted service, ', 'In production, '];
function texts(n: number): string[] {
  const out: string[] = [];
  for (let v = 0; out.length < n; v++)
    for (const s of STEMS) if (out.length < n) out.push(`${PREFIXES[v % PREFIXES.length]}${s}${v >= PREFIXES.length ? ` (${v})` : ''}`);
  return out;
}

async function answerControls(app: App, tenant: Tenant) {
  for (const [ref, [status, implementation]] of Object.entries(CONTROLS)) {
    const res = await app.inject({
      method: 'PUT',
      url: `/api/v1/controls/${ref}`,
      headers: tenant.auth,
      payload: { applicable: true, status, implementation, responsibility: 'provider' },
    });
    if (res.statusCode !== 200 && res.statusCode !== 201) throw new Error(`${ref}: ${res.statusCode} ${res.body}`);
  }
}

async function create(app: App, tenant: Tenant, list: string[], name = 'Scale') {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/questionnaires',
    headers: tenant.auth,
    payload: { name, questions: list.map((text, i) => ({ ref: `S${i + 1}`, text })) },
  });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json().id as string;
}

async function queueFill(app: App, tenant: Tenant, id: string) {
  const res = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: tenant.auth });
  if (res.statusCode !== 202) throw new Error(res.body);
}

async function answersOf(app: App, orgId: string, qid: string) {
  const rows = await app.database.db
    .select()
    .from(questions)
    .where(and(eq(questions.orgId, orgId), eq(questions.questionnaireId, qid)))
    .orderBy(asc(questions.position));
  return rows.map((r) => ({
    choice: r.choice,
    text: r.answerText,
    confidence: r.confidence,
    status: r.status,
    sources: r.sources,
    reason: r.reviewReason,
    basis: r.answerBasis,
  }));
}

t.test('a fill ranked in the worker pool gives the answers an in-process fill gives, a batch per write', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const tenant = await signup(app, 'pool');
  await answerControls(app, tenant);
  const list = texts(90);
  const viaPool = await create(app, tenant, list, 'Pool');
  const inProcess = await create(app, tenant, list, 'In process');
  await queueFill(app, tenant, viaPool);
  // testApp drafts on this thread (for coverage); the app's own pool is what production uses.
  t.equal(app.jobDeps.pool, undefined);
  // Small batches: the topic carried from batch to batch crosses the thread boundary several times.
  t.equal(await runNextJob({ ...app.jobDeps, pool: app.parsers, batchSize: 20 }), true);
  await queueFill(app, tenant, inProcess);
  t.equal(await runNextJob({ ...app.jobDeps, pool: undefined, batchSize: 20 }), true);
  const a = await answersOf(app, tenant.orgId, viaPool);
  const b = await answersOf(app, tenant.orgId, inProcess);
  t.equal(a.length, 90);
  t.ok(
    a.every((x) => x.status !== null),
    'every question answered',
  );
  t.ok(a.some((x) => x.choice === 'yes') && a.some((x) => x.status === 'needs_review'), 'answers of several kinds');
  t.same(a, b, 'the same answers, question by question');
  const review = await app.database.db
    .select()
    .from(events)
    .where(and(eq(events.orgId, tenant.orgId), eq(events.type, 'answer.needs_review')));
  const perQuestionnaire = (qid: string) => review.filter((e) => e.data.questionnaireId === qid).length;
  t.equal(perQuestionnaire(viaPool), a.filter((x) => x.status === 'needs_review').length, 'one needs_review event per answer sent to review');
  t.equal(perQuestionnaire(viaPool), perQuestionnaire(inProcess));
});

t.test('the draft task: the corpus is asked for once, then named by key; the topic crosses back', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const tenant = await signup(app, 'task');
  await answerControls(app, tenant);
  const corpus = await loadCorpus({ db: app.database.db, orgId: tenant.orgId }, new Date());
  const thesaurus = loadThesaurus(SEEDS_DIR);
  const qs: QuestionInput[] = texts(12).map((text, i) => ({ id: `q${i}`, text }));
  const prepared = await prepareBatch(app.database.db, qs, thesaurus);
  const expected = draftPrepared(corpus, qs, prepared, { context: { previous: [] } });

  const key = `test-${Date.now()}`;
  const bare: DraftTask = { kind: 'compute', module: '', fn: 'runDraftTask', corpusKey: key, questions: qs, tokens: prepared.tokens, previous: [] };
  t.same(runDraftTask(bare), { missing: true }, 'a worker without the corpus asks for it');
  // Through structured clone, as a worker receives it.
  const sent = structuredClone({
    ...bare,
    corpus: (await import('../../../src/modules/questionnaires/answering.js')).corpusData(corpus),
    groups: prepared.groups,
  });
  const first = runDraftTask(sent);
  t.equal(first.missing, false);
  const again = runDraftTask(bare);
  t.equal(again.missing, false, 'kept by key for the next batch');
  if (first.missing || again.missing) return;
  t.same(new Map(first.drafts), expected, 'the same drafts as in process');
  t.same(again.drafts, first.drafts);
  t.ok(first.previous.length > 0 && first.previous.every((k) => corpus.controls.some((c) => c.key === k)), 'the topic comes back as control keys');

  // The main thread's side against a runner that lost the corpus once.
  let calls = 0;
  const runner = {
    compute: async (task: DraftTask) => {
      calls++;
      return runDraftTask(structuredClone({ ...task, corpusKey: `${key}-2` }));
    },
  };
  const context = { previous: [] as typeof corpus.controls };
  const viaRunner = await draftInPool(runner, `${key}-2`, corpus, qs, prepared, { context });
  t.equal(calls, 2, 'asked, then sent the corpus');
  t.same(viaRunner, expected);
  t.ok(context.previous.length > 0 && context.previous.every((c) => corpus.controls.includes(c)), "the topic is the main thread's own control objects");
  const broken = { compute: async () => ({ missing: true as const }) };
  await t.rejects(draftInPool(broken, 'x', corpus, qs, prepared, {}), /did not keep the corpus/);
  await app.close();
});

t.test('GET /questionnaires/{id} pages its questions, filters kept, summary on every page', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const tenant = await signup(app, 'paging');
  await answerControls(app, tenant);
  const list = texts(120);
  const id = await create(app, tenant, list);
  const get = (query: string) => app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}${query}`, headers: tenant.auth });

  const first = await get('');
  t.equal(first.statusCode, 200);
  t.equal(first.json().questions.length, 50, 'default page of 50');
  t.equal(first.json().progress.total, 120, 'the summary counts every question');
  t.type(first.json().nextCursor, 'string');
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await get(`?limit=45${cursor ? `&cursor=${cursor}` : ''}`);
    t.equal(res.statusCode, 200);
    t.equal(res.json().name, 'Scale', 'the summary on every page');
    seen.push(...res.json().questions.map((q: { text: string }) => q.text));
    cursor = res.json().nextCursor;
    pages++;
  } while (cursor);
  t.equal(pages, 3);
  t.same(seen, list, 'every question once, in order');
  t.equal((await get('?limit=120')).json().nextCursor, null, 'a page that holds the rest has no cursor');

  await queueFill(app, tenant, id);
  await runNextJob(app.jobDeps);
  const all = await answersOf(app, tenant.orgId, id);
  const reviewCount = all.filter((a) => a.status === 'needs_review').length;
  t.ok(reviewCount > 10 && reviewCount < 120);
  const reviewed: string[] = [];
  cursor = null;
  do {
    const res = await get(`?status=needs_review&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
    t.ok(res.json().questions.length <= 7);
    t.ok(
      res.json().questions.every((q: { answer: { status: string } }) => q.answer.status === 'needs_review'),
      'the filter holds on every page',
    );
    reviewed.push(...res.json().questions.map((q: { id: string }) => q.id));
    cursor = res.json().nextCursor;
  } while (cursor);
  t.equal(reviewed.length, reviewCount, 'the filtered pages hold every match once');
  t.equal(new Set(reviewed).size, reviewCount);

  // The staleness filter is computed in process: pages still hold every match, none twice.
  const cited = all.flatMap((a) => a.sources.filter((s) => s.kind === 'control' && s.ref && s.ref in CONTROLS).map((s) => s.ref!));
  const ref = cited[0]!;
  t.ok(ref, 'some answer cites an answered control');
  const changed = await app.inject({
    method: 'PUT',
    url: `/api/v1/controls/${ref}`,
    headers: tenant.auth,
    payload: { applicable: true, status: CONTROLS[ref]![0], implementation: `${CONTROLS[ref]![1]} Changed since.`, responsibility: 'provider', version: 1 },
  });
  t.equal(changed.statusCode, 200);
  const staleIds: string[] = [];
  const freshIds: string[] = [];
  for (const [flag, into] of [
    ['true', staleIds],
    ['false', freshIds],
  ] as const) {
    cursor = null;
    do {
      const res = await get(`?stale=${flag}&limit=9${cursor ? `&cursor=${cursor}` : ''}`);
      t.ok(res.json().questions.length <= 9);
      t.ok(res.json().questions.every((q: { answer: { stale: boolean } | null }) => (q.answer?.stale ?? false) === (flag === 'true')));
      into.push(...res.json().questions.map((q: { id: string }) => q.id));
      cursor = res.json().nextCursor;
    } while (cursor);
  }
  t.ok(staleIds.length > 0, 'answers citing the changed control are stale');
  t.equal(staleIds.length + freshIds.length, 120, 'stale and fresh pages together hold every question once');
  t.equal(new Set([...staleIds, ...freshIds]).size, 120);

  for (const bad of ['nope', Buffer.from(JSON.stringify({ k: 'x' })).toString('base64url')]) {
    const res = await get(`?cursor=${bad}`);
    t.equal(res.statusCode, 400, 'a cursor this API did not issue');
    t.equal(res.json().code, 'validation_failed');
  }
  t.equal((await get('?limit=0')).statusCode, 400);
  t.equal((await get('?limit=201')).statusCode, 400);
  const other = await signup(app, 'other');
  t.equal(
    (await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}?limit=5`, headers: other.auth })).statusCode,
    404,
    "another tenant's questionnaire is a 404",
  );
});

t.test('on PGlite another request completes while a large fill runs, and progress moves batch by batch', async (t) => {
  // Always PGlite, whatever the suite runs on: its queries run on this event loop.
  const pglite = fs.existsSync(PGLITE_DUMP) ? new PGlite({ loadDataDir: new Blob([fs.readFileSync(PGLITE_DUMP)]) }) : new PGlite();
  const database = await openDatabase({ pglite });
  if (!fs.existsSync(PGLITE_DUMP)) {
    await database.migrate();
    await seedDatabase(database.db, { clock: systemClock });
  }
  const app = await buildApp({ config: defaultConfig({ dataDir: t.testdir({}), seedDemo: false }), database, logger: false, ...NO_WORKERS });
  t.teardown(() => app.close());
  t.equal(app.database.kind, 'pglite');
  t.equal(app.jobDeps.pool, app.parsers, 'an app ranks its fills in its worker pool');
  const tenant = await signup(app, 'pglite');
  await answerControls(app, tenant);
  const total = 2400;
  const id = await create(app, tenant, texts(total));
  await queueFill(app, tenant, id);

  let finished = false;
  const filling = runNextJob(app.jobDeps).then((ran) => {
    finished = true;
    return ran;
  });
  const during: Array<{ status: string; done: number }> = [];
  while (!finished) {
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    const detail = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}?limit=1`, headers: tenant.auth });
    if (!finished) during.push({ status: `${health.statusCode}/${detail.statusCode}`, done: detail.statusCode === 200 ? detail.json().progress.done : -1 });
    // Paced below the API rate limit (600 a minute): a fill slowed by a busy machine must not turn the polls into 429s.
    await new Promise((r) => setTimeout(r, 150));
  }
  t.equal(await filling, true);
  t.ok(during.length >= 2, `requests completed while the fill ran (${during.length})`);
  t.same(
    during.filter((d) => d.status !== '200/200').map((d) => d.status),
    [],
    'and every one succeeded',
  );
  const moving = new Set(during.map((d) => d.done).filter((d) => d > 0 && d < total));
  t.ok(moving.size >= 1, `progress seen between 0 and ${total} (${[...moving].join(', ')})`);
  const after = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}?limit=1`, headers: tenant.auth });
  t.equal(after.json().status, 'filled');
  t.same(after.json().progress, { done: total, total });
});
