import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { DomainError, type FieldError } from '../lib/errors.js';

/**
 * Two validators: query strings, params and headers arrive as text and are coerced to the
 * declared types (`?limit=2`); JSON bodies are not coerced, so `null` stays null and `"1"` is not
 * a number. With one coercing validator, `null` in a nullable text field would become "".
 */
export function installValidators(app: FastifyInstance): void {
  const base: Options = { useDefaults: true, removeAdditional: true, allErrors: true, addUsedSchema: false, strict: false };
  const coercing = addFormats.default(new Ajv({ ...base, coerceTypes: 'array' }));
  const strictBody = addFormats.default(new Ajv({ ...base, coerceTypes: false }));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strictBody : coercing).compile(schema));
  // Before the schemas run, so a route without a body schema is covered too.
  app.addHook('preValidation', async (request) => {
    refuseNul([
      ['params', request.params],
      ['querystring', request.query],
      ['body', request.body],
    ]);
    // API routes only: links to the HTML pages and docs carry utm_* and other tracking parameters.
    if (request.routeOptions.url?.startsWith('/api/v1/')) {
      refuseUnknownQuery(request.query, (request.routeOptions.schema as { querystring?: unknown } | undefined)?.querystring);
    }
  });
}

const declaredCache = new WeakMap<object, Set<string> | null>();

/**
 * The query parameters a querystring schema declares (its properties, through allOf/anyOf/oneOf),
 * or null when it admits any (additional or pattern properties), cached per schema.
 */
export function declaredQueryKeys(schema: unknown): Set<string> | null {
  if (schema === undefined || schema === null || typeof schema !== 'object') return new Set();
  const cached = declaredCache.get(schema);
  if (cached !== undefined) return cached;
  const keys = new Set<string>();
  let open = false;
  const stack: unknown[] = [schema];
  while (stack.length > 0) {
    const s = stack.pop();
    if (s === null || typeof s !== 'object') continue;
    const o = s as {
      properties?: Record<string, unknown>;
      additionalProperties?: unknown;
      patternProperties?: unknown;
      allOf?: unknown[];
      anyOf?: unknown[];
      oneOf?: unknown[];
    };
    for (const k of Object.keys(o.properties ?? {})) keys.add(k);
    if ((o.additionalProperties !== undefined && o.additionalProperties !== false) || o.patternProperties !== undefined) open = true;
    stack.push(...(o.allOf ?? []), ...(o.anyOf ?? []), ...(o.oneOf ?? []));
  }
  const result = open ? null : keys;
  declaredCache.set(schema, result);
  return result;
}

/**
 * A query parameter the route does not declare is a 400 naming it: ignored, a misspelt filter
 * (`?stauts=`) would silently answer with everything. Ajv's removeAdditional would drop it unseen.
 */
export function refuseUnknownQuery(query: unknown, schema: unknown): void {
  if (query === null || typeof query !== 'object') return;
  const declared = declaredQueryKeys(schema);
  if (declared === null) return;
  const unknown = Object.keys(query)
    .filter((k) => !declared.has(k))
    .slice(0, MAX_REPORTED);
  if (unknown.length === 0) return;
  const errors: FieldError[] = unknown.map((k) => ({ field: `querystring/${showKey(k)}`, message: 'unknown query parameter' }));
  const accepted = declared.size > 0 ? `this route accepts ${[...declared].join(', ')}` : 'this route takes no query parameters';
  throw new DomainError('validation_failed', `unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown.map(showKey).join(', ')}; ${accepted}`, {
    errors,
  });
}

const MAX_REPORTED = 20;
const showKey = (k: string) => k.replace(/\0/g, '\\u0000');
/**
 * Parsed JSON, query strings and params only (plain or prototype-less objects, as the parsers make
 * them): a Buffer or stream body is not walked, it is not text yet.
 */
const isPlain = (v: object) => {
  const ctor = (v as { constructor?: unknown }).constructor;
  return ctor === undefined || ctor === Object;
};

/** The fields (as `body/a/0/b`) whose text or key holds a NUL character; iterative, so deep JSON cannot overflow the stack. */
export function nulFields(parts: Array<[string, unknown]>): string[] {
  const found: string[] = [];
  const stack: Array<[string, unknown]> = [...parts].reverse();
  while (stack.length > 0 && found.length < MAX_REPORTED) {
    const [at, v] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\0')) found.push(at);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([`${at}/${i}`, v[i]]);
    } else if (v !== null && typeof v === 'object' && isPlain(v)) {
      const entries = Object.entries(v as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, child] = entries[i]!;
        if (k.includes('\0')) found.push(`${at}/${showKey(k)}`);
        else stack.push([`${at}/${showKey(k)}`, child]);
      }
    }
  }
  return found;
}

/**
 * PostgreSQL text cannot hold U+0000: left in, it fails the query (a 500) far from the input.
 * Refused up front with a 400 naming each field, in every part of every request.
 */
export function refuseNul(parts: Array<[string, unknown]>): void {
  const fields = nulFields(parts);
  if (fields.length === 0) return;
  const errors: FieldError[] = fields.map((field) => ({ field, message: 'must not contain NUL (U+0000) characters' }));
  throw new DomainError('validation_failed', errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
}
