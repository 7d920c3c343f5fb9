// Fenced leases for fill jobs: a worker whose lease lapsed and whose job another worker re-claimed
// writes nothing more (no answers, progress, renewal, completion or events) and says so once in
// the log; and every model failure is logged with ids and the error's class, never any text.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, asc, eq } from 'drizzle-orm';
import type { App } from '../../../src/app.js';
import { LEASE_MS, runNextJob, type FillDeps } from '../../../src/modules/questionnaires/service.js';
import { Llm } from '../../../src/modules/questionnaires/llm.js';
import { jobs, questionnaires, questions } from '../../../src/modules/questionnaires/tables.js';
import { events } from '../../../src/modules/events/tables.js';
import { manualClock, signup, testApp, type Tenant } from '../../helpers/app.js';
import { startFakeOpenAI } from '../../helpers/fake-openai.js';

const NO_WORKERS = { jobs: { worker: false }, webhooks: { worker: false } } as const;
// The fills run in this process (with PGlite): load shedding would answer the setup requests 503.
const CONFIG = { pressure: { maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0, retryAfterSeconds: 10 } };

type Line = [Record<string, unknown>, string];
function fakeLog() {
  const info: Line[] = [];
  const warn: Line[] = [];
  return {
    info,
    warn,
    log: {
      info: (o: object, m: string) => {
        info.push([o as Record<string, unknown>, m]);
      },
      warn: (o: object, m: string) => {
        warn.push([o as Record<string, unknown>, m]);
      },
    },
  };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function queued(app: App, tenant: Tenant, texts: string[]) {
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/questionnaires',
    headers: tenant.auth,
    payload: { name: 'Lease', questions: texts.map((text, i) => ({ ref: `L${i + 1}`, text })) },
  });
  if (created.statusCode !== 201) throw new Error(created.body);
  const id = created.json().id as string;
  const fill = await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: tenant.auth });
  if (fill.statusCode !== 202) throw new Error(fill.body);
  return id;
}

async function state(app: App, orgId: string, qid: string) {
  const { db } = app.database;
  const [job] = await db
    .select()
    .from(jobs)
    .where(and(eq(jobs.orgId, orgId), eq(jobs.subjectId, qid)));
  const [questionnaire] = await db
    .select()
    .from(questionnaires)
    .where(and(eq(questionnaires.orgId, orgId), eq(questionnaires.id, qid)));
  const qs = await db
    .select()
    .from(questions)
    .where(and(eq(questions.orgId, orgId), eq(questions.questionnaireId, qid)))
    .orderBy(asc(questions.position));
  const evs = await db.select().from(events).where(eq(events.orgId, orgId));
  return {
    job: job!,
    questionnaire: questionnaire!,
    qs,
    filledEvents: evs.filter((e) => e.type === 'questionnaire.filled' && e.data.id === qid),
    reviewEvents: evs.filter((e) => e.type === 'answer.needs_review' && e.data.questionnaireId === qid),
  };
}

// Questions no control answers: each is written as needs_review with one event, so a second
// write of a question would show as a second event.
const TEXTS = [1, 2, 3, 4, 5].map((i) => `Describe your process for widget teleportation number ${i}.`);

