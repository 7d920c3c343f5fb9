import { createHash } from 'node:crypto';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { requireRole, systemActor, type OrgScope, type ServiceContext } from '../../lib/context.js';
import { DomainError, notFound, type FieldError } from '../../lib/errors.js';
import type { BlobStore, StoredBlob } from '../../lib/storage.js';
import { recordAudit } from '../audit/index.js';
import { lookupAnswerable } from '../catalog/index.js';
import { controlHeadingsOf } from '../catalog/index.js';
import { listCertificationsForOrg, type CertificationView } from '../certifications/index.js';
import { existingCertificationIds } from '../certifications/index.js';
import { publicControlAnswers } from '../controls/index.js';
import { entryFlagsOf, publicFaqEntries } from '../library/index.js';
import { DEFAULT_PROSPECT_AUTO_RELEASE, type ProspectAutoRelease } from '../questionnaires/index.js';
import { factSentence, formatFactValue, loadFacts } from '../profile/index.js';
import { organizationBySlug, organizationSummaries } from '../identity/index.js';
import { soc2Coverage } from '../reports/index.js';
import { currentVersions } from './documents.js';
import { addBlobRef, dropBlobRefs } from '../blobs/index.js';
import { draftSubprocessorNotice, publicUpdates, type PublicUpdate } from './update-store.js';
import { TRUST_SECTIONS, documents, trustPages, type FaqEntry, type Subprocessor, type TrustSection, type TrustSections } from './tables.js';

// What a page lists, for the modules above (they never import tables.ts).
export type { FaqEntry, Subprocessor } from './tables.js';

export const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** Our own words; an organization replaces it with its own NDA through `ndaText`. */
export const DEFAULT_NDA_TEXT = [
  'Mutual confidentiality terms for trust documents.',
  'By requesting access you agree, for yourself and the company you name, that the documents shared with you through this trust page are confidential.',
  'You will use them only to evaluate the security of our services for your organization, share them only with colleagues and advisers who need them for that purpose and are bound to the same confidentiality, and not publish, sell or pass them to anyone else.',
  'Copies you download carry your email address and the time of download. Access expires on the date shown with the grant and can be withdrawn at any time; when it ends, delete the copies you keep unless the law requires you to retain them.',
  'These terms last for three years from your last download.',
].join('\n\n');

export const DEFAULT_SECTIONS: TrustSections = { certifications: true, security: true, soc2: true, subprocessors: true, documents: true, faq: true };

type PageRow = typeof trustPages.$inferSelect;

export interface TrustPageInput {
  published?: boolean;
  headline?: string | null;
  overview?: string | null;
  brandColor?: string | null;
  contactEmail?: string | null;
  contactUrl?: string | null;
  sections?: Partial<TrustSections>;
  subprocessors?: Subprocessor[];
  faq?: FaqEntry[];
  certificationIds?: string[] | null;
  controlRefs?: string[] | null;
  ndaText?: string | null;
  autoApproveDomains?: string[];
  autoApproveExpiresInDays?: number;
  prospectAutoRelease?: ProspectAutoRelease;
  subprocessorNoticeDays?: number;
}

/** Which prospect answers show before a member approves them (the default until the page is first saved). */
export const prospectAutoReleaseOf = (page: Pick<PageRow, 'prospectAutoRelease'> | undefined): ProspectAutoRelease =>
  page?.prospectAutoRelease ?? DEFAULT_PROSPECT_AUTO_RELEASE;

export const ndaTextOf = (page: Pick<PageRow, 'ndaText'> | undefined) => page?.ndaText ?? DEFAULT_NDA_TEXT;
export const ndaVersionOf = (page: Pick<PageRow, 'ndaText'> | undefined) => 'sha256:' + sha256(ndaTextOf(page));

export async function orgBySlug(db: Executor, slug: string) {
  return organizationBySlug(db, slug);
}

export async function loadPage({ db, orgId }: OrgScope): Promise<PageRow | undefined> {
  const [row] = await db.select().from(trustPages).where(eq(trustPages.orgId, orgId));
  return row;
}

