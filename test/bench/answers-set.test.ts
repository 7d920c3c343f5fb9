// The labelled set behind `npm run bench:answers` (bench/answers/): its shape, its consistency with
// the ISO/IEC 27001:2022 catalog and the profile keys of DESIGN.md, and that it is our own text.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { referenceRuns, sharedRuns } from '../helpers/own-words.js';

const BENCH = path.resolve('bench', 'answers');

interface Question {
  id: string;
  kind: string;
  text: string;
  section?: string;
  allowedAnswers?: string[];
  split: string;
  expected: { choice: string | null; facts?: string[]; sources?: string[] };
  /** 'contrast': asked of the second organization (contrast-profile.json). */
  profile?: string;
}
interface Organization {
  organization: { name: string; slug: string };
  profile: Array<{ key: string; value: unknown; visibility: string }>;
  controls: Array<{
    ref: string;
    applicable: boolean;
    status: string;
    responsibility: string;
    implementation: string;
    customerStatement?: string;
    justification?: string;
  }>;
}
const questions = (JSON.parse(fs.readFileSync(path.join(BENCH, 'questions.json'), 'utf8')) as { questions: Question[] }).questions;
const org = JSON.parse(fs.readFileSync(path.join(BENCH, 'organization.json'), 'utf8')) as Organization;
const contrast = JSON.parse(fs.readFileSync(path.join(BENCH, 'contrast-profile.json'), 'utf8')) as Pick<Organization, 'organization' | 'profile'>;
const catalogKeys = new Set(
  (JSON.parse(fs.readFileSync(path.resolve('seeds', 'profile-catalog.json'), 'utf8')) as { facts: Array<{ key: string }> }).facts.map((f) => f.key),
);
const catalogRefs = new Set(
  (JSON.parse(fs.readFileSync(path.resolve('seeds', 'catalog', 'iso27001-2022.json'), 'utf8')) as { controls: Array<{ ref: string }> }).controls.map(
    (c) => c.ref,
  ),
);

