// The SoA import writes all rows in a few multi-row statements. What it leaves behind must be
// what the same changes made one PUT at a time leave: answers, versions, audit entries, events
// (in the same order), webhook deliveries and library staleness (with the same reasons).
import t from 'tap';
import { asc, eq } from 'drizzle-orm';
import { stringify } from 'csv-stringify/sync';
import type { App } from '../../../src/app.js';
import { auditEvents } from '../../../src/modules/audit/tables.js';
import { controlAnswerVersions } from '../../../src/modules/controls/tables.js';
import { events } from '../../../src/modules/events/tables.js';
import { libraryEntries } from '../../../src/modules/library/tables.js';
import { webhookDeliveries } from '../../../src/modules/webhooks/tables.js';
import { signup, testApp, type Tenant } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';

const base = { applicable: true, status: 'implemented', implementation: 'Done.', responsibility: 'provider', visibility: 'internal' };

/** The changes, in row order: two substantive, one owner-only, one first answer. */
const CHANGES: Array<[string, Record<string, unknown>]> = [
  ['A.5.1', { status: 'planned' }],
  ['A.5.2', { implementation: 'Done, and reviewed yearly.' }],
  ['A.5.3', { owner: 'Head of IT' }],
  ['A.5.4', { status: 'partially_implemented' }],
];

async function setUp(app: App, who: Tenant) {
  const put = async (ref: string, body: object, version?: number) => {
    const r = await app.inject({
      method: 'PUT',
      url: `/api/v1/controls/${ref}`,
      headers: { ...who.auth, ...(version ? { 'if-match': `"${version}"` } : {}) },
      payload: body,
    });
    if (r.statusCode !== 200) throw new Error(`put ${ref}: ${r.statusCode} ${r.body}`);
  };
  for (const ref of ['A.5.1', 'A.5.2', 'A.5.3']) await put(ref, base);
  const entry = async (question: string, controls: string[], status = 'approved') => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/library',
      headers: who.auth,
      payload: { question, answer: { choice: 'yes' }, controls, status },
    });
    if (r.statusCode !== 201) throw new Error(`library: ${r.statusCode} ${r.body}`);
  };
  await entry('Rests on A.5.2 and A.5.1', ['A.5.2', 'A.5.1']); // stale for A.5.1, the first changed row
  await entry('Rests on A.5.2 only', ['A.5.2']);
  await entry('Rests on A.5.3 only', ['A.5.3']); // owner-only change: stays fresh
  await entry('A draft on A.5.1', ['A.5.1'], 'draft'); // not approved: never marked
  const hook = await app.inject({
    method: 'POST',
    url: '/api/v1/webhooks',
    headers: who.auth,
    payload: { url: 'https://hooks.example.com/in', events: ['control.updated', 'library.entry_stale'] },
  });
  if (hook.statusCode !== 201) throw new Error(`webhook: ${hook.statusCode} ${hook.body}`);
  await app.database.db.delete(events).where(eq(events.orgId, who.orgId));
  return put;
}

/** What an organization's record looks like, with ids, times and the import marker left out. */
async function record(app: App, who: Tenant) {
  const db = app.database.db;
  const ev = await db.select().from(events).where(eq(events.orgId, who.orgId)).orderBy(asc(events.id));
  const audit = await db.select().from(auditEvents).where(eq(auditEvents.orgId, who.orgId)).orderBy(asc(auditEvents.id));
  const versions = await db
    .select()
    .from(controlAnswerVersions)
    .where(eq(controlAnswerVersions.orgId, who.orgId))
    .orderBy(asc(controlAnswerVersions.ref), asc(controlAnswerVersions.version));
  const lib = await db.select().from(libraryEntries).where(eq(libraryEntries.orgId, who.orgId)).orderBy(asc(libraryEntries.question));
  const deliveries = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.orgId, who.orgId)).orderBy(asc(webhookDeliveries.id));
  const byId = new Map(ev.map((e) => [e.id, e.type]));
  return {
    events: ev.map((e) => ({ type: e.type, data: e.type === 'library.entry_stale' ? { ...e.data, id: undefined, ownerId: undefined } : e.data })),
    audit: audit
      .filter((a) => a.action.startsWith('control.'))
      .map((a) => ({ action: a.action, targetId: a.targetId, summary: { ...a.summary, via: undefined } })),
    versions: versions.map((v) => ({ ref: v.ref, version: v.version, changedFields: v.changedFields, status: v.snapshot.status, owner: v.snapshot.owner })),
    library: lib.map((e) => ({ question: e.question, stale: e.stale, reason: e.staleReason })),
    deliveries: deliveries.map((d) => ({ eventType: d.eventType, matches: byId.get(d.eventId) === d.eventType, status: d.status })),
  };
}

