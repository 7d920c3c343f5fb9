import fs from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import type { ServiceContext } from '../../lib/context.js';
import { newId } from '../../lib/ids.js';
import { hashPassword } from '../../lib/password.js';
import { recordAudit } from '../audit/service.js';
import { putControlAnswer, type ControlAnswerInput } from '../controls/service.js';
import { memberships, organizations, users } from '../identity/tables.js';

interface DemoOrganization {
  organization: { name: string; slug: string };
  owner: { email: string; password: string };
}

/**
 * Creates the demo organization (slug from seeds/demo) with its owner and every control answered,
 * once: a database that already has the slug is left alone.
 */
export async function seedDemo(db: Db, seedsDir: string, clock: Clock): Promise<boolean> {
  const org = JSON.parse(await fs.readFile(path.join(seedsDir, 'demo', 'organization.json'), 'utf8')) as DemoOrganization;
  const [exists] = await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.slug, org.organization.slug));
  if (exists) return false;
  const { controls } = JSON.parse(await fs.readFile(path.join(seedsDir, 'demo', 'controls.json'), 'utf8')) as {
    controls: Array<ControlAnswerInput & { ref: string }>;
  };

  const orgId = newId();
  const userId = newId();
  const passwordHash = await hashPassword(org.owner.password);
  const ctx: ServiceContext = { orgId, actor: { type: 'user', id: userId, role: 'owner', userId }, requestId: 'seed-demo', db, clock };
  await db.transaction(async (tx) => {
    await tx.insert(organizations).values({ id: orgId, slug: org.organization.slug, name: org.organization.name, createdAt: clock() });
    await tx.insert(users).values({ id: userId, email: org.owner.email, passwordHash, name: 'Demo Owner', createdAt: clock() });
    await tx.insert(memberships).values({ orgId, userId, role: 'owner', createdAt: clock() });
    await recordAudit(tx, ctx, { action: 'organization.created', targetType: 'organization', targetId: orgId, summary: { slug: org.organization.slug, seeded: true } });
  });
  for (const { ref, ...answer } of controls) await putControlAnswer(ctx, ref, answer);
  return true;
}
