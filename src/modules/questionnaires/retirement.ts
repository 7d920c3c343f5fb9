// What src/catalog-retire.ts learns of questionnaires when catalog controls retire: answers' citations
// are history and stay as written, so it only counts them.
import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { questions } from './tables.js';

/** How many answers of each organization cite each of these controls of one framework. */
export async function controlCitationCounts(
  tx: Executor,
  frameworkId: string,
  refs: readonly string[],
): Promise<Array<{ orgId: string; ref: string; n: number }>> {
  const list = sql`array[${sql.join(
    refs.map((x) => sql`${x}`),
    sql`, `,
  )}]::text[]`;
  return (
    (await tx.execute(sql`
    select q.org_id as "orgId", s->>'ref' as ref, count(*)::int as n
    from ${questions} q, jsonb_array_elements(q.sources) s
    where s->>'kind' = 'control' and s->>'framework' = ${frameworkId} and s->>'ref' = any(${list})
    group by 1, 2`)) as unknown as { rows: Array<{ orgId: string; ref: string; n: number }> }
  ).rows;
}
