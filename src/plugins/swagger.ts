import { createRequire } from 'node:module';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { RouteOptions } from 'fastify';
import { Type, type TSchema } from 'typebox';
import type { Role } from '../lib/context.js';
import { ERROR_CODES, type ErrorCode } from '../lib/errors.js';
import { DECLARED_ERRORS, ERROR_DOCS, Problem } from '../lib/schemas.js';
import { requiredScope } from '../lib/scopes.js';
import { EVENT_PAYLOADS } from '../modules/events/index.js';
import { EVENT_TYPES, type EventType } from '../modules/events/index.js';

/*
 * What a route writes, and what this plugin derives (test/openapi.test.ts checks the result):
 * - the route: `description`, examples (`examples` on its schemas or parameters), entities as
 *   TypeBox schemas with an `$id` (components, `$ref`ed wherever used), the error codes beyond
 *   the derived ones (`withProblems(responses, codes)`), multipart fields under `x-multipart`;
 * - derived here: `x-required-role`/`x-required-scope` and the access line of the description,
 *   `Idempotency-Key`, one problem+json response per possible status, success descriptions,
 *   and the response headers (request id, rate limits, Retry-After, replays, ETag, ...).
 */

declare module 'fastify' {
  interface FastifySchema {
    /**
     * Documentation only: the multipart/form-data fields of a route whose handler reads the body
     * itself (files as `format: binary`). Fastify compiles no validator for it; the OpenAPI
     * document shows it as the request body's `multipart/form-data` content.
     */
    'x-multipart'?: TSchema;
  }
}

const EVENT_DESCRIPTIONS: Record<EventType, string> = {
  'questionnaire.imported': 'A questionnaire was imported.',
  'questionnaire.filled': 'A fill job finished.',
  'answer.needs_review': 'An answer fell below the confidence threshold and waits for review.',
  'question.assigned': 'Questions of a questionnaire were assigned to a member.',
  'questionnaire.due_soon': 'A questionnaire that is not done is due within 48 hours.',
  'comment.created': 'A member commented on a question of a questionnaire (internal; the text is not sent).',
  'control.updated': 'A control answer was recorded or changed (a new version).',
  'profile.fact_changed': 'A profile fact was created, changed or deleted.',
  'library.entry_stale': 'A library answer went stale: something it rests on changed or expired.',
  'evidence.expiring': 'Evidence expires within 30 days.',
  'evidence.expired': 'Evidence expired.',
  'certification.expiring': 'A certification or report is due soon, stale or expired.',
  'access_request.created': 'A prospect asked for NDA documents on the trust page.',
  'access_request.approved': 'An access request was approved, by a person or by the auto-approve list, and a grant issued.',
  'access_request.denied': 'An access request was denied.',
  'access_grant.created': 'A grant to NDA documents was issued.',
  'access_grant.revoked': 'A grant was revoked; its link stopped working at once.',
  'access_grant.expired': 'A grant reached its expiry date; its link no longer works.',
  'document.downloaded': 'A trust-page document was downloaded.',
  'trust.update_published': 'A trust-page update was published.',
  'subscriber.confirmed': 'A trust-page subscriber confirmed their address.',
  'subscriber.removed': 'A trust-page subscriber unsubscribed or was removed.',
  'webhook.test': 'Sent by POST /api/v1/webhooks/{id}/test.',
};

const COMPONENT = '#/components/schemas/';
/** A payload schema with the annotations payloads.ts gives each one. */
const described = (type: EventType) => EVENT_PAYLOADS[type] as unknown as TSchema & { $id: string; description: string; examples: unknown[] };
const EXAMPLE_TIMESTAMP = '2026-06-04T09:30:00.000Z';

