import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { testApp } from './helpers/app.js';
import { ERROR_CODES, type ErrorCode } from '../src/lib/errors.js';
import { ROLES } from '../src/lib/context.js';
import { SCOPES } from '../src/lib/scopes.js';
import { EVENT_TYPES } from '../src/modules/events/tables.js';
import { ACCESS_LINE } from '../src/plugins/swagger.js';

// The contract the document makes, checked over every operation so that a new route cannot skip
// it: descriptions, examples, access, errors, headers, idempotency, multipart bodies, named
// entities, typed webhooks and the error-code docs.

type Json = Record<string, any>;
const doc = JSON.parse(fs.readFileSync(path.resolve('openapi', 'openapi.json'), 'utf8')) as Json;
const METHODS = new Set(['get', 'put', 'post', 'patch', 'delete']);
const operations = Object.entries(doc.paths as Record<string, Json>).flatMap(([p, item]) =>
  Object.entries(item)
    .filter(([m]) => METHODS.has(m))
    .map(([m, op]) => ({ method: m.toUpperCase(), path: p, op: op as Json })),
);
const name = (o: { method: string; path: string; op: Json }) => `${o.op.operationId ?? '?'} (${o.method} ${o.path})`;

/** Entities every client relies on; each must be a named component. */
const NAMED_ENTITIES = [
  'Problem',
  'Member',
  'ApiKey',
  'AuditEvent',
  'Framework',
  'CatalogControl',
  'CrosswalkLink',
  'CrosswalkOverride',
  'ControlAnswer',
  'ControlAnswerVersion',
  'ProfileFact',
  'ProfileCatalogItem',
  'Certification',
  'WebhookEndpoint',
  'WebhookDelivery',
  'Evidence',
  'Questionnaire',
  'AccessRequest',
  'AccessGrant',
];
/** An inline object in a 2xx JSON answer may have at most this many properties; larger ones are entities and get a name. */
const MAX_INLINE_PROPERTIES = 4;
/** Handlers reading multipart are found in the source; these must be among them (keeps the scan honest). */
const KNOWN_MULTIPART = [
  'createEvidence',
  'addEvidenceVersion',
  'createDocument',
  'addDocumentVersion',
  'putTrustPageLogo',
  'importQuestionnaire',
  'prospectUploadQuestionnaire',
  'importLibrary',
  'importSoa',
];

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
function deref(v: unknown): unknown {
  let cur = v;
  for (let i = 0; i < 10 && isObject(cur) && typeof cur.$ref === 'string'; i++) {
    cur = (cur.$ref as string)
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((o, k) => (isObject(o) ? o[k.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), doc);
  }
  return cur;
}

/** An `example` or `examples` anywhere below `v`, following `$ref`s. */
function hasExample(v: unknown, seen = new Set<unknown>()): boolean {
  const node = deref(v);
  if (seen.has(node)) return false;
  seen.add(node);
  if (Array.isArray(node)) return node.some((x) => hasExample(x, seen));
  if (!isObject(node)) return false;
  if (node.example !== undefined || (node.examples !== undefined && !(Array.isArray(node.examples) && node.examples.length === 0))) return true;
  return Object.values(node).some((x) => hasExample(x, seen));
}

const successes = (op: Json) => Object.entries(op.responses as Record<string, Json>).filter(([s]) => /^2/.test(s));
const params = (op: Json) => ((op.parameters ?? []) as unknown[]).map((p) => deref(p) as Json);
const idempotencyParam = (op: Json) => params(op).find((p) => p.in === 'header' && String(p.name).toLowerCase() === 'idempotency-key');
const headerNames = (response: Json) => Object.keys(response.headers ?? {}).map((h) => h.toLowerCase());
const isPublic = (op: Json) => op['x-required-role'] === 'none';
/** Per-address limits on auth and public routes, per-credential limits on every authenticated one. */
const rateLimited = (o: { path: string; op: Json }) => !isPublic(o.op) || /^\/(api\/v1\/(auth|public)\/|trust\/)/.test(o.path);

/** Inline objects with too many properties, and pages of unnamed items, in a 2xx JSON answer. */
function unnamedEntities(schema: unknown, at: string, out: string[]): void {
  if (!isObject(schema) || typeof schema.$ref === 'string') return;
  const props = isObject(schema.properties) ? schema.properties : undefined;
  if (props) {
    const keys = Object.keys(props);
    if (keys.length > MAX_INLINE_PROPERTIES) out.push(`${at || '(answer)'} is an inline object with ${keys.length} properties: give it an $id`);
    const items = props.items;
    if (
      'nextCursor' in props &&
      isObject(items) &&
      isObject(items.items) &&
      typeof items.items.$ref !== 'string' &&
      (items.items.type === 'object' || items.items.properties)
    ) {
      out.push(`${at || '(answer)'} is a page of unnamed items: pageOf(<schema with an $id>)`);
    }
    for (const [k, v] of Object.entries(props)) unnamedEntities(v, `${at}/${k}`, out);
  }
  if (isObject(schema.items)) unnamedEntities(schema.items, `${at}[]`, out);
  if (isObject(schema.additionalProperties)) unnamedEntities(schema.additionalProperties, `${at}{}`, out);
  for (const k of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(schema[k])) for (const s of schema[k]) unnamedEntities(s, at, out);
}

/**
 * Operation ids of the routes whose handler reads a multipart body, directly or through the
 * functions it calls (found by name across src/), from the TypeScript syntax tree.
 */
function multipartOperations(): Set<string> {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(path.resolve('src'));
  const functions = new Map<string, ts.Node[]>();
  const routes: Array<{ operationId: string; handler: ts.Node }> = [];
  const READERS = new Set(['parts', 'file', 'files', 'saveRequestFiles', 'readUpload']);
  const propertyText = (o: ts.ObjectLiteralExpression, key: string) =>
    o.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && p.name.getText() === key)?.initializer;
  for (const file of files) {
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node) => {
      if (ts.isFunctionDeclaration(node) && node.name) functions.set(node.name.text, [...(functions.get(node.name.text) ?? []), node]);
      if (
        ts.isVariableDeclaration(node) &&
        ts.isIdentifier(node.name) &&
        node.initializer &&
        (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))
      ) {
        functions.set(node.name.text, [...(functions.get(node.name.text) ?? []), node.initializer]);
      }
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        ['get', 'post', 'put', 'patch', 'delete'].includes(node.expression.name.text)
      ) {
        const options = node.arguments.find(ts.isObjectLiteralExpression);
        const schema = options && propertyText(options, 'schema');
        const id = schema && ts.isObjectLiteralExpression(schema) ? propertyText(schema, 'operationId') : undefined;
        const handler =
          options && (propertyText(options, 'handler') ?? options.properties.find((p) => ts.isMethodDeclaration(p) && p.name.getText() === 'handler'));
        if (id && ts.isStringLiteral(id) && handler) routes.push({ operationId: id.text, handler });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  const memo = new Map<ts.Node, boolean>();
  const reads = (node: ts.Node): boolean => {
    if (memo.has(node)) return memo.get(node)!;
    memo.set(node, false);
    let found = false;
    const visit = (n: ts.Node) => {
      if (found) return;
      if (ts.isCallExpression(n)) {
        const callee = n.expression;
        const called = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : undefined;
        if (called && READERS.has(called)) found = true;
        else if (called && ts.isIdentifier(callee)) found = (functions.get(called) ?? []).some(reads);
      }
      if (!found) ts.forEachChild(n, visit);
    };
    visit(node);
    memo.set(node, found);
    return found;
  };
  return new Set(routes.filter((r) => reads(r.handler)).map((r) => r.operationId));
}

