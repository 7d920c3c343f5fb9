import t from 'tap';
import { memberWithRole, signup, testApp } from '../../helpers/app.js';
import { prospectGrant } from '../../helpers/trust.js';

t.test('an account gathers its domain: questionnaires, NDA grant, shared documents and visits', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app);
  const b = await signup(app);
  const post = (tenant: typeof a, url: string, payload: object) => app.inject({ method: 'POST', url, headers: tenant.auth, payload });

  // A prospect of buyer.example.com gets a grant (accepting the NDA), visits, downloads and uploads a questionnaire.
  const { grant, base } = await prospectGrant(app, a);
  const page = await app.inject({ method: 'GET', url: base });
  t.equal(page.statusCode, 200, 'the grantee opens the grant page (a visit)');
  const docId = (await app.inject({ method: 'GET', url: '/api/v1/documents', headers: a.auth })).json().items[0].id as string;
  t.equal((await app.inject({ method: 'GET', url: `${base}/documents/${docId}` })).statusCode, 200, 'and downloads the NDA document');
  const upload = await app.inject({
    method: 'POST',
    url: `${base}/questionnaires`,
    payload: { name: 'Buyer review', questions: [{ ref: 'P1', text: 'Do you enforce multi-factor authentication?' }] },
  });
  t.equal(upload.statusCode, 201, upload.body);
  const prospectQ = upload.json().id as string;

  // Another company's activity on the same trust page.
  const other = await prospectGrant(app, a, { name: 'Sam Other', email: 'sam@other.example.org', company: 'Other Ltd' });
  t.equal((await app.inject({ method: 'GET', url: other.base })).statusCode, 200);
  const otherUpload = await app.inject({ method: 'POST', url: `${other.base}/questionnaires`, payload: { name: 'Other review', questions: [{ text: 'Q?' }] } });
  t.equal(otherUpload.statusCode, 201);

  // The vendor imports one by hand and attaches it by id.
  const vendorQ = await post(a, '/api/v1/questionnaires', {
    name: 'Buyer annual review',
    questions: [{ text: 'Do you encrypt data at rest?' }, { text: 'Do you run penetration tests?' }],
  });
  t.equal(vendorQ.statusCode, 201, vendorQ.body);
  const vendorId = vendorQ.json().id as string;

  const created = await post(a, '/api/v1/accounts', { name: 'Buyer Inc', domains: ['@Buyer.Example.com'], crmRef: '0015g00000XyZ12AAB' });
  t.equal(created.statusCode, 201, created.body);
  const acct = created.json();
  t.match(acct, { name: 'Buyer Inc', domains: ['buyer.example.com'], crmRef: '0015g00000XyZ12AAB' }, 'domains are stored lower-cased, without the @');

  const attach = await app.inject({ method: 'PUT', url: `/api/v1/accounts/${acct.id}/questionnaires/${vendorId}`, headers: a.auth });
  t.equal(attach.statusCode, 204, attach.body);

  const view = await app.inject({ method: 'GET', url: `/api/v1/accounts/${acct.id}`, headers: a.auth });
  t.equal(view.statusCode, 200, view.body);
  const v = view.json();
  t.same(
    v.questionnaires.map((q: { id: string; via: string }) => [q.id, q.via]).sort(),
    [
      [prospectQ, 'domain'],
      [vendorId, 'attached'],
    ].sort(),
    "the prospect's questionnaire by domain and the vendor's by id; not the other domain's",
  );
  const byId = new Map(v.questionnaires.map((q: { id: string }) => [q.id, q]));
  t.match(byId.get(vendorId), { origin: 'vendor', status: 'imported', counts: { total: 2, answered: 0 }, open: true, dueAt: null });
  t.match(byId.get(prospectQ), { origin: 'prospect', prospect: { email: 'pat@buyer.example.com' }, counts: { total: 1 }, open: true });
  t.equal(v.accessRequests.length, 1);
  t.match(v.accessRequests[0], { email: 'pat@buyer.example.com', status: 'approved', ndaAccepted: true, grantId: grant.grantId });
  t.equal(v.grants.length, 1);
  t.match(v.grants[0], { id: grant.grantId, status: 'active', ndaAccepted: true, documentIds: [docId] });
  t.ok(v.grants[0].ndaAcceptedAt, 'the grant carries the NDA acceptance of its request');
  t.same(v.documentsShared, [{ documentId: docId, title: 'SOC 2 report', grantIds: [grant.grantId], downloads: 1 }]);
  t.equal(v.trustActivity.visits, 1, 'one visit (a session of page, download and upload)');
  t.equal(v.trustActivity.downloads, 1);
  t.same(v.trustActivity.events.map((e: { kind: string }) => e.kind).sort(), ['download', 'visit']);
  t.notOk(JSON.stringify(v).includes('other.example.org'), "another domain's activity is not included");
  t.match(v.summary, { questionnairesOpen: 2, questionnairesDue: 0, documentsShared: 1, ndaAccepted: true, lastVisitAt: String });
  t.equal(v.summary.lastVisitAt, v.trustActivity.events.find((e: { kind: string }) => e.kind === 'visit').at);

  // A due date on the vendor's questionnaire (within 7 days) makes it due in the summary.
  const due = new Date(Date.now() + 3 * 86_400_000).toISOString();
  const patched = await app.inject({ method: 'PATCH', url: `/api/v1/questionnaires/${vendorId}`, headers: a.auth, payload: { dueAt: due } });
  t.equal(patched.statusCode, 200, patched.body);
  const dueView = (await app.inject({ method: 'GET', url: `/api/v1/accounts/${acct.id}`, headers: a.auth })).json();
  t.equal(dueView.summary.questionnairesDue, 1);
  t.equal(dueView.questionnaires.find((q: { id: string }) => q.id === vendorId).dueAt, due);

  t.test('another tenant sees none of it', async (t) => {
    t.equal((await app.inject({ method: 'GET', url: `/api/v1/accounts/${acct.id}`, headers: b.auth })).statusCode, 404);
    t.equal((await app.inject({ method: 'PATCH', url: `/api/v1/accounts/${acct.id}`, headers: b.auth, payload: { name: 'x' } })).statusCode, 404);
    t.same((await app.inject({ method: 'GET', url: '/api/v1/accounts', headers: b.auth })).json().items, []);
    const mine = (await post(b, '/api/v1/accounts', { name: 'Buyer Inc', domains: ['buyer.example.com'] })).json();
    t.ok(mine.id, 'the same name and domain are free in another organization');
    const foreign = await app.inject({ method: 'PUT', url: `/api/v1/accounts/${mine.id}/questionnaires/${vendorId}`, headers: b.auth });
    t.equal(foreign.statusCode, 404, "another organization's questionnaire is not found");
    const theirs = (await app.inject({ method: 'GET', url: `/api/v1/accounts/${mine.id}`, headers: b.auth })).json();
    t.same([theirs.questionnaires, theirs.grants, theirs.accessRequests, theirs.trustActivity.events], [[], [], [], []], "nothing of a's crosses over");
  });

  t.test('a domain belongs to one account; names are unique', async (t) => {
    const clash = await post(a, '/api/v1/accounts', { name: 'Buyer Subsidiary', domains: ['sub.buyer.example.com', 'BUYER.example.com'] });
    t.equal(clash.statusCode, 409);
    t.match(clash.json(), { code: 'conflict', detail: /buyer\.example\.com already belongs to the account "Buyer Inc"/ });
    t.equal((await post(a, '/api/v1/accounts', { name: 'buyer inc' })).statusCode, 409, 'a name taken, case aside');
    t.equal((await post(a, '/api/v1/accounts', { name: 'Bad', domains: ['not a domain'] })).statusCode, 400);
    const second = await post(a, '/api/v1/accounts', { name: 'Other Ltd', domains: ['other.example.org'] });
    t.equal(second.statusCode, 201);
    const patchClash = await app.inject({
      method: 'PATCH',
      url: `/api/v1/accounts/${second.json().id}`,
      headers: a.auth,
      payload: { domains: ['buyer.example.com'] },
    });
    t.equal(patchClash.statusCode, 409);
    const keep = await app.inject({
      method: 'PATCH',
      url: `/api/v1/accounts/${acct.id}`,
      headers: a.auth,
      payload: { domains: ['buyer.example.com'], crmRef: null },
    });
    t.equal(keep.statusCode, 200, 'an account keeping its own domain is no clash');
    t.equal(keep.json().crmRef, null);
    const listed = await app.inject({ method: 'GET', url: '/api/v1/accounts?domain=Other.Example.org', headers: a.auth });
    t.same(
      listed.json().items.map((x: { name: string }) => x.name),
      ['Other Ltd'],
    );
    const page1 = (await app.inject({ method: 'GET', url: '/api/v1/accounts?limit=1', headers: a.auth })).json();
    t.equal(page1.items[0].name, 'Other Ltd', 'newest first');
    const page2 = (await app.inject({ method: 'GET', url: `/api/v1/accounts?limit=1&cursor=${page1.nextCursor}`, headers: a.auth })).json();
    t.same([page2.items[0].name, page2.nextCursor], ['Buyer Inc', null]);
  });

  t.test('attaching elsewhere moves a questionnaire; detaching removes it; everything is audited', async (t) => {
    const other2 = (await app.inject({ method: 'GET', url: '/api/v1/accounts?domain=other.example.org', headers: a.auth })).json().items[0];
    t.equal((await app.inject({ method: 'PUT', url: `/api/v1/accounts/${other2.id}/questionnaires/${vendorId}`, headers: a.auth })).statusCode, 204);
    // Attached by id wins over the domain: the prospect's questionnaire moves too.
    t.equal((await app.inject({ method: 'PUT', url: `/api/v1/accounts/${other2.id}/questionnaires/${prospectQ}`, headers: a.auth })).statusCode, 204);
    const buyer = (await app.inject({ method: 'GET', url: `/api/v1/accounts/${acct.id}`, headers: a.auth })).json();
    t.same(buyer.questionnaires, [], 'both left the first account');
    t.equal(buyer.summary.questionnairesOpen, 0);
    const moved = (await app.inject({ method: 'GET', url: `/api/v1/accounts/${other2.id}`, headers: a.auth })).json();
    t.ok(
      [vendorId, prospectQ].every((id) => moved.questionnaires.some((q: { id: string; via: string }) => q.id === id && q.via === 'attached')),
      'both are on the second account',
    );
    const editor = await memberWithRole(app, a, 'editor');
    const viewer = await memberWithRole(app, a, 'viewer');
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/accounts/${other2.id}/questionnaires/${prospectQ}`, headers: viewer.auth })).statusCode, 403);
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/accounts/${other2.id}/questionnaires/${prospectQ}`, headers: editor.auth })).statusCode, 204);
    t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/accounts/${other2.id}/questionnaires/${prospectQ}`, headers: editor.auth })).statusCode, 404);
    const back = (await app.inject({ method: 'GET', url: `/api/v1/accounts/${acct.id}`, headers: a.auth })).json();
    t.same(
      back.questionnaires.map((q: { id: string; via: string }) => [q.id, q.via]),
      [[prospectQ, 'domain']],
      "detached, the prospect's questionnaire shows through its domain again",
    );
    const audit = await app.inject({ method: 'GET', url: '/api/v1/audit-events?targetType=account&limit=50', headers: a.auth });
    const actions = audit.json().items.map((e: { action: string }) => e.action);
    for (const action of ['account.created', 'account.updated', 'account.questionnaire_attached', 'account.questionnaire_detached']) {
      t.ok(actions.includes(action), action);
    }
    const moveEntry = audit
      .json()
      .items.find(
        (e: { action: string; summary: { questionnaireId?: string; movedFrom?: string | null } }) =>
          e.summary.questionnaireId === vendorId && e.summary.movedFrom,
      );
    t.equal(moveEntry?.summary.movedFrom, acct.id, 'the move names the account it left');
  });
});
