import t from 'tap';
import {
  Bm25Index,
  containsPhrase,
  cosine,
  expand,
  fuse,
  normalize,
  termCounts,
  termPattern,
  type Expansion,
  type TermDoc,
  type Tokens,
} from '../../../src/modules/questionnaires/retrieval.js';

const tokens = (...words: Array<string | null>): Tokens => words.flatMap((w, i) => (w === null ? [] : [[i + 1, w] as [number, string]]));

t.test('a thesaurus term matches by stems, in order, within one dropped stop word', async (t) => {
  const term = tokens('employ', 'agreement');
  t.ok(containsPhrase(tokens('are', 'employ', 'agreement', 'sign'), term), 'adjacent');
  t.ok(containsPhrase(tokens('employ', null, 'agreement'), term), 'one stop word between');
  t.notOk(containsPhrase(tokens('employ', null, null, 'agreement'), term), 'too far apart');
  t.notOk(containsPhrase(tokens('agreement', 'employ'), term), 'reversed: "test plan" is not "plan tested"');
  t.ok(containsPhrase(tokens('mfa'), tokens('mfa')), 'one word');
  t.notOk(containsPhrase(tokens('mfa'), []), 'an empty term matches nothing');
  // A term with a stop word inside ("where data is stored") allows its own gap, not more.
  const stored = [
    [2, 'data'],
    [4, 'store'],
  ] as Tokens;
  t.ok(containsPhrase(tokens('data', null, 'store'), stored));
  t.notOk(containsPhrase(tokens('data', 'encrypt', null, 'store'), stored));
});

t.test('BM25F: rare words outweigh boilerplate, fields weigh differently, coverage is reported', async (t) => {
  const doc = (key: string, fields: TermDoc['fields']): TermDoc => ({ key, fields });
  const docs = [
    doc('policy', {
      title: new Map([['polici', 1]]),
      body: new Map([
        ['document', 3],
        ['approv', 1],
      ]),
    }),
    doc('mfa', { title: new Map([['authent', 1]]), keywords: new Map([['mfa', 1]]), body: new Map([['document', 1]]) }),
    doc('backup', {
      title: new Map([['backup', 1]]),
      body: new Map([
        ['document', 1],
        ['restor', 1],
      ]),
    }),
  ];
  const index = new Bm25Index(docs);
  const hits = index.search(
    new Map([
      ['document', 1],
      ['approv', 1],
      ['mfa', 1],
    ]),
  );
  t.equal(hits[0]!.doc.key, 'mfa', 'the one rare word beats two common ones');
  t.ok(hits[0]!.coverage > 0 && hits[0]!.coverage < 1);
  t.same(index.search(new Map([['unknown', 1]])), [], 'nothing matches: nothing returned');
  const titleOnly = new Bm25Index(docs, { body: 0, keywords: 0 });
  t.same(titleOnly.search(new Map([['document', 1]])), [], 'a zero-weight field does not count');
});

t.test('weighted reciprocal rank fusion', async (t) => {
  const fused = fuse(
    [
      { items: ['a', 'b', 'c'], weight: 1 },
      { items: ['b', 'a'], weight: 0.5 },
      { items: ['c'], weight: 0.1 },
    ],
    10,
  );
  t.same(
    fused.map((f) => f.item),
    ['a', 'b', 'c'],
    'the heavier ranking decides between equal places',
  );
  t.equal(fused[0]!.topIn, 2);
  t.ok(fused[0]!.score > fused[1]!.score);
  t.equal(fused[2]!.topIn, 2, 'c: top 3 of the first ranking and first of the third');
  t.same(fuse([]), []);
});

t.test('a scored ranking keeps a clear lead: the hints do not overturn it', async (t) => {
  const rankings = (scores?: number[]) => [
    { items: ['a', 'b'], weight: 1, ...(scores ? { scores } : {}) },
    { items: ['b'], weight: 0.5 },
  ];
  t.equal(fuse(rankings())[0]!.item, 'b', 'by rank alone, second lexically and first hinted wins');
  t.equal(fuse(rankings([12, 4]))[0]!.item, 'a', 'three times the score of the next stays first');
  t.equal(fuse(rankings([12, 11]))[0]!.item, 'b', 'a near tie is still decided by the hints');
  const scored = fuse(rankings([12, 4]));
  t.same(
    scored.map((f) => f.rrf),
    fuse(rankings())
      .map((f) => f.rrf)
      .reverse(),
    'rrf is the plain rank fusion, whatever the scores',
  );
});

t.test('the longest matched term wins: a group named only inside a longer term of another is left out', async (t) => {
  const group = (id: string, terms: string[], controls: string[]): Expansion => ({
    group: { id, terms, controls },
    match: new RegExp(`(?:^|[^a-z0-9])(?:${terms.map(termPattern).join('|')})(?:$|[^a-z0-9])`),
    stems: [],
    lexemes: new Set(terms.flatMap((x) => normalize(x).split(' '))),
    terms: terms.map((x) => ({ words: normalize(x), match: new RegExp(`(?<![a-z0-9])(?:${termPattern(x)})(?![a-z0-9])`, 'g') })),
  });
  const groups = [group('soc', ['soc', 'security operations'], ['A.8.16']), group('reports', ['soc 2', 'soc 2 report'], ['A.5.35'])];
  t.same(expand('Do you have a SOC 2 report?', tokens('soc', '2', 'report'), groups).hinted, ['A.5.35'], '"SOC" of "SOC 2" is not a SOC');
  t.same(
    expand('Is there a 24/7 SOC, and a SOC 2 report?', tokens('24/7', 'soc', 'soc', '2', 'report'), groups).hinted,
    ['A.8.16', 'A.5.35'],
    'a group that also matches on its own stays',
  );
});

t.test('cosine, normalize, term counts', async (t) => {
  t.equal(cosine([1, 0], [1, 0]), 1);
  t.equal(cosine([1, 0], [0, 1]), 0);
  t.equal(cosine([0, 0], [1, 1]), 0, 'a zero vector is similar to nothing');
  t.equal(normalize('  Do YOU use 2FA?! '), 'do you use 2fa');
  t.equal(normalize('データは暗号化されていますか？'), 'データは暗号化されていますか', 'letters of any script survive');
  t.same(
    [...termCounts(tokens('a', 'b', 'a'))],
    [
      ['a', 2],
      ['b', 1],
    ],
  );
});

t.test('a one-word term finds its inflections, not what a stemmer would conflate', async (t) => {
  const finds = (term: string, text: string) => new RegExp(`(?:^|[^a-z0-9])(?:${termPattern(term)})(?:$|[^a-z0-9])`).test(` ${normalize(text)} `);
  t.ok(finds('monitoring', 'Is the network monitored?'));
  t.ok(finds('monitoring', 'Do you monitor logins?'));
  t.ok(finds('logging', 'Are logs kept?'));
  t.ok(finds('backups', 'Is there a backup?'));
  t.ok(finds('utilities', 'Are utility services redundant?'));
  t.notOk(finds('utilities', 'Are you utilizing a firewall?'), '"util" is not a utility');
  t.notOk(finds('containers', 'Is the incident contained?'));
  t.notOk(finds('documentation', 'Is it documented?'));
  t.ok(finds('policy', 'Are policies reviewed?'));
  t.ok(finds('24/7', 'Is the SOC staffed 24/7?'), 'terms stemming loses stay as written');
  t.ok(finds('sso', 'Do you support SSO?'), 'short terms as written');
});