t.test('the committed OpenAPI document is current', async (t) => {
  const app = await testApp(t);
  await app.ready();
  const generated = JSON.stringify(app.swagger(), null, 2) + '\n';
  const committed = fs.readFileSync(path.resolve('openapi', 'openapi.json'), 'utf8');
  t.equal(committed, generated, 'openapi/openapi.json is stale: run `npm run openapi` and commit it');
});

t.test('every operation: id, tags, a description of its own, access and an example', async (t) => {
  t.match(doc.openapi, /^3\.1\./);
  t.ok(operations.length > 80, `${operations.length} operations`);
  const ids = new Set<string>();
  for (const o of operations) {
    const { op } = o;
    t.ok(op.operationId, `${name(o)} has an operationId`);
    t.notOk(ids.has(op.operationId), `${name(o)}: operationId is unique`);
    ids.add(op.operationId);
    t.ok(Array.isArray(op.tags) && op.tags.length > 0, `${name(o)} has tags`);

    const paragraphs = String(op.description ?? '').split('\n\n');
    const own = paragraphs
      .filter((p) => !p.startsWith(ACCESS_LINE))
      .join(' ')
      .trim();
    t.ok(own.length >= 30 && /[.!?)`]$/.test(own) && own !== op.summary, `${name(o)} has a description of its own (a sentence beyond the summary)`);
    t.equal(paragraphs.filter((p) => p.startsWith(ACCESS_LINE)).length, 1, `${name(o)}: the description ends with the access line`);

    const role = op['x-required-role'];
    const scope = op['x-required-scope'];
    t.ok(role === 'none' || (ROLES as readonly string[]).includes(role), `${name(o)}: x-required-role (${role})`);
    t.ok(scope === 'none' || SCOPES.includes(scope), `${name(o)}: x-required-scope (${scope})`);
    if (role === 'none') {
      t.same(op.security, [], `${name(o)}: a public operation says so in security`);
      t.equal(scope, 'none', `${name(o)}: a public operation needs no scope`);
    } else {
      t.ok(String(op.description).includes(`role \`${role}\``), `${name(o)}: the access line names the role`);
      if (scope !== 'none') t.ok(String(op.description).includes(`\`${scope}\``), `${name(o)}: the access line names the scope`);
    }

    const reachable = [
      ...((op.parameters ?? []) as unknown[]).filter((p) => !(isObject(p) && p.$ref === '#/components/parameters/IdempotencyKey')),
      op.requestBody,
      ...successes(op).map(([, r]) => r.content),
    ];
    t.ok(
      reachable.some((v) => hasExample(v)),
      `${name(o)} has an example (parameters, body or success answer)`,
    );
  }
});

