import path from 'node:path';

/** The validated, typed configuration. Read once at boot; nothing reads process.env afterwards. */
export interface Config {
  port: number;
  host: string;
  /** Unset: embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  seedDemo: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Base URL used in links the API hands out (grant URLs, docs); defaults to http://localhost:PORT. */
  publicUrl: string;
  auth: {
    issuer: string;
    audience: string;
    accessTokenTtlSeconds: number;
    /** PKCS#8 PEM of an ES256 private key; unset: a key pair generated once and kept in `dataDir`. */
    signingKeyPem: string | undefined;
  };
  limits: {
    bodyBytes: number;
    /** Largest evidence or document upload. */
    uploadBytes: number;
    authPerMinute: number;
    publicPerMinute: number;
  };
  /** An external OpenID Connect issuer whose access tokens are accepted. */
  sso: {
    issuer: string;
    audience: string;
    jwksUrl: string | undefined;
    orgClaim: string;
    emailClaim: string;
  } | undefined;
  webhooks: {
    /** Refuse plain-http webhook URLs (off by default so receivers on localhost work in development). */
    requireHttps: boolean;
  };
  openai: {
    apiKey: string;
    baseUrl: string | undefined;
    model: string;
    embeddingModel: string;
  } | undefined;
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
  const seedDemo = bool('SEED_DEMO', databaseUrl === undefined);
  const logLevelRaw = str('LOG_LEVEL') ?? 'info';
  const logLevel = (LOG_LEVELS as readonly string[]).includes(logLevelRaw)
    ? (logLevelRaw as Config['logLevel'])
    : (problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevelRaw}")`), 'info');
  const publicUrl = (url('PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`).replace(/\/+$/, '');

  const signingKeyPem = str('JWT_PRIVATE_KEY')?.replace(/\\n/g, '\n');
  if (signingKeyPem !== undefined && !signingKeyPem.includes('BEGIN PRIVATE KEY')) {
    problems.push('JWT_PRIVATE_KEY must be a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----")');
  }

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
  const sso = ssoIssuer && ssoAudience
    ? {
        issuer: ssoIssuer,
        audience: ssoAudience,
        jwksUrl: url('OIDC_JWKS_URL', ['https:', 'http:']),
        orgClaim: str('OIDC_ORG_CLAIM') ?? 'org',
        emailClaim: str('OIDC_EMAIL_CLAIM') ?? 'email',
      }
    : undefined;

  const config: Config = {
    port,
    host,
    databaseUrl,
    dataDir,
    seedDemo,
    logLevel,
    publicUrl,
    auth: {
      issuer: str('JWT_ISSUER') ?? publicUrl,
      audience: str('JWT_AUDIENCE') ?? 'trustcenter-api',
      accessTokenTtlSeconds: int('ACCESS_TOKEN_TTL_SECONDS', 3600, 60, 7 * 24 * 3600),
      signingKeyPem,
    },
    limits: {
      bodyBytes: int('BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
      uploadBytes: int('UPLOAD_LIMIT_BYTES', 25 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      authPerMinute: int('RATE_LIMIT_AUTH_PER_MINUTE', 20, 1, 100000),
      publicPerMinute: int('RATE_LIMIT_PUBLIC_PER_MINUTE', 120, 1, 1000000),
    },
    webhooks: { requireHttps: bool('WEBHOOK_REQUIRE_HTTPS', false) },
    sso,
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

/** Hides the password of a connection string in messages. */
export function redactUrl(raw: string): string {
  return raw.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
