// The decide and compose stages of an answer (see ANSWERING.md): which source settles the
// question, what the choice is in the buyer's own list, when to abstain, and the few sentences
// that say it. Pure functions: everything they read is passed in.
import { PLACE_GROUPS, certificationName, frequencyPerYear, type Understanding } from './understand.js';

export type FactType = 'string' | 'boolean' | 'number' | 'string_list' | 'date';

/** A profile fact as the answering code reads it. */
export interface FactValue {
  key: string;
  type: FactType;
  value: unknown;
  version: number;
  label?: string;
  unit?: string | null;
  phrase?: string | null;
  question?: string | null;
}
export type FactMap = Map<string, FactValue>;

/** Countries, their groups (EU, EEA) and cloud regions: what "is data stored in X?" needs. */
export interface Geo {
  /** Where customer data is: the storage countries plus the countries of the hosting regions. */
  countries(facts: FactMap): string[];
  normalize(name: string): string;
  isGroup(name: string): boolean;
  inGroup(country: string, group: string): boolean;
  /** A country that lies only partly in the group (Russia in Europe). */
  partlyIn(country: string, group: string): boolean;
  list(countries: string[]): string;
}

/** The allowed values of a list, by meaning. */
export interface ListMeaning {
  values: string[];
  yes?: string;
  no?: string;
  partial?: string;
  na?: string;
  planned?: string;
}

const MEANING: Array<[keyof Omit<ListMeaning, 'values'>, RegExp]> = [
  ['yes', /^(yes|y|true|compliant|fully compliant|implemented|in place)$/i],
  ['no', /^(no|n|false|non[- ]?compliant|not compliant|not implemented)$/i],
  ['partial', /^(partial|partially|partly|in progress|partially compliant|partially implemented|some)$/i],
  ['na', /^(n\/?a|not applicable|does not apply)$/i],
  ['planned', /^(planned|on (the )?roadmap|scheduled|future|not yet)$/i],
];

/** Option keys that carry a meaning (VSAQ writes `..._yes`, `..._no`). */
const KEY_MEANING: Array<[keyof Omit<ListMeaning, 'values'>, RegExp]> = [
  ['yes', /_yes$/i],
  ['no', /_no$/i],
  ['partial', /_partial(ly)?$/i],
  ['na', /_(na|n_a|not_applicable)$/i],
];

/**
 * What each allowed value means: exact words ("Yes", "N/A"), an option key's suffix (VSAQ), or a
 * sentence that opens with "Yes," / "No," when exactly one option does.
 */
export function listMeaning(allowed: string[] | null | undefined, options?: Array<{ key: string; label: string }>): ListMeaning | undefined {
  const values = (allowed ?? []).map((v) => v.trim()).filter((v) => v !== '');
  if (values.length === 0) return undefined;
  const out: ListMeaning = { values };
  for (const v of values) {
    for (const [k, re] of MEANING) if (re.test(v) && out[k] === undefined) out[k] = v;
  }
  for (const o of options ?? []) {
    for (const [k, re] of KEY_MEANING) if (re.test(o.key) && out[k] === undefined && values.includes(o.label.trim())) out[k] = o.label.trim();
  }
  for (const [k, re] of [
    ['yes', /^yes\b/i],
    ['no', /^no\b/i],
  ] as const) {
    const hits = values.filter((v) => re.test(v));
    if (out[k] === undefined && hits.length === 1) out[k] = hits[0];
  }
  return out;
}

/** The buyer's spelling of a generic choice, or undefined when the list has no such value. */
export function inList(choice: 'yes' | 'no' | 'partial' | 'n/a', list: ListMeaning | undefined, planned = false): string | undefined {
  if (!list) return choice;
  // A planned control is a "no" today, and "Planned" where the list offers it.
  if (planned && choice === 'no' && list.planned) return list.planned;
  return choice === 'n/a' ? list.na : list[choice];
}

/** Words that say nothing about what a sentence is about. */
const STOP = new Set(
  (
    'a an and are as at be been by can could did do does for from has have how if in into is it its of on or our ' +
    'should that the their there these this those to was we were what when where which who will with would you your yours any all ' +
    'please confirm indicate state whether describe provide explain y n yes no'
  ).split(' '),
);

export function words(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => w.length > 1 && !STOP.has(w)).map(stem);
}

