// Response compression: the trust page's cached representations go out br- or gzip-encoded, with
// an ETag per encoding so 304s stay exact; other routes are encoded per response by
// @fastify/compress; downloads go out byte for byte.
import t from 'tap';
import zlib from 'node:zlib';
import { preferredEncoding } from '../../../src/lib/encoding.js';
import { signup, testApp } from '../../helpers/app.js';
import { multipart } from '../../helpers/multipart.js';

const decode = (encoding: string | undefined, body: Buffer) =>
  encoding === 'br' ? zlib.brotliDecompressSync(body) : encoding === 'gzip' ? zlib.gunzipSync(body) : body;

t.test('Accept-Encoding: br or gzip, by weight, br on a tie', async (t) => {
  t.equal(preferredEncoding('gzip, deflate, br'), 'br');
  t.equal(preferredEncoding('gzip'), 'gzip');
  t.equal(preferredEncoding('br;q=0.5, gzip;q=0.8'), 'gzip');
  t.equal(preferredEncoding('br;q=0, gzip'), 'gzip', 'q=0 refuses an encoding');
  t.equal(preferredEncoding('*'), 'br');
  t.equal(preferredEncoding('*;q=0, gzip'), 'gzip');
  t.equal(preferredEncoding('identity'), null);
  t.equal(preferredEncoding('deflate'), null);
  t.equal(preferredEncoding(undefined), null);
  t.equal(preferredEncoding(''), null);
  t.equal(preferredEncoding(['gzip', 'br;q=0.1']), 'gzip', 'repeated headers count together');
});

