/**
 * The closed list of error codes the API may answer with. Every failure a client can see maps to
 * exactly one of these; the problem+json mapping lives in plugins/errors.ts.
 */
export const ERROR_CODES = {
  validation_failed: { status: 400, title: 'Request validation failed' },
  bad_request: { status: 400, title: 'Bad request' },
  weak_password: { status: 400, title: 'Password too weak' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  invalid_credentials: { status: 401, title: 'Invalid credentials' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  slug_taken: { status: 409, title: 'Organization slug already taken' },
  email_taken: { status: 409, title: 'Email already registered' },
  version_conflict: { status: 409, title: 'Stale version' },
  gone: { status: 410, title: 'Gone' },
  precondition_failed: { status: 412, title: 'Precondition failed' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  idempotency_conflict: { status: 422, title: 'Idempotency key reused with a different request' },
  unprocessable: { status: 422, title: 'Unprocessable content' },
  precondition_required: { status: 428, title: 'Precondition required' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
  integrity_failed: { status: 500, title: 'Stored content failed its integrity check' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  field: string;
  message: string;
}

/** A failure the client is meant to see. Anything else thrown becomes a generic 500. */
export class DomainError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extras: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? ERROR_CODES[code].title);
    this.name = 'DomainError';
    this.status = ERROR_CODES[code].status;
  }
}

export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);
export const forbidden = (detail: string) => new DomainError('forbidden', detail);
export const badRequest = (detail: string, errors?: FieldError[]) => new DomainError('bad_request', detail, errors ? { errors } : {});

/** Postgres unique violation, whichever driver raised it. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = findPgError(err);
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

function findPgError(err: unknown): { code?: string; constraint?: string } | undefined {
  // drizzle wraps driver errors in `cause`; PGlite and pg both carry the SQLSTATE in `code`.
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const c = cur as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (typeof c.code === 'string' && /^[0-9A-Z]{5}$/.test(c.code)) {
      return { code: c.code, constraint: typeof c.constraint === 'string' ? c.constraint : undefined };
    }
    cur = c.cause;
  }
  return undefined;
}
