// A thin typed client for the Trust Center API: openapi-fetch over the types that
// openapi-typescript generates from openapi/openapi.json (`npm run openapi` rebuilds schema.d.ts).
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths };
export type Problem = components['schemas']['Problem'];
export type TrustCenterClient = Client<paths>;

export interface ClientOptions {
  /** Where the API is served, e.g. `https://trust.example.com` (paths already start with /api/v1). */
  baseUrl: string;
  /** An API key (`tck_...`) or an access token from login. */
  token: string;
  /** A fetch implementation; the global one by default. */
  fetch?: typeof globalThis.fetch;
}

export function createTrustCenterClient(options: ClientOptions): TrustCenterClient {
  const client = createClient<paths>({ baseUrl: options.baseUrl.replace(/\/+$/, ''), fetch: options.fetch });
  client.use({
    onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${options.token}`);
      return request;
    },
  });
  return client;
}

export interface RetryOptions {
  /** Attempts after the first (default 4). */
  retries?: number;
  /** First backoff in ms, doubled each attempt, with jitter (default 500). */
  baseDelayMs?: number;
  /** Waits; replaceable in tests. */
  sleep?: (ms: number) => Promise<void>;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Seconds or an HTTP date, as Retry-After allows; undefined when absent or unreadable. */
function retryAfterMs(response: Response | undefined): number | undefined {
  const value = response?.headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * Sends a creating request until it gets an answer that is not worth retrying. Every attempt
 * carries the same Idempotency-Key, so a request that reached the server before the connection
 * dropped is answered from the first result instead of creating a second record.
 */
export async function withRetries<R extends { response: Response }>(
  send: (idempotencyKey: string, attempt: number) => Promise<R>,
  options: RetryOptions & { idempotencyKey?: string } = {},
): Promise<R> {
  const key = options.idempotencyKey ?? crypto.randomUUID();
  const retries = options.retries ?? 4;
  const base = options.baseDelayMs ?? 500;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 0; ; attempt++) {
    let result: R | undefined;
    let failure: unknown;
    try {
      result = await send(key, attempt);
    } catch (err) {
      failure = err; // network error or timeout: the server may or may not have acted
    }
    const status = result?.response.status;
    const retryable = result === undefined || RETRYABLE.has(status!);
    if (!retryable) return result!;
    if (attempt >= retries) {
      if (result) return result;
      throw failure;
    }
    const backoff = base * 2 ** attempt * (0.5 + Math.random() / 2);
    await sleep(retryAfterMs(result?.response) ?? backoff);
  }
}

/** The multipart fields of `POST /api/v1/evidence`, as the document declares them. */
export type EvidenceUpload = paths['/api/v1/evidence']['post']['requestBody']['content']['multipart/form-data'];

/** A FormData from declared fields: arrays repeat the field, files keep their name. */
export function toFormData(fields: Record<string, unknown>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === undefined || v === null) continue;
      if (v instanceof Blob) data.append(name, v, v instanceof File ? v.name : name);
      else data.append(name, String(v));
    }
  }
  return data;
}

/**
 * Uploads an evidence file, retrying with one Idempotency-Key. Each attempt builds a new FormData
 * (so a new multipart boundary): the server keys retries by the parsed fields and the file's
 * SHA-256, not by the raw bytes. Pass a `File` to send its name.
 */
export async function uploadEvidence(client: TrustCenterClient, upload: EvidenceUpload, retry: RetryOptions & { idempotencyKey?: string } = {}) {
  return withRetries(
    (idempotencyKey) =>
      client.POST('/api/v1/evidence', {
        params: { header: { 'Idempotency-Key': idempotencyKey } },
        body: upload,
        bodySerializer: (body) => toFormData(body as Record<string, unknown>),
      }),
    retry,
  );
}
