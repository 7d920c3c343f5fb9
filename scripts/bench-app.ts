// The in-process app the offline benches drive: the demo organization seeded, no background
// workers or scans (the bench runs each job itself), and the demo owner logged in.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { buildApp, type App } from '../src/app.js';
import { defaultConfig, type ConfigOverrides } from '../src/config.js';
import type { Database } from '../src/db/client.js';

export interface DemoApp {
  app: App;
  auth: { authorization: string };
  /** Closes the app and removes its DATA_DIR. */
  close(): Promise<void>;
}

/** `prepare` runs once the app is ready and before the login (e.g. to widen the catalog). */
export async function demoApp(database: Database, name: string, overrides: ConfigOverrides = {}, prepare?: (app: App) => Promise<void>): Promise<DemoApp> {
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), `${name}-`));
  const app: App = await buildApp({
    config: defaultConfig({ dataDir, seedDemo: true, logLevel: 'silent', ...overrides }),
    database,
    logger: false,
    jobs: { worker: false },
    webhooks: { worker: false },
    expiryScanIntervalMs: 0,
  });
  const close = async () => {
    await app.close();
    await fsp.rm(dataDir, { recursive: true, force: true });
  };
  try {
    await app.ready();
    await prepare?.(app);
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'owner@demo.example.com', password: 'Demo-Password-2026!' },
    });
    if (login.statusCode !== 200) throw new Error(`login: ${login.statusCode} ${login.body}`);
    return { app, auth: { authorization: `Bearer ${login.json().accessToken}` }, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Imports a questionnaire of these question texts (JSON import) and returns its id. */
export async function importTexts(d: DemoApp, name: string, texts: string[]): Promise<string> {
  const created = await d.app.inject({
    method: 'POST',
    url: '/api/v1/questionnaires',
    headers: d.auth,
    payload: { name, questions: texts.map((text) => ({ text })) },
  });
  if (created.statusCode !== 201) throw new Error(`import: ${created.statusCode} ${created.body}`);
  return created.json().id as string;
}

/** Whether a PostgreSQL server answers at this URL within a second (the benches then run on it too). */
export async function pgAvailable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}
