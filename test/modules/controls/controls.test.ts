import t from 'tap';
import { memberWithRole, signup, testApp } from '../../helpers/app.js';

const answer = {
  applicable: true,
  status: 'implemented',
  implementation: 'Okta with WebAuthn for all staff; SSO everywhere.',
  responsibility: 'shared',
  providerStatement: 'We enforce phishing-resistant MFA for staff.',
  customerStatement: 'Customers enable SSO and MFA for their own users.',
  owner: 'Head of IT',
  visibility: 'public',
  publicSummary: 'Phishing-resistant MFA for every employee.',
};

t.test('the control record', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const b = await signup(app);
  const put = (ref: string, payload: object, headers: Record<string, string> = {}, who = a) =>
    app.inject({ method: 'PUT', url: `/api/v1/controls/${ref}`, headers: { ...who.auth, ...headers }, payload });

  const first = await put('A.8.5', answer);
  t.equal(first.statusCode, 200);
  t.match(first.json(), {
    framework: 'iso27001-2022',
    ref: 'A.8.5',
    title: 'Secure authentication',
    version: 1,
    status: 'implemented',
    responsibility: 'shared',
    updatedBy: a.userId,
  });
  t.equal(first.headers.etag, '"1"');

  t.test('changing needs the version read; a stale one is 409, never a silent overwrite', async (t) => {
    const blind = await put('A.8.5', { ...answer, status: 'planned' });
    t.equal(blind.statusCode, 428);
    t.equal(blind.json().code, 'precondition_required');
    const ok = await put('A.8.5', { ...answer, status: 'partially_implemented' }, { 'if-match': '"1"' });
    t.equal(ok.statusCode, 200);
    t.equal(ok.json().version, 2);
    const stale = await put('A.8.5', { ...answer, status: 'planned' }, { 'if-match': '"1"' });
    t.equal(stale.statusCode, 409);
    t.equal(stale.json().code, 'version_conflict');
    const viaBody = await put('A.8.5', { ...answer, status: 'implemented', version: 2 });
    t.equal(viaBody.json().version, 3);
    const same = await put('A.8.5', { ...answer, status: 'implemented' }, { 'if-match': 'W/"3"' });
    t.equal(same.json().version, 3, 'an identical write makes no new version');
    t.equal((await put('A.8.5', answer, { 'if-match': 'banana' })).statusCode, 400);
    t.equal((await get('A.8.5')).json().version, 3);
  });

  const get = (ref: string, who = a) => app.inject({ method: 'GET', url: `/api/v1/controls/${ref}`, headers: who.auth });

  t.test('history: every version with author, time and the fields it changed', async (t) => {
    const h = await app.inject({ method: 'GET', url: '/api/v1/controls/A.8.5/history', headers: a.auth });
    t.equal(h.statusCode, 200);
    t.same(
      h.json().items.map((v: { version: number }) => v.version),
      [3, 2, 1],
    );
    t.same(h.json().items[1].changedFields, ['status']);
    t.equal(h.json().items[1].answer.status, 'partially_implemented');
    t.equal(h.json().items[2].changedBy, a.userId);
    const page = await app.inject({ method: 'GET', url: '/api/v1/controls/A.8.5/history?limit=1', headers: a.auth });
    const next = await app.inject({ method: 'GET', url: `/api/v1/controls/A.8.5/history?limit=1&cursor=${page.json().nextCursor}`, headers: a.auth });
    t.equal(next.json().items[0].version, 2);
  });

  t.test('CLD controls and the alias', async (t) => {
    const r = await put('CLD.15.1.3', { ...answer, visibility: 'internal', publicSummary: null });
    t.equal(r.statusCode, 200);
    t.equal(r.json().ref, 'CLD.13.1.4');
    t.equal(r.json().framework, 'iso27017-2015');
    t.equal((await get('CLD.13.1.4')).json().version, 1);
    t.equal((await put('cld.9.5.1', { ...answer, visibility: 'internal', publicSummary: null })).json().ref, 'CLD.9.5.1', 'case-insensitive');
  });

  t.test('exclusions need a justification', async (t) => {
    const r = await put('A.7.11', { ...answer, applicable: false, visibility: 'internal', publicSummary: null });
    t.equal(r.statusCode, 400);
    t.equal(r.json().errors[0].field, 'body/justification');
    const ok = await put('A.7.11', {
      ...answer,
      applicable: false,
      justification: 'No premises with processing equipment.',
      visibility: 'internal',
      publicSummary: null,
    });
    t.equal(ok.statusCode, 200);
  });

  t.test('bad input', async (t) => {
    t.equal((await put('A.9.99', answer)).statusCode, 404, 'unknown control');
    t.equal((await put('CC6.1', answer)).statusCode, 404, 'SOC 2 criteria are not answered directly');
    t.equal((await put('4.1', answer)).statusCode, 404, 'management clauses are not SoA rows');
    t.equal((await put('A.5.2', { ...answer, status: 'done' })).statusCode, 400);
    t.equal((await put('A.5.2', { ...answer, responsibility: 'vendor' })).statusCode, 400);
    t.equal((await put('A.5.2', { applicable: true })).statusCode, 400);
    t.equal((await put('A.5.2', { ...answer, visibility: 'internal' })).statusCode, 400, 'a public summary on an internal answer');
    t.equal((await app.inject({ method: 'PUT', url: '/api/v1/controls/A.5.2', payload: answer })).statusCode, 401);
    t.equal((await get('A.5.2')).statusCode, 404, 'unanswered');
  });

  t.test('list in catalog order, filters and pages', async (t) => {
    await put('A.5.1', { ...answer, status: 'planned' });
    const all = await app.inject({ method: 'GET', url: '/api/v1/controls', headers: a.auth });
    t.same(
      all.json().items.map((x: { ref: string }) => x.ref),
      ['A.5.1', 'A.7.11', 'A.8.5', 'CLD.9.5.1', 'CLD.13.1.4'],
    );
    const planned = await app.inject({ method: 'GET', url: '/api/v1/controls?status=planned', headers: a.auth });
    t.same(
      planned.json().items.map((x: { ref: string }) => x.ref),
      ['A.5.1'],
    );
    const cld = await app.inject({ method: 'GET', url: '/api/v1/controls?framework=iso27017-2015', headers: a.auth });
    t.equal(cld.json().items.length, 2);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { json: () => { items: { ref: string }[]; nextCursor: string | null } } = await app.inject({
        method: 'GET',
        url: `/api/v1/controls?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        headers: a.auth,
      });
      seen.push(...r.json().items.map((x) => x.ref));
      cursor = r.json().nextCursor;
    } while (cursor);
    t.same(seen, ['A.5.1', 'A.7.11', 'A.8.5', 'CLD.9.5.1', 'CLD.13.1.4']);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/controls?cursor=zzz', headers: a.auth })).statusCode, 400);
  });

  t.test('tenancy and roles', async (t) => {
    t.equal((await get('A.8.5', b)).statusCode, 404, "B does not see A's answer");
    const listB = await app.inject({ method: 'GET', url: '/api/v1/controls', headers: b.auth });
    t.same(listB.json().items, []);
    t.equal((await app.inject({ method: 'GET', url: '/api/v1/controls/A.8.5/history', headers: b.auth })).statusCode, 404);
    const bWrite = await put('A.8.5', answer, {}, b);
    t.equal(bWrite.json().version, 1, "B's own answer is separate");
    t.equal((await get('A.8.5')).json().version, 3, "A's is untouched");
    const viewer = await memberWithRole(app, a, 'viewer');
    t.equal((await put('A.5.3', answer, {}, viewer)).statusCode, 403);
    t.equal((await get('A.8.5', viewer)).statusCode, 200, 'viewers read');
  });

  t.test('every change is audited', async (t) => {
    const r = await app.inject({ method: 'GET', url: '/api/v1/audit-events?targetType=control&targetId=iso27001-2022:A.8.5', headers: a.auth });
    t.same(
      r.json().items.map((e: { action: string }) => e.action),
      ['control.updated', 'control.updated', 'control.answered'],
    );
  });
});

t.test('concurrent first writes: one wins, the other gets 409', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const results = await Promise.all([0, 1, 2].map(() => app.inject({ method: 'PUT', url: '/api/v1/controls/A.5.9', headers: a.auth, payload: answer })));
  const codes = results.map((r) => r.statusCode).sort();
  t.equal(codes.filter((c) => c === 200).length, 1, `exactly one write wins (${codes})`);
  t.ok(
    codes.filter((c) => c !== 200).every((c) => c === 409 || c === 428),
    'the others are told to re-read',
  );
});