/** A light suffix stripper: enough to meet "encrypts" with "encryption" on their first letters. */
function stem(w: string): string {
  if (w.length <= 4) return w;
  return w.replace(/(ations?|ings?|ments?|ness|ities|ity|ies|ed|es|s|ly|ion|ive)$/, '').slice(0, 7);
}

/** Splits text into sentences, keeping abbreviations like "e.g." and version numbers together. */
export function sentences(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .split(/(?<=[.!?])\s+(?=[A-Z0-9("'])/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * The sentences of a statement that bear on the question, in their own order: the best one
 * always, and up to two more that share words with the question. Returns the overlap of the best
 * sentence with the question's words (0..1) as a relevance signal.
 */
export function bearingSentences(question: string, statement: string, max = 3): { text: string; overlap: number } {
  const qWords = new Set(words(question));
  const all = sentences(statement);
  if (all.length === 0) return { text: '', overlap: 0 };
  const scored = all.map((s, i) => {
    const ws = new Set(words(s));
    let shared = 0;
    for (const w of ws) if (qWords.has(w)) shared++;
    return { s, i, shared };
  });
  const ranked = [...scored].sort((a, b) => b.shared - a.shared || a.i - b.i);
  const best = ranked[0]!;
  const chosen = ranked.filter((x, j) => j === 0 || (x.shared > 0 && x.shared >= best.shared / 2)).slice(0, max);
  chosen.sort((a, b) => a.i - b.i);
  return { text: chosen.map((x) => x.s).join(' '), overlap: qWords.size > 0 ? best.shared / qWords.size : 0 };
}

function listText(xs: string[]): string {
  if (xs.length <= 1) return xs[0] ?? '';
  return `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

/** A fact's value as words: lists joined, booleans as yes/no, numbers with their unit. */
export function factWords(f: FactValue): string {
  if (Array.isArray(f.value)) return listText((f.value as unknown[]).map(String));
  if (typeof f.value === 'boolean') return f.value ? 'yes' : 'no';
  if (typeof f.value === 'number') return f.unit ? `${f.value} ${f.unit}` : String(f.value);
  return String(f.value);
}

/** A sentence that states a fact: the catalog's phrase when it has one, else "Label: value." */
export function stateFact(f: FactValue): string {
  const value = factWords(f);
  if (f.phrase && f.phrase.includes('{value}')) return f.phrase.replace('{value}', value);
  const label = f.label ?? f.key;
  return `${label}: ${value}.`;
}

export type Abstain = { abstain: string };
export type Settled = { choice: string | null; text: string; facts: FactValue[] };

const UNIT_IN_MINUTES: Record<string, number> = { minute: 1, minutes: 1, min: 1, mins: 1, hour: 60, hours: 60, h: 60, hr: 60, hrs: 60, day: 1440, days: 1440 };

function toMinutes(n: number, unit: string | null | undefined): number | undefined {
  const u = (unit ?? '').toLowerCase();
  const f = UNIT_IN_MINUTES[u];
  return f === undefined ? undefined : n * f;
}

/**
 * A yes/no settled by a profile fact: a boolean, a membership (is data stored in X), or a
 * comparison (is the RTO 24 hours or less). Returns the generic choice, or why it cannot.
 */
/** Numbers as digits or words (not "one": "more than one provider" is a count, and "one" is often an article). */
const NUMBER_WORD = /\b(\d+(?:[.,]\d+)?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|ninety|hundred)\b/gi;

/** Words that make a yes/no question narrower than the fact that would settle it. */
const QUALIFIED =
  /\b(that|which|who)\s+(\w+\s+){0,3}?(can|could|may|are able to|is able to)\s+(\w+\s+){0,2}?(switch|turn|opt|disable|deactivate|configure|choose|control|limit|restrict)\w*\b|\b(opt(ed|s|ing)?[- ]?(out|in)|switch(ed|es)? off|turn(ed|s)? off|by default|with(out)? (their |the |prior |explicit )?(consent|permission|approval)|when (customers?|users?|clients?|they) (consent|agree|ask|request|opt)\w*|only (if|when|with|for|upon|on)|unless|for (an )?additional (fee|cost|charge)|(premium|enterprise|paid) (plan|tier|edition)s?)\b/i;

export function settleByFact(
  u: Understanding,
  facts: FactMap,
  geo: Geo,
  say: (f: FactValue) => string = stateFact,
): { choice: 'yes' | 'no'; text: string; facts: FactValue[] } | Abstain | undefined {
  // A "yes" from a fact claims no more than the fact says: a condition the question adds ("AI features
  // that customers can switch off", "by default") goes to a person. A "no" stays true under it.
  const yesOrNo = (truth: boolean, r: { text: string; facts: FactValue[] }) =>
    truth && QUALIFIED.test(u.leadClauseStripped)
      ? { abstain: 'the question adds a condition the profile fact does not speak to' }
      : { choice: truth ? ('yes' as const) : ('no' as const), ...r };
  for (const need of u.facts) {
    if (need.test === 'boolean') {
      const f = facts.get(need.key);
      if (!f) return { abstain: `no fact \`${need.key}\`` };
      if (typeof f.value !== 'boolean') return { abstain: `fact \`${need.key}\` is not a yes/no value` };
      // A question narrower than the fact ("an LLM" against "uses AI") is settled only when the fact is false.
      const narrower = NARROWER[need.key];
      if (f.value && narrower && narrower.narrow.test(u.leadClauseStripped) && !narrower.alternative.test(u.leadClauseStripped)) {
        return { abstain: `\`${need.key}\` is true but the question asks something narrower` };
      }
      // The breach fact covers 36 months: true settles any window that holds it, false any window within it.
      if (need.months !== undefined && (f.value === true ? need.months < 36 : need.months > 36)) {
        return { abstain: `\`${need.key}\` covers 36 months, the question ${need.months}` };
      }
      const truth = need.negated ? !f.value : f.value;
      return yesOrNo(truth, { text: say(f), facts: [f] });
    }
    if (need.test === 'contains' && need.value !== undefined) {
      // An item in a list fact: a provider in hosting.providers, a certification in compliance.certifications.
      const f = facts.get(need.key);
      if (!f) return { abstain: `no fact \`${need.key}\`` };
      if (!Array.isArray(f.value)) return { abstain: `fact \`${need.key}\` is not a list` };
      const items = (f.value as unknown[]).map(String);
      if (need.key === 'compliance.certifications') {
        // "ISO 27001" is held as "ISO/IEC 27001:2022"; a SOC 2 report's type must agree when both state one.
        const type = (x: string) => /\btype\s*(1|i|2|ii)\b/i.exec(x)?.[1]?.replace(/^i$/i, '1').replace(/^ii$/i, '2');
        const asked = type(u.leadClauseStripped);
        const same = items.filter((i) => certificationName(i) === need.value);
        if (asked && same.some((i) => !type(i))) return { abstain: `the profile does not say which type of ${need.value} report is held` };
        const has = same.some((i) => !asked || type(i) === asked);
        return yesOrNo(need.negated ? !has : has, { text: say(f), facts: [f] });
      }
      const same = (item: string, value: string) => {
        const want = aliases(value);
        return flat(item) === flat(value) || [...aliases(item)].some((a) => want.has(a));
      };
      const listed = (value: string) => items.some((i) => same(i, value));
      // Several named at once: "both A and B" needs every one, "A or B" any one; otherwise it is unclear.
      if (need.values && !need.join) return { abstain: `the question names ${need.values.join(', ')} without saying whether all or any` };
      // "Only on AWS": the one named must be the only one listed.
      const only = need.quantifier === 'all' && !need.values;
      const has = need.values
        ? need.join === 'and'
          ? need.values.every(listed)
          : need.values.some(listed)
        : listed(need.value) && (!only || items.every((i) => same(i, need.value!)));
      const truth = need.negated ? !has : has;
      return yesOrNo(truth, { text: say(f), facts: [f] });
    }
    if (need.test === 'contains') {
      const countries = geo.countries(facts);
      const used = ['data.storage_countries', 'hosting.regions'].map((k) => facts.get(k)).filter((f): f is FactValue => f !== undefined);
      if (countries.length === 0 || !need.country) return { abstain: 'no fact `data.storage_countries`' };
      // A region understanding names but the table gives no members ("Asia Pacific"): nothing to compare with.
      if (PLACE_GROUPS.has(need.country) && !geo.isGroup(need.country)) return { abstain: `the region table lists no countries for "${need.country}"` };
      const target = geo.normalize(need.country);
      const inTarget = (c: string) => (geo.isGroup(need.country!) ? geo.inGroup(c, need.country!) : c.toLowerCase() === target.toLowerCase());
      // A country only partly in the group (Russia in Europe) is neither in nor out: it decides nothing.
      const partly = (c: string) => geo.isGroup(need.country!) && geo.partlyIn(c, need.country!);
      const inside = countries.filter((c) => !partly(c) && inTarget(c));
      const outside = countries.filter((c) => !partly(c) && !inTarget(c));
      const straddling = countries.filter(partly);
      // negated: "is any data stored outside X" is true when some country is not in X;
      // "only / exclusively in X" is true when every country is in X.
      const only = need.quantifier === 'all' || (need.quantifier === undefined && /\b(only|exclusively|solely|entirely)\b/i.test(u.leadClauseStripped));
      // The countries that would make the answer "yes" if one exists (some) or "no" if one exists (only).
      const deciding = only ? (need.negated ? inside : outside) : need.negated ? outside : inside;
      if (deciding.length === 0 && straddling.length > 0) return { abstain: `${geo.list(straddling)} lies only partly in ${need.country}` };
      const truth = only ? deciding.length === 0 : deciding.length > 0;
      return yesOrNo(truth, { text: `Customer data is stored in ${geo.list(countries)}.`, facts: used });
    }
    if (need.test === 'compare') {
      const f = facts.get(need.key);
      if (!f) return { abstain: `no fact \`${need.key}\`` };
      // "between 4 and 12 hours", "more than 100 but fewer than 200": one comparison would answer half of it.
      if ((u.leadClauseStripped.match(NUMBER_WORD) ?? []).length > 1) return { abstain: 'the question compares with more than one number' };
      // A cadence ("quarterly") compares as times a year.
      const perYear = need.unit === 'per_year' && typeof f.value === 'string' ? frequencyPerYear(f.value) : undefined;
      if (perYear !== undefined && need.number !== undefined && need.op) {
        const truth =
          need.op === '<='
            ? perYear <= need.number
            : need.op === '<'
              ? perYear < need.number
              : need.op === '>='
                ? perYear >= need.number
                : need.op === '>'
                  ? perYear > need.number
                  : perYear === need.number;
        return yesOrNo(truth, { text: say(f), facts: [f] });
      }
      if (typeof f.value !== 'number' || need.number === undefined || !need.op) return { abstain: `fact \`${need.key}\` cannot be compared` };
      const have = toMinutes(f.value, f.unit ?? (need.key.endsWith('_hours') ? 'hours' : need.key.endsWith('_minutes') ? 'minutes' : undefined));
      const want = toMinutes(need.number, need.unit ?? 'hours');
      const [a, b] = have !== undefined && want !== undefined ? [have, want] : [f.value, need.number];
      const truth = need.op === '<=' ? a <= b : need.op === '<' ? a < b : need.op === '>=' ? a >= b : need.op === '>' ? a > b : a === b;
      return yesOrNo(truth, { text: say(f), facts: [f] });
    }
  }
  return undefined;
}

/** Boolean facts broader than some questions that route to them: "yes" to the fact is not "yes" to these. */
const NARROWER: Record<string, { narrow: RegExp; alternative: RegExp }> = {
  'ai.product_uses_ai': {
    narrow: /\b(llms?|large language|generative|gen ?ai|machine learning|ml|chat ?bots?|gpt|neural|deep learning|computer vision|facial)\b/i,
    // "AI or machine learning": the broad term offered as an alternative, which the fact does settle.
    alternative: /\b(ai|artificial intelligence)\s*(,|or\b|and\/or\b|\/)|(\bor|\/)\s*(ai|artificial intelligence)\b/i,
  },
  'ai.trains_on_customer_data': { narrow: /\b(llms?|large language|generative|third[- ]part(y|ies)|vendors?|fine[- ]?tun)/i, alternative: /$^/ },
  // "Supports single sign-on" does not say which protocols or identity providers.
  'services.supports_sso': {
    narrow:
      /\b(saml|oidc|openid|oauth|ws-?fed\w*|adfs|okta|entra|azure ad|active directory|ping ?(identity|federate)?|onelogin|jumpcloud|google workspace|scim|ldap|kerberos|jit|just[- ]in[- ]time)\b/i,
    alternative: /\b(such as|e\.g\.?|for example|for instance|like)\b/i,
  },
  // "Encrypted at rest" says nothing of the algorithm, the key holder or the layer.
  'data.encrypted_at_rest': {
    narrow:
      /\b(aes|256|fips|hsm|hardware security|field[- ]level|column[- ]level|application[- ]level|per[- ](tenant|customer)|customer[- ]managed|own keys?|byok|hyok)\b/i,
    alternative: /\b(such as|e\.g\.?|for example|for instance|like)\b/i,
  },
  'data.processes_phi': { narrow: /\b(genetic|mental health|substance|psychotherapy)\b/i, alternative: /$^/ },
};

/** Lower-case, punctuation-free form of an option or value, for matching one to the other. */
const flat = (s: string) =>
  s
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

/** Common names of the same provider or frequency, so "AWS" meets "Amazon Web Services". */
const SYNONYMS: string[][] = [
  ['aws', 'amazon web services', 'amazon'],
  ['azure', 'microsoft azure', 'microsoft'],
  ['gcp', 'google cloud', 'google cloud platform', 'google'],
  ['oci', 'oracle cloud', 'oracle cloud infrastructure'],
  ['annually', 'annual', 'yearly', 'once a year', 'every year', '1 year', '12 months'],
  ['semi annually', 'twice a year', 'every six months', 'every 6 months', 'biannually', 'half yearly'],
  ['quarterly', 'every quarter', 'every three months', 'every 3 months'],
  ['monthly', 'every month', 'once a month'],
  ['weekly', 'every week'],
  ['daily', 'every day'],
  ['continuously', 'continuous', 'real time'],
];

/**
 * The names of a value or option. `strict` (a buyer's option): the words beside a common name must
 * be another name of the same thing ("AWS (Amazon Web Services)"), because "AWS GovCloud" or
 * "Microsoft Azure Government" is another offering, not what our fact names.
 */
function aliases(s: string, strict = false): Set<string> {
  const f = flat(s);
  const out = new Set([f]);
  const names = (group: string[], g: string) => {
    if (f === g) return true;
    const rest = f.startsWith(g + ' ') ? f.slice(g.length + 1) : f.endsWith(' ' + g) ? f.slice(0, -g.length - 1) : undefined;
    return rest !== undefined && (!strict || group.includes(rest.trim()));
  };
  for (const group of SYNONYMS) if (group.some((g) => names(group, g))) for (const g of group) out.add(g);
  return out;
}

/** The offered option a fact value names, when exactly one does. */
export function matchOption(options: string[], value: string): string | undefined {
  const exact = options.filter((o) => flat(o) === flat(value));
  if (exact.length === 1) return exact[0];
  const want = aliases(value);
  const hits = options.filter((o) => {
    const have = aliases(o, true);
    for (const w of want) if (have.has(w)) return true;
    return false;
  });
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) return undefined;
  // An option named inside the value: "Sweden" in "Stockholm, Sweden".
  const inside = options.filter((o) => flat(o).length > 1 && ` ${flat(value)} `.includes(` ${flat(o)} `));
  if (inside.length === 1) return inside[0];
  if (inside.length > 1) return undefined;
  // A version number inside an option: "1.2" in "TLS 1.2" (a bare word could name a narrower option).
  if (!/^\d+(\.\d+)+$/.test(value.trim())) return undefined;
  const around = options.filter((o) => ` ${flat(o)} `.includes(` ${flat(value)} `));
  return around.length === 1 ? around[0] : undefined;
}

const RANGE_UNITS: Record<string, number> = {
  minute: 1,
  minutes: 1,
  min: 1,
  mins: 1,
  hour: 60,
  hours: 60,
  hr: 60,
  hrs: 60,
  h: 60,
  day: 1440,
  days: 1440,
  week: 10080,
  weeks: 10080,
};

/** The numeric interval an option names ("51-200", "Less than 4 hours", "500+"), in the unit given, or undefined. */
export function optionRange(option: string, unit?: string | null): [number, number] | undefined {
  const whole = rangeOf(option, unit);
  if (whole) return whole;
  // "Medium (50-250)", "Large (>250)": the interval in brackets.
  const inner = /\(([^)]*)\)/.exec(option)?.[1];
  return inner ? rangeOf(inner, unit) : undefined;
}

