import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import {
  checkValue,
  countriesOf,
  factSentence,
  formatList,
  groupOf,
  inGroup,
  normalizeCountry,
  profileCatalog,
  regionCountry,
} from '../../../src/modules/profile/index.js';
import { lookupKey } from '../../../src/modules/profile/regions.js';

const REQUIRED: Record<string, string> = {
  'company.legal_name': 'string',
  'company.headquarters': 'string',
  'company.website': 'string',
  'company.security_contact_email': 'string',
  'company.employee_count': 'number',
  'hosting.providers': 'string_list',
  'hosting.regions': 'string_list',
  'data.storage_countries': 'string_list',
  'data.processes_phi': 'boolean',
  'data.processes_cardholder_data': 'boolean',
  'data.processes_biometric_data': 'boolean',
  'ai.product_uses_ai': 'boolean',
  'ai.trains_on_customer_data': 'boolean',
  'incidents.reportable_breach_last_36_months': 'boolean',
  'services.offers_consulting': 'boolean',
  'services.on_premises_option': 'boolean',
  'services.single_tenant_option': 'boolean',
  'bcdr.rto_hours': 'number',
  'bcdr.rpo_minutes': 'number',
  'pentest.frequency': 'string',
};

t.test('the catalog holds the contract keys with their types, units and phrases', async (t) => {
  const { items, byKey } = profileCatalog();
  for (const [key, type] of Object.entries(REQUIRED)) t.equal(byKey.get(key)?.type, type, key);
  t.ok(items.length >= 30 && items.length <= 50, `${items.length} keys`);
  for (const f of items) {
    t.ok(f.label && f.description && f.phrase, `${f.key} has a label, description and phrase`);
    if (f.type === 'number' && !['company.founded_year'].includes(f.key)) t.ok(f.unit, `${f.key} has a unit`);
    if (f.type === 'boolean') t.ok(f.phraseFalse, `${f.key} says the false case`);
    else t.ok(f.phrase.includes('{value}'), `${f.key} phrase places the value`);
  }
  t.equal(byKey.get('bcdr.rto_hours')?.unit, 'hours');
  t.equal(byKey.get('bcdr.rpo_minutes')?.unit, 'minutes');
});

t.test('values are checked against their type', async (t) => {
  t.same(checkValue('boolean', true), { value: true, errors: [] });
  t.match(checkValue('boolean', 'yes').errors, [{ field: 'body/value' }]);
  t.match(checkValue('number', '4').errors, [{ field: 'body/value' }]);
  t.match(checkValue('number', 2.5, { integer: true }).errors, [{ message: /whole/ }]);
  t.match(checkValue('number', -1, { min: 0 }).errors, [{ message: /at least 0/ }]);
  t.same(checkValue('string_list', [' Ireland ', 'ireland', 'Germany']).value, ['Ireland', 'Germany'], 'trimmed, duplicates dropped');
  t.match(checkValue('string_list', 'Ireland').errors, [{ field: 'body/value' }]);
  t.match(checkValue('string_list', ['ok', 3]).errors, [{ field: 'body/value/1' }]);
  t.same(checkValue('date', '2026-05-22').value, '2026-05-22');
  t.match(checkValue('date', '2026-02-30').errors, [{ field: 'body/value' }], 'no 30 February');
  t.match(checkValue('string', '   ').errors, [{ message: /empty/ }]);
  t.match(checkValue('string', 'not an address', { format: 'email' }).errors, [{ message: /e-mail/ }]);
  t.same(checkValue('string', 'example.com', { format: 'url' }).errors, [], 'a bare domain is a website');
  t.match(checkValue('string', 'javascript:alert(1)', { format: 'url' }).errors, [{ message: /web address/ }]);
});

t.test('the demo profile fills every catalog key with a value of the right type', async (t) => {
  const demo = JSON.parse(fs.readFileSync(path.resolve('seeds/demo/profile.json'), 'utf8')) as {
    facts: Array<{ key: string; value: unknown; visibility: string; question?: string }>;
  };
  const byKey = new Map(demo.facts.map((f) => [f.key, f]));
  for (const entry of profileCatalog().items) {
    const f = byKey.get(entry.key);
    if (!t.ok(f, `${entry.key} is in the demo profile`)) continue;
    t.same(checkValue(entry.type, f!.value, entry).errors, [], `${entry.key} is a valid ${entry.type}`);
    t.ok(['public', 'private'].includes(f!.visibility));
  }
  for (const f of demo.facts.filter((x) => x.key.startsWith('custom.'))) t.ok(f.question, `${f.key} carries its question`);
  const facts = new Map(demo.facts.map((f) => [f.key, { value: f.value }]));
  t.same(countriesOf(facts), ['Ireland', 'United States', 'Germany']);
  t.equal(byKey.get('data.processes_phi')!.value, false);
  t.equal(byKey.get('data.processes_cardholder_data')!.value, false);
  t.equal(byKey.get('data.processes_biometric_data')!.value, false);
});

