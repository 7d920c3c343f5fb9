import { Type } from 'typebox';
import { ERROR_CODES, type ErrorCode } from './errors.js';

/** Where each error code is explained, one section per code (`#<code>`). */
export const ERROR_DOCS = 'docs/errors.md';

export const Problem = Type.Object(
  {
    type: Type.String({
      format: 'uri',
      pattern: '^urn:trustcenter:problem:[a-z_]+$',
      description: `\`urn:trustcenter:problem:<code>\`: a stable identifier of the problem type; its explanation is the code's section of ${ERROR_DOCS} (\`${ERROR_DOCS}#<code>\`).`,
    }),
    title: Type.String({ description: 'The short, fixed title of the code.' }),
    status: Type.Integer({ minimum: 400, maximum: 599, description: 'The HTTP status, repeated.' }),
    detail: Type.String({ description: 'What went wrong in this request, for a person to read.' }),
    code: Type.Enum(Object.keys(ERROR_CODES) as ErrorCode[], {
      description: `Machine-readable error code from a closed list; each has a section in ${ERROR_DOCS} (\`${ERROR_DOCS}#<code>\`) with its status, when it happens and what a client should do.`,
    }),
    requestId: Type.String({ description: 'The request id, also in the `x-request-id` header; quote it when reporting a problem.' }),
    errors: Type.Optional(
      Type.Array(
        Type.Object({
          field: Type.String({
            description: 'Where: `body/<path>`, `querystring/<name>`, `params/<name>`, `headers/<name>`, or `row <n>/<column>` for file imports.',
          }),
          message: Type.String(),
        }),
        { description: 'One entry per invalid field (validation_failed, unprocessable imports).' },
      ),
    ),
  },
  {
    $id: 'Problem',
    description: 'RFC 9457 problem details (application/problem+json).',
    examples: [
      {
        type: 'urn:trustcenter:problem:validation_failed',
        title: 'Request validation failed',
        status: 400,
        detail: 'body/status must be equal to one of the allowed values',
        code: 'validation_failed',
        requestId: '0197a5c2-5b1e-7c3d-9f00-2a4b6c8d0e1f',
        errors: [{ field: 'body/status', message: 'must be equal to one of the allowed values' }],
      },
    ],
  },
);

/**
 * The marker withProblems leaves on the shared error answers: the codes a route declares beyond
 * those the OpenAPI transform derives itself (plugins/swagger.ts). Documentation only.
 */
export const DECLARED_ERRORS = 'x-error-codes';

/**
 * Adds the shared problem+json answers to a route's response map. `codes` names the errors the
 * route may answer beyond the ones every route of its kind can (input, credentials, path
 * parameters, idempotency, rate limits: derived centrally), e.g. `version_conflict`; the
 * OpenAPI document lists one response per status with the codes possible there.
 */
export function withProblems<T extends Record<string, unknown>>(responses: T, codes: readonly ErrorCode[] = []) {
  const problem = {
    description: 'Error (RFC 9457 problem details)',
    content: { 'application/problem+json': { schema: Type.Ref('Problem') } },
  };
  return { ...responses, '4xx': { ...problem, [DECLARED_ERRORS]: [...codes] }, '5xx': problem };
}

/** `T` or null, for optional values answered as null rather than left out. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const IdParam = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const Timestamp = Type.String({ format: 'date-time' });
