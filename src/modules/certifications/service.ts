import { and, desc, eq, lt } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { type OrgScope, requireRole, type ServiceContext } from '../../lib/context.js';
import { DomainError, notFound, type FieldError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { decodeCursor, toPage, invalidCursor } from '../../lib/pagination.js';
import { recordAudit } from '../audit/index.js';
import { existingEvidenceIds } from '../evidence/index.js';
import { certifications, type CertificationKind, type SurveillanceAudit } from './tables.js';

export type CertificationRow = typeof certifications.$inferSelect;
export type Visibility = CertificationRow['visibility'];
export const CERTIFICATION_STATUSES = ['valid', 'due_soon', 'stale', 'expired'] as const;
export type CertificationStatus = (typeof CERTIFICATION_STATUSES)[number];

export interface SurveillanceAuditInput {
  dueAt: string;
  completedAt?: string | null;
}

/** Dates are ISO 8601 date-times with an offset, or plain dates (`YYYY-MM-DD`, read as 00:00 UTC). */
export interface CertificationInput {
  kind: CertificationKind;
  name: string;
  issuer?: string | null;
  scope?: string | null;
  certificateNumber?: string | null;
  includesIso27017?: boolean;
  issuedAt?: string | null;
  expiresAt?: string | null;
  periodStart?: string | null;
  periodEnd?: string | null;
  surveillanceAudits?: SurveillanceAuditInput[] | null;
  evidenceId?: string | null;
  visibility?: Visibility;
}

/** PATCH: any subset; `null` clears an optional field (a cleared derived date is derived again). */
export type CertificationPatch = Partial<CertificationInput>;

// ---------------------------------------------------------------------------------------------
// Date arithmetic, in UTC. Months are calendar months; a day that does not exist in the target
// month is clamped to its last day (31 Aug + 6 months = 28/29 Feb; 29 Feb 2024 + 1 year = 28 Feb 2025).

const DAY_MS = 86_400_000;

export function addMonthsUtc(d: Date, months: number): Date {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()));
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** ISO/IEC 27001 certification cycle: a certificate runs 3 years, ending the day before the anniversary. */
export const defaultIsoExpiry = (issuedAt: Date): Date => new Date(addMonthsUtc(issuedAt, 36).getTime() - DAY_MS);

/** The two annual surveillance audits of the 3-year cycle, due 1 and 2 years after issue. */
export const defaultSurveillanceAudits = (issuedAt: Date): SurveillanceAudit[] =>
  [12, 24].map((m) => ({ dueAt: addMonthsUtc(issuedAt, m).toISOString(), completedAt: null }));

// ---------------------------------------------------------------------------------------------
// Status

export interface StatusResult {
  status: CertificationStatus;
  statusReason: string;
  /** ISO 27001 only: the earliest surveillance audit not yet completed, else the recertification (by expiry). */
  nextAuditDueAt: Date | null;
}

export type StatusInput = Pick<CertificationRow, 'kind' | 'issuedAt' | 'expiresAt' | 'periodEnd' | 'surveillanceAudits'>;

/**
 * The status of a certificate or report at `now`, from its dates only (pure; callers pass the
 * request clock). Rules, first match wins:
 *
 * iso27001 (3-year certificate with annual surveillance audits):
 *   expired  when now > expiresAt (default issuedAt + 3 years - 1 day);
 *   stale    when a surveillance audit is past its dueAt and not completed (certificate at risk);
 *   due_soon when expiresAt is within 90 days, or the next uncompleted surveillance audit is due within 60 days;
 *   valid    otherwise.
 * soc2_type1 / soc2_type2 (12-month freshness rule: customers rely on a report for 12 months after
 * its period end, the "as of" date for Type 1; months are calendar months):
 *   expired  when expiresAt is given and passed, or more than 15 months after period end;
 *   stale    when more than 12 and up to 15 months after period end (a bridge letter is needed);
 *   due_soon when more than 9 and up to 12 months after period end (the next report is due);
 *   valid    when up to 9 months after period end.
 * other:
 *   expired when expiresAt passed; due_soon when it is within 90 days; valid otherwise (or with no expiry).
 */