/** The OpenAPI `webhooks` section: one entry per event type, its typed `data`, the Standard Webhooks headers. */
function webhookDocs() {
  const header = (name: string, description: string, example: string) => ({
    name,
    in: 'header' as const,
    required: true,
    schema: { type: 'string' as const },
    description,
    example,
  });
  return Object.fromEntries(
    EVENT_TYPES.map((type) => {
      const payload = described(type);
      return [
        type,
        {
          post: {
            summary: EVENT_DESCRIPTIONS[type],
            description: `${payload.description} The body is \`{type, timestamp, data}\`, \`data\` as described by \`${payload.$id}\`. Deliveries are signed (Standard Webhooks) and retried with backoff for about a day until the endpoint answers 2xx.`,
            operationId: `webhook_${type.replace(/\./g, '_')}`,
            tags: ['webhooks'],
            parameters: [
              header('webhook-id', 'The event id; the same on every retry, so receivers can deduplicate.', '0197a625-94a4-76b7-8c2d-3e4f50617282'),
              header('webhook-timestamp', 'Unix seconds of this attempt.', '1780565400'),
              header(
                'webhook-signature',
                'Space-separated `v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>`; two during a secret rotation.',
                'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
              ),
            ],
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: {
                    type: 'object' as const,
                    required: ['type', 'timestamp', 'data'],
                    properties: {
                      type: { type: 'string' as const, enum: [type] },
                      timestamp: { type: 'string' as const, format: 'date-time', description: 'When the event happened.' },
                      data: { $ref: `${COMPONENT}${payload.$id}` },
                    },
                  },
                  example: { type, timestamp: EXAMPLE_TIMESTAMP, data: payload.examples[0] },
                },
              },
            },
            responses: { '2XX': { description: 'Received. Any other answer, or none within 10 s, is retried with backoff for about a day.' } },
          },
        },
      ];
    }),
  );
}

export const API_INFO = {
  title: 'Trust Center API',
  // The API's version is the package's, and CHANGELOG.md records each one.
  version: (createRequire(import.meta.url)('../../package.json') as { version: string }).version,
  description:
    'Record ISO/IEC 27001:2022 and ISO/IEC 27017 once; map it to SOC 2, answer security questionnaires with citations, and publish a trust page. ' +
    `Errors are application/problem+json with a machine \`code\` from a closed list, each explained in ${ERROR_DOCS}. ` +
    'Every operation states the role and API-key scope it needs (`x-required-role`, `x-required-scope`); every creating POST honours `Idempotency-Key`.',
};

// ---------------------------------------------------------------------------------------------
// What every operation says about access, errors and headers, derived from the route itself so
// that a new route cannot leave it out.

const ROLE_ORDER: readonly Role[] = ['viewer', 'editor', 'admin', 'owner'];
/** Same characters as plugins/idempotency.ts accepts (visible ASCII, 0x21-0x7e). */
const IDEMPOTENCY_KEY_PATTERN = '^[!-~]{1,255}$';
/** Probes that load shedding never refuses (plugins/pressure.ts). */
const PRESSURE_EXEMPT = new Set(['/healthz', '/readyz']);
/** Prefix of the access line appended to every description (tests strip it to see the route's own text). */
export const ACCESS_LINE = 'Required access:';

/** One line per code, for the error responses; docs/errors.md has the full story. */
const ERROR_HINTS: Record<ErrorCode, string> = {
  validation_failed: 'a parameter, header or body field is invalid; `errors` names each',
  bad_request: 'the request cannot be read as sent (malformed JSON, unreadable file)',
  weak_password: 'the new password is too short or too guessable',
  unauthenticated: 'no valid bearer token (missing, expired, revoked or malformed)',
  invalid_credentials: 'wrong email, password or invitation secret',
  forbidden: "the role or the API key's scopes do not allow this",
  not_found: 'no such object in your organization',
  method_not_allowed: 'the path exists but not with this method',
  conflict: 'the request clashes with the current state (or an Idempotency-Key is still in use)',
  slug_taken: 'another organization has this slug',
  email_taken: 'an account with this email exists',
  version_conflict: 'the version you sent (If-Match or `version`) is no longer the current one',
  gone: 'the link or object existed but is no longer available',
  precondition_failed: 'a condition of the request (If-Match) does not hold',
  payload_too_large: 'the body or file exceeds the limit',
  unsupported_media_type: 'the Content-Type or file format is not accepted here',
  idempotency_conflict: 'this Idempotency-Key was used for a different request',
  unprocessable: 'well-formed, but the content cannot be used (rows of a file, a state rule)',
  precondition_required: 'changing an existing object needs If-Match (or `version`)',
  rate_limited: 'too many requests; wait for Retry-After',
  internal: 'an unexpected error; quote the request id',
  integrity_failed: 'stored content no longer matches its hash',
  service_unavailable: 'the server is overloaded or a dependency is down; retry later',
};

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No content',
  303: 'See other',
  304: 'Not modified',
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition failed',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  428: 'Precondition required',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/** Route facts the document-wide pass (transformObject) needs; carried on the operation, then removed. */
interface DocMeta {
  rateLimited: boolean;
  idempotent: boolean;
  shedsLoad: boolean;
  etag: boolean;
  location: boolean;
  disposition: boolean;
}
const META = 'x-doc-meta';
/** Marks a top-level schema that had an `$id`: transformObject makes it a component and `$ref`s it. */
const NAMED = 'x-named';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A route's own copy of a named schema (`{ ...Entity, description: 'what this answer is' }`):
 * TypeBox marks the schemas it builds with a non-enumerable `~kind`, which a spread does not copy.
 * The copy's description describes the answer, not the entity.
 */
