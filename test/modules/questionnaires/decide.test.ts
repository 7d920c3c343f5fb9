import t from 'tap';
import {
  bearingSentences,
  inList,
  listMeaning,
  matchOption,
  sentences,
  settleByFact,
  stateFact,
  type FactMap,
  type FactValue,
} from '../../../src/modules/questionnaires/decide.js';
import { evalCondition } from '../../../src/modules/questionnaires/service.js';
import {
  calibrationFrom,
  customFact,
  factByKeyword,
  gateFor,
  geo,
  narrowerThanAsked,
  onePeriodOfSeveral,
  quantityClash,
  unmentioned,
} from '../../../src/modules/questionnaires/answering.js';
import { understand, type Understanding } from '../../../src/modules/questionnaires/understand.js';

const fact = (key: string, type: FactValue['type'], value: unknown, extra: Partial<FactValue> = {}): FactValue => ({ key, type, value, version: 1, ...extra });
const factsOf = (...fs: FactValue[]): FactMap => new Map(fs.map((f) => [f.key, f]));
const yesNo = (facts: Understanding['facts']): Understanding => ({
  kind: 'scope',
  yesNo: true,
  polarity: 'normal',
  facts,
  parts: [],
  customerSide: false,
  leadClauseStripped: '',
  answerShape: 'yes_no',
});

t.test('list meanings: words, VSAQ option keys, sentences that open with yes or no', async (t) => {
  t.same(listMeaning(['Yes', 'No', 'N/A']), { values: ['Yes', 'No', 'N/A'], yes: 'Yes', no: 'No', na: 'N/A' });
  t.equal(listMeaning(['Y', 'N'])?.yes, 'Y');
  t.equal(listMeaning([]), undefined);
  t.equal(listMeaning(null), undefined);
  const vsaq = listMeaning(
    ['We encrypt everything.', 'We do not encrypt.'],
    [
      { key: 'enc_yes', label: 'We encrypt everything.' },
      { key: 'enc_no', label: 'We do not encrypt.' },
    ],
  );
  t.equal(vsaq?.yes, 'We encrypt everything.');
  t.equal(vsaq?.no, 'We do not encrypt.');
  const prose = listMeaning(['Yes, every quarter.', 'No, not yet.', 'Something else']);
  t.equal(prose?.yes, 'Yes, every quarter.');
  t.equal(prose?.no, 'No, not yet.');
  t.equal(inList('partial', listMeaning(['Yes', 'No'])), undefined, 'no Partial in a Yes/No list');
  t.equal(inList('yes', undefined), 'yes', 'no list: the generic word');
  t.equal(inList('n/a', listMeaning(['Yes', 'No', 'Not applicable'])), 'Not applicable');
});

t.test('options named by a fact: synonyms, and nothing when two options match', async (t) => {
  const hosting = ['Self-Managed', 'AWS', 'Azure', 'GCP', 'Hybrid/Other'];
  t.equal(matchOption(hosting, 'Amazon Web Services'), 'AWS');
  t.equal(matchOption(hosting, 'Google Cloud'), 'GCP');
  t.equal(matchOption(hosting, 'Microsoft Azure'), 'Azure');
  t.equal(matchOption(hosting, 'Hetzner'), undefined);
  t.equal(matchOption(['Annually', 'Quarterly', 'Never'], 'once a year'), 'Annually');
  t.equal(matchOption(['Google', 'Google Cloud'], 'GCP'), undefined, 'ambiguous: two options match');
  t.equal(matchOption(['Google', 'Google Cloud'], 'Google Cloud'), 'Google Cloud', 'unless one is the value itself');
});

t.test('the sentences that bear on a question, in their own order', async (t) => {
  const statement =
    'We run a vulnerability scanner every week. All laptops use full-disk encryption. Backups are encrypted with AES-256. Staff attend yearly training.';
  t.equal(sentences(statement).length, 4);
  const b = bearingSentences('Are backups encrypted?', statement);
  t.match(b.text, /Backups are encrypted/);
  t.notMatch(b.text, /training/);
  t.ok(b.overlap > 0.5);
  t.equal(bearingSentences('anything', '').text, '');
  t.equal(bearingSentences('What is the colour of the sky?', statement).overlap, 0);
});