export function certificationStatus(row: StatusInput, now: Date): StatusResult {
  const t = now.getTime();
  const expired = row.expiresAt !== null && t > row.expiresAt.getTime();

  if (row.kind === 'iso27001') {
    const expiresAt = row.expiresAt ?? (row.issuedAt ? defaultIsoExpiry(row.issuedAt) : null);
    if (!expiresAt) return { status: 'stale', statusReason: 'No issue date is recorded, so the certification cycle is unknown.', nextAuditDueAt: null };
    const open = row.surveillanceAudits
      .filter((a) => !a.completedAt)
      .map((a) => new Date(a.dueAt))
      .sort((a, b) => a.getTime() - b.getTime());
    const next = open[0] ?? expiresAt;
    if (t > expiresAt.getTime()) {
      return { status: 'expired', statusReason: `The certificate expired on ${day(expiresAt)}; a recertification audit is needed.`, nextAuditDueAt: next };
    }
    const missed = open.find((d) => d.getTime() < t);
    if (missed) {
      return { status: 'stale', statusReason: `The surveillance audit due on ${day(missed)} has not been completed.`, nextAuditDueAt: next };
    }
    if (expiresAt.getTime() - t <= 90 * DAY_MS) {
      return { status: 'due_soon', statusReason: `The certificate expires on ${day(expiresAt)}, within 90 days; recertify before then.`, nextAuditDueAt: next };
    }
    const upcoming = open[0];
    if (upcoming && upcoming.getTime() - t <= 60 * DAY_MS) {
      return { status: 'due_soon', statusReason: `The next surveillance audit is due on ${day(upcoming)}, within 60 days.`, nextAuditDueAt: next };
    }
    return {
      status: 'valid',
      statusReason: upcoming
        ? `Certified until ${day(expiresAt)}; the next surveillance audit is due on ${day(upcoming)}.`
        : `Certified until ${day(expiresAt)}; surveillance audits are complete, recertification is due by then.`,
      nextAuditDueAt: next,
    };
  }

  if (row.kind === 'soc2_type1' || row.kind === 'soc2_type2') {
    const end = row.periodEnd;
    const what = row.kind === 'soc2_type1' ? 'The report\'s "as of" date' : 'The report period';
    if (expired) return { status: 'expired', statusReason: `The report expired on ${day(row.expiresAt!)}.`, nextAuditDueAt: null };
    if (!end) return { status: 'stale', statusReason: "No period end is recorded, so the report's freshness is unknown.", nextAuditDueAt: null };
    if (t <= addMonthsUtc(end, 9).getTime()) {
      return {
        status: 'valid',
        statusReason: `${what} ended on ${day(end)}; the report is current until ${day(addMonthsUtc(end, 12))}.`,
        nextAuditDueAt: null,
      };
    }
    if (t <= addMonthsUtc(end, 12).getTime()) {
      return { status: 'due_soon', statusReason: `${what} ended on ${day(end)}; a new report is due by ${day(addMonthsUtc(end, 12))}.`, nextAuditDueAt: null };
    }
    if (t <= addMonthsUtc(end, 15).getTime()) {
      return {
        status: 'stale',
        statusReason: `${what} ended more than 12 months ago (${day(end)}); a bridge letter is needed until the next report.`,
        nextAuditDueAt: null,
      };
    }
    return {
      status: 'expired',
      statusReason: `${what} ended more than 15 months ago (${day(end)}); the report can no longer be relied on.`,
      nextAuditDueAt: null,
    };
  }

  if (!row.expiresAt) return { status: 'valid', statusReason: 'No expiry date is recorded.', nextAuditDueAt: null };
  if (expired) return { status: 'expired', statusReason: `Expired on ${day(row.expiresAt)}.`, nextAuditDueAt: null };
  if (row.expiresAt.getTime() - t <= 90 * DAY_MS) {
    return { status: 'due_soon', statusReason: `Expires on ${day(row.expiresAt)}, within 90 days.`, nextAuditDueAt: null };
  }
  return { status: 'valid', statusReason: `Valid until ${day(row.expiresAt)}.`, nextAuditDueAt: null };
}