function settingsView(row: PageRow | undefined, org: { slug: string }, publicUrl: string) {
  return {
    slug: org.slug,
    url: `${publicUrl}/trust/${org.slug}`,
    published: row?.published ?? false,
    headline: row?.headline ?? null,
    overview: row?.overview ?? null,
    brandColor: row?.brandColor ?? null,
    logoUrl: row?.logoSha256 ? `${publicUrl}/trust/${org.slug}/logo` : null,
    contactEmail: row?.contactEmail ?? null,
    contactUrl: row?.contactUrl ?? null,
    sections: { ...DEFAULT_SECTIONS, ...row?.sections },
    subprocessors: row?.subprocessors ?? [],
    faq: row?.faq ?? [],
    certificationIds: row?.certificationIds ?? null,
    controlRefs: row?.controlRefs ?? null,
    ndaText: ndaTextOf(row),
    ndaVersion: ndaVersionOf(row),
    autoApproveDomains: row?.autoApproveDomains ?? [],
    autoApproveExpiresInDays: row?.autoApproveExpiresInDays ?? 30,
    prospectAutoRelease: prospectAutoReleaseOf(row),
    subprocessorNoticeDays: row?.subprocessorNoticeDays ?? 30,
    version: row?.version ?? 0,
    createdAt: row?.createdAt.toISOString() ?? null,
    updatedAt: row?.updatedAt.toISOString() ?? null,
    publishedAt: row?.publishedAt?.toISOString() ?? null,
  };
}

async function orgOf(db: Executor, orgId: string) {
  const org = (await organizationSummaries(db, [orgId])).get(orgId);
  if (!org) throw notFound('organization');
  return org;
}

export async function getTrustPage(ctx: ServiceContext, publicUrl: string) {
  const org = await orgOf(ctx.db, ctx.orgId);
  return settingsView(await loadPage(ctx), org, publicUrl);
}

const HEX = /^#[0-9a-fA-F]{6}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

function httpUrl(value: string, field: string, errors: FieldError[]) {
  try {
    const u = new URL(value);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('protocol');
    if (u.username || u.password) errors.push({ field, message: 'must not contain credentials' });
  } catch {
    errors.push({ field, message: 'must be an http(s) URL' });
  }
}

const clean = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : v.trim() || null);

