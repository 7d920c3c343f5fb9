import t from 'tap';
import { findReusable, type AnswerCorpus, type LibraryDoc } from '../../../src/modules/questionnaires/answering.js';
import { normalize, termCounts } from '../../../src/modules/questionnaires/retrieval.js';
import { tokensOf } from '../../../src/modules/questionnaires/stemming.js';
import { readChoice } from '../../../src/modules/library/import.js';
import { answerKey, groupSameQuestion, lexemesOf, normalizeText, questionKey, sameQuestion } from '../../../src/modules/library/matching.js';
import { testApp } from '../../helpers/app.js';

// The library keeps its own copy of the fill's reuse rule (it may not import questionnaires):
// both must call the same pairs the same question.
const PAIRS: Array<[string, string]> = [
  ['Is customer data encrypted at rest?', 'Do you encrypt customer data at rest?'],
  ['Is customer data encrypted at rest?', 'is customer data encrypted at rest'],
  ['Is customer data encrypted at rest?', 'Is customer data not encrypted at rest?'],
  ['Do you support customer-managed encryption keys?', 'Do you support encryption keys managed by the customer?'],
  ['Are backups tested before release?', 'Are backups tested after release?'],
  ['Do all employees take security awareness training every year?', 'Do all employees complete security awareness training every year?'],
  ['Do you enforce multi-factor authentication for administrators?', 'Is multi-factor authentication enforced for administrators?'],
  ['Do you run penetration tests?', 'Do you run annual external penetration tests on the production network?'],
  ['???', '???'],
];

t.test("the library's same-question rule agrees with the fill's reuse rule", async (t) => {
  const app = await testApp(t, { options: { jobs: { worker: false }, webhooks: { worker: false }, expiryScanIntervalMs: 0 } });
  const db = app.database.db;
  const texts = PAIRS.flat();
  const [lexemes, tokens] = await Promise.all([lexemesOf(db, texts), tokensOf(db, texts)]);
  const verdicts: boolean[] = [];
  PAIRS.forEach(([x, y], i) => {
    const [lx, ly] = [lexemes[2 * i]!, lexemes[2 * i + 1]!];
    const ours = sameQuestion(questionKey(x, lx), questionKey(y, ly));
    const doc = { key: 'library:x', normalized: normalize(x), lexemes: lx, fields: {}, entry: {} } as unknown as LibraryDoc;
    const theirs = findReusable({ library: [doc] } as unknown as AnswerCorpus, y, termCounts(tokens[2 * i + 1]!)) !== undefined;
    t.equal(ours, theirs, `${x} / ${y}: ${ours}`);
    verdicts.push(ours);
  });
  t.same(
    verdicts,
    [true, true, false, true, false, false, true, false, false],
    'rewordings match; negation, other time words, other verbs and other scopes do not',
  );
  t.equal(normalizeText('  Ïs  DATA—encrypted? '), normalize('  Ïs  DATA—encrypted? '), 'the same normalization');
});

t.test('grouping and answer keys', async (t) => {
  const key = (text: string, lexemes: string[]) => questionKey(text, lexemes);
  const items = [
    { id: 1, key: key('Do you encrypt data?', ['encrypt', 'data']) },
    { id: 2, key: key('Backups tested?', ['backup', 'test']) },
    { id: 3, key: key('Is data encrypted?', ['data', 'encrypt']) },
    { id: 4, key: key('Is data not encrypted?', ['data', 'encrypt']) },
  ];
  t.same(
    groupSameQuestion(items).map((g) => g.map((x) => x.id)),
    [[1, 3]],
    'only groups of two or more; the negated question stands apart',
  );
  t.equal(answerKey({ choice: 'Yes', text: 'a' }), answerKey({ choice: 'yes', text: 'b' }), 'the choice decides when there is one');
  t.not(answerKey({ choice: 'yes', text: null }), answerKey({ choice: 'no', text: null }));
  t.equal(answerKey({ choice: null, text: 'Nightly, kept 35 days.' }), answerKey({ choice: null, text: 'nightly kept 35 days' }), 'texts compare normalized');
  t.not(answerKey({ choice: null, text: 'Yes' }), answerKey({ choice: 'yes', text: null }), 'a choice against none differs');
});

t.test('choices read from answer cells', async (t) => {
  t.same(readChoice('Yes'), { choice: 'yes', sentence: false });
  t.same(readChoice(' n/a. '), { choice: 'n/a', sentence: false });
  t.same(readChoice('Not applicable'), { choice: 'n/a', sentence: false });
  t.same(readChoice('Partially implemented'), { choice: 'partial', sentence: false });
  t.same(readChoice('Planned'), { choice: 'no', sentence: false }, 'planned is a no today');
  t.same(readChoice('Yes, every quarter.'), { choice: 'yes', sentence: true });
  t.same(readChoice('No - not offered.'), { choice: 'no', sentence: true });
  t.equal(readChoice('No customer data leaves the EU.'), undefined, 'a sentence that merely starts with "No" is text');
  t.equal(readChoice('AWS'), undefined);
  t.equal(readChoice('Yesterday'), undefined);
});
