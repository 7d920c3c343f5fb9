import fs from 'node:fs/promises';
import path from 'node:path';
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a subscription link does: confirm an address (expires), or unsubscribe it (never expires). */
export type LinkPurpose = 'confirm' | 'unsubscribe';

export interface LinkClaims {
  purpose: LinkPurpose;
  orgId: string;
  /** A subscriber's link; or, for an update notice to grant holders (unsubscribe only), the grantee's address. */
  subscriberId?: string;
  grantee?: string;
  /** Confirmation links: the nonce of the latest confirmation e-mail, and the expiry. */
  nonce?: string;
  expiresAt?: Date;
}

const MAC_BYTES = 16;

/**
 * Signs the links in subscription e-mails (HMAC-SHA256): short enough for a mail line, bound to
 * the organization and subscriber, and checked before anything is read. The key is derived from
 * JWT_PRIVATE_KEY or the database's root secret (replicas share it), else a secret generated once
 * under DATA_DIR/grant-keys.
 */
export class LinkSigner {
  private readonly key: Buffer;

  constructor(secret: Buffer | string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'trustcenter-subscription-links', 'subscription link v1', 32));
  }

  static async open(opts: { dir: string; pem?: string }): Promise<LinkSigner> {
    if (opts.pem) return new LinkSigner(opts.pem);
    await fs.mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const file = path.join(opts.dir, 'link.key');
    try {
      await fs.writeFile(file, randomBytes(32), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      // Another process (or replica on the same DATA_DIR) wrote it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return new LinkSigner(await fs.readFile(file));
  }

  private mac(body: string) {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, MAC_BYTES);
  }

  sign(c: LinkClaims): string {
    const payload = {
      p: c.purpose === 'confirm' ? 'c' : 'u',
      o: c.orgId,
      ...(c.subscriberId ? { s: c.subscriberId } : { g: c.grantee }),
      ...(c.nonce ? { n: c.nonce } : {}),
      ...(c.expiresAt ? { e: Math.floor(c.expiresAt.getTime() / 1000) } : {}),
    };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /** The claims of a link this instance signed, or undefined (tampered, foreign, malformed). Expiry is the caller's. */
  verify(token: string, purpose: LinkPurpose): LinkClaims | undefined {
    const m = /^([A-Za-z0-9_-]{1,600})\.([A-Za-z0-9_-]{22})$/.exec(token);
    if (!m) return undefined;
    const given = Buffer.from(m[2]!, 'base64url');
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, this.mac(m[1]!))) return undefined;
    try {
      const p = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as {
        p?: unknown;
        o?: unknown;
        s?: unknown;
        g?: unknown;
        n?: unknown;
        e?: unknown;
      };
      if (p.p !== (purpose === 'confirm' ? 'c' : 'u') || typeof p.o !== 'string') return undefined;
      // Exactly one of subscriber and grantee; a grantee's link only unsubscribes.
      const subscriber = typeof p.s === 'string' && p.g === undefined;
      const grantee = typeof p.g === 'string' && p.s === undefined && purpose === 'unsubscribe';
      if (!subscriber && !grantee) return undefined;
      return {
        purpose,
        orgId: p.o,
        ...(subscriber ? { subscriberId: p.s as string } : { grantee: p.g as string }),
        ...(typeof p.n === 'string' ? { nonce: p.n } : {}),
        ...(typeof p.e === 'number' ? { expiresAt: new Date(p.e * 1000) } : {}),
      };
    } catch {
      return undefined;
    }
  }
}