const isRouteCopy = (schema: Json) => !Object.getOwnPropertyNames(schema).includes('~kind');

interface SeenName {
  shape: string;
  description: unknown;
  canonical: boolean;
}

/**
 * Every `$id` in a route's schemas: one name, one schema, app-wide. Only a route's copy at the
 * top of an answer or body may change the description (see isRouteCopy).
 */
function recordNames(value: unknown, seen: Map<string, SeenName>, where: string, top = false): void {
  if (Array.isArray(value)) {
    for (const v of value) recordNames(v, seen, where);
    return;
  }
  if (!isObject(value)) return;
  if (typeof value.$id === 'string') {
    const { description, ...shape } = value;
    const text = JSON.stringify(shape);
    const copy = top && isRouteCopy(value);
    const before = seen.get(value.$id);
    if (before && (before.shape !== text || (!copy && before.canonical && before.description !== description))) {
      throw new Error(`OpenAPI: two different schemas are named "${value.$id}" (again in ${where}); define the entity once and reuse it`);
    }
    if (!before || (!copy && !before.canonical)) seen.set(value.$id, { shape: text, description, canonical: !copy });
  }
  for (const v of Object.values(value)) recordNames(v, seen, where);
}

/** recordNames over a route schema; bodies and answers (directly or per content type) are tops. */
function recordRouteNames(schema: RouteSchema, seen: Map<string, SeenName>, where: string): void {
  const tops = (part: unknown) => {
    if (isObject(part) && isObject(part.content) && typeof part.$id !== 'string') {
      for (const media of Object.values(part.content)) if (isObject(media)) recordNames(media.schema, seen, where, true);
    } else {
      recordNames(part, seen, where, true);
    }
  };
  for (const [key, part] of Object.entries(schema)) {
    if (key === 'body') tops(part);
    else if (key === 'response' && isObject(part)) for (const r of Object.values(part)) tops(r);
    else recordNames(part, seen, where);
  }
}

/** A top-level schema with an `$id` is rendered inline by @fastify/swagger: mark it for a `$ref` instead. */
function named(schema: unknown): unknown {
  if (!isObject(schema) || typeof schema.$id !== 'string') return schema;
  const { $id, ...rest } = schema;
  if (isRouteCopy(schema)) delete rest.description;
  return { ...rest, [NAMED]: $id };
}

/** Keywords holding data, not schemas: left as they are. */
const DATA_KEYWORDS = new Set(['examples', 'example', 'enum', 'const', 'default']);

/** named() at every depth: @fastify/swagger hoists no nested `$id` below a `content` map (it drops it). */
function namedDeep(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(namedDeep);
  if (!isObject(schema)) return schema;
  const copy: Json = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, DATA_KEYWORDS.has(k) ? v : namedDeep(v)]));
  if (isRouteCopy(schema) && typeof schema.$id !== 'string') return copy;
  // The copy lost TypeBox's marker; named() must still tell an original from a route's copy.
  if (!isRouteCopy(schema)) Object.defineProperty(copy, '~kind', { value: schema['~kind'], enumerable: false });
  return named(copy);
}

const namedContent = (content: Json) =>
  Object.fromEntries(Object.entries(content).map(([type, media]) => [type, isObject(media) ? { ...media, schema: namedDeep(media.schema) } : media]));

