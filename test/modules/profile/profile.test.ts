import t from 'tap';
import { profileCatalog } from '../../../src/modules/profile/index.js';
import { memberWithRole, signup, testApp, type Tenant } from '../../helpers/app.js';
import { profileClient } from '../../helpers/profile.js';

const NO_WORKERS = { jobs: { worker: false }, webhooks: { worker: false }, expiryScanIntervalMs: 0 };

const client = profileClient;

t.test('catalog', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const a = await signup(app);
  const res = await client(app).get(a, '/profile/catalog');
  t.equal(res.statusCode, 200);
  const items = res.json().items as Array<{ key: string; type: string; label: string; description: string; unit?: string; phrase: string }>;
  t.equal(items.length, profileCatalog().items.length);
  t.match(
    items.find((i) => i.key === 'bcdr.rto_hours'),
    { type: 'number', unit: 'hours', label: String, description: String, phrase: /\{value\} hours/ },
  );
  t.match(
    items.find((i) => i.key === 'hosting.regions'),
    { type: 'string_list' },
  );
  t.match(
    items.find((i) => i.key === 'data.processes_phi'),
    { type: 'boolean', phraseFalse: /do not/ },
  );
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/profile/catalog' })).statusCode, 401, 'needs a credential');
});

t.test('put, get, versions, concurrency, delete and history', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { put, get, del } = client(app);
  const a = await signup(app);

  const created = await put(a, 'bcdr.rto_hours', { value: 4 });
  t.equal(created.statusCode, 200, created.body);
  t.match(created.json(), {
    key: 'bcdr.rto_hours',
    type: 'number',
    value: 4,
    visibility: 'private',
    version: 1,
    question: null,
    label: 'Recovery time objective',
    custom: false,
  });
  t.equal(created.headers.etag, '"1"');

  const list = await get(a, '/profile');
  t.equal(list.statusCode, 200);
  t.match(list.json().facts, [{ key: 'bcdr.rto_hours', value: 4, type: 'number', visibility: 'private', version: 1, updatedAt: String }]);
  t.ok(list.json().missing.includes('bcdr.rpo_minutes'), 'unset catalog keys are listed as missing');
  t.notOk(list.json().missing.includes('bcdr.rto_hours'));

  const blind = await put(a, 'bcdr.rto_hours', { value: 8 });
  t.equal(blind.statusCode, 428, 'a blind overwrite of an existing fact is refused');
  t.equal(blind.json().code, 'precondition_required');
  const updated = await put(a, 'bcdr.rto_hours', { value: 8, visibility: 'public' }, '"1"');
  t.equal(updated.statusCode, 200, updated.body);
  t.match(updated.json(), { value: 8, visibility: 'public', version: 2 });
  const stale = await put(a, 'bcdr.rto_hours', { value: 12 }, '"1"');
  t.equal(stale.statusCode, 409, 'a stale If-Match is a conflict');
  t.equal(stale.json().code, 'version_conflict');
  const viaBody = await put(a, 'bcdr.rto_hours', { value: 6, version: 2 });
  t.equal(viaBody.statusCode, 200, 'the body version works like If-Match');
  t.match(viaBody.json(), { value: 6, version: 3, visibility: 'public' }, 'visibility left out keeps its value');
  const same = await put(a, 'bcdr.rto_hours', { value: 6 }, '"3"');
  t.equal(same.json().version, 3, 'an identical write makes no new version');
  t.equal((await put(a, 'bcdr.rpo_minutes', { value: 60 }, '"2"')).statusCode, 409, 'If-Match on an absent fact is a conflict');
  t.equal((await put(a, 'bcdr.rpo_minutes', { value: 60, version: 0 })).statusCode, 200, 'version 0: create only if absent');

  const one = await get(a, '/profile/facts/bcdr.rto_hours');
  t.equal(one.statusCode, 200);
  t.equal(one.headers.etag, '"3"');

  t.equal((await del(a, 'bcdr.rto_hours', '"2"')).statusCode, 409, 'delete with a stale If-Match');
  t.equal((await del(a, 'bcdr.rto_hours')).statusCode, 204);
  t.equal((await get(a, '/profile/facts/bcdr.rto_hours')).statusCode, 404);
  t.equal((await del(a, 'bcdr.rto_hours')).statusCode, 404, 'deleting an absent fact');
  const again = await put(a, 'bcdr.rto_hours', { value: 2 });
  t.equal(again.statusCode, 200, 'a deleted fact is created again without If-Match');
  t.equal(again.json().version, 5, 'versions keep counting across the deletion (4 was the delete)');

  const history = await get(a, '/profile/facts/bcdr.rto_hours/history');
  t.equal(history.statusCode, 200);
  t.same(
    history.json().items.map((i: { version: number; deleted: boolean; value: unknown }) => [i.version, i.deleted, i.value]),
    [
      [5, false, 2],
      [4, true, null],
      [3, false, 6],
      [2, false, 8],
      [1, false, 4],
    ],
  );
  const page = await get(a, '/profile/facts/bcdr.rto_hours/history?limit=2');
  t.ok(page.json().nextCursor, 'a cursor after version 4');
  t.same(
    (await get(a, `/profile/facts/bcdr.rto_hours/history?limit=2&cursor=${page.json().nextCursor}`)).json().items.map((i: { version: number }) => i.version),
    [3, 2],
  );
  t.equal((await get(a, '/profile/facts/bcdr.rto_hours/history?limit=2&cursor=4')).statusCode, 400, 'a bare version is not a cursor the API issued');
  t.equal((await get(a, '/profile/facts/bcdr.rto_hours/history?cursor=x')).statusCode, 400);
  t.equal((await get(a, '/profile/facts/pentest.frequency/history')).statusCode, 404);

  // Audit: every change with the old and the new value.
  const audit = await get(a, '/audit-events?targetType=profile_fact&targetId=bcdr.rto_hours');
  t.equal(audit.statusCode, 200);
  const actions = audit.json().items.map((e: { action: string }) => e.action);
  t.same(actions, ['profile.fact_created', 'profile.fact_deleted', 'profile.fact_updated', 'profile.fact_updated', 'profile.fact_created']);
  t.match(audit.json().items[3].summary, {
    key: 'bcdr.rto_hours',
    version: 2,
    old: { value: 4, visibility: 'private', version: 1 },
    new: { value: 8, visibility: 'public' },
  });
  t.match(audit.json().items[1].summary, { version: 4, old: { value: 6 }, new: null });
});