t.test('continents: Europe and North America have members, a country partly in one decides nothing, a region without members abstains', async (t) => {
  const storedIn = (...countries: string[]) => factsOf(fact('data.storage_countries', 'string_list', countries));
  const inPlace = (country: string, extra: Partial<Understanding['facts'][number]> = {}) =>
    yesNo([{ key: 'data.storage_countries', test: 'contains', country, ...extra }]);
  t.match(settleByFact(inPlace('Europe', { quantifier: 'all' }), storedIn('Sweden', 'Germany', 'Ireland'), geo), { choice: 'yes' }, 'all in Europe');
  t.match(
    settleByFact(inPlace('Europe', { negated: true }), storedIn('Sweden', 'United Kingdom'), geo),
    { choice: 'no' },
    'the UK and Switzerland are in Europe',
  );
  t.match(settleByFact(inPlace('Europe'), storedIn('United States'), geo), { choice: 'no' });
  t.match(settleByFact(inPlace('North America'), storedIn('Canada', 'Germany'), geo), { choice: 'yes' });
  // Russia lies partly in Europe: "is data stored in Europe" is still a yes through Germany, but
  // "all in Europe" and "any outside Europe" are not settled by the table.
  t.match(settleByFact(inPlace('Europe'), storedIn('Russia', 'Germany'), geo), { choice: 'yes' });
  t.match(settleByFact(inPlace('Europe', { quantifier: 'all' }), storedIn('Russia', 'Germany'), geo), { abstain: /Russia lies only partly in Europe/ });
  t.match(settleByFact(inPlace('Europe', { negated: true }), storedIn('Russia'), geo), { abstain: /Russia lies only partly in Europe/ });
  t.match(settleByFact(inPlace('Europe', { quantifier: 'all' }), storedIn('Russia', 'United States'), geo), { choice: 'no' }, 'the US decides it');
  // Understanding knows "Asia Pacific" as a region; the table lists no members for it (its aliases
  // mix Asia with Oceania), so neither answer is safe.
  t.match(settleByFact(inPlace('Asia Pacific'), storedIn('Australia'), geo), { abstain: /lists no countries for "Asia Pacific"/ });
  t.match(settleByFact(inPlace('Asia Pacific', { negated: true }), storedIn('Germany'), geo), { abstain: /Asia Pacific/ });
});

t.test('several providers at once join by "and" or "or"; two numbers are not one comparison', async (t) => {
  const facts = factsOf(
    fact('hosting.providers', 'string_list', ['Amazon Web Services']),
    fact('bcdr.rto_hours', 'number', 8, { unit: 'hours' }),
    fact('company.employee_count', 'number', 148),
  );
  const settle = (text: string) => settleByFact({ ...understand({ text }), leadClauseStripped: text }, facts, geo);
  t.match(settle('Are you hosted on both AWS and Azure?'), { choice: 'no' }, 'both: every one must be listed');
  t.match(settle('Are you hosted on AWS or Azure?'), { choice: 'yes' }, 'or: one is enough');
  t.match(settle('Do you use AWS, Azure?'), { abstain: /without saying whether all or any/ });
  t.match(settle('Is the service hosted on AWS?'), { choice: 'yes' });
  // 8 hours is between 4 and 12; read as "= 12" it was a wrong "No".
  t.match(settle('Is the RTO between 4 and 12 hours?'), { abstain: 'the question compares with more than one number' });
  t.match(settle('Does your company employ more than 100 but fewer than 200 people?'), { abstain: /more than one number/ });
  t.match(settle('Is your RTO 24 hours or less?'), { choice: 'yes' });
});

