import fs from 'node:fs/promises';
import path from 'node:path';
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import { invalidCursor } from '../lib/pagination.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Signs a service cursor for this request's list, for answers that carry it outside a JSON body (a header). */
    signCursor(inner: string): string;
  }
}

const MAC_BYTES = 16;
// base64url of a 16-byte MAC, after the base64url of the service's own cursor.
const SIGNED = /^([A-Za-z0-9_-]{1,400})\.([A-Za-z0-9_-]{22})$/;

/**
 * Signs list cursors (HMAC-SHA256, truncated to 128 bits) over the list they page: method, route
 * pattern, path parameters and organization. A cursor from another list, another organization or
 * edited by hand is refused before the service reads it, so services see only cursors they issued.
 */
export class CursorSigner {
  private readonly key: Buffer;

  constructor(secret: Buffer | string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'trustcenter-cursor', 'list cursor v1', 32));
  }

  /**
   * From the configured JWT_PRIVATE_KEY or the database's root secret (replicas share either),
   * else from the secret generated once under DATA_DIR that also seals idempotency replays
   * (`dir/replay.key`, see modules/idempotency/seal.ts); HKDF with its own label keeps the two
   * keys independent.
   */
  static async open(opts: { dir: string; pem?: string }): Promise<CursorSigner> {
    if (opts.pem) return new CursorSigner(opts.pem);
    await fs.mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const file = path.join(opts.dir, 'replay.key');
    try {
      await fs.writeFile(file, randomBytes(32), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      // The sealer (or another replica on the same DATA_DIR) wrote it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return new CursorSigner(await fs.readFile(file));
  }

  private mac(list: string, inner: string): Buffer {
    return createHmac('sha256', this.key).update(list).update('\n').update(inner).digest().subarray(0, MAC_BYTES);
  }

  sign(list: string, inner: string): string {
    const body = Buffer.from(inner, 'utf8').toString('base64url');
    return `${body}.${this.mac(list, body).toString('base64url')}`;
  }

  /** The service's cursor, or undefined when this one was not issued for `list` with this key. */
  open(list: string, cursor: string): string | undefined {
    const m = SIGNED.exec(cursor);
    if (!m) return undefined;
    const given = Buffer.from(m[2]!, 'base64url');
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, this.mac(list, m[1]!))) return undefined;
    return Buffer.from(m[1]!, 'base64url').toString('utf8');
  }
}

/** The list a request reads: HEAD pages as its GET does; the organization comes from the credential. */
export function listOf(request: FastifyRequest): string {
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  return [`${method} ${request.routeOptions.url ?? ''}`, request.principal?.orgId ?? '', JSON.stringify(request.params ?? {})].join('\n');
}

const isApi = (request: FastifyRequest) => request.routeOptions.url?.startsWith('/api/v1/') === true;

export default fp<{ signer: CursorSigner }>(
  async (app, { signer }) => {
    app.decorateRequest('signCursor', function (this: FastifyRequest, inner: string) {
      return signer.sign(listOf(this), inner);
    });

    // After validation: the route's schema has already bounded the cursor's length and type.
    app.addHook('preHandler', async (request) => {
      if (!isApi(request)) return;
      const query = request.query as Record<string, unknown> | undefined;
      // An empty cursor is left to the service, as before (most read it as the first page).
      if (!query || typeof query.cursor !== 'string' || query.cursor === '') return;
      const inner = signer.open(listOf(request), query.cursor);
      if (inner === undefined) throw invalidCursor();
      query.cursor = inner;
    });

    app.addHook('preSerialization', async (request, _reply, payload: unknown) => {
      if (!isApi(request) || payload === null || typeof payload !== 'object' || Array.isArray(payload)) return payload;
      const next = (payload as { nextCursor?: unknown }).nextCursor;
      if (typeof next !== 'string') return payload;
      return { ...(payload as object), nextCursor: signer.sign(listOf(request), next) };
    });
  },
  { name: 'cursors', dependencies: ['auth'] },
);
