import t from 'tap';
import ExcelJS from 'exceljs';
import { randomUUID } from 'node:crypto';
import { gapReason } from '../../../src/modules/questionnaires/gaps.js';
import { runNextJob } from '../../../src/modules/questionnaires/service.js';
import { memberWithRole, signup, testApp, wholeQuestionnaire } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';

const NO_WORKERS = { jobs: { worker: false }, webhooks: { worker: false }, expiryScanIntervalMs: 0 };

// A small organization of our own: a few answered controls, no profile facts.
const CONTROLS: Record<string, [string, string]> = {
  'A.8.5': ['implemented', 'Every sign-in to production consoles and the admin panel needs a second factor. We issue hardware security keys to engineers.'],
  'A.8.24': ['implemented', 'Databases and object storage are encrypted at rest with AES-256 keys held in the provider key service.'],
  'A.6.3': ['implemented', 'All staff complete security awareness training when they join and every year after.'],
  'A.5.30': ['partially_implemented', 'A continuity plan is written and the database failover was rehearsed in March.'],
};

// The buyer's workbook: a Section column for some rows, none for others.
const ROWS: Array<[string, string, string]> = [
  ['E1', 'Encryption', 'Is customer data encrypted at rest?'],
  ['C1', 'Company', 'Please give the full registered name of your company.'],
  ['C2', 'Company', 'In which city is your main office?'],
  ['U1', '', 'Has an attacker ever breached your production network?'],
  ['U3', '', 'Are any API secrets written directly into your source code?'],
  ['U4', '', 'Do you have a bug bounty programme?'],
  ['Z1', '', 'Zorblax quimp vartle frobnicate?'],
  ['P1', '', 'Do you enforce multi-factor authentication for administrators?'],
  ['P3', '', 'Has a failover of the whole application to a second region been rehearsed?'],
];

async function buyerWorkbook(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('Security');
  ws.addRow(['ID', 'Section', 'Question', 'Answer', 'Comments']);
  for (const [ref, section, text] of ROWS) ws.addRow([ref, section || null, text, null, null]);
  // P3 offers Yes/No only: the sources settle it as "partial", which the list cannot hold.
  const p3 = ROWS.findIndex((r) => r[0] === 'P3') + 2;
  ws.getCell(`D${p3}`).dataValidation = { type: 'list', allowBlank: true, formulae: ['"Yes,No"'] };
  return Buffer.from(await wb.xlsx.writeBuffer());
}

interface Gap {
  id: string;
  ref: string | null;
  text: string;
  reason: string;
}
interface Group {
  topic: string;
  from: string;
  control: { framework: string; ref: string } | null;
  questions: Gap[];
}
interface Question {
  id: string;
  ref: string;
  section: string | null;
  answer: { choice: string | null; status: string; reviewReason?: string | null; sources: Array<{ kind: string; framework?: string; ref?: string }> } | null;
}