t.test('a superseded worker cannot renew, write answers or progress while the new owner runs', async (t) => {
  const clk = manualClock();
  const app = await testApp(t, { clock: clk.clock, config: CONFIG, options: NO_WORKERS });
  const a = await signup(app);
  const qid = await queued(app, a, TEXTS);
  const t0 = clk.clock().getTime();
  const t1 = t0 + LEASE_MS + 1000;
  const t2 = t1 + 60_000;
  const logs = fakeLog();
  const secondWrote = deferred();
  const firstStopped = deferred();
  let second: Promise<boolean> | undefined;
  // The second worker pauses after its first batch, so the first one meets a running job it no longer owns.
  const deps2: FillDeps = {
    ...app.jobDeps,
    log: logs.log,
    batchSize: 2,
    afterBatch: async (done) => {
      if (done === 2) {
        secondWrote.resolve();
        await firstStopped.promise;
      }
    },
  };
  const deps1: FillDeps = {
    ...app.jobDeps,
    log: logs.log,
    batchSize: 2,
    afterBatch: async (done) => {
      if (done !== 2 || second) return;
      clk.set(new Date(t1)); // the first worker stalls past its lease...
      second = runNextJob(deps2); // ...and another worker re-claims the job
      await secondWrote.promise;
      clk.set(new Date(t2));
    },
  };

  t.equal(await runNextJob(deps1), true, 'the first worker claimed the job and returned');
  t.ok(second, 'the job was re-claimed mid-fill');
  const mid = await state(app, a.orgId, qid);
  t.equal(mid.job.attempts, 2, 'two claims: the token moved on');
  t.equal(mid.job.status, 'running', 'the new owner is still running');
  t.equal(mid.job.lockedUntil?.getTime(), t1 + LEASE_MS, "the lease is the new owner's renewal, not the stale worker's");
  t.equal(mid.job.updatedAt.getTime(), t1);
  t.same(
    mid.qs.map((q) => q.answeredAt?.getTime() ?? null),
    [t0, t0, t1, t1, null],
    'the stale worker overwrote nothing and wrote nothing new',
  );
  t.equal(mid.questionnaire.progressDone, 4, "progress is the new owner's");
  t.equal(mid.questionnaire.updatedAt.getTime(), t1);
  t.equal(mid.questionnaire.status, 'filling');
  t.equal(mid.reviewEvents.length, 4, 'no events from the stale worker');
  t.equal(mid.filledEvents.length, 0);
  t.equal(logs.warn.length, 1, 'one warning line');
  t.match(logs.warn[0], [{ jobId: mid.job.id, orgId: a.orgId, questionnaireId: qid, claim: 1 }, /lease lost/]);
  t.equal(logs.info.length, 0, 'the stale worker did not report a finished fill');

  firstStopped.resolve();
  t.equal(await second, true, 'the new owner finishes');
  const end = await state(app, a.orgId, qid);
  t.match(end.job, { status: 'done', attempts: 2, lockedUntil: null });
  t.equal(end.job.finishedAt?.getTime(), t2);
  t.match(end.questionnaire, { status: 'filled', progressDone: 5 });
  t.equal(end.filledEvents.length, 1, 'completed exactly once');
  t.same(
    end.qs.map((q) => q.filledByJob),
    TEXTS.map(() => end.job.id),
    'every question answered by the job',
  );
  t.ok(
    end.qs.every((q) => q.status !== null),
    'every question has an answer',
  );
  t.same(end.reviewEvents.map((e) => e.data.questionId).sort(), end.qs.map((q) => q.id).sort(), 'each question written exactly once');
  t.equal(logs.info.filter(([, m]) => m === 'questionnaire fill finished').length, 1);
  t.equal(logs.warn.length, 1, 'still one warning');
  t.equal(await runNextJob(app.jobDeps), false, 'nothing left to run');
});

