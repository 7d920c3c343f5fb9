import t from 'tap';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createTrustCenterClient, toFormData, uploadEvidence, withRetries } from '../clients/typescript/index.js';
import { CLIENT_TYPES_FILE, renderClientTypes } from '../scripts/client-types.js';
import { signup, testApp } from './helpers/app.js';

t.test("the typed client's committed types are generated from the current document", async (t) => {
  const app = await testApp(t);
  await app.ready();
  t.equal(fs.readFileSync(CLIENT_TYPES_FILE, 'utf8'), await renderClientTypes(app.swagger()), 'clients/typescript/schema.d.ts is stale: run `npm run openapi`');
});

t.test('the client uploads evidence over HTTP and a retry after a dropped answer replays it', async (t) => {
  const app = await testApp(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const owner = await signup(app, 'client');
  const key = (await app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: owner.auth, payload: { name: 'ci uploader', role: 'editor' } })).json()
    .key as string;

  // The first answer reaches the client's network layer and is lost there, as a connection
  // dropped after the server acted would lose it; the client sends again with the same key.
  let attempts = 0;
  const keys: string[] = [];
  const droppingFetch: typeof fetch = async (input, init) => {
    attempts++;
    const request = input instanceof Request ? input : new Request(input, init);
    keys.push(request.headers.get('idempotency-key') ?? '');
    const response = await fetch(request);
    if (attempts === 1) {
      await response.arrayBuffer();
      throw new TypeError('fetch failed: connection reset');
    }
    return response;
  };
  const client = createTrustCenterClient({ baseUrl, token: key, fetch: droppingFetch });
  const file = new File([Buffer.from('%PDF-1.4 scan report\n')], 'scan.pdf', { type: 'application/pdf' });
  const slept: number[] = [];
  const { data, error, response } = await uploadEvidence(
    client,
    { file, title: 'Quarterly scan', controls: ['A.8.8'], useForAnswers: false },
    {
      sleep: async (ms) => {
        slept.push(ms);
      },
    },
  );
  t.notOk(error, 'no error');
  t.equal(response.status, 201);
  t.equal(response.headers.get('idempotent-replayed'), 'true', 'the second attempt is the first answer replayed');
  t.equal(attempts, 2);
  t.equal(new Set(keys).size, 1, 'both attempts carry one Idempotency-Key');
  t.equal(slept.length, 1, 'one backoff between the attempts');
  t.ok(data?.id);

  const list = await client.GET('/api/v1/evidence', { params: { query: { limit: 50 } } });
  t.equal(list.response.status, 200);
  t.same(
    list.data?.items.map((e) => e.id),
    [data!.id],
    'one evidence item, not two',
  );
  t.match(list.response.headers.get('x-ratelimit-remaining'), /^\d+$/, 'rate-limit headers reach the client');

  // A request the server refuses is answered at once, with the problem body typed.
  const bad = await client.GET('/api/v1/evidence', { params: { query: { limit: 500 } } });
  t.equal(bad.response.status, 400);
  t.equal(bad.error?.code, 'validation_failed');
});

t.test('withRetries retries what may succeed later, honours Retry-After and stops on a definite answer', async (t) => {
  const slept: number[] = [];
  const sleep = async (ms: number) => {
    slept.push(ms);
  };
  const answers = [503, 429, 201];
  const seenKeys = new Set<string>();
  const r = await withRetries(
    async (key) => {
      seenKeys.add(key);
      const status = answers.shift()!;
      return { response: new Response(null, { status, headers: status === 429 ? { 'retry-after': '7' } : {} }) };
    },
    { sleep, baseDelayMs: 100 },
  );
  t.equal(r.response.status, 201);
  t.equal(seenKeys.size, 1);
  t.equal(slept.length, 2);
  t.ok(slept[0]! >= 50 && slept[0]! <= 100, 'jittered backoff for the 503');
  t.equal(slept[1], 7000, 'Retry-After of the 429');

  let calls = 0;
  const definite = await withRetries(
    async () => {
      calls++;
      return { response: new Response(null, { status: 422 }) };
    },
    { sleep },
  );
  t.equal(definite.response.status, 422);
  t.equal(calls, 1, 'a 422 is not retried');

  let failures = 0;
  await t.rejects(
    withRetries(
      async () => {
        failures++;
        throw new TypeError('fetch failed');
      },
      { sleep, retries: 2 },
    ),
    /fetch failed/,
  );
  t.equal(failures, 3, 'the first attempt and two retries, then the network error');
});

t.test('toFormData repeats arrays, names files and skips absent fields', async (t) => {
  const data = toFormData({
    title: 'x',
    controls: ['A.8.5', 'A.8.8'],
    file: new File(['a'], 'a.txt'),
    blob: new Blob(['b']),
    none: undefined,
    nothing: null,
    flag: false,
  });
  t.same(data.getAll('controls'), ['A.8.5', 'A.8.8']);
  t.equal((data.get('file') as File).name, 'a.txt');
  t.equal((data.get('blob') as File).name, 'blob');
  t.notOk(data.has('none'));
  t.notOk(data.has('nothing'));
  t.equal(data.get('flag'), 'false');
});