/** Fields sent replace the stored ones; fields left out keep their values (defaults on the first write). */
export async function putTrustPage(ctx: ServiceContext, input: TrustPageInput, publicUrl: string) {
  requireRole(ctx.actor, 'editor');
  const errors: FieldError[] = [];
  if (input.brandColor && !HEX.test(input.brandColor)) errors.push({ field: 'body/brandColor', message: 'must be a #rrggbb colour' });
  if (input.contactUrl) httpUrl(input.contactUrl, 'body/contactUrl', errors);
  input.subprocessors?.forEach((s, i) => {
    if (!s.name.trim()) errors.push({ field: `body/subprocessors/${i}/name`, message: 'must not be empty' });
    if (s.url) httpUrl(s.url, `body/subprocessors/${i}/url`, errors);
  });
  const chosen = (input.faq ?? []).flatMap((f) => (f.libraryEntryId ? [f.libraryEntryId] : []));
  const entries = await entryFlagsOf(ctx, chosen);
  input.faq?.forEach((f, i) => {
    if (f.libraryEntryId) {
      const e = entries.find((x) => x.id === f.libraryEntryId);
      if (!e) errors.push({ field: `body/faq/${i}/libraryEntryId`, message: 'no such library entry' });
      else if (e.status !== 'approved' || !e.public)
        errors.push({ field: `body/faq/${i}/libraryEntryId`, message: 'choose an approved library entry marked public' });
      else if (e.stale) errors.push({ field: `body/faq/${i}/libraryEntryId`, message: 'this library entry is stale; review it first' });
    } else if (!f.question?.trim() || !f.answer?.trim()) errors.push({ field: `body/faq/${i}`, message: 'needs a question and an answer' });
  });
  const domains = input.autoApproveDomains?.map((d) => d.trim().toLowerCase().replace(/^@/, ''));
  domains?.forEach((d, i) => {
    if (!DOMAIN.test(d)) errors.push({ field: `body/autoApproveDomains/${i}`, message: 'must be a domain name such as example.com' });
  });
  let certificationIds = input.certificationIds;
  if (certificationIds) {
    certificationIds = [...new Set(certificationIds)];
    const known = await existingCertificationIds(ctx, certificationIds);
    certificationIds.forEach((id, i) => {
      if (!known.has(id)) errors.push({ field: `body/certificationIds/${i}`, message: 'no such certification' });
    });
  }
  let controlRefs = input.controlRefs;
  if (controlRefs) {
    const resolved: string[] = [];
    const found = await lookupAnswerable(ctx.db, controlRefs);
    found.forEach((c, i) => {
      if (!c) errors.push({ field: `body/controlRefs/${i}`, message: `unknown control "${controlRefs![i]}"` });
      else if (!resolved.includes(c.ref)) resolved.push(c.ref);
    });
    controlRefs = resolved;
  }
  if (errors.length > 0) throw new DomainError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });

  const now = ctx.clock();
  const org = await orgOf(ctx.db, ctx.orgId);
  const row = await ctx.db.transaction(async (tx) => {
    const [current] = await tx.select().from(trustPages).where(eq(trustPages.orgId, ctx.orgId)).for('update');
    const values = {
      ...(input.published !== undefined ? { published: input.published } : {}),
      ...(input.headline !== undefined ? { headline: clean(input.headline) } : {}),
      ...(input.overview !== undefined ? { overview: clean(input.overview) } : {}),
      ...(input.brandColor !== undefined ? { brandColor: input.brandColor?.toLowerCase() ?? null } : {}),
      ...(input.contactEmail !== undefined ? { contactEmail: clean(input.contactEmail) } : {}),
      ...(input.contactUrl !== undefined ? { contactUrl: clean(input.contactUrl) } : {}),
      ...(input.sections !== undefined ? { sections: { ...DEFAULT_SECTIONS, ...current?.sections, ...input.sections } } : {}),
      ...(input.subprocessors !== undefined
        ? {
            subprocessors: input.subprocessors.map((s) => ({
              name: s.name.trim(),
              purpose: s.purpose.trim(),
              location: s.location.trim(),
              url: s.url?.trim() || null,
            })),
          }
        : {}),
      ...(input.faq !== undefined
        ? { faq: input.faq.map((f) => (f.libraryEntryId ? { libraryEntryId: f.libraryEntryId } : { question: f.question!.trim(), answer: f.answer!.trim() })) }
        : {}),
      ...(certificationIds !== undefined ? { certificationIds } : {}),
      ...(controlRefs !== undefined ? { controlRefs } : {}),
      ...(input.ndaText !== undefined ? { ndaText: clean(input.ndaText) } : {}),
      ...(domains !== undefined ? { autoApproveDomains: [...new Set(domains)] } : {}),
      ...(input.autoApproveExpiresInDays !== undefined ? { autoApproveExpiresInDays: input.autoApproveExpiresInDays } : {}),
      ...(input.prospectAutoRelease !== undefined ? { prospectAutoRelease: input.prospectAutoRelease } : {}),
      ...(input.subprocessorNoticeDays !== undefined ? { subprocessorNoticeDays: input.subprocessorNoticeDays } : {}),
    };
    const publishedAt = input.published && !current?.published ? now : input.published === false ? null : (current?.publishedAt ?? null);
    let saved: PageRow;
    if (current) {
      [saved] = (await tx
        .update(trustPages)
        .set({ ...values, publishedAt, version: current.version + 1, updatedAt: now })
        .where(eq(trustPages.orgId, ctx.orgId))
        .returning()) as [PageRow];
    } else {
      [saved] = (await tx
        .insert(trustPages)
        .values({ sections: DEFAULT_SECTIONS, ...values, orgId: ctx.orgId, publishedAt, version: 1, createdAt: now, updatedAt: now })
        .returning()) as [PageRow];
    }
    // A changed subprocessor list drafts a notice for a person to publish (the first list is no change).
    if (current && input.subprocessors !== undefined)
      await draftSubprocessorNotice(tx, ctx, current.subprocessors, saved.subprocessors, saved.subprocessorNoticeDays);
    const changed = Object.keys(values);
    await recordAudit(tx, ctx, {
      action:
        input.published === true && !current?.published
          ? 'trust_page.published'
          : input.published === false && current?.published
            ? 'trust_page.unpublished'
            : 'trust_page.updated',
      targetType: 'trust_page',
      targetId: ctx.orgId,
      summary: { changed, version: saved.version },
    });
    return saved;
  });
  return settingsView(row, org, publicUrl);
}