t.test('a superseded worker cannot complete the job a second time', async (t) => {
  const clk = manualClock();
  const app = await testApp(t, { clock: clk.clock, config: CONFIG, options: NO_WORKERS });
  const a = await signup(app);
  const qid = await queued(app, a, TEXTS.slice(0, 4));
  const t1 = clk.clock().getTime() + LEASE_MS + 1000;
  const logs = fakeLog();
  let reclaimed = false;
  const deps1: FillDeps = {
    ...app.jobDeps,
    log: logs.log,
    batchSize: 2,
    afterBatch: async (done) => {
      if (done !== 4 || reclaimed) return;
      // The stale worker has written everything and stalls just before completing.
      clk.set(new Date(t1));
      reclaimed = await runNextJob({ ...app.jobDeps, log: logs.log });
      clk.advance(60_000);
    },
  };
  t.equal(await runNextJob(deps1), true);
  t.ok(reclaimed, 'another worker re-claimed and completed the job');
  const end = await state(app, a.orgId, qid);
  t.match(end.job, { status: 'done', attempts: 2, lockedUntil: null });
  t.equal(end.job.finishedAt?.getTime(), t1, 'finished by the new owner only');
  t.equal(end.questionnaire.filledAt?.getTime(), t1);
  t.equal(end.questionnaire.updatedAt.getTime(), t1, 'the stale worker left the questionnaire alone');
  t.match(end.questionnaire, { status: 'filled', progressDone: 4 });
  t.equal(end.filledEvents.length, 1, 'one completion, one event');
  t.equal(end.reviewEvents.length, 4, 'each question answered once: the new owner had nothing left to answer');
  t.equal(logs.info.filter(([, m]) => m === 'questionnaire fill finished').length, 1);
  t.equal(logs.warn.length, 1);
  t.match(logs.warn[0], [{ jobId: end.job.id, orgId: a.orgId, claim: 1 }, /lease lost/]);
  t.equal(await runNextJob(app.jobDeps), false);
});

t.test('a model failure is logged with ids and the error class, never text or the key', async (t) => {
  const KEY = 'sk-test-LEASE-SECRET-9d1e';
  const QUESTION = 'Do you enforce multi-factor authentication for all employees?';
  const QUESTION2 = 'Is multi-factor authentication required for every employee account?';
  const IMPLEMENTATION = 'Every employee signs in through Okta with WebAuthn security keys.';
  const fake = await startFakeOpenAI();
  t.teardown(() => fake.close());
  fake.behaviour.chatStatus = 500;
  const app = await testApp(t, { config: CONFIG, options: NO_WORKERS });
  const a = await signup(app);
  const put = await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/A.8.5',
    headers: a.auth,
    payload: { applicable: true, status: 'implemented', implementation: IMPLEMENTATION, responsibility: 'provider' },
  });
  t.equal(put.statusCode, 200, put.body);
  const settings = { apiKey: KEY, model: 'fake-chat', embeddingModel: 'fake-embed', maxRetries: 0 };

  t.test('a failing draft (swallowed by the client)', async (t) => {
    const qid = await queued(app, a, [QUESTION]);
    const logs = fakeLog();
    t.equal(await runNextJob({ ...app.jobDeps, llm: new Llm({ ...settings, baseUrl: fake.url }), log: logs.log }), true);
    const { job, questionnaire } = await state(app, a.orgId, qid);
    t.equal(questionnaire.status, 'filled', 'the fill degraded rather than failed');
    t.equal(logs.warn.length, 1, 'one line for the one failure');
    t.same(logs.warn[0]![0], { jobId: job.id, orgId: a.orgId, operation: 'draft', error: 'InternalServerError', status: 500 });
    const wire = JSON.stringify(logs.warn);
    for (const secret of [QUESTION, IMPLEMENTATION, KEY, 'fake failure']) t.notMatch(wire, secret, `no ${secret} in the log`);
  });

  t.test('a failing embedding (thrown to the fill)', async (t) => {
    // A port nobody listens on: the connection is refused.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    // A question never embedded before (the first fill cached its vectors): the embedding call is made, and fails.
    const qid = await queued(app, a, [QUESTION2]);
    const logs = fakeLog();
    t.equal(await runNextJob({ ...app.jobDeps, llm: new Llm({ ...settings, baseUrl: `http://127.0.0.1:${port}/v1` }), log: logs.log }), true);
    const { job, questionnaire } = await state(app, a.orgId, qid);
    t.equal(questionnaire.status, 'filled');
    t.equal(logs.warn.length, 1, 'the job stops asking after the first failure: one line');
    t.same(logs.warn[0]![0], { jobId: job.id, orgId: a.orgId, operation: 'embed', error: 'APIConnectionError' });
    const wire = JSON.stringify(logs.warn);
    for (const secret of [QUESTION2, IMPLEMENTATION, KEY]) t.notMatch(wire, secret, `no ${secret} in the log`);
  });
});