t.test('a control\'s "yes" must meet the cadence or period the question names, as its statement states it', async (t) => {
  const keys = 'All customer data is encrypted at rest with AES-256, and keys are rotated every year. Traffic uses TLS 1.2 or higher.';
  const vulns = 'Production hosts are scanned weekly. Critical findings are fixed within 7 days and high findings within 30 days. Exceptions need approval.';
  const logs = 'Audit logs go to a central platform that engineers cannot modify. Logs are kept for 12 months.';
  const ok = (q: string, statement: string) => t.equal(quantityClash(q, statement), undefined, q);
  const clash = (q: string, statement: string, why: RegExp) => t.match(quantityClash(q, statement), why, q);
  clash('Do you rotate encryption keys every 90 days?', keys, /lower frequency/);
  ok('Are encryption keys rotated at least annually?', keys);
  clash('Do you scan production hosts for vulnerabilities daily?', vulns, /lower frequency/);
  ok('Are production hosts scanned weekly?', vulns);
  clash('Are critical vulnerabilities remediated within 24 hours?', vulns, /another period/);
  ok('Are critical vulnerabilities patched within 14 days?', vulns); // the critical clause, not the high one
  clash('Are high findings fixed within 14 days?', vulns, /another period/);
  clash('Do you retain logs for 7 years?', logs, /another period/);
  ok('Are logs retained for a minimum of 90 days?', logs);
  ok('Do you keep logs for a year?', logs); // "for a year" is a period (12 months), not a cadence
  clash('Do you rotate keys every 90 days?', 'Keys live in a managed key service.', /does not say/);
  ok('Are keys rotated?', keys); // nothing asked about how often
});

t.test('a yes from a fact claims no more than the fact: a condition the question adds goes to a person; a no stands', async (t) => {
  const facts = factsOf(fact('ai.product_uses_ai', 'boolean', true), fact('data.processes_phi', 'boolean', false));
  const asked = (text: string, key: string) => ({ ...yesNo([{ key, test: 'boolean' }]), leadClauseStripped: text });
  t.match(settleByFact(asked('Does the product offer AI features that customers can switch off?', 'ai.product_uses_ai'), facts, geo), {
    abstain: 'the question adds a condition the profile fact does not speak to',
  });
  t.match(settleByFact(asked('Is AI used by default?', 'ai.product_uses_ai'), facts, geo), { abstain: /adds a condition/ });
  t.match(settleByFact(asked('Does your product use AI?', 'ai.product_uses_ai'), facts, geo), { choice: 'yes' });
  t.match(
    settleByFact(asked('Do you process PHI only when customers consent?', 'data.processes_phi'), facts, geo),
    { choice: 'no' },
    'no PHI at all: no under any condition',
  );
});

t.test('scope questions settled by facts: booleans, membership through regions and groups, comparisons', async (t) => {
  const facts = factsOf(
    fact('data.processes_phi', 'boolean', false),
    fact('data.storage_countries', 'string_list', ['Germany', 'United States']),
    fact('hosting.regions', 'string_list', ['eu-west-1']),
    fact('bcdr.rto_hours', 'number', 8, { unit: 'hours' }),
    fact('bcdr.rpo_minutes', 'number', 60, { unit: 'minutes' }),
  );
  t.match(settleByFact(yesNo([{ key: 'data.processes_phi', test: 'boolean' }]), facts, geo), { choice: 'no' });
  t.match(settleByFact(yesNo([{ key: 'data.processes_phi', test: 'boolean', negated: true }]), facts, geo), { choice: 'yes' });
  t.match(settleByFact(yesNo([{ key: 'data.processes_cardholder_data', test: 'boolean' }]), facts, geo), { abstain: /data\.processes_cardholder_data/ });
  t.match(settleByFact(yesNo([{ key: 'data.storage_countries', test: 'contains', country: 'China' }]), facts, geo), { choice: 'no' });
  t.match(settleByFact(yesNo([{ key: 'data.storage_countries', test: 'contains', country: 'USA' }]), facts, geo), { choice: 'yes' });
  t.match(
    settleByFact(yesNo([{ key: 'data.storage_countries', test: 'contains', country: 'Ireland' }]), facts, geo),
    { choice: 'yes' },
    'eu-west-1 is in Ireland',
  );
  t.match(
    settleByFact(yesNo([{ key: 'data.storage_countries', test: 'contains', country: 'European Union', negated: true }]), facts, geo),
    { choice: 'yes' },
    'the US is outside the EU',
  );
  t.match(settleByFact(yesNo([{ key: 'bcdr.rto_hours', test: 'compare', op: '<=', number: 24, unit: 'hours' }]), facts, geo), { choice: 'yes' });
  t.match(settleByFact(yesNo([{ key: 'bcdr.rto_hours', test: 'compare', op: '<=', number: 4, unit: 'hours' }]), facts, geo), { choice: 'no' });
  t.match(
    settleByFact(yesNo([{ key: 'bcdr.rpo_minutes', test: 'compare', op: '<', number: 2, unit: 'hours' }]), facts, geo),
    { choice: 'yes' },
    'units converted',
  );
  t.match(settleByFact(yesNo([{ key: 'data.storage_countries', test: 'contains', country: 'China' }]), new Map(), geo), { abstain: /storage_countries/ });
  t.same(geo.countries(facts).sort(), ['Germany', 'Ireland', 'United States']);
  t.match(settleByFact(yesNo([{ key: 'data.storage_countries', test: 'contains', country: 'China' }]), facts, geo), {
    text: 'Customer data is stored in Germany, the United States and Ireland.',
  });
});

