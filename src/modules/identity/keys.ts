import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, importPKCS8, jwtVerify, SignJWT, errors as joseErrors, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/errors.js';
import type { KeyStore } from '../keystore/index.js';

const ALG = 'ES256';
/** A token naming a kid this ring does not know reloads from the database at most this often. */
const UNKNOWN_KID_RELOAD_MS = 5_000;

interface StoredKey {
  kid: string;
  createdAt: string;
  privateJwk: JWK;
}

interface LoadedKey {
  kid: string;
  createdAt: Date;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface TokenOptions {
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clock: Clock;
}

/**
 * The signing keys for access tokens. The newest key signs; every key still in the ring verifies,
 * so rotating keeps tokens signed by the old key valid until they expire.
 */
export class KeyRing {
  private lastLoad = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private keys: LoadedKey[],
    private readonly dir: string | undefined,
    private readonly opts: TokenOptions,
    private readonly store?: KeyStore,
  ) {}

  /**
   * From a configured PEM, else from the database (`store`, KEY_ENCRYPTION_KEY: shared by replicas
   * that share nothing else), else from `dir` (generating the first key pair there once).
   */
  static async open(opts: TokenOptions & { dir?: string; pem?: string; store?: KeyStore }): Promise<KeyRing> {
    if (opts.pem) {
      const privateKey = await importPKCS8(opts.pem, ALG, { extractable: true });
      const jwk = await exportJWK(privateKey);
      const kid = 'cfg-' + (jwk.x ?? '').slice(0, 12);
      return new KeyRing([await load({ kid, createdAt: new Date(0).toISOString(), privateJwk: jwk })], undefined, opts);
    }
    if (opts.store) {
      const ring = new KeyRing([], undefined, opts, opts.store);
      await ring.load();
      return ring;
    }
    if (!opts.dir) throw new Error('KeyRing needs a directory or a PEM');
    await fs.mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const ring = new KeyRing(await readDir(opts.dir), opts.dir, opts);
    if (ring.keys.length === 0) await ring.rotate();
    return ring;
  }

  /**
   * Reads the keys in use from the database, so a rotation or retirement made anywhere reaches this
   * replica. A failed read keeps the keys it had. Without a database there is nothing to reload.
   */
  async reload(): Promise<void> {
    // A read already under way may have started before the change the caller wants to see.
    await this.loading?.catch(() => {});
    return this.load();
  }

  /** One read at a time: callers arriving while it runs share it. */
  private load(): Promise<void> {
    const store = this.store;
    if (!store) return Promise.resolve();
    this.loading ??= (async () => {
      this.lastLoad = this.opts.clock().getTime();
      try {
        const rows = await store.active('access_token');
        if (rows.length === 0) throw new Error('every access-token signing key in the database is retired: run `npm run keys -- rotate`');
        const known = new Map(this.keys.map((k) => [k.kid, k]));
        this.keys = await Promise.all(
          rows.map(async (r) => known.get(r.kid) ?? load({ kid: r.kid, createdAt: r.createdAt.toISOString(), privateJwk: JSON.parse(r.material) as JWK })),
        );
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** Reloads every `intervalMs` until `stopRefresh` (the timer does not keep the process alive). */
  startRefresh(intervalMs: number, onError: (err: unknown) => void): void {
    if (!this.store || this.timer || intervalMs <= 0) return;
    this.timer = setInterval(() => void this.load().catch(onError), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a reload under way, so none runs on a closed database. */
  async stopRefresh(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.loading?.catch(() => {});
  }

  /** Adds a new signing key; older keys stay for verification. */
  async rotate(): Promise<string> {
    if (this.store) {
      const { kid } = await this.store.rotate();
      await this.reload();
      return kid;
    }
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    const stored: StoredKey = {
      kid: randomUUID(),
      createdAt: this.opts.clock().toISOString(),
      privateJwk: await exportJWK(privateKey),
    };
    if (this.dir) {
      const file = path.join(this.dir, `${stored.createdAt.replace(/[:.]/g, '-')}-${stored.kid}.jwk.json`);
      // wx: never overwrite; 0600: the private key is readable by this user only.
      await fs.writeFile(file, JSON.stringify(stored), { flag: 'wx', mode: 0o600 });
    }
    this.keys = [...this.keys, await load(stored)].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    return stored.kid;
  }

  /** Removes a key so tokens it signed stop verifying. */
  async retire(kid: string): Promise<void> {
    if (this.store) {
      await this.store.retire(kid);
      return this.reload();
    }
    this.keys = this.keys.filter((k) => k.kid !== kid);
    if (this.dir) {
      for (const f of await fs.readdir(this.dir)) if (f.endsWith(`-${kid}.jwk.json`)) await fs.rm(path.join(this.dir, f));
    }
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  async sign(claims: JWTPayload & { sub: string }): Promise<{ token: string; expiresAt: Date }> {
    const active = this.keys[this.keys.length - 1]!;
    const now = Math.floor(this.opts.clock().getTime() / 1000);
    const exp = now + this.opts.ttlSeconds;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, kid: active.kid, typ: 'at+jwt' })
      .setIssuer(this.opts.issuer)
      .setAudience(this.opts.audience)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(active.privateKey);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** Verifies signature (ES256 only), issuer, audience and expiry; any failure is a 401. */
  async verify(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          let key = this.keys.find((k) => k.kid === header.kid);
          if (!key && this.store) {
            // Perhaps a key another replica started signing with; bounded, so made-up kids cannot flood the database.
            if (this.loading || this.opts.clock().getTime() - this.lastLoad >= UNKNOWN_KID_RELOAD_MS) await this.load().catch(() => {});
            key = this.keys.find((k) => k.kid === header.kid);
          }
          if (!key) throw new joseErrors.JWKSNoMatchingKey();
          return importJWK(key.publicJwk, ALG);
        },
        {
          algorithms: [ALG],
          issuer: this.opts.issuer,
          audience: this.opts.audience,
          typ: 'at+jwt',
          currentDate: this.opts.clock(),
          requiredClaims: ['sub', 'exp', 'iat'],
        },
      );
      return payload;
    } catch (err) {
      const expired = err instanceof joseErrors.JWTExpired;
      throw new DomainError('unauthenticated', expired ? 'access token expired' : 'invalid access token');
    }
  }
}

async function load(stored: StoredKey): Promise<LoadedKey> {
  const privateKey = (await importJWK(stored.privateJwk, ALG)) as CryptoKey;
  const { d: _d, ...pub } = stored.privateJwk;
  return {
    kid: stored.kid,
    createdAt: new Date(stored.createdAt),
    privateKey,
    publicJwk: { ...pub, kid: stored.kid, alg: ALG, use: 'sig' },
  };
}

async function readDir(dir: string): Promise<LoadedKey[]> {
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.jwk.json')).sort();
  const keys = await Promise.all(files.map(async (f) => load(JSON.parse(await fs.readFile(path.join(dir, f), 'utf8')) as StoredKey)));
  return keys.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}
