// Builds the legacy ISO/IEC 27001:2013 catalog and the crosswalk seeds from the shared reference
// data (`npx tsx scripts/build-crosswalks.ts`). Output is deterministic: re-running gives identical
// bytes. Only identifiers, titles used as names and mapping facts are taken from the reference files.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(SCRIPT_DIR, '..');
const REF_DIR = path.resolve(SCRIPT_DIR, '../../shared/data/reference');
const CATALOG_DIR = path.join(REPO_ROOT, 'seeds', 'catalog');
const CROSSWALK_DIR = path.join(REPO_ROOT, 'seeds', 'crosswalk');

// ---------------------------------------------------------------------------------------------
// helpers

const problems: string[] = [];
function check(ok: boolean, message: string): void {
  if (!ok) problems.push(message);
}

/** Minimal RFC 4180-style parser: quoted fields may hold commas, newlines and doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let inQuotes = false;
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (inQuotes) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          inQuotes = false;
        }
      } else {
        field += ch;
      }
    } else if (ch === '"') {
      inQuotes = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += ch;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

function readCsv(file: string): Record<string, string>[] {
  const rows = parseCsv(fs.readFileSync(path.join(REF_DIR, file), 'utf8'));
  const header = rows[0];
  if (!header) throw new Error(`${file}: empty`);
  return rows.slice(1).map((cells, n) => {
    if (cells.length !== header.length) {
      throw new Error(`${file}: row ${n + 2} has ${cells.length} fields, expected ${header.length}`);
    }
    const rec: Record<string, string> = {};
    header.forEach((h, i) => {
      rec[h.trim()] = cells[i] ?? '';
    });
    return rec;
  });
}

function col(rec: Record<string, string>, name: string): string {
  const v = rec[name];
  if (v === undefined) throw new Error(`missing column ${name}`);
  return v.trim();
}

/** Natural ordering: digit runs compare numerically, other runs as plain strings. */
function naturalCompare(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [];
  const tb = b.match(/\d+|\D+/g) ?? [];
  const n = Math.min(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    const x = ta[i] as string;
    const y = tb[i] as string;
    if (x === y) continue;
    const xd = /^\d/.test(x);
    const yd = /^\d/.test(y);
    if (xd && yd) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      continue;
    }
    if (xd !== yd) return xd ? -1 : 1; // numbers before letters
    return x < y ? -1 : 1;
  }
  return ta.length - tb.length;
}

interface Link {
  from: string;
  to: string;
  relationship: 'equal' | 'subset' | 'superset' | 'intersect';
  strength: 'strong' | 'moderate' | 'weak';
  sources: string[];
  note?: string;
}

function sortLinks(links: Link[]): Link[] {
  return [...links].sort((a, b) => naturalCompare(a.from, b.from) || naturalCompare(a.to, b.to));
}

function writeJson(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n', 'utf8');
}

const RELATIONSHIPS = new Set(['equal', 'subset', 'superset', 'intersect']);

// ---------------------------------------------------------------------------------------------
// reference ID sets

const annexA2022 = new Set(readCsv('iso27001_2022_annexA_controls.csv').map((r) => col(r, 'id')));
const tscAll = readCsv('tsc_2017_criteria.csv').map((r) => col(r, 'id'));
const tscSet = new Set(tscAll);
check(annexA2022.size === 93, `expected 93 ISO 27001:2022 Annex A controls, got ${annexA2022.size}`);
check(tscSet.size === 61, `expected 61 TSC criteria, got ${tscSet.size}`);

// ---------------------------------------------------------------------------------------------
// 1) legacy ISO/IEC 27001:2013 Annex A catalog

