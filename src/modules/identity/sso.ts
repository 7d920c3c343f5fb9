import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
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
 *
 * Only access tokens count: the header must say `typ: at+jwt` (RFC 9068), so an ID token (typ
 * `JWT`, made for a client, not for this API) is refused even when its audience matches. When the
 * person is named by the standard `email` claim, `email_verified` must be true: otherwise anyone
 * who can register an unverified address at the provider would sign in as its owner here.
 */
export class SsoVerifier {
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(
    private readonly config: SsoConfig,
    private readonly clock: Clock,
  ) {}

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
        if (!res.ok) throw new DomainError('service_unavailable', "the identity provider's configuration could not be fetched");
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
        // jose compares media types case-insensitively and without the application/ prefix.
        typ: 'at+jwt',
        currentDate: this.clock(),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      if (err instanceof DomainError) throw err;
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'typ') {
        throw new DomainError(
          'unauthenticated',
          'the single sign-on token is not an access token: its header must carry typ "at+jwt" (RFC 9068); ID tokens are refused',
        );
      }
      throw new DomainError('unauthenticated', 'invalid single sign-on token');
    }
    const email = payload[this.config.emailClaim];
    const org = payload[this.config.orgClaim];
    if (typeof email !== 'string' || typeof org !== 'string') {
      throw new DomainError('unauthenticated', `the single sign-on token lacks the ${this.config.emailClaim} or ${this.config.orgClaim} claim`);
    }
    // Some providers (e.g. Amazon Cognito) send the flag as a string.
    if (this.config.emailClaim === 'email' && payload.email_verified !== true && payload.email_verified !== 'true') {
      throw new DomainError('unauthenticated', "the single sign-on token's email is not verified (email_verified must be true)");
    }
    return { email: email.toLowerCase(), orgSlug: org, payload };
  }
}
