import { createHash } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import type { Clock } from '../lib/clock.js';
import { actorKey } from '../lib/context.js';
import { DomainError, isUniqueViolation } from '../lib/errors.js';
import { readMultipartDigest } from '../lib/multipart.js';
import { startPoller, type Poller } from '../lib/poller.js';
import { completeIdempotencyKey, dropIdempotencyKey, insertIdempotencyKey, liveIdempotencyKey, sweepIdempotencyKeys } from '../modules/idempotency/index.js';
import type { ReplaySealer } from '../modules/idempotency/index.js';

const TTL_MS = 24 * 3600_000;
const KEY = /^[\x21-\x7e]{1,255}$/;
/** Headers worth replaying; everything else (dates, request ids) belongs to the new response. */
const REPLAYED_HEADERS = ['content-type', 'location', 'etag', 'content-disposition'];

declare module 'fastify' {
  interface FastifyRequest {
    /** `bodyHash`: of a JSON body, known at once; a multipart body's comes from its reader, at onSend. */
    idempotency?: { orgId: string; key: string; principal: string; multipart: boolean; bodyHash: string | undefined; first: boolean };
  }
}

/** Canonical JSON: key order does not change the hash. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

function requestHash(req: FastifyRequest, bodyHash: string): string {
  return createHash('sha256').update(`${req.method} ${req.url}\n${bodyHash}`).digest('hex');
}

const jsonBodyHash = (req: FastifyRequest) =>
  createHash('sha256')
    .update(canonical(req.body ?? null))
    .digest('hex');

// Only routes that registered @fastify/multipart parse these; elsewhere the request is a 415 before any hook here.
const isMultipart = (req: FastifyRequest) => /^multipart\//i.test(req.headers['content-type'] ?? '');

/**
 * A first multipart request's body hash: the digest its handler's reader made (src/lib/multipart.ts),
 * or, when the handler never touched the body, one read now. Undefined when the body was read only
 * in part (a refusal mid-body): such a request cannot be recognized again, so it is not remembered.
 */
async function firstMultipartHash(req: FastifyRequest, maxFileBytes: number): Promise<string | undefined> {
  const digest = req.multipartDigest;
  if (digest) return digest.complete ? digest.digest() : undefined;
  if (req.raw.readableDidRead) return undefined; // read by something other than the shared readers
  return readMultipartDigest(req, maxFileBytes).catch(() => undefined);
}

/** The row a sealed answer belongs to: authenticated with it, so it opens for that row only. */
const sealContext = (orgId: string, key: string, principal: string) => `${orgId}\n${key}\n${principal}`;

export { sweepIdempotencyKeys };

/**
 * Idempotency-Key on authenticated POSTs: the same key and request within 24 hours answers the
 * first response again; the same key with a different request is a 422. JSON (and form) bodies are
 * hashed in canonical form; multipart bodies by their fields and each file's name, type and
 * SHA-256, whatever the boundary or part order, as the handler's reader saw them.
 * Stored answers are sealed (they may hold a secret shown once) and expired rows are swept every
 * `sweepIntervalMs` (default 15 minutes; 0: only the per-key cleanup on use). `maxBufferBytes`
 * bounds each file of a multipart body the plugin reads itself (hashed as it streams, never kept).
 */