export const LOGO_TYPES: Record<string, (b: Buffer) => boolean> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  'image/gif': (b) => b.subarray(0, 4).toString('latin1') === 'GIF8',
};

/** The logo is served from this origin (CSP img-src 'self'); only raster images, checked by their bytes. */
export async function setLogo(ctx: ServiceContext, blobs: BlobStore, stored: StoredBlob, head: Buffer, publicUrl: string) {
  requireRole(ctx.actor, 'editor');
  const type = Object.entries(LOGO_TYPES).find(([, test]) => test(head))?.[0];
  if (!type) throw new DomainError('unsupported_media_type', 'the logo must be a PNG, JPEG, WebP or GIF image');
  const now = ctx.clock();
  const previous = await ctx.db.transaction(async (tx) => {
    const [current] = await tx.select().from(trustPages).where(eq(trustPages.orgId, ctx.orgId)).for('update');
    if (current) {
      await tx
        .update(trustPages)
        .set({ logoSha256: stored.sha256, logoContentType: type, version: current.version + 1, updatedAt: now })
        .where(eq(trustPages.orgId, ctx.orgId));
    } else {
      await tx
        .insert(trustPages)
        .values({ orgId: ctx.orgId, sections: DEFAULT_SECTIONS, logoSha256: stored.sha256, logoContentType: type, version: 1, createdAt: now, updatedAt: now });
    }
    const logo = { orgId: ctx.orgId, ownerKind: 'trust_logo' as const, ownerId: ctx.orgId };
    const replaced = current?.logoSha256 && current.logoSha256 !== stored.sha256 ? await dropBlobRefs(tx, logo, current.logoSha256) : [];
    await addBlobRef(tx, logo, stored);
    await recordAudit(tx, ctx, {
      action: 'trust_page.logo_set',
      targetType: 'trust_page',
      targetId: ctx.orgId,
      summary: { sha256: stored.sha256, contentType: type },
    });
    return replaced;
  });
  await blobs.collect(previous);
  return getTrustPage(ctx, publicUrl);
}

// ---------------------------------------------------------------------------------------------
// The public content: one model, rendered as JSON, HTML, trust.json and llms.txt.

const STATUS_LABELS: Record<string, string> = {
  valid: 'Valid',
  due_soon: 'Valid, renewal due soon',
  stale: 'Renewal overdue',
  expired: 'Expired',
};
export const CONTROL_STATUS_LABELS: Record<string, string> = {
  implemented: 'Implemented',
  partially_implemented: 'Partially implemented',
  planned: 'Planned',
  not_implemented: 'Not implemented',
  not_applicable: 'Not applicable',
};
const KIND_LABELS: Record<string, string> = {
  iso27001: 'ISO/IEC 27001 certificate',
  soc2_type1: 'SOC 2 Type 1 report',
  soc2_type2: 'SOC 2 Type 2 report',
  other: 'Certificate',
};

const ISO = 'iso27001-2022';
const CLOUD = 'iso27017-2015';
const DOMAIN_ORDER = ['Organizational controls', 'People controls', 'Physical controls', 'Technological controls'];

