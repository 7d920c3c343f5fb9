import fp from 'fastify-plugin';
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

/** The one place errors become answers: problem+json, a closed code list, and no internals on 5xx. */
export default fp(async (app) => {
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
    request.log.error({ err }, 'unhandled error');
    return sendProblem(reply, request, 'internal', `an unexpected error occurred; quote request id ${request.id} when reporting it`);
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, 'not_found', `no route for ${request.method} ${request.url.split('?')[0]}`),
  );
}, { name: 'errors' });