const THEMES_2013: Record<string, string> = {
  'A.5': 'A.5 Information security policies',
  'A.6': 'A.6 Organization of information security',
  'A.7': 'A.7 Human resource security',
  'A.8': 'A.8 Asset management',
  'A.9': 'A.9 Access control',
  'A.10': 'A.10 Cryptography',
  'A.11': 'A.11 Physical and environmental security',
  'A.12': 'A.12 Operations security',
  'A.13': 'A.13 Communications security',
  'A.14': 'A.14 System acquisition, development and maintenance',
  'A.15': 'A.15 Supplier relationships',
  'A.16': 'A.16 Information security incident management',
  'A.17': 'A.17 Information security aspects of business continuity management',
  'A.18': 'A.18 Compliance',
};

const MISSING_2013: { ref: string; title: string; to: string; relationship: Link['relationship'] }[] = [
  { ref: 'A.6.1.3', title: 'Contact with authorities', to: 'A.5.5', relationship: 'equal' },
  { ref: 'A.6.1.4', title: 'Contact with special interest groups', to: 'A.5.6', relationship: 'equal' },
  { ref: 'A.6.1.5', title: 'Information security in project management', to: 'A.5.8', relationship: 'subset' },
  { ref: 'A.9.2.5', title: 'Review of user access rights', to: 'A.5.18', relationship: 'subset' },
  { ref: 'A.9.2.6', title: 'Removal or adjustment of access rights', to: 'A.5.18', relationship: 'subset' },
  { ref: 'A.12.6.2', title: 'Restrictions on software installation', to: 'A.8.19', relationship: 'subset' },
  { ref: 'A.12.7.1', title: 'Information systems audit controls', to: 'A.8.34', relationship: 'equal' },
  {
    ref: 'A.14.2.3',
    title: 'Technical review of applications after operating platform changes',
    to: 'A.8.32',
    relationship: 'subset',
  },
  { ref: 'A.14.2.4', title: 'Restrictions on changes to software packages', to: 'A.8.32', relationship: 'subset' },
];

const MISSING_NOTE = 'absent from the reference correspondence file; added from the published 2013-to-2022 correspondence';
const CORRECTED_TRANSFER = new Set(['A.13.2.1', 'A.13.2.2', 'A.13.2.3']);
const CORRECTED_NOTE = 'the reference file targets A.8.14 (Redundancy of information processing facilities); corrected to A.5.14 (Information transfer)';

const corrRows = readCsv('iso27001_2013_to_2022.csv').filter((r) => col(r, 'iso27001_2013').startsWith('A.'));

const titles2013 = new Map<string, string>();
for (const r of corrRows) {
  const ref = col(r, 'iso27001_2013');
  // The reference file misspells one title; the official title is "technical".
  const title = col(r, 'title_2013')
    .replace(/\s+/g, ' ')
    .replace(/\btechnial\b/, 'technical');
  const prev = titles2013.get(ref);
  check(prev === undefined || prev === title, `${ref}: conflicting 2013 titles "${prev}" vs "${title}"`);
  titles2013.set(ref, title);
}
const csvRefCount = titles2013.size;
for (const m of MISSING_2013) {
  check(!titles2013.has(m.ref), `${m.ref} was expected to be missing from the correspondence csv but is present`);
  titles2013.set(m.ref, m.title);
}

function theme2013(ref: string): string {
  const m = /^(A\.\d+)\./.exec(ref);
  const t = m ? THEMES_2013[m[1] as string] : undefined;
  if (!t) throw new Error(`${ref}: no 2013 theme`);
  return t;
}

const legacyRefs = [...titles2013.keys()].sort(naturalCompare);
for (const ref of legacyRefs) check(/^A\.\d+\.\d+\.\d+$/.test(ref), `malformed 2013 ref ${ref}`);
check(legacyRefs.length === 114, `expected 114 legacy Annex A controls, got ${legacyRefs.length}`);

const catalog2013 = {
  framework: { id: 'iso27001-2013', name: 'ISO/IEC 27001:2013 (legacy)', version: '2013', publisher: 'ISO/IEC' },
  catalogVersion: 1,
  controls: legacyRefs.map((ref) => ({
    ref,
    kind: 'annex_a',
    title: titles2013.get(ref) as string,
    theme: theme2013(ref),
  })),
};