t.test('regions and countries', async (t) => {
  t.equal(regionCountry('eu-central-1'), 'Germany');
  t.equal(regionCountry('us-east-1'), 'United States');
  t.equal(regionCountry('westeurope'), 'Netherlands');
  t.equal(regionCountry('West Europe'), 'Netherlands', 'Azure display names');
  t.equal(regionCountry('Azure West Europe'), 'Netherlands', 'with the provider first');
  t.equal(regionCountry('europe-west1'), 'Belgium');
  t.equal(regionCountry('Google Cloud europe-west3'), 'Germany');
  t.equal(regionCountry('aws:eu-west-1'), 'Ireland');
  t.equal(regionCountry('AWS eu-west-2 (London)'), 'United Kingdom');
  t.equal(regionCountry('GRA11'), 'France', 'OVH zones with their number');
  t.equal(regionCountry('OVHcloud BHS5'), 'Canada');
  t.equal(regionCountry('fsn1'), 'Germany', 'Hetzner');
  t.equal(regionCountry('cn-north-1'), 'China');
  t.equal(regionCountry('me-central-1'), 'United Arab Emirates', 'AWS me-central-1 ...');
  t.equal(regionCountry('me-central1'), 'Qatar', '... is not Google me-central1');
  t.equal(regionCountry('our own rack (Frankfurt, Germany)'), 'Germany', 'a country named in the text');
  t.equal(regionCountry('somewhere'), undefined);

  t.equal(normalizeCountry('USA'), 'United States');
  t.equal(normalizeCountry('U.S.'), 'United States');
  t.equal(normalizeCountry('United States of America'), 'United States');
  t.equal(normalizeCountry('the UK'), 'United Kingdom');
  t.equal(normalizeCountry('Great Britain'), 'United Kingdom');
  t.equal(normalizeCountry('PRC'), 'China');
  t.equal(normalizeCountry('mainland China'), 'China');
  t.equal(normalizeCountry('Atlantis'), 'Atlantis', 'unknown names pass through');
  t.equal(groupOf('EU'), 'European Union');
  t.equal(groupOf('EEA'), 'European Economic Area');
  t.equal(groupOf('Germany'), undefined);
  t.ok(inGroup('Germany', 'EU'));
  t.ok(inGroup('Norway', 'EEA'));
  t.notOk(inGroup('Norway', 'EU'));
  t.notOk(inGroup('United States', 'European Union'));

  t.same(
    countriesOf(
      new Map([
        ['data.storage_countries', { value: ['USA', 'Ireland'] }],
        ['hosting.regions', { value: ['us-east-1', 'eu-central-1', 'unknown-9'] }],
      ]),
    ),
    ['United States', 'Ireland', 'Germany'],
    'storage countries first, regions added, unknown regions left out',
  );
  t.same(countriesOf({}), []);
  t.equal(formatList(['Ireland', 'United States', 'Germany'], { countries: true }), 'Ireland, the United States and Germany');
  t.equal(formatList(['AWS']), 'AWS');
});

t.test('the region table is unambiguous per provider and every country is known', async (t) => {
  const raw = JSON.parse(fs.readFileSync(path.resolve('seeds/cloud-regions.json'), 'utf8')) as {
    regions: Record<string, Record<string, { country: string }>>;
    countries: Record<string, string[]>;
    groups: Record<string, { members: string[] }>;
  };
  const known = new Set([...Object.keys(raw.countries), ...Object.values(raw.groups).flatMap((g) => g.members)]);
  let n = 0;
  for (const [provider, regions] of Object.entries(raw.regions)) {
    const seen = new Map<string, string>();
    for (const [code, r] of Object.entries(regions)) {
      n++;
      t.ok(known.has(r.country), `${provider} ${code}: ${r.country} is a known country`);
      const k = lookupKey(code);
      t.notOk(seen.has(k) && seen.get(k) !== r.country, `${provider} ${code} is unambiguous`);
      seen.set(k, r.country);
    }
  }
  t.ok(n >= 60, `${n} regions`);
  t.equal(raw.groups['European Union']!.members.length, 27);
});

t.test('facts as sentences', async (t) => {
  const { byKey } = profileCatalog();
  const rto = byKey.get('bcdr.rto_hours')!;
  t.equal(factSentence({ ...rto, value: 4 }), 'Our recovery time objective is 4 hours.');
  const phi = byKey.get('data.processes_phi')!;
  t.equal(factSentence({ ...phi, value: false }), 'We do not process protected health information (PHI).');
  t.equal(factSentence({ ...phi, value: true }), 'We process protected health information (PHI).');
  const countries = byKey.get('data.storage_countries')!;
  t.equal(factSentence({ ...countries, value: ['Ireland', 'United States', 'Germany'] }), 'Customer data is stored in Ireland, the United States and Germany.');
  const date = byKey.get('pentest.last_date')!;
  t.equal(factSentence({ ...date, value: '2026-05-22' }), 'Our most recent penetration test was completed on 22 May 2026.');
  t.equal(factSentence({ type: 'number', value: 3, label: 'Offices', unit: undefined, phrase: undefined, phraseFalse: undefined }), 'Offices: 3.');
  t.equal(factSentence({ ...byKey.get('company.legal_name')!, value: 'A $& B' }), 'Our legal entity is A $& B.', 'replacement patterns are not interpreted');
});
