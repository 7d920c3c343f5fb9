import fs from 'node:fs/promises';
import path from 'node:path';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals stored idempotency replays (AES-256-GCM): a first answer may hold a secret shown once (an
 * API key, a webhook secret, a grant link, an invitation token), and the database must not keep it
 * readable. The key is derived (HKDF-SHA256) from JWT_PRIVATE_KEY or the database's root secret
 * (KEY_ENCRYPTION_KEY; replicas share either), else from a random secret generated once under
 * DATA_DIR. The row's organization, key and caller are authenticated data, so a sealed answer
 * cannot be replayed under another row.
 */
export class ReplaySealer {
  private readonly key: Buffer;

  constructor(secret: Buffer | string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'trustcenter-idempotency', 'idempotency replay v1', 32));
  }

  /** From the configured PEM, else from `dir/replay.key` (written once, 0600; a concurrent writer's file wins). */
  static async open(opts: { dir: string; pem?: string }): Promise<ReplaySealer> {
    if (opts.pem) return new ReplaySealer(opts.pem);
    await fs.mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const file = path.join(opts.dir, 'replay.key');
    try {
      return new ReplaySealer(await fs.readFile(file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    try {
      await fs.writeFile(file, randomBytes(32), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return new ReplaySealer(await fs.readFile(file));
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /** The plaintext, or undefined when it was sealed with another key, for another row, or altered. */
  open(sealed: string, context: string): string | undefined {
    if (!sealed.startsWith(`${VERSION}.`)) return undefined;
    const raw = Buffer.from(sealed.slice(VERSION.length + 1), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
