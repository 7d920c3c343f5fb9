// What retiring catalog controls does to the organizations' answers (src/catalog-retire.ts calls
// these on the seeder's transaction, across organizations): the only code outside the service
// that writes control_answers, and it keeps the same history the service keeps.
import { and, eq, inArray, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { ANSWER_FIELDS } from './service.js';
import { controlAnswerVersions, controlAnswers, type ControlAnswerSnapshot } from './tables.js';

/** An answer as stored. */
export type ControlAnswerRow = typeof controlAnswers.$inferSelect;

/** Every organization's answer on these controls of one framework, locked until the transaction ends. */
export async function lockAnswersOn(tx: Executor, frameworkId: string, refs: readonly string[]): Promise<ControlAnswerRow[]> {
  return tx
    .select()
    .from(controlAnswers)
    .where(and(eq(controlAnswers.frameworkId, frameworkId), inArray(controlAnswers.ref, [...refs])))
    .for('update');
}

/** How many version rows each organization has on each of these controls of one framework. */
export async function answerVersionCountsOn(
  tx: Executor,
  frameworkId: string,
  refs: readonly string[],
): Promise<Array<{ orgId: string; ref: string; n: number }>> {
  return tx
    .select({ orgId: controlAnswerVersions.orgId, ref: controlAnswerVersions.ref, n: sql<number>`count(*)::int` })
    .from(controlAnswerVersions)
    .where(and(eq(controlAnswerVersions.frameworkId, frameworkId), inArray(controlAnswerVersions.ref, [...refs])))
    .groupBy(controlAnswerVersions.orgId, controlAnswerVersions.ref);
}

/** Which of these organizations already answer which of these controls, those answers locked until the transaction ends. */
export async function lockAnswersAmong(
  tx: Executor,
  orgIds: readonly string[],
  controls: ReadonlyArray<{ framework: string; ref: string }>,
): Promise<Array<{ orgId: string; frameworkId: string; ref: string }>> {
  if (orgIds.length === 0 || controls.length === 0) return [];
  return tx
    .select({ orgId: controlAnswers.orgId, frameworkId: controlAnswers.frameworkId, ref: controlAnswers.ref })
    .from(controlAnswers)
    .where(
      and(
        inArray(controlAnswers.orgId, [...orgIds]),
        or(...controls.map((c) => and(eq(controlAnswers.frameworkId, c.framework), eq(controlAnswers.ref, c.ref)))),
      ),
    )
    .for('update');
}

/**
 * Writes an answer as the organization's answer on another control (its home), unanswered there,
 * at the version after the last one that control had, with a version row naming every field as
 * changed; returns that version. The answer on the old control stays until deleteAnswersOn.
 */
export async function copyAnswerTo(
  tx: Executor,
  answer: ControlAnswerRow,
  home: { framework: string; ref: string },
  change: { actor: string; now: Date; requestId: string },
): Promise<number> {
  const [{ last }] = (await tx
    .select({ last: sql<number>`coalesce(max(${controlAnswerVersions.version}), 0)::int` })
    .from(controlAnswerVersions)
    .where(
      and(eq(controlAnswerVersions.orgId, answer.orgId), eq(controlAnswerVersions.frameworkId, home.framework), eq(controlAnswerVersions.ref, home.ref)),
    )) as [{ last: number }];
  const row = { ...answer, frameworkId: home.framework, ref: home.ref, version: last + 1, updatedBy: change.actor, updatedAt: change.now };
  await tx.insert(controlAnswers).values(row);
  const { orgId: _o, frameworkId: _f, ref: _r, ...rest } = row;
  const snapshot: ControlAnswerSnapshot = { ...rest, reviewDueAt: row.reviewDueAt?.toISOString() ?? null, updatedAt: change.now.toISOString() };
  await tx.insert(controlAnswerVersions).values({
    orgId: answer.orgId,
    frameworkId: home.framework,
    ref: home.ref,
    version: row.version,
    snapshot,
    changedFields: [...ANSWER_FIELDS],
    changedBy: change.actor,
    changedAt: change.now,
    requestId: change.requestId,
  });
  return row.version;
}

/** Deletes every organization's answer on these controls of one framework (their version rows stay). */
export async function deleteAnswersOn(tx: Executor, frameworkId: string, refs: readonly string[]): Promise<void> {
  await tx.delete(controlAnswers).where(and(eq(controlAnswers.frameworkId, frameworkId), inArray(controlAnswers.ref, [...refs])));
}