/**
 * The first instant after `now` at which certificationStatus gives another status, or null when
 * it never changes again (expired, or no dates to change by). The status is a function of
 * comparisons of the time with a few instants derived from the dates, so it can change only
 * there: each candidate is tried in order with the same rules.
 */
export function nextStatusChange(row: StatusInput, now: Date): Date | null {
  const t = now.getTime();
  const current = certificationStatus(row, now).status;
  // `t > x` turns true at x + 1 ms (times are whole milliseconds), `x - t <= d` at x - d.
  const after = (d: Date | null) => (d ? [d.getTime() + 1] : []);
  const candidates: number[] = [...after(row.expiresAt)];
  if (row.kind === 'iso27001') {
    const expiresAt = row.expiresAt ?? (row.issuedAt ? defaultIsoExpiry(row.issuedAt) : null);
    if (expiresAt) candidates.push(expiresAt.getTime() + 1, expiresAt.getTime() - 90 * DAY_MS);
    for (const a of row.surveillanceAudits) {
      if (a.completedAt) continue;
      const due = new Date(a.dueAt).getTime();
      candidates.push(due + 1, due - 60 * DAY_MS);
    }
  } else if ((row.kind === 'soc2_type1' || row.kind === 'soc2_type2') && row.periodEnd) {
    for (const months of [9, 12, 15]) candidates.push(addMonthsUtc(row.periodEnd, months).getTime() + 1);
  } else if (row.expiresAt) {
    candidates.push(row.expiresAt.getTime() - 90 * DAY_MS);
  }
  for (const c of [...new Set(candidates)].filter((c) => c > t).sort((a, b) => a - b)) {
    if (certificationStatus(row, new Date(c)).status !== current) return new Date(c);
  }
  return null;
}

/**
 * When the expiry scan must next look at a certification, seen at `now`: at once when it is not
 * valid (a notice may be due; the scan skips one already sent), else when its status changes.
 */
export function attentionAt(row: StatusInput, now: Date): Date | null {
  return certificationStatus(row, now).status === 'valid' ? nextStatusChange(row, now) : now;
}

// ---------------------------------------------------------------------------------------------
// Views

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function certificationView(r: CertificationRow, now: Date) {
  const s = certificationStatus(r, now);
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    issuer: r.issuer,
    scope: r.scope,
    certificateNumber: r.certificateNumber,
    includesIso27017: r.includesIso27017,
    issuedAt: iso(r.issuedAt),
    expiresAt: iso(r.expiresAt),
    periodStart: iso(r.periodStart),
    periodEnd: iso(r.periodEnd),
    surveillanceAudits: r.surveillanceAudits.map((a) => ({ dueAt: a.dueAt, completedAt: a.completedAt ?? null })),
    evidenceId: r.evidenceId,
    visibility: r.visibility,
    status: s.status,
    statusReason: s.statusReason,
    nextAuditDueAt: iso(s.nextAuditDueAt),
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
export type CertificationView = ReturnType<typeof certificationView>;

// ---------------------------------------------------------------------------------------------
// Input -> stored values, with the rules a JSON schema cannot say

type Draft = Pick<
  CertificationRow,
  | 'kind'
  | 'name'
  | 'issuer'
  | 'scope'
  | 'certificateNumber'
  | 'includesIso27017'
  | 'issuedAt'
  | 'expiresAt'
  | 'periodStart'
  | 'periodEnd'
  | 'surveillanceAudits'
  | 'evidenceId'
  | 'visibility'
>;

const FIELDS = [
  'kind',
  'name',
  'issuer',
  'scope',
  'certificateNumber',
  'includesIso27017',
  'issuedAt',
  'expiresAt',
  'periodStart',
  'periodEnd',
  'surveillanceAudits',
  'evidenceId',
  'visibility',
] as const satisfies readonly (keyof Draft)[];
const DATE_FIELDS = ['issuedAt', 'expiresAt', 'periodStart', 'periodEnd'] as const;

function parseDate(value: string | null | undefined, field: string, errors: FieldError[]): Date | null {
  if (value === null || value === undefined) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) {
    errors.push({ field, message: 'is not a valid date' });
    return null;
  }
  return d;
}