t.test('facts stated in words; custom facts answer their own question only', async (t) => {
  t.equal(
    stateFact(fact('bcdr.rto_hours', 'number', 8, { phrase: 'Our recovery time objective is {value}.', unit: 'hours' })),
    'Our recovery time objective is 8 hours.',
  );
  t.equal(
    stateFact(fact('hosting.providers', 'string_list', ['AWS', 'Hetzner', 'OVH'], { label: 'Hosting providers' })),
    'Hosting providers: AWS, Hetzner and OVH.',
  );
  const facts = factsOf(fact('custom.dpo_name', 'string', 'Dana Example', { question: 'Who is your data protection officer?' }));
  t.equal(customFact('Who is your data protection officer?', facts)?.key, 'custom.dpo_name');
  t.equal(customFact('Do you have a firewall?', facts), undefined);
});

t.test('gates: a section the profile switches off', async (t) => {
  const facts = factsOf(fact('data.processes_phi', 'boolean', false), fact('ai.product_uses_ai', 'boolean', true));
  t.match(gateFor({ id: '1', text: 'Do you sign BAAs?', sheet: 'Case-Specific', section: 'HIPAA Compliance' }, facts), { fact: { key: 'data.processes_phi' } });
  t.equal(
    gateFor({ id: '2', text: 'Is AI output reviewed?', sheet: 'AI', section: 'General AI Questions' }, facts),
    undefined,
    'AI is used: the section applies',
  );
  t.equal(gateFor({ id: '3', text: 'Do you encrypt?', section: 'Data' }, facts), undefined);
  t.equal(gateFor({ id: '4', text: 'Is it PCI?', section: 'PCI DSS' }, facts), undefined, 'no fact: no gate');
});

t.test('VSAQ conditions, in three-valued logic', async (t) => {
  const truth = new Map([
    ['a_yes', true],
    ['a_no', false],
    ['b', true],
  ]);
  t.equal(evalCondition('a_yes', truth), true);
  t.equal(evalCondition('a_no', truth), false);
  t.equal(evalCondition('a_yes && !b', truth), false);
  t.equal(evalCondition('(a_no || b) && a_yes', truth), true);
  t.equal(evalCondition('c_yes', truth), undefined, 'an unanswered item is unknown: nothing hidden');
  t.equal(evalCondition('c_yes && a_no', truth), false, 'false and unknown is false');
  t.equal(evalCondition('c_yes || b', truth), true, 'true or unknown is true');
  t.equal(evalCondition('!c_yes', truth), undefined);
  t.equal(evalCondition('a_yes &&', truth), undefined, 'unreadable: nothing hidden');
  t.equal(evalCondition('a_yes $ b', truth), undefined);
});

t.test("calibration maps a path's raw score to a measured probability", async (t) => {
  const c = calibrationFrom({
    draftThreshold: 0.9,
    paths: {
      p: [
        [0, 0.2],
        [0.5, 0.7],
        [0.8, 0.96],
      ],
    },
    fallback: 0.4,
  });
  t.equal(c.probability('p', 0.1), 0.2);
  t.equal(c.probability('p', 0.6), 0.7);
  t.equal(c.probability('p', 0.95), 0.96);
  t.equal(c.probability('unknown', 0.9), 0.4, 'an unfitted path never claims more than the fallback');
  t.equal(c.draftThreshold, 0.9);
});

