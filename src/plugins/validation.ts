import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

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
}
