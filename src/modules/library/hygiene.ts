// Library hygiene: entries that answer the same question differently (conflicts: the fill would
// reuse whichever it meets) and entries that answer it the same way (duplicates: redundant).
import { asc, eq } from 'drizzle-orm';
import type { ServiceContext } from '../../lib/context.js';
import { invalidCursor } from '../../lib/pagination.js';
import { factsOf } from './service.js';
import { answerKey, groupSameQuestion, lexemesOf, questionKey } from './matching.js';
import { libraryEntries } from './tables.js';

export type HygieneKind = 'conflict' | 'duplicate';

/**
 * Groups of entries asking the same question (see matching.ts), oldest entry first. A group is a
 * conflict when its answers differ (another choice, another text where there is no choice) or
 * when its entries rest on different profile facts; otherwise its entries are duplicates.
 * Conflicts come first. The list is computed on read; the cursor is an offset into it.
 */
export async function listConflicts(ctx: ServiceContext, q: { limit: number; cursor?: string; kind?: HygieneKind }) {
  const offset = q.cursor === undefined ? 0 : /^\d{1,9}$/.test(q.cursor) ? Number(q.cursor) : -1;
  if (offset < 0) throw invalidCursor();
  const rows = await ctx.db
    .select({
      id: libraryEntries.id,
      question: libraryEntries.question,
      choice: libraryEntries.choice,
      answerText: libraryEntries.answerText,
      status: libraryEntries.status,
      stale: libraryEntries.stale,
      ownerId: libraryEntries.ownerId,
      importId: libraryEntries.importId,
    })
    .from(libraryEntries)
    .where(eq(libraryEntries.orgId, ctx.orgId))
    .orderBy(asc(libraryEntries.id));
  const lexemes = await lexemesOf(
    ctx.db,
    rows.map((r) => r.question),
  );
  const groups = groupSameQuestion(rows.map((r, i) => ({ ...r, key: questionKey(r.question, lexemes[i]!) })));
  const facts = await factsOf(
    ctx,
    groups.flat().map((e) => e.id),
  );
  const factSet = (id: string) => [...(facts.get(id) ?? [])].sort().join(',');
  const items = groups
    .map((g) => {
      const answers = new Set(g.map((e) => answerKey({ choice: e.choice, text: e.answerText })));
      const cited = new Set(g.filter((e) => facts.has(e.id)).map((e) => factSet(e.id)));
      const kind: HygieneKind = answers.size > 1 || cited.size > 1 ? 'conflict' : 'duplicate';
      return {
        kind,
        question: g[0]!.question,
        entries: g.map((e) => ({
          id: e.id,
          question: e.question,
          choice: e.choice,
          answerText: e.answerText,
          status: e.status,
          stale: e.stale,
          ownerId: e.ownerId,
          facts: facts.get(e.id) ?? [],
          importId: e.importId,
        })),
      };
    })
    .filter((x) => !q.kind || x.kind === q.kind)
    .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'conflict' ? -1 : 1));
  const page = items.slice(offset, offset + q.limit);
  return { items: page, nextCursor: offset + q.limit < items.length ? String(offset + q.limit) : null };
}