t.test('values of the wrong type and unknown keys are refused', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { put, get } = client(app);
  const a = await signup(app);
  const refused = async (key: string, body: object, field: RegExp, why: string) => {
    const r = await put(a, key, body);
    t.equal(r.statusCode, 400, `${why}: ${r.body}`);
    t.equal(r.json().code, 'validation_failed');
    t.match(r.json().errors, [{ field }], why);
  };
  await refused('data.processes_phi', { value: 'no' }, /^body\/value/, 'a string for a boolean');
  await refused('bcdr.rto_hours', { value: '4' }, /^body\/value/, 'a string for a number');
  await refused('bcdr.rto_hours', { value: -1 }, /^body\/value/, 'a negative duration');
  await refused('company.employee_count', { value: 12.5 }, /^body\/value/, 'half a person');
  await refused('data.storage_countries', { value: 'Germany' }, /^body\/value/, 'a string for a list');
  await refused('data.storage_countries', { value: ['Germany', ''] }, /^body\/value\/1/, 'an empty list item');
  await refused('hosting.providers', { value: { name: 'AWS' } }, /^body\/value/, 'an object');
  await refused('company.security_contact_email', { value: 'security at example' }, /^body\/value/, 'not an e-mail');
  await refused('pentest.last_date', { value: '22/05/2026' }, /^body\/value/, 'not a date');
  await refused('pentest.frequency', { value: true }, /^body\/value/, 'a boolean for a string');
  await refused('bcdr.rto_hours', { value: 4, type: 'string' }, /^body\/type/, 'a catalog key keeps its type');
  await refused('bcdr.rto_hours', { value: 4, visibility: 'secret' }, /^body\/visibility/, 'visibility public or private');
  await refused('company.favourite_colour', { value: 'blue' }, /^params\/key/, 'an unknown catalog key is a 400');
  await refused('Company.Legal_Name', { value: 'x' }, /^params\/key/, 'keys are lower case');
  await refused('custom.Bad Slug', { value: 'x' }, /^params\/key/, 'custom slugs are a-z, 0-9, _ and -');
  t.same((await get(a, '/profile')).json().facts, [], 'nothing was stored');
  t.equal((await get(a, '/profile/facts/company.favourite_colour')).statusCode, 404);
});