function rangeOf(option: string, unit?: string | null): [number, number] | undefined {
  const o = option.toLowerCase().replace(/,(?=\d{3})/g, '');
  const unitOf = (u?: string) => (u ? RANGE_UNITS[u] : undefined);
  const base = unitOf(unit ?? undefined);
  const scale = (n: number, u?: string) => {
    const f = unitOf(u);
    return f !== undefined && base !== undefined ? (n * f) / base : n;
  };
  const num = '(\\d+(?:\\.\\d+)?)';
  const u = '\\s*(minutes?|mins?|hours?|hrs?|h|days?|weeks?)?';
  let m = new RegExp(`^\\s*${num}${u}\\s*(?:-|–|to)\\s*${num}${u}\\s*$`).exec(o);
  if (m) return [scale(Number(m[1]), m[2] ?? m[4]), scale(Number(m[3]), m[4] ?? m[2])];
  m = new RegExp(`^\\s*(?:less than|fewer than|under|below|<=?|up to|at most|within)\\s*${num}${u}\\s*$`).exec(o);
  if (m) return [-Infinity, scale(Number(m[1]), m[2]) - (/up to|at most|<=|within/.test(o) ? 0 : 1e-9)];
  m = new RegExp(`^\\s*(?:more than|over|above|greater than|>=?|at least)\\s*${num}${u}\\s*$`).exec(o);
  if (m) return [scale(Number(m[1]), m[2]) + (/at least|>=/.test(o) ? 0 : 1e-9), Infinity];
  m = new RegExp(`^\\s*${num}${u}\\s*(?:\\+|or more|and (?:above|over|more))\\s*$`).exec(o);
  if (m) return [scale(Number(m[1]), m[2]), Infinity];
  // One value with its unit ("72 hours", "99.9%"); a bare number could be a rating or a code, not a quantity.
  m = new RegExp(`^\\s*${num}\\s*(minutes?|mins?|hours?|hrs?|h|days?|weeks?)\\s*$`).exec(o);
  if (m) return [scale(Number(m[1]), m[2]), scale(Number(m[1]), m[2])];
  m = new RegExp(`^\\s*${num}\\s*%\\s*$`).exec(o);
  if (m && unit === 'percent') return [Number(m[1]), Number(m[1])];
  return undefined;
}

