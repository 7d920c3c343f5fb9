import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import JSZip from 'jszip';
import { and, eq } from 'drizzle-orm';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { events } from '../../../src/modules/events/tables.js';
import { mailOutbox } from '../../../src/modules/mail/tables.js';
import { memberWithRole, signup, testApp, wholeQuestionnaire } from '../../helpers/app.js';
import { prospectGrant } from '../../helpers/trust.js';
import { multipart } from '../../helpers/multipart.js';

const DATA = path.resolve('..', 'shared', 'data');
const MARKER = 'MARKER-7f3a-internal';

t.test('comments per question: threads, mentions, edits, deletes, roles and tenancy', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  const b = await signup(app);
  const editor = await memberWithRole(app, a, 'editor');
  const viewer = await memberWithRole(app, a, 'viewer');
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/questionnaires',
    headers: a.auth,
    payload: {
      name: 'Review',
      questions: [
        { ref: 'Q1', text: 'Do you encrypt data at rest?' },
        { ref: 'Q2', text: 'Do you run backups?' },
      ],
    },
  });
  const id = created.json().id;
  const [q1, q2] = (await wholeQuestionnaire(app, a.auth, id)).questions;
  const url = (qid = q1.id) => `/api/v1/questionnaires/${id}/questions/${qid}/comments`;
  const post = (who: { auth: Record<string, string> }, payload: object, qid?: string) =>
    app.inject({ method: 'POST', url: url(qid), headers: who.auth, payload });

  const first = await post(viewer, { body: `Who owns KMS? ${MARKER}`, mentions: [editor.userId, editor.userId] });
  t.equal(first.statusCode, 201, first.body);
  t.match(first.json(), {
    questionId: q1.id,
    questionnaireId: id,
    parentId: null,
    authorId: viewer.userId,
    body: `Who owns KMS? ${MARKER}`,
    mentions: [editor.userId],
    editedAt: null,
    deleted: false,
  });
  const c1 = first.json().id;

  const stranger = await post(a, { body: 'hi', mentions: [editor.userId, b.userId] });
  t.equal(stranger.statusCode, 400, 'a mention of someone outside the organization');
  t.same(stranger.json().errors, [{ field: 'body/mentions/1', message: 'not a member of the organization' }]);
  t.equal((await post(a, { body: '' })).statusCode, 400, 'an empty body');
  t.equal((await post(a, { body: 'x'.repeat(10001) })).statusCode, 400, 'a body over 10,000 characters');
  t.equal((await post(a, { body: 'x', mentions: Array.from({ length: 21 }, () => editor.userId) })).statusCode, 400, 'more than 20 mentions');

  const reply = await post(editor, { body: 'Platform team does.', parentId: c1 });
  t.equal(reply.statusCode, 201);
  t.equal(reply.json().parentId, c1, 'a reply in the thread');
  const elsewhere = await post(editor, { body: 'wrong thread', parentId: c1 }, q2.id);
  t.equal(elsewhere.statusCode, 400, "a reply to another question's comment");
  t.equal(elsewhere.json().errors[0].field, 'body/parentId');

  // Oldest first, paged with a cursor.
  const page1 = await app.inject({ method: 'GET', url: `${url()}?limit=1`, headers: viewer.auth });
  t.equal(page1.statusCode, 200);
  t.same(
    page1.json().items.map((c: { id: string }) => c.id),
    [c1],
  );
  const page2 = await app.inject({ method: 'GET', url: `${url()}?limit=1&cursor=${page1.json().nextCursor}`, headers: viewer.auth });
  t.same(
    page2.json().items.map((c: { id: string }) => c.id),
    [reply.json().id],
  );
  t.equal(page2.json().nextCursor, null);
  t.same((await app.inject({ method: 'GET', url: url(q2.id), headers: a.auth })).json().items, [], "the other question's comments are its own");

  // Only the author edits.
  const patch = (who: { auth: Record<string, string> }, cid: string, body: string) =>
    app.inject({ method: 'PATCH', url: `${url()}/${cid}`, headers: who.auth, payload: { body } });
  t.equal((await patch(a, c1, 'owner rewrite')).statusCode, 403, 'not even the owner edits what another wrote');
  const edited = await patch(viewer, c1, `Who owns KMS keys? ${MARKER}`);
  t.equal(edited.statusCode, 200);
  t.match(edited.json(), { body: `Who owns KMS keys? ${MARKER}`, editedAt: String });

  // The author or an admin deletes: the comment keeps its place.
  const del = (who: { auth: Record<string, string> }, cid: string) => app.inject({ method: 'DELETE', url: `${url()}/${cid}`, headers: who.auth });
  t.equal((await del(editor, c1)).statusCode, 403, "an editor cannot delete another's comment");
  t.equal((await del(a, c1)).statusCode, 204, 'the owner (admin or above) can');
  t.equal((await del(viewer, c1)).statusCode, 204, 'deleting again changes nothing');
  t.equal((await patch(viewer, c1, 'again')).statusCode, 409, 'a deleted comment cannot be edited');
  const thread = (await app.inject({ method: 'GET', url: url(), headers: a.auth })).json().items;
  t.match(thread, [
    { id: c1, deleted: true, body: null, mentions: [] },
    { parentId: c1, deleted: false, body: 'Platform team does.' },
  ]);
  const mine = await post(editor, { body: 'mine' });
  t.equal((await del(editor, mine.json().id)).statusCode, 204, 'the author deletes their own');

  // Another organization sees none of it.
  t.equal((await app.inject({ method: 'GET', url: url(), headers: b.auth })).statusCode, 404);
  t.equal((await post(b, { body: 'hello' })).statusCode, 404);
  t.equal((await patch(b, reply.json().id, 'x')).statusCode, 404);
  t.equal((await del(b, reply.json().id)).statusCode, 404);
  const other = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: b.auth, payload: { name: 'B', questions: [{ text: 'Q?' }] } });
  const bq = (await wholeQuestionnaire(app, b.auth, other.json().id)).questions[0];
  t.equal((await post(a, { body: 'x' }, bq.id)).statusCode, 404, "another organization's question");

  // Audited with ids only; the event carries no text either.
  const audit = await app.inject({ method: 'GET', url: '/api/v1/audit-events?limit=200', headers: a.auth });
  const actions = audit.json().items.map((e: { action: string }) => e.action);
  for (const action of ['comment.created', 'comment.edited', 'comment.deleted']) t.ok(actions.includes(action), action);
  t.notMatch(audit.body, MARKER, 'no comment text in the audit log');
  const evs = await app.database.db
    .select()
    .from(events)
    .where(and(eq(events.orgId, a.orgId), eq(events.type, 'comment.created')));
  t.equal(evs.length, 3);
  t.match(evs[0]!.data, { commentId: c1, questionnaireId: id, questionId: q1.id, authorId: viewer.userId, mentions: [editor.userId], createdAt: String });
  t.notMatch(JSON.stringify(evs), MARKER, 'no comment text in the event');
  // The member mentioned is mailed (with the comment: members read it); the author never is.
  const mails = await app.database.db
    .select()
    .from(mailOutbox)
    .where(and(eq(mailOutbox.orgId, a.orgId), eq(mailOutbox.kind, 'mention')));
  t.ok(mails.length >= 1);
  t.ok(
    mails.every((m) => m.recipient === editor.email.toLowerCase()),
    'only the mentioned member',
  );
  t.match(mails[0]!.subject, /you were mentioned on a question of/);
  t.match(mails[0]!.textBody, 'Who owns KMS?');
});