// The profile keys DESIGN.md promises to outside checks, with their types.
const FACT_TYPES: Record<string, 'string' | 'number' | 'boolean' | 'string[]'> = {
  'company.legal_name': 'string',
  'company.headquarters': 'string',
  'company.website': 'string',
  'company.security_contact_email': 'string',
  'company.employee_count': 'number',
  'hosting.providers': 'string[]',
  'hosting.regions': 'string[]',
  'data.storage_countries': 'string[]',
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
const MINIMUM: Record<string, number> = { practice: 90, risk: 45, scope: 60, fact: 50, option: 40, free_text: 35 };
const YES_NO = new Set(['yes', 'no', 'partial', 'n/a']);

t.test('the labelled questions: counts, ids, splits, expectations', async (t) => {
  t.ok(questions.length >= 320, `${questions.length} questions`);
  const ids = questions.map((q) => q.id);
  t.equal(new Set(ids).size, ids.length, 'ids are unique');
  const texts = questions.map((q) => `${q.profile ?? ''}|${q.text.toLowerCase().trim()}`);
  t.equal(new Set(texts).size, texts.length, 'no question is asked twice of one organization');
  t.same(
    questions.filter((q) => q.profile !== undefined && q.profile !== 'contrast').map((q) => q.id),
    [],
    'profile is absent or contrast',
  );
  for (const [kind, min] of Object.entries(MINIMUM)) {
    const ofKind = questions.filter((q) => q.kind === kind);
    t.ok(ofKind.length >= min, `${kind}: ${ofKind.length} >= ${min}`);
    const fit = ofKind.filter((q) => q.split === 'fit').length;
    t.ok(fit / ofKind.length >= 0.55 && fit / ofKind.length <= 0.65, `${kind}: ${fit} of ${ofKind.length} in 'fit' (about 60%)`);
  }
  const bad: string[] = [];
  for (const q of questions) {
    if (!(q.kind in MINIMUM)) bad.push(`${q.id}: unknown kind ${q.kind}`);
    if (q.split !== 'fit' && q.split !== 'holdout') bad.push(`${q.id}: split ${q.split}`);
    if (!q.text.trim()) bad.push(`${q.id}: empty text`);
    const c = q.expected.choice;
    if (q.allowedAnswers) {
      if (q.allowedAnswers.length < 2 || new Set(q.allowedAnswers).size !== q.allowedAnswers.length) bad.push(`${q.id}: allowedAnswers`);
      if (c !== null && !q.allowedAnswers.includes(c)) bad.push(`${q.id}: expected "${c}" is not one of its allowedAnswers`);
    } else if (c !== null && !YES_NO.has(c)) {
      bad.push(`${q.id}: expected "${c}" without allowedAnswers`);
    }
    if (q.kind === 'option' && !q.allowedAnswers) bad.push(`${q.id}: an option question without allowedAnswers`);
    if (q.kind === 'fact' && !q.expected.facts?.length) bad.push(`${q.id}: a fact question without expected.facts`);
    if ((q.kind === 'fact' || q.kind === 'free_text') && c !== null) bad.push(`${q.id}: ${q.kind} expects a choice`);
    if (c !== null && !q.expected.sources?.length) bad.push(`${q.id}: a settled choice names no source`);
    for (const s of q.expected.sources ?? []) {
      if (s.startsWith('fact:') ? !catalogKeys.has(s.slice(5)) : !catalogRefs.has(s)) bad.push(`${q.id}: unknown source ${s}`);
    }
  }
  t.same(bad, [], 'every question is well formed');
  // Abstention must be learnable: each of the yes/no kinds holds questions the sources leave open.
  for (const kind of ['practice', 'risk', 'scope', 'option']) {
    t.ok(
      questions.some((q) => q.kind === kind && q.expected.choice === null),
      `${kind} has questions whose right answer is to abstain`,
    );
  }
  t.ok(questions.filter((q) => q.kind === 'risk' && q.expected.choice === null).length >= 15, 'many risk questions are not settled by the sources');
});

t.test('the fictional organization: controls and a complete profile', async (t) => {
  const refs = org.controls.map((c) => c.ref);
  t.equal(new Set(refs).size, refs.length, 'one answer per control');
  t.ok(org.controls.length >= 45, `${org.controls.length} controls answered`);
  const bad: string[] = [];
  for (const c of org.controls) {
    if (!catalogRefs.has(c.ref) || !c.ref.startsWith('A.')) bad.push(`${c.ref}: not an Annex A control`);
    if (!['implemented', 'partially_implemented', 'planned', 'not_implemented'].includes(c.status)) bad.push(`${c.ref}: status ${c.status}`);
    if (!['provider', 'customer', 'shared'].includes(c.responsibility)) bad.push(`${c.ref}: responsibility ${c.responsibility}`);
    if (!c.applicable && !c.justification) bad.push(`${c.ref}: excluded without a justification`);
    if (c.responsibility === 'shared' && !c.customerStatement) bad.push(`${c.ref}: shared without a customer statement`);
    if (c.implementation.split(/(?<=\.)\s+/).length > 5) bad.push(`${c.ref}: more than five sentences`);
  }
  t.same(bad, [], 'every control answer is well formed');
  for (const status of ['partially_implemented', 'planned', 'not_implemented']) {
    t.ok(
      org.controls.some((c) => c.applicable && c.status === status),
      `some applicable control is ${status}`,
    );
  }
  t.ok(org.controls.filter((c) => !c.applicable).length >= 2, 'documented exclusions');
  const facts = new Map(org.profile.map((f) => [f.key, f.value]));
  t.equal(facts.size, org.profile.length, 'one value per key');
  t.same(
    org.profile.filter((f) => !['public', 'private'].includes(f.visibility)).map((f) => f.key),
    [],
    'every fact is public or private',
  );
  for (const [key, type] of Object.entries(FACT_TYPES)) {
    const v = facts.get(key);
    const ok = type === 'string[]' ? Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') : typeof v === type;
    t.ok(ok, `${key} is a ${type}`);
  }
  t.ok((facts.get('data.storage_countries') as string[]).length >= 2, 'data is stored in several countries');
  t.ok([...facts.values()].some((v) => v === true) && [...facts.values()].some((v) => v === false), 'some boolean facts are yes, some no');
  // The expected answers lean on these facts; keep them in step.
  const contrastFacts = new Map(contrast.profile.map((f) => [f.key, f.value]));
  const allowedByKey = questions
    .filter((q) => q.kind === 'fact')
    .flatMap((q) => (q.expected.sources ?? []).filter((s) => s.startsWith('fact:')).map((s) => [s.slice(5), q] as const));
  const mismatched = allowedByKey
    .filter(([key, q]) => {
      const value = (q.profile === 'contrast' ? contrastFacts : facts).get(key);
      if (value === undefined || typeof value === 'boolean') return false;
      const stated = (Array.isArray(value) ? value : [value]).map((x) => String(x).toLowerCase());
      return (
        !q.expected.facts!.some((f) => stated.some((s) => s.includes(f.trim().toLowerCase()) || f.toLowerCase().includes(s))) &&
        !['bcdr.rto_hours', 'bcdr.rpo_minutes', 'pentest.frequency'].includes(key)
      );
    })
    .map(([key, q]) => `${q.id} ${key}`);
  t.same(mismatched, [], 'the facts expected in the text are the profile values');
});

t.test('the contrasting organization: catalog keys, opposite values where the main profile has them', async (t) => {
  const main = new Map(org.profile.map((f) => [f.key, f.value]));
  t.same(
    contrast.profile.filter((f) => !catalogKeys.has(f.key)).map((f) => f.key),
    [],
    'every key is in the catalog',
  );
  for (const key of Object.keys(FACT_TYPES))
    t.ok(
      contrast.profile.some((f) => f.key === key),
      `${key} is set`,
    );
  const flipped = contrast.profile.filter((f) => typeof f.value === 'boolean' && main.has(f.key) && main.get(f.key) !== f.value).length;
  t.ok(flipped >= 6, `${flipped} yes/no facts are the opposite of the main profile's`);
  t.ok(questions.filter((q) => q.profile === 'contrast').length >= 100, 'many questions are asked of it');
});

t.test('our own words: no run of 8 words shared with the reference questionnaires and standards', async (t) => {
  const reference = await referenceRuns();
  t.ok(reference.size > 100_000, `reference runs indexed: ${reference.size}`);
  const ours = [
    ...questions.map((q) => [q.id, q.text] as const),
    ...org.controls.flatMap((c) => [c.implementation, c.customerStatement ?? '', c.justification ?? ''].map((s) => [c.ref, s] as const)),
  ];
  const hits = ours.flatMap(([id, text]) => sharedRuns(id, text, reference));
  t.same(hits, [], 'no shared run of 8 words');
});