export interface PublicCertification {
  id: string;
  kind: string;
  kindLabel: string;
  name: string;
  issuer: string | null;
  scope: string | null;
  includesIso27017: boolean;
  issuedAt: string | null;
  expiresAt: string | null;
  periodStart: string | null;
  periodEnd: string | null;
  status: string;
  statusLabel: string;
  statusReason: string;
}
export interface PublicControl {
  framework: string;
  ref: string;
  title: string;
  status: string;
  statusLabel: string;
  responsibility: string;
  summary: string | null;
}
export interface PublicDomain {
  id: string;
  name: string;
  framework: string;
  controls: PublicControl[];
}
export interface PublicFramework {
  id: string;
  name: string;
  inScope: boolean;
  attested: boolean;
  note: string;
}
export type PublicDocument =
  | {
      id: string;
      title: string;
      visibility: 'public';
      description: string | null;
      fileName: string;
      contentType: string;
      size: number;
      downloadUrl: string;
      updatedAt: string;
    }
  | { id: string; title: string; visibility: 'nda' };

export interface PublicFact {
  key: string;
  label: string;
  type: string;
  value: unknown;
  unit: string | null;
  display: string;
  statement: string;
}

export interface PublicTrust {
  organization: { name: string; slug: string };
  headline: string;
  overview: string | null;
  branding: { brandColor: string | null; logoUrl: string | null };
  contact: { email: string | null; url: string | null };
  sections: TrustSection[];
  certifications: PublicCertification[];
  security: { frameworks: PublicFramework[]; domains: PublicDomain[] } | null;
  soc2: {
    criteria: number;
    covered: number;
    partial: number;
    uncovered: number;
    overall: number;
    groups: { group: string; name: string; criteria: number; coverage: number }[];
  } | null;
  subprocessors: Subprocessor[];
  documents: PublicDocument[];
  faq: FaqEntry[];
  /** Profile facts marked public, in catalog order. */
  facts: PublicFact[];
  access: { requestUrl: string; formUrl: string; ndaVersion: string; ndaText: string } | null;
  /** Published updates for everyone, newest first (the Updates section and the Atom feed). */
  updates: PublicUpdate[];
  /** Where to follow the page by e-mail (double opt-in). */
  subscribe: { requestUrl: string; formUrl: string };
  updatedAt: string;
  links: { page: string; json: string; trustJson: string; llmsTxt: string; updatesAtom: string };
}

function publicCertification(c: CertificationView): PublicCertification {
  return {
    id: c.id,
    kind: c.kind,
    kindLabel: KIND_LABELS[c.kind] ?? c.kind,
    name: c.name,
    issuer: c.issuer,
    scope: c.scope,
    includesIso27017: c.includesIso27017,
    issuedAt: c.issuedAt,
    expiresAt: c.expiresAt,
    periodStart: c.periodStart,
    periodEnd: c.periodEnd,
    status: c.status,
    statusLabel: STATUS_LABELS[c.status] ?? c.status,
    statusReason: c.statusReason,
  };
}

const later = (a: Date, b: Date | string | null | undefined) => {
  if (!b) return a;
  const d = typeof b === 'string' ? new Date(b) : b;
  return d > a ? d : a;
};