t.test('every operation: responses that say what they hold, and specific errors', async (t) => {
  for (const o of operations) {
    const { op } = o;
    const responses = op.responses as Record<string, Json>;
    t.ok(successes(op).length > 0, `${name(o)} declares a success response`);
    for (const [status, r] of Object.entries(responses)) {
      t.ok(typeof r.description === 'string' && r.description.length > 5 && r.description !== 'Default Response', `${name(o)} ${status}: a real description`);
      t.ok(headerNames(r).includes('x-request-id'), `${name(o)} ${status}: documents x-request-id`);
      t.ok(/^[1-5]\d\d$/.test(status), `${name(o)}: ${status} is a specific status`);
      if (/^[45]/.test(status)) {
        t.equal(r.content?.['application/problem+json']?.schema?.$ref, '#/components/schemas/Problem', `${name(o)} ${status}: a Problem`);
        const codes = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => ERROR_CODES[c].status === Number(status));
        t.ok(
          codes.some((c) => r.description.includes(`\`${c}\``)),
          `${name(o)} ${status}: names its codes`,
        );
      }
    }
    const needed = ['400', '500'];
    if (!isPublic(op)) needed.push('401', '403');
    if (o.path.includes('{')) needed.push('404');
    if (op.requestBody) needed.push('413', '415');
    if (rateLimited(o)) needed.push('429');
    if (!['/healthz', '/readyz'].includes(o.path)) needed.push('503');
    for (const status of needed) t.ok(responses[status], `${name(o)} declares ${status}`);
    if (responses['429']) t.ok(headerNames(responses['429']).includes('retry-after'), `${name(o)} 429: Retry-After`);
    if (rateLimited(o)) {
      for (const [status, r] of successes(op)) t.ok(headerNames(r).includes('x-ratelimit-remaining'), `${name(o)} ${status}: rate-limit headers`);
    }
  }
});

