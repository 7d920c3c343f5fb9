// The expiry scan reads only certifications whose attention time has come. These tests check the
// time itself (the next status change, from the same rules as the status) and that a scan over
// many valid certifications reads and touches only the due one.
import t from 'tap';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../../src/db/client.js';
import {
  attentionAt,
  certificationStatus,
  defaultSurveillanceAudits,
  nextStatusChange,
  type StatusInput,
} from '../../../src/modules/certifications/service.js';
import { certifications } from '../../../src/modules/certifications/tables.js';
import { dueCertifications } from '../../../src/modules/certifications/expiry.js';
import { scanExpiries } from '../../../src/scans.js';
import { events, expiryNotices } from '../../../src/modules/events/tables.js';
import { newId } from '../../../src/lib/ids.js';
import { manualClock, signup, testApp } from '../../helpers/app.js';

const d = (s: string) => new Date(s);
const DAY = 86_400_000;

t.test('nextStatusChange: the first instant the status differs, per kind', async (t) => {
  const soc2: StatusInput = { kind: 'soc2_type2', issuedAt: null, expiresAt: null, periodEnd: d('2025-08-01T00:00:00Z'), surveillanceAudits: [] };
  t.same(nextStatusChange(soc2, d('2026-01-01T00:00:00Z')), d('2026-05-01T00:00:00.001Z'), 'valid until 9 months after period end, inclusive');
  t.same(nextStatusChange(soc2, d('2026-05-01T00:00:00.001Z')), d('2026-08-01T00:00:00.001Z'), 'due_soon until 12 months');
  t.same(nextStatusChange(soc2, d('2026-08-02T00:00:00Z')), d('2026-11-01T00:00:00.001Z'), 'stale until 15 months');
  t.equal(nextStatusChange(soc2, d('2027-01-01T00:00:00Z')), null, 'expired for good');

  const issued = d('2024-01-15T00:00:00Z');
  const iso: StatusInput = { kind: 'iso27001', issuedAt: issued, expiresAt: null, periodEnd: null, surveillanceAudits: defaultSurveillanceAudits(issued) };
  t.same(
    nextStatusChange(iso, d('2024-06-01T00:00:00Z')),
    new Date(d('2025-01-15T00:00:00Z').getTime() - 60 * DAY),
    'due_soon 60 days before the first surveillance audit',
  );
  t.same(nextStatusChange(iso, d('2025-01-01T00:00:00Z')), d('2025-01-15T00:00:00.001Z'), 'stale once the audit is missed');
  const done: StatusInput = {
    ...iso,
    surveillanceAudits: [
      { dueAt: '2025-01-15T00:00:00.000Z', completedAt: '2025-01-10T00:00:00.000Z' },
      { dueAt: '2026-01-15T00:00:00.000Z', completedAt: '2026-01-10T00:00:00.000Z' },
    ],
  };
  t.same(
    nextStatusChange(done, d('2026-02-01T00:00:00Z')),
    new Date(d('2027-01-14T00:00:00Z').getTime() - 90 * DAY),
    'audits done: due_soon 90 days before expiry',
  );

  const other: StatusInput = { kind: 'other', issuedAt: null, expiresAt: null, periodEnd: null, surveillanceAudits: [] };
  t.equal(nextStatusChange(other, d('2026-01-01T00:00:00Z')), null, 'no expiry: valid for good');
  t.equal(attentionAt(other, d('2026-01-01T00:00:00Z')), null, 'so the scan never reads it');
  const expiring = { ...other, expiresAt: d('2026-03-01T00:00:00Z') };
  t.same(attentionAt(expiring, d('2026-02-01T00:00:00Z')), d('2026-02-01T00:00:00Z'), 'not valid now: due at once');
});

