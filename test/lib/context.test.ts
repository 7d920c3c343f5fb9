import t from 'tap';
import { is, sql } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import { actorKey, apiKeyActor, memberOf, prospectActor, scopesOf, storedActor, systemActor, userActor, withTransaction } from '../../src/lib/context.js';
import { freshDatabase } from '../helpers/db.js';

// The four kinds of actor are recorded under the names the audit log, /me and the credential keys
// have always used; withTransaction opens one transaction per context, never a nested one.

t.test('each kind of actor is stored as it was before the union', async (t) => {
  const user = userActor('u1', 'editor');
  t.same(user, { kind: 'user', id: 'u1', role: 'editor', userId: 'u1' });
  t.same(storedActor(user), { type: 'user', id: 'u1' });

  const key = apiKeyActor({ id: 'k1', createdBy: 'u1', scopes: ['controls:read'] }, 'viewer');
  t.same(key, { kind: 'apiKey', id: 'k1', role: 'viewer', userId: 'u1', scopes: ['controls:read'] });
  t.same(storedActor(key), { type: 'api_key', id: 'k1' });
  t.equal(actorKey(key), 'api_key:k1', 'rate limits and idempotency keys name the credential as before');
  t.same(scopesOf(key), ['controls:read']);
  t.notOk('scopes' in apiKeyActor({ id: 'k2', createdBy: 'u1', scopes: null }, 'viewer'), 'an unscoped key has no scopes');
  t.equal(memberOf(key), 'u1', 'a key acts for its creator');

  const rule = systemActor('auto-approve');
  t.same(storedActor(rule), { type: 'system', id: 'auto-approve' });
  t.equal(rule.role, 'viewer');
  t.equal(scopesOf(rule), undefined);
  t.throws(() => memberOf(rule), { code: 'forbidden' }, 'the system is no member');

  t.same(storedActor(prospectActor('g1')), { type: 'public', id: 'grant:g1' });
  t.equal(prospectActor('g1').id, 'grant:g1', "a prospect's questionnaires are attributed to the grant");
  t.same(storedActor(prospectActor(null)), { type: 'public', id: null }, 'a visitor asking for access has no id');
});

t.test('withTransaction opens a transaction, or joins the one the context is on', async (t) => {
  const { database, drop } = await freshDatabase();
  t.teardown(async () => {
    await database.close();
    await drop();
  });
  const ctx = { orgId: 'org-1', requestId: 'r1', db: database.db };

  await withTransaction(ctx, async (outer) => {
    t.ok(is(outer.db, PgTransaction), 'the callback runs on a transaction');
    t.notOk(is(database.db, PgTransaction));
    t.equal(outer.orgId, 'org-1');
    t.equal(outer.requestId, 'r1', 'with the rest of the context unchanged');
    await withTransaction(outer, async (inner) => {
      t.equal(inner.db, outer.db, 'a context already on a transaction joins it (no savepoint)');
    });
  });

  // Joined work belongs to the caller's transaction: it rolls back with it.
  await database.db.execute(sql`create table context_probe (n int)`);
  await t.rejects(
    withTransaction(ctx, async (outer) => {
      await withTransaction(outer, (inner) => inner.db.execute(sql`insert into context_probe values (1)`));
      throw new Error('the caller fails');
    }),
    /the caller fails/,
  );
  const rows = (await database.db.execute(sql`select count(*)::int as n from context_probe`)) as unknown as { rows: Array<{ n: number }> };
  t.equal(rows.rows[0]!.n, 0);
});
