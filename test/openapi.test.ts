import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { testApp } from './helpers/app.js';

t.test('the committed OpenAPI document is current', async (t) => {
  const app = await testApp(t);
  await app.ready();
  const generated = JSON.stringify(app.swagger(), null, 2) + '\n';
  const committed = fs.readFileSync(path.resolve('openapi', 'openapi.json'), 'utf8');
  t.equal(committed, generated, 'openapi/openapi.json is stale: run `npm run openapi` and commit it');
});

t.test('every operation has tags, an operationId and declared responses', async (t) => {
  const doc = JSON.parse(fs.readFileSync(path.resolve('openapi', 'openapi.json'), 'utf8'));
  t.match(doc.openapi, /^3\./);
  const ids = new Set<string>();
  for (const [p, ops] of Object.entries<Record<string, { tags?: string[]; operationId?: string; responses?: object }>>(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      t.ok(op.tags && op.tags.length > 0, `${method} ${p} has tags`);
      t.ok(op.operationId, `${method} ${p} has an operationId`);
      t.notOk(ids.has(op.operationId!), `${op.operationId} is unique`);
      ids.add(op.operationId!);
      t.ok(op.responses && Object.keys(op.responses).some((c) => c.startsWith('2')), `${method} ${p} declares a success response`);
      t.ok(op.responses && '4XX' in op.responses, `${method} ${p} declares its errors`);
    }
  }
});

t.test('Swagger UI is served at /docs', async (t) => {
  const app = await testApp(t);
  const r = await app.inject({ method: 'GET', url: '/docs/' });
  t.equal(r.statusCode, 200);
  t.match(r.body, /swagger/i);
});