/** The one option whose interval holds a number, when the options are intervals. */
export function matchNumberOption(options: string[], value: number, unit?: string | null): string | undefined {
  const hits = options.filter((o) => {
    const r = optionRange(o, unit);
    return r !== undefined && value >= r[0] && value <= r[1];
  });
  return hits.length === 1 ? hits[0] : undefined;
}

/** The one option naming the countries a list fact holds: a country, or a group (EU) holding all of them. */
export function matchPlaceOption(options: string[], countries: string[], geo: Geo): string | undefined {
  if (countries.length === 0) return undefined;
  const parts = (o: string) => o.split(/\s*[/,]\s*|\s+or\s+/).filter(Boolean);
  const covers = (o: string) =>
    countries.every((c) => parts(o).some((p) => (geo.isGroup(p) ? geo.inGroup(c, p) : geo.normalize(p).toLowerCase() === c.toLowerCase())));
  const hits = options.filter(covers);
  return hits.length === 1 ? hits[0] : undefined;
}

/** The offered options a text names, by their words or common synonyms ("every quarter" names "Quarterly"). */
export function optionsInText(options: string[], text: string): string[] {
  const t = ` ${flat(text)} `;
  return options.filter((o) => {
    if (flat(o).length < 2) return false;
    for (const a of aliases(o)) if (a.length > 1 && t.includes(` ${a} `)) return true;
    return false;
  });
}

/** Words too common in questionnaires to show that a statement speaks to a question. */
const GENERIC = [
  'polic',
  'process',
  'procedu',
  'ensur',
  'organiz',
  'organis',
  'compan',
  'staff',
  'employe',
  'data',
  'custome',
  'system',
  'us',
  'provid',
  'servic',
  'product',
  'solutio',
  'regular',
  'documen',
  'maintai',
  'place',
  'requir',
  'manag',
  'secur',
  'inform',
  'support',
  'perform',
  'all',
  'ani',
  'must',
  'have',
];
const generic = (w: string) => GENERIC.some((g) => w === g || (g.length >= 4 && w.startsWith(g)));

/** The share of the question's specific words that the statement also uses (0..1). */
export function statementCoverage(question: string, statement: string): number {
  const q = [...new Set(words(question))].filter((w) => !generic(w));
  if (q.length === 0) return 0;
  const st = new Set(words(statement));
  return q.filter((w) => st.has(w)).length / q.length;
}
