// lookupAnswerable / resolveAnswerableMany resolve many refs in one query; they must agree with
// the one-ref rules (per answerable framework in order, alias first, then the ref itself), here
// checked against the in-memory resolver the SoA import uses, on every control and alias.
import t from 'tap';
import { catalogControls, controlAliases } from '../../../src/modules/catalog/tables.js';
import { lookupAnswerable, resolveAnswerable, resolveAnswerableMany } from '../../../src/modules/catalog/service.js';
import { answerableCatalog } from '../../../src/modules/catalog/read.js';
import { DomainError } from '../../../src/lib/errors.js';
import { freshDatabase } from '../../helpers/db.js';

t.test('many refs in one query, as one ref at a time', async (t) => {
  const { database, drop } = await freshDatabase();
  t.teardown(async () => {
    await database.close();
    await drop();
  });
  const db = database.db;
  const [controls, aliases, catalog] = await Promise.all([db.select().from(catalogControls), db.select().from(controlAliases), answerableCatalog(db)]);
  t.ok(aliases.length > 0, 'the catalog has aliases to check');
  const refs = [
    ...controls.map((c) => c.ref),
    ...aliases.map((a) => a.alias),
    ...controls.slice(0, 20).map((c) => ` ${c.ref.toLowerCase()} `),
    'A.99.99',
    '',
    'CC6.1',
    'nonsense',
  ];
  const found = await lookupAnswerable(db, refs);
  t.equal(found.length, refs.length, 'aligned with the input');
  let answerable = 0;
  refs.forEach((ref, i) => {
    const want = catalog.resolve(ref);
    if (want) answerable++;
    t.same(found[i] && `${found[i]!.frameworkId}:${found[i]!.ref}`, want && `${want.frameworkId}:${want.ref}`, `"${ref}"`);
  });
  t.ok(answerable >= 100, `${answerable} refs resolve`);

  const many = await resolveAnswerableMany(db, ['cld.15.1.3', 'A.5.1', 'A.5.1']);
  t.same(
    many.map((c) => c.ref),
    ['CLD.13.1.4', 'A.5.1', 'A.5.1'],
    'in order, aliases resolved, duplicates kept',
  );
  t.same(await resolveAnswerableMany(db, []), []);
  const err = await resolveAnswerableMany(db, ['A.5.1', 'A.99.1', 'A.99.2']).catch((e: unknown) => e);
  t.ok(err instanceof DomainError);
  t.match(
    err,
    { code: 'not_found', message: 'no ISO/IEC 27001:2022 Annex A or ISO/IEC 27017 CLD control "A.99.1"' },
    'the first unknown ref, as resolveAnswerable says it',
  );
  t.match(await resolveAnswerable(db, ' a.8.5 '), { frameworkId: 'iso27001-2022', ref: 'A.8.5' });
  await t.rejects(resolveAnswerable(db, 'CC6.1'), { code: 'not_found' }, 'a SOC 2 criterion is not answerable');
});