t.test('Idempotency-Key on exactly the POSTs the idempotency plugin honours (authenticated ones)', async (t) => {
  for (const o of operations) {
    const honoured = o.method === 'POST' && !isPublic(o.op);
    const p = idempotencyParam(o.op);
    t.equal(Boolean(p), honoured, `${name(o)}: Idempotency-Key ${honoured ? 'declared' : 'absent'}`);
    if (!p) continue;
    t.equal(p.required, false, `${name(o)}: Idempotency-Key is optional`);
    t.ok(p.schema?.pattern && p.description, `${name(o)}: Idempotency-Key has a pattern and a description`);
    t.ok(o.op.responses['422']?.description.includes('`idempotency_conflict`'), `${name(o)}: 422 idempotency_conflict`);
    for (const [status, r] of successes(o.op)) t.ok(headerNames(r).includes('idempotent-replayed'), `${name(o)} ${status}: Idempotent-Replayed`);
  }
  const creating = operations.filter((o) => o.op.responses['201'] && !isPublic(o.op));
  t.ok(creating.length > 10, `${creating.length} authenticated operations create something`);
  for (const o of creating) t.ok(idempotencyParam(o.op), `${name(o)} creates: Idempotency-Key`);
});

t.test('every route that reads multipart declares multipart/form-data with its fields', async (t) => {
  const found = multipartOperations();
  for (const id of KNOWN_MULTIPART) t.ok(found.has(id), `the source scan finds ${id}`);
  const byId = new Map(operations.map((o) => [o.op.operationId as string, o]));
  for (const id of found) {
    const o = byId.get(id);
    if (!o) {
      t.fail(`${id} reads multipart but is not in the document`);
      continue;
    }
    const form = deref(o.op.requestBody?.content?.['multipart/form-data']?.schema) as Json | undefined;
    t.ok(form && isObject(form.properties) && Object.keys(form.properties).length > 0, `${name(o)}: multipart/form-data with its fields`);
    t.ok(form && Object.values(form.properties ?? {}).some((p) => isObject(p) && p.format === 'binary'), `${name(o)}: the file field is binary`);
  }
  for (const o of operations) {
    if (o.op.requestBody?.content?.['multipart/form-data']) t.ok(found.has(o.op.operationId), `${name(o)} declares multipart and its handler reads it`);
  }
});

t.test('answers use named entities', async (t) => {
  const schemas = doc.components.schemas as Json;
  for (const entity of NAMED_ENTITIES) t.ok(isObject(schemas[entity]), `components.schemas.${entity}`);
  for (const [id, s] of Object.entries(schemas)) t.ok(s.description || s.examples, `${id} has a description or examples`);
  for (const o of operations) {
    for (const [status, r] of successes(o.op)) {
      for (const [type, media] of Object.entries((r.content ?? {}) as Record<string, Json>)) {
        if (!/json/.test(type)) continue;
        const problems: string[] = [];
        unnamedEntities(media.schema, '', problems);
        t.same(problems, [], `${name(o)} ${status} ${type}`);
      }
    }
  }
});