function parseAudits(list: SurveillanceAuditInput[] | null | undefined, errors: FieldError[]): SurveillanceAudit[] {
  const audits: SurveillanceAudit[] = [];
  (list ?? []).forEach((a, i) => {
    const dueAt = parseDate(a.dueAt, `body/surveillanceAudits/${i}/dueAt`, errors);
    const completedAt = parseDate(a.completedAt, `body/surveillanceAudits/${i}/completedAt`, errors);
    if (dueAt) audits.push({ dueAt: dueAt.toISOString(), completedAt: completedAt?.toISOString() ?? null });
  });
  return audits.sort((a, b) => a.dueAt.localeCompare(b.dueAt));
}

const text = (v: string | null | undefined) => (v === undefined || v === null ? null : v.trim() || null);

/** Applies the given fields of `input` onto `base` (everything for a create). */
function applyInput(base: Draft, input: CertificationPatch, errors: FieldError[]): Draft {
  const d: Draft = { ...base };
  if (input.kind !== undefined) d.kind = input.kind;
  if (input.name !== undefined) d.name = input.name.trim();
  if (input.issuer !== undefined) d.issuer = text(input.issuer);
  if (input.scope !== undefined) d.scope = text(input.scope);
  if (input.certificateNumber !== undefined) d.certificateNumber = text(input.certificateNumber);
  if (input.includesIso27017 !== undefined) d.includesIso27017 = input.includesIso27017;
  for (const f of DATE_FIELDS) if (input[f] !== undefined) d[f] = parseDate(input[f], `body/${f}`, errors);
  if (input.surveillanceAudits !== undefined) d.surveillanceAudits = parseAudits(input.surveillanceAudits, errors);
  if (input.evidenceId !== undefined) d.evidenceId = input.evidenceId;
  if (input.visibility !== undefined) d.visibility = input.visibility;
  return d;
}

const sameAudits = (a: SurveillanceAudit[], b: SurveillanceAudit[]) =>
  a.length === b.length && a.every((x, i) => x.dueAt === b[i]!.dueAt && (x.completedAt ?? null) === (b[i]!.completedAt ?? null));

/**
 * Fills what ISO 27001's cycle implies: expiry (issuedAt + 3 years - 1 day) and the two annual
 * surveillance audits, when missing. On an update, values that were the defaults of the old issue
 * date follow a new issue date unless the same request sets them.
 */
function derive(d: Draft, input: CertificationPatch, before?: Draft): Draft {
  if (d.kind !== 'iso27001') {
    // Leaving ISO 27001: its ISO-only fields go too, unless this request sets them (then they are checked).
    if (before?.kind === 'iso27001') {
      if (input.includesIso27017 === undefined) d.includesIso27017 = false;
      if (input.surveillanceAudits === undefined) d.surveillanceAudits = [];
    }
    return d;
  }
  if (!d.issuedAt) return d;
  const oldIssued = before?.kind === 'iso27001' ? before.issuedAt : null;
  const issueMoved = oldIssued !== null && oldIssued.getTime() !== d.issuedAt.getTime();
  if (issueMoved && input.expiresAt === undefined && before!.expiresAt?.getTime() === defaultIsoExpiry(oldIssued).getTime()) d.expiresAt = null;
  if (issueMoved && input.surveillanceAudits === undefined && sameAudits(before!.surveillanceAudits, defaultSurveillanceAudits(oldIssued)))
    d.surveillanceAudits = [];
  if (!d.expiresAt) d.expiresAt = defaultIsoExpiry(d.issuedAt);
  if (d.surveillanceAudits.length === 0) d.surveillanceAudits = defaultSurveillanceAudits(d.issuedAt);
  return d;
}

