import type { ServiceContext } from '../../lib/context.js';
import type { Column } from '../../lib/tabular.js';
import { catalogControlsOf } from '../catalog/index.js';
import { answersByControl, type Responsibility } from '../controls/index.js';
import { evidenceByControl } from '../evidence/index.js';

/** R = does the work, A = answers for it, C = consulted, I = informed, per party and control. */
const RACI: Record<Responsibility, { provider: string; customer: string }> = {
  provider: { provider: 'R,A', customer: 'I' },
  customer: { provider: 'C', customer: 'R,A' },
  shared: { provider: 'R,A (own side)', customer: 'R,A (own side)' },
};

export interface MatrixRow {
  framework: string;
  ref: string;
  title: string;
  responsibility: Responsibility | null;
  provider: string;
  customer: string;
  providerStatement: string | null;
  customerStatement: string | null;
  status: string | null;
  evidenceCurrent: number;
  evidenceExpired: number;
}

/**
 * The shared-responsibility (RACI) matrix that ISO/IEC 27017 CLD.6.3.1 asks a cloud provider to
 * publish: for every answerable control, who does what, with each side's statement.
 */
export async function responsibilityMatrix(ctx: ServiceContext) {
  const [controls, answers, evidence] = await Promise.all([
    catalogControlsOf(ctx.db, ['iso27001-2022', 'iso27017-2015'], ['annex_a', 'cloud_control']),
    answersByControl(ctx),
    evidenceByControl(ctx, ctx.clock()),
  ]);
  const rows: MatrixRow[] = controls.flatMap((c) => {
    const a = answers.get(`${c.frameworkId}:${c.ref}`);
    if (a && !a.applicable) return [];
    const raci = a ? RACI[a.responsibility] : { provider: '', customer: '' };
    const ev = evidence.get(`${c.frameworkId}:${c.ref}`);
    return [
      {
        framework: c.frameworkId,
        ref: c.ref,
        title: c.title,
        responsibility: a?.responsibility ?? null,
        provider: raci.provider,
        customer: raci.customer,
        providerStatement: a?.providerStatement ?? null,
        customerStatement: a?.customerStatement ?? null,
        status: a?.status ?? null,
        evidenceCurrent: ev?.current ?? 0,
        evidenceExpired: ev?.expired ?? 0,
      },
    ];
  });
  return {
    generatedAt: ctx.clock().toISOString(),
    legend: { R: 'responsible: does the work', A: 'accountable: answers for it', C: 'consulted', I: 'informed' },
    summary: {
      provider: rows.filter((r) => r.responsibility === 'provider').length,
      customer: rows.filter((r) => r.responsibility === 'customer').length,
      shared: rows.filter((r) => r.responsibility === 'shared').length,
      unanswered: rows.filter((r) => r.responsibility === null).length,
    },
    rows,
  };
}

export const MATRIX_COLUMNS: Column<MatrixRow>[] = [
  { header: 'framework', value: (r) => r.framework, width: 16 },
  { header: 'ref', value: (r) => r.ref, width: 12 },
  { header: 'title', value: (r) => r.title, width: 45 },
  { header: 'responsibility', value: (r) => r.responsibility, width: 14, allowed: ['provider', 'customer', 'shared'] },
  { header: 'provider', value: (r) => r.provider, width: 16 },
  { header: 'customer', value: (r) => r.customer, width: 16 },
  { header: 'providerStatement', value: (r) => r.providerStatement, width: 60 },
  { header: 'customerStatement', value: (r) => r.customerStatement, width: 60 },
  { header: 'status', value: (r) => r.status, width: 22 },
  { header: 'evidenceCurrent', value: (r) => r.evidenceCurrent, width: 16 },
  { header: 'evidenceExpired', value: (r) => r.evidenceExpired, width: 16 },
];
