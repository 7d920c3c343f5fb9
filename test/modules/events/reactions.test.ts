import t from 'tap';
import { and, asc, eq } from 'drizzle-orm';
import { deriveOn, emitEvents, onRecorded, onSignal, signal, type RecordedEvent } from '../../../src/modules/events/service.js';
import { events } from '../../../src/modules/events/tables.js';
import { newId } from '../../../src/lib/ids.js';
import { signup, testApp } from '../../helpers/app.js';

// The outbox's reactions: follow-up events are recorded right after the event that caused them,
// recursively, recorders see every recorded event with its id, signals reach only their
// handlers, and a loop between reactions is stopped instead of running away. Each test file runs
// in its own process, so the reactions registered here reach no other test.

t.test('reactions run in the emitting transaction, follow-ups right after their cause', async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false } } });
  const a = await signup(app, 'reactions');
  const me = await app.inject({ method: 'GET', url: '/api/v1/me', headers: a.auth });
  const orgId = me.json().organization.id as string;
  const db = app.database.db;
  const ctx = { orgId, requestId: 'req-reactions', clock: () => new Date() };

  // A grant revoked is followed by a test event naming it; that test event by another (two levels).
  deriveOn('test.follow', ['access_grant.revoked', 'webhook.test'], async (_tx, _ctx, list) =>
    list.flatMap(({ index, event }) => {
      if (event.type === 'access_grant.revoked') return [{ cause: index, event: { type: 'webhook.test' as const, data: { endpointId: event.data.grantId } } }];
      if (event.type === 'webhook.test' && !event.data.endpointId.endsWith('-2')) {
        return [{ cause: index, event: { type: 'webhook.test' as const, data: { endpointId: `${event.data.endpointId}-2` } } }];
      }
      return [];
    }),
  );
  const seen: RecordedEvent[] = [];
  onRecorded('test.seen', async (_tx, _ctx, recorded) => {
    seen.push(...recorded);
  });
  const signalled: string[] = [];
  onSignal('test.signal', 'source.version_indexed', async (_tx, _ctx, d) => {
    signalled.push(`${d.kind}:${d.id}@${d.version}`);
  });

  const revoked = (grantId: string) => ({
    type: 'access_grant.revoked' as const,
    data: {
      grantId,
      accessRequestId: null,
      requestId: null,
      email: 'x@buyer.example.com',
      domain: 'buyer.example.com',
      company: null,
      revokedAt: new Date().toISOString(),
    },
  });
  const ids = await db.transaction((tx) => emitEvents(tx, ctx, [revoked('g1'), revoked('g2')]));
  t.equal(ids.length, 2, 'the ids of the given events only');
  const rows = await db
    .select({ id: events.id, type: events.type, data: events.data })
    .from(events)
    .where(and(eq(events.orgId, orgId), eq(events.requestId, 'req-reactions')))
    .orderBy(asc(events.id));
  t.same(
    rows.map((r) => `${r.type}:${(r.data as { grantId?: string; endpointId?: string }).grantId ?? (r.data as { endpointId: string }).endpointId}`),
    ['access_grant.revoked:g1', 'webhook.test:g1', 'webhook.test:g1-2', 'access_grant.revoked:g2', 'webhook.test:g2', 'webhook.test:g2-2'],
    'each event, then what it caused, in order',
  );
  t.same([rows[0]!.id, rows[3]!.id], ids, "the returned ids are the given events'");
  t.same(
    seen.map((s) => s.id),
    rows.map((r) => r.id),
    'recorders see every recorded event, follow-ups included',
  );

  // The library reacts to it too (a document nobody quoted: nothing goes stale).
  const doc = newId();
  await db.transaction((tx) => signal(tx, ctx, 'source.version_indexed', { kind: 'document', id: doc, version: 2, title: 'Policy' }));
  t.same(signalled, [`document:${doc}@2`], 'a signal reaches its handler');
  const after = await db
    .select({ id: events.id })
    .from(events)
    .where(and(eq(events.orgId, orgId), eq(events.requestId, 'req-reactions')));
  t.equal(after.length, rows.length, 'and records nothing');

  // A reaction that answers every test event with another one never ends: it is stopped, and the
  // transaction with it.
  deriveOn('test.loop', ['webhook.test'], async (_tx, _ctx, list) =>
    list.map(({ index }) => ({ cause: index, event: { type: 'webhook.test' as const, data: { endpointId: 'again' } } })),
  );
  await t.rejects(
    db.transaction((tx) => emitEvents(tx, { ...ctx, requestId: 'req-loop' }, [{ type: 'webhook.test', data: { endpointId: 'start' } }])),
    /nest deeper than 4 levels/,
  );
  const loop = await db
    .select({ id: events.id })
    .from(events)
    .where(and(eq(events.orgId, orgId), eq(events.requestId, 'req-loop')));
  t.equal(loop.length, 0, 'nothing of it was recorded');
});