function validate(d: Draft, errors: FieldError[]) {
  const dateErrors = new Set(errors.map((e) => e.field));
  const missing = (f: (typeof DATE_FIELDS)[number], message: string) => {
    if (!d[f] && !dateErrors.has(`body/${f}`)) errors.push({ field: `body/${f}`, message });
  };
  if (!d.name) errors.push({ field: 'body/name', message: 'must not be empty' });
  if (d.kind === 'iso27001') missing('issuedAt', 'is required for an ISO/IEC 27001 certificate (it starts the 3-year cycle)');
  if (d.kind === 'soc2_type2') {
    missing('periodStart', 'is required for a SOC 2 Type 2 report (start of the period of examination)');
    missing('periodEnd', 'is required for a SOC 2 Type 2 report (end of the period of examination)');
  }
  if (d.kind === 'soc2_type1') missing('periodEnd', 'is required for a SOC 2 Type 1 report (the "as of" date)');
  if (d.periodStart && d.periodEnd && d.periodStart.getTime() >= d.periodEnd.getTime()) {
    errors.push({ field: 'body/periodEnd', message: 'must be after periodStart' });
  }
  if (d.issuedAt && d.expiresAt && d.expiresAt.getTime() <= d.issuedAt.getTime()) {
    errors.push({ field: 'body/expiresAt', message: 'must be after issuedAt' });
  }
  if (d.kind !== 'iso27001' && d.includesIso27017) {
    errors.push({ field: 'body/includesIso27017', message: 'only applies to an ISO/IEC 27001 certificate (kind "iso27001")' });
  }
  if (d.kind !== 'iso27001' && d.surveillanceAudits.length > 0) {
    errors.push({ field: 'body/surveillanceAudits', message: 'only apply to an ISO/IEC 27001 certificate (kind "iso27001")' });
  }
  if (errors.length > 0) throw new DomainError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
}

async function checkEvidence(db: Executor, orgId: string, evidenceId: string | null) {
  if (!evidenceId) return;
  const found = await existingEvidenceIds({ db, orgId }, [evidenceId]);
  if (!found.has(evidenceId)) {
    const errors = [{ field: 'body/evidenceId', message: 'is not evidence of this organization' }];
    throw new DomainError('validation_failed', 'body/evidenceId is not evidence of this organization', { errors });
  }
}

const comparable = (v: unknown) => (v instanceof Date ? v.toISOString() : JSON.stringify(v ?? null));
const draftOf = (r: CertificationRow): Draft => {
  const { orgId: _o, id: _i, createdBy: _c, createdAt: _ca, updatedAt: _u, attentionAt: _a, ...d } = r;
  return d;
};

// ---------------------------------------------------------------------------------------------
// Service

export async function createCertification(ctx: ServiceContext, input: CertificationInput) {
  requireRole(ctx.actor, 'editor');
  const errors: FieldError[] = [];
  const empty: Draft = {
    kind: input.kind,
    name: '',
    issuer: null,
    scope: null,
    certificateNumber: null,
    includesIso27017: false,
    issuedAt: null,
    expiresAt: null,
    periodStart: null,
    periodEnd: null,
    surveillanceAudits: [],
    evidenceId: null,
    visibility: 'internal',
  };
  const d = derive(applyInput(empty, input, errors), input);
  validate(d, errors);
  const now = ctx.clock();
  const row = await ctx.db.transaction(async (tx) => {
    await checkEvidence(tx, ctx.orgId, d.evidenceId);
    const [saved] = await tx
      .insert(certifications)
      .values({ orgId: ctx.orgId, id: newId(), ...d, createdBy: ctx.actor.id, createdAt: now, updatedAt: now, attentionAt: attentionAt(d, now) })
      .returning();
    await recordAudit(tx, ctx, {
      action: 'certification.created',
      targetType: 'certification',
      targetId: saved!.id,
      summary: { kind: saved!.kind, name: saved!.name, visibility: saved!.visibility },
    });
    return saved!;
  });
  return certificationView(row, now);
}

