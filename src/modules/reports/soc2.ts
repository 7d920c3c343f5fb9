import type { ServiceContext } from '../../lib/context.js';
import { effectiveCrosswalk } from '../catalog/index.js';
import { catalogControlsOf, controlTitlesOf } from '../catalog/index.js';
import { answersByControl, type ControlStatus } from '../controls/index.js';
import { evidenceByControl } from '../evidence/index.js';

export const SOC2_FRAMEWORK = 'soc2-2017';
const ISO = 'iso27001-2022';

export const SOC2_COVERAGE_RULE =
  'For each criterion, the ISO/IEC 27001:2022 Annex A controls linked to it by the crosswalk (your additions in, your rejections out) are weighted by link strength: strong 3, moderate 2, weak 1, your own links 2. ' +
  'Each linked control scores by its status: implemented 1, partially_implemented 0.5, planned, not_implemented or unanswered 0; controls you marked not applicable are left out. ' +
  'Coverage is the weighted mean of those scores, from 0 to 1; a criterion with no applicable linked control has coverage 0.';

const STRENGTH_WEIGHT: Record<string, number> = { strong: 3, moderate: 2, weak: 1, organization: 2 };
const STATUS_SCORE: Record<ControlStatus, number> = { implemented: 1, partially_implemented: 0.5, planned: 0, not_implemented: 0 };

export async function soc2Coverage(ctx: ServiceContext) {
  const [criteria, links, answers, isoControls, evidence] = await Promise.all([
    catalogControlsOf(ctx.db, [SOC2_FRAMEWORK]),
    effectiveCrosswalk(ctx, { from: ISO, to: SOC2_FRAMEWORK }),
    answersByControl(ctx),
    controlTitlesOf(ctx.db, [ISO]),
    evidenceByControl(ctx, ctx.clock()),
  ]);
  const titles = new Map(isoControls.map((c) => [c.ref, c.title]));
  const byCriterion = new Map<string, typeof links>();
  for (const l of links) byCriterion.set(l.to, [...(byCriterion.get(l.to) ?? []), l]);

  const rows = criteria.map((c) => {
    const linked = byCriterion.get(c.ref) ?? [];
    let weight = 0;
    let score = 0;
    const controls = linked.map((l) => {
      const a = answers.get(`${ISO}:${l.from}`);
      const w = STRENGTH_WEIGHT[l.strength] ?? 1;
      if (!a || a.applicable) {
        weight += w;
        score += w * (a ? STATUS_SCORE[a.status] : 0);
      }
      const ev = evidence.get(`${ISO}:${l.from}`);
      return {
        ref: l.from,
        title: titles.get(l.from) ?? null,
        strength: l.strength,
        sources: l.sources,
        status: a?.status ?? null,
        applicable: a?.applicable ?? null,
        evidence: { current: ev?.current ?? 0, expired: ev?.expired ?? 0 },
      };
    });
    const coverage = weight === 0 ? 0 : Math.round((score / weight) * 1000) / 1000;
    return {
      criterion: c.ref,
      title: c.title,
      group: (c.attributes.group as string | undefined) ?? null,
      groupName: (c.attributes.groupName as string | undefined) ?? null,
      coverage,
      /** Linked controls whose evidence has all expired: shown, not hidden, until renewed. */
      expiredEvidence: controls.filter((x) => x.evidence.expired > 0 && x.evidence.current === 0).map((x) => x.ref),
      controls,
    };
  });
  return {
    framework: SOC2_FRAMEWORK,
    rule: SOC2_COVERAGE_RULE,
    summary: {
      criteria: rows.length,
      covered: rows.filter((r) => r.coverage >= 0.999).length,
      partial: rows.filter((r) => r.coverage > 0 && r.coverage < 0.999).length,
      uncovered: rows.filter((r) => r.coverage === 0 && r.controls.length > 0).length,
      unmapped: rows.filter((r) => r.controls.length === 0).length,
    },
    criteria: rows,
  };
}
