// VSAQ items parsed into questions carry what the answering side needs: the item id, its type,
// its choices as {key, label}, and the conditions of the item and its enclosing blocks.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseQuestionnaire, type AnswerCell } from '../../src/formats/detect.js';
import { htmlToText, parseJsonWithExtensions, VSAQ_ANSWERABLE_TYPES } from '../../src/formats/vsaq.js';

const data = (p: string) => fileURLToPath(new URL(`../../../shared/data/${p}`, import.meta.url));
const TEMPLATES = ['infrastructure', 'physical_and_datacenter', 'security_privacy_programs', 'webapp'];

interface Item {
  type?: string;
  id?: string;
  text?: string;
  cond?: string;
  items?: Item[];
  choices?: Array<Record<string, string> | string>;
}

// The answerable items of the raw template with the conds that gate them, outermost first.
function expected(items: Item[] | undefined, conds: string[], out: Array<{ item: Item; conds: string[] }>) {
  for (const item of items ?? []) {
    const inner = item.cond ? [...conds, item.cond] : conds;
    const type = (item.type ?? '').toLowerCase();
    if (VSAQ_ANSWERABLE_TYPES.has(type)) out.push({ item, conds: inner });
    else expected(item.items, inner, out);
  }
  return out;
}

for (const name of TEMPLATES) {
  t.test(`${name}.json: every question has its VSAQ answer cell`, async (t) => {
    const bytes = fs.readFileSync(data(`vsaq/${name}.json`));
    const parsed = await parseQuestionnaire({ fileName: `${name}.json`, bytes });
    const raw = parseJsonWithExtensions(bytes.toString('utf8')) as { questionnaire: Item[] };
    const items = expected(raw.questionnaire, [], []);
    t.equal(parsed.questions.length, items.length, 'one question per answerable item');
    let withOptions = 0;
    let withConds = 0;
    parsed.questions.forEach((q, i) => {
      const { item, conds } = items[i]!;
      const type = item.type!.toLowerCase();
      const cell: AnswerCell = { cell: item.id ?? '', role: 'vsaq', vsaqType: type };
      if (type === 'radiogroup' || type === 'checkgroup') {
        cell.options = (item.choices ?? []).flatMap((c) =>
          typeof c === 'string' ? [{ key: c, label: htmlToText(c) }] : Object.entries(c).map(([key, v]) => ({ key, label: htmlToText(v) })),
        );
        withOptions++;
        t.same(
          q.allowedAnswers,
          cell.options.map((o) => o.label),
          `${item.id}: allowed answers are the option labels`,
        );
      }
      if (conds.length) {
        cell.cond = conds.length === 1 ? conds[0]! : conds.map((c) => `(${c})`).join(' && ');
        withConds++;
      }
      t.same(q.answerCells, [cell], `${item.id ?? type}: answer cell`);
    });
    t.ok(withOptions > 0, 'the template has choice items');
    if (name === 'infrastructure') t.ok(withConds > 0, 'and conditional ones');
  });
}

t.test("a block's cond applies to the items inside it, joined with the item's own", async (t) => {
  const infra = await parseQuestionnaire({ fileName: 'infrastructure.json', bytes: fs.readFileSync(data('vsaq/infrastructure.json')) });
  const dmz = infra.questions.find((q) => q.ref === 'network_dmz')!;
  t.match(dmz.answerCells, [
    {
      cell: 'network_dmz',
      role: 'vsaq',
      vsaqType: 'radiogroup',
      cond: 'network_firewalls_yes',
      options: [{ key: 'network_dmz_yes' }, { key: 'network_dmz_no' }],
    },
  ]);

  const doc = {
    questionnaire: [
      {
        type: 'block',
        text: 'Outer',
        cond: 'a',
        items: [
          { type: 'block', text: 'Inner', cond: 'b || c', items: [{ type: 'YesNo', id: 'q1', text: 'Is it so?', cond: 'd' }] },
          { type: 'line', id: 'q2', text: 'Explain.' },
          { type: 'checkgroup', id: 'q3', text: 'Which?', choices: [{ k1: '<b>One</b> &amp; more' }, 'Two'] },
        ],
      },
    ],
  };
  const r = await parseQuestionnaire({ fileName: 'x.json', bytes: Buffer.from(JSON.stringify(doc)) });
  t.same(
    r.questions.map((q) => q.answerCells),
    [
      [{ cell: 'q1', role: 'vsaq', vsaqType: 'yesno', cond: '(a) && (b || c) && (d)' }],
      [{ cell: 'q2', role: 'vsaq', vsaqType: 'line', cond: 'a' }],
      [
        {
          cell: 'q3',
          role: 'vsaq',
          vsaqType: 'checkgroup',
          options: [
            { key: 'k1', label: 'One & more' },
            { key: 'Two', label: 'Two' },
          ],
          cond: 'a',
        },
      ],
    ],
  );
  t.same(
    r.questions.map((q) => q.section),
    ['Outer > Inner', 'Outer', 'Outer'],
  );
  t.same(r.questions[2]!.allowedAnswers, ['One & more', 'Two']);

  const longCond = { questionnaire: [{ type: 'block', text: 'B', cond: 'x'.repeat(5000), items: [{ type: 'line', id: 'q', text: 'Q?' }] }] };
  await t.rejects(parseQuestionnaire({ fileName: 'x.json', bytes: Buffer.from(JSON.stringify(longCond)) }), {
    code: 'too_large',
    message: /limit: condition length/,
  });
});