export async function updateCertification(ctx: ServiceContext, id: string, patch: CertificationPatch) {
  requireRole(ctx.actor, 'editor');
  const now = ctx.clock();
  const row = await ctx.db.transaction(async (tx) => {
    const [current] = await tx
      .select()
      .from(certifications)
      .where(and(eq(certifications.orgId, ctx.orgId), eq(certifications.id, id)))
      .for('update');
    if (!current) throw notFound('certification');
    const errors: FieldError[] = [];
    const before = draftOf(current);
    const d = derive(applyInput(before, patch, errors), patch, before);
    validate(d, errors);
    const changed = FIELDS.filter((f) => comparable(before[f]) !== comparable(d[f]));
    if (changed.length === 0) return current; // nothing changed: no write, no audit event
    if (changed.includes('evidenceId')) await checkEvidence(tx, ctx.orgId, d.evidenceId);
    const [saved] = await tx
      .update(certifications)
      .set({ ...d, updatedAt: now, attentionAt: attentionAt(d, now) })
      .where(and(eq(certifications.orgId, ctx.orgId), eq(certifications.id, id)))
      .returning();
    await recordAudit(tx, ctx, {
      action: 'certification.updated',
      targetType: 'certification',
      targetId: id,
      summary: { kind: saved!.kind, name: saved!.name, changed },
    });
    return saved!;
  });
  return certificationView(row, now);
}

export async function deleteCertification(ctx: ServiceContext, id: string): Promise<void> {
  requireRole(ctx.actor, 'editor');
  await ctx.db.transaction(async (tx) => {
    const [gone] = await tx
      .delete(certifications)
      .where(and(eq(certifications.orgId, ctx.orgId), eq(certifications.id, id)))
      .returning();
    if (!gone) throw notFound('certification');
    await recordAudit(tx, ctx, {
      action: 'certification.deleted',
      targetType: 'certification',
      targetId: id,
      summary: { kind: gone.kind, name: gone.name },
    });
  });
}

export async function getCertification(ctx: ServiceContext, id: string) {
  const [row] = await ctx.db
    .select()
    .from(certifications)
    .where(and(eq(certifications.orgId, ctx.orgId), eq(certifications.id, id)));
  if (!row) throw notFound('certification');
  return certificationView(row, ctx.clock());
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Newest first (ids are uuidv7), keyset-paged. */
export async function listCertifications(ctx: ServiceContext, q: { limit: number; cursor?: string }) {
  const after = decodeCursor(q.cursor);
  if (after !== undefined && !UUID.test(after)) {
    throw invalidCursor();
  }
  const rows = await ctx.db
    .select()
    .from(certifications)
    .where(and(eq(certifications.orgId, ctx.orgId), after ? lt(certifications.id, after) : undefined))
    .orderBy(desc(certifications.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => r.id);
  const now = ctx.clock();
  return { items: page.items.map((r) => certificationView(r, now)), nextCursor: page.nextCursor };
}

/** Every certification of an organization with its status at `now`, newest first: for reports and the trust page. */
export async function listCertificationsForOrg({ db, orgId }: OrgScope, now: Date): Promise<CertificationView[]> {
  const rows = await db.select().from(certifications).where(eq(certifications.orgId, orgId)).orderBy(desc(certifications.id));
  return rows.map((r) => certificationView(r, now));
}