// ---------------------------------------------------------------------------------------------
// 2) ISO 27001:2013 -> ISO 27001:2022

const links2013: Link[] = [];
let correctedCount = 0;
for (const r of corrRows) {
  const from = col(r, 'iso27001_2013');
  const to = col(r, 'iso27001_2022');
  const rel = col(r, 'relationship');
  check(RELATIONSHIPS.has(rel), `${from}: unknown relationship ${rel}`);
  if (CORRECTED_TRANSFER.has(from)) {
    check(to === 'A.8.14', `${from}: expected the known A.8.14 error in the reference file, found ${to}`);
    correctedCount++;
    links2013.push({
      from,
      to: 'A.5.14',
      relationship: 'subset',
      strength: 'strong',
      sources: ['project-curated'],
      note: CORRECTED_NOTE,
    });
    continue;
  }
  links2013.push({
    from,
    to,
    relationship: rel as Link['relationship'],
    strength: 'strong',
    sources: ['iso27001-2013-2022-correspondence'],
  });
}
check(correctedCount === 3, `expected 3 corrected A.13.2.x rows, got ${correctedCount}`);
for (const m of MISSING_2013) {
  links2013.push({
    from: m.ref,
    to: m.to,
    relationship: m.relationship,
    strength: 'strong',
    sources: ['project-curated'],
    note: MISSING_NOTE,
  });
}
{
  const seen = new Set<string>();
  for (const l of links2013) {
    const key = `${l.from}|${l.to}`;
    check(!seen.has(key), `2013->2022 duplicate link ${key}`);
    seen.add(key);
    check(titles2013.has(l.from), `2013->2022 link from unknown ${l.from}`);
    check(annexA2022.has(l.to), `2013->2022 link to unknown 2022 control ${l.to}`);
  }
  const linkedFrom = new Set(links2013.map((l) => l.from));
  for (const ref of legacyRefs) check(linkedFrom.has(ref), `legacy ${ref} has no link`);
}

const crosswalk2013 = {
  from: 'iso27001-2013',
  to: 'iso27001-2022',
  rule: 'Each legacy Annex A control follows the public 2013-to-2022 correspondence table, with the nine controls that table omits added and the three A.13.2.x transfer controls repointed from A.8.14 to A.5.14 by the project.',
  links: sortLinks(links2013),
};

// ---------------------------------------------------------------------------------------------
// 3) ISO 27017:2015 -> ISO 27001:2022

// The ISO/IEC 27002:2013 controls for which ITU-T X.1631 | ISO/IEC 27017:2015 gives "Implementation
// guidance for cloud services" (issue #20). The catalog's cloud_guidance items must be exactly these:
// CSA CCM's citations of 27017 are far broader and no longer decide the list.
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
check(X1631_GUIDANCE.length === 37, `expected 37 X.1631 guidance clauses, got ${X1631_GUIDANCE.length}`);