t.test('compressed trust page, JSON, trust.json, llms.txt and stylesheet', async (t) => {
  const app = await testApp(t);
  const a = await signup(app, 'gz');
  const put = await app.inject({
    method: 'PUT',
    url: '/api/v1/trust-page',
    headers: a.auth,
    payload: {
      published: true,
      headline: 'Compressed',
      overview: 'A page long enough to be worth compressing. '.repeat(40),
      faq: [{ question: 'Do you compress responses?', answer: 'Yes, with br or gzip when the client asks.' }],
    },
  });
  t.equal(put.statusCode, 200, put.body);
  const doc = multipart({ title: 'Plain notes', visibility: 'public' }, [{ filename: 'notes.txt', content: 'word '.repeat(2000), contentType: 'text/plain' }]);
  const created = await app.inject({ method: 'POST', url: '/api/v1/documents', headers: { ...a.auth, ...doc.headers }, payload: doc.payload });
  t.equal(created.statusCode, 201, created.body);

  const urls = [`/trust/${a.slug}`, `/api/v1/public/trust/${a.slug}`, `/trust/${a.slug}/trust.json`, `/trust/${a.slug}/llms.txt`, '/trust/assets/trust.css'];
  for (const url of urls) {
    await t.test(url, async (t) => {
      const plain = await app.inject({ method: 'GET', url });
      t.equal(plain.statusCode, 200);
      t.equal(plain.headers['content-encoding'], undefined, 'no encoding unless asked');
      t.match(plain.headers.vary, /accept-encoding/i);
      const etag = plain.headers.etag as string;
      t.match(etag, /^"[^"]+"$/, 'a strong ETag');
      for (const encoding of ['br', 'gzip'] as const) {
        const r = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': encoding } });
        t.equal(r.statusCode, 200);
        t.equal(r.headers['content-encoding'], encoding);
        t.match(r.headers.vary, /accept-encoding/i);
        t.ok(r.rawPayload.length < plain.rawPayload.length, `${encoding} is smaller (${r.rawPayload.length} < ${plain.rawPayload.length} bytes)`);
        t.equal(Number(r.headers['content-length']), r.rawPayload.length, 'Content-Length is the encoded length');
        t.same(decode(encoding, r.rawPayload), plain.rawPayload, `${encoding} decodes to the same bytes`);
        t.equal(r.headers['content-type'], plain.headers['content-type']);
        t.equal(r.headers['content-security-policy'], plain.headers['content-security-policy'], 'the same headers otherwise');
        // Each encoding is its own representation: its own strong ETag, and only that one is fresh.
        const encodedTag = r.headers.etag as string;
        t.equal(encodedTag, `${etag.slice(0, -1)}-${encoding}"`);
        const fresh = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': encoding, 'if-none-match': encodedTag } });
        t.equal(fresh.statusCode, 304);
        t.equal(fresh.headers.etag, encodedTag);
        t.equal(fresh.rawPayload.length, 0);
        const weak = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': encoding, 'if-none-match': `W/${encodedTag}` } });
        t.equal(weak.statusCode, 304, 'a weak form of the tag matches too (If-None-Match compares weakly)');
        const other = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': encoding, 'if-none-match': etag } });
        t.equal(other.statusCode, 200, 'the identity tag does not vouch for the encoded bytes');
        t.equal(other.headers['content-encoding'], encoding);
        // The encoded body is made once and reused: the second answer is byte-identical.
        const again = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': encoding } });
        t.same(again.rawPayload, r.rawPayload);
      }
      const backToPlain = await app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
      t.equal(backToPlain.statusCode, 304, 'the identity ETag still revalidates the identity body');
    });
  }

  await t.test('a changed page gets new encoded bodies and tags', async (t) => {
    const before = await app.inject({ method: 'GET', url: `/trust/${a.slug}`, headers: { 'accept-encoding': 'br' } });
    await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: a.auth, payload: { headline: 'Compressed, and changed' } });
    const after = await app.inject({
      method: 'GET',
      url: `/trust/${a.slug}`,
      headers: { 'accept-encoding': 'br', 'if-none-match': before.headers.etag as string },
    });
    t.equal(after.statusCode, 200);
    t.not(after.headers.etag, before.headers.etag);
    t.match(decode('br', after.rawPayload).toString(), /Compressed, and changed/);
  });

  await t.test('small bodies go out as they are', async (t) => {
    const theme = await app.inject({ method: 'GET', url: `/trust/${a.slug}/theme.css`, headers: { 'accept-encoding': 'br, gzip' } });
    t.equal(theme.statusCode, 200);
    t.equal(theme.headers['content-encoding'], undefined);
    t.match(theme.body, /--brand/);
  });

  await t.test('HEAD answers the encoded headers without a body', async (t) => {
    const r = await app.inject({ method: 'HEAD', url: `/trust/${a.slug}`, headers: { 'accept-encoding': 'gzip' } });
    t.equal(r.statusCode, 200);
    t.equal(r.headers['content-encoding'], 'gzip');
    t.equal(r.rawPayload.length, 0);
  });

  await t.test('other routes are compressed per response by the plugin', async (t) => {
    const plain = await app.inject({ method: 'GET', url: '/api/v1/frameworks/iso27001-2022/controls', headers: a.auth });
    t.equal(plain.statusCode, 200);
    t.ok(plain.rawPayload.length > 1024);
    for (const encoding of ['br', 'gzip'] as const) {
      const r = await app.inject({ method: 'GET', url: '/api/v1/frameworks/iso27001-2022/controls', headers: { ...a.auth, 'accept-encoding': encoding } });
      t.equal(r.headers['content-encoding'], encoding);
      t.same(JSON.parse(decode(encoding, r.rawPayload).toString()), plain.json());
    }
    const search = await app.inject({ method: 'GET', url: `/trust/${a.slug}/search?q=compress`, headers: { 'accept-encoding': 'gzip' } });
    t.equal(search.statusCode, 200);
    t.equal(search.headers['content-encoding'], 'gzip');
    t.match(decode('gzip', search.rawPayload).toString(), /Do you <mark>compress<\/mark> responses\?/);
  });

  await t.test('downloads go out byte for byte, their digest intact', async (t) => {
    const url = `/trust/${a.slug}/documents/${created.json().id}`;
    const r = await app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'br, gzip' } });
    t.equal(r.statusCode, 200);
    t.equal(r.headers['content-encoding'], undefined);
    t.equal(r.body, 'word '.repeat(2000));
    t.match(r.headers['repr-digest'], /^sha-256=:/);
  });

  await t.test('request bodies are not decompressed: an encoded upload is refused as before', async (t) => {
    const body = zlib.gzipSync(JSON.stringify({ email: 'x@example.com', password: 'nope' }));
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: body,
    });
    t.equal(r.statusCode, 400);
  });
});
