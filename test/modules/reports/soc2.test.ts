import t from 'tap';
import { signup, testApp } from '../../helpers/app.js';

const answer = (status: string, applicable = true) => ({
  applicable,
  status,
  implementation: 'x',
  responsibility: 'provider',
  ...(applicable ? {} : { justification: 'not in scope' }),
});

t.test('SOC 2 coverage on a hand-computed fixture', async (t) => {
  const app = await testApp(t);
  const a = await signup(app);
  const b = await signup(app);
  const report = async (who = a) => {
    const r = await app.inject({ method: 'GET', url: '/api/v1/reports/soc2', headers: who.auth });
    t.equal(r.statusCode, 200);
    return r.json();
  };

  const empty = await report();
  t.equal(empty.criteria.length, 61);
  t.ok(
    empty.criteria.every((c: { coverage: number }) => c.coverage === 0),
    'nothing answered: no coverage',
  );
  t.match(empty.rule, /weighted mean/);

  // P5.2 has no catalog link; give it exactly two, of our own (weight 2 each).
  for (const ref of ['A.5.34', 'A.8.5']) {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/crosswalk/overrides',
      headers: a.auth,
      payload: { from: { framework: 'iso27001-2022', ref }, to: { framework: 'soc2-2017', ref: 'P5.2' }, action: 'add' },
    });
    t.equal(r.statusCode, 201);
  }
  const p52 = (body: { criteria: { criterion: string; coverage: number; controls: unknown[] }[] }) => body.criteria.find((c) => c.criterion === 'P5.2')!;
  t.equal(p52(await report()).coverage, 0);

  await app.inject({ method: 'PUT', url: '/api/v1/controls/A.5.34', headers: a.auth, payload: answer('implemented') });
  await app.inject({ method: 'PUT', url: '/api/v1/controls/A.8.5', headers: a.auth, payload: answer('partially_implemented') });
  const r1 = p52(await report());
  t.equal(r1.coverage, 0.75, '(2*1 + 2*0.5) / 4');
  t.match(r1.controls, [
    { ref: 'A.5.34', status: 'implemented', strength: 'organization' },
    { ref: 'A.8.5', status: 'partially_implemented' },
  ]);

  await app.inject({ method: 'PUT', url: '/api/v1/controls/A.8.5', headers: { ...a.auth, 'if-match': '1' }, payload: answer('planned', false) });
  t.equal(p52(await report()).coverage, 1, 'an excluded control leaves the denominator');

  t.test('catalog links weigh by strength', async (t) => {
    // On a fresh tenant: answer only the strong links of CC6.1 and check the weighted mean by hand.
    const c = await signup(app);
    const before = (await report(c)).criteria.find((c: { criterion: string }) => c.criterion === 'CC6.1');
    const links = before.controls as { ref: string; strength: string }[];
    t.ok(links.length > 2);
    const weights: Record<string, number> = { strong: 3, moderate: 2, weak: 1 };
    const strong = links.filter((l) => l.strength === 'strong');
    for (const l of strong) {
      const r = await app.inject({ method: 'PUT', url: `/api/v1/controls/${l.ref}`, headers: c.auth, payload: answer('implemented') });
      t.equal(r.statusCode, 200);
    }
    const total = links.reduce((s, l) => s + weights[l.strength]!, 0);
    const expected = Math.round(((strong.length * 3) / total) * 1000) / 1000;
    const after = (await report(c)).criteria.find((c: { criterion: string }) => c.criterion === 'CC6.1');
    t.equal(after.coverage, expected, `${strong.length} strong of ${links.length} links`);
  });

  t.test("another tenant's answers and overrides do not count", async (t) => {
    const other = await report(b);
    t.ok(other.criteria.every((c: { coverage: number }) => c.coverage === 0));
    t.equal(p52(other).controls.length, 0);
  });

  t.equal((await app.inject({ method: 'GET', url: '/api/v1/reports/soc2' })).statusCode, 401);
});