interface Seed27017Entry {
  ref: string;
  kind: string;
  source?: string;
  iso27001_2022?: string[];
}
const seed27017 = JSON.parse(fs.readFileSync(path.join(CATALOG_DIR, 'iso27017-2015.json'), 'utf8')) as {
  controls: Seed27017Entry[];
};
const links27017: Link[] = [];
{
  const byRef = new Map(seed27017.controls.map((e) => [e.ref, e]));
  for (const e of seed27017.controls) {
    if (e.kind !== 'cloud_guidance' && e.kind !== 'cloud_control') check(false, `27017 seed: unexpected kind ${e.kind} on ${e.ref}`);
    if (e.kind === 'cloud_guidance') check(X1631_GUIDANCE.includes(e.ref), `27017 seed: ${e.ref} is cloud_guidance but X.1631 gives no cloud guidance for it`);
  }
  // CLD controls as the seed lists them, then the guidance items in the pinned order.
  const entries: Seed27017Entry[] = seed27017.controls.filter((e) => e.kind === 'cloud_control');
  for (const ref of X1631_GUIDANCE) {
    const e = byRef.get(ref);
    check(e?.kind === 'cloud_guidance', `27017 seed: X.1631 guidance clause ${ref} is missing or not cloud_guidance`);
    check(e?.source === `x1631:${ref}`, `27017 seed: ${ref} must name its clause as source "x1631:${ref}" (has "${e?.source}")`);
    if (e?.kind === 'cloud_guidance') entries.push(e);
  }
  const seen = new Set<string>();
  for (const e of entries) {
    const targets = e.iso27001_2022 ?? [];
    check(targets.length > 0, `27017 ${e.ref}: no iso27001_2022 targets`);
    const guidance = e.kind === 'cloud_guidance';
    for (const to of targets) {
      const key = `${e.ref}|${to}`;
      if (seen.has(key)) {
        check(false, `27017 duplicate target ${key}`);
        continue;
      }
      seen.add(key);
      check(annexA2022.has(to), `27017 ${e.ref}: unknown 2022 target ${to}`);
      links27017.push({
        from: e.ref,
        to,
        relationship: guidance ? 'subset' : 'intersect',
        strength: guidance ? 'strong' : 'moderate',
        sources: guidance ? ['x1631-clause-correspondence'] : ['project-curated'],
      });
    }
  }
}
const crosswalk27017 = {
  from: 'iso27017-2015',
  to: 'iso27001-2022',
  rule: 'Cloud guidance keyed to an ISO/IEC 27002:2013 clause refines the 2022 control that clause became, while each CLD cloud control overlaps the 2022 controls the project judged closest to it.',
  links: sortLinks(links27017),
};

// ---------------------------------------------------------------------------------------------
// 4) ISO 27001:2022 -> SOC 2 (TSC 2017)

// CSA CCM here is one route from 27001:2022 to the TSC; it plays no part in the 27017 guidance list.
const ROUTES: { column: string; name: string }[] = [
  { column: 'via_csa_ccm', name: 'csa-ccm' },
  { column: 'intuitem', name: 'intuitem-ccf' },
  { column: 'via_scf', name: 'scf-strm' },
  { column: 'via_aicpa_nist', name: 'aicpa-nist-olir' },
];

interface Candidate {
  from: string;
  to: string;
  sources: string[];
}
const candidates: Candidate[] = [];
const invalidCandidates: Candidate[] = [];
{
  const seen = new Set<string>();
  for (const r of readCsv('iso27001_2022_annexA_x_tsc2017_crosswalk_candidates.csv')) {
    const from = col(r, 'iso27001_2022_annexA');
    const to = col(r, 'tsc_2017');
    const sources = ROUTES.filter((rt) => Number(col(r, rt.column)) > 0).map((rt) => rt.name);
    const n = Number(col(r, 'n_sources'));
    check(n === sources.length, `${from}->${to}: n_sources ${n} but ${sources.length} routes > 0`);
    check(annexA2022.has(from), `candidate from unknown 2022 control ${from}`);
    const key = `${from}|${to}`;
    check(!seen.has(key), `duplicate candidate ${key}`);
    seen.add(key);
    if (!tscSet.has(to)) {
      // Not one of the 61 criteria (group-level or mistyped IDs in a route's source data):
      // excluded rather than guessed, and listed in the summary.
      invalidCandidates.push({ from, to, sources });
      continue;
    }
    candidates.push({ from, to, sources });
  }
}

const linksSoc2: Link[] = [];
const keptCriteria = new Set<string>();
for (const c of candidates) {
  if (c.sources.length >= 2) {
    linksSoc2.push({
      from: c.from,
      to: c.to,
      relationship: 'intersect',
      strength: c.sources.length >= 3 ? 'strong' : 'moderate',
      sources: c.sources,
    });
    keptCriteria.add(c.to);
  }
}
const weakCriteria = new Set<string>();
for (const c of candidates) {
  if (c.sources.length === 1 && !keptCriteria.has(c.to)) {
    linksSoc2.push({ from: c.from, to: c.to, relationship: 'intersect', strength: 'weak', sources: c.sources });
    weakCriteria.add(c.to);
  }
}