t.test('nextStatusChange agrees with certificationStatus everywhere (sampled)', async (t) => {
  let seed = 42;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const at = (from: string, days: number) => new Date(d(from).getTime() + Math.floor(rand() * days) * DAY + Math.floor(rand() * DAY));
  let checked = 0;
  for (let i = 0; i < 300; i++) {
    const kind = (['iso27001', 'soc2_type1', 'soc2_type2', 'other'] as const)[i % 4]!;
    const issuedAt = at('2023-01-01', 1000);
    const row: StatusInput = {
      kind,
      issuedAt: kind === 'iso27001' ? issuedAt : null,
      expiresAt: rand() < 0.5 ? at('2024-01-01', 1500) : null,
      periodEnd: kind.startsWith('soc2') ? at('2023-06-01', 900) : null,
      surveillanceAudits: kind === 'iso27001' ? defaultSurveillanceAudits(issuedAt).map((a) => ({ ...a, completedAt: rand() < 0.4 ? a.dueAt : null })) : [],
    };
    const now = at('2023-01-01', 2200);
    const status = certificationStatus(row, now).status;
    const next = nextStatusChange(row, now);
    const end = next ? next.getTime() : now.getTime() + 3000 * DAY;
    // Unchanged up to the instant before, at a spread of points in between...
    for (const f of [0, 0.1, 0.5, 0.9, 0.999])
      t.equal(certificationStatus(row, new Date(now.getTime() + Math.floor((end - 1 - now.getTime()) * f))).status, status);
    if (next) {
      t.equal(certificationStatus(row, new Date(next.getTime() - 1)).status, status, 'the same status a millisecond before');
      t.not(certificationStatus(row, next).status, status, 'another at the instant');
      checked++;
    }
  }
  t.ok(checked > 100, `${checked} transitions checked`);
});

