import t from 'tap';
import { getter, signup, testApp } from '../../helpers/app.js';

// ITU-T X.1631 | ISO/IEC 27017:2015: the ISO/IEC 27002:2013 clauses that carry "Implementation
// guidance for cloud services" (issue #20). Pinned here on purpose: widening the catalog's
// cloud-guidance list must fail this test until someone shows the clause in the standard's text.
const X1631_GUIDANCE = [
  '5.1.1',
  '6.1.1',
  '6.1.3',
  '7.2.2',
  '8.1.1',
  '8.2.2',
  '9.1.2',
  '9.2.1',
  '9.2.2',
  '9.2.3',
  '9.2.4',
  '9.4.1',
  '9.4.4',
  '10.1.1',
  '10.1.2',
  '11.2.7',
  '12.1.2',
  '12.1.3',
  '12.3.1',
  '12.4.1',
  '12.4.3',
  '12.4.4',
  '12.6.1',
  '13.1.3',
  '14.1.1',
  '14.2.1',
  '15.1.1',
  '15.1.2',
  '15.1.3',
  '16.1.1',
  '16.1.2',
  '16.1.7',
  '18.1.1',
  '18.1.2',
  '18.1.3',
  '18.1.5',
  '18.2.1',
];
const CLD = ['CLD.6.3.1', 'CLD.8.1.5', 'CLD.9.5.1', 'CLD.9.5.2', 'CLD.12.1.5', 'CLD.12.4.5', 'CLD.13.1.4'];
/** Clauses where X.1631 says "(no additional implementation guidance)" for one side. */
const ONE_SIDED: Record<string, 'provider' | 'customer'> = {
  '9.1.2': 'provider',
  '12.4.3': 'provider',
  '15.1.1': 'provider',
  '9.2.1': 'customer',
  '9.2.2': 'customer',
};
/** Listed before from CSA CCM citations; X.1631 gives no cloud guidance for them. */
const RETIRED = [
  '6.1.2',
  '6.2.1',
  '7.1.1',
  '7.1.2',
  '7.2.1',
  '7.3.1',
  '8.1.3',
  '8.1.4',
  '8.2.1',
  '8.3.3',
  '9.2.5',
  '9.3.1',
  '9.4.2',
  '9.4.3',
  '11.1.1',
  '11.1.3',
  '11.1.4',
  '11.1.5',
  '11.2.8',
  '11.2.9',
  '12.1.4',
  '12.4.2',
  '13.1.1',
  '13.1.2',
  '13.2.1',
  '13.2.2',
  '13.2.3',
  '13.2.4',
  '14.1.2',
  '14.2.2',
  '14.2.5',
  '16.1.4',
  '16.1.5',
];

interface Control {
  ref: string;
  kind: string;
  guidance: { providerGuidance?: string | null; customerGuidance?: string | null; guidanceNote?: string; source?: string; sourceNote?: string };
}

