import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { and, eq, ne, sql } from 'drizzle-orm';
import { buildApp } from '../../../src/app.js';
import { defaultConfig } from '../../../src/config.js';
import { seedCatalogs } from '../../../src/seeds.js';
import { seedCatalogs as catalogSeedOnly } from '../../../src/modules/catalog/seed.js';
import { catalogControls } from '../../../src/modules/catalog/tables.js';
import { controlAnswerVersions, controlAnswers } from '../../../src/modules/controls/tables.js';
import { evidenceControls } from '../../../src/modules/evidence/tables.js';
import { libraryEntryControls } from '../../../src/modules/library/tables.js';
import { questionnaires, questions } from '../../../src/modules/questionnaires/tables.js';
import { trustPages } from '../../../src/modules/trust/tables.js';
import { SEEDS_DIR } from '../../../src/seeds.js';
import { newId } from '../../../src/lib/ids.js';
import type { Db } from '../../../src/db/client.js';
import { signup, type Tenant } from '../../helpers/app.js';
import { durableDatabase } from '../../helpers/db.js';

const CLOUD = 'iso27017-2015';
const ACTOR = 'system:catalog-migration';

interface Retired {
  ref: string;
  title: string;
  movedTo: Array<{ framework: string; ref: string }>;
}

/**
 * The seeds as they were at catalog version 1: the 33 items X.1631 gives no cloud guidance for back
 * in the 27017 catalog (cited from CSA CCM, as then) and linked to their 27001:2022 controls.
 */
function previousSeeds(dir: string): string {
  for (const sub of ['catalog', 'crosswalk']) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
    for (const f of fs.readdirSync(path.join(SEEDS_DIR, sub))) fs.copyFileSync(path.join(SEEDS_DIR, sub, f), path.join(dir, sub, f));
  }
  const catFile = path.join(dir, 'catalog', 'iso27017-2015.json');
  const cat = JSON.parse(fs.readFileSync(catFile, 'utf8')) as {
    catalogVersion: number;
    retired: Retired[];
    controls: Array<{ ref: string; kind: string }>;
    [k: string]: unknown;
  };
  const order = (ref: string) =>
    ref
      .replace(/^CLD\./, '0.')
      .split('.')
      .map(Number);
  const cmp = (x: string, y: string) => {
    const [a, b] = [order(x), order(y)];
    for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  const old = cat.retired.map((r) => ({
    ref: r.ref,
    kind: 'cloud_guidance',
    title: r.title,
    summary: `Old catalog item ${r.ref}.`,
    providerGuidance: 'Provider text of the old catalog.',
    customerGuidance: 'Customer text of the old catalog.',
    iso27001_2022: r.movedTo.map((m) => m.ref),
    source: 'csa-ccm-citation',
    keywords: [],
  }));
  const cld = cat.controls.filter((c) => c.kind === 'cloud_control');
  const guidance = [...cat.controls.filter((c) => c.kind !== 'cloud_control'), ...old].sort((a, b) => cmp(a.ref, b.ref));
  const { retired: _retired, ...rest } = cat;
  fs.writeFileSync(catFile, JSON.stringify({ ...rest, catalogVersion: 1, controls: [...cld, ...guidance] }, null, 2));
  const xwFile = path.join(dir, 'crosswalk', 'iso27017-2015_to_iso27001-2022.json');
  const xw = JSON.parse(fs.readFileSync(xwFile, 'utf8')) as { links: unknown[] };
  xw.links.push(
    ...cat.retired.flatMap((r) =>
      r.movedTo.map((m) => ({ from: r.ref, to: m.ref, relationship: 'subset', strength: 'strong', sources: ['x1631-clause-correspondence'] })),
    ),
  );
  fs.writeFileSync(xwFile, JSON.stringify(xw, null, 2));
  return dir;
}

