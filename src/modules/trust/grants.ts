import fs from 'node:fs/promises';
import path from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  jwtVerify,
  SignJWT,
  errors as joseErrors,
  type CryptoKey,
  type JWK,
} from 'jose';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/errors.js';

const ALG = 'ES256';
/** Distinct audience and type: a grant token is never accepted as an access token, nor the reverse. */
export const GRANT_AUDIENCE = 'trustcenter-grant';
const GRANT_TYP = 'grant+jwt';

export interface GrantClaims {
  grantId: string;
  orgId: string;
  email: string;
  documentIds: string[];
  expiresAt: Date;
}

/**
 * Signs and verifies document-access grant tokens (ES256, jose). The token names the grantee,
 * the organization, the documents and the expiry; its jti is the grant row, which decides
 * revocation. The key is the configured JWT_PRIVATE_KEY or the database's root secret (both shared
 * by replicas), else one generated once under DATA_DIR/grant-keys.
 */
export class GrantSigner {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly kid: string,
    private readonly issuer: string,
    private readonly clock: Clock,
  ) {}

  static async open(opts: { dir: string; pem?: string; issuer: string; clock: Clock }): Promise<GrantSigner> {
    let jwk: JWK;
    if (opts.pem) {
      jwk = await exportJWK(await importPKCS8(opts.pem, ALG, { extractable: true }));
    } else {
      await fs.mkdir(opts.dir, { recursive: true, mode: 0o700 });
      const file = path.join(opts.dir, 'grant-signing-key.jwk.json');
      try {
        jwk = JSON.parse(await fs.readFile(file, 'utf8')) as JWK;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        const { privateKey } = await generateKeyPair(ALG, { extractable: true });
        jwk = await exportJWK(privateKey);
        try {
          await fs.writeFile(file, JSON.stringify(jwk), { flag: 'wx', mode: 0o600 });
        } catch (e) {
          // Another process wrote it first: use theirs.
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          jwk = JSON.parse(await fs.readFile(file, 'utf8')) as JWK;
        }
      }
    }
    const { d: _d, ...pub } = jwk;
    const kid = 'grant-' + (await calculateJwkThumbprint(pub)).slice(0, 16);
    return new GrantSigner((await importJWK(jwk, ALG)) as CryptoKey, (await importJWK(pub, ALG)) as CryptoKey, kid, opts.issuer, opts.clock);
  }

  async sign(c: GrantClaims): Promise<string> {
    const now = Math.floor(this.clock().getTime() / 1000);
    return new SignJWT({ org: c.orgId, docs: c.documentIds })
      .setProtectedHeader({ alg: ALG, kid: this.kid, typ: GRANT_TYP })
      .setIssuer(this.issuer)
      .setAudience(GRANT_AUDIENCE)
      .setSubject(c.email)
      .setJti(c.grantId)
      .setIssuedAt(now)
      .setExpirationTime(Math.floor(c.expiresAt.getTime() / 1000))
      .sign(this.privateKey);
  }

  /** Signature, issuer, audience, type and expiry. Tampered or foreign: 401; expired: 410. */
  async verify(token: string): Promise<GrantClaims> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: [ALG],
        issuer: this.issuer,
        audience: GRANT_AUDIENCE,
        typ: GRANT_TYP,
        currentDate: this.clock(),
        requiredClaims: ['jti', 'sub', 'exp', 'org'],
      });
      const docs = Array.isArray(payload.docs) ? payload.docs.filter((d): d is string => typeof d === 'string') : [];
      if (typeof payload.org !== 'string') throw new Error('org claim');
      return { grantId: payload.jti!, orgId: payload.org, email: payload.sub!, documentIds: docs, expiresAt: new Date(payload.exp! * 1000) };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new DomainError('gone', 'this access link has expired; ask for access again');
      throw new DomainError('unauthenticated', 'this access link is not valid');
    }
  }
}
