// What the organization's knowledge does not cover yet: the questions of a filled questionnaire
// that no source could answer, grouped by topic so someone can write the missing answers.
import { and, asc, eq } from 'drizzle-orm';
import type { ServiceContext } from '../../lib/context.js';
import { notFound } from '../../lib/errors.js';
import { findControl } from '../catalog/index.js';
import { questionnaires, questions } from './tables.js';

type QuestionRow = typeof questions.$inferSelect;

/**
 * Abstentions where the sources do settle the question and only its form gets in the way (the
 * buyer's list lacks the value, several parts, a statement to read, several options named): a
 * person has an answer to write down, so these are not gaps.
 */
const SETTLED_BUT_UNWRITABLE =
  /\b(list has no|not in this question's list|no offered option matches fact|in \d+ parts|worded in the negative|names several offered options)\b/i;

export const GAP_RULE =
  'A question is a gap when a fill has answered it (questions not filled yet are not counted), no person has decided it ' +
  "(approved or rejected answers are not gaps), it is not a VSAQ item the buyer's own conditions hide, and: (a) the answer has no " +
  'choice and no text, or (b) it cites no source, or (c) the fill abstained (needs_review with no choice) because the sources do ' +
  'not settle it: every abstention except those where the sources settle the question but its form prevents writing the answer ' +
  "(the buyer's list lacks the value, a question in several parts, a statement worded in the negative, several options named, no " +
  'offered option matching a fact). `reason` is the abstention\'s review reason, else "no source answered" or "the answer cites no source". ' +
  'Topic: the question\'s section in the buyer\'s file; else the title of the best candidate control among its sources; else "Unsorted".';

/** Why a question is a gap, or undefined when it is not one (GAP_RULE). */
export function gapReason(q: Pick<QuestionRow, 'status' | 'choice' | 'answerText' | 'sources' | 'reviewReason' | 'answerBasis'>): string | undefined {
  if (q.status === null || q.status === 'approved' || q.status === 'rejected') return undefined;
  if (q.answerBasis?.path === 'vsaq_hidden') return undefined;
  const hasText = (q.answerText ?? '').trim() !== '';
  if (q.status === 'needs_review' && q.choice === null && q.answerBasis?.path === 'abstain') {
    const reason = q.reviewReason ?? 'the sources do not settle it';
    if (!SETTLED_BUT_UNWRITABLE.test(reason)) return reason;
  }
  if (q.choice === null && !hasText) return 'no source answered';
  if (q.sources.length === 0) return 'the answer cites no source';
  return undefined;
}

export async function questionnaireGaps(ctx: ServiceContext, id: string) {
  const [row] = await ctx.db
    .select({ id: questionnaires.id })
    .from(questionnaires)
    .where(and(eq(questionnaires.orgId, ctx.orgId), eq(questionnaires.id, id)));
  if (!row) throw notFound('questionnaire');
  const qs = await ctx.db
    .select()
    .from(questions)
    .where(and(eq(questions.orgId, ctx.orgId), eq(questions.questionnaireId, id)))
    .orderBy(asc(questions.position));
  const gaps = qs.flatMap((q) => {
    const reason = gapReason(q);
    return reason === undefined ? [] : [{ q, reason }];
  });

  // Control titles through the catalog's own lookup, once per control.
  const best = (q: QuestionRow) => q.sources.find((s) => s.kind === 'control' && s.framework && s.ref);
  const keys = [
    ...new Set(
      gaps
        .filter((g) => !g.q.section?.trim())
        .map((g) => best(g.q))
        .filter((s) => s !== undefined)
        .map((s) => `${s.framework}\u0000${s.ref}`),
    ),
  ];
  const titles = new Map(
    await Promise.all(
      keys.map(async (k): Promise<[string, string | undefined]> => {
        const [framework, ref] = k.split('\u0000') as [string, string];
        const c = await findControl(ctx.db, framework, ref);
        return [k, c?.title];
      }),
    ),
  );

  interface Group {
    topic: string;
    from: 'section' | 'control' | 'none';
    control: { framework: string; ref: string } | null;
    questions: Array<{ id: string; ref: string | null; text: string; reason: string }>;
  }
  const groups = new Map<string, Group>();
  for (const { q, reason } of gaps) {
    const section = q.section?.trim();
    const source = section ? undefined : best(q);
    const title = source ? titles.get(`${source.framework}\u0000${source.ref}`) : undefined;
    const control = source && title ? { framework: source.framework!, ref: source.ref! } : null;
    const topic = section || (control && title) || 'Unsorted';
    const from = section ? ('section' as const) : control ? ('control' as const) : ('none' as const);
    const key = control ? `control\u0000${control.framework}\u0000${control.ref}` : `${from}\u0000${topic}`;
    const group = groups.get(key) ?? groups.set(key, { topic, from, control, questions: [] }).get(key)!;
    group.questions.push({ id: q.id, ref: q.ref, text: q.text, reason });
  }
  // In questionnaire order (a group's first question), Unsorted last.
  const ordered = [...groups.values()].sort((a, b) => Number(a.from === 'none') - Number(b.from === 'none'));
  return {
    questionnaireId: id,
    total: gaps.length,
    unfilled: qs.filter((q) => q.status === null).length,
    groups: ordered,
  };
}
