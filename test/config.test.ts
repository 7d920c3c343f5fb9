import t from 'tap';
import path from 'node:path';
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { ConfigError, loadConfig, redactUrl } from '../src/config.js';

t.test('defaults follow the design card', async (t) => {
  const c = loadConfig({}, '/srv/app');
  t.equal(c.port, 3000);
  t.equal(c.host, '0.0.0.0');
  t.equal(c.databaseUrl, undefined);
  t.equal(c.dataDir, path.resolve('/srv/app', '.data'));
  t.equal(c.seedDemo, true, 'demo on the embedded default');
  t.equal(c.logLevel, 'info');
  t.equal(c.openai, undefined);
});

t.test('PostgreSQL turns the demo off unless asked', async (t) => {
  const c = loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db' });
  t.equal(c.seedDemo, false);
  t.equal(loadConfig({ DATABASE_URL: 'postgres://u@h/db', SEED_DEMO: 'true' }).seedDemo, true);
});

t.test('openai settings', async (t) => {
  const c = loadConfig({ OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://127.0.0.1:9999/v1', OPENAI_MODEL: 'm' });
  t.match(c.openai, { apiKey: 'sk-x', baseUrl: 'http://127.0.0.1:9999/v1', model: 'm', embeddingModel: 'text-embedding-3-small' });
});

t.test('every problem is reported at once', async (t) => {
  try {
    loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://root:secret@h/db', LOG_LEVEL: 'loud', SEED_DEMO: 'maybe', JWT_PRIVATE_KEY: 'nope' });
    t.fail('should throw');
  } catch (err) {
    t.type(err, ConfigError);
    const problems = (err as ConfigError).problems;
    t.equal(problems.length, 5);
    t.match(problems.join('\n'), /PORT[\s\S]*DATABASE_URL[\s\S]*SEED_DEMO[\s\S]*LOG_LEVEL[\s\S]*JWT_PRIVATE_KEY/);
    t.notMatch(problems.join('\n'), /secret/, 'passwords in URLs are not echoed');
  }
});

t.test('redactUrl', async (t) => {
  t.equal(redactUrl('postgres://user:pw@host/db'), 'postgres://user:***@host/db');
  t.equal(redactUrl('postgres://host/db'), 'postgres://host/db');
});

t.test('the embedded engine: PostgreSQL by default, PGlite on request, a port when given', async (t) => {
  t.same(loadConfig({}).embedded, { engine: 'postgres', port: undefined });
  t.same(loadConfig({ EMBEDDED_DB: 'pglite' }).embedded, { engine: 'pglite', port: undefined });
  t.same(loadConfig({ EMBEDDED_PG_PORT: '54329' }).embedded, { engine: 'postgres', port: 54329 });
  try {
    loadConfig({ EMBEDDED_DB: 'sqlite', EMBEDDED_PG_PORT: '80' });
    t.fail('should throw');
  } catch (err) {
    t.match((err as ConfigError).problems, [/EMBEDDED_DB must be postgres or pglite/, /EMBEDDED_PG_PORT must be an integer from 1024/]);
  }
});

t.test('the fill job lease: 30 s by default, in seconds from JOB_LEASE_SECONDS, bounded', async (t) => {
  t.equal(loadConfig({}).jobs.leaseMs, 30_000);
  t.equal(loadConfig({ JOB_LEASE_SECONDS: '5' }).jobs.leaseMs, 5_000);
  t.throws(() => loadConfig({ JOB_LEASE_SECONDS: '1' }), /JOB_LEASE_SECONDS must be an integer from 3 to 3600/);
  t.throws(() => loadConfig({ JOB_LEASE_SECONDS: 'soon' }), /JOB_LEASE_SECONDS/);
});

t.test('the per-credential API rate limit: 600 a minute by default, from RATE_LIMIT_API_PER_MINUTE, bounded', async (t) => {
  t.equal(loadConfig({}).limits.apiPerMinute, 600);
  t.equal(loadConfig({ RATE_LIMIT_API_PER_MINUTE: '50' }).limits.apiPerMinute, 50);
  t.throws(() => loadConfig({ RATE_LIMIT_API_PER_MINUTE: '0' }), /RATE_LIMIT_API_PER_MINUTE must be an integer from 1 to 1000000 \(got "0"\)/);
  t.throws(() => loadConfig({ RATE_LIMIT_API_PER_MINUTE: 'lots' }), /RATE_LIMIT_API_PER_MINUTE/);
});

t.test('KEY_ENCRYPTION_KEY: 32 bytes as base64 or hex, never echoed', async (t) => {
  const bytes = randomBytes(32);
  t.equal(loadConfig({}).auth.keyEncryptionKey, undefined, 'unset: keys in DATA_DIR, as before');
  for (const [form, raw] of [
    ['base64', bytes.toString('base64')],
    ['base64url', bytes.toString('base64url')],
    ['hex', bytes.toString('hex')],
    ['HEX', bytes.toString('hex').toUpperCase()],
  ] as const) {
    const kek = loadConfig({ KEY_ENCRYPTION_KEY: ` ${raw} ` }).auth.keyEncryptionKey;
    t.ok(kek?.export().equals(bytes), `${form}: the same 32 bytes`);
  }
  const kek = loadConfig({ KEY_ENCRYPTION_KEY: bytes.toString('base64') }).auth.keyEncryptionKey;
  t.notOk(
    inspect(kek).includes(bytes.toString('hex')) || JSON.stringify({ kek }).includes(bytes.toString('base64')),
    'a KeyObject: printing it shows no bytes',
  );

  const secretish = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=';
  for (const bad of [
    secretish,
    randomBytes(31).toString('base64'),
    randomBytes(33).toString('hex'),
    randomBytes(32).toString('hex').slice(1) + 'g',
    'correct horse battery staple',
  ]) {
    try {
      loadConfig({ KEY_ENCRYPTION_KEY: bad });
      t.fail(`accepted ${bad.length} characters`);
    } catch (err) {
      t.type(err, ConfigError);
      t.match((err as ConfigError).problems, [/^KEY_ENCRYPTION_KEY must be 32 random bytes as base64 .* or 64 hex characters \(got \d+ characters\)$/]);
      t.notMatch((err as ConfigError).message, bad, 'the value is not echoed');
    }
  }
  // Both set: JWT_PRIVATE_KEY decides (the app logs that KEY_ENCRYPTION_KEY is ignored).
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const both = loadConfig({ KEY_ENCRYPTION_KEY: bytes.toString('hex'), JWT_PRIVATE_KEY: pem.replace(/\n/g, '\\n') });
  t.ok(both.auth.signingKeyPem && both.auth.keyEncryptionKey, 'both kept; precedence is decided in buildApp');
});

t.test('blob storage: files under DATA_DIR by default, an S3-compatible bucket with BLOB_STORE=s3', async (t) => {
  t.same(loadConfig({}).blobs, { store: 'fs' });
  t.same(loadConfig({ BLOB_STORE: 'fs' }).blobs, { store: 'fs' });
  const c = loadConfig({
    BLOB_STORE: 's3',
    S3_ENDPOINT: 'http://127.0.0.1:9000',
    S3_BUCKET: 'trust-files',
    S3_REGION: 'eu-central-1',
    S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
    S3_SECRET_ACCESS_KEY: 'secret-example',
    S3_FORCE_PATH_STYLE: 'true',
    S3_PREFIX: 'prod/',
  });
  t.match(c.blobs, {
    store: 's3',
    s3: { endpoint: 'http://127.0.0.1:9000', bucket: 'trust-files', region: 'eu-central-1', forcePathStyle: true, prefix: 'prod/' },
  });
  const s3 = c.blobs.store === 's3' ? c.blobs.s3 : undefined;
  t.equal(s3?.credentials?.accessKeyId, 'AKIAEXAMPLE');
  t.equal(s3?.credentials?.secretAccessKey, 'secret-example', 'the secret is there for the client');

  // AWS S3 itself with the SDK's default credentials: bucket and region are all it takes.
  t.same(loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'b', S3_REGION: 'us-east-1' }).blobs, {
    store: 's3',
    s3: { endpoint: undefined, bucket: 'b', region: 'us-east-1', credentials: undefined, forcePathStyle: false, prefix: '' },
  });
});

