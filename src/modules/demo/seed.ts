import fs from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { userActor, type ServiceContext } from '../../lib/context.js';
import { newId } from '../../lib/ids.js';
import { hashPassword } from '../../lib/password.js';
import { recordAudit } from '../audit/index.js';
import { Readable } from 'node:stream';
import type { BlobStore } from '../../lib/storage.js';
import { putControlAnswer, type ControlAnswerInput } from '../controls/index.js';
import { createCertification, type CertificationInput } from '../certifications/index.js';
import { createEvidence } from '../evidence/index.js';
import { anOwnerOf, insertOrganizationWithOwner, organizationBySlug } from '../identity/index.js';
import { createDocument } from '../trust/index.js';
import { loadPage, putTrustPage, setLogo, type Subprocessor } from '../trust/index.js';
import { createEntry } from '../library/index.js';
import { listFacts, putFact, type FactInput } from '../profile/index.js';
import { overviewPdf, type OverviewText } from './overview-pdf.js';

interface DemoOrganization {
  organization: { name: string; slug: string };
  owner: { email: string; password: string };
  certifications: Array<Omit<CertificationInput, 'surveillanceAudits'> & { surveillanceAudits?: string[] }>;
  evidence: Array<{
    title: string;
    kind: 'file' | 'link';
    url?: string;
    fileName?: string;
    content?: string;
    controls: string[];
    validFrom?: string;
    expiresAt?: string | null;
    visibility: 'public' | 'internal';
  }>;
  trustPage?: { headline?: string; overview?: string; contactEmail?: string; brandColor?: string };
  subprocessors?: Subprocessor[];
  documents?: Array<{ title: string; visibility: 'public' | 'nda' | 'private'; fileName: string; content: string }>;
}

/**
 * Creates the demo organization (slug from seeds/demo) with its owner and every control answered,
 * once: a database that already has the slug is left alone.
 */
export async function seedDemo(db: Db, seedsDir: string, clock: Clock, blobs: BlobStore): Promise<boolean> {
  const org = JSON.parse(await fs.readFile(path.join(seedsDir, 'demo', 'organization.json'), 'utf8')) as DemoOrganization;
  const exists = await organizationBySlug(db, org.organization.slug);
  if (exists) {
    // A database seeded before the trust portal existed gets its demo trust page once.
    const owner = await anOwnerOf({ db, orgId: exists.id });
    if (owner) {
      // The demo is seeded as its owner: what it writes is attributed to that member.
      const ownerCtx: ServiceContext = { orgId: exists.id, actor: userActor(owner, 'owner'), requestId: 'seed-demo', db, clock };
      await seedDemoTrust(ownerCtx, org, blobs, seedsDir);
      await seedDemoProfile(ownerCtx, seedsDir);
    }
    return false;
  }
  const { controls } = JSON.parse(await fs.readFile(path.join(seedsDir, 'demo', 'controls.json'), 'utf8')) as {
    controls: Array<ControlAnswerInput & { ref: string }>;
  };

  const orgId = newId();
  const userId = newId();
  const passwordHash = await hashPassword(org.owner.password);
  const ctx: ServiceContext = { orgId, actor: userActor(userId, 'owner'), requestId: 'seed-demo', db, clock };
  await db.transaction(async (tx) => {
    await insertOrganizationWithOwner(
      tx,
      { id: orgId, slug: org.organization.slug, name: org.organization.name },
      { id: userId, email: org.owner.email, name: 'Demo Owner', passwordHash },
      clock,
    );
    await recordAudit(tx, ctx, {
      action: 'organization.created',
      targetType: 'organization',
      targetId: orgId,
      summary: { slug: org.organization.slug, seeded: true },
    });
  });
  for (const { ref, ...answer } of controls) await putControlAnswer(ctx, ref, answer);
  for (const e of org.evidence) {
    const stored = e.kind === 'file' ? await blobs.put(Readable.from([Buffer.from(e.content ?? '')]), 10 * 1024 * 1024) : undefined;
    await createEvidence(
      ctx,
      {
        title: e.title,
        url: e.url ?? null,
        controls: e.controls,
        validFrom: e.validFrom ?? null,
        expiresAt: e.expiresAt ?? null,
        visibility: e.visibility,
      },
      stored ? { stored, fileName: e.fileName ?? 'evidence.txt', contentType: e.fileName?.endsWith('.csv') ? 'text/csv' : 'text/plain' } : undefined,
    );
  }
  for (const { surveillanceAudits, ...c } of org.certifications) {
    const now = clock().toISOString().slice(0, 10);
    await createCertification(ctx, {
      ...c,
      visibility: 'public',
      // Audits whose date has passed are recorded as held on that date.
      ...(surveillanceAudits ? { surveillanceAudits: surveillanceAudits.map((dueAt) => ({ dueAt, completedAt: dueAt <= now ? dueAt : null })) } : {}),
    });
  }
  await seedDemoTrust(ctx, org, blobs, seedsDir);
  await seedDemoProfile(ctx, seedsDir);
  return true;
}