const pageItem = (schema: unknown): string | undefined => {
  if (!isObject(schema) || !isObject(schema.properties)) return undefined;
  const { items, nextCursor } = schema.properties;
  if (!nextCursor || !isObject(items) || !isObject(items.items)) return undefined;
  const id = items.items.$id;
  return typeof id === 'string' ? id : undefined;
};

const sentence = (text: string) => (/[.!?)]$/.test(text) ? text : `${text}.`);

/** What a success answer holds, when the route did not say: never "Default Response". */
function successDescription(status: string, schema: unknown, method: string, summary: string): string {
  const id = isObject(schema) && typeof schema.$id === 'string' ? schema.$id : undefined;
  const page = pageItem(schema);
  if (status === '201') return id ? `Created: the new \`${id}\`.` : `Created. ${sentence(summary)}`;
  if (status === '202') return `Accepted: the work continues in the background. ${sentence(summary)}`;
  if (status === '204') return method === 'DELETE' ? 'Deleted; the answer has no body.' : 'Done; the answer has no body.';
  if (page) return `A page of \`${page}\` items; pass \`nextCursor\` as \`cursor\` for the next page (null on the last).`;
  if (id) return `The \`${id}\`.`;
  return `${STATUS_TEXT[Number(status)] ?? 'Success'}: ${sentence(summary.charAt(0).toLowerCase() + summary.slice(1))}`;
}

/**
 * Response headers as @fastify/swagger reads them (`name: <JSON schema>`); an OpenAPI header
 * object (`{ description, schema }`) is accepted too.
 */
const headerSchemas = (headers: Json) =>
  Object.fromEntries(
    Object.entries(headers).map(([name, h]) => [
      name,
      isObject(h) && isObject(h.schema) ? { ...h.schema, ...(typeof h.description === 'string' ? { description: h.description } : {}) } : h,
    ]),
  );

/** A success response of the route's map, with its `$id` schemas marked and a description. */
function documentSuccess(status: string, response: unknown, method: string, summary: string): unknown {
  if (!isObject(response)) return response;
  if (isObject(response.content) && typeof response.$id !== 'string') {
    const content = namedContent(response.content);
    const json = isObject(response.content['application/json']) ? response.content['application/json'].schema : undefined;
    const headers = isObject(response.headers) ? { headers: headerSchemas(response.headers) } : {};
    return { ...response, ...headers, content, description: response.description ?? successDescription(status, json, method, summary) };
  }
  const own = typeof response.$id !== 'string' || isRouteCopy(response) ? response.description : undefined;
  const description =
    typeof response['x-response-description'] === 'string'
      ? response['x-response-description']
      : typeof own === 'string'
        ? own
        : successDescription(status, response, method, summary);
  return { ...(named(response) as Json), 'x-response-description': description };
}

/** One problem+json response per status, naming the codes this route can answer there. */
function errorResponses(codes: Set<ErrorCode>, html: boolean): Json {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    if (!codes.has(code)) continue;
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, list]) => [
        String(status),
        {
          description: `${STATUS_TEXT[status] ?? 'Error'}. ${list.map((c) => `\`${c}\`: ${ERROR_HINTS[c]}.`).join(' ')} Each code has its section in ${ERROR_DOCS} (\`#<code>\`).`,
          content: {
            'application/problem+json': { schema: Type.Ref('Problem') },
            // Pages for browsers answer their expected errors as an HTML page of the same status.
            ...(html ? { 'text/html': { schema: Type.String({ description: 'An error page for browsers.' }) } } : {}),
          },
        },
      ]),
  );
}

function accessLine(role: Role | undefined, scope: string | undefined): string {
  if (!role) return `${ACCESS_LINE} none. Public: no credentials.`;
  const roles = ROLE_ORDER.slice(ROLE_ORDER.indexOf(role))
    .map((r) => `\`${r}\``)
    .join(', ');
  const scoped = scope ? `an API key with scopes also needs \`${scope}\` (\`:write\` implies \`:read\`)` : 'no API-key scope is checked';
  return `${ACCESS_LINE} a bearer token (user or API key) with role \`${role}\` or higher (${roles}); ${scoped}.`;
}

type RouteSchema = Record<string, unknown>;

