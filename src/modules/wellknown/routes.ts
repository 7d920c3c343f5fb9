import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { notFound } from '../../lib/errors.js';
import { withProblems } from '../../lib/schemas.js';
import type { Clock } from '../../lib/clock.js';

export interface SecurityTxtOptions {
  /** `mailto:` or `https:` URIs, in order of preference; none: no security.txt. */
  contacts: string[];
  policyUrl?: string;
  publicUrl: string;
  clock: Clock;
}

/** RFC 9116 asks for an Expires under a year away; a file made per request never goes stale. */
const EXPIRES_IN_DAYS = 180;

/** The RFC 9116 file: Contact and Expires are required, Canonical ties it to this host. */
export function securityTxt(opts: SecurityTxtOptions): string {
  const expires = new Date(opts.clock().getTime() + EXPIRES_IN_DAYS * 86_400_000);
  expires.setUTCHours(0, 0, 0, 0); // a stable value for a whole day, so caches agree
  const lines = [
    ...opts.contacts.map((c) => `Contact: ${c}`),
    `Expires: ${expires.toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
    `Canonical: ${opts.publicUrl.replace(/\/+$/, '')}/.well-known/security.txt`,
    ...(opts.policyUrl ? [`Policy: ${opts.policyUrl}`] : []),
    'Preferred-Languages: en',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * `/.well-known/security.txt` on every host the app serves (the API's and the trust page's), from
 * configuration; a 404 until `SECURITY_CONTACT` is set, rather than a file naming nobody.
 */
export const wellKnownRoutes: FastifyPluginAsyncTypebox<SecurityTxtOptions> = async (app, opts) => {
  app.get('/.well-known/security.txt', {
    schema: {
      tags: ['health'],
      operationId: 'securityTxt',
      security: [],
      summary: 'How to report a vulnerability (RFC 9116 security.txt)',
      description:
        'A plain-text RFC 9116 file with the configured `Contact` addresses (`SECURITY_CONTACT`), an `Expires` date 180 days ahead, the `Canonical` URL and, when configured, the `Policy` URL (`SECURITY_POLICY_URL`). Answers 404 when no contact is configured.',
      response: withProblems({
        200: Type.String({
          description: 'The security.txt file (text/plain; charset=utf-8).',
          examples: [
            'Contact: mailto:security@example.com\nExpires: 2027-06-01T00:00:00Z\nCanonical: https://trust.example.com/.well-known/security.txt\nPreferred-Languages: en\n',
          ],
        }),
      }),
    },
    handler: async (_req, reply) => {
      if (opts.contacts.length === 0) throw notFound('security.txt');
      reply.header('cache-control', 'public, max-age=3600').type('text/plain; charset=utf-8');
      return securityTxt(opts);
    },
  });
};