t.test('blob storage: every S3 problem at once, and the secret in none of them', async (t) => {
  try {
    loadConfig({ BLOB_STORE: 's3', S3_ENDPOINT: 'ftp://files', S3_SECRET_ACCESS_KEY: 'top-secret-value', S3_FORCE_PATH_STYLE: 'sometimes', S3_PREFIX: '/abs' });
    t.fail('should throw');
  } catch (err) {
    const problems = (err as ConfigError).problems;
    t.match(problems, [
      /S3_BUCKET is required when BLOB_STORE=s3/,
      /S3_REGION is required when BLOB_STORE=s3/,
      /S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together/,
      /S3_PREFIX must not start with "\/"/,
      /S3_ENDPOINT must be a http: or https: URL/,
      /S3_FORCE_PATH_STYLE must be true or false/,
    ]);
    t.equal(problems.length, 6);
    t.notMatch(problems.join('\n'), 'top-secret-value');
  }
  t.throws(() => loadConfig({ BLOB_STORE: 'disk' }), /BLOB_STORE must be fs or s3 \(got "disk"\)/);
  t.throws(() => loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'my bucket', S3_REGION: 'x' }), /S3_BUCKET must be a bucket name/);
  t.throws(() => loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'b', S3_REGION: 'x', S3_ACCESS_KEY_ID: 'AKIA' }), /must be set together/);
});