t.test('ISO/IEC 27017: 7 CLD controls and exactly the 37 clauses X.1631 gives cloud guidance for', async (t) => {
  t.equal(X1631_GUIDANCE.length, 37);
  const app = await testApp(t);
  const a = await signup(app);
  const get = getter(t, app, a.auth);

  // Every page, small ones, so the listing is read the way a client pages it.
  const items: Control[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const body: { items: Control[]; nextCursor: string | null } = await get(
      `/api/v1/frameworks/iso27017-2015/controls?limit=10${cursor ? `&cursor=${cursor}` : ''}`,
    );
    items.push(...body.items);
    cursor = body.nextCursor;
    pages++;
  } while (cursor && pages < 50);
  t.equal(items.length, 44, '7 + 37 items');
  t.same(
    items.filter((c) => c.kind === 'cloud_control').map((c) => c.ref),
    CLD,
  );
  const guidance = items.filter((c) => c.kind === 'cloud_guidance');
  t.same(
    guidance.map((c) => c.ref),
    X1631_GUIDANCE,
    'exactly the pinned clauses, in clause order',
  );
  t.same(
    items.filter((c) => c.kind !== 'cloud_control' && c.kind !== 'cloud_guidance'),
    [],
  );
  t.same(
    items.filter((c) => RETIRED.includes(c.ref)),
    [],
    'none of the 33 retired items',
  );

  t.test('each item names its clause and how it was read', async (t) => {
    for (const c of guidance) {
      if (c.guidance.source !== `x1631:${c.ref}` || !/^(read in X\.1631 p\.\d|per issue #20)/.test(c.guidance.sourceNote ?? '')) {
        t.fail(`${c.ref}: source ${c.guidance.source}, note ${c.guidance.sourceNote}`);
      }
    }
    t.notOk(
      items.some((c) => c.guidance.source === 'csa-ccm-citation'),
      'no item rests on a CSA CCM citation',
    );
    t.match(guidance.find((c) => c.ref === '9.2.2')!.guidance, { source: 'x1631:9.2.2', sourceNote: 'read in X.1631 p.1065' });
  });

  t.test('one-sided guidance shows an empty side, said in words, not invented text', async (t) => {
    for (const c of guidance) {
      const empty = ONE_SIDED[c.ref];
      const side = (s: 'provider' | 'customer') => c.guidance[`${s}Guidance`];
      if (!empty) {
        t.ok(side('provider') && side('customer') && c.guidance.guidanceNote === undefined, `${c.ref} has guidance on both sides`);
        continue;
      }
      const other = empty === 'provider' ? 'customer' : 'provider';
      t.equal(side(empty), null, `${c.ref}: no ${empty} text`);
      t.ok(side(other), `${c.ref}: ${other} text kept`);
      t.equal(c.guidance.guidanceNote, `No additional implementation guidance for the cloud service ${empty}.`, `${c.ref} says so`);
    }
    const detail = await get('/api/v1/frameworks/iso27017-2015/controls/9.1.2');
    t.match(detail.guidance, {
      providerGuidance: null,
      customerGuidance: String,
      guidanceNote: 'No additional implementation guidance for the cloud service provider.',
    });
  });

  t.test('the crosswalk to 27001:2022 covers every item and no retired one', async (t) => {
    const cw = await get('/api/v1/crosswalk?from=iso27017-2015&to=iso27001-2022');
    const from = new Set(cw.items.map((l: { from: string }) => l.from));
    t.same(
      [...CLD, ...X1631_GUIDANCE].filter((r) => !from.has(r)),
      [],
      'every item has a 27001:2022 home',
    );
    t.same(
      [...from].filter((r) => ![...CLD, ...X1631_GUIDANCE].includes(r as string)),
      [],
      'no link from a retired item',
    );
    t.ok(cw.items.some((l: { from: string; to: string }) => l.from === '12.4.3' && l.to === 'A.8.15'));
  });

  t.test('reports count 7 CLD controls and 37 guidance items', async (t) => {
    const readiness = await get('/api/v1/reports/iso27017-readiness');
    t.equal(readiness.summary.cloudControls.total, 7);
    t.equal(readiness.summary.cloudGuidance.total, 37);
    t.same(
      readiness.items.filter((i: { kind: string }) => i.kind === 'cloud_guidance').map((i: { ref: string }) => i.ref),
      X1631_GUIDANCE,
    );
    const item = (ref: string) => readiness.items.find((i: { ref: string }) => i.ref === ref);
    t.same(item('9.2.2').guidanceFor, ['provider']);
    t.same(item('9.1.2').guidanceFor, ['customer']);
    t.same(item('12.4.1').guidanceFor, ['provider', 'customer']);
    t.same(item('CLD.9.5.1').guidanceFor, ['provider', 'customer']);

    // The SoA lists what an organization answers: Annex A and the CLD controls; guidance items never appear there.
    const soa = await get('/api/v1/reports/soa');
    t.equal(soa.rows.length, 93 + 7);
    t.same(
      soa.rows.filter((r: { framework: string }) => r.framework === 'iso27017-2015').map((r: { ref: string }) => r.ref),
      CLD,
    );
  });

  t.test("a provider-only guidance item does not ask for the customer's statement", async (t) => {
    const put = (ref: string) =>
      app.inject({
        method: 'PUT',
        url: `/api/v1/controls/${ref}`,
        headers: a.auth,
        payload: { applicable: true, status: 'implemented', implementation: 'Done.', responsibility: 'shared' },
      });
    t.equal((await put('A.5.18')).statusCode, 200, '9.2.2 maps to A.5.18');
    t.equal((await put('A.8.15')).statusCode, 200, '12.4.1 maps to A.8.15');
    const readiness = await get('/api/v1/reports/iso27017-readiness');
    const item = (ref: string) => readiness.items.find((i: { ref: string }) => i.ref === ref);
    t.match(item('9.2.2'), { answered: true, implemented: true, ready: true, gaps: [] });
    t.same(item('12.4.1').gaps, ['missing_customer_statement'], 'a two-sided item still does');
  });
});