t.test('examples match their schemas', async (t) => {
  const ajv = addFormats.default(new Ajv2020({ strict: false, allErrors: true, validateFormats: true }));
  ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
  const check = (schema: unknown, example: unknown, what: string) => {
    const rewritten = JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"doc#/components/'));
    const validate = ajv.compile(rewritten);
    t.ok(validate(example), `${what}: ${ajv.errorsText(validate.errors)}`);
  };
  for (const [id, s] of Object.entries(doc.components.schemas as Record<string, Json>)) {
    for (const [i, example] of ((s.examples ?? []) as unknown[]).entries()) check({ $ref: `#/components/schemas/${id}` }, example, `${id} example ${i + 1}`);
  }
  const media = (m: Json, what: string) => {
    if (m.example !== undefined) check(m.schema, m.example, what);
    for (const [k, e] of Object.entries((m.examples ?? {}) as Record<string, Json>)) check(m.schema, e.value, `${what} ${k}`);
  };
  for (const o of operations) {
    for (const [type, m] of Object.entries((o.op.requestBody?.content ?? {}) as Record<string, Json>)) if (/json/.test(type)) media(m, `${name(o)} body`);
    for (const [status, r] of successes(o.op)) {
      for (const [type, m] of Object.entries((r.content ?? {}) as Record<string, Json>)) if (/json/.test(type)) media(m, `${name(o)} ${status}`);
    }
  }
});

t.test('Problem.code is the closed list, and every code has its section in docs/errors.md', async (t) => {
  const problem = doc.components.schemas.Problem as Json;
  t.same(problem.properties.code.enum, Object.keys(ERROR_CODES), 'Problem.code enum = ERROR_CODES');
  t.match(problem.properties.code.description, /docs\/errors\.md/, 'Problem.code links the docs');
  const errorsDoc = fs.readFileSync(path.resolve('docs', 'errors.md'), 'utf8');
  const sections = new Map(
    errorsDoc
      .split(/^## /m)
      .slice(1)
      .map((s) => [s.split('\n', 1)[0]!.trim(), s]),
  );
  for (const [code, { status, title }] of Object.entries(ERROR_CODES)) {
    const section = sections.get(code);
    t.ok(section, `docs/errors.md has a section "## ${code}"`);
    t.match(section ?? '', new RegExp(`\\*\\*Status:\\*\\* ${status}\\b`), `${code}: its status`);
    t.ok(section?.includes(title), `${code}: its title`);
    t.match(section ?? '', /\*\*When:\*\*[^]*\*\*What to do:\*\*/, `${code}: when it happens and what to do`);
  }
  t.same(
    [...sections.keys()].filter((k) => !(k in ERROR_CODES)),
    [],
    'no section for a code that does not exist',
  );
});

t.test('every webhook event has a typed payload with an example', async (t) => {
  t.same(Object.keys(doc.webhooks ?? {}).sort(), [...EVENT_TYPES].sort(), 'one webhook per event type');
  for (const type of EVENT_TYPES) {
    const post = doc.webhooks[type]?.post as Json | undefined;
    const body = post?.requestBody?.content?.['application/json'];
    t.ok(post?.description && post?.summary, `${type}: summary and description`);
    t.same(body?.schema?.properties?.type?.enum, [type], `${type}: the envelope names the type`);
    const ref = body?.schema?.properties?.data?.$ref as string | undefined;
    const data = deref({ $ref: ref }) as Json | undefined;
    t.match(ref, /^#\/components\/schemas\/[A-Z]\w+Event$/, `${type}: data is a named component`);
    t.ok(data && isObject(data.properties) && Object.keys(data.properties).length > 0, `${type}: data has typed properties`);
    t.ok(Array.isArray(data?.examples) && data.examples.length > 0, `${type}: data has an example`);
    t.same(body?.example?.data, data?.examples?.[0], `${type}: the delivery example carries it`);
  }
});

t.test('Swagger UI is served at /docs', async (t) => {
  const app = await testApp(t);
  const r = await app.inject({ method: 'GET', url: '/docs/' });
  t.equal(r.statusCode, 200);
  t.match(r.body, /swagger/i);
});
