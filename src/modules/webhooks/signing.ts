import { createHmac, randomBytes } from 'node:crypto';

/** Standard Webhooks secret: `whsec_` + base64 of 24 random bytes. */
export function newSecret(): string {
  return 'whsec_' + randomBytes(24).toString('base64');
}

/** `v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`, one per secret, space-separated. */
export function sign(secrets: string[], msgId: string, timestampSeconds: number, body: string): string {
  return secrets
    .map((s) => {
      const key = Buffer.from(s.replace(/^whsec_/, ''), 'base64');
      return 'v1,' + createHmac('sha256', key).update(`${msgId}.${timestampSeconds}.${body}`).digest('base64');
    })
    .join(' ');
}