/** @fastify/swagger's per-route `transform`: the route's schema as the document should show it. */
function documentRoute(schema: RouteSchema | undefined, url: string, route: RouteOptions, names: Map<string, SeenName>): { schema: RouteSchema; url: string } {
  const s: RouteSchema = { ...schema };
  if (!schema || s.hide) return { schema: s, url };
  recordRouteNames(schema, names, `${String([route.method].flat()[0])} ${url}`);
  const config = (route.config ?? {}) as { public?: boolean; role?: Role; rateLimit?: unknown };
  const method = String([route.method].flat()[0]).toUpperCase();
  const summary = typeof s.summary === 'string' ? s.summary : url;
  // As plugins/auth.ts decides: /api/v1 needs a token unless the route is public.
  const guarded = url.startsWith('/api/v1/') && config.public !== true;
  const role: Role | undefined = guarded ? (config.role ?? 'viewer') : undefined;
  const tags = Array.isArray(s.tags) ? (s.tags as string[]) : [];
  const scope = guarded ? requiredScope(tags[0], method) : undefined;
  // plugins/idempotency.ts: authenticated POSTs only.
  const idempotent = guarded && method === 'POST';
  // Per-address limits on auth and public routes, per-credential limits on every authenticated route.
  const rateLimited = guarded || config.rateLimit !== undefined;

  s['x-required-role'] = role ?? 'none';
  s['x-required-scope'] = scope ?? 'none';
  s.description = [typeof s.description === 'string' ? s.description : '', accessLine(role, scope)].filter(Boolean).join('\n\n');
  if (!guarded) s.security = [];

  const form = s['x-multipart'];
  delete s['x-multipart'];
  const contentForm = isObject(s.body) && isObject(s.body.content) && typeof s.body.$id !== 'string';
  const bodyContent = contentForm
    ? namedContent((s.body as Json).content as Json)
    : s.body !== undefined
      ? { 'application/json': { schema: named(s.body) } }
      : {};
  if (form) s.body = { content: { ...bodyContent, 'multipart/form-data': { schema: form } } };
  else if (s.body !== undefined) s.body = contentForm ? { ...(s.body as Json), content: bodyContent } : named(s.body);
  const hasBody = s.body !== undefined;
  const hasParams = s.params !== undefined || /[:*]/.test(url);

  const declared: ErrorCode[] = [];
  const responses: Json = {};
  for (const [status, response] of Object.entries(isObject(s.response) ? s.response : {})) {
    if (/^[45]xx$/i.test(status)) {
      if (isObject(response) && Array.isArray(response[DECLARED_ERRORS])) declared.push(...(response[DECLARED_ERRORS] as ErrorCode[]));
      continue;
    }
    if (/^[45]/.test(status))
      throw new Error(`OpenAPI: ${method} ${url} declares a ${status} response; declare error codes through withProblems(responses, codes)`);
    responses[status] = documentSuccess(status, response, method, summary);
  }

  // validation_failed everywhere: besides the route's schemas, every query string is refused with
  // a NUL character in it (plugins/validation.ts).
  const codes = new Set<ErrorCode>([...declared, 'validation_failed']);
  if (hasBody) for (const c of ['bad_request', 'payload_too_large', 'unsupported_media_type'] as const) codes.add(c);
  if (guarded) for (const c of ['unauthenticated', 'forbidden'] as const) codes.add(c);
  if (hasParams) codes.add('not_found');
  if (idempotent) for (const c of ['idempotency_conflict', 'conflict'] as const) codes.add(c);
  if (rateLimited) codes.add('rate_limited');
  codes.add('internal');
  const shedsLoad = !PRESSURE_EXEMPT.has(url);
  if (shedsLoad) codes.add('service_unavailable');
  const html = Object.values(responses).some((r) => isObject(r) && isObject(r.content) && 'text/html' in r.content);
  s.response = { ...responses, ...errorResponses(codes, html) };

  // Headers the handler sets itself; read from its source, since they are not in any schema.
  const source = typeof route.handler === 'function' ? Function.prototype.toString.call(route.handler) : '';
  const sets = (name: string) => new RegExp(`['"\`]${name}['"\`]`, 'i').test(source);
  const meta: DocMeta = {
    rateLimited,
    idempotent,
    shedsLoad,
    etag: sets('etag') || '304' in responses,
    location: sets('location'),
    disposition: sets('content-disposition'),
  };
  s[META] = meta;
  return { schema: s, url };
}

