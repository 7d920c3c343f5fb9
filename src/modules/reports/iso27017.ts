import type { ServiceContext } from '../../lib/context.js';
import { catalogControlsOf, catalogLinks } from '../catalog/index.js';
import { answersByControl } from '../controls/index.js';
import { evidenceByControl } from '../evidence/index.js';

const CLOUD = 'iso27017-2015';
const ISO = 'iso27001-2022';

type Gap =
  | 'not_answered'
  | 'not_implemented'
  | 'partially_implemented'
  | 'no_current_evidence'
  | 'evidence_expired'
  | 'missing_provider_statement'
  | 'missing_customer_statement';

/**
 * ISO/IEC 27017 readiness: each CLD control and each cloud-guidance item, answered, implemented
 * and evidenced, with the gaps that stop it being ready. Guidance items (27002:2013 numbering) are
 * judged through the ISO/IEC 27001:2022 controls they map to.
 */
export async function iso27017Readiness(ctx: ServiceContext) {
  const now = ctx.clock();
  const [items, links, answers, evidence] = await Promise.all([
    catalogControlsOf(ctx.db, [CLOUD], ['cloud_control', 'cloud_guidance']),
    catalogLinks(ctx.db, CLOUD, ISO),
    answersByControl(ctx),
    evidenceByControl(ctx, now),
  ]);
  const mapped = new Map<string, string[]>();
  for (const l of links) mapped.set(l.fromRef, [...(mapped.get(l.fromRef) ?? []), l.toRef]);

  const rows = items.map((item) => {
    const isCld = item.kind === 'cloud_control';
    // The sides the standard gives guidance to: a one-sided item has null on the other side.
    const guidanceFor = (['provider', 'customer'] as const).filter((side) => Boolean(item.guidance[`${side}Guidance`]));
    // A CLD control is answered itself; a guidance item through the 2022 controls it maps to.
    const keys = isCld ? [`${CLOUD}:${item.ref}`] : (mapped.get(item.ref) ?? []).map((r) => `${ISO}:${r}`);
    const gaps = new Set<Gap>();
    const basis = keys.map((key) => {
      const a = answers.get(key);
      const ev = evidence.get(key);
      if (!a) gaps.add('not_answered');
      else if (a.applicable) {
        if (a.status === 'partially_implemented') gaps.add('partially_implemented');
        else if (a.status !== 'implemented') gaps.add('not_implemented');
        if (a.responsibility !== 'customer' && !a.providerStatement && isCld) gaps.add('missing_provider_statement');
        // A guidance item asks for the customer's side only where the standard gives the customer guidance.
        if (a.responsibility !== 'provider' && !a.customerStatement && (isCld || guidanceFor.includes('customer'))) gaps.add('missing_customer_statement');
      }
      if (isCld && a?.applicable !== false) {
        if (!ev || ev.current === 0) gaps.add(ev && ev.expired > 0 ? 'evidence_expired' : 'no_current_evidence');
      }
      return {
        framework: key.split(':')[0]!,
        ref: key.split(':')[1]!,
        status: a?.status ?? null,
        applicable: a?.applicable ?? null,
        responsibility: a?.responsibility ?? null,
        evidence: { current: ev?.current ?? 0, expired: ev?.expired ?? 0 },
      };
    });
    const answered = basis.length > 0 && basis.every((b) => b.status !== null);
    const excluded = answered && basis.every((b) => b.applicable === false);
    const implemented = answered && basis.every((b) => b.applicable === false || b.status === 'implemented');
    const evidenced = !isCld || excluded || basis.every((b) => b.evidence.current > 0);
    return {
      ref: item.ref,
      kind: item.kind,
      title: item.title,
      mapsTo: isCld ? (mapped.get(item.ref) ?? []) : keys.map((k) => k.split(':')[1]!),
      guidanceFor,
      expectedEvidence: item.guidance.expectedEvidence ?? [],
      answered,
      excluded,
      implemented,
      evidenced,
      ready: answered && implemented && evidenced && gaps.size === 0,
      gaps: [...gaps],
      basis,
    };
  });
  const cld = rows.filter((r) => r.kind === 'cloud_control');
  const guidance = rows.filter((r) => r.kind === 'cloud_guidance');
  const summarize = (list: typeof rows) => ({
    total: list.length,
    answered: list.filter((r) => r.answered).length,
    implemented: list.filter((r) => r.implemented).length,
    evidenced: list.filter((r) => r.evidenced).length,
    ready: list.filter((r) => r.ready).length,
  });
  return {
    generatedAt: now.toISOString(),
    rule: "A CLD control is ready when answered, implemented (or excluded with a justification), backed by current (unexpired) evidence, and, where responsibility is shared or the provider's, carries the provider's statement; a shared or customer control also needs the customer's statement. A cloud-guidance item is judged through the ISO/IEC 27001:2022 controls it maps to, and asks for the customer's statement only where the standard gives the customer guidance (`guidanceFor`).",
    summary: { cloudControls: summarize(cld), cloudGuidance: summarize(guidance) },
    items: rows,
  };
}
