import t from 'tap';
import { and, asc, eq } from 'drizzle-orm';
import type { App } from '../../../src/app.js';
import { events } from '../../../src/modules/events/tables.js';
import { mailOutbox } from '../../../src/modules/mail/tables.js';
import { scanQuestionnairesDueSoon } from '../../../src/modules/questionnaires/due-soon.js';
import { manualClock, memberWithRole, signup, testApp, type Tenant, wholeQuestionnaire } from '../../helpers/app.js';

const HOUR = 3_600_000;

async function importQuestionnaire(app: App, who: Tenant, name: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/questionnaires',
    headers: who.auth,
    payload: {
      name,
      questions: [
        { ref: 'C1', text: 'Is customer data encrypted at rest?', section: 'Crypto' },
        { ref: 'C2', text: 'Are encryption keys rotated?', section: 'Crypto' },
        { ref: 'B1', text: 'Are backups restore-tested?', section: 'Backup' },
        { ref: 'B2', text: 'Are backups kept in another region?', section: 'Backup' },
      ],
    },
  });
  if (res.statusCode !== 201) throw new Error(res.body);
  const id: string = res.json().id;
  const whole = await wholeQuestionnaire(app, who.auth, id);
  const byRef = Object.fromEntries(whole.questions.map((q: { ref: string; id: string }) => [q.ref, q.id])) as Record<string, string>;
  return { id, byRef };
}

/** The messages queued for the organization (no SMTP_URL here: they wait in the outbox). */
const mailOf = (app: App, orgId: string, kind: 'assignment' | 'due_soon') =>
  app.database.db
    .select()
    .from(mailOutbox)
    .where(and(eq(mailOutbox.orgId, orgId), eq(mailOutbox.kind, kind)))
    .orderBy(asc(mailOutbox.id));

const eventsOf = (app: App, orgId: string, type: 'question.assigned' | 'questionnaire.due_soon') =>
  app.database.db
    .select()
    .from(events)
    .where(and(eq(events.orgId, orgId), eq(events.type, type)))
    .orderBy(asc(events.id));