t.test("fact questions routed by the catalog's keywords", async (t) => {
  t.equal(factByKeyword('Solution Provider Name'), 'company.legal_name');
  t.equal(factByKeyword('Where is your head office?'), 'company.headquarters');
  t.equal(factByKeyword('Do you encrypt backups?'), undefined);
  t.ok(geo.inGroup('Germany', 'EU'));
  t.equal(geo.normalize('USA'), 'United States');
});

t.test('options that are intervals, places or words inside a value', async (t) => {
  const { matchNumberOption, matchPlaceOption, optionRange } = await import('../../../src/modules/questionnaires/decide.js');
  t.same(optionRange('51-200'), [51, 200]);
  t.same(optionRange('1,001 to 5,000'), [1001, 5000]);
  t.same(optionRange('500+'), [500, Infinity]);
  t.equal(optionRange('Annually'), undefined);
  t.equal(matchNumberOption(['1-50', '51-200', '201-1000', '1000+'], 140), '51-200');
  t.equal(matchNumberOption(['Less than 4 hours', '4-24 hours', 'More than 24 hours'], 8, 'hours'), '4-24 hours');
  t.equal(matchNumberOption(['Under 1 hour', '1-4 hours', 'Over 4 hours'], 30, 'minutes'), 'Under 1 hour', 'units converted');
  t.equal(matchNumberOption(['Less than 4 hours', 'More than 24 hours'], 8, 'hours'), undefined, 'no interval holds it');
  t.equal(matchPlaceOption(['United States', 'EU/EEA', 'Other'], ['Germany', 'Ireland'], geo), 'EU/EEA');
  t.equal(matchPlaceOption(['United States', 'EU/EEA', 'Other'], ['Germany', 'United States'], geo), undefined, 'no single option holds both');
  t.equal(matchOption(['Norway', 'Sweden', 'Denmark'], 'Stockholm, Sweden'), 'Sweden');
  t.equal(matchOption(['Annually', 'Semi-annually', 'Quarterly'], 'Annually'), 'Annually', 'the exact value wins');
  // Another offering of the same provider is not the provider our fact names.
  t.equal(matchOption(['AWS GovCloud', 'Microsoft Azure'], 'Amazon Web Services'), undefined, 'AWS GovCloud is not AWS');
  t.equal(matchOption(['Microsoft Azure Government', 'Google Cloud'], 'Microsoft Azure'), undefined);
  t.equal(matchOption(['AWS (Amazon Web Services)', 'Azure'], 'Amazon Web Services'), 'AWS (Amazon Web Services)', 'two names of one provider');
  t.equal(matchOption(['Amazon Web Services', 'AWS GovCloud'], 'AWS'), 'Amazon Web Services');
});

t.test('a narrower question is not settled by a broader true fact; "only in" means every country', async (t) => {
  const facts = factsOf(fact('ai.product_uses_ai', 'boolean', true), fact('data.storage_countries', 'string_list', ['Sweden', 'Germany']));
  const u = (need: Understanding['facts'][number], text: string): Understanding => ({ ...yesNo([need]), leadClauseStripped: text });
  t.match(settleByFact(u({ key: 'ai.product_uses_ai', test: 'boolean' }, 'Does the product use a large language model?'), facts, geo), { abstain: /narrower/ });
  t.match(settleByFact(u({ key: 'ai.product_uses_ai', test: 'boolean' }, 'Does the product use AI?'), facts, geo), { choice: 'yes' });
  t.match(settleByFact(u({ key: 'data.storage_countries', test: 'contains', country: 'Sweden' }, 'Is data stored exclusively in Sweden?'), facts, geo), {
    choice: 'no',
  });
  t.match(settleByFact(u({ key: 'data.storage_countries', test: 'contains', country: 'Sweden' }, 'Is data stored in Sweden?'), facts, geo), { choice: 'yes' });
});