t.test('a scan reads only due certifications and leaves the others alone', async (t) => {
  const time = manualClock(new Date('2026-06-01T00:00:00Z'));
  const app = await testApp(t, {
    clock: time.clock,
    config: { auth: { accessTokenTtlSeconds: 30 * 24 * 3600 } },
    options: { expiryScanIntervalMs: 0, webhooks: { worker: false } },
  });
  const db = app.database.db;
  const a = await signup(app);
  const b = await signup(app);
  const post = async (who: typeof a, payload: object) => {
    const r = await app.inject({ method: 'POST', url: '/api/v1/certifications', headers: who.auth, payload });
    if (r.statusCode !== 201) throw new Error(`${r.statusCode} ${r.body}`);
    return r.json() as { id: string; status: string };
  };
  // Through the API: valid ones (attention in the future or never) and one due_soon.
  const fresh = await post(a, { kind: 'soc2_type2', name: 'SOC 2 fresh', periodStart: '2025-06-01', periodEnd: '2026-05-01' });
  const never = await post(a, { kind: 'other', name: 'Pledge, no expiry' });
  const due = await post(b, { kind: 'soc2_type2', name: 'SOC 2 old', periodStart: '2025-01-01', periodEnd: '2025-08-01' });
  t.equal(fresh.status, 'valid');
  t.equal(due.status, 'due_soon');
  // Many more valid ones, as the service would store them.
  const now = time.clock();
  const bulk = Array.from({ length: 300 }, (_, i) => {
    const draft = {
      kind: 'iso27001' as const,
      issuedAt: d('2026-03-01T00:00:00Z'),
      expiresAt: d('2029-02-28T00:00:00Z'),
      periodEnd: null,
      surveillanceAudits: defaultSurveillanceAudits(d('2026-03-01T00:00:00Z')),
    };
    return {
      orgId: i % 2 ? a.orgId : b.orgId,
      id: newId(),
      name: `ISO ${i}`,
      visibility: 'internal' as const,
      createdBy: 'test',
      createdAt: now,
      updatedAt: now,
      ...draft,
      attentionAt: attentionAt(draft, now),
    };
  });
  await db.insert(certifications).values(bulk);
  const snapshot = async () =>
    new Map(
      (await db.select({ id: certifications.id, attentionAt: certifications.attentionAt }).from(certifications)).map((r) => [
        r.id,
        r.attentionAt?.getTime() ?? null,
      ]),
    );
  const before = await snapshot();
  t.equal(before.get(never.id), null, 'a certification that never changes status has no attention time');
  t.same(before.get(fresh.id), d('2027-02-01T00:00:00.001Z').getTime(), 'fresh SOC 2: looked at when it turns due_soon');

  t.same(
    (await dueCertifications(db, time.clock())).map((c) => c.id),
    [due.id],
    'the due query returns the one due row',
  );

  // The due query is served by the partial index (the planner is told to avoid a sequential scan on this tiny table).
  const plan = await db.transaction(async (tx) => {
    await tx.execute(sql`set local enable_seqscan = off`);
    const r = await tx.execute(
      sql`explain select * from certifications where attention_at <= ${time.clock().toISOString()}::timestamptz order by attention_at limit 500`,
    );
    return JSON.stringify((r as unknown as { rows: unknown[] }).rows);
  });
  t.match(plan, /certifications_attention_idx/);
  const evidencePlan = await db.transaction(async (tx) => {
    await tx.execute(sql`set local enable_seqscan = off`);
    const r = await tx.execute(
      sql`explain select * from evidence where expires_at is not null and expires_at <= ${time.clock().toISOString()}::timestamptz order by expires_at limit 500`,
    );
    return JSON.stringify((r as unknown as { rows: unknown[] }).rows);
  });
  t.match(evidencePlan, /evidence_expires_at_idx/, 'the evidence part of the scan has an index on expires_at across organizations');

  let transactions = 0;
  const counting = new Proxy(db, {
    get: (target, p, r) =>
      p === 'transaction'
        ? (...args: unknown[]) => {
            transactions++;
            return (target.transaction as (...x: unknown[]) => unknown).apply(target, args);
          }
        : Reflect.get(target, p, r),
  }) as Db;
  t.equal(await scanExpiries(counting, time.clock), 1, 'one notice');
  t.equal(transactions, 1, 'one transaction: the notice');
  const after = await snapshot();
  for (const [id, at] of before) if (id !== due.id) t.equal(after.get(id), at, 'untouched');
  t.same(after.get(due.id), d('2026-08-01T00:00:00.001Z').getTime(), 'the noticed one is next looked at when it turns stale');
  t.same(await dueCertifications(db, time.clock()), [], 'nothing due any more');

  transactions = 0;
  t.equal(await scanExpiries(counting, time.clock), 0);
  t.equal(transactions, 0, 'a scan with nothing due opens no transaction');

  t.test('as time passes, each status is noticed once, then the row is done', async (t) => {
    const kinds = async () => (await db.select().from(expiryNotices).where(eq(expiryNotices.subjectId, due.id))).map((n) => n.kind).sort();
    time.set(d('2026-08-01T00:00:00.001Z'));
    t.equal(await scanExpiries(db, time.clock), 1);
    t.same(await kinds(), ['certification.due_soon', 'certification.stale']);
    time.set(d('2026-12-01T00:00:00Z'));
    t.equal(await scanExpiries(db, time.clock), 1, 'expired');
    const [row] = await db
      .select()
      .from(certifications)
      .where(and(eq(certifications.orgId, b.orgId), eq(certifications.id, due.id)));
    t.equal(row!.attentionAt, null, 'expired for good: never read again');
    const sent = await db
      .select()
      .from(events)
      .where(and(eq(events.orgId, b.orgId), eq(events.type, 'certification.expiring')));
    t.same(sent.map((e) => e.data.status).sort(), ['due_soon', 'expired', 'stale']);
  });

  t.test('a row due again whose notice was already sent costs no transaction', async (t) => {
    // As after the migration's backfill: every row due at once.
    await db.update(certifications).set({ attentionAt: time.clock() });
    t.equal((await dueCertifications(db, time.clock())).length, 303);
    transactions = 0;
    t.equal(await scanExpiries(counting, time.clock), 0, 'the expired one was noticed already; the others are valid');
    t.equal(transactions, 0);
    t.same(await dueCertifications(db, time.clock()), [], 'and every row has its next time again');
    const [row] = await db.select().from(certifications).where(eq(certifications.id, never.id));
    t.equal(row!.attentionAt, null);
  });

  t.test('a write sets the time from the new dates', async (t) => {
    const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: a.email, password: 'Correct-Horse-Battery-9' } });
    const auth = { authorization: `Bearer ${login.json().accessToken}` };
    const r = await app.inject({ method: 'PATCH', url: `/api/v1/certifications/${never.id}`, headers: auth, payload: { expiresAt: '2027-12-31' } });
    t.equal(r.statusCode, 200, r.body);
    const [row] = await db.select().from(certifications).where(eq(certifications.id, never.id));
    t.same(row!.attentionAt, new Date(d('2027-12-31T00:00:00Z').getTime() - 90 * DAY), 'due_soon 90 days before the new expiry');
  });
});
