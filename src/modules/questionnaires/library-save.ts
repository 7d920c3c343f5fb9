import { and, eq } from 'drizzle-orm';
import { requireRole, type ServiceContext } from '../../lib/context.js';
import { DomainError, notFound } from '../../lib/errors.js';
import { createEntry, type Choice } from '../library/index.js';
import { existingFactKeys } from '../profile/index.js';
import { listMeaning } from './decide.js';
import { questions } from './tables.js';

/**
 * Saves a reviewed questionnaire answer to the library, with the controls it cited. Only an
 * approved answer qualifies: the library holds what a person stood behind.
 */
export async function saveFromAnswer(
  ctx: ServiceContext,
  questionnaireId: string,
  questionId: string,
  opts: { public?: boolean; ownerId?: string; question?: string; controls?: string[] },
) {
  requireRole(ctx.actor, 'editor');
  const [q] = await ctx.db
    .select()
    .from(questions)
    .where(and(eq(questions.orgId, ctx.orgId), eq(questions.questionnaireId, questionnaireId), eq(questions.id, questionId)));
  if (!q) throw notFound('question');
  if (q.status !== 'approved') throw new DomainError('unprocessable', 'only an approved answer can be saved to the library; approve it first');
  // The reviewer confirms or corrects the controls the entry stands on; by default, the ones the answer cited.
  const controls = opts.controls ?? q.sources.filter((s) => s.kind === 'control' && s.ref).map((s) => s.ref!);
  // Facts the answer cited come along; one deleted since the approval is left out rather than refusing the save.
  const facts = [
    ...(await existingFactKeys(
      ctx,
      q.sources.filter((s) => s.kind === 'fact' && s.key).map((s) => s.key!),
    )),
  ];
  // Quoted passages (they carry a title): a new version of their file makes the entry stale.
  const documents = q.sources
    .filter((s) => (s.kind === 'document' || s.kind === 'evidence') && s.title !== undefined && s.id && s.version !== undefined)
    .map((s) => ({ kind: s.kind as 'document' | 'evidence', id: s.id!, version: s.version! }));
  return createEntry(
    ctx,
    {
      facts,
      documents,
      question: opts.question ?? q.text,
      answer: { choice: genericChoice(q.choice, q.allowedAnswers), text: q.answerText },
      controls,
      ...(opts.ownerId ? { ownerId: opts.ownerId } : {}),
      ...(opts.public !== undefined ? { public: opts.public } : {}),
      status: 'approved',
    },
    { questionnaireId, questionId },
  );
}

/** An answer's choice as the library keeps it: yes/no/partial/n/a when the buyer's value means one, else the value itself. */
function genericChoice(choice: string | null, allowed: string[] | null): Choice | null {
  if (choice === null) return null;
  const list = listMeaning(allowed);
  const meaning = list ? (['yes', 'no', 'partial', 'na'] as const).find((k) => list[k] === choice) : undefined;
  if (meaning) return meaning === 'na' ? 'n/a' : meaning;
  return choice as Choice;
}
