import type { Test } from 'tap';
import { buildApp, type App, type BuildAppOptions } from '../../src/app.js';
import { defaultConfig, type ConfigOverrides } from '../../src/config.js';
import type { Clock } from '../../src/lib/clock.js';
import { freshDatabase } from './db.js';

export const PASSWORD = 'Correct-Horse-Battery-9';

export interface TestAppOptions {
  clock?: Clock;
  config?: ConfigOverrides;
  options?: Partial<BuildAppOptions>;
}

/** An app on its own fresh database and its own key directory, closed when the test ends. */
export async function testApp(t: Test, opts: TestAppOptions = {}): Promise<App> {
  const dataDir = t.testdir({});
  const { database, drop } = await freshDatabase();
  // Load shedding off unless a test asks for it: a busy CI machine is not an overloaded server.
  const config = defaultConfig({
    dataDir,
    seedDemo: false,
    pressure: { maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0, retryAfterSeconds: 10 },
    ...opts.config,
  });
  // Fill batches are drafted on this thread: work in worker threads reports no coverage. The pool
  // path gives the same answers (fill-scale.test.ts), and apps built without testApp use it.
  const app = await buildApp({ config, database, logger: false, clock: opts.clock, ...opts.options, jobs: { pool: undefined, ...opts.options?.jobs } });
  t.teardown(async () => {
    await app.close();
    await drop();
  });
  return app;
}

/** A mutable clock for tests that move time. */
export function manualClock(start = new Date('2026-06-01T12:00:00Z')) {
  let now = start.getTime();
  const clock: Clock = () => new Date(now);
  return {
    clock,
    advance: (ms: number) => {
      now += ms;
    },
    set: (d: Date) => {
      now = d.getTime();
    },
  };
}

let counter = 0;
export interface Tenant {
  token: string;
  orgId: string;
  slug: string;
  userId: string;
  email: string;
  auth: { authorization: string };
}

/** Signs up a new organization with a unique slug and returns its owner's credentials. */
export async function signup(app: App, slugHint = 'org'): Promise<Tenant> {
  const slug = `${slugHint}-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 6)}`.toLowerCase().slice(0, 60);
  const email = `owner@${slug}.example.com`;
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/signup',
    payload: { organization: { name: `Org ${slug}`, slug }, user: { email, password: PASSWORD } },
  });
  if (res.statusCode !== 201) throw new Error(`signup failed: ${res.statusCode} ${res.body}`);
  const body = res.json();
  return { token: body.accessToken, orgId: body.organization.id, slug, userId: body.user.id, email, auth: { authorization: `Bearer ${body.accessToken}` } };
}

/** Adds a member with the given role to the tenant (via invitation) and returns their credentials. */
export async function memberWithRole(app: App, owner: Tenant, role: 'admin' | 'editor' | 'viewer'): Promise<Tenant> {
  const email = `${role}-${++counter}@${owner.slug}.example.com`;
  const inv = await app.inject({ method: 'POST', url: '/api/v1/members', headers: owner.auth, payload: { email, role } });
  if (inv.statusCode !== 201) throw new Error(`invite failed: ${inv.statusCode} ${inv.body}`);
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/accept-invitation',
    payload: { token: inv.json().invitation.token, password: PASSWORD },
  });
  if (res.statusCode !== 201) throw new Error(`accept failed: ${res.statusCode} ${res.body}`);
  const me = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${res.json().accessToken}` } });
  return { ...owner, token: res.json().accessToken, userId: me.json().user.id, email, auth: { authorization: `Bearer ${res.json().accessToken}` } };
}

/** A questionnaire's summary with every question, read page by page (GET /questionnaires/{id} pages them). */
export async function wholeQuestionnaire(app: App, headers: Record<string, string>, id: string, query = '') {
  const questions: any[] = [];
  let cursor: string | null = null;
  let summary: any;
  do {
    const res: { statusCode: number; body: string; json(): any } = await app.inject({
      method: 'GET',
      url: `/api/v1/questionnaires/${id}?limit=200${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`,
      headers,
    });
    if (res.statusCode !== 200) throw new Error(`GET /questionnaires/${id}: ${res.statusCode} ${res.body}`);
    const body: any = res.json();
    summary ??= body;
    questions.push(...body.questions);
    cursor = body.nextCursor;
  } while (cursor);
  return { ...summary, questions, nextCursor: null };
}

/** A GET that must answer 200 (asserted on the test), returning its JSON. */
export function getter(t: Test, app: App, headers: Record<string, string>) {
  return async (url: string) => {
    const r = await app.inject({ method: 'GET', url, headers });
    t.equal(r.statusCode, 200, url);
    return r.json();
  };
}