/** Everything the public may see of one published page, read in one pass. Private data never enters it. */
export async function buildPublicTrust(db: Db, slug: string, now: Date, publicUrl: string, clock: Clock): Promise<{ orgId: string; model: PublicTrust }> {
  const org = await orgBySlug(db, slug);
  const page = org ? await loadPage({ db, orgId: org.id }) : undefined;
  if (!org || !page?.published) throw notFound('trust page');
  const scope: OrgScope = { db, orgId: org.id };
  const sections = { ...DEFAULT_SECTIONS, ...page.sections };
  const base = `${publicUrl}/trust/${org.slug}`;
  let updated = page.updatedAt;

  // Certifications: public ones, narrowed to the page's choice when it made one.
  const chosen = page.certificationIds ? new Set(page.certificationIds) : null;
  const certs = (await listCertificationsForOrg(scope, now)).filter((c) => c.visibility === 'public' && (!chosen || chosen.has(c.id)));
  for (const c of certs) updated = later(updated, c.updatedAt);

  // Controls marked public, with their public summary only (never the internal implementation text).
  let security: PublicTrust['security'] = null;
  if (sections.security) {
    // Each public answer with its control's title and theme, by framework, then in catalog order.
    const answers = await publicControlAnswers(scope);
    const answerOf = new Map(answers.map((a) => [`${a.frameworkId}|${a.ref}`, a]));
    const rows = (await controlHeadingsOf(db, answers)).map((c) => ({ ...answerOf.get(`${c.frameworkId}|${c.ref}`)!, title: c.title, theme: c.theme }));
    const refs = page.controlRefs ? new Set(page.controlRefs) : null;
    const domains = new Map<string, PublicDomain>();
    for (const r of rows) {
      if (refs && !refs.has(r.ref)) continue;
      updated = later(updated, r.updatedAt);
      const name = r.frameworkId === CLOUD ? 'Cloud services (ISO/IEC 27017)' : (r.theme ?? 'Other controls');
      const id =
        r.frameworkId === CLOUD
          ? 'cloud'
          : name
              .toLowerCase()
              .replace(/ controls$/, '')
              .replace(/[^a-z0-9]+/g, '-');
      const d = domains.get(id) ?? { id, name, framework: r.frameworkId, controls: [] };
      const status = r.applicable ? r.status : 'not_applicable';
      d.controls.push({
        framework: r.frameworkId,
        ref: r.ref,
        title: r.title,
        status,
        statusLabel: CONTROL_STATUS_LABELS[status] ?? status,
        responsibility: r.responsibility,
        summary: r.publicSummary,
      });
      domains.set(id, d);
    }
    const ordered = [...domains.values()].sort((a, b) => rank(a) - rank(b));
    const live = certs.filter((c) => c.status !== 'expired');
    const isoCert = live.find((c) => c.kind === 'iso27001');
    const soc2Cert = live.find((c) => c.kind === 'soc2_type2' || c.kind === 'soc2_type1');
    const frameworks: PublicFramework[] = [
      {
        id: ISO,
        name: 'ISO/IEC 27001:2022',
        inScope: Boolean(isoCert) || rows.some((r) => r.frameworkId === ISO),
        attested: Boolean(isoCert),
        note: isoCert
          ? `Certified (${STATUS_LABELS[isoCert.status]?.toLowerCase()}).`
          : 'Controls are implemented and described below; no current certificate is shown.',
      },
      {
        id: CLOUD,
        name: 'ISO/IEC 27017:2015',
        inScope: Boolean(isoCert?.includesIso27017) || rows.some((r) => r.frameworkId === CLOUD),
        attested: Boolean(isoCert?.includesIso27017),
        note: isoCert?.includesIso27017
          ? 'Cloud-specific controls are within the ISO/IEC 27001 certificate scope.'
          : 'Cloud-specific controls are described below.',
      },
      {
        id: 'soc2-2017',
        name: 'SOC 2',
        inScope: Boolean(soc2Cert) || sections.soc2,
        attested: Boolean(soc2Cert),
        note: soc2Cert
          ? `${soc2Cert.name}: ${STATUS_LABELS[soc2Cert.status]?.toLowerCase()}.`
          : 'Coverage of the Trust Services Criteria is derived from the ISO/IEC 27001 controls.',
      },
    ];
    security = { frameworks, domains: ordered };
  }

  let soc2: PublicTrust['soc2'] = null;
  if (sections.soc2) {
    const ctx: ServiceContext = { orgId: org.id, actor: systemActor('trust-page'), requestId: 'trust-page', db, clock };
    const report = await soc2Coverage(ctx);
    const groups = new Map<string, { group: string; name: string; criteria: number; sum: number }>();
    for (const c of report.criteria) {
      const key = c.group ?? c.criterion;
      const g = groups.get(key) ?? { group: key, name: c.groupName ?? key, criteria: 0, sum: 0 };
      g.criteria++;
      g.sum += c.coverage;
      groups.set(key, g);
    }
    const round = (x: number) => Math.round(x * 100) / 100;
    soc2 = {
      criteria: report.summary.criteria,
      covered: report.summary.covered,
      partial: report.summary.partial,
      uncovered: report.summary.uncovered,
      overall: round(report.criteria.reduce((s, c) => s + c.coverage, 0) / Math.max(1, report.criteria.length)),
      groups: [...groups.values()].map((g) => ({ group: g.group, name: g.name, criteria: g.criteria, coverage: round(g.sum / g.criteria) })),
    };
  }

  // Documents: public and NDA only; private ones are not even read.
  const docRows = sections.documents
    ? await db
        .select()
        .from(documents)
        .where(and(eq(documents.orgId, org.id), inArray(documents.visibility, ['public', 'nda'])))
        .orderBy(asc(documents.title))
    : [];
  const current = await currentVersions({ db, orgId: org.id }, docRows);
  const docs: PublicDocument[] = [];
  for (const d of docRows) {
    updated = later(updated, d.updatedAt);
    const v = current.get(d.id);
    if (d.visibility === 'public' && v) {
      docs.push({
        id: d.id,
        title: d.title,
        visibility: 'public',
        description: d.description,
        fileName: v.fileName,
        contentType: v.contentType,
        size: v.size,
        downloadUrl: `${base}/documents/${d.id}`,
        updatedAt: d.updatedAt.toISOString(),
      });
    } else if (d.visibility === 'nda') {
      docs.push({ id: d.id, title: d.title, visibility: 'nda' });
    }
  }
  const hasNda = docs.some((d) => d.visibility === 'nda');

  // Profile facts: only those marked public are read.
  const facts: PublicFact[] = [];
  for (const f of (await loadFacts(scope, { publicOnly: true })).values()) {
    updated = later(updated, f.updatedAt);
    facts.push({ key: f.key, label: f.label, type: f.type, value: f.value, unit: f.unit ?? null, display: formatFactValue(f), statement: factSentence(f) });
  }

  const updates = await publicUpdates({ db, orgId: org.id }, base);
  for (const u of updates) updated = later(updated, u.publishedAt);

  const model: PublicTrust = {
    organization: { name: org.name, slug: org.slug },
    headline: page.headline ?? `${org.name} trust center`,
    overview: page.overview,
    branding: { brandColor: page.brandColor, logoUrl: page.logoSha256 ? `${base}/logo` : null },
    contact: { email: page.contactEmail, url: page.contactUrl },
    sections: TRUST_SECTIONS.filter((s) => sections[s]),
    certifications: sections.certifications ? certs.map(publicCertification) : [],
    security,
    soc2,
    subprocessors: sections.subprocessors ? page.subprocessors : [],
    documents: docs,
    faq: sections.faq ? await publicFaq(scope, page.faq) : [],
    facts,
    access: hasNda
      ? {
          requestUrl: `${publicUrl}/api/v1/public/trust/${org.slug}/access-requests`,
          formUrl: `${base}/request-access`,
          ndaVersion: ndaVersionOf(page),
          ndaText: ndaTextOf(page),
        }
      : null,
    updates,
    subscribe: { requestUrl: `${publicUrl}/api/v1/public/trust/${org.slug}/subscriptions`, formUrl: `${base}/subscribe` },
    updatedAt: updated.toISOString(),
    links: {
      page: base,
      json: `${publicUrl}/api/v1/public/trust/${org.slug}`,
      trustJson: `${base}/trust.json`,
      llmsTxt: `${base}/llms.txt`,
      updatesAtom: `${base}/updates.atom`,
    },
  };
  return { orgId: org.id, model };
}

