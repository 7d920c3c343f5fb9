import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/errors.js';

export interface SsoConfig {
  issuer: string;
  audience: string;
  /** Default: the jwks_uri of the issuer's OpenID configuration. */
  jwksUrl?: string;
  /** Claim naming the organization (its slug). */
  orgClaim: string;
  emailClaim: string;
}

/**
 * Verifies access tokens from one external OpenID Connect issuer against its published keys
 * (fetched and cached by jose). The caller maps the verified email and organization claim to a
 * membership, so the identity provider proves who someone is but never grants a role by itself.
 */
export class SsoVerifier {
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(private readonly config: SsoConfig, private readonly clock: Clock) {}

  /** Whether a bearer token claims to come from this issuer (unverified: only to route it). */
  claims(token: string): boolean {
    try {
      return decodeJwt(token).iss === this.config.issuer;
    } catch {
      return false;
    }
  }

  private async keySet() {
    if (!this.jwks) {
      let url = this.config.jwksUrl;
      if (!url) {
        const res = await fetch(`${this.config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
        if (!res.ok) throw new DomainError('service_unavailable', 'the identity provider\'s configuration could not be fetched');
        url = ((await res.json()) as { jwks_uri?: string }).jwks_uri;
        if (!url) throw new DomainError('service_unavailable', 'the identity provider publishes no jwks_uri');
      }
      this.jwks = createRemoteJWKSet(new URL(url), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    }
    return this.jwks;
  }

  async verify(token: string): Promise<{ email: string; orgSlug: string; payload: JWTPayload }> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keySet(), {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        currentDate: this.clock(),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      if (err instanceof DomainError) throw err;
      throw new DomainError('unauthenticated', 'invalid single sign-on token');
    }
    const email = payload[this.config.emailClaim];
    const org = payload[this.config.orgClaim];
    if (typeof email !== 'string' || typeof org !== 'string') {
      throw new DomainError('unauthenticated', `the single sign-on token lacks the ${this.config.emailClaim} or ${this.config.orgClaim} claim`);
    }
    return { email: email.toLowerCase(), orgSlug: org, payload };
  }
}
