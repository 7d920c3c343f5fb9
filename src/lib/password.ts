import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';

// scrypt is memory-hard and ships with Node: no native add-on to build on a fresh machine.
// N=2^15, r=8 uses 32 MiB per hash (OWASP's scrypt floor is N=2^17 with r=8 and p=1 for 128 MiB;
// we keep 32 MiB so a burst of logins on a 2-core box cannot exhaust memory; cost is in the hash).
const PARAMS = { N: 2 ** 15, r: 8, p: 1, keylen: 32 } as const;

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFKC'), salt, keylen, { ...opts, maxmem: 128 * opts.N! * (opts.r ?? 8) * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$hash`, so parameters can be raised later without breaking stored hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, PARAMS.keylen, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, saltB64, keyB64] = stored.split('$');
  if (kind !== 'scrypt' || !saltB64 || !keyB64) return false;
  const expected = Buffer.from(keyB64, 'base64url');
  const key = await scrypt(password, Buffer.from(saltB64, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return timingSafeEqual(key, expected);
}

let dummy: Promise<string> | undefined;
/** A hash of a throwaway password, so unknown emails cost the same time as wrong passwords. */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(12).toString('hex'));
  return dummy;
}

/** The least zxcvbn score (0-4) a new password needs: 3 is "safely unguessable" against online and slow-hash attacks. */
export const MIN_PASSWORD_SCORE = 3;

let checker: ZxcvbnFactory | undefined;
// Built on first use: the dictionaries are a few MB and only signup and invitations need them.
const strength = () => (checker ??= new ZxcvbnFactory({ dictionary: { ...common.dictionary }, graphs: common.adjacencyGraphs }));

/**
 * Returns why a password is too weak, or undefined. Length first (NIST 800-63B), then zxcvbn's
 * estimate against common-password lists, keyboard patterns and the user's own inputs.
 */
export function passwordWeakness(password: string, email: string, userInputs: string[] = []): string | undefined {
  if (password.length < 12) return 'must be at least 12 characters';
  if (password.length > 256) return 'must be at most 256 characters';
  const lower = password.toLowerCase();
  const local = email.split('@')[0]?.toLowerCase() ?? '';
  if (local.length >= 4 && lower.includes(local)) return 'must not contain the email address';
  // zxcvbn's cost grows with length; a strong first 100 characters make the whole strong.
  // The user's own inputs and their words (org name, slug, email parts) count as known to an attacker.
  const inputs = [email, ...userInputs].flatMap((s) => [s, ...s.split(/[^\p{L}\p{N}]+/u)]).filter((s) => s.length >= 3);
  const { score } = strength().check(password.slice(0, 100), [...new Set(inputs.map((s) => s.toLowerCase()))]);
  if (score < MIN_PASSWORD_SCORE) {
    return `is too easy to guess (strength ${score} of 4, at least ${MIN_PASSWORD_SCORE} needed): use a longer passphrase of unrelated words`;
  }
  return undefined;
}
