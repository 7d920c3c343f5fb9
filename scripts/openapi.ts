// Writes openapi/openapi.json from the route schemas and the typed client's
// clients/typescript/schema.d.ts from it (`npm run openapi`). Tests fail when either committed
// file differs from what the routes generate.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { buildApp } from '../src/app.js';
import { defaultConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { CLIENT_TYPES_FILE, renderClientTypes } from './client-types.js';

export const OPENAPI_FILE = path.resolve('openapi', 'openapi.json');

export function renderOpenapi(doc: unknown): string {
  return JSON.stringify(doc, null, 2) + '\n';
}

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'openapi-'));
const app = await buildApp({
  config: defaultConfig({ dataDir, seedDemo: false }),
  database: await openDatabase({ pglite: new PGlite() }),
  logger: false,
});
await app.ready();
await fs.mkdir(path.dirname(OPENAPI_FILE), { recursive: true });
await fs.writeFile(OPENAPI_FILE, renderOpenapi(app.swagger()));
await fs.writeFile(CLIENT_TYPES_FILE, await renderClientTypes(app.swagger()));
await app.close();
await fs.rm(dataDir, { recursive: true, force: true });
process.stdout.write(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)} (${Object.keys((app.swagger() as { paths: object }).paths).length} paths)\n`);