t.test('custom keys carry the question they answer', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { put, get } = client(app);
  const a = await signup(app);
  const noQuestion = await put(a, 'custom.office_count', { value: 3 });
  t.equal(noQuestion.statusCode, 400);
  t.match(noQuestion.json().errors, [{ field: 'body/question' }]);

  const num = await put(a, 'custom.office_count', { value: 3, question: 'How many offices do you operate?' });
  t.equal(num.statusCode, 200, num.body);
  t.match(num.json(), { type: 'number', value: 3, question: 'How many offices do you operate?', label: 'How many offices do you operate?', custom: true });
  t.match((await put(a, 'custom.languages', { value: ['English', 'German'], question: 'Which languages does support speak?' })).json(), {
    type: 'string_list',
  });
  t.match((await put(a, 'custom.soc1', { value: false, question: 'Do you have a SOC 1 report?' })).json(), { type: 'boolean' });
  t.match((await put(a, 'custom.iso_audit', { value: '2026-03-10', type: 'date', question: 'When was the last ISO audit?' })).json(), {
    type: 'date',
    value: '2026-03-10',
  });
  const badDate = await put(a, 'custom.next_audit', { value: 'next March', type: 'date', question: 'When is the next audit?' });
  t.equal(badDate.statusCode, 400);

  const kept = await put(a, 'custom.office_count', { value: 4 }, '"1"');
  t.match(kept.json(), { value: 4, version: 2, question: 'How many offices do you operate?' }, 'an update without a question keeps it');
  const cleared = await put(a, 'custom.office_count', { value: 4, question: null }, '"2"');
  t.equal(cleared.statusCode, 400, 'a custom fact cannot lose its question');
  const retyped = await put(a, 'custom.office_count', { value: 'three', question: 'How many offices do you operate?' }, '"2"');
  t.match(retyped.json(), { type: 'string', value: 'three', version: 3 }, 'a custom fact may change type');
  const withQuestion = await put(a, 'company.legal_name', { value: 'Acme Ltd', question: 'Legal entity name' });
  t.match(withQuestion.json(), { question: 'Legal entity name', custom: false });
  t.equal((await get(a, '/profile')).json().facts[0].key, 'company.legal_name', 'catalog keys first, in catalog order');
});

t.test('tenant isolation, roles and API-key scopes', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { put, get, del } = client(app);
  const a = await signup(app);
  const b = await signup(app);
  t.equal((await put(a, 'company.legal_name', { value: 'Alpha Ltd' })).statusCode, 200);

  t.same((await get(b, '/profile')).json().facts, [], 'another organization sees none of it');
  t.equal((await get(b, '/profile/facts/company.legal_name')).statusCode, 404);
  t.equal((await get(b, '/profile/facts/company.legal_name/history')).statusCode, 404);
  t.equal((await del(b, 'company.legal_name')).statusCode, 404);
  const own = await put(b, 'company.legal_name', { value: 'Beta GmbH' });
  t.match(own.json(), { value: 'Beta GmbH', version: 1 }, 'its own fact, its own versions');
  t.equal((await get(a, '/profile/facts/company.legal_name')).json().value, 'Alpha Ltd', 'untouched');

  const viewer = await memberWithRole(app, a, 'viewer');
  t.equal((await get(viewer, '/profile')).statusCode, 200, 'a viewer reads');
  t.equal((await put(viewer, 'company.website', { value: 'https://alpha.example.com' })).statusCode, 403, 'a viewer cannot write');
  t.equal((await del(viewer, 'company.legal_name')).statusCode, 403, 'nor delete');
  const editor = await memberWithRole(app, a, 'editor');
  t.equal((await put(editor, 'company.website', { value: 'https://alpha.example.com' })).statusCode, 200, 'an editor writes');

  const keyFor = async (scopes: string[]) => {
    const r = await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: a.auth, payload: { name: scopes.join(' '), role: 'editor', scopes } });
    t.equal(r.statusCode, 201, r.body);
    return { ...a, auth: { authorization: `Bearer ${r.json().key}` } };
  };
  const reader = await keyFor(['profile:read']);
  t.equal((await get(reader, '/profile')).statusCode, 200);
  const denied = await put(reader, 'company.headquarters', { value: 'Dublin, Ireland' });
  t.equal(denied.statusCode, 403);
  t.match(denied.json().detail, /profile:write/);
  const writer = await keyFor(['profile:write']);
  t.equal((await put(writer, 'company.headquarters', { value: 'Dublin, Ireland' })).statusCode, 200, 'profile:write writes');
  t.equal((await get(writer, '/profile')).statusCode, 200, 'and implies profile:read');
  const other = await keyFor(['controls:read']);
  t.equal((await get(other, '/profile')).statusCode, 403, 'another scope does not reach the profile');
});

t.test('a string fact that looks like a number stays a string', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const { put, get } = client(app);
  const a = await signup(app);
  const res = await put(a, 'data.min_tls_version', { value: '1.2' });
  t.equal(res.statusCode, 200, res.body);
  t.equal(res.json().value, '1.2');
  const fact = (await get(a, '/profile')).json().facts.find((f: { key: string }) => f.key === 'data.min_tls_version');
  t.equal(fact.value, '1.2', 'read back as the string it was stored as');
});