export default fp<{ db: Db; clock: Clock; maxBufferBytes: number; sealer: ReplaySealer; sweepIntervalMs?: number }>(
  async (app, { db, clock, maxBufferBytes, sealer, sweepIntervalMs = 15 * 60_000 }) => {
    if (sweepIntervalMs > 0) {
      let sweeper: Poller | undefined;
      app.addHook('onReady', async () => {
        sweeper = startPoller('idempotency sweep', () => sweepIdempotencyKeys(db, clock()), sweepIntervalMs, app.log);
      });
      app.addHook('preClose', async () => sweeper?.stop());
    }

    app.addHook('preHandler', async (req, reply) => {
      const key = req.headers['idempotency-key'];
      if (req.method !== 'POST' || key === undefined || !req.principal) return;
      if (typeof key !== 'string' || !KEY.test(key)) {
        throw new DomainError('validation_failed', 'Idempotency-Key must be 1-255 visible ASCII characters', {
          errors: [{ field: 'headers/idempotency-key', message: 'invalid' }],
        });
      }
      const orgId = req.principal.orgId;
      const principal = actorKey(req.principal.actor);
      const multipart = isMultipart(req);
      const now = clock();
      const existing = await liveIdempotencyKey({ db, orgId }, key, now);
      if (!existing) {
        // A multipart body is read by the handler; its hash is recorded with the response.
        const bodyHash = multipart ? undefined : jsonBodyHash(req);
        try {
          await insertIdempotencyKey(db, {
            orgId,
            key,
            principal,
            method: req.method,
            path: req.url,
            requestHash: bodyHash === undefined ? '' : requestHash(req, bodyHash),
            createdAt: now,
            expiresAt: new Date(now.getTime() + TTL_MS),
          });
          req.idempotency = { orgId, key, principal, multipart, bodyHash, first: true };
          return;
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
          throw new DomainError('conflict', 'a request with this Idempotency-Key is in progress; retry shortly');
        }
      }
      const row = existing;
      if (row.state !== 'done') throw new DomainError('conflict', 'a request with this Idempotency-Key is in progress; retry shortly');
      // A replay never reaches the handler: its multipart body is read here, in the same canonical form.
      const hash = requestHash(req, multipart ? await readMultipartDigest(req, maxBufferBytes) : jsonBodyHash(req));
      if (row.requestHash !== hash || row.principal !== principal) {
        throw new DomainError('idempotency_conflict', 'this Idempotency-Key was used for a different request; use a new key');
      }
      const body = row.responseBody === null ? null : sealer.open(row.responseBody, sealContext(orgId, key, principal));
      if (body === undefined) {
        // Sealed under a server secret that has since changed (or altered): the answer, which may hold
        // a secret shown once, cannot be shown again. The request did run; it must not run twice.
        throw new DomainError(
          'conflict',
          'this Idempotency-Key was used and its first answer can no longer be shown (the server key that sealed it changed); a secret it held was shown once: look the object up, or revoke it and create a new one',
        );
      }
      reply.code(row.responseStatus!).headers({ ...row.responseHeaders, 'idempotent-replayed': 'true' });
      return reply.send(body);
    });

    app.addHook('onSend', async (req, reply, payload) => {
      const idem = req.idempotency;
      if (!idem?.first) return payload;
      idem.first = false;
      const bodyHash = idem.multipart ? await firstMultipartHash(req, maxBufferBytes) : idem.bodyHash;
      // Server errors, and bodies read only in part, are not remembered: the client may retry them with the same key.
      if (
        bodyHash === undefined ||
        reply.statusCode >= 500 ||
        (typeof payload !== 'string' && !Buffer.isBuffer(payload) && payload !== null && payload !== undefined)
      ) {
        await dropIdempotencyKey({ db, orgId: idem.orgId }, idem.key);
        return payload;
      }
      const headers: Record<string, string> = {};
      for (const h of REPLAYED_HEADERS) {
        const v = reply.getHeader(h);
        if (v !== undefined) headers[h] = String(v);
      }
      await completeIdempotencyKey({ db, orgId: idem.orgId }, idem.key, {
        requestHash: requestHash(req, bodyHash),
        responseStatus: reply.statusCode,
        responseHeaders: headers,
        responseBody: payload === null || payload === undefined ? null : sealer.seal(String(payload), sealContext(idem.orgId, idem.key, idem.principal)),
      });
      return payload;
    });

    // A request that died before sending (aborted connection) must not block its key for a day.
    app.addHook('onResponse', async (req) => {
      if (req.idempotency?.first) {
        await dropIdempotencyKey({ db, orgId: req.idempotency.orgId }, req.idempotency.key);
      }
    });
  },
  { name: 'idempotency', dependencies: ['auth'] },
);