t.test('an import leaves the same record as the same changes made one by one', async (t) => {
  const app = await testApp(t, { options: { webhooks: { worker: false }, expiryScanIntervalMs: 0 } });
  const one = await signup(app);
  const bulk = await signup(app);
  const putOne = await setUp(app, one);
  await setUp(app, bulk);

  for (const [ref, change] of CHANGES) await putOne(ref, { ...base, ...change }, ref === 'A.5.4' ? undefined : 1);

  const header = ['ref', 'applicable', 'status', 'implementation', 'responsibility', 'owner', 'visibility'];
  const rows = CHANGES.map(([ref, c]) => {
    const v = { ...base, ...c } as unknown as Record<string, string>;
    return [ref, 'yes', v.status, v.implementation, v.responsibility, v.owner ?? '', v.visibility];
  });
  const csv = stringify([header, ...rows, ['A.5.5', 'yes', 'implemented', 'Done.', 'provider', '', 'internal']]);
  const body = multipart({}, [{ filename: 'soa.csv', content: csv, contentType: 'text/csv' }]);
  // A.5.5 is a first answer in the bulk organization only; it is checked separately below.
  const r = await app.inject({ method: 'POST', url: '/api/v1/controls/import', headers: { ...bulk.auth, ...body.headers }, payload: body.payload });
  t.equal(r.statusCode, 200, r.body);
  t.match(r.json(), { created: 2, updated: 3, unchanged: 0 });

  const a = await record(app, one);
  const b = await record(app, bulk);
  const last = <T>(xs: T[]) => xs.slice(0, -1);
  t.same(last(b.events), a.events, 'the same events in the same order (control.updated, then the staleness it caused)');
  t.same(
    b.events.map((e) => e.type),
    ['control.updated', 'library.entry_stale', 'control.updated', 'library.entry_stale', 'control.updated', 'control.updated', 'control.updated'],
  );
  t.match(b.events.at(-1), { type: 'control.updated', data: { ref: 'A.5.5', version: 1 } });
  t.same(
    b.audit.filter((x) => x.targetId !== 'iso27001-2022:A.5.5'),
    a.audit,
    'the same audit entries per control',
  );
  t.same(
    b.versions.filter((v) => v.ref !== 'A.5.5'),
    a.versions,
    'the same versions',
  );
  t.same(b.library, a.library, 'the same entries stale, with the same reasons');
  t.same(
    a.library.map((e) => [e.question, e.stale]),
    [
      ['A draft on A.5.1', false],
      ['Rests on A.5.2 and A.5.1', true],
      ['Rests on A.5.2 only', true],
      ['Rests on A.5.3 only', false],
    ],
  );
  t.match(a.library[1]!.reason, /^control A\.5\.1 changed in version 2 \(status\)$/, 'the first changed control in row order gives the reason');
  t.same(last(b.deliveries), a.deliveries, 'one delivery per event, as before');
  t.ok(b.deliveries.every((d) => d.matches && d.status === 'pending'));
  const imported = (await app.database.db.select().from(auditEvents).where(eq(auditEvents.orgId, bulk.orgId)).orderBy(asc(auditEvents.id))).at(-1);
  t.match(imported, { action: 'controls.imported', summary: { created: 2, updated: 3, unchanged: 0 } }, 'the import summary comes last');
});