/** The demo's organization profile (seeds/demo/profile.json), once: an organization with any fact is left alone. */
async function seedDemoProfile(ctx: ServiceContext, seedsDir: string) {
  if ((await listFacts(ctx)).facts.length > 0) return;
  const { facts } = JSON.parse(await fs.readFile(path.join(seedsDir, 'demo', 'profile.json'), 'utf8')) as { facts: Array<FactInput & { key: string }> };
  for (const { key, ...fact } of facts) await putFact(ctx, key, fact);
}

/** Our own words: approved public library answers, chosen for the trust page FAQ. */
const DEMO_FAQ = [
  {
    question: 'Where is customer data stored?',
    answer: {
      text: 'In the AWS region the customer picks at onboarding: Ireland (eu-west-1) or Virginia (us-east-1). Data, backups and encryption keys stay in that region.',
    },
    controls: ['A.5.23', 'A.5.34'],
  },
  {
    question: 'Do you enforce multi-factor authentication for your staff?',
    answer: {
      choice: 'yes' as const,
      text: 'Every employee signs in through single sign-on with phishing-resistant security keys; there is no password-only access to production.',
    },
    controls: ['A.8.5', 'A.5.17'],
  },
  {
    question: 'How can we get the SOC 2 Type II report?',
    answer: {
      text: 'Request access on this page and accept the NDA. Once approved you receive a personal link that expires; each PDF you download carries your email address.',
    },
    controls: [],
  },
  {
    question: 'Who do we contact about a security concern?',
    answer: { text: 'Write to security@northwind.example.com. We acknowledge reports within one business day.' },
    controls: ['A.6.8'],
  },
];

/**
 * The demo trust page: published, with its logo, subprocessors, FAQ and documents (among them a
 * Security Overview PDF written at seed time from seeds/demo/security-overview.json). Idempotent.
 */
async function seedDemoTrust(ctx: ServiceContext, org: DemoOrganization, blobs: BlobStore, seedsDir: string) {
  if (await loadPage(ctx)) return;
  const put = (bytes: Buffer) => blobs.put(Readable.from([bytes]), 10 * 1024 * 1024);
  const overview = JSON.parse(await fs.readFile(path.join(seedsDir, 'demo', 'security-overview.json'), 'utf8')) as OverviewText;
  await createDocument(
    ctx,
    { title: overview.title, description: overview.description, visibility: 'public' },
    {
      stored: await put(await overviewPdf(overview, org.organization.name, ctx.clock())),
      fileName: 'security-overview.pdf',
      contentType: 'application/pdf',
    },
  );
  for (const d of org.documents ?? []) {
    const stored = await put(Buffer.from(d.content));
    await createDocument(
      ctx,
      { title: d.title, visibility: d.visibility },
      { stored, fileName: d.fileName, contentType: d.fileName.endsWith('.pdf') ? 'application/pdf' : 'text/plain; charset=utf-8' },
    );
  }
  const faq = [];
  for (const entry of DEMO_FAQ) faq.push({ libraryEntryId: (await createEntry(ctx, { ...entry, public: true, status: 'approved' })).id });
  const t = org.trustPage ?? {};
  await putTrustPage(
    ctx,
    {
      published: true,
      headline: t.headline ?? null,
      overview: t.overview ?? null,
      contactEmail: t.contactEmail ?? null,
      brandColor: t.brandColor ?? null,
      subprocessors: org.subprocessors ?? [],
      faq,
    },
    '',
  );
  // logo.png is logo.svg rendered at 128 px: the page serves raster logos only (see setLogo).
  const logo = await fs.readFile(path.join(seedsDir, 'demo', 'logo.png'));
  await setLogo(ctx, blobs, await put(logo), logo.subarray(0, 16), '');
}
