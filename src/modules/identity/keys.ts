import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, importPKCS8, jwtVerify, SignJWT, errors as joseErrors, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/errors.js';

const ALG = 'ES256';

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
  private constructor(
    private keys: LoadedKey[],
    private readonly dir: string | undefined,
    private readonly opts: TokenOptions,
  ) {}

  /** From a configured PEM, else from `dir` (generating the first key pair there once). */
  static async open(opts: TokenOptions & { dir?: string; pem?: string }): Promise<KeyRing> {
    if (opts.pem) {
      const privateKey = await importPKCS8(opts.pem, ALG, { extractable: true });
      const jwk = await exportJWK(privateKey);
      const kid = 'cfg-' + (jwk.x ?? '').slice(0, 12);
      return new KeyRing([await load({ kid, createdAt: new Date(0).toISOString(), privateJwk: jwk })], undefined, opts);
    }
    if (!opts.dir) throw new Error('KeyRing needs a directory or a PEM');
    await fs.mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const ring = new KeyRing(await readDir(opts.dir), opts.dir, opts);
    if (ring.keys.length === 0) await ring.rotate();
    return ring;
  }

  /** Adds a new signing key; older keys stay for verification. */
  async rotate(): Promise<string> {
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
          const key = this.keys.find((k) => k.kid === header.kid);
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