/** Every part of a workbook, as text. */
async function xlsxText(bytes: Buffer): Promise<string> {
  const zip = await JSZip.loadAsync(bytes);
  const parts = await Promise.all(Object.values(zip.files).map((f) => (f.dir ? Promise.resolve('') : f.async('string'))));
  if (parts.length < 3) throw new Error('not a workbook');
  return parts.join('\n');
}

t.test('comments never leave: no export format, question view or prospect view carries them', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  await app.inject({
    method: 'PUT',
    url: '/api/v1/controls/A.8.5',
    headers: a.auth,
    payload: { applicable: true, status: 'implemented', implementation: 'Every employee uses multi-factor authentication.', responsibility: 'provider' },
  });
  // Comments on the first questions, whose answers a reviewer approves so that every export writes them.
  const commentOnAll = async (id: string) => {
    const { questions } = await wholeQuestionnaire(app, a.auth, id);
    for (const q of questions.slice(0, 5)) {
      await app.inject({
        method: 'PATCH',
        url: `/api/v1/questionnaires/${id}/questions/${q.id}`,
        headers: a.auth,
        payload: { text: 'Reviewed answer.', status: 'approved' },
      });
      const r = await app.inject({
        method: 'POST',
        url: `/api/v1/questionnaires/${id}/questions/${q.id}/comments`,
        headers: a.auth,
        payload: { body: `Check with legal. ${MARKER}` },
      });
      t.equal(r.statusCode, 201);
    }
  };
  const exportOf = (id: string, query: string) => app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/export?${query}`, headers: a.auth });

  t.test('a JSON questionnaire, filled: json, csv and xlsx exports, question views', async (t) => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/questionnaires',
      headers: a.auth,
      payload: { name: 'Review', questions: [{ ref: 'Q1', text: 'Do you enforce MFA for employees?', section: 'Access' }] },
    });
    const id = created.json().id;
    await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: a.auth });
    await runNextJob(app.jobDeps);
    await commentOnAll(id);
    const view = await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}`, headers: a.auth });
    t.equal(view.json().questions[0].answer.text, 'Reviewed answer.', 'answered');
    t.notMatch(view.body, MARKER, 'GET /questionnaires/{id}');
    for (const query of ['format=json', 'format=csv', 'format=json&only=approved', 'format=csv&only=approved']) {
      const r = await exportOf(id, query);
      t.equal(r.statusCode, 200, query);
      t.notMatch(r.body, MARKER, query);
    }
    const xlsx = await exportOf(id, 'format=xlsx');
    t.equal(xlsx.statusCode, 200);
    t.notMatch(await xlsxText(xlsx.rawPayload), MARKER, 'xlsx (a new workbook)');
    const queue = await app.inject({ method: 'GET', url: '/api/v1/review-queue', headers: a.auth });
    t.notMatch(queue.body, MARKER, 'the review queue');
  });

  t.test("the buyer's workbook written back (HECVAT)", async (t) => {
    const body = multipart({ name: 'HECVAT' }, [{ filename: 'HECVAT414.xlsx', content: fs.readFileSync(path.join(DATA, 'hecvat', 'HECVAT414.xlsx')) }]);
    const created = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: { ...a.auth, ...body.headers }, payload: body.payload });
    t.equal(created.statusCode, 201, created.body);
    await commentOnAll(created.json().id);
    const xlsx = await exportOf(created.json().id, 'format=xlsx');
    t.equal(xlsx.statusCode, 200);
    t.notMatch(await xlsxText(xlsx.rawPayload), MARKER);
  });

  t.test('a VSAQ questionnaire: the vsaq export', async (t) => {
    const body = multipart({ name: 'VSAQ' }, [{ filename: 'webapp.json', content: fs.readFileSync(path.join(DATA, 'vsaq', 'webapp.json')) }]);
    const created = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: { ...a.auth, ...body.headers }, payload: body.payload });
    t.equal(created.statusCode, 201, created.body);
    const id = created.json().id;
    await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: a.auth });
    await runNextJob(app.jobDeps);
    await commentOnAll(id);
    const r = await exportOf(id, 'format=vsaq');
    t.equal(r.statusCode, 200);
    t.ok(Object.keys(r.json()).length > 0, 'the export holds answers');
    t.notMatch(r.body, MARKER);
  });

  t.test("the prospect's path: JSON and HTML views, csv and xlsx files", async (t) => {
    const { base } = await prospectGrant(app, a);
    const upload = await app.inject({
      method: 'POST',
      url: `${base}/questionnaires`,
      payload: { name: 'Buyer review', questions: [{ ref: 'P1', text: 'Do you enforce multi-factor authentication for employees?' }] },
    });
    t.equal(upload.statusCode, 201, upload.body);
    const id = upload.json().id;
    await runNextJob(app.jobDeps);
    await commentOnAll(id);
    t.equal((await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/release`, headers: a.auth })).statusCode, 200);
    const json = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}` });
    t.equal(json.statusCode, 200);
    t.equal(json.json().questions[0].state, 'released');
    t.notMatch(json.body, MARKER, 'JSON view');
    const html = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}`, headers: { accept: 'text/html' } });
    t.match(html.headers['content-type'], /text\/html/);
    t.notMatch(html.body, MARKER, 'HTML view');
    const csv = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}/export?format=csv` });
    t.equal(csv.statusCode, 200);
    t.notMatch(csv.body, MARKER, 'csv file');
    const xlsx = await app.inject({ method: 'GET', url: `${base}/questionnaires/${id}/export?format=xlsx` });
    t.equal(xlsx.statusCode, 200);
    t.notMatch(await xlsxText(xlsx.rawPayload), MARKER, 'xlsx file');
  });
});
