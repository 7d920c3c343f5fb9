/**
 * Question understanding: what a questionnaire question asks, before any source is read.
 * Pure and fast: no database, no I/O at call time. The place table (countries, groups, cloud
 * providers) has a small built-in default; pass seeds/cloud-regions.json's tables to extend it.
 *
 * Kinds, by precedence (first that applies wins):
 *   1. option    - the buyer gave allowed answers that are not a Yes/No(/Partial/N/A) list
 *                  (a "Hosting" dropdown, VSAQ radio/checkbox items): pick one of them verbatim.
 *   2. scope     - a yes/no that a profile fact settles: a boolean ("do you process PHI"), a list
 *                  membership ("is data stored in China"), or a comparison ("RTO 24 hours or less").
 *   3. risk      - a yes/no where "yes" admits a bad practice or a risk, and no fact settles it.
 *   4. practice  - any other yes/no (by wording or by a Yes/No list).
 *   5. fact      - not a yes/no: a name, address, URL, e-mail, phone, count, date, or a question a
 *                  profile fact states (RTO, hosting providers, pen-test frequency...).
 *   6. free_text - everything else ("Describe ...", "How do you ...", generic "How often/how long").
 * A scope question keeps polarity 'risk' when "yes" would admit a risk (a breach, training on
 * customer data, storage in a risky jurisdiction), so the decider knows what a wrong "yes" costs.
 */

export type QuestionKind = 'practice' | 'risk' | 'fact' | 'scope' | 'option' | 'free_text';

/** What shape the answer cell expects; a statement must never be pasted into name..date. */
export type AnswerShape = 'yes_no' | 'name' | 'address' | 'url' | 'email' | 'phone' | 'number' | 'list' | 'duration' | 'date' | 'frequency' | 'choice' | 'text';

/**
 * A profile fact that may settle the question, and how.
 * - state:    the answer states the fact's value (fact questions, option lists).
 * - boolean:  yes iff the fact is true; `negated` flips it ("do you never train on customer data").
 * - contains: list membership on `key`. With `country` (a canonical country, or a group such as
 *             'European Union'): negated false -> yes iff SOME listed country is in `country`;
 *             negated true -> yes iff SOME listed country is OUTSIDE `country` ("is any data stored
 *             outside the EU"). With quantifier 'all' the test is over EVERY listed country instead:
 *             "only in the EU" = all in (negated false); "never in China" = all outside (negated true).
 *             With `value` instead of `country`: membership of that item (a provider id such as 'aws'
 *             in hosting.providers, a certification such as 'ISO 27001' in compliance.certifications);
 *             with quantifier 'all', the item must be the only one listed ("only on AWS").
 * - compare:  the fact's number `op` `number`, both in `unit` (the unit of the key: hours for
 *             bcdr.rto_hours, minutes for bcdr.rpo_minutes; 'per_year' for a frequency, whose fact is
 *             a string to read with frequencyPerYear(); 'people', 'percent').
 * `months` (boolean tests on incidents.reportable_breach_last_36_months): the question's window.
 * The fact covers 36 months: a false fact settles "no" for any window <= 36, a true fact settles
 * "yes" for any window >= 36 (a breach in the last 36 months is one in the last five years).
 */
export interface FactNeed {
  key: string;
  test: 'state' | 'boolean' | 'contains' | 'compare';
  negated?: boolean;
  country?: string;
  value?: string;
  /** Several items named at once ("both AWS and Azure", "AWS or GCP"), with how they join; no join: unclear. */
  values?: string[];
  join?: 'and' | 'or';
  quantifier?: 'any' | 'all';
  op?: '<=' | '<' | '>=' | '>' | '=';
  number?: number;
  unit?: string;
  months?: number;
}

export interface AllowedMeaning {
  /** The non-blank allowed values, verbatim. */
  values: string[];
  yes?: string;
  no?: string;
  partial?: string;
  na?: string;
  /** Only yes and no values (blanks ignored). */
  yesNoOnly: boolean;
  /** Every value is a yes, no, partial or n/a value: a Yes/No list, not an option list. */
  yesNoList: boolean;
}

export interface Understanding {
  kind: QuestionKind;
  /** Expects a yes/no, by its wording or by a Yes/No allowed list. */
  yesNo: boolean;
  /** risk: "yes" admits a bad practice or a risk. */
  polarity: 'normal' | 'risk';
  /** Profile fact keys that may settle it, best first, with how (see FactNeed). */
  facts: FactNeed[];
  /** Sub-questions "(a) ... (b) ..." or "a) ... b) ...", [] when single. */
  parts: string[];
  /** Asks what the customer must do, or the customer's responsibility. */
  customerSide: boolean;
  allowed?: AllowedMeaning;
  /** The question without a leading "When ..., " clause, "Please confirm that", "(Y/N)". */
  leadClauseStripped: string;
  answerShape: AnswerShape;
}

export interface QuestionText {
  text: string;
  section?: string | null;
  allowedAnswers?: string[] | null;
}

/** Same shape as seeds/cloud-regions.json's `countries`, `groups` and `providers`. */
export interface PlaceTable {
  countries?: Record<string, string[]>;
  groups?: Record<string, { aliases: string[]; members?: string[] }>;
  providers?: Record<string, string[]>;
}

export interface UnderstandOptions {
  places?: PlaceTable;
}

// ---------------------------------------------------------------------------------------------
// Places: a compact default; seeds/cloud-regions.json adds the rest when passed in.

const DEFAULT_COUNTRIES: Record<string, string[]> = {
  'United States': ['US', 'U.S.', 'USA', 'U.S.A.', 'United States of America', 'America', 'the US', 'the States'],
  'United Kingdom': ['UK', 'U.K.', 'Great Britain', 'Britain', 'England', 'Scotland', 'Wales'],
  China: ['PRC', "People's Republic of China", 'mainland China', 'Chinese mainland'],
  'Hong Kong': ['HK'],
  Russia: ['Russian Federation'],
  India: [],
  Brazil: [],
  Canada: [],
  Mexico: [],
  Germany: ['Deutschland'],
  France: [],
  Ireland: ['Republic of Ireland'],
  Netherlands: ['Holland', 'The Netherlands'],
  Switzerland: [],
  Sweden: [],
  Italy: [],
  Spain: [],
  Poland: [],
  Japan: [],
  'South Korea': ['Korea', 'Republic of Korea'],
  'North Korea': ['DPRK'],
  Singapore: [],
  Australia: [],
  'New Zealand': [],
  Israel: [],
  'United Arab Emirates': ['UAE', 'Emirates'],
  'Saudi Arabia': ['KSA'],
  'South Africa': [],
  Iran: [],
  Belarus: [],
  Syria: [],
  Cuba: [],
  Venezuela: [],
  Taiwan: [],
  Vietnam: ['Viet Nam'],
  Philippines: [],
  Ukraine: [],
  Turkey: ['Türkiye', 'Turkiye'],
};

const DEFAULT_GROUPS: Record<string, { aliases: string[] }> = {
  'European Union': { aliases: ['EU', 'E.U.', 'the EU', 'the European Union'] },
  'European Economic Area': { aliases: ['EEA', 'the EEA'] },
  Europe: { aliases: ['European region', 'continental Europe'] },
  'North America': { aliases: [] },
  'South America': { aliases: ['Latin America', 'LATAM'] },
  'Asia Pacific': { aliases: ['APAC', 'Asia-Pacific', 'Asia'] },
  'Middle East': { aliases: [] },
  Africa: { aliases: [] },
};

/** The regions understanding recognizes as groups of countries; a membership question needs their members from the region table. */
export const PLACE_GROUPS: ReadonlySet<string> = new Set(Object.keys(DEFAULT_GROUPS));

const DEFAULT_PROVIDERS: Record<string, string[]> = {
  aws: ['aws', 'amazon web services', 'amazon'],
  azure: ['azure', 'microsoft azure'],
  gcp: ['gcp', 'google cloud', 'google cloud platform'],
  oci: ['oracle cloud', 'oracle cloud infrastructure', 'oci'],
  ibm: ['ibm cloud'],
  alibaba: ['alibaba cloud', 'aliyun'],
  digitalocean: ['digitalocean', 'digital ocean'],
  ovh: ['ovh', 'ovhcloud'],
  hetzner: ['hetzner'],
  linode: ['linode', 'akamai cloud'],
};

/** Jurisdictions where storage is asked as a risk. */
const RISKY_PLACES = new Set(['China', 'Russia', 'Iran', 'North Korea', 'Belarus', 'Syria', 'Cuba', 'Venezuela']);

/** Short codes are words in running text ("in", "it", "no"): only these, written in capitals. */
const SHORT_CODES = new Set(['US', 'UK', 'EU', 'HK']);

