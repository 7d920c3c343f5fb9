import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { memberWithRole, signup, testApp } from './helpers/app.js';

// Route-wide guarantees, checked against every operation in the OpenAPI document so that a new
// route cannot forget them: no token is a 401 problem, and a viewer can write nothing.
const doc = JSON.parse(fs.readFileSync(path.resolve('openapi', 'openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, { security?: unknown[]; operationId: string }>>;
};
const OPEN = /^\/api\/v1\/(auth\/|public\/)/;
const operations = Object.entries(doc.paths)
  .filter(([p]) => p.startsWith('/api/v1/') && !OPEN.test(p))
  .flatMap(([p, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path: p, op })));

const concrete = (p: string) => p.replace(/\{ref\}/g, 'A.5.1').replace(/\{[^}]+\}/g, '01900000-0000-7000-8000-000000000000');

t.test('every authenticated operation answers 401 without a token', async (t) => {
  const app = await testApp(t);
  t.ok(operations.length > 50, `${operations.length} operations`);
  for (const { method, path: p, op } of operations) {
    const r = await app.inject({ method: method as 'GET', url: concrete(p), payload: method === 'GET' || method === 'DELETE' ? undefined : {} });
    t.equal(r.statusCode, 401, `${op.operationId}: ${method} ${p}`);
    t.match(r.headers['content-type'], /application\/problem\+json/);
  }
});

// The only writes open to viewers: internal comments on questions (reviewing is team work, and a
// comment changes no answer). Each must still answer something other than 403 to a viewer.
const VIEWER_WRITES = new Set(['addQuestionComment', 'editQuestionComment', 'deleteQuestionComment']);

t.test('a viewer can write nothing', async (t) => {
  const app = await testApp(t);
  const owner = await signup(app);
  const viewer = await memberWithRole(app, owner, 'viewer');
  const writes = operations.filter((o) => o.method !== 'GET');
  t.ok(writes.length > 25);
  t.same(writes.filter((w) => VIEWER_WRITES.has(w.op.operationId)).length, VIEWER_WRITES.size, 'every allowed viewer write is an operation of the document');
  for (const { method, path: p, op } of writes) {
    const r = await app.inject({ method: method as 'POST', url: concrete(p), headers: viewer.auth, payload: method === 'DELETE' ? undefined : {} });
    if (VIEWER_WRITES.has(op.operationId)) t.not(r.statusCode, 403, `${op.operationId}: ${method} ${p} is open to viewers`);
    else t.equal(r.statusCode, 403, `${op.operationId}: ${method} ${p}`);
  }
});
