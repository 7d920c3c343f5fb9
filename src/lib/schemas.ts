import { Type } from 'typebox';

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Machine-readable error code from a closed list.' }),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details (application/problem+json).' },
);

/** Adds the shared problem+json answers to a route's response map, so OpenAPI lists them too. */
export function withProblems<T extends Record<string, unknown>>(responses: T) {
  const problem = {
    description: 'Error (RFC 9457 problem details)',
    content: { 'application/problem+json': { schema: Type.Ref('Problem') } },
  };
  return { ...responses, '4xx': problem, '5xx': problem };
}

/** `T` or null, for optional values answered as null rather than left out. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const IdParam = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const Timestamp = Type.String({ format: 'date-time' });
