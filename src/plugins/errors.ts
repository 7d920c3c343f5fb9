import fp from 'fastify-plugin';
import FindMyWay from 'find-my-way';
import { err as stdErrorSerializer } from 'pino-std-serializers';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, ERROR_CODES, type ErrorCode, type FieldError } from '../lib/errors.js';

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, code: ErrorCode, detail: string, errors?: FieldError[]) {
  const { status, title } = ERROR_CODES[code];
  const body: ProblemBody = { type: `urn:trustcenter:problem:${code}`, title, status, detail, code, requestId: String(request.id) };
  if (errors && errors.length > 0) body.errors = errors;
  return reply.code(status).type('application/problem+json').send(body);
}

/** Fastify's own errors (body parsing, limits) by their codes, mapped onto our closed list. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_request',
  FST_ERR_RATE_LIMIT: 'rate_limited',
};

function validationErrors(err: FastifyError): FieldError[] {
  const ctx = err.validationContext ?? 'body';
  return (err.validation ?? []).map((v) => {
    const params = v.params as { missingProperty?: string; additionalProperty?: string } | undefined;
    const base = (v.instancePath ?? '').replace(/^\//, '').replace(/~1/g, '/');
    const leaf = params?.missingProperty ?? params?.additionalProperty;
    const field = [ctx, base, leaf].filter(Boolean).join('/');
    return { field, message: v.message ?? 'is invalid' };
  });
}

/** Fields of a PostgreSQL error (pg and PGlite alike) that name things, never values. */
const SAFE_DB_FIELDS = ['code', 'severity', 'schema', 'table', 'column', 'dataType', 'constraint', 'routine'] as const;
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * A database error anywhere in the cause chain: drizzle's DrizzleQueryError (its message and
 * `params` hold every bind parameter: password hashes, webhook secrets) or the driver's error
 * (its `detail` holds row values, its message sometimes an input).
 */
function databaseError(err: object): Record<string, unknown> | undefined {
  let wrapped = false;
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur !== null && typeof cur === 'object'; i++) {
    const c = cur as Record<string, unknown>;
    if (typeof c.code === 'string' && SQLSTATE.test(c.code) && ('severity' in c || 'routine' in c || wrapped)) return c;
    if ('params' in c && 'query' in c) wrapped = true;
    cur = c.cause;
  }
  return wrapped ? {} : undefined;
}

const sanitized = new WeakSet<object>();

/**
 * What may be logged of an error. A database error keeps only its SQLSTATE, the names of the
 * table, column and constraint, and the stack frames (no message line: drizzle puts the
 * parameters there); anything else is returned as it is.
 */
export function safeForLog(err: unknown): unknown {
  if (err === null || typeof err !== 'object' || sanitized.has(err)) return err;
  const db = databaseError(err);
  if (!db) return err;
  const out: Record<string, unknown> = { type: 'DatabaseError', message: `database error ${typeof db.code === 'string' ? db.code : '(no SQLSTATE)'}` };
  for (const k of SAFE_DB_FIELDS) if (typeof db[k] === 'string') out[k] = db[k];
  const stack = (err as { stack?: unknown }).stack;
  if (typeof stack === 'string')
    out.stack = stack
      .split('\n')
      .filter((l) => /^\s+at /.test(l))
      .join('\n');
  sanitized.add(out);
  return out;
}

/** The logger's `err` serializer (buildApp installs it): pino's standard one, after `safeForLog`. */
export function serializeError(err: unknown): unknown {
  const safe = safeForLog(err);
  return safe !== null && typeof safe === 'object' && !sanitized.has(safe) ? stdErrorSerializer(safe as Error) : safe;
}

/** The one place errors become answers: problem+json, a closed code list, and no internals on 5xx. */
export default fp(
  async (app) => {
    app.setErrorHandler((err: FastifyError | DomainError, request, reply) => {
      if (err instanceof DomainError) {
        if (err.extras.headers) reply.headers(err.extras.headers);
        return sendProblem(reply, request, err.code, err.detail ?? ERROR_CODES[err.code].title, err.extras.errors);
      }
      const fe = err as FastifyError;
      if (fe.validation) {
        const errors = validationErrors(fe);
        const detail = errors.map((e) => `${e.field} ${e.message}`).join('; ');
        return sendProblem(reply, request, 'validation_failed', detail || fe.message, errors);
      }
      const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
      if (mapped) return sendProblem(reply, request, mapped, fe.message);
      if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
        const code = (Object.keys(ERROR_CODES) as ErrorCode[]).find((c) => ERROR_CODES[c].status === fe.statusCode) ?? 'bad_request';
        return sendProblem(reply, request, code, fe.message);
      }
      // Serialized here, not by the logger's settings: whatever logger the app was given.
      request.log.error({ err: safeForLog(err) }, 'unhandled error');
      return sendProblem(reply, request, 'internal', `an unexpected error occurred; quote request id ${request.id} when reporting it`);
    });

    // Every route's path and methods, so a known path asked with another method is a 405 naming the
    // methods it has, not a 404 that suggests the path is wrong.
    const known = routeTable(app.initialConfig);
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) known.add(method, route.url);
    });

    app.setNotFoundHandler((request, reply) => {
      const allowed = known.methodsFor(request.url);
      // A handler that called callNotFound() for its own method means the resource is missing.
      if (allowed.length > 0 && !allowed.includes(request.method)) {
        reply.header('allow', allowed.join(', '));
        return sendProblem(
          reply,
          request,
          'method_not_allowed',
          `${request.method} is not supported on ${request.url.split('?')[0]}; use ${allowed.join(', ')}`,
        );
      }
      return sendProblem(reply, request, 'not_found', `no route for ${request.method} ${request.url.split('?')[0]}`);
    });
  },
  { name: 'errors' },
);

type RouterConfig = Pick<
  FindMyWay.Config<FindMyWay.HTTPVersion.V1>,
  'caseSensitive' | 'ignoreTrailingSlash' | 'ignoreDuplicateSlashes' | 'maxParamLength' | 'allowUnsafeRegex'
> & { useSemicolonDelimiter?: boolean };

/** A second router with fastify's matching options, holding every route's methods (HEAD included when fastify exposes it). */
function routeTable(initial: object) {
  const cfg = { ...initial, ...(initial as { routerOptions?: object }).routerOptions } as RouterConfig;
  const options: RouterConfig = {
    caseSensitive: cfg.caseSensitive,
    ignoreTrailingSlash: cfg.ignoreTrailingSlash,
    ignoreDuplicateSlashes: cfg.ignoreDuplicateSlashes,
    maxParamLength: cfg.maxParamLength,
    allowUnsafeRegex: cfg.allowUnsafeRegex,
    useSemicolonDelimiter: cfg.useSemicolonDelimiter,
  };
  const router = FindMyWay(options);
  const methods = new Set<string>();
  return {
    add(method: string, url: string) {
      methods.add(method);
      try {
        router.on(method as FindMyWay.HTTPMethod, url, () => {});
      } catch {
        // Fastify refuses true duplicates itself; one differing only by constraints adds no method here.
      }
    },
    methodsFor(url: string): string[] {
      return [...methods].filter((m) => router.find(m as FindMyWay.HTTPMethod, url) !== null).sort();
    },
  };
}
