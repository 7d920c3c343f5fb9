import { Type, type Static } from 'typebox';
import { DomainError } from './errors.js';

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'Page size (1-200).' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'The `nextCursor` of the previous page.' })),
});
export type PageQuery = Static<typeof PageQuery>;

export const pageOf = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' }),
  });

/** Opaque cursors: the last row's time-ordered id, so pages stay stable while rows are inserted. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ k: lastId })).toString('base64url');
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** The keys lists page on: a row id, a position in a questionnaire, or both (the review queue). */
const KEY_SHAPES = {
  uuid: new RegExp(`^${UUID}$`, 'i'),
  position: /^\d{1,9}$/,
  'uuid:position': new RegExp(`^${UUID}:\\d{1,9}$`, 'i'),
  // A due date (epoch milliseconds, `-` for none) and a row id: lists ordered by due date.
  'due:uuid': new RegExp(`^(\\d{1,15}|-):${UUID}$`, 'i'),
} as const;
export type CursorKeyShape = keyof typeof KEY_SHAPES;

/**
 * The key inside a cursor, checked against the shapes the caller pages on (by default any shape a
 * list issues), so a key that is not one never reaches a query as a uuid or integer (a 500 there).
 * The signature over the list (plugins/cursors.ts) is the first check; this is the second.
 */
export function decodeCursor(cursor: string | undefined, shapes: readonly CursorKeyShape[] = ['uuid', 'position', 'uuid:position']): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    const k = parsed?.k;
    if (typeof k === 'string' && shapes.some((s) => KEY_SHAPES[s].test(k))) return k;
  } catch {
    // fall through to the error below
  }
  throw invalidCursor();
}

/** The one answer to a cursor this API did not issue (keyset, offset or version cursors alike). */
export function invalidCursor(): DomainError {
  return new DomainError('validation_failed', 'cursor is not a cursor this API issued', {
    errors: [{ field: 'querystring/cursor', message: 'invalid cursor' }],
  });
}

/** Given rows fetched with limit + 1, returns the page and the cursor to the next one. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => string): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