const header = (description: string, schema: Json, example: unknown) => ({ description, schema, example });
const HEADERS = {
  'X-Request-Id': header(
    'The request id (yours if you sent a valid `x-request-id`, else a new one); also `requestId` in problem answers.',
    { type: 'string' },
    '0197a5c2-5b1e-7c3d-9f00-2a4b6c8d0e1f',
  ),
  'X-RateLimit-Limit': header(
    'Requests allowed in the current window (per client address on public routes, per credential on authenticated ones).',
    { type: 'integer' },
    120,
  ),
  'X-RateLimit-Remaining': header('Requests left in the current window.', { type: 'integer' }, 117),
  'X-RateLimit-Reset': header('Seconds until the window resets.', { type: 'integer' }, 42),
  'Retry-After': header('Seconds to wait before retrying.', { type: 'integer' }, 10),
  'Idempotent-Replayed': header(
    '`true` when this answer replays the first answer to the same Idempotency-Key (nothing ran again).',
    { type: 'string', enum: ['true'] },
    'true',
  ),
  ETag: header("The representation's version; send it back as If-Match (writes) or If-None-Match (reads).", { type: 'string' }, '"3"'),
  Location: header(
    'Where the created or referred resource is.',
    { type: 'string' },
    '/trust/acme/access/eyJhbGciOi.../questionnaires/0197a5d0-3e4f-7051-8c6d-7e8f9a0b1c2d',
  ),
  'Content-Disposition': header('A download: `attachment` with the file name.', { type: 'string' }, 'attachment; filename="soa-acme-2026-06-04.xlsx"'),
} as const;
const headerRef = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes the POST safe to retry: the same key and request within 24 hours answers the first response again (with `Idempotent-Replayed: true`) and runs nothing twice; the same key with a different request is 422 `idempotency_conflict`, and while the first is still running 409 `conflict`. Keys are per organization; a UUID per logical request is a good choice.',
  schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN, minLength: 1, maxLength: 255 },
  example: '5f0c6e2a-8d4b-4c1e-9a7f-3b2d1e0f9c8a',
};

/** Replaces every marked schema below `value` (deepest first) by a `$ref` to its component, made once. */
function hoistMarked(value: unknown, schemas: Json, examples?: unknown[]): unknown {
  if (Array.isArray(value)) return value.map((v) => hoistMarked(v, schemas));
  if (!isObject(value)) return value;
  const out: Json = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, DATA_KEYWORDS.has(k) ? v : hoistMarked(v, schemas)]));
  if (typeof out[NAMED] !== 'string') return out;
  const { [NAMED]: name, ...schema } = out as Json & { [NAMED]: string };
  // A route's copy lost the entity's description (it became the answer's): an original fills it in.
  const known = schemas[name];
  if (!isObject(known) || (known.description === undefined && schema.description !== undefined)) {
    schemas[name] = examples && schema.examples === undefined ? { ...schema, examples } : schema;
  }
  return { $ref: `${COMPONENT}${name}` };
}

/** Makes the marked schemas of a media object components and points the media object at them. */
function hoistNamed(media: unknown, schemas: Json): void {
  if (!isObject(media) || !isObject(media.schema)) return;
  // @fastify/swagger moved the top schema's examples onto the media object: the component keeps them too.
  const examples =
    media.example !== undefined
      ? [media.example]
      : isObject(media.examples)
        ? Object.values(media.examples).map((e) => (isObject(e) ? e.value : e))
        : undefined;
  media.schema = hoistMarked(media.schema, schemas, examples);
}