t.test('a contrasting profile: certifications by their canonical names, a breach window that holds 36 months, narrower SSO and encryption', async (t) => {
  const facts = factsOf(
    fact('compliance.certifications', 'string_list', ['ISO/IEC 27001:2022', 'SOC 2 Type II']),
    fact('incidents.reportable_breach_last_36_months', 'boolean', true),
    fact('services.supports_sso', 'boolean', true),
    fact('data.encrypted_at_rest', 'boolean', true),
    fact('services.on_premises_option', 'boolean', true),
  );
  const settle = (text: string) => settleByFact({ ...understand({ text }), leadClauseStripped: text }, facts, geo);
  // "ISO 27001" is held as "ISO/IEC 27001:2022": it was a wrong definitive "No".
  t.match(settle('Do you hold an ISO 27001 certificate?'), { choice: 'yes' });
  t.match(settle('Is your company SOC 2 certified?'), { choice: 'yes' });
  t.match(settle('Do you have a SOC 2 Type 2 report?'), { choice: 'yes' });
  t.match(settle('Do you have a SOC 2 Type I report?'), { choice: 'no' }, 'the type held is II');
  t.match(settle('Are you FedRAMP authorized?'), { choice: 'no' });
  const untyped = factsOf(fact('compliance.certifications', 'string_list', ['SOC 2']));
  t.match(
    settleByFact({ ...understand({ text: 'Do you hold a SOC 2 Type II report?' }), leadClauseStripped: 'Do you hold a SOC 2 Type II report?' }, untyped, geo),
    {
      abstain: /which type/,
    },
  );
  // A breach in the last 36 months is one in the last five years; it says nothing of the last 12.
  t.match(settle('Has a breach occurred in the last five years?'), { choice: 'yes' });
  t.match(settle('Have you been breached in the last 36 months?'), { choice: 'yes' });
  t.match(settle('Have you had a data breach in the last 12 months?'), { abstain: /covers 36 months/ });
  const clean = factsOf(fact('incidents.reportable_breach_last_36_months', 'boolean', false));
  const calm = (text: string) => settleByFact({ ...understand({ text }), leadClauseStripped: text }, clean, geo);
  t.match(calm('Have you had a data breach in the last 12 months?'), { choice: 'no' });
  t.match(calm('Has a breach occurred in the last five years?'), { abstain: /covers 36 months/ });
  const asked = (text: string, key: string) => ({ ...yesNo([{ key, test: 'boolean' as const }]), leadClauseStripped: text });
  t.match(settleByFact(asked('Does the product support SAML-based single sign-on?', 'services.supports_sso'), facts, geo), { abstain: /narrower/ });
  t.match(settleByFact(asked('Do you support single sign-on, such as SAML or OIDC?', 'services.supports_sso'), facts, geo), { choice: 'yes' });
  t.match(settleByFact(asked('Do you support single sign-on?', 'services.supports_sso'), facts, geo), { choice: 'yes' });
  t.match(settleByFact(asked('Is data encrypted at rest with AES-256?', 'data.encrypted_at_rest'), facts, geo), { abstain: /narrower/ });
  // The option only qualifies what is asked about: a guide, not whether the option exists.
  t.same(understand({ text: 'Do you publish a hardening guide for the on-premises installation?' }).facts, []);
  t.match(understand({ text: 'Do you offer an on-premises version?' }).facts, [{ key: 'services.on_premises_option' }]);
  t.match(understand({ text: 'Is the product available in an on-premises edition?' }).facts, [{ key: 'services.on_premises_option' }]);
  // Versions and single quantities in the buyer's list.
  t.equal(matchOption(['TLS 1.0', 'TLS 1.1', 'TLS 1.2', 'TLS 1.3'], '1.2'), 'TLS 1.2');
  t.equal(matchOption(['TLS 1.2', 'TLS 1.2 or higher'], '1.2'), undefined, 'two options hold it');
  t.equal(matchOption(['Tier 12', 'Tier 3'], '12'), undefined, 'a bare number is not looked for inside options');
  const { matchNumberOption } = await import('../../../src/modules/questionnaires/decide.js');
  t.equal(matchNumberOption(['24 hours', '48 hours', '72 hours', 'More than 72 hours'], 72, 'hours'), '72 hours');
  t.equal(matchNumberOption(['1', '2', '3'], 2), undefined, 'a bare number may be a rating, not a quantity');
  t.match(understand({ text: 'Countries in which customer data is stored' }).facts, [{ key: 'data.storage_countries' }]);
  t.match(understand({ text: 'Year the company was incorporated' }).facts, [{ key: 'company.founded_year' }]);
});