t.test('the questions no source could answer, grouped by section, best control, or Unsorted', async (t) => {
  const app = await testApp(t, { options: NO_WORKERS });
  const a = await signup(app);
  const b = await signup(app);
  const viewer = await memberWithRole(app, a, 'viewer');
  for (const [ref, [status, implementation]] of Object.entries(CONTROLS)) {
    const r = await app.inject({
      method: 'PUT',
      url: `/api/v1/controls/${ref}`,
      headers: a.auth,
      payload: { applicable: true, status, implementation, responsibility: 'provider' },
    });
    t.equal(r.statusCode, 200, r.body);
  }
  const form = multipart({ name: 'Buyer review' }, [{ filename: 'buyer.xlsx', content: await buyerWorkbook() }]);
  const created = await app.inject({ method: 'POST', url: '/api/v1/questionnaires', headers: { ...a.auth, ...form.headers }, payload: form.payload });
  t.equal(created.statusCode, 201, created.body);
  const id = created.json().id as string;
  const gaps = (who = a) => app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/gaps`, headers: who.auth });

  const before = await gaps();
  t.equal(before.statusCode, 200, before.body);
  t.same(before.json(), { questionnaireId: id, total: 0, unfilled: ROWS.length, groups: [] }, 'before a fill: nothing tried, nothing counted');

  await app.inject({ method: 'POST', url: `/api/v1/questionnaires/${id}/fill`, headers: a.auth });
  while (await runNextJob(app.jobDeps)) {
    /* drain */
  }
  const doc = (await wholeQuestionnaire(app, a.auth, id)) as { questions: Question[] };
  const q = Object.fromEntries(doc.questions.map((x) => [x.ref, x])) as Record<string, Question>;
  t.equal(q.C1!.section, 'Company', "the section comes from the buyer's file");

  const res = await gaps(viewer);
  t.equal(res.statusCode, 200, 'a viewer reads the gaps');
  const body = res.json() as { questionnaireId: string; total: number; unfilled: number; groups: Group[] };
  t.equal(body.unfilled, 0);
  const listed = body.groups.flatMap((g) => g.questions.map((x) => x.ref));
  t.same(
    listed.sort(),
    ['C1', 'C2', 'U1', 'U3', 'U4', 'Z1'],
    'the abstentions for lack of a source; not the answered E1 and P1, nor P3 whose list lacks the value',
  );
  t.equal(body.total, 6);
  t.equal(q.P3!.answer!.choice, null, 'P3 did abstain');
  t.match(q.P3!.answer!.reviewReason, /list has no Partial/, "because of the buyer's list, not the sources");

  t.same(
    body.groups[0],
    {
      topic: 'Company',
      from: 'section',
      control: null,
      questions: [
        { id: q.C1!.id, ref: 'C1', text: 'Please give the full registered name of your company.', reason: 'no fact `company.legal_name`' },
        { id: q.C2!.id, ref: 'C2', text: 'In which city is your main office?', reason: 'no fact `company.headquarters`' },
      ],
    },
    "grouped by the section, in questionnaire order, with the abstention's reason",
  );

  for (const ref of ['U1', 'U3', 'U4']) {
    const group = body.groups.find((g) => g.questions.some((x) => x.ref === ref))!;
    const best = q[ref]!.answer!.sources.find((s) => s.kind === 'control')!;
    const control = (await app.inject({ method: 'GET', url: `/api/v1/frameworks/${best.framework}/controls/${best.ref}`, headers: a.auth })).json();
    t.match(
      group,
      { from: 'control', control: { framework: best.framework, ref: best.ref }, topic: control.title },
      `${ref}: no section, so the title of its best candidate control (${best.ref})`,
    );
    t.equal(group.questions.find((x) => x.ref === ref)!.reason, q[ref]!.answer!.reviewReason, `${ref}: the review reason`);
  }
  const last = body.groups[body.groups.length - 1]!;
  t.match(
    last,
    { topic: 'Unsorted', from: 'none', control: null, questions: [{ ref: 'Z1', reason: 'no control or library answer speaks to this question' }] },
    'nothing to sort by: Unsorted, last',
  );

  // A person answers one: it is no longer a gap.
  const fixed = await app.inject({
    method: 'PATCH',
    url: `/api/v1/questionnaires/${id}/questions/${q.C1!.id}`,
    headers: a.auth,
    payload: { text: 'Fjordline Analytics AS', status: 'approved' },
  });
  t.equal(fixed.statusCode, 200, fixed.body);
  const after = (await gaps()).json() as { total: number; groups: Group[] };
  t.equal(after.total, 5);
  t.same(
    after.groups[0]!.questions.map((x) => x.ref),
    ['C2'],
  );

  t.equal((await gaps(b)).statusCode, 404, "another tenant's questionnaire is a 404");
  t.equal((await gaps(b)).json().code, 'not_found');
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${randomUUID()}/gaps`, headers: a.auth })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/questionnaires/nope/gaps', headers: a.auth })).statusCode, 400);
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/questionnaires/${id}/gaps` })).statusCode, 401);
});

t.test('the gap rule', async (t) => {
  const base = {
    status: 'draft' as const,
    choice: 'yes',
    answerText: 'Yes.',
    sources: [{ kind: 'control' as const, framework: 'iso27001-2022', ref: 'A.8.5' }],
    reviewReason: null,
    answerBasis: { path: 'control_yes', raw: 0.8 },
  };
  t.equal(gapReason(base), undefined, 'an answer with a source');
  t.equal(gapReason({ ...base, status: null, choice: null, answerText: null, sources: [] }), undefined, 'not filled yet');
  t.equal(gapReason({ ...base, status: 'approved', choice: null, answerText: 'Written by a person.', sources: [] }), undefined, 'a person answered');
  t.equal(gapReason({ ...base, status: 'rejected' }), undefined, 'a person rejected it');
  t.equal(
    gapReason({ ...base, choice: null, answerText: null, sources: [], answerBasis: { path: 'vsaq_hidden', raw: 1 } }),
    undefined,
    "hidden by the buyer's own VSAQ conditions",
  );
  t.equal(gapReason({ ...base, choice: null, answerText: null }), 'no source answered', 'no choice and no text');
  t.equal(gapReason({ ...base, sources: [] }), 'the answer cites no source');
  const abstain = { ...base, status: 'needs_review' as const, choice: null, answerText: 'A related sentence.', answerBasis: { path: 'abstain', raw: 0 } };
  t.equal(
    gapReason({ ...abstain, reviewReason: 'the closest control (A.8.8) has no answer yet' }),
    'the closest control (A.8.8) has no answer yet',
    'an abstention for lack of a source',
  );
  t.equal(gapReason({ ...abstain, reviewReason: null }), 'the sources do not settle it');
  for (const reason of [
    'A.5.30 is partly implemented and the list has no Partial',
    'a question in 2 parts: answer each part',
    'the statement is worded in the negative: read it before answering',
    'the statement names several offered options (Daily, Weekly)',
    'the library answer "AWS" is not in this question\'s list',
  ]) {
    t.equal(gapReason({ ...abstain, reviewReason: reason }), undefined, `settled, but not writable as is: ${reason}`);
  }
  t.equal(
    gapReason({ ...abstain, answerBasis: { path: 'control_yes', raw: 0.3 }, choice: 'yes', reviewReason: 'confidence 0.5 is below the draft threshold 0.95' }),
    undefined,
    'a weak answer is an answer to review, not a gap',
  );
});
