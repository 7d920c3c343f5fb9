import { promisify } from 'node:util';
import zlib from 'node:zlib';

// Content negotiation and encoded bodies for representations made once and served many times
// (the trust pages' cache); the compress plugin uses the same threshold and encodings.

/** Bodies below this many bytes go out as they are: the headers would cost more than we save. */
export const THRESHOLD = 1024;
export const ENCODINGS = ['br', 'gzip'] as const;
export type Encoding = (typeof ENCODINGS)[number];

// Brotli 6 on the demo page (35 KB): 8.7 KB in ~3 ms; 11 saves 1.3 KB more but costs ~170 ms per
// variant, and cached pages are rebuilt after every change and every minute.
export const BROTLI = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 6, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT } };
export const GZIP = { level: 6 };
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * The encoding to send for an Accept-Encoding header: br or gzip, whichever the client weighs
 * higher (br on a tie), or null for the body as it is. `*` stands for any encoding not named.
 */
export function preferredEncoding(header: string | string[] | undefined): Encoding | null {
  const weights = new Map<string, number>();
  for (const part of ([] as string[])
    .concat(header ?? [])
    .join(',')
    .split(',')) {
    const [token, ...params] = part.trim().toLowerCase().split(';');
    if (!token) continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((x) => x !== undefined);
    const weight = q === undefined ? 1 : Number(q);
    weights.set(token.trim(), Number.isFinite(weight) ? weight : 0);
  }
  let best: Encoding | null = null;
  let bestWeight = 0;
  for (const e of ENCODINGS) {
    const w = weights.get(e) ?? weights.get('*') ?? 0;
    if (w > bestWeight) [best, bestWeight] = [e, w];
  }
  return best;
}

export interface Representation {
  body: string;
  etag: string;
}

/**
 * A representation's ETag once encoded: each encoding is its own representation with its own
 * strong validator ("abc" -> "abc-br"), so a 304 only ever confirms the bytes the client holds.
 */
export const encodedEtag = (etag: string, encoding: Encoding) => `${etag.slice(0, -1)}-${encoding}"`;

/** Whether a body is worth encoding at all. */
export const worthEncoding = (rep: Representation) => rep.body.length >= THRESHOLD;

// Encoded bodies live as long as the representation object they were made from (the page cache
// drops a build's representations together), computed once, off the event loop.
const encoded = new WeakMap<Representation, Map<Encoding, Promise<Buffer>>>();

/** The representation's body in `encoding`, made once per representation and shared by every request. */
export function encodedBody(rep: Representation, encoding: Encoding): Promise<Buffer> {
  let byEncoding = encoded.get(rep);
  if (!byEncoding) encoded.set(rep, (byEncoding = new Map()));
  let body = byEncoding.get(encoding);
  if (!body) {
    const input = Buffer.from(rep.body);
    body =
      encoding === 'br' ? brotli(input, { ...BROTLI, params: { ...BROTLI.params, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: input.length } }) : gzip(input, GZIP);
    // A failure is not kept: the next request tries again.
    body.catch(() => byEncoding!.delete(encoding));
    byEncoding.set(encoding, body);
  }
  return body;
}