t.test('a "yes" asked of all is not drafted from a sentence that limits it to some', async (t) => {
  const screening =
    'Before an offer becomes final, we check identity, references and the right to work for every new hire. Staff with production access also receive a criminal record check where local law allows it.';
  t.match(narrowerThanAsked('Do you require a criminal background check for all employees?', screening), /limits it/);
  t.equal(narrowerThanAsked('Do you run criminal record checks on staff with production access?', screening), undefined, 'asked of the same few');
  t.equal(narrowerThanAsked('Do you check the references of new hires?', screening), undefined, 'nothing asked of all');
  const training = 'All staff complete security awareness training when they join and every year after.';
  t.equal(narrowerThanAsked('Do all employees take security awareness training every year?', training), undefined, 'the statement says all too');
  const suppliers = 'Suppliers are tiered by the data they see, and top-tier suppliers are reassessed every year.';
  t.match(narrowerThanAsked('Are all suppliers reassessed every year?', suppliers), /limits it/, 'only a kind of them');
  t.equal(narrowerThanAsked('Are suppliers reassessed every year?', suppliers), undefined, 'nothing asked of all');
});

t.test('a mechanism the question names and the statement never does leaves the yes/no to a person', async (t) => {
  const passwords = "Staff passwords must be at least 14 characters. Product users' passwords are stored only as Argon2id hashes.";
  t.same(unmentioned('Do you hash passwords with bcrypt?', passwords), ['bcrypt']);
  t.same(unmentioned('Are product user passwords hashed with Argon2id?', passwords), []);
  t.same(unmentioned('Do you use a CASB to control SaaS usage?', 'We have chosen a data loss prevention tool.'), ['CASB']);
  // An acronym is said by its spelled-out form from the thesaurus, not by another term of its topic.
  t.same(unmentioned('Is MFA required for staff?', 'Staff sign in with multi-factor authentication.'), []);
  t.same(unmentioned('Do you run a SIEM?', 'Logs go to a central log platform.'), ['SIEM']);
  t.same(
    unmentioned('Are API keys kept out of code? Is PHI encrypted in the US?', 'Secrets live in a vault.'),
    [],
    'interfaces, kinds of data and places are not mechanisms',
  );
  t.same(unmentioned('Does the CSP keep a BCP and an SLA?', 'A continuity plan is kept.'), [], 'nor parties, documents or programmes');
});

t.test('a seventh look at the fit misses: roles, spelled-out mechanisms, one period of several', async (t) => {
  t.match(
    narrowerThanAsked(
      'Are all employees trained in secure coding?',
      'Engineers follow written secure coding guidelines. Engineers also take secure coding training once a year.',
    ),
    /limits it/,
    'engineers are some of the employees',
  );
  t.equal(
    narrowerThanAsked(
      'Do all employees take security awareness training every year?',
      'New staff complete it in their first week, and everyone repeats it every year.',
    ),
    undefined,
    'everyone is all of them',
  );
  t.same(unmentioned('Are encryption keys held in hardware security modules?', 'Keys are held in AWS KMS.'), ['hardware security modules']);
  t.same(unmentioned('Is a web application firewall deployed?', 'Traffic reaches the service only through a web application firewall.'), []);
  const deletion = "When a contract ends, the customer's workspace is deleted within 30 days, and backups holding it expire within a further 35 days.";
  t.match(onePeriodOfSeveral('Within 30 days', deletion), /more than one period/);
  t.equal(onePeriodOfSeveral('Within 30 days', 'The workspace is deleted within 30 days.'), undefined);
  t.equal(onePeriodOfSeveral('Quarterly', deletion), undefined, 'not a period');
});
