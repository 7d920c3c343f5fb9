import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { testApp } from '../helpers/app.js';
import { seedDatabase, SEEDS_DIR } from '../../src/seeds.js';
import { FsBlobStore } from '../../src/lib/storage.js';

const DATA = path.resolve('..', 'shared', 'data');
const RUN = 8;

const words = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9 ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean);

function* strings(v: unknown, key?: string): Generator<[string | undefined, string]> {
  if (typeof v === 'string') yield [key, v];
  else if (Array.isArray(v)) for (const x of v) yield* strings(x, key);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) yield* strings(x, k);
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

t.test('no sentence of the reference material is in seeds/ (titles used as names are allowed)', async (t) => {
  const reference = new Set<string>();
  for (const f of filesUnder(DATA).filter((f) => /\.(csv|json|md)$/.test(f))) {
    const w = words(fs.readFileSync(f, 'utf8'));
    for (let i = 0; i + RUN <= w.length; i++) reference.add(w.slice(i, i + RUN).join(' '));
  }
  t.ok(reference.size > 100_000, `reference runs indexed: ${reference.size}`);
  const seeds = filesUnder(SEEDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ f, data: JSON.parse(fs.readFileSync(f, 'utf8')) as unknown }));
  // Official titles may be named anywhere (e.g. "A.8.14 (Redundancy of ...)"): blank them out first.
  const titles = [...new Set(seeds.flatMap(({ data }) => [...strings(data)].filter(([k]) => k === 'title').map(([, v]) => v.toLowerCase())))]
    .filter((x) => words(x).length >= 3)
    .sort((x, y) => y.length - x.length);
  const hits: string[] = [];
  for (const { f, data } of seeds) {
    for (const [key, s] of strings(data)) {
      if (key === 'title' || key === 'name') continue;
      let text = s.toLowerCase();
      for (const title of titles) text = text.split(title).join(' | ');
      const w = words(text);
      for (let i = 0; i + RUN <= w.length; i++) {
        const run = w.slice(i, i + RUN).join(' ');
        if (reference.has(run)) hits.push(`${path.basename(f)} ${key}: "${run}"`);
      }
    }
  }
  t.same(hits, [], 'no run of 8 words shared with the standards text');
});

t.test('demo organization: seeded once, every control answered', async (t) => {
  const app = await testApp(t);
  const blobs = new FsBlobStore(t.testdir({}));
  await seedDatabase(app.database.db, { demo: { blobs }, clock: () => new Date() });
  await seedDatabase(app.database.db, { demo: { blobs }, clock: () => new Date() });
  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'owner@demo.example.com', password: 'Demo-Password-2026!' } });
  t.equal(login.statusCode, 200);
  const auth = { authorization: `Bearer ${login.json().accessToken}` };
  const controls = await app.inject({ method: 'GET', url: '/api/v1/controls?limit=500', headers: auth });
  const items = controls.json().items as { ref: string; version: number; status: string; applicable: boolean }[];
  t.equal(items.length, 100, '93 Annex A + 7 CLD');
  t.ok(
    items.every((c) => c.version === 1),
    'the second seed run changed nothing',
  );
  t.ok(
    items.some((c) => c.status !== 'implemented'),
    'honest gaps',
  );
  t.ok(
    items.some((c) => !c.applicable),
    'documented exclusions',
  );
  const report = await app.inject({ method: 'GET', url: '/api/v1/reports/soc2', headers: auth });
  const covered = report.json().criteria.filter((c: { coverage: number }) => c.coverage > 0).length;
  t.ok(covered >= 55, `demo covers most criteria (${covered}/61)`);
  const evidence = await app.inject({ method: 'GET', url: '/api/v1/evidence?limit=100', headers: auth });
  t.ok(evidence.json().items.length >= 12, 'evidence metadata');
  t.ok(
    evidence.json().items.some((e: { status: string }) => e.status === 'expired'),
    'an honest expired item',
  );
  const certs = await app.inject({ method: 'GET', url: '/api/v1/certifications', headers: auth });
  t.same(
    certs
      .json()
      .items.map((c: { kind: string }) => c.kind)
      .sort(),
    ['iso27001', 'soc2_type2'],
  );
  const readiness = await app.inject({ method: 'GET', url: '/api/v1/reports/iso27017-readiness', headers: auth });
  t.equal(readiness.json().summary.cloudControls.answered, 7);
});

t.test('catalog seeding is idempotent and reloads a changed file', async (t) => {
  const app = await testApp(t);
  const { seedCatalogs } = await import('../../src/modules/catalog/seed.js');
  t.same((await seedCatalogs(app.database.db, SEEDS_DIR)).loaded, [], 'unchanged files are skipped');
  const dir = t.testdir({ catalog: {}, crosswalk: {} });
  for (const sub of ['catalog', 'crosswalk']) {
    for (const f of fs.readdirSync(path.join(SEEDS_DIR, sub))) fs.copyFileSync(path.join(SEEDS_DIR, sub, f), path.join(dir, sub, f));
  }
  const file = path.join(dir, 'catalog', 'soc2-2017.json');
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  data.controls[0].summary = 'Changed summary for the reload test.';
  fs.writeFileSync(file, JSON.stringify(data));
  t.same((await seedCatalogs(app.database.db, dir)).loaded, ['soc2-2017.json']);
  const { catalogControls } = await import('../../src/modules/catalog/tables.js');
  const { and, eq } = await import('drizzle-orm');
  const [row] = await app.database.db
    .select()
    .from(catalogControls)
    .where(and(eq(catalogControls.frameworkId, 'soc2-2017'), eq(catalogControls.ref, 'CC1.1')));
  t.equal(row!.summary, 'Changed summary for the reload test.');
});