/** An answer written straight into the tables: the API never lets anyone answer a guidance item. */
async function answerDirectly(db: Db, who: Tenant, ref: string, implementation: string, versions: number) {
  const at = new Date('2026-05-01T00:00:00Z');
  const row = {
    orgId: who.orgId,
    frameworkId: CLOUD,
    ref,
    version: versions,
    applicable: true,
    status: 'implemented' as const,
    implementation,
    responsibility: 'shared' as const,
    providerStatement: 'We run it.',
    customerStatement: 'You check it.',
    justification: null,
    owner: 'CISO',
    reviewDueAt: null,
    visibility: 'public' as const,
    publicSummary: `Public: ${implementation}`,
    updatedBy: who.userId,
    updatedAt: at,
  };
  await db.insert(controlAnswers).values(row);
  for (let v = 1; v <= versions; v++) {
    const { orgId: _o, frameworkId: _f, ref: _r, ...rest } = row;
    await db.insert(controlAnswerVersions).values({
      orgId: who.orgId,
      frameworkId: CLOUD,
      ref,
      version: v,
      snapshot: { ...rest, version: v, reviewDueAt: null, updatedAt: at.toISOString() },
      changedFields: ['implementation'],
      changedBy: who.userId,
      changedAt: at,
      requestId: `req-${v}`,
    });
  }
}