/** @fastify/swagger's `transformObject`: document-wide parts that use `$ref`s (headers, parameters, named schemas). */
function documentObject(doc: Json): Json {
  const components = (doc.components ??= {}) as Json;
  const schemas = (components.schemas ??= {}) as Json;
  components.headers = { ...(components.headers as Json | undefined), ...HEADERS };
  components.parameters = { ...(components.parameters as Json | undefined), IdempotencyKey: IDEMPOTENCY_KEY };
  for (const item of Object.values((doc.paths ?? {}) as Record<string, Json>)) {
    for (const op of Object.values(item)) {
      if (!isObject(op)) continue;
      const meta = op[META] as DocMeta | undefined;
      delete op[META];
      const requestBody = op.requestBody;
      if (isObject(requestBody) && isObject(requestBody.content)) for (const media of Object.values(requestBody.content)) hoistNamed(media, schemas);
      if (!meta) continue;
      if (meta.idempotent) op.parameters = [...((op.parameters as unknown[] | undefined) ?? []), { $ref: '#/components/parameters/IdempotencyKey' }];
      for (const [status, response] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
        if (isObject(response.content)) for (const media of Object.values(response.content)) hoistNamed(media, schemas);
        const code = Number(status);
        const success = code < 400;
        const names: Array<keyof typeof HEADERS> = ['X-Request-Id'];
        if (meta.rateLimited && (success || code === 429)) names.push('X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset');
        if (code === 429 || (code === 503 && meta.shedsLoad)) names.push('Retry-After');
        if (meta.idempotent && success) names.push('Idempotent-Replayed');
        if (meta.etag && (code === 200 || code === 201 || code === 304)) names.push('ETag');
        if (meta.location && (code === 201 || (code >= 300 && code < 400))) names.push('Location');
        if (meta.disposition && code === 200) names.push('Content-Disposition');
        response.headers = { ...(response.headers as Json | undefined), ...Object.fromEntries(names.map((n) => [n, headerRef(n)])) };
      }
    }
  }
  return doc;
}

/** OpenAPI generated from the route schemas; the committed copy in openapi/ is checked by a test. */
export default fp(
  async (app) => {
    app.addSchema(Problem);
    const names = new Map<string, SeenName>();
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: API_INFO,
        servers: [{ url: '/' }],
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'An access token (JWT) from signup or login, or an API key (tck_...).' },
          },
          // Webhook payloads are referenced from the `webhooks` section only.
          schemas: Object.fromEntries(EVENT_TYPES.map((type) => [described(type).$id, described(type)])) as never,
        },
        security: [{ bearer: [] }],
        webhooks: webhookDocs(),
        tags: [
          { name: 'auth', description: 'Signup, login, tokens' },
          { name: 'members', description: 'People in the organization and their roles' },
          { name: 'api-keys', description: 'Keys for integrations' },
          { name: 'audit', description: 'Append-only audit log' },
          { name: 'catalog', description: 'Frameworks, controls and the typed crosswalk (read-only content; your overrides)' },
          { name: 'controls', description: 'Your Statement of Applicability: one versioned answer per control' },
          {
            name: 'profile',
            description: 'The organization profile: typed, versioned facts (hosting, data locations, recovery targets, ...) that answer questions directly',
          },
          { name: 'reports', description: 'Coverage and readiness reports' },
          { name: 'evidence', description: 'Evidence files and links, content-addressed, versioned, with validity dates' },
          { name: 'certifications', description: 'Certificates and attestation reports with computed status' },
          {
            name: 'questionnaires',
            description:
              "Import buyers' questionnaires, answer them with citations and confidence, review, export into their own file. " +
              'As team work: upload (POST /questionnaires) -> fill (POST /questionnaires/{id}/fill) -> assign questions or a section with a due date ' +
              '(POST /questionnaires/{id}/assignments; each member sees theirs in GET /my-work) -> discuss internally (POST .../questions/{questionId}/comments, ' +
              'never exported or shown to prospects) -> review and approve (PATCH .../questions/{questionId}, or a whole section with POST /questionnaires/{id}/section-actions) ' +
              "-> export into the buyer's file (GET /questionnaires/{id}/export?only=approved).",
          },
          { name: 'webhooks', description: 'Signed event deliveries (Standard Webhooks) with retries and a delivery log' },
          { name: 'mail', description: 'The mail outbox: e-mail waiting, sent and failed (SMTP_URL, MAIL_FROM)' },
          { name: 'trust', description: 'Trust page, public trust profile, access requests and NDA grants' },
          { name: 'documents', description: 'Trust-page documents: public, NDA-gated or private, versioned' },
          { name: 'accounts', description: "Customer accounts: a customer's questionnaires, NDA state and trust-page activity, gathered by e-mail domain" },
          { name: 'health', description: 'Liveness and readiness' },
        ],
      },
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
      transform: ({ schema, url, route }) => documentRoute(schema as RouteSchema | undefined, url, route, names),
      transformObject: (document) => documentObject((document as { openapiObject: Json }).openapiObject) as never,
    });
    await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  },
  { name: 'swagger' },
);
