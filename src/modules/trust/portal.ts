import path from 'node:path';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import type { BlobStore } from '../../lib/storage.js';
import type { AccessDeps } from './access.js';
import { PageViewCounter } from './analytics.js';
import { GrantSigner } from './grants.js';
import { LinkSigner } from './links.js';
import type { SubscriptionDeps } from './subscriptions.js';
import { TrustCache, buildPublicTrust } from './service.js';

/** Grant tokens travel in the path: logs keep the route, never the token. */
export const maskGrantTokens = (url: string | undefined) => url?.replace(/(\/trust\/[^/?#]+\/access\/)[^/?#]+/g, '$1[redacted]');

/**
 * What the trust routes share: the public cache, the grant signer, the page-view counter.
 * Made once by buildApp; the public routes and the authenticated API use the same instance,
 * so a change through the API invalidates what the public routes serve.
 */
export class TrustPortal {
  onError: (err: unknown) => void = () => {};

  private constructor(
    readonly config: Config,
    readonly db: Db,
    readonly blobs: BlobStore,
    readonly clock: Clock,
    readonly signer: GrantSigner,
    readonly cache: TrustCache,
    readonly views: PageViewCounter,
    readonly links: LinkSigner,
    readonly stampPdf?: AccessDeps['stampPdf'],
  ) {}

  static async open(opts: {
    config: Config;
    db: Db;
    blobs: BlobStore;
    clock: Clock;
    cacheTtlMs?: number;
    viewFlushMs?: number;
    stampPdf?: AccessDeps['stampPdf'];
    /** The PEM the grant key comes from: JWT_PRIVATE_KEY or the database's root secret; unset: JWT_PRIVATE_KEY, else DATA_DIR/grant-keys. */
    secretPem?: string;
  }): Promise<TrustPortal> {
    const { config, db, blobs, clock } = opts;
    const pem = opts.secretPem ?? config.auth.signingKeyPem;
    const signer = await GrantSigner.open({ dir: path.join(config.dataDir, 'grant-keys'), pem, issuer: config.auth.issuer, clock });
    const cache = new TrustCache((slug) => buildPublicTrust(db, slug, clock(), config.publicUrl, clock), clock, opts.cacheTtlMs ?? 60_000);
    let portal: TrustPortal | undefined = undefined;
    const views = new PageViewCounter(db, clock, (err) => portal?.onError(err), opts.viewFlushMs ?? 10_000);
    // Subscription links: keyed from the same secret as grants, under their own label.
    const links = await LinkSigner.open({ dir: path.join(config.dataDir, 'grant-keys'), pem });
    portal = new TrustPortal(config, db, blobs, clock, signer, cache, views, links, opts.stampPdf);
    return portal;
  }

  get access(): AccessDeps {
    return {
      db: this.db,
      clock: this.clock,
      signer: this.signer,
      blobs: this.blobs,
      publicUrl: this.config.publicUrl,
      ...(this.stampPdf ? { stampPdf: this.stampPdf } : {}),
    };
  }

  get subscriptions(): SubscriptionDeps {
    return { db: this.db, clock: this.clock, links: this.links, publicUrl: this.config.publicUrl };
  }

  async close() {
    await this.views.close();
  }
}

/** Fastify's request log serializer, with grant tokens masked in the URL. */
export function safeRequestSerializer(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return { method: req.method, url: maskGrantTokens(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}
