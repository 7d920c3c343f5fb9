import t from 'tap';
import { profileCatalog } from '../../../src/modules/profile/index.js';
import { testApp, type Tenant } from '../../helpers/app.js';

// Seeding the demo organization takes a while: its own file, so it has its own time budget.
const NO_WORKERS = { jobs: { worker: false }, webhooks: { worker: false }, expiryScanIntervalMs: 0 };

t.test('the demo organization has a complete profile', async (t) => {
  const app = await testApp(t, { config: { seedDemo: true }, options: NO_WORKERS });
  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'owner@demo.example.com', password: 'Demo-Password-2026!' } });
  t.equal(login.statusCode, 200, login.body);
  const demo = { auth: { authorization: `Bearer ${login.json().accessToken}` } } as Tenant;
  const profile = (await app.inject({ method: 'GET', url: '/api/v1/profile', headers: demo.auth })).json() as {
    facts: Array<{ key: string; value: unknown; type: string }>;
    missing: string[];
  };
  t.same(profile.missing, [], 'every catalog key has a value');
  for (const entry of profileCatalog().items) t.equal(profile.facts.find((f) => f.key === entry.key)?.type, entry.type, entry.key);
  const byKey = new Map(profile.facts.map((f) => [f.key, f]));
  t.same(byKey.get('data.storage_countries')?.value, ['Ireland', 'United States', 'Germany']);
  for (const k of ['data.processes_phi', 'data.processes_cardholder_data', 'data.processes_biometric_data']) t.equal(byKey.get(k)?.value, false, k);
  const pub = await app.inject({ method: 'GET', url: '/api/v1/public/trust/demo' });
  t.ok(pub.json().facts.length >= 20, 'most facts are public on the demo trust page');
  t.notOk(
    pub.json().facts.some((f: { key: string }) => f.key === 'incidents.reportable_breach_last_36_months'),
    'the breach history stays private',
  );
});