function rank(d: PublicDomain) {
  const i = DOMAIN_ORDER.indexOf(d.name);
  return d.framework === CLOUD ? 100 : i === -1 ? 50 : i;
}

// ---------------------------------------------------------------------------------------------
// The in-process cache of public representations.

export interface CachedTrust {
  orgId: string;
  model: PublicTrust;
  builtAt: number;
  /** Lazily rendered representations, each with its ETag. */
  reps: Map<string, { body: string; etag: string }>;
}

export const etagOf = (body: string) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;

/**
 * Built once per slug and kept until a change in the organization invalidates it (any successful
 * write through the API, on this replica or, through Redis, on another) or the TTL passes (it bounds
 * staleness when a broadcast is lost and lets date-based statuses move on).
 */
export class TrustCache {
  private readonly entries = new Map<string, CachedTrust>();
  private readonly building = new Map<string, Promise<CachedTrust>>();
  private readonly generation = new Map<string, number>();

  constructor(
    private readonly build: (slug: string) => Promise<{ orgId: string; model: PublicTrust }>,
    private readonly clock: Clock,
    readonly ttlMs = 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  async get(slug: string): Promise<CachedTrust> {
    const hit = this.entries.get(slug);
    if (hit && this.clock().getTime() - hit.builtAt < this.ttlMs) return hit;
    const pending = this.building.get(slug);
    if (pending) return pending;
    const gen = this.generation.get(slug) ?? 0;
    const p = this.build(slug)
      .then(({ orgId, model }) => {
        const entry: CachedTrust = { orgId, model, builtAt: this.clock().getTime(), reps: new Map() };
        // An invalidation while building means the result may already be stale: serve it, do not keep it.
        if ((this.generation.get(slug) ?? 0) === gen) {
          if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
          this.entries.set(slug, entry);
        }
        return entry;
      })
      .finally(() => this.building.delete(slug));
    this.building.set(slug, p);
    return p;
  }

  /** A representation of the cached model, rendered once per build. */
  rep(entry: CachedTrust, kind: string, render: (m: PublicTrust) => string) {
    let r = entry.reps.get(kind);
    if (!r) {
      const body = render(entry.model);
      r = { body, etag: etagOf(body) };
      entry.reps.set(kind, r);
    }
    return r;
  }

  /** Invalidates here and, when replicas are wired together (REDIS_URL), on every other replica. */
  invalidateOrg(orgId: string) {
    this.invalidateLocal(orgId);
    this.broadcast?.(orgId);
  }

  /** What another replica's invalidation does here: no further broadcast. */
  invalidateLocal(orgId: string) {
    for (const [slug, e] of this.entries) if (e.orgId === orgId) this.drop(slug);
    // A build in flight for this org (unknown slug yet) is dropped on completion via the generation bump.
    for (const slug of this.building.keys()) this.bump(slug);
  }

  /** Where invalidations go besides this process; unset, other replicas see a change when their TTL passes. */
  broadcastTo(send: (orgId: string) => void) {
    this.broadcast = send;
  }
  private broadcast?: (orgId: string) => void;

  clear() {
    for (const slug of [...this.entries.keys()]) this.drop(slug);
    for (const slug of this.building.keys()) this.bump(slug);
  }

  private drop(slug: string) {
    this.entries.delete(slug);
    this.bump(slug);
  }

  private bump(slug: string) {
    this.generation.set(slug, (this.generation.get(slug) ?? 0) + 1);
  }
}

const CHOICE_WORDS: Record<string, string> = { yes: 'Yes.', no: 'No.', partial: 'Partially.', 'n/a': 'Not applicable.' };

/** The FAQ as prospects see it: chosen library answers only while approved, public and fresh. */
async function publicFaq(scope: OrgScope, faq: FaqEntry[]): Promise<Array<{ question: string; answer: string }>> {
  const ids = faq.flatMap((f) => (f.libraryEntryId ? [f.libraryEntryId] : []));
  const byId = await publicFaqEntries(scope, ids);
  return faq.flatMap((f) => {
    if (!f.libraryEntryId) return [{ question: f.question!, answer: f.answer! }];
    const e = byId.get(f.libraryEntryId);
    if (!e) return [];
    const answer = [e.choice ? CHOICE_WORDS[e.choice] : null, e.answerText].filter(Boolean).join(' ');
    return answer ? [{ question: e.question, answer }] : [];
  });
}