t.test('the S3 secret does not show when the configuration is serialized or inspected', async (t) => {
  const c = loadConfig({ BLOB_STORE: 's3', S3_BUCKET: 'b', S3_REGION: 'r', S3_ACCESS_KEY_ID: 'AKIAVISIBLE', S3_SECRET_ACCESS_KEY: 'hidden-secret-value' });
  t.match(JSON.stringify(c), 'AKIAVISIBLE', 'the key id is not secret');
  t.notMatch(JSON.stringify(c), 'hidden-secret-value');
  t.notMatch(inspect(c, { depth: 10 }), 'hidden-secret-value');
});

t.test('JWT_PRIVATE_KEY: an EC P-256 key as PKCS#8 or SEC1 PEM; anything else is named at start', async (t) => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pkcs8 = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  t.equal(
    loadConfig({ JWT_PRIVATE_KEY: pkcs8 }).auth.signingKeyPem,
    pkcs8.trim(),
    'PKCS#8 is kept as given, trimmed as before (derived keys come from its text)',
  );
  t.equal(
    loadConfig({ JWT_PRIVATE_KEY: pkcs8.trim().replace(/\n/g, '\\n') }).auth.signingKeyPem,
    pkcs8.trim(),
    'escaped newlines, as one-line environments carry it',
  );

  // `openssl ecparam -genkey` writes SEC1; it is the same key, handed on as PKCS#8.
  const sec1 = privateKey.export({ format: 'pem', type: 'sec1' }).toString();
  const converted = loadConfig({ JWT_PRIVATE_KEY: sec1 }).auth.signingKeyPem!;
  t.match(converted, /^-----BEGIN PRIVATE KEY-----/);
  t.same(createPrivateKey(converted).export({ format: 'jwk' }), privateKey.export({ format: 'jwk' }), 'the same key');

  const refused: Array<[string, string, RegExp]> = [
    ['garbage', 'not a key', /^JWT_PRIVATE_KEY must be an EC P-256 private key in PEM .*openssl genpkey/],
    ['a public key', createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }).toString(), /^JWT_PRIVATE_KEY must be an EC P-256 private key in PEM/],
    [
      'RSA',
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      /^JWT_PRIVATE_KEY must be an EC P-256 key for ES256 \(got rsa\)/,
    ],
    [
      'P-384',
      generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      /^JWT_PRIVATE_KEY must be an EC P-256 key for ES256 \(got ec secp384r1\)/,
    ],
    ['Ed25519', generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), /\(got ed25519\)/],
  ];
  for (const [what, value, message] of refused) {
    try {
      loadConfig({ JWT_PRIVATE_KEY: value });
      t.fail(`accepted ${what}`);
    } catch (err) {
      t.type(err, ConfigError, what);
      t.match((err as ConfigError).problems, [message], what);
      const body = value.split('\n')[1] ?? value;
      t.notOk((err as ConfigError).message.includes(body), `${what}: the key is not echoed`);
    }
  }
});