interface PlaceAlias {
  name: string;
  re: RegExp;
  len: number;
}
interface PlaceIndex {
  places: PlaceAlias[];
  providers: PlaceAlias[];
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function aliasRe(alias: string): RegExp | undefined {
  const a = alias.replace(/^the\s+/i, '').trim();
  if (!a) return undefined;
  const bare = a.replace(/\./g, '');
  if (bare.length <= 2) {
    if (!SHORT_CODES.has(bare.toUpperCase())) return undefined;
    // Case-sensitive: "US" the country, not "us" the pronoun.
    return new RegExp(`(?<![A-Za-z])${escapeRe(a)}(?![A-Za-z])`, 'g');
  }
  return new RegExp(`(?<![A-Za-z])${escapeRe(a).replace(/\\?\s+/g, '[\\s-]+')}(?![A-Za-z])`, 'gi');
}

function buildIndex(table?: PlaceTable): PlaceIndex {
  const places: PlaceAlias[] = [];
  const add = (list: PlaceAlias[], name: string, aliases: string[]) => {
    for (const alias of new Set([name, ...aliases])) {
      const re = aliasRe(alias);
      if (re) list.push({ name, re, len: alias.length });
    }
  };
  const countries = { ...DEFAULT_COUNTRIES, ...(table?.countries ?? {}) };
  for (const [name, aliases] of Object.entries(countries)) add(places, name, [...(DEFAULT_COUNTRIES[name] ?? []), ...aliases]);
  const groups = { ...DEFAULT_GROUPS, ...(table?.groups ?? {}) };
  for (const [name, g] of Object.entries(groups)) add(places, name, [...(DEFAULT_GROUPS[name]?.aliases ?? []), ...g.aliases]);
  const providers: PlaceAlias[] = [];
  const provs = { ...DEFAULT_PROVIDERS, ...(table?.providers ?? {}) };
  // "google" and "microsoft" alone name office suites more often than clouds in questions.
  for (const [id, aliases] of Object.entries(provs))
    add(
      providers,
      id,
      [...(DEFAULT_PROVIDERS[id] ?? []), ...aliases].filter((a) => !/^(google|microsoft)$/i.test(a)),
    );
  places.sort((a, b) => b.len - a.len);
  providers.sort((a, b) => b.len - a.len);
  return { places, providers };
}

const defaultIndex = buildIndex();
const indexCache = new WeakMap<PlaceTable, PlaceIndex>();
function indexFor(table?: PlaceTable): PlaceIndex {
  if (!table) return defaultIndex;
  let idx = indexCache.get(table);
  if (!idx) {
    idx = buildIndex(table);
    indexCache.set(table, idx);
  }
  return idx;
}

interface Mention {
  name: string;
  start: number;
  end: number;
}

/** Non-overlapping mentions, longest alias first ("North America" before "America"). */
function mentions(text: string, list: PlaceAlias[]): Mention[] {
  const out: Mention[] = [];
  for (const p of list) {
    p.re.lastIndex = 0;
    for (let m = p.re.exec(text); m; m = p.re.exec(text)) {
      const start = m.index,
        end = m.index + m[0].length;
      if (!out.some((o) => start < o.end && end > o.start)) out.push({ name: p.name, start, end });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

// ---------------------------------------------------------------------------------------------
// Allowed answers

const flat = (s: string) =>
  s
    .toLowerCase()
    .replace(/[’']/g, '')
    .replace(/[^a-z0-9/]+/g, ' ')
    .trim();
const YES_VALUES = new Set(['yes', 'y', 'true', 'compliant', 'fully compliant', 'yes compliant']);
const NO_VALUES = new Set(['no', 'n', 'false', 'non compliant', 'noncompliant', 'not compliant', 'no non compliant']);
const PARTIAL_VALUES = new Set(['partial', 'partially', 'partly', 'in progress', 'partially compliant', 'partial compliance', 'partially implemented']);
const NA_VALUES = new Set(['n/a', 'na', 'n a', 'not applicable', 'n/a not applicable', 'does not apply']);

export function allowedMeaning(list: string[] | null | undefined): AllowedMeaning | undefined {
  const values = (list ?? []).map((v) => String(v ?? '').trim()).filter((v) => v.length > 0);
  if (values.length === 0) return undefined;
  const out: AllowedMeaning = { values, yesNoOnly: true, yesNoList: true };
  for (const v of values) {
    const f = flat(v);
    if (YES_VALUES.has(f)) {
      out.yes ??= v;
      continue;
    }
    if (NO_VALUES.has(f)) {
      out.no ??= v;
      continue;
    }
    out.yesNoOnly = false;
    if (PARTIAL_VALUES.has(f)) {
      out.partial ??= v;
      continue;
    }
    if (NA_VALUES.has(f)) {
      out.na ??= v;
      continue;
    }
    out.yesNoList = false;
  }
  if (!out.yes && !out.no) out.yesNoList = false;
  if (!out.yes || !out.no) out.yesNoOnly = false;
  // Option sentences that stand for yes or no ("Yes, we keep ...", "We do not ...").
  if (!out.yesNoList) {
    out.yes ??= values.find((v) => /^\s*yes\b/i.test(v));
    out.no ??= values.find((v) => /^\s*(no\b|none\b|not\b|never\b|we (do not|don'?t|have not|haven'?t|are not|aren'?t|cannot|can'?t)\b)/i.test(v));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text helpers

function clean(text: string): string {
  return text
    .replace(/[\u2018\u2019\u201b]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/\u00a0/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^['"`]+\s*|\s*['"`]+$/g, '');
}

const AUX = 'do|does|did|is|are|was|were|has|have|had|can|could|will|would|should|shall|must|may|might|am';
const AUX_START = new RegExp(`^(${AUX})\\s+[a-z0-9"'(]`, 'i');
const WH_START =
  /^(how|what|which|who|whom|whose|where|when|why|describe|explain|provide|list|outline|detail|summari[sz]e|elaborate|share|give|name|identify|enumerate|document|attach|upload|include|specify (the|your|all|any|how|what|which))\b/i;
const YN_MARK = /(^|[\s([{:;,-])(y\s*\/\s*n|yes\s*\/\s*no(\s*\/\s*n\/?a)?|yes or no)(?=$|[\s)\]}.?:;,])/i;
const IMPERATIVE_YN =
  /\b(confirm|indicate|state|specify|advise|tell us|let us know|note|clarify|verify|certify|attest|declare|answer|disclose|identify)\s+(whether|if)\b|\b(confirm|certify|attest|verify|affirm|acknowledge)\s+that\b/i;
const CONFIRM_LEAD =
  /^(please\s+|kindly\s+)?(can you\s+|could you\s+(please\s+)?)?(confirm|affirm|certify|attest)\b(?!\s+(whether|if|that)\b)(?!\s+(the|your|our|a|an)\b[^.?]{0,40}\b(name|address|e-?mail|website|url|phone|number|count|date|contact|title|version)\b)/i;

/** Leading clauses that set a scene before the question proper. */
const LEAD_CLAUSE = new RegExp(
  `^(when|whenever|if|where|for|in|during|after|before|once|upon|on|regarding|concerning|with (regard|respect) to|as part of|in the event( of| that)?|following|prior to|under|while|given|assuming|besides|apart from|in addition( to)?|additionally|also|otherwise|to the extent|at|within|across|throughout)\\b[^?]{1,160}?,\\s+(?=(${AUX}|how|what|which|who|where|when|why|describe|explain|provide|list|please|kindly|confirm|indicate|state|specify|outline|detail)\\b)`,
  'i',
);
const POLITE_LEAD =
  /^(please|kindly)\s+(?=(confirm|indicate|state|specify|advise|tell|let|note|clarify|verify|certify|attest|answer|describe|explain|provide|list|outline|detail|identify|share|give|summari[sz]e|select|choose)\b)/i;
const IMPERATIVE_LEAD =
  /^(can you |could you |would you )?(please |kindly )?(confirm|indicate|state|specify|advise|tell us|let us know|note|clarify|verify|certify|attest|declare|answer|disclose|affirm|acknowledge)( (to us|below|here))?( (whether or not|whether|if|that))?\s*[:,-]?\s+/i;
/** A question number or id in front of the text: "3.1", "12.", "Q5:", "IAM-04.2". */
const NUMBERING = /^(([qQ](uestion)?\s*#?\s*\d+[a-z]?|\d+(\.\d+)+|\d+[.):]|[A-Z]{2,6}-\d+(\.\d+)*)[.):]?\s+)(?=[A-Za-z(\[])/;
const YN_PREFIX = /^((please\s+)?answer\s+)?(yes\s*\/\s*no|y\s*\/\s*n|yes or no)\s*[:.-]\s*/i;
const YN_SUFFIX = /\s*[[(]?\s*(y\s*\/\s*n|yes\s*\/\s*no(\s*\/\s*n\/?a)?|yes or no)\s*[)\]]?\s*[?.:]?\s*$/i;

function capitalize(s: string): string {
  return s.length ? s[0]!.toUpperCase() + s.slice(1) : s;
}

export function stripLead(text: string): string {
  let s = clean(text);
  for (let i = 0; i < 4; i++) {
    const before = s;
    s = s
      .replace(NUMBERING, '')
      .replace(YN_PREFIX, '')
      .replace(YN_SUFFIX, (m) => (/\?\s*$/.test(m) ? '?' : ''))
      .trim();
    s = s.replace(LEAD_CLAUSE, '').replace(POLITE_LEAD, '').trim();
    // An imperative lead ("Confirm that", "Please indicate whether"), unless it asks for a fact.
    if (IMPERATIVE_LEAD.test(s) && !CONFIRM_FACT.test(s)) s = s.replace(IMPERATIVE_LEAD, '').trim();
    if (s === before) break;
  }
  return capitalize(s);
}
const CONFIRM_FACT = /^(please\s+)?confirm\s+(the|your|our)\b[^.?]{0,40}\b(name|address|e-?mail|website|url|phone|number|count|date|contact|title|version)\b/i;

function sentences(text: string): string[] {
  return text
    .split(/(?<=[?.!;])\s+(?=[A-Z(])/)
    .map((s) => s.trim())
    .filter(Boolean);
}

const YN_SUBJECT =
  '(you|your|the|we|there|it|they|this|that|these|those|all|any|each|every|our|a|an|customer|customers|data|employees|staff|users|access|backups?|systems?|vendors?|mfa|encryption)';
const MID_YN = new RegExp(`(?:[,;:]\\s*|\\b(?:and|or|also|then)\\s+)(${AUX})\\s+${YN_SUBJECT}\\b`, 'i');
const JOINED_YN = new RegExp(`[,;]\\s*(and|but|also)\\s+(${AUX})\\s+${YN_SUBJECT}\\b`, 'i');

/** Whether the wording asks for a yes/no, anywhere in the question. */
export function asksYesNo(text: string): boolean {
  const t = clean(text);
  if (YN_MARK.test(t)) return true;
  for (const raw of sentences(t)) {
    const s = stripLead(raw);
    if (AUX_START.test(s) && !/^(is|are)\s+(there\s+)?(any\s+)?(other\s+)?(comments?|details?|additional information)\b(?!.*\b(that|which)\b)/i.test(s))
      return true;
    if (IMPERATIVE_YN.test(raw) || CONFIRM_LEAD.test(raw)) return true;
    // A mid-sentence yes/no ("..., do you ...") unless the sentence opens as an open question.
    if (!WH_START.test(s) && MID_YN.test(s)) return true;
    // "Describe X, and do you Y?": a yes/no joined to an open request.
    if (JOINED_YN.test(s)) return true;
    if (/^(is it (true|the case)|true or false)\b/i.test(s)) return true;
    // A fragment asked as a question: "Data hosted in Ireland?", "MFA enforced for admins?"
    if (
      /\?\s*$/.test(s) &&
      !WH_START.test(s) &&
      !/\b(what|which|how|who|whom|whose|where|when|why)\b/i.test(s) &&
      /\b(\w{3,}ed|in place|available|supported|required|enabled|allowed|permitted|performed|done|used|kept|held)\b/i.test(s)
    )
      return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Parts

const ROMAN = ['i', 'ii', 'iii', 'iv', 'v', 'vi', 'vii', 'viii'];
/** Sub-questions marked (a)/(b), a)/b), (i)/(ii) or 1)/2); [] when the question is single. */
export function splitParts(text: string): string[] {
  const t = clean(text);
  const re = /(^|[\s;:,.])(\(([a-h]|[ivx]{1,4}|[1-9])\)|([a-h]|[ivx]{1,4}|[1-9])\))(?=\s)/gi;
  const cands: Array<{ label: string; start: number; end: number }> = [];
  for (let m = re.exec(t); m; m = re.exec(t)) {
    const label = (m[3] ?? m[4] ?? '').toLowerCase();
    const start = m.index + m[1]!.length;
    cands.push({ label, start, end: start + m[2]!.length });
  }
  for (let i = 0; i < cands.length; i++) {
    const first = cands[i]!.label;
    if (!['a', 'i', '1'].includes(first)) continue;
    // One series per question: letters after (a), roman numerals after (i), digits after (1).
    const next = (label: string) =>
      first === 'a'
        ? /^[a-h]$/.test(label)
          ? String.fromCharCode(label.charCodeAt(0) + 1)
          : undefined
        : first === 'i'
          ? ROMAN[ROMAN.indexOf(label) + 1]
          : /^[1-9]$/.test(label)
            ? String(Number(label) + 1)
            : undefined;
    const seq = [cands[i]!];
    for (let j = i + 1; j < cands.length; j++) if (cands[j]!.label === next(seq[seq.length - 1]!.label)) seq.push(cands[j]!);
    if (seq.length < 2) continue;
    const parts: string[] = [];
    for (let k = 0; k < seq.length; k++) {
      const end = k + 1 < seq.length ? seq[k + 1]!.start : t.length;
      const p = t
        .slice(seq[k]!.end, end)
        .trim()
        .replace(/[\s,;:]*(\band\b|\bor\b)?[\s,;:]*$/i, '')
        .trim();
      if (p) parts.push(p);
    }
    if (parts.length >= 2) return parts;
  }
  return [];
}

// ---------------------------------------------------------------------------------------------
// Numbers, units, comparisons

export const NUMBER_WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  fifteen: 15,
  eighteen: 18,
  twenty: 20,
  'twenty-four': 24,
  'twenty four': 24,
  thirty: 30,
  'thirty-six': 36,
  'thirty six': 36,
  'forty-eight': 48,
  'forty eight': 48,
  sixty: 60,
  'seventy-two': 72,
  'seventy two': 72,
  ninety: 90,
  hundred: 100,
  half: 0.5,
};
export const NUM = `(\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?|\\d+(?:\\.\\d+)?|${Object.keys(NUMBER_WORDS)
  .sort((a, b) => b.length - a.length)
  .map((w) => w.replace(/[ -]/g, '[ -]'))
  .join('|')})`;
export function numberOf(s: string): number | undefined {
  const k = s.toLowerCase().replace(/[ -]+/g, '-');
  if (NUMBER_WORDS[k] !== undefined) return NUMBER_WORDS[k];
  if (NUMBER_WORDS[k.replace(/-/g, ' ')] !== undefined) return NUMBER_WORDS[k.replace(/-/g, ' ')];
  const n = Number(s.replace(/,/g, ''));
  return Number.isFinite(n) ? n : undefined;
}

const UNIT_MINUTES: Record<string, number> = { minute: 1, hour: 60, day: 1440, week: 10080 };
function unitOf(s: string): keyof typeof UNIT_MINUTES | undefined {
  const u = s.toLowerCase();
  if (/^(minutes?|mins?)$/.test(u)) return 'minute';
  if (/^(hours?|hrs?|h)$/.test(u)) return 'hour';
  if (/^((business |calendar |working )?days?)$/.test(u)) return 'day';
  if (/^weeks?$/.test(u)) return 'week';
  return undefined;
}

type Op = NonNullable<FactNeed['op']>;
const OP_BEFORE: Array<[RegExp, Op]> = [
  [/((less|fewer|lower|shorter) than or equal to|equal to or (less|fewer|lower|shorter) than|less than or equals?|<=|≤|=<)\s*$/i, '<='],
  [/((more|greater|longer|higher) than or equal to|equal to or (more|greater|longer|higher) than|>=|≥|=>)\s*$/i, '>='],
  [
    /(no more than|not more than|at most|a maximum of|maximum of|max\.?|up to|within|not (to )?exceed(ing)?|no longer than|not longer than|no greater than|no later than|no older than|not older than|<=|≤)\s*$/i,
    '<=',
  ],
  [/(less than|fewer than|under|below|shorter than|lower than|faster than|sooner than|<)\s*$/i, '<'],
  [/(at least|a minimum of|minimum of|min\.?|no less than|not less than|no fewer than|>=|≥)\s*$/i, '>='],
  [/(more than|greater than|over|above|longer than|exceeds?|exceeding|in excess of|>)\s*$/i, '>'],
  [/(equal to|exactly|equals?)\s*$/i, '='],
];
const OP_AFTER: Array<[RegExp, Op]> = [
  [/^\s*(or (less|fewer|under|lower|shorter|below|better|sooner|faster)|and (under|below|less)|max(imum)?)\b/i, '<='],
  [/^\s*(or (more|longer|greater|higher|above|over)|and (above|over|more)|min(imum)?|\+)(\b|$|\s)/i, '>='],
];

interface Quantity {
  number: number;
  unit?: string;
  op?: Op;
  index: number;
}

/** Quantities in the text with their units and the comparison words around them. */
function quantities(text: string, unitRe?: string): Quantity[] {
  const out: Quantity[] = [];
  const re = new RegExp(`(?<![A-Za-z0-9.])${NUM}${unitRe ? `\\s*(?:-\\s*)?(${unitRe})\\b` : '(?![\\d,])'}`, 'gi');
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const n = numberOf(m[1]!);
    if (n === undefined) continue;
    // "a" and "an" count only before a unit ("an hour").
    if (/^(a|an)$/i.test(m[1]!) && !unitRe) continue;
    const before = text.slice(Math.max(0, m.index - 40), m.index);
    const after = text.slice(m.index + m[0].length, m.index + m[0].length + 30);
    let op: Op | undefined;
    for (const [r, o] of OP_BEFORE)
      if (r.test(before)) {
        op = o;
        break;
      }
    if (!op)
      for (const [r, o] of OP_AFTER)
        if (r.test(after)) {
          op = o;
          break;
        }
    out.push({ number: n, unit: m[2], op, index: m.index });
  }
  return out;
}

const DURATION_UNITS = 'minutes?|mins?|hours?|hrs?|h|(?:business |calendar |working )?days?|weeks?';
const round = (n: number) => Math.round(n * 1000) / 1000;

function durationCompare(text: string, key: string, target: 'hour' | 'minute', defaultOp: Op = '='): FactNeed | undefined {
  // "half an hour", "an hour and a half" are rare enough to read as their leading number.
  const q = quantities(text.replace(/\bhalf an hour\b/gi, '30 minutes'), DURATION_UNITS).find((x) => x.unit && unitOf(x.unit));
  if (!q) return undefined;
  const unit = unitOf(q.unit!)!;
  const value = round((q.number * UNIT_MINUTES[unit]!) / UNIT_MINUTES[target]!);
  return { key, test: 'compare', op: q.op ?? defaultOp, number: value, unit: target === 'hour' ? 'hours' : 'minutes' };
}

/** How many times a year a frequency phrase means ("quarterly" -> 4); undefined when unknown. */
export function frequencyPerYear(text: string): number | undefined {
  const t = text.toLowerCase();
  if (/\b(continuous(ly)?|real[- ]time|daily|every day|each day|nightly)\b/.test(t)) return 365;
  if (/\b(weekly|every week|each week|once a week)\b/.test(t)) return 52;
  if (/\b(bi-?weekly|fortnightly|every (two|2) weeks)\b/.test(t)) return 26;
  if (/\b(monthly|every month|each month|once a month)\b/.test(t)) return 12;
  if (/\b(quarterly|every quarter|each quarter|every (three|3) months|four times a year|4 times a year)\b/.test(t)) return 4;
  if (/\b(semi-?annual(ly)?|bi-?annual(ly)?|twice (a|per|each) year|every (six|6) months|half-?yearly|two times a year|2 times a year)\b/.test(t)) return 2;
  if (/\b(biennial(ly)?|every (two|2) years|every other year)\b/.test(t)) return 0.5;
  if (/\b(annual(ly)?|yearly|every year|each year|once (a|per|each) year|every (twelve|12) months|per year|a year)\b/.test(t)) return 1;
  const m = /\bevery (\d+) months\b/.exec(t);
  if (m) return 12 / Number(m[1]);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Rules

/** A yes/no rule's findings. */
interface Finding {
  facts: FactNeed[];
  risk: boolean;
}

/** Words that turn a statement about data into a question about a control over it. */
const CONTROL_WORDS =
  /\b(encrypt\w*|protect\w*|secur(e|ed|es|ing|ity)|mask\w*|tokeni[sz]\w*|anonymi[sz]\w*|de-?identif\w*|pseudonymi[sz]\w*|redact\w*|segregat\w*|isolat\w*|polic(y|ies)|procedures?|process(es)? (for|to)|programs?|training|controls?|safeguards?|compl(y|ies|iance|iant)|certif\w*|audit\w*|assess\w*|log(s|ged|ging)?|monitor\w*|restrict\w*|limit\w*|delet\w*|dispos\w*|destr(oy|uction)\w*|purg\w*|back(ed)? ?ups?|separat\w*|how|plan|agreements?|baa|handling guidelines|classif\w*|minimi[sz]\w*|retention|retain(ed)? for|access controls?|authoriz\w*|approv\w*|sign|inventor\w*|map(ped|ping)?|govern\w*)\b/i;
const DATA_VERBS =
  /\b(process\w*|stor(e|es|ed|ing|age)|handl\w*|collect\w*|captur\w*|receiv\w*|maintain\w*|transmit\w*|access(es|ed|ing)?|host\w*|touch\w*|ingest\w*|hold(s|ing)?|held|contain\w*|use[sd]?|using|involv\w*|requir\w*|gather\w*|record(s|ed|ing)?|sav(e|es|ed|ing)|keep(s|ing)?|kept|exchang\w*|view\w*|accept\w*|take|takes|manag(e|es|ed|ing)|come into contact|interact\w*|work(s|ing)? with|read(s|ing)?|transfer\w*|shar(e|es|ed|ing)|upload\w*|pass(es)? through|flow(s)? through|travers\w*|enter(s|ed)?)\b/i;
const NEGATION =
  /\b(not|never|no|none|neither|nor|don'?t|doesn'?t|isn'?t|aren'?t|won'?t|wouldn'?t|cannot|can'?t|free (of|from)|without|refrain\w*|exclud\w*|prohibit\w*)\b/i;

function negatedBefore(text: string, index: number): boolean {
  // The words of the same clause before the subject.
  const before =
    text
      .slice(0, index)
      .split(/[,;:]|\bbut\b/i)
      .pop() ?? '';
  return NEGATION.test(before.replace(/\bno (more|less|later|longer|fewer) than\b/gi, ''));
}

interface DataRule {
  key: string;
  re: RegExp;
  exclude?: RegExp;
}
const DATA_RULES: DataRule[] = [
  {
    key: 'data.processes_phi',
    re: /\b(phi|e-?phi|protected health information|personal health (information|data|records?)|(electronic )?health (records?|information|data)|patient (data|records?|information|charts?)|medical (records?|data|information|histor(y|ies))|clinical (data|records?)|hipaa[- ](regulated|covered|protected) (data|information))\b/i,
  },
  {
    key: 'data.processes_cardholder_data',
    re: /\b(card ?holder (data|information|details)|cardholders?|payment card(s| data| numbers?| information| details)?|(credit|debit) card(s| data| numbers?| information| details| payments?| transactions?)?|primary account numbers?|pans?|card numbers?|chd|card data|pci[- ]?(scoped |regulated )?data)\b/i,
  },
  {
    key: 'data.processes_biometric_data',
    re: /\b(biometric\w*|fingerprints?|finger prints?|facial (recognition|geometry|scans?|images?|templates?|data)|face (scans?|geometry|recognition|prints?|templates?)|iris (scans?|patterns?|images?)|retina(l)? (scans?|patterns?)|voice ?prints?|palm ?prints?|hand geometry)\b/i,
    exclude:
      /\b(authenticat\w*|log ?in|login|unlock|sign[- ]?in|access (to|control)|doors?|data ?cent(er|re)s?|physical|entry|entrances?|badges?|time ?clocks?|phones?|laptops?|devices?)\b/i,
  },
  {
    key: 'data.processes_student_records',
    re: /\b(student (records?|data|information|grades?)|education(al)? records?|ferpa[- ](protected|covered|regulated) (data|records?|information))\b/i,
  },
];

/** "Is PHI in scope": a data type with a processing verb, and no control words around it. */
function dataScope(s: string): Finding | undefined {
  for (const r of DATA_RULES) {
    const m = r.re.exec(s);
    if (!m) continue;
    const rest = s.replace(m[0], ' ');
    if (CONTROL_WORDS.test(rest) || r.exclude?.test(rest)) return { facts: [], risk: false };
    if (!DATA_VERBS.test(rest)) continue;
    return { facts: [{ key: r.key, test: 'boolean', ...(negatedBefore(s, m.index) ? { negated: true } : {}) }], risk: false };
  }
  // Regulation applicability: "Is HIPAA applicable to the service?", "Are you in scope for PCI DSS?"
  const applies =
    /\b(subject to|covered by|regulated by|governed by|fall under|falls under|in scope (for|of)|within (the )?scope of|apply to|applies to|applicable to|relevant to)\b/i;
  const regs: Array<[RegExp, string]> = [
    [/\bhipaa\b/i, 'data.processes_phi'],
    [/\bpci(?:[- ]dss)?\b/i, 'data.processes_cardholder_data'],
    [/\bferpa\b/i, 'data.processes_student_records'],
  ];
  for (const [re, key] of regs) {
    if (
      re.test(s) &&
      (applies.test(s) || /\b(applicable|apply|applies)\b/i.test(s)) &&
      !/\b(polic(y|ies)|procedures?|how|compliance program|training)\b/i.test(s)
    ) {
      return { facts: [{ key, test: 'boolean', ...(/\b(not|never)\b/i.test(s) ? { negated: true } : {}) }], risk: false };
    }
  }
  return undefined;
}

const STORAGE_VERBS =
  /\b(stor(e|es|ed|ing|age)|host(s|ed|ing)?|process(es|ed|ing)?|transfer(s|red|ring)?|collect(s|ed|ing)?|resid(e|es|ing|ent|ency)|locat(e|ed|ion|ions)|kept|keep(s|ing)?|held|hold(s|ing)?|housed|back(ed)? ?up|backups?|replicat\w+|mirror\w*|sent|send(s|ing)?|mov(e|es|ed|ing)|leav(e|es|ing)|flow(s|ing)?|travel\w*|export(s|ed|ing)?|transmit\w*|maintain\w*|sav(e|es|ed|ing)|archiv\w*|data ?cent(er|re)s?|servers?|infrastructure|facilit(y|ies)|regions?|remain(s|ing)?|stay(s|ing)?|live|lives)\b/i;
const STORAGE_EXCLUDE =
  /\b(polic(y|ies)|procedures?|process(es)? (for|to)|agreements?|contracts?|clauses?|sccs?|standard contractual|binding corporate|mechanisms?|safeguards?|compl(y|ies|iance|iant)|laws?|legislation|regulat\w*|how|approv\w*|prevent\w*|prohibit\w*|notif\w*|notice|choose|chosen|select\w*|options?|request\w*|ability|able to|encrypt\w*|assessments?|adequacy|guarantee\w*|commit\w*|contractual\w*|subject to|personnel|staff|employees|support (team|staff)|offices?|subsidiar\w*|access(ed|ing)? (from|by))\b/i;
const PLACE_PREP =
  /\b(in|within|inside|to|into|outside( of)?|beyond|out of|from|across|on|at|via|through|throughout|leav(e|es|ing)( the)?|other than|except|besides)\s+(the\s+|a\s+|an\s+|any\s+)?(\w+\s+)?$/i;

/** "Is data stored in China?", "Does any data leave the EEA?", "Is data hosted only in the US?" */
function storageScope(s: string, idx: PlaceIndex): Finding | undefined {
  const places = mentions(s, idx.places);
  if (places.length === 0) return undefined;
  if (!STORAGE_VERBS.test(s)) return undefined;
  const risky = places.some((p) => RISKY_PLACES.has(p.name));
  // Whether staff, offices or vendors sit in a place is not where data is stored.
  const notData =
    /\b(sub-?processors?|sub-?contractors?|vendors?|suppliers?|third[- ]part(y|ies)|offices?|employees|staff|personnel|teams?|support|developers?|engineers?|headquarter\w*|subsidiar\w*|affiliates?|entit(y|ies)|incorporated|registered|access(ed|ing|es)?|view(ed|ing)?|remote(ly)?)\b/i.test(
      s,
    );
  const dataNoun =
    /\b(data|information|records|content|files|backups?|copies|servers?|data ?cent(er|re)s?|infrastructure|host(ed|ing)|stor(e|ed|age|ing)|databases?|workloads?|regions?|environments?|replicas?|archives?)\b/i.test(
      s,
    );
  if (STORAGE_EXCLUDE.test(s) || notData || !dataNoun || /^(can|could|may|might)\b/i.test(s)) {
    // "Is data accessed from China?", "Are your subprocessors in Russia?": a "yes" still admits a risk.
    const preventive = /\b(polic(y|ies)|procedures?|prevent\w*|prohibit\w*|restrict\w*|how|approv\w*|safeguards?|clauses?|agreements?|mechanisms?)\b/i.test(s);
    return { facts: [], risk: risky && !preventive };
  }
  // The destination: a place after a preposition; "from X" only when nothing else is named.
  let chosen: { place: Mention; prep: string } | undefined;
  for (const p of places) {
    const before = s.slice(Math.max(0, p.start - 40), p.start);
    const prep = PLACE_PREP.exec(before);
    if (!prep) {
      // "US-based data centres", "Chinese region" style: a place used as an adjective.
      if (/^[\s-]*(based|hosted|located|region|regions|data ?cent(er|re)s?|servers?|cloud|facilit(y|ies))\b/i.test(s.slice(p.end)))
        chosen ??= { place: p, prep: 'in' };
      continue;
    }
    const word = prep[1]!.toLowerCase();
    if (word === 'from' && places.length > 1) continue;
    chosen = { place: p, prep: word };
    if (word !== 'from') break;
  }
  if (!chosen) return undefined;
  if (chosen.prep === 'from') return { facts: [], risk: false };
  const { place, prep } = chosen;
  let outside =
    /^(outside|beyond|out of|leav|other than|except|besides)/.test(prep) ||
    /\b(leav(e|es|ing)|exit(s|ing)?|outside|beyond|cross[- ]border|offshore|other than|except)\b/i.test(s.slice(Math.max(0, place.start - 60), place.start));
  let all =
    (/\b(only|exclusively|solely|entirely|wholly|strictly|all|always|remain(s|ing)?|stay(s|ing)?|exclusive(ly)?)\b/i.test(s.slice(0, place.start)) ||
      /^\s*(\w+\s+){0,3}(only|exclusively|solely)\b/i.test(s.slice(place.end))) &&
    !outside;
  if (outside && /\b(ever|any|some)\b/i.test(s)) all = false;
  // Negation: NOT(any in X) = all outside X; NOT(any outside X) = all in X; NOT(all in X) = any outside X.
  if (negatedBefore(s, place.start)) {
    outside = !outside;
    all = !all;
  }
  const need: FactNeed = { key: 'data.storage_countries', test: 'contains', country: place.name };
  if (outside) need.negated = true;
  if (all) need.quantifier = 'all';
  // "Yes" admits a risk when it says some data is in a risky place, or some leaves the region.
  const risk = !all && ((!outside && RISKY_PLACES.has(place.name)) || outside);
  return { facts: [need], risk };
}

const PROVIDER_PRODUCT =
  /^[\s-]*(kms|iam|ad\b|active directory|entra|workspace|authenticator|drive|docs|analytics|teams|office|365|defender|sentinel|guardduty|cloudtrail|s3|shield|waf|key ?vault|secrets|config|security|inspector|macie|cognito|marketplace|certificate|partner|well-architected|sso|identity|login|account|console|backup|devops|pipelines|functions|lambda|bedrock|openai|gemini|vertex|sagemaker|rekognition|sql|rds|redshift|bigquery|firebase)/i;

/** "Is the service hosted on AWS?" -> hosting.providers contains 'aws'. */
function providerScope(s: string, idx: PlaceIndex): Finding | undefined {
  const ps = mentions(s, idx.providers);
  for (const p of ps) {
    if (PROVIDER_PRODUCT.test(s.slice(p.end))) continue;
    const before = s.slice(Math.max(0, p.start - 60), p.start);
    if (
      !/\b(host(s|ed|ing)?|run(s|ning)?|deploy(s|ed|ment)?|built|resid(e|es)|locat(ed|ion)|operat(e|es|ed)|infrastructure|cloud|platform|iaas|paas|use[sd]?|using|leverag\w*|rel(y|ies) on|stored?|provider)\b/i.test(
        before,
      )
    )
      continue;
    if (/\b(how|polic(y|ies)|configur\w*|harden\w*|secur(e|ed|ing)|monitor\w*)\b/i.test(s)) return { facts: [], risk: false };
    const need: FactNeed = { key: 'hosting.providers', test: 'contains', value: p.name };
    // More providers named in the same question ("both AWS and Azure"): the answer is about all or any of them.
    const named = ps.filter((o) => o.name !== p.name && !PROVIDER_PRODUCT.test(s.slice(o.end)));
    if (named.length > 0) {
      need.values = [p.name, ...new Set(named.map((o) => o.name))];
      const last = named[named.length - 1]!;
      const between = s.slice(p.end, last.start);
      if (/\bor\b/i.test(between) && !/\bboth\b/i.test(s)) need.join = 'or';
      else if (/\band\b|&/i.test(between) || /\bboth\b/i.test(s)) need.join = 'and';
    }
    if (negatedBefore(s, p.start)) need.negated = true;
    if (/\b(only|exclusively|solely)\b/i.test(before)) need.quantifier = 'all';
    return { facts: [need], risk: false };
  }
  return undefined;
}

const CERTS: Array<[RegExp, string]> = [
  [/\biso(\/iec)?[\s-]*27001\b/i, 'ISO 27001'],
  [/\biso(\/iec)?[\s-]*27017\b/i, 'ISO 27017'],
  [/\biso(\/iec)?[\s-]*27018\b/i, 'ISO 27018'],
  [/\biso(\/iec)?[\s-]*27701\b/i, 'ISO 27701'],
  [/\biso[\s-]*22301\b/i, 'ISO 22301'],
  [/\biso[\s-]*9001\b/i, 'ISO 9001'],
  [/\bsoc[\s-]*(2|ii)\b/i, 'SOC 2'],
  [/\bsoc[\s-]*(1|i)\b(?![\s-]*(i|1))/i, 'SOC 1'],
  [/\bpci[\s-]*dss\b/i, 'PCI DSS'],
  [/\bhitrust\b/i, 'HITRUST'],
  [/\bfedramp\b/i, 'FedRAMP'],
  [/\bstateramp\b/i, 'StateRAMP'],
  [/\bcsa star\b|\bstar (level|certification)\b/i, 'CSA STAR'],
  [/\bcyber essentials\b/i, 'Cyber Essentials'],
  [/\btisax\b/i, 'TISAX'],
];

/** The canonical name of the certification a text names ("ISO/IEC 27001:2022" -> 'ISO 27001'), when it names one. */
export function certificationName(s: string): string | undefined {
  return CERTS.find(([re]) => re.test(s))?.[1];
}

/** "Are you ISO 27001 certified?" -> compliance.certifications contains 'ISO 27001'. */
function certificationScope(s: string): Finding | undefined {
  if (
    /\b(visa|mastercard|card brands?)\b.{0,60}\b(list|registered|approved|validated)\b|\bpci(?:[- ]dss)?\b.{0,30}\b(validated|registered|listed|approved)\b.{0,20}\bservice providers?\b/i.test(
      s,
    )
  ) {
    return { facts: [{ key: 'compliance.certifications', test: 'contains', value: 'PCI DSS' }], risk: false };
  }
  if (!/\b(certif\w*|accredit\w*|attest\w*|reports?|audit(ed)?|authori[sz](ed|ation)|registered|achieved|hold|have|obtained|issued)\b/i.test(s))
    return undefined;
  if (
    /\b(plan(ning|s)? to|working (toward|towards|on)|in progress|roadmap|pursu\w*|intend\w*|when|how|scope of|cover\w*|include\w*|subservice|carve|bridge letter|share|provide|copy|recent|latest|last|expire\w*|valid until|exceptions?|qualified|findings?|vendors?|suppliers?|sub-?processors?|third[- ]part\w*|data ?cent(er|re)s?|provider|hosting|infrastructure|environments?|aws|azure|gcp|cloud|review\w*|allow\w*|available|access\w*|request)\b/i.test(
      s,
    )
  )
    return undefined;
  const hits = CERTS.filter(([re]) => re.test(s));
  if (hits.length !== 1) return undefined;
  // PCI DSS "compliance" is also a scope word; certified/attested wording is required.
  return { facts: [{ key: 'compliance.certifications', test: 'contains', value: hits[0]![1] }], risk: false };
}

const OFFER =
  /\b(solutions?|products?|offerings?|software|offer\w*|options?|optional(ly)?|available|availability|provid\w*|support\w*|deploy\w*|install\w*|versions?|editions?|deployments?|can\b|could\b|be (hosted|run|installed)|sell\w*|licen[cs]\w*|alternatives?|models?|purchas\w*|request\w*|choose|choice|permit\w*|allow\w*)\b/i;

/**
 * "A hardening guide for the on-premises installation", "Is the on-premises software signed?": after a
 * definite word the option is taken as existing and something about it is asked, not whether we offer it.
 */
const qualifiesAnother = (s: string, at: number) => /\b(the|your|its|their|our|each|every|this|that)\s+$/i.test(s.slice(0, at));

function serviceScope(s: string): Finding | undefined {
  const onPrem =
    /\b(on[- ]?prem(ise|ises)?|self[- ]?host(ed|ing)?|self[- ]?managed (deployment|installation|version|option|edition)|customer[- ](hosted|managed (deployment|installation|hosting))|install(ed)? (locally|on[- ]site)|(deploy\w*|host\w*|install\w*|run\w*)( (it|the (\w+)))? (in|on|within|inside) (the )?(customer|client|institution|your own|our own|your|their own|university)('?s)? (own )?(data ?cent(er|re)s?|infrastructure|environment|servers?|premises|network|hardware|cloud (account|tenant|subscription)))\b/i;
  if (
    onPrem.test(s) &&
    OFFER.test(s) &&
    !qualifiesAnother(s, onPrem.exec(s)!.index) &&
    !/\b(secur(e|ed|ing|ity)|protect\w*|patch\w*|monitor\w*|physical|polic(y|ies)|how|encrypt\w*|connect\w*|agent|integrat\w*|vpn|directory|ldap)\b/i.test(s)
  ) {
    return {
      facts: [
        { key: 'services.on_premises_option', test: 'boolean', ...(/\b(not|never|no)\b/i.test(s.slice(0, onPrem.exec(s)!.index)) ? { negated: true } : {}) },
      ],
      risk: false,
    };
  }
  if (
    /\b(only|exclusively|solely) (offered |available |delivered |provided |sold )?(as |via |through |in )?(a |the )?(saas|software[- ]as[- ]a[- ]service|cloud|hosted|subscription)\b|\b(saas|cloud)[- ]only\b/i.test(
      s,
    )
  ) {
    return { facts: [{ key: 'services.on_premises_option', test: 'boolean', negated: true }], risk: false };
  }
  const single =
    /\b(single[- ]?tenan\w*|dedicated (instances?|environments?|tenanc(y|ies)|tenants?|deployments?|infrastructure|hosting|servers?|databases?)|isolated (instances?|environments?|tenants?)|private (instances?|cloud (deployments?|options?|instances?|hosting|editions?)))\b/i;
  if (
    single.test(s) &&
    !qualifiesAnother(s, single.exec(s)!.index) &&
    !/\b(multi[- ]?tenan\w*|shared|how|polic(y|ies)|test(ing)?|development|staging|secur(e|ed|ing)|protect\w*)\b/i.test(s)
  ) {
    return {
      facts: [{ key: 'services.single_tenant_option', test: 'boolean', ...(negatedBefore(s, single.exec(s)!.index) ? { negated: true } : {}) }],
      risk: false,
    };
  }
  // The service offered, not what a consultant will do on site (that is the buyer's follow-up).
  const consult =
    /\b(consult(ing|ancy|ative)( services?| engagements?| work)?|professional services|implementation services|advisory services|onsite services|on-site services|staff augmentation)\b/i;
  if (
    consult.test(s) &&
    /\b(provid\w*|offer\w*|perform\w*|deliver\w*|includ\w*|engag\w*|sell\w*|render\w*|supply\w*|part of|available)\b/i.test(s) &&
    !/\b(polic(y|ies)|how|secur\w*|background|screen\w*|train\w*|consultants?|third[- ]party|sub-?contract\w*|nda|confidentiality|access|accounts?|take place|on-?site|on-?premises?|hardware|possession|network)\b/i.test(
      s.replace(consult, ' '),
    )
  ) {
    return {
      facts: [{ key: 'services.offers_consulting', test: 'boolean', ...(negatedBefore(s, consult.exec(s)!.index) ? { negated: true } : {}) }],
      risk: false,
    };
  }
  return undefined;
}

const AI_TERMS =
  /\b(ai|a\.i\.|artificial intelligence|machine[- ]learning|ml|llms?|large language models?|generative (ai|models?)|gen ?ai|genai|neural (networks?|nets?)|ai[- ](powered|driven|based|enabled|features?|capabilit\w*|models?|assistants?|agents?)|chatbots?|gpt\w*|copilot|language models?|predictive models?|deep learning)\b/i;
const CUSTOMER_DATA =
  /\b((our|customer|client|tenant|user|end[- ]user|institution(al)?|your customers'?|customers'?|clients'?|users'?|personal|submitted|uploaded|input|production|my|subscriber)\s*('s)?\s*(data|content|inputs?|prompts?|information|records|files|documents|conversations|usage data))\b|\bdata (we|our (users|staff|students|customers)) (submit|provide|upload|enter)\w*\b|\bour data\b/i;

/** AI use and model training on customer data. */
function aiScope(s: string): Finding | undefined {
  const train = /\b(train(s|ed|ing)?|fine[- ]?tun\w*|re-?train\w*|improv(e|es|ing)|develop(s|ing)?|build(s|ing)?|enhanc\w*)\b/i;
  const model = /\b(models?|ai|a\.i\.|ml|llms?|algorithms?|machine[- ]learning|artificial intelligence|neural)\b/i;
  const trainM = train.exec(s);
  if (trainM && model.test(s) && CUSTOMER_DATA.test(s)) {
    if (
      /\b(opt(ing)?[- ]?(out|in)|consent|polic(y|ies)|process(es)? (for|to)|procedures?|prevent\w*|controls?|contract\w*|how|can (we|customers|clients|users)|choose|disable|configur\w*|setting|toggle)\b/i.test(
        s,
      )
    )
      return { facts: [], risk: false };
    const negated = negatedBefore(s, trainM.index) || /\b(never|not|excluded|exclude)\b.{0,40}\b(train|fine|model)/i.test(s);
    return { facts: [{ key: 'ai.trains_on_customer_data', test: 'boolean', ...(negated ? { negated: true } : {}) }], risk: !negated };
  }
  const term = AI_TERMS.exec(s);
  if (term) {
    // AI as a product feature, not as a governance topic or a tool of the security team.
    if (
      /\b(polic(y|ies)|governance|framework|risk assessments?|assess\w*|review\w*|inventor\w*|oversight|ethic\w*|responsible (ai|use)|process(es)? (for|to)|procedures?|detect\w*|threat|monitor\w*|how|employees|staff|personnel|training (on|for)|bias|transparen\w*|explainab\w*|human review|regulat\w*|act\b|acceptable use|vendors?|suppliers?|sub-?processors?|internal(ly)?|developers?|engineers?|tools?|coding assistants?|workforce|opt(ing)?[- ]?(out|in)|choice|choose|consent|disabl\w*|configur\w*|tuning|validation|mechanisms?|safeguards?|defen[cs]es?|adversarial|limit\w*|mitigat\w*|plan(s|ned|ning)?|supply[- ]chain|risks?|documentation|document\w*|dlp|liabilit\w*|contractual|protect\w*|accessibility|secur\w*|prompt injection|guardrails?|hallucinat\w*|incidents?|testing|tested|audit\w*)\b/i.test(
        s,
      )
    )
      return { facts: [], risk: false };
    if (
      !/\b(use[sd]?|using|utili[sz]\w*|leverag\w*|incorporat\w*|includ\w*|contain\w*|employ\w*|rel(y|ies|ying) on|powered|built|embed\w*|integrat\w*|offer\w*|provid\w*|featur\w*|deploy\w*|ship\w*|have|has|make use|apply|applies|run\w*|based on|driven|enabled|call\w*|invok\w*|connect\w*|send\w*)\b/i.test(
        s,
      )
    )
      return undefined;
    return { facts: [{ key: 'ai.product_uses_ai', test: 'boolean', ...(negatedBefore(s, term.index) ? { negated: true } : {}) }], risk: false };
  }
  return undefined;
}

const BREACH_WINDOW = new RegExp(`\\b(last|past|previous|prior|preceding|within( the)?( last| past)?)\\s+(?:${NUM}\\s+)?(years?|yrs?|months?)\\b`, 'i');
const WORD_MONTHS: Record<string, number> = { year: 12, years: 12, yr: 12, yrs: 12, month: 1, months: 1 };

/** "Have you had a data breach in the last 3 years?" */
function breachScope(s: string, full: string = s): Finding | undefined {
  const past =
    /\b((have|has)\s+(you|your \w+( \w+)?|the (company|organi[sz]ation|vendor|firm|business|solution|service|product|platform)|there|it|we|any)\s+(ever\s+)?(been|had|experienced|suffered|sustained|encountered|reported|disclosed|detected|identified|notified|seen)|had (a|any)|did (you|your \w+)( ever)? (have|experience|suffer)|(was|were|been)\s+(\w+\s+)?(breached|compromised|hacked|attacked|a victim|the victim|the subject|subject|involved|affected|impacted)|(experienced|suffered|sustained|encountered)\b|(was|were) there\b|(has|have) there been\b|(any|a)\s+(\w+\s+){0,3}(breach(es)?|compromises?|incidents?|attacks?|leaks?)\b.{0,60}\b(in|during|within|over|for) (the )?(last|past|previous|prior|preceding))/i;
  const topic =
    /\b(breach(es|ed)?|compromis(e|ed|es)|hack(ed)?|unauthori[sz]ed (access|disclosure|acquisition)|security incidents?|data (leaks?|loss( events?)?|exposures?)|cyber ?attacks?|ransomware|incidents?|intrusions?|attacks?)\b/i;
  if (!past.test(s) || !topic.test(s)) return undefined;
  if (
    /\b(plan|playbook|procedures?|polic(y|ies)|insurance|how|process (for|to))\b/i.test(s) &&
    !/\b(had|experienced|suffered|been (breached|compromised))\b/i.test(s)
  )
    return undefined;
  const reportable =
    /\b(breach(es|ed)?|compromis(e|ed|es)|hack(ed)?|data (leaks?|loss|exposures?)|reportable|notifiable|unauthori[sz]ed (access|disclosure|acquisition))\b/i.test(
      s,
    );
  const negated =
    /\b(no|not|never|zero|free of|without)\b\s+(\w+\s+){0,4}(breach|incident|compromise|hack|leak)/i.test(s) ||
    /\b(have|has) not\b|\bhaven'?t\b|\bhasn'?t\b/i.test(s);
  const facts: FactNeed[] = [];
  const w = BREACH_WINDOW.exec(s) ?? BREACH_WINDOW.exec(full);
  if (reportable && w && !/\bever\b/i.test(full)) {
    const n = w[4] ? (numberOf(w[4]) ?? 1) : 1;
    const months = n * (WORD_MONTHS[w[5]!.toLowerCase()] ?? 12);
    facts.push({ key: 'incidents.reportable_breach_last_36_months', test: 'boolean', months, ...(negated ? { negated: true } : {}) });
  }
  return { facts, risk: !negated };
}

/** "Is your RTO 24 hours or less?", "RPO under one hour?", "more than 500 employees?" */
function compareScope(s: string): Finding | undefined {
  const rto =
    /\b(rto|recovery time( objective)?|time to (restore|recover)|restor(e|ed|ation of) (the )?(service|operations|systems?|availability)|recover(ed|y of)? (the )?(service|operations|systems?)|back online|fully restored)\b/i;
  const rpo =
    /\b(rpo|recovery point( objective)?|data loss|(a )?point (no|not) older than|restore (data )?to a point|lose (no more than|at most|up to|less than)|(lose|lost) \w+ (of|worth of) data|worth of data)\b/i;
  if (rpo.test(s)) {
    const c = durationCompare(s, 'bcdr.rpo_minutes', 'minute', /\b(lose|loss)\b/i.test(s) ? '<=' : '=');
    if (c) return { facts: [c], risk: false };
  }
  if (rto.test(s) && !/\b(test(ed|s|ing)?|document\w*|defin\w*)\b.*\b(rto|recovery time)/i.test(s)) {
    const c = durationCompare(s, 'bcdr.rto_hours', 'hour', /\b(restor|recover|back online)/i.test(s) && !/\brto\b|recovery time/i.test(s) ? '<=' : '=');
    if (c) return { facts: [c], risk: false };
  }
  if (
    /\b(notify|notif\w*|inform\w*|alert\w*|tell)\b/i.test(s) &&
    /\b(breach\w*|incidents?|compromis\w*)\b/i.test(s) &&
    /\b(customers?|clients?|institutions?|us|you)\b/i.test(s)
  ) {
    const c = durationCompare(s, 'incidents.notification_hours', 'hour', '<=');
    if (c && c.op === '=') c.op = '<=';
    if (c) return { facts: [c], risk: false };
  }
  if (
    /\b(employees|staff|people|personnel|ftes?|workforce|headcount|head count|team members)\b/i.test(s) &&
    !/\b(security|it|access|trained|background|dedicated|privileged|admin\w*|developers?|engineers?|support|who|that)\b/i.test(s)
  ) {
    const q = quantities(s).find((x) => x.op && x.number >= 2);
    if (q) return { facts: [{ key: 'company.employee_count', test: 'compare', op: q.op!, number: q.number, unit: 'people' }], risk: false };
  }
  if (/\bbackups?\b/i.test(s) && /\b(retain\w*|retention|kept|keep|stored for|held for|preserv\w*)\b/i.test(s)) {
    const q = quantities(s, DURATION_UNITS + '|months?|years?').find((x) => x.unit);
    if (q) {
      const u = q.unit!.toLowerCase();
      const days = /^month/.test(u)
        ? q.number * 30
        : /^year/.test(u)
          ? q.number * 365
          : /^week/.test(u)
            ? q.number * 7
            : /^(hour|hr|h$)/.test(u)
              ? q.number / 24
              : /^min/.test(u)
                ? q.number / 1440
                : q.number;
      return { facts: [{ key: 'data.backup_retention_days', test: 'compare', op: q.op ?? '>=', number: round(days), unit: 'days' }], risk: false };
    }
  }
  if (/\b(uptime|availability|sla)\b/i.test(s)) {
    const m = /(\d{2}(?:\.\d+)?)\s*(%|percent)/i.exec(s);
    if (m) {
      const q = quantities(s).find((x) => Math.abs(x.number - Number(m[1])) < 1e-9);
      return { facts: [{ key: 'services.uptime_sla_percent', test: 'compare', op: q?.op ?? '>=', number: Number(m[1]), unit: 'percent' }], risk: false };
    }
  }
  const freqKeys: Array<[RegExp, string]> = [
    [/\b(penetration test\w*|pen[- ]?test\w*|pentest\w*|ethical hack\w*)\b/i, 'pentest.frequency'],
    [
      /\b(disaster recovery|dr|business continuity|bcp|bcdr|continuity) (plans? )?(\w+ )?(test(s|ed|ing)?|exercis\w*|drills?)\b|\btest\w* (your |the |of )?(disaster recovery|dr|business continuity|bcp|bcdr|continuity)\b/i,
      'bcdr.dr_test_frequency',
    ],
    [/\b(security awareness|awareness training|security training|phishing (simulations?|training|tests?))\b/i, 'people.security_training_frequency'],
  ];
  for (const [re, key] of freqKeys) {
    if (!re.test(s)) continue;
    const perYear = frequencyPerYear(s);
    if (perYear === undefined) continue;
    let op: Op = '>=';
    if (/\b(more (often|frequently) than|more than)\b/i.test(s)) op = '>';
    else if (/\b(at most|no more (often|frequently) than|less (often|frequently) than)\b/i.test(s)) op = '<=';
    return { facts: [{ key, test: 'compare', op, number: perYear, unit: 'per_year' }], risk: false };
  }
  return undefined;
}

/** Other boolean profile facts a yes/no names outright. */
function otherScope(s: string): Finding | undefined {
  if (
    /\bcyber(security)?[- ]?(liability )?insurance\b|\b(insurance|insured)\b.{0,40}\bcyber\b/i.test(s) &&
    !/\b(how much|amount|limit|coverage (of|amount|limit)|what|name|carrier|underwriter|certificate)\b/i.test(s)
  ) {
    return { facts: [{ key: 'company.cyber_insurance', test: 'boolean' }], risk: false };
  }
  if (
    /\b(bug bount(y|ies)|vulnerability disclosure (program|policy|process)|responsible disclosure (program|policy)|security\.txt)\b/i.test(s) &&
    !/\b(how|describe|triage|sla|timeline)\b/i.test(s)
  ) {
    return { facts: [{ key: 'pentest.vulnerability_disclosure_program', test: 'boolean' }], risk: false };
  }
  if (
    /\b(choose|select|pick|specify|decide)\b.{0,60}\b(region|country|location|data residency|where (their|its|the|our|my) data)\b/i.test(s) &&
    /\b(customers?|clients?|tenants?|we|you|users?|institutions?)\b/i.test(s) &&
    !/\b(how|polic)/i.test(s)
  ) {
    return { facts: [{ key: 'data.customer_selects_region', test: 'boolean' }], risk: false };
  }
  if (
    /\b(single sign[- ]on|sso|saml|oidc|openid connect)\b/i.test(s) &&
    /\b(support\w*|offer\w*|integrat\w*|allow\w*|enable\w*|available|compatible|work with)\b/i.test(s) &&
    /\b(product|solution|service|platform|application|app|system|software|tool|you)\b/i.test(s) &&
    !/\b(employees|staff|internal|your (own )?(systems|workforce)|how|enforc\w*|requir\w*|mandat\w*|polic)/i.test(s)
  ) {
    return { facts: [{ key: 'services.supports_sso', test: 'boolean' }], risk: false };
  }
  if (
    /\b(byok|bring your own keys?|customer[- ]managed (encryption )?keys?|cmks?|customer[- ]supplied keys?|hold your own key|hyok)\b/i.test(s) &&
    !/\b(how|rotat\w*|polic)/i.test(s)
  ) {
    return { facts: [{ key: 'data.customer_managed_keys', test: 'boolean' }], risk: false };
  }
  if (
    /\b(background (checks?|screening|investigations?)|criminal (record|background) checks?|pre-?employment screening|(employee|staff|personnel) vetting)\b/i.test(
      s,
    ) &&
    !/\b(how|every|annual\w*|periodic\w*|re-?(check|screen|run)\w*|again|frequency|contractors?|third[- ]part\w*|vendors?|sub-?processors?|depth|scope|include|credit|drug|country|countries|law|local)\b/i.test(
      s,
    )
  ) {
    return { facts: [{ key: 'people.background_checks', test: 'boolean' }], risk: false };
  }
  return undefined;
}

/** Admissions of a bad practice: "yes" is the answer a customer does not want. */
const PREVENTIVE =
  /\b(prevent\w*|prohibit\w*|forbid\w*|disallow\w*|detect\w*|scan\w*|remov\w*|eliminat\w*|avoid\w*|block\w*|ensur\w*|enforc\w*|polic(y|ies)|procedures?|process(es)?|tools?|controls?|review\w*|check(s|ed|ing)?|monitor\w*|rotat\w*|vault\w*|manag(e|ed|es|ing|ement)|track\w*|remediat\w*|fix(ed|es|ing)?|resolv\w*|correct\w*|replac\w*|upgrad\w*|retir\w*|decommission\w*|mitigat\w*|identif\w*|rather than|instead of|train\w*|plan\w*|how|approv\w*|document\w*|justif\w*|disable\w*|chang(e|ed|es|ing)|reset\w*|mask\w*|anonymi[sz]\w*|obfuscat\w*|sanitiz\w*|scrub\w*|synthetic|de-?identif\w*|requir\w*|restrict\w*|mdm|enrol\w*|secur(e|ed|ing)|encrypt(ed|s|ing)?\b(?!.*\bun)|patch\w*)\b/i;

/** Words that say the question asks how a gap is guarded against, not whether it exists. */
const GUARDS =
  /\b(prevent\w*|prohibit\w*|forbid\w*|disallow\w*|detect\w*|block\w*|ensur\w*|enforc\w*|polic(y|ies)|procedures?|process(es)? (to|for|that)|controls? (to|that|for)|how|alert\w*|monitor\w*|never|not|no)\b/i;

interface RiskRule {
  re: RegExp;
  preventive?: RegExp;
  key?: string;
}
const RISK_RULES: RiskRule[] = [
  // Secrets in code or in clear text.
  {
    re: /\b(hard[- ]?cod\w*|embedded|plain[- ]?text|clear[- ]?text|unencrypted|reversibl\w*|in(to)? (the |your |our )?(source )?code|in(to)? (the |your |our )?(scripts?|config(uration)? files?|code )?(repositor(y|ies)|source control|git|images?|containers?|scripts?|config(uration)? files?))\b.{0,60}\b(passwords?|passphrases?|secrets?|credentials?|api keys?|keys|tokens?|private keys?)\b|\b(passwords?|passphrases?|secrets?|credentials?|api keys?|tokens?|private keys?)\b.{0,60}\b(hard[- ]?cod\w*|embedded|in plain[- ]?text|in clear[- ]?text|stored unencrypted|unencrypted|reversibl\w*|in(to)? (the |your |our )?(source )?code|in(to)? (the |your |our )?(scripts?|config(uration)? files?|code )?(repositor(y|ies)|source control|git|images?|containers?|scripts?|config(uration)? files?)|committed)\b/i,
  },
  // Shared or generic accounts.
  {
    re: /\b(shared|generic|group|common|communal|team)\s+(admin\w*|administrat\w*|privileged|root|super ?user|service|system|user|login)?\s*(accounts?|logins?|credentials?|ids?|user ?ids?|usernames?|passwords?)\b|\b(share|shares|sharing)\b.{0,30}\b(passwords?|credentials?|accounts?|logins?)\b/i,
  },
  // Default credentials left in place.
  {
    re: /\bdefault\s+(vendor\s+|factory\s+|admin\w*\s+)?(passwords?|credentials?|accounts?|logins?|settings|configurations?)\b/i,
    preventive:
      /\b(chang(e|ed|es|ing)|replac\w*|disabl\w*|remov\w*|rotat\w*|reset\w*|prevent\w*|prohibit\w*|polic(y|ies)|procedures?|process(es)?|harden\w*|how)\b(?<!\bun\w*)/i,
  },
  // Selling or advertising with customer data.
  {
    re: /\b(sell|sells|sold|selling|sale of|rent(s|ed|ing)?|monetiz\w*|monetis\w*|data brokers?)\b.{0,60}\b(data|information|records|lists?)\b|\b(data|information|records)\b.{0,60}\b(sold|sell|rented|monetiz\w*|monetis\w*)\b|\b(data|information)\b.{0,80}\b(advertis\w*|marketing|ad targeting|targeted ads)\b|\b(advertis\w*|marketing)\b.{0,60}\b(customer|client|personal|user) (data|information)\b/i,
    key: 'data.sells_customer_data',
  },
  // End-of-life software.
  {
    re: /\b(end[- ]of[- ]life|eol|end[- ]of[- ]support|unsupported|out[- ]of[- ]support|no longer supported|obsolete|legacy|deprecated|outdated|unpatched|out[- ]of[- ]date)\b.{0,40}\b(software|systems?|operating systems?|os|versions?|components?|libraries|dependenc\w*|platforms?|applications?|servers?|hardware|firmware|browsers?|databases?)\b|\b(software|systems?|operating systems?|components?|libraries|applications?|servers?)\b.{0,40}\b(end[- ]of[- ]life|no longer supported|out of support|unsupported|past (their|its) end)\b/i,
  },
  // Known unfixed vulnerabilities.
  {
    re: /\b(unpatched|unremediated|un-?remediated|unresolved|unfixed|outstanding|open|known|existing|current)\s+(critical\s+|high\s+|high[- ]risk\s+|high[- ]severity\s+|severe\s+|serious\s+|exploitable\s+)?(vulnerabilit\w*|cves?|security (flaws?|issues?|bugs?|weaknesses))\b|\b(critical|high[- ]severity|high[- ]risk)\s+(vulnerabilit\w*|findings?|issues?)\b.{0,40}\b(unpatched|open|outstanding|unresolved|unremediated|not (yet )?(been )?(patched|fixed|remediated|resolved))\b/i,
  },
  // Production data outside production.
  {
    re: /\b(production|prod|live|real|actual|customer|client|personal)\s+(customer\s+|client\s+|user\s+)?(data|information|records|databases?)\b.{0,60}\b(test\w*|development|dev|staging|non-?production|qa|lower|sandbox|demo)\s*(environments?|systems?|servers?|instances?|purposes?)?\b/i,
  },
  // Personal devices outside management.
  {
    re: /\b(personal(ly)?[- ]?(owned)?|own|private|home|byod|employee[- ]owned|unmanaged)\s+(mobile\s+)?(devices?|computers?|laptops?|phones?|machines?|tablets?|pcs?)\b|\bbyod\b/i,
    preventive:
      /\b(mdm|managed|enrol\w*|polic(y|ies)|procedures?|controls?|restrict\w*|prohibit\w*|prevent\w*|forbid\w*|only if|require\w*|must|block\w*|how|approv\w*|containeri[sz]\w*|secur(e|ed|ing)|encrypt\w*)\b(?<!\bun\w*)/i,
  },
  // Exceptions, waivers, deviations.
  {
    re: /\b(are|were|have|has|is) there\b.{0,30}\b(exceptions?|waivers?|deviations?|exemptions?)\b|\b(have|has) (any )?(exceptions?|waivers?|deviations?|exemptions?) been\b|\b(exceptions?|waivers?|deviations?|exemptions?)\s+(to|from)\b.{0,40}\b(polic\w*|standards?|controls?|requirements?|rules?)\b.{0,40}\b(granted|exist\w*|in place|in effect|currently|open|outstanding)\b/i,
    preventive: /\b(process(es)? (for|to)|procedures?|how|document\w*|approv\w* (process|by)|track\w*|review\w*|polic(y|ies) (for|on|governing))\b/i,
  },
  // Failed audits and open findings.
  {
    re: /\b(failed|fail(ed)? to pass|did not pass|not passed)\b.{0,40}\b(audits?|assessments?|examinations?|certifications?|inspections?|reviews?|tests?)\b|\b(qualified|adverse) (opinion|report)s?\b|\bmaterial weakness\w*\b|\b(major|minor)? ?non-?conformit\w*\b|\bsignificant deficienc\w*\b|\b(open|outstanding|unresolved|unremediated|current)\s+(audit\s+|assessment\s+|regulatory\s+|pen(etration)?[- ]?test\s+)?(findings?|exceptions?|issues?|observations?|deficienc\w*|gaps?)\b|\bexceptions? (noted|reported|identified|found)\b/i,
    preventive: /\b(track\w*|process(es)? (for|to)|procedures?|how|remediat\w* (plan|process|within)|polic(y|ies))\b/i,
  },
  // Regulatory action or litigation.
  {
    re: /\b(fined|fines?|penalt\w*|sanction\w*|enforcement actions?|regulatory actions?|lawsuits?|litigation|legal actions?|class actions?|consent (decree|order)|investigated by|under investigation|subject of (an? )?(investigation|inquiry|complaint))\b/i,
    preventive: /\b(how|process(es)? (for|to)|procedures?|polic(y|ies)|insurance|monitor\w*)\b/i,
  },
  // Data or access without a protection.
  {
    re: /\b(without|lacking|lacks|absent|bypass\w*|circumvent\w*|disabled?)\s+(any\s+)?(encryption|mfa|multi[- ]factor|two[- ]factor|2fa|authentication|approval|authori[sz]ation|logging|review|a business need|business justification|a password|passwords|tls|vpn|background (checks?|screening|verification)|(security )?screening|vetting|an nda|contracts?)\b|\bunencrypted\b|\b(telnet|ftp|ssl ?v?[23]|tls ?1\.[01]|md5|sha-?1|rc4|des)\b.{0,40}\b(in use|used|enabled|allowed|supported|permitted)\b|\b(use[sd]?|using|allow\w*|permit\w*|support\w*|enabled?)\b.{0,30}\b(telnet|ftp|ssl ?v?[23]|tls ?1\.[01]|md5|sha-?1|rc4)\b/i,
  },
  // Data sent abroad without naming where.
  {
    re: /\b(offshore|overseas|abroad|cross[- ]border|outside (of )?(the |your |our |their |its )?(\w+('s)? )?(home |own )?(country|countries|region|jurisdictions?|state))\b/i,
    preventive:
      /\b(polic(y|ies)|procedures?|how|safeguards?|clauses?|agreements?|mechanisms?|approv\w*|prevent\w*|prohibit\w*|restrict\w*|notif\w*|assess\w*)\b/i,
  },
  // Outages and findings that happened.
  {
    re: /\b(have|has|had|were|was|did)\b.{0,40}\b(any|an|unplanned|major|significant)\s+(\w+\s+)?(outages?|downtime|service (disruptions?|interruptions?)|data loss)\b/i,
    preventive: /\b(how|plan|procedures?|polic(y|ies)|process(es)? (for|to))\b/i,
  },
  {
    re: /\b(were|are|have|has) there (been )?any (\w+\s+){0,2}(findings?|exceptions?|deviations?|nonconformit\w*|non-conformit\w*|observations?|deficienc\w*)\b/i,
    preventive: /\b(how|process(es)? (for|to)|procedures?|polic(y|ies) (for|on))\b/i,
  },
  // Permissive settings.
  {
    re: /\b(permit\w*|allow\w*|let)\b.{0,40}\b(unapproved|unauthori[sz]ed|unlicensed|unvetted|weak|blank|empty|simple|reused?|shared)\s+(\w+\s+)?(software|applications?|apps?|passwords?|credentials?|accounts?|devices?|tools?|extensions?)\b|\b(password|credential) (re-?use|sharing)\b.{0,20}\b(allowed|permitted)\b/i,
    preventive: /\b(prohibit\w*|prevent\w*|block\w*|polic(y|ies)|how|only (after|if|with))\b/i,
  },
  // Secrets or card numbers written to logs.
  {
    re: /\b(log|logs|logged|logging|record)\b.{0,30}\b(passwords?|credentials?|secrets?|tokens?|(full )?(credit )?card numbers?|pans?|cvvs?)\b|\b(passwords?|credentials?|secrets?|tokens?|card numbers?|pans?|cvvs?)\b.{0,40}\b(in|to|into) (the |your |application |system |server |audit )?logs?\b/i,
    preventive: /\b(mask\w*|redact\w*|prevent\w*|exclud\w*|scrub\w*|truncat\w*|filter\w*|never|polic(y|ies)|how|hash\w*)\b/i,
  },
  // Administrative rights for everyone.
  {
    re: /\b(all|every|any|most)\s+(users?|developers?|employees|staff|engineers?|personnel)\b.{0,30}\b(local )?(admin\w*|root|privileged|superuser)\s*(rights?|privileges?|access)?\b|\b(admin\w*|root|privileged|superuser)\s+(rights?|privileges?|access)\b.{0,30}\b(granted|given|assigned|available)\s+to\s+(all|every|any|most)\b/i,
    preventive: /\b(restrict\w*|limit\w*|prevent\w*|prohibit\w*|polic(y|ies)|how|review\w*|approv\w*|only)\b/i,
  },
  // Missing patches.
  {
    re: /\b(missing|lacking|without|behind on)\s+(critical\s+|security\s+|high\s+|important\s+)*(patches|updates|fixes)\b/i,
    preventive: /\b(how|process(es)? (for|to)|procedures?|polic(y|ies)|track\w*|identif\w*|detect\w*|scan\w*)\b/i,
  },
  // Violations and secondary use that happened or will happen.
  {
    re: /\b(had|been|were there|have there been|any)\b.{0,40}\bviolations?\b|\bviolated\b/i,
    preventive: /\b(how|process(es)? (for|to)|procedures?|report\w* (process|mechanism))\b/i,
  },
  { re: /\b(used|disclosed|re-?disclosed|shared|processed)\b.{0,40}\bfor any (other )?purposes? other than\b/i },
  // Single points of failure, unsupported wording: "any single point of failure".
  { re: /\bsingle points? of failure\b/i },
  // Data kept after termination.
  { re: /\b(retain\w*|keep\w*|kept|hold\w*)\b.{0,60}\b(indefinitely|forever|after (the )?(contract|termination|agreement) (ends?|expires?|is terminated))\b/i },
];

function riskOf(s: string): Finding | undefined {
  for (const r of RISK_RULES) {
    const m = r.re.exec(s);
    if (!m) continue;
    const rest = s.replace(m[0], ' ');
    // A rule's own preventive words are read in the whole question; the generic ones outside the match.
    // In "without approval" the preventive word is the protection that is missing: it names the risk.
    const missing = /^\W*(without|lacking|lacks|absent|bypass\w*|circumvent\w*|disabled?|missing|behind on)\b/i.test(m[0]);
    // Outside it, only words that guard against the gap make the question a practice ("a process to
    // prevent access without approval"), not any preventive noun ("can changes reach production without review").
    const guarded = missing ? GUARDS.test(rest) : PREVENTIVE.test(rest) || (PREVENTIVE.test(m[0]) && !/\b(un\w+)\b/i.test(m[0]));
    if (r.preventive ? r.preventive.test(s) : guarded) {
      return { facts: [], risk: false };
    }
    // "Confirm that no shared accounts exist": "yes" is the good answer.
    const negated = negatedBefore(s, m.index) && !/^\s*without\b/i.test(m[0]);
    const facts: FactNeed[] = [];
    if (r.key) {
      if (/\b(advertis\w*|marketing|ad targeting|targeted ads)\b/i.test(m[0]) && !/\b(sell|sold|sale|rent|monetiz|monetis|broker)/i.test(m[0]))
        facts.push({ key: 'data.shares_with_third_parties_for_marketing', test: 'boolean', ...(negated ? { negated: true } : {}) });
      else facts.push({ key: r.key, test: 'boolean', ...(negated ? { negated: true } : {}) });
    }
    return { facts, risk: !negated };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Fact questions (not yes/no)

interface FactRule {
  re: RegExp;
  key?: string;
  shape: AnswerShape;
  exclude?: RegExp;
}
const FACT_RULES: FactRule[] = [
  { re: /\b(rto|recovery time objectives?|recovery time)\b/i, key: 'bcdr.rto_hours', shape: 'duration' },
  { re: /\b(rpo|recovery point objectives?|recovery point)\b/i, key: 'bcdr.rpo_minutes', shape: 'duration' },
  {
    re: /\b(how (often|frequently|regularly)|frequency|cadence|interval|how many times)\b.{0,80}\b(penetration|pen[- ]?test\w*|pentest\w*|ethical hack\w*)|\b(penetration test\w*|pen[- ]?test\w*|pentest\w*)\b.{0,40}\b(frequency|cadence|interval|how often|schedule)\b/i,
    key: 'pentest.frequency',
    shape: 'frequency',
  },
  {
    re: /\b(when|date|what date|month and year)\b.{0,60}\b(last|most recent|latest|previous)\b.{0,30}\b(penetration|pen[- ]?test\w*|pentest\w*)|\b(last|most recent|latest)\s+(external\s+|third[- ]party\s+)?(penetration|pen[- ]?test\w*|pentest\w*)\b.{0,30}\b(date|when|performed|conducted|completed)\b/i,
    key: 'pentest.last_date',
    shape: 'date',
  },
  {
    re: /\b(how (often|frequently|regularly)|frequency|cadence)\b.{0,80}\b(disaster recovery|dr|business continuity|bcp|bcdr|continuity)\b.{0,40}\b(test\w*|exercis\w*|drill\w*)|\b(disaster recovery|dr|business continuity|bcp)\s+(plans?\s+)?(test\w*|exercis\w*)\b.{0,30}\b(frequency|cadence|how often)\b/i,
    key: 'bcdr.dr_test_frequency',
    shape: 'frequency',
  },
  {
    re: /\b(how (often|frequently|regularly)|frequency|cadence)\b.{0,80}\b(security awareness|awareness training|security training|phishing (simulations?|training|tests?))\b/i,
    key: 'people.security_training_frequency',
    shape: 'frequency',
  },
  {
    re: /\b(how (soon|quickly|fast|long|many hours)|within how many|time ?frame|timeline|how much time|deadline|notification (time|period|window))\b.{0,80}\b(notif\w*|inform\w*|alert\w*|tell)\b|\b(notif\w*|inform\w*)\b.{0,80}\b(how (soon|quickly|fast)|time ?frame|timeline|within how many)\b/i,
    key: 'incidents.notification_hours',
    shape: 'duration',
  },
  {
    re: /\b(how long|retention (period|time)|retained for how long|kept for how long|how many days)\b.{0,60}\bbackups?\b|\bbackups?\b.{0,40}\b(retention (period|time)|kept for|retained for|how long)\b/i,
    key: 'data.backup_retention_days',
    shape: 'duration',
  },
  {
    re: /\b(how long|retention period|how many days|when)\b.{0,80}\b(data|information|records)\b.{0,60}\b(deleted|destroyed|purged|removed|retained|kept)\b.{0,40}\b(after|following|upon|once)\b.{0,30}\b(termination|contract|cancellation|offboarding|end)/i,
    key: 'data.retention_days',
    shape: 'duration',
  },
  { re: /\b(minimum|lowest|which|what)\s+(version of\s+)?(tls|ssl)\b|\btls version\b/i, key: 'data.min_tls_version', shape: 'text' },
  {
    re: /\b(uptime|availability)\s+(sla|guarantee|commitment|target|percentage|level)\b|\bservice level (agreement )?(for|on) (uptime|availability)\b|\bwhat is (your|the) (sla|uptime|guaranteed availability)\b/i,
    key: 'services.uptime_sla_percent',
    shape: 'number',
  },
  {
    re: /\b(support hours|hours of support|support (availability|coverage|window)|when (is|are) (customer )?support\b)/i,
    key: 'services.support_hours',
    shape: 'text',
  },
  { re: /\b(dpo|data protection officer|privacy officer|privacy (contact|lead))\b/i, key: 'company.dpo_email', shape: 'email' },
  {
    re: /\b(who is|name of|name and title of|identify|name)\s+(your|the)?\s*(ciso|chief information security officer|chief security officer|cso|security officer|head of (information )?security|security lead|person responsible for (information )?security)\b|\bwho is (responsible|accountable) for (information |cyber ?)?security\b|\b(ciso|chief information security officer|security officer)('s)? name\b/i,
    key: 'company.security_officer',
    shape: 'name',
  },
  {
    re: /\b(privacy (policy|notice|statement))\b.{0,40}\b(url|link|web ?(page|site|address)|located|found|published|available)\b|\bwhere (is|can)\b.{0,30}\bprivacy (policy|notice)\b/i,
    key: 'company.privacy_policy_url',
    shape: 'url',
  },
  {
    re: /\b(security|incident|vulnerabilit\w*|abuse|psirt|soc|ciso)\b.{0,40}\b(e-?mail|mailbox|contact|point of contact|address)\b|\b(e-?mail|contact)\b.{0,40}\b(for|regarding|about)\b.{0,20}\b(security|incidents?|vulnerabilit\w*)\b|\b(e-?mails?|e-?mail addresses|contacts?|contacted)\b.{0,80}\b(security (issues?|incidents?|concerns?|matters?|questions?|problems?)|vulnerabilit\w*)\b|\b(report|disclose)\b.{0,30}\bvulnerabilit\w*\b.{0,40}\b(how|where|to whom|which address|contact)\b|\b(how|where)\b.{0,40}\b(report|disclose)\b.{0,30}\b(vulnerabilit\w*|security (issues?|concerns?|problems?))\b/i,
    key: 'company.security_contact_email',
    shape: 'email',
    exclude: /\b(ip address|mac address)\b/i,
  },
  { re: /\b(e-?mail( address)?|mailbox)\b/i, shape: 'email' },
  { re: /\b(phone|telephone|mobile|cell)( number)?\b|\bfax\b/i, shape: 'phone' },
  {
    re: /\b(legal|registered|official|company|corporate|organi[sz]ation('?s)?|business|vendor|supplier|provider|entity|firm|institution)('?s)?\s+(legal\s+|trading\s+|registered\s+)?name\b|\bname of (your|the) (company|organi[sz]ation|business|vendor|supplier|legal entity|entity|firm|provider|contracting (entity|party))\b|\bwho is the (vendor|supplier|provider)\b|\b(legal entity|contracting (entity|party))\b(?!.*\b(address|country|number)\b)/i,
    key: 'company.legal_name',
    shape: 'name',
    exclude:
      /\b(product|solution|application|service|software|tool|platform|contact|person|representative|signatory|sub-?processor|parent)\s+name\b|\bname of (the|your) (product|solution|application|service|software|tool|platform|contact|person)\b/i,
  },
  { re: /\b(registration|registry|incorporation|company|companies house)\s+(number|no\.?|#|id)\b/i, key: 'company.registration_number', shape: 'text' },
  {
    re: /\b(year (founded|established|of (incorporation|establishment|founding))|year (the|your) (company|organi[sz]ation|business|firm) was (founded|established|incorporated|formed|started)|when was (your|the) (company|organi[sz]ation|business|firm|vendor) (founded|established|incorporated|started|formed)|how (long|many years) (has|have) (your|the) (company|organi[sz]ation|business|firm) been (in business|operating|around)|how long have you been in business|years in (business|operation)|(founding|incorporation) (date|year))\b/i,
    key: 'company.founded_year',
    shape: 'number',
  },
  {
    re: /\b(headquarter\w*|head office|main office|principal (place of business|office)|registered (office|address)|company address|business address|corporate address|mailing address|street address|physical address|postal address|office address)\b|\bwhere (is|are) (your|the) (company|organi[sz]ation|business|firm|vendor|head office|offices?)\s+(located|based|headquartered|registered)\b|\bwhere are you (located|based|headquartered|registered)\b|\b(what|which) (city|town|country)\b.{0,40}\b(based|located|headquartered|registered)\b|^address\b/i,
    key: 'company.headquarters',
    shape: 'address',
    exclude: /\b(ip|mac|e-?mail|web) address\b/i,
  },
  {
    re: /\b(website|web site|homepage|home page|company url|corporate url|web address|url of (your|the) (company|website|organi[sz]ation|home ?page))\b/i,
    key: 'company.website',
    shape: 'url',
  },
  { re: /\b(url|web ?link|link|web ?page)\b/i, shape: 'url' },
  {
    re: /\b(how many|number of|total|count of|size of (your|the))\s+(full[- ]time\s+|permanent\s+)?(employees|staff|people|personnel|workers|ftes?|workforce|headcount)\b|\b(headcount|head count|employee count|company size|workforce size|organi[sz]ation size|size of (your|the) (company|organi[sz]ation|workforce))\b/i,
    key: 'company.employee_count',
    shape: 'number',
    exclude:
      /\b(security|it|access|trained|background|dedicated|privileged|admin\w*|devoted|assigned|responsible|developers?|engineers?|support|on[- ]call|contractors?|sub-?contractors?|with access|have access|can access|work(ing)? on|spend\w*|testing|this kind|part of their)\b/i,
  },
  {
    re: /\b(which|what|list|name|identify|who (is|are))\b.{0,40}\b(cloud|hosting|iaas|paas|infrastructure|data ?cent(er|re)|colocation|colo)\s+(service\s+)?(providers?|vendors?|platforms?|services?|compan(y|ies)|partners?)\b|\bwho (hosts|provides hosting for|provides (the |your )?(cloud |hosting )?infrastructure)\b|\bwhose (data ?cent(er|re)s?|cloud|infrastructure|servers|platform)\b|\b(cloud|hosting|iaas|infrastructure)\s+(service\s+)?(providers?|vendors?)\b|\bhosted (by|with|on) (which|what|whom)\b|^(hosting|hosting (provider|platform|environment|model|type|arrangement)|cloud provider|deployment model)s?\s*[?:.]?$/i,
    key: 'hosting.providers',
    shape: 'list',
  },
  {
    re: /\bwhere (is|are) (the |your )?(solution|service|application|platform|product|system|software|saas|environment)s? hosted\b/i,
    key: 'hosting.providers',
    shape: 'list',
  },
  {
    re: /\b(which|what)\s+(cloud\s+|hosting\s+|aws\s+|azure\s+|gcp\s+)?(regions?|availability zones?|data ?cent(er|re)s?( locations?)?|locations)\b|\b(list|name|identify|enumerate)\s+(all\s+)?(the\s+|your\s+)?(cloud\s+|hosting\s+|aws\s+|azure\s+|gcp\s+)?(regions?|availability zones?)\b|\bin which regions?\b|\bhosting (locations?|regions?)\b|\bdata ?cent(er|re)s?\s+(are\s+)?(located|locations?)\b|\bwhere (is|are) (your|the) data ?cent(er|re)s?\b|\b(location|locations) of (your|the) data ?cent(er|re)s?\b/i,
    key: 'hosting.regions',
    shape: 'list',
  },
  {
    re: /\b(which|what)\s+(countries|country|jurisdictions?|geographic\w*\s+(locations?|regions?)|locations?)\b|\bin which (countr(y|ies)|jurisdictions?|locations?)\b|\bwhere (is|are|will|would|do|does)\b.{0,60}\b(data|information|records|backups?|files|content)\b.{0,30}\b(stor\w*|host\w*|process\w*|locat\w*|kept|held|resid\w*|back(ed)? up|live)\b|\bwhere\b.{0,20}\b(stor\w*|host\w*|keep|hold|process)\b.{0,30}\b(data|information|records|backups?)\b|\bdata (locations?|residency|storage locations?|sovereignty)\b|\b(countr(y|ies)|jurisdictions?|locations?) (of|where|in which) (the |your |our )?((customer|client|personal|tenant)('s)? )?(data|storage|information|records)\b|\bstorage (locations?|countr(y|ies))\b|\b(stored|hosted|kept|held|located)\s+where\b/i,
    key: 'data.storage_countries',
    shape: 'list',
    exclude: /\b(compl(y|ies|iant|iance)|laws?|regulat\w*|offices?|employees|staff|personnel)\b/i,
  },
  {
    re: /\b(which|what|list|name|identify)\b.{0,40}\b(certifications?|attestations?|audit reports?|compliance (certifications?|reports?|frameworks?|standards?)|accreditations?)\b|\b(certifications?|attestations?|accreditations?)\s+(do you|does your|held|you hold|currently|obtained|achieved)\b/i,
    key: 'compliance.certifications',
    shape: 'list',
  },
  {
    re: /\b(sub-?processors?|sub-?contractors?|fourth[- ]part(y|ies)|third[- ]party (service )?providers?)\b/i,
    shape: 'list',
    exclude: /\b(how|describe|explain|process|assess\w*|review\w*|monitor\w*|manag\w*|due diligence|contract\w*)\b/i,
  },
  { re: /\b(how many|number of|count of|total number)\b/i, shape: 'number' },
  {
    re: /\b(date|when was|when were|when did|as of what date|effective date|expir(y|ation) date|valid until|what year|which year|month and year)\b/i,
    shape: 'date',
  },
  {
    re: /\b(product|solution|application|service|software|tool|platform)\s+(name|version)\b|\bname of (the|your) (product|solution|application|service|software|tool|platform)\b|^name\s*[?:.]?$|\b(contact|person|representative|respondent|signatory)('?s)?\s+(name|title)\b|\b(your|the respondent'?s?) (name|job title|title|role)\b|\b(name|title|role|position) of (the )?(person|individual|respondent|contact|representative|signatory)\b|^(respondent|contact|signatory)('?s)? (name|title)\b/i,
    shape: 'name',
  },
];

/** Open-ended questions whose answers are measurements, not profile facts: free text with a shape. */
const OPEN_SHAPES: Array<[RegExp, AnswerShape]> = [
  [/\b(how (often|frequently|regularly)|frequency|cadence)\b/i, 'frequency'],
  [/\b(how long|how quickly|how soon|time ?frame|within what time)\b/i, 'duration'],
  [/^(list|enumerate)\b|\b(which|what) (tools?|vendors?|products?|standards?|frameworks?|algorithms?|protocols?|languages?|technologies|services)\b/i, 'list'],
];

interface FactFinding {
  facts: FactNeed[];
  shape: AnswerShape;
  fact: boolean;
}

function factQuestion(t: string): FactFinding | undefined {
  // "How do you decide which countries ..." asks for a process, not the list.
  if (
    /^(how (do|does|did|is|are|will|would|should)|describe|explain|outline|detail|summari[sz]e|elaborate)\b|^what (is|are) (your|the) (approach|process|strategy|procedure|methodology|polic(y|ies)|plan|practice)/i.test(
      stripLead(t),
    )
  )
    return undefined;
  const facts: FactNeed[] = [];
  let shape: AnswerShape | undefined;
  // "Provide ... (link or attached)" asks for a document, not a value in the cell.
  const request = /^(please\s+)?(provide|describe|explain|include|attach|upload|submit|share|outline|detail|summari[sz]e|send)\b/i.test(t);
  for (const r of FACT_RULES) {
    if (!r.re.test(t) || r.exclude?.test(t)) continue;
    if (request && !r.key) continue;
    if (r.key && !facts.some((f) => f.key === r.key)) facts.push({ key: r.key, test: 'state' });
    shape ??= r.shape;
    if (!r.key) break;
  }
  // "Where is the solution hosted?" names both the provider and the place.
  if (facts.some((f) => f.key === 'hosting.providers') && /\bwhere\b/i.test(t)) {
    for (const k of ['hosting.regions', 'data.storage_countries']) if (!facts.some((f) => f.key === k)) facts.push({ key: k, test: 'state' });
  }
  if (facts.length > 0 || shape) return { facts, shape: shape ?? 'text', fact: true };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Customer side

const CUSTOMER =
  '(customers?|clients?|tenants?|subscribers?|licensees?|institutions?|user organi[sz]ations?|end[- ]users?|the buyer|purchasers?|you as (the )?customer)';
const CUSTOMER_SIDE = new RegExp(
  `\\b${CUSTOMER}('s|s')?\\s+(must|need to|needs to|should|is required to|are required to|has to|have to|responsib\\w*|obligations?|duties|configur\\w*|tasks|actions|role)\\b|\\bresponsib\\w* of (the )?${CUSTOMER}\\b|\\b(is|are) (the |our |a )?${CUSTOMER} (required|expected|obliged|obligated|responsible|accountable)\\b|\\b(should|must|shall|would|will|do|does) (the |our |a )?${CUSTOMER} (need to |have to )?(do|configure|set( up)?|enable|manage|provide|implement|ensure|handle|turn on|perform|maintain|review|supply)\\b|\\b(is|are) (the )?${CUSTOMER} responsible\\b|\\bwhat (do|does|must|should|would|will) (the |our |a )?${CUSTOMER}\\b.{0,40}\\b(do|configure|set up|enable|manage|provide|implement|ensure|handle)\\b|\\b(customer|client|tenant|institution) or (the )?(vendor|provider|supplier|service provider)\\b|\\b(vendor|provider|supplier) or (the )?(customer|client|tenant|institution)\\b|\\bresponsibilit\\w* (remain|lie|lies|rest|rests|fall|falls|sit|sits) with (the )?${CUSTOMER}|\\bcomplementary (user entity|customer) controls?\\b|\\bcuecs?\\b|\\b(customer|client|tenant)[- ](side|managed|configurable|controlled) (controls?|settings?|configuration|responsibilit\\w*)\\b`,
  'i',
);

// ---------------------------------------------------------------------------------------------

/**
 * What a question asks: kind, yes/no, polarity, the profile facts that may settle it, its parts,
 * whether it asks about the customer's side, and the meaning of its allowed answers.
 */
export function understand(q: QuestionText, options: UnderstandOptions = {}): Understanding {
  const text = clean(q.text ?? '');
  const allowed = allowedMeaning(q.allowedAnswers);
  const stripped = stripLead(text);
  const parts = splitParts(text);
  // The shared responsibility model is the customer's side unless the question asks for our policy on it.
  const customerSide =
    CUSTOMER_SIDE.test(text) ||
    (/\bshared (security )?responsibilit|\bresponsibilit\w* (matrix|model|split)\b/i.test(text) && !/\b(polic(y|ies)|procedures?)\b/i.test(text));
  const idx = indexFor(options.places);

  const byWording = asksYesNo(text);
  const yesNo = allowed?.yesNoList ? true : byWording;
  const isOption = allowed !== undefined && !allowed.yesNoList;

  let facts: FactNeed[] = [];
  let risk = false;
  let shape: AnswerShape = 'text';
  let factShaped = false;

  if (yesNo) {
    shape = 'yes_no';
    // The subject of the yes/no: its stripped form, one sentence at a time.
    // The yes/no proper, without its follow-up ("..., and if so, how is it mitigated?").
    // Only the sentences that ask the yes/no, without examples in parentheses ("(e.g., PHI)").
    const all = sentences(text);
    // A short follow-up ("Can you commit to that?") asks about the sentence before it.
    const asking = all.flatMap((x, i) =>
      !asksYesNo(x) ? [] : i > 0 && x.split(/\s+/).length <= 7 && /\b(this|that|it|so)\b/i.test(x) ? [`${all[i - 1]} ${x}`] : [x],
    );
    const subjects = (asking.length ? asking : all)
      .map((x) => stripLead(x.split(/[,;]?\s*\b(?:and |or )?if (?:so|yes|not|applicable|no)\b/i)[0]!.trim()))
      .map((x) =>
        x
          .replace(/\((e\.g\.|i\.e\.|eg|ie|such as|for example|for instance|including|like)[^)]*\)/gi, ' ')
          .replace(/\s+/g, ' ')
          .trim(),
      )
      .filter(Boolean);
    const finders: Array<(s: string) => Finding | undefined> = [
      (s) => breachScope(s, text),
      aiScope,
      (s) => storageScope(s, idx),
      dataScope,
      serviceScope,
      compareScope,
      (s) => providerScope(s, idx),
      certificationScope,
      otherScope,
      riskOf,
    ];
    outer: for (const s of subjects.length ? subjects : [stripped]) {
      for (const find of finders) {
        const f = find(s);
        if (!f) continue;
        facts = f.facts;
        risk = f.risk;
        // A risk rule can still apply when a scope rule found control words and nothing else.
        if (facts.length === 0 && !risk) {
          const r = riskOf(s);
          if (r?.risk) {
            facts = r.facts;
            risk = true;
          }
        }
        break outer;
      }
    }
  }
  if (!yesNo || isOption) {
    const f = factQuestion(text);
    if (f) {
      facts = facts.length ? facts : f.facts;
      factShaped = f.fact;
      if (!yesNo) shape = f.shape;
    } else if (!yesNo) {
      for (const [re, sh] of OPEN_SHAPES)
        if (re.test(stripped)) {
          shape = sh;
          break;
        }
    }
  }
  if (isOption) shape = 'choice';

  const settling = facts.some((f) => f.test !== 'state');
  let kind: QuestionKind;
  if (isOption) kind = 'option';
  else if (yesNo && settling) kind = 'scope';
  else if (yesNo && risk) kind = 'risk';
  else if (yesNo) kind = 'practice';
  else if (factShaped) kind = 'fact';
  else kind = 'free_text';

  return {
    kind,
    yesNo,
    polarity: risk ? 'risk' : 'normal',
    facts,
    parts,
    customerSide,
    ...(allowed ? { allowed } : {}),
    leadClauseStripped: stripped,
    answerShape: shape,
  };
}
