import { createCipheriv, createDecipheriv, randomBytes, type KeyObject } from 'node:crypto';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import type { Db, Executor } from '../../db/client.js';
import { newId } from '../../lib/ids.js';
import { instanceKeys, type KeyPurpose } from './tables.js';

// Replicas starting together create the first keys one at a time (the migration lock is 727_027_001).
const KEYSTORE_LOCK = 727_027_003;
const IV_BYTES = 12;
const ALG = 'ES256';

export interface StoredKeyInfo {
  kid: string;
  purpose: KeyPurpose;
  createdAt: Date;
  retiredAt: Date | null;
}

/** A key in use with its private material: a private JWK (JSON) for `access_token`, a PKCS#8 PEM for `root`. */
export interface OpenedKey extends StoredKeyInfo {
  material: string;
}

type Row = typeof instanceKeys.$inferSelect;

/**
 * The instance's keys in the database, encrypted with KEY_ENCRYPTION_KEY (AES-256-GCM), so
 * replicas that share only the database sign and verify with the same keys. Times are the
 * database's (`now()`): which key is newest does not depend on one replica's clock.
 */
export class KeyStore {
  private constructor(
    private readonly db: Db,
    private readonly kek: KeyObject,
  ) {}

  /**
   * Checks that `kek` opens every key in use, then creates the root secret and the first signing
   * key if there are none yet. Under an advisory lock: a second replica starting at the same time
   * waits, then finds the first one's keys. A wrong key throws before anything is written.
   */
  static async open(db: Db, kek: KeyObject): Promise<KeyStore> {
    const store = new KeyStore(db, kek);
    await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${KEYSTORE_LOCK})`);
      const rows = await tx.select().from(instanceKeys).where(isNull(instanceKeys.retiredAt));
      for (const row of rows) store.decrypt(row);
      if (!rows.some((r) => r.purpose === 'root')) await store.insert(tx, 'root');
      if (!rows.some((r) => r.purpose === 'access_token')) await store.insert(tx, 'access_token');
    });
    return store;
  }

  /** The keys of `purpose` not retired, decrypted, oldest first (the last is the newest). */
  async active(purpose: KeyPurpose): Promise<OpenedKey[]> {
    const rows = await this.db
      .select()
      .from(instanceKeys)
      .where(and(eq(instanceKeys.purpose, purpose), isNull(instanceKeys.retiredAt)))
      .orderBy(asc(instanceKeys.createdAt), asc(instanceKeys.kid));
    return rows.map((r) => ({ ...info(r), material: this.decrypt(r) }));
  }

  /** The root secret as a PKCS#8 PEM: grant, replay and cursor keys come from it as they would from JWT_PRIVATE_KEY. */
  async rootPem(): Promise<string> {
    const [root] = await this.active('root');
    if (!root) throw new Error('no root secret in the database (instance_keys): it is created when the app first starts with KEY_ENCRYPTION_KEY');
    return root.material;
  }

  /** Every key, retired ones too, without material: for `npm run keys -- list`. */
  async list(): Promise<StoredKeyInfo[]> {
    const rows = await this.db.select().from(instanceKeys).orderBy(asc(instanceKeys.createdAt), asc(instanceKeys.kid));
    return rows.map(info);
  }

  /** A new access-token signing key; it signs once a replica reloads, and the older keys keep verifying. */
  async rotate(): Promise<StoredKeyInfo> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${KEYSTORE_LOCK})`);
      return this.insert(tx, 'access_token');
    });
  }

  /** Retires an access-token key: tokens it signed stop verifying once replicas reload. */
  async retire(kid: string): Promise<StoredKeyInfo> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${KEYSTORE_LOCK})`);
      const [row] = await tx.select().from(instanceKeys).where(eq(instanceKeys.kid, kid));
      if (!row) throw new Error(`no key with kid ${kid}`);
      if (row.retiredAt) throw new Error(`key ${kid} is already retired`);
      if (row.purpose === 'root') throw new Error('the root secret cannot be retired: grant links, list cursors and stored replays depend on it');
      const others = await tx
        .select({ kid: instanceKeys.kid })
        .from(instanceKeys)
        .where(and(eq(instanceKeys.purpose, 'access_token'), isNull(instanceKeys.retiredAt), sql`${instanceKeys.kid} <> ${kid}`));
      if (others.length === 0) throw new Error(`key ${kid} is the only signing key: rotate first, then retire it`);
      const [retired] = await tx
        .update(instanceKeys)
        .set({ retiredAt: sql`now()` })
        .where(eq(instanceKeys.kid, kid))
        .returning();
      return info(retired!);
    });
  }

  private async insert(tx: Executor, purpose: KeyPurpose): Promise<StoredKeyInfo> {
    const kid = newId();
    const sealed = this.encrypt(kid, purpose, await generate(purpose));
    const [row] = await tx
      .insert(instanceKeys)
      .values({ kid, purpose, ...sealed })
      .returning();
    return info(row!);
  }

  private encrypt(kid: string, purpose: KeyPurpose, material: string): Pick<Row, 'iv' | 'authTag' | 'ciphertext'> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.kek, iv);
    cipher.setAAD(aad(kid, purpose));
    const body = Buffer.concat([cipher.update(material, 'utf8'), cipher.final()]);
    return { iv: iv.toString('base64'), authTag: cipher.getAuthTag().toString('base64'), ciphertext: body.toString('base64') };
  }

  private decrypt(row: Row): string {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.kek, Buffer.from(row.iv, 'base64'));
      decipher.setAAD(aad(row.kid, row.purpose));
      decipher.setAuthTag(Buffer.from(row.authTag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(row.ciphertext, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      // Never a new key over the old ones: tokens, grant links and cursors of every replica would break.
      throw new Error(
        `KEY_ENCRYPTION_KEY does not decrypt the ${row.purpose} key ${row.kid} stored in the database: it is not the key the stored keys were encrypted with (or the row was altered). Use the KEY_ENCRYPTION_KEY the keys were created with.`,
      );
    }
  }
}

/** Binds the ciphertext to its row: material copied under another kid or purpose does not decrypt. */
function aad(kid: string, purpose: string): Buffer {
  return Buffer.from(`trustcenter instance key v1\n${purpose}\n${kid}`, 'utf8');
}

async function generate(purpose: KeyPurpose): Promise<string> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  return purpose === 'root' ? exportPKCS8(privateKey) : JSON.stringify(await exportJWK(privateKey));
}

function info(r: Row): StoredKeyInfo {
  return { kid: r.kid, purpose: r.purpose, createdAt: r.createdAt, retiredAt: r.retiredAt };
}