t.test('owners, due dates, assignments, filters and my work', async (t) => {
  const time = manualClock(new Date('2026-06-01T12:00:00Z'));
  const app = await testApp(t, { clock: time.clock, options: { jobs: { worker: false }, webhooks: { worker: false }, expiryScanIntervalMs: 0 } });
  const a = await signup(app);
  const editor = await memberWithRole(app, a, 'editor');
  const viewer = await memberWithRole(app, a, 'viewer');
  const b = await signup(app);
  const qn = await importQuestionnaire(app, a, 'Acme review');
  const theirs = await importQuestionnaire(app, b, 'Their review');
  const patch = (who: Tenant, id: string, payload: object) => app.inject({ method: 'PATCH', url: `/api/v1/questionnaires/${id}`, headers: who.auth, payload });
  const assign = (who: Tenant, id: string, payload: object) =>
    app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/assignments`, headers: who.auth, payload });

  await t.test('the questionnaire owner and due date', async (t) => {
    const due = '2026-06-05T12:00:00.000Z';
    const res = await patch(editor, qn.id, { ownerId: viewer.userId, dueAt: due, name: 'Acme review 2026' });
    t.equal(res.statusCode, 200, res.body);
    t.match(res.json(), { id: qn.id, name: 'Acme review 2026', ownerId: viewer.userId, dueAt: due });
    const listed = (await app.inject({ method: 'GET', url: '/api/v1/questionnaires', headers: viewer.auth })).json().items;
    t.match(listed, [{ id: qn.id, ownerId: viewer.userId, dueAt: due }]);
    t.match((await wholeQuestionnaire(app, viewer.auth, qn.id)).ownerId, viewer.userId);

    const stranger = await patch(a, qn.id, { ownerId: b.userId });
    t.equal(stranger.statusCode, 400, 'a member of another organization is no owner');
    t.match(stranger.json().errors, [{ field: 'body/ownerId' }]);
    t.equal((await patch(viewer, qn.id, { dueAt: null })).statusCode, 403, 'viewers do not edit');
    t.equal((await patch(a, theirs.id, { dueAt: due })).statusCode, 404, "another organization's questionnaire");
    t.equal((await patch(a, qn.id, {})).statusCode, 400, 'an empty change');

    const audit = (await app.inject({ method: 'GET', url: `/api/v1/audit-events?action=questionnaire.updated&targetId=${qn.id}`, headers: a.auth })).json();
    t.equal(audit.items.length, 1, 'the refused changes left no audit');
    t.match(audit.items[0].summary, { changed: { ownerId: { from: null, to: viewer.userId }, dueAt: { from: null, to: due } } });
  });

  await t.test('assigning questions', async (t) => {
    const due = '2026-06-03T12:00:00.000Z';
    const bySection = await assign(editor, qn.id, { section: 'Crypto', assigneeId: viewer.userId, dueAt: due });
    t.equal(bySection.statusCode, 200, bySection.body);
    t.same(bySection.json(), { assigned: 2, assigneeId: viewer.userId, dueAt: due });
    const byIds = await assign(editor, qn.id, { questionIds: [qn.byRef.B1], assigneeId: viewer.userId });
    t.same(byIds.json(), { assigned: 1, assigneeId: viewer.userId, dueAt: null });

    t.equal((await assign(editor, qn.id, { section: 'Crypto', questionIds: [qn.byRef.B2], assigneeId: null })).statusCode, 400, 'both');
    t.equal((await assign(editor, qn.id, { assigneeId: null })).statusCode, 400, 'neither');
    t.equal((await assign(editor, qn.id, { section: 'Backup', assigneeId: b.userId })).statusCode, 400, "another organization's member");
    t.equal((await assign(viewer, qn.id, { section: 'Backup', assigneeId: viewer.userId })).statusCode, 403);
    t.equal((await assign(editor, qn.id, { section: 'Nowhere', assigneeId: editor.userId })).statusCode, 404, 'unknown section');
    const unknown = await assign(editor, qn.id, { questionIds: [qn.byRef.B2, theirs.byRef.B2], assigneeId: editor.userId });
    t.equal(unknown.statusCode, 404, "another questionnaire's question");
    t.equal((await assign(a, theirs.id, { section: 'Backup', assigneeId: a.userId })).statusCode, 404, "another organization's questionnaire");

    const whole = await wholeQuestionnaire(app, a.auth, qn.id);
    const view = Object.fromEntries(whole.questions.map((q: { ref: string }) => [q.ref, q]));
    t.match(view.C1, { assigneeId: viewer.userId, dueAt: due });
    t.match(view.B1, { assigneeId: viewer.userId, dueAt: null });
    t.match(view.B2, { assigneeId: null, dueAt: null }, 'the refused assignment changed nothing');

    const refs = async (who: Tenant, query: string) => (await wholeQuestionnaire(app, who.auth, qn.id, query)).questions.map((q: { ref: string }) => q.ref);
    t.same(await refs(viewer, 'assignee=me'), ['C1', 'C2', 'B1']);
    t.same(await refs(editor, 'assignee=me'), []);
    t.same(await refs(editor, `assignee=${viewer.userId}`), ['C1', 'C2', 'B1']);
    t.same(await refs(editor, 'assignee=none'), ['B2']);
    t.same(await refs(editor, 'section=Backup'), ['B1', 'B2']);
    t.same(await refs(editor, 'section=Backup&assignee=none'), ['B2']);
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${qn.id}?assignee=someone`, headers: a.auth })).statusCode, 400);

    const emitted = await eventsOf(app, a.orgId, 'question.assigned');
    t.equal(emitted.length, 2, 'one event per assignment call, none for refused ones');
    t.same(emitted[0]!.data, {
      questionnaireId: qn.id,
      questionIds: [qn.byRef.C1, qn.byRef.C2],
      assigneeId: viewer.userId,
      assignedBy: editor.userId,
      dueAt: due,
    });
    t.same(emitted[1]!.data, { questionnaireId: qn.id, questionIds: [qn.byRef.B1], assigneeId: viewer.userId, assignedBy: editor.userId, dueAt: null });
    // And an e-mail to the assignee for each, listing the questions.
    const mails = await mailOf(app, a.orgId, 'assignment');
    t.same(
      mails.map((m) => m.recipient),
      [viewer.email.toLowerCase(), viewer.email.toLowerCase()],
    );
    t.match(mails[0]!.subject, /2 questions of "Acme review 2026" assigned to you/);
    t.match(mails[0]!.textBody, /due 2026-06-03/);
    t.match(mails[0]!.textBody, /- C1 /);
    const self = await assign(editor, qn.id, { questionIds: [qn.byRef.B2], assigneeId: editor.userId });
    t.equal(self.statusCode, 200);
    t.equal((await mailOf(app, a.orgId, 'assignment')).length, 2, 'nobody is mailed about their own assignment');

    // Unassigning is audited but sends no event.
    const un = await assign(editor, qn.id, { questionIds: [qn.byRef.B2], assigneeId: null, dueAt: null });
    t.same(un.json(), { assigned: 1, assigneeId: null, dueAt: null });
    t.equal((await eventsOf(app, a.orgId, 'question.assigned')).length, 3, 'none for the unassignment');
    const audit = (await app.inject({ method: 'GET', url: `/api/v1/audit-events?action=question.assigned&targetId=${qn.id}`, headers: a.auth })).json();
    t.equal(audit.items.length, 4);
  });

  await t.test('my work: open items, soonest due first, paged', async (t) => {
    // Another questionnaire owned by the viewer, due later, and one with every answer approved (done).
    const later = await importQuestionnaire(app, a, 'Later review');
    t.equal((await patch(a, later.id, { ownerId: viewer.userId, dueAt: '2026-06-10T12:00:00.000Z' })).statusCode, 200);
    const done = await importQuestionnaire(app, a, 'Done review');
    t.equal((await patch(a, done.id, { ownerId: viewer.userId, dueAt: '2026-06-02T12:00:00.000Z' })).statusCode, 200);
    t.equal((await assign(a, done.id, { section: 'Backup', assigneeId: viewer.userId })).statusCode, 200);
    for (const qid of Object.values(done.byRef)) {
      const r = await app.inject({
        method: 'PATCH',
        url: `/api/v1/questionnaires/${done.id}/questions/${qid}`,
        headers: a.auth,
        payload: { choice: 'yes', text: 'Yes, as our policy says.', status: 'approved' },
      });
      t.equal(r.statusCode, 200, r.body);
    }

    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await app.inject({ method: 'GET', url: `/api/v1/my-work?limit=2${cursor ? `&cursor=${cursor}` : ''}`, headers: viewer.auth });
      t.equal(res.statusCode, 200, res.body);
      seen.push(...res.json().items);
      cursor = res.json().nextCursor;
      pages++;
    } while (cursor && pages < 10);
    t.equal(pages, 3);
    t.same(
      seen.map((i) => [i.kind, i.questionId ?? i.questionnaireId]),
      [...[qn.byRef.C1!, qn.byRef.C2!].sort().map((id) => ['question', id]), ['questionnaire', qn.id], ['questionnaire', later.id], ['question', qn.byRef.B1]],
      'due questions, then the questionnaires by due date, then what has no due date; approved work is left out',
    );
    t.match(seen[0], {
      kind: 'question',
      questionnaireId: qn.id,
      questionnaireName: 'Acme review 2026',
      section: 'Crypto',
      status: 'unanswered',
      dueAt: '2026-06-03T12:00:00.000Z',
    });
    t.match(seen[2], { kind: 'questionnaire', questionnaireName: 'Acme review 2026', status: 'imported', dueAt: '2026-06-05T12:00:00.000Z' });

    const editorsWork = (await app.inject({ method: 'GET', url: '/api/v1/my-work', headers: editor.auth })).json();
    t.same(editorsWork, { items: [], nextCursor: null });
    const bogus = await app.inject({ method: 'GET', url: '/api/v1/my-work?cursor=nope', headers: viewer.auth });
    t.equal(bogus.statusCode, 400);
  });

  await t.test('questionnaire.due_soon: once per due date, again when moved later', async (t) => {
    const scan = () => scanQuestionnairesDueSoon(app.database.db, time.clock);
    // Now 2026-06-01T12:00; qn is due 06-05 (96 h), later 06-10, done 06-02 (within 48 h, but done).
    t.equal(await scan(), 0, 'nothing due within 48 hours is open');
    time.advance(50 * HOUR); // 06-03T14:00: qn due in 46 h
    t.equal(await scan(), 1);
    t.equal(await scan(), 0, 'sent once');
    const sent = await eventsOf(app, a.orgId, 'questionnaire.due_soon');
    t.same(
      sent.map((e) => e.data),
      [{ questionnaireId: qn.id, name: 'Acme review 2026', ownerId: viewer.userId, dueAt: '2026-06-05T12:00:00.000Z', openQuestions: 4 }],
    );
    const dueMail = await mailOf(app, a.orgId, 'due_soon');
    t.same(
      dueMail.map((m) => m.recipient),
      [viewer.email.toLowerCase()],
      'the owner is mailed',
    );
    t.match(dueMail[0]!.subject, /"Acme review 2026" is due 2026-06-05/);
    t.match(dueMail[0]!.textBody, /4 of its questions are not approved yet/);

    // The access tokens expire within the hour: due dates are moved at sign-in time, scans run at scan time.
    const moveDue = async (dueAt: string) => {
      const scanAt = time.clock();
      time.set(new Date('2026-06-01T12:05:00Z'));
      const res = await patch(a, qn.id, { dueAt });
      time.set(scanAt);
      t.equal(res.statusCode, 200, res.body);
    };
    await moveDue('2026-06-05T06:00:00.000Z');
    t.equal(await scan(), 0, 'moved earlier: no second notice');
    await moveDue('2026-06-08T12:00:00.000Z');
    t.equal(await scan(), 0, 'moved later: not close yet');
    time.advance(60 * HOUR); // 06-06T02:00: due in 58 h
    t.equal(await scan(), 0);
    time.advance(12 * HOUR); // 06-06T14:00: due in 46 h
    t.equal(await scan(), 1, 'close again: sent again');
    t.equal(await scan(), 0);
    const again = await eventsOf(app, a.orgId, 'questionnaire.due_soon');
    t.equal(again.length, 2);
    t.match(again[1]!.data, { questionnaireId: qn.id, dueAt: '2026-06-08T12:00:00.000Z' });
    t.equal((await eventsOf(app, b.orgId, 'questionnaire.due_soon')).length, 0);
  });
});

t.test("the app's periodic scan sends questionnaire.due_soon", async (t) => {
  const time = manualClock(new Date('2026-06-01T12:00:00Z'));
  const app = await testApp(t, { clock: time.clock, options: { jobs: { worker: false }, webhooks: { worker: false }, expiryScanIntervalMs: 20 } });
  const a = await signup(app);
  const qn = await importQuestionnaire(app, a, 'Soon review');
  const res = await app.inject({ method: 'PATCH', url: `/api/v1/questionnaires/${qn.id}`, headers: a.auth, payload: { dueAt: '2026-06-02T12:00:00.000Z' } });
  t.equal(res.statusCode, 200, res.body);
  t.match(res.json(), { ownerId: null, dueAt: '2026-06-02T12:00:00.000Z' });
  let sent: Awaited<ReturnType<typeof eventsOf>> = [];
  for (let i = 0; i < 200 && sent.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
    sent = await eventsOf(app, a.orgId, 'questionnaire.due_soon');
  }
  t.equal(sent.length, 1);
  t.match(sent[0]!.data, { questionnaireId: qn.id, ownerId: null, openQuestions: 4 });
});