const crosswalkSoc2 = {
  from: 'iso27001-2022',
  to: 'soc2-2017',
  rule: 'A control-criterion pair is kept when at least two of the four independent public routes below back it, rated strong with three or four routes and moderate with two. Where a criterion gets no such pair, its single-route pairs are kept as weak links, so every criterion that any route maps can still be reached. All links are intersect because the two frameworks only overlap in part and no route shows equality or containment.',
  routes: {
    'csa-ccm': 'CSA Cloud Controls Matrix v4 mappings (ISO 27001:2022 and TSC 2017 columns)',
    'intuitem-ccf': 'intuitem library via Adobe Common Controls Framework',
    'scf-strm': 'Secure Controls Framework set-theory relationship mappings',
    'aicpa-nist-olir': 'AICPA TSC to NIST SP 800-53 mapping, joined with NIST OLIR 800-53 to ISO 27001',
  },
  links: sortLinks(linksSoc2),
};

const csvCriteria = new Set(candidates.map((c) => c.to));
const reachedCriteria = new Set(linksSoc2.map((l) => l.to));
check(reachedCriteria.size === csvCriteria.size, `TSC criteria reached (${reachedCriteria.size}) != criteria in csv (${csvCriteria.size})`);

// ---------------------------------------------------------------------------------------------
// write + report

const outputs: [string, unknown][] = [
  [path.join(CATALOG_DIR, 'iso27001-2013.json'), catalog2013],
  [path.join(CROSSWALK_DIR, 'iso27001-2013_to_iso27001-2022.json'), crosswalk2013],
  [path.join(CROSSWALK_DIR, 'iso27017-2015_to_iso27001-2022.json'), crosswalk27017],
  [path.join(CROSSWALK_DIR, 'iso27001-2022_to_soc2-2017.json'), crosswalkSoc2],
];

if (problems.length > 0) {
  console.error(`validation failed (${problems.length}):`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}

for (const [file, data] of outputs) {
  writeJson(file, data);
  JSON.parse(fs.readFileSync(file, 'utf8')); // round-trip check
}

function strengthCounts(links: Link[]): string {
  const c = { strong: 0, moderate: 0, weak: 0 };
  for (const l of links) c[l.strength]++;
  return `strong ${c.strong}, moderate ${c.moderate}, weak ${c.weak}`;
}

const unreached = tscAll.filter((id) => !reachedCriteria.has(id)).sort(naturalCompare);
const rel = (p: string) => path.relative(REPO_ROOT, p);
console.log('build-crosswalks summary');
console.log(`  ${rel(outputs[0]![0])}: ${catalog2013.controls.length} controls (${csvRefCount} from csv + ${MISSING_2013.length} added)`);
console.log(`  ${rel(outputs[1]![0])}: ${crosswalk2013.links.length} links (${strengthCounts(links2013)})`);
console.log(`  ${rel(outputs[2]![0])}: ${crosswalk27017.links.length} links (${strengthCounts(links27017)})`);
console.log(`  ${rel(outputs[3]![0])}: ${crosswalkSoc2.links.length} links (${strengthCounts(linksSoc2)})`);
console.log(`    candidate rows used: ${candidates.length}; excluded (TSC id not among the ${tscAll.length} criteria): ${invalidCandidates.length}`);
for (const c of [...invalidCandidates].sort((a, b) => naturalCompare(a.to, b.to) || naturalCompare(a.from, b.from))) {
  console.log(`      excluded ${c.from} -> ${c.to} [${c.sources.join(', ')}]`);
}
console.log(`    criteria reached only via weak links: ${weakCriteria.size}`);
console.log(`    distinct TSC criteria reached: ${reachedCriteria.size} / valid distinct in csv: ${csvCriteria.size}`);
console.log(`    of the ${tscAll.length} TSC criteria, reached by no link (${unreached.length}): ${unreached.join(', ') || 'none'}`);