t.test("a catalog version that retires the 33 guidance items keeps every organization's data", async (t) => {
  const dir = t.testdir({});
  const durable = await durableDatabase(dir);
  t.teardown(durable.drop);
  const config = defaultConfig({ dataDir: dir, seedDemo: false, pressure: { maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0, retryAfterSeconds: 10 } });
  const jobs = { worker: false, pool: undefined };

  // Version 1 of the catalog, as an existing installation has it, with data on retired items.
  const first = await buildApp({ config, database: await durable.open(), logger: false, jobs });
  const back = await seedCatalogs(first.database.db, previousSeeds(path.join(dir, 'previous-seeds')));
  t.same(back.loaded, ['iso27017-2015.json', 'iso27017-2015_to_iso27001-2022.json']);
  t.same(back.retirements, [], 'going back drops nothing');
  const db = first.database.db;
  const count = async () =>
    (
      await db
        .select({ n: sql<number>`count(*)::int` })
        .from(catalogControls)
        .where(and(eq(catalogControls.frameworkId, CLOUD), eq(catalogControls.kind, 'cloud_guidance')))
    )[0]!.n;
  t.equal(await count(), 70, 'the old catalog: 70 guidance items');

  const a = await signup(first);
  const b = await signup(first);
  const call = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object, who = a) => {
    const r = await first.inject({ method, url: `/api/v1${url}`, headers: who.auth, ...(payload ? { payload } : {}) });
    t.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.statusCode >= 300 ? r.body : ''}`);
    return r.json();
  };
  // 11.1.1 -> A.7.1 (free), 13.2.1 -> A.5.14 (already answered), 6.2.1 -> A.8.1 for tenant B.
  await answerDirectly(db, a, '11.1.1', 'Badge readers on every door.', 2);
  await answerDirectly(db, a, '13.2.1', 'Transfers go over TLS 1.3 only.', 1);
  await answerDirectly(db, b, '6.2.1', 'MDM on every phone.', 1);
  await call('PUT', '/controls/A.5.14', { applicable: true, status: 'planned', implementation: 'Our own transfer policy.', responsibility: 'provider' });
  const ev = await call('POST', '/evidence', { title: 'Door logs', url: 'https://evidence.example.com/doors', controls: ['A.5.2'] });
  await db.insert(evidenceControls).values([
    { orgId: a.orgId, evidenceId: ev.id, frameworkId: CLOUD, ref: '11.1.1' },
    { orgId: a.orgId, evidenceId: ev.id, frameworkId: CLOUD, ref: '8.2.1' },
  ]);
  const entry = await call('POST', '/library', { question: 'Do you use MFA?', answer: { choice: 'yes', text: 'Yes, everywhere.' }, controls: ['A.8.5'] });
  await db.insert(libraryEntryControls).values([
    { orgId: a.orgId, entryId: entry.id, frameworkId: CLOUD, ref: '9.4.2', position: 1 },
    { orgId: a.orgId, entryId: entry.id, frameworkId: CLOUD, ref: '12.1.4', position: 2 },
  ]);
  // The one reference the API itself allows on a guidance item: a crosswalk override.
  const override = await call('POST', '/crosswalk/overrides', {
    from: { framework: CLOUD, ref: '7.1.1' },
    to: { framework: 'iso27001-2022', ref: 'A.6.1' },
    action: 'reject',
    note: 'we screen differently',
  });
  const page = await call('PUT', '/trust-page', { controlRefs: ['CLD.9.5.1'] });
  await db
    .update(trustPages)
    .set({ controlRefs: ['CLD.9.5.1', '11.1.1', '16.1.5'] })
    .where(eq(trustPages.orgId, a.orgId));
  const qid = newId();
  const now = new Date();
  await db
    .insert(questionnaires)
    .values({ orgId: a.orgId, id: qid, name: 'Buyer', format: 'csv', status: 'filled', questionCount: 1, createdBy: a.userId, createdAt: now, updatedAt: now });
  const cited = [{ kind: 'control' as const, framework: CLOUD, ref: '11.1.1', version: 2 }];
  await db
    .insert(questions)
    .values({ orgId: a.orgId, questionnaireId: qid, id: newId(), position: 0, text: 'Is the perimeter secured?', sources: cited, status: 'approved' });
  await first.close();

  // The next start loads catalog version 2: the migration runs inside the seeder, and says what it did.
  const lines: Array<{ msg: string; catalogRetirement?: Record<string, unknown> }> = [];
  const stream = {
    write: (s: string) => {
      lines.push(JSON.parse(s));
    },
  };
  const second = await buildApp({ config, database: await durable.open(), logger: { level: 'warn', stream }, jobs });
  t.teardown(() => second.close());
  const get = async (url: string, who = a) => {
    const r = await second.inject({ method: 'GET', url: `/api/v1${url}`, headers: who.auth });
    t.equal(r.statusCode, 200, `GET ${url}: ${r.body.slice(0, 200)}`);
    return r.json();
  };
  const db2 = second.database.db;

  t.test('the catalog is the new one', async (t) => {
    const fw = (await get('/frameworks')).items.find((f: { id: string }) => f.id === CLOUD);
    t.equal(fw.catalogVersion, 2);
    t.equal(fw.controlCount, 7 + 37);
    const links = (await get(`/crosswalk?from=${CLOUD}&to=iso27001-2022`)).items;
    t.notOk(
      links.some((l: { from: string }) => l.from === '11.1.1'),
      'retired items have no crosswalk links left',
    );
  });

  t.test('the startup log names each organization, item and outcome', async (t) => {
    t.ok(
      lines.some((l) => /retired 33 control\(s\)/.test(l.msg)),
      'one summary line',
    );
    const line = lines.find((l) => l.msg.includes(`organization ${a.slug}`) && l.msg.includes('retired item 11.1.1'));
    t.match(
      line?.msg,
      /answer moved to iso27001-2022:A\.7\.1 \(version 1\); 2 answer version\(s\) kept as history; 1 evidence link\(s\) moved to iso27001-2022:A\.7\.1; trust page shows A\.7\.1 instead; 1 questionnaire citation\(s\) left as written/,
    );
    t.match(lines.find((l) => l.msg.includes('retired item 13.2.1'))?.msg, /answer kept as history only \(iso27001-2022:A\.5\.14 already answered\)/);
    t.match(
      lines.find((l) => l.msg.includes(`organization ${b.slug}`))?.msg,
      /retired item 6\.2\.1 "Mobile device policy": answer moved to iso27001-2022:A\.8\.1/,
    );
    t.match(lines.find((l) => l.msg.includes('retired item 7.1.1'))?.msg, /1 crosswalk override\(s\) kept as history/);
    t.match(lines.find((l) => l.msg.includes('retired item 16.1.5'))?.msg, /removed from the trust page's chosen controls/);
    t.equal(lines.filter((l) => l.catalogRetirement).length, 8, 'a: 11.1.1, 13.2.1, 8.2.1, 9.4.2, 12.1.4, 7.1.1, 16.1.5; b: 6.2.1');
  });

  t.test('an answer moves to the 27001:2022 control it corresponds to, with a version of its own', async (t) => {
    t.match(await get('/controls/A.7.1'), {
      framework: 'iso27001-2022',
      ref: 'A.7.1',
      version: 1,
      implementation: 'Badge readers on every door.',
      providerStatement: 'We run it.',
      customerStatement: 'You check it.',
      responsibility: 'shared',
      visibility: 'public',
      publicSummary: 'Public: Badge readers on every door.',
      owner: 'CISO',
      updatedBy: ACTOR,
    });
    t.match((await get('/controls/A.7.1/history')).items, [
      { version: 1, changedBy: ACTOR, requestId: `catalog:${CLOUD}@2`, answer: { implementation: 'Badge readers on every door.' } },
    ]);
    t.match(await get('/controls/A.8.1', b), { implementation: 'MDM on every phone.', updatedBy: ACTOR }, 'tenant B too');
    t.match(
      await get('/controls/A.5.14'),
      { version: 1, implementation: 'Our own transfer policy.', status: 'planned' },
      'an existing answer is never overwritten',
    );
    t.equal(
      (
        await db2
          .select()
          .from(controlAnswers)
          .where(and(eq(controlAnswers.frameworkId, CLOUD), ne(controlAnswers.ref, 'CLD.9.5.1')))
      ).length,
      0,
      'no answer left on a retired item',
    );
    const kept = await db2
      .select({ ref: controlAnswerVersions.ref, version: controlAnswerVersions.version, snapshot: controlAnswerVersions.snapshot })
      .from(controlAnswerVersions)
      .where(and(eq(controlAnswerVersions.orgId, a.orgId), eq(controlAnswerVersions.frameworkId, CLOUD)));
    t.same(kept.map((v) => `${v.ref}@${v.version}`).sort(), ['11.1.1@1', '11.1.1@2', '13.2.1@1'], 'every old version row stays');
    t.equal(kept.find((v) => v.ref === '13.2.1')!.snapshot.implementation, 'Transfers go over TLS 1.3 only.');
  });

  t.test('evidence and library links follow; overrides and the trust page choice are kept as history', async (t) => {
    const evidence = await get(`/evidence/${ev.id}`);
    t.same(evidence.controls.map((c: { ref: string }) => c.ref).sort(), ['A.5.12', 'A.5.2', 'A.7.1']);
    t.same((await get(`/library/${entry.id}`)).controls, [
      { framework: 'iso27001-2022', ref: 'A.8.5' },
      { framework: 'iso27001-2022', ref: 'A.8.31' },
    ]);
    t.same((await get('/crosswalk/overrides')).items, []);
    const trust = await get('/trust-page');
    t.same(trust.controlRefs, ['CLD.9.5.1', 'A.7.1'], 'the moved answer keeps its place; the other retired ref goes');
    t.equal(trust.version, page.version + 1, 'a new trust page version');
    const [q] = await db2.select({ sources: questions.sources }).from(questions).where(eq(questions.questionnaireId, qid));
    t.same(q!.sources, cited, 'questionnaire citations are history and stay as written');
  });

  t.test("each organization's audit log holds what was on each retired item", async (t) => {
    const events = (await get('/audit-events?action=catalog.control_retired&limit=50')).items;
    t.same(
      events.map((e: { target: { id: string } }) => e.target.id).sort(),
      ['11.1.1', '12.1.4', '13.2.1', '16.1.5', '7.1.1', '8.2.1', '9.4.2'].map((r) => `${CLOUD}:${r}`).sort(),
    );
    const of = (ref: string) => events.find((e: { target: { id: string } }) => e.target.id === `${CLOUD}:${ref}`);
    t.match(of('11.1.1'), {
      actor: { type: 'system', id: ACTOR },
      summary: {
        ref: '11.1.1',
        title: 'Physical security perimeter',
        catalogVersion: { from: 1, to: 2 },
        movedTo: ['iso27001-2022:A.7.1'],
        answer: { outcome: 'moved', to: 'iso27001-2022:A.7.1', version: 1 },
        answerVersionsKept: 2,
        evidenceLinks: { count: 1, movedTo: ['iso27001-2022:A.7.1'] },
        trustPage: { outcome: 'replaced', with: 'A.7.1' },
        questionnaireCitationsKept: 1,
        was: {
          answer: { implementation: 'Badge readers on every door.', version: 2, updatedBy: a.userId },
          evidence: [ev.id],
          trustPageControlRefs: ['CLD.9.5.1', '11.1.1', '16.1.5'],
        },
      },
    });
    t.match(of('13.2.1').summary, { answer: { outcome: 'kept_as_history' }, was: { answer: { implementation: 'Transfers go over TLS 1.3 only.' } } });
    t.match(of('7.1.1').summary, {
      crosswalkOverridesKeptAsHistory: 1,
      was: { crosswalkOverrides: [{ id: override.id, action: 'reject', note: 'we screen differently', toRef: 'A.6.1' }] },
    });
    t.match(of('12.1.4').summary, { libraryLinks: { count: 1, movedTo: ['iso27001-2022:A.8.31'] }, was: { libraryEntries: [entry.id] } });
    t.equal((await get('/audit-events?action=catalog.control_retired', b)).items.length, 1);
  });

  t.test('the next start changes nothing', async (t) => {
    const again = await seedCatalogs(db2, SEEDS_DIR);
    t.same(again, { loaded: [], retired: [], retirements: [] });
  });

  t.test('a seed that drops a control without a new catalog version is refused, and nothing moves', async (t) => {
    const seeds = path.join(dir, 'bad-seeds');
    for (const sub of ['catalog', 'crosswalk']) fs.cpSync(path.join(SEEDS_DIR, sub), path.join(seeds, sub), { recursive: true });
    const file = path.join(seeds, 'catalog', 'iso27017-2015.json');
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    data.controls = data.controls.filter((c: { ref: string }) => c.ref !== '18.2.1');
    fs.writeFileSync(file, JSON.stringify(data));
    await t.rejects(seedCatalogs(db2, seeds), /drops 18\.2\.1 without raising catalogVersion above 2/);
    t.equal(
      (
        await db2
          .select()
          .from(catalogControls)
          .where(and(eq(catalogControls.frameworkId, CLOUD), eq(catalogControls.ref, '18.2.1')))
      ).length,
      1,
    );
  });

  t.test('the catalog module alone, without a retire handler, refuses to drop controls and moves nothing', async (t) => {
    const seeds = path.join(dir, 'newer-seeds');
    for (const sub of ['catalog', 'crosswalk']) fs.cpSync(path.join(SEEDS_DIR, sub), path.join(seeds, sub), { recursive: true });
    const file = path.join(seeds, 'catalog', 'iso27017-2015.json');
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    data.controls = data.controls.filter((c: { ref: string }) => c.ref !== '18.2.1');
    data.catalogVersion += 1;
    fs.writeFileSync(file, JSON.stringify(data));
    await t.rejects(catalogSeedOnly(db2, seeds), /drops 18\.2\.1 and no retire handler was given/);
    const still = await db2
      .select()
      .from(catalogControls)
      .where(and(eq(catalogControls.frameworkId, CLOUD), eq(catalogControls.ref, '18.2.1')));
    t.equal(still.length, 1, 'the control is still there');
  });
});
