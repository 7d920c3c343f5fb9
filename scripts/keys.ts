// npm run keys -- rotate | retire <kid> | list: the instance's keys kept in the database, encrypted
// with KEY_ENCRYPTION_KEY. Reads the same environment as the server (DATABASE_URL, else the
// embedded database in DATA_DIR, which must not be running then). Never prints key material.
import { pathToFileURL } from 'node:url';
import { databaseSource } from '../src/app.js';
import { ConfigError, loadConfig, type Config } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { KeyStore, type StoredKeyInfo } from '../src/modules/keystore/store.js';

export const USAGE = 'usage: npm run keys -- rotate | retire <kid> | list';

export interface KeysCommandOptions {
  config: Config;
  /** A database to use instead of opening one from config (tests); it is left open. */
  database?: Database;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Runs one command and returns the exit code; refusals and failures are one clear line on `err`. */
export async function keysCommand(args: string[], opts: KeysCommandOptions): Promise<number> {
  const { config, out, err } = opts;
  const [command, kid, ...extra] = args;
  const valid = command === 'rotate' || command === 'list' ? kid === undefined : command === 'retire' && kid !== undefined && extra.length === 0;
  if (!valid) {
    err(USAGE);
    return 2;
  }
  if (config.auth.signingKeyPem) {
    err(
      'JWT_PRIVATE_KEY is set: the signing key comes from it, not from the database. Rotate by changing JWT_PRIVATE_KEY, or unset it to keep keys in the database with KEY_ENCRYPTION_KEY.',
    );
    return 1;
  }
  if (!config.auth.keyEncryptionKey) {
    err(
      'KEY_ENCRYPTION_KEY is not set: without it the keys are files under DATA_DIR/keys, not in the database. Set it (32 random bytes as base64, e.g. `openssl rand -base64 32`) on every replica and on this command.',
    );
    return 1;
  }

  let database = opts.database;
  try {
    database ??= await openDatabase(databaseSource(config));
    // The same schema and first keys the app makes at boot, so the command works before the first start too.
    await database.migrate();
    const store = await KeyStore.open(database.db, config.auth.keyEncryptionKey);
    if (command === 'list') {
      out(['kid', 'purpose', 'created', 'retired'].join('\t'));
      for (const k of await store.list()) out(row(k));
    } else if (command === 'rotate') {
      const k = await store.rotate();
      out(
        `new signing key ${k.kid}: replicas sign with it once they reload (within a minute); tokens signed by older keys stay valid until they expire or their key is retired`,
      );
    } else {
      const k = await store.retire(kid!);
      out(`retired ${k.kid}: replicas refuse the tokens it signed once they reload (within a minute)`);
    }
    return 0;
  } catch (e) {
    err((e as Error).message);
    return 1;
  } finally {
    if (!opts.database) await database?.close();
  }
}

function row(k: StoredKeyInfo): string {
  return [k.kid, k.purpose, k.createdAt.toISOString(), k.retiredAt?.toISOString() ?? '-'].join('\t');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  process.exitCode = await keysCommand(process.argv.slice(2), {
    config,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
}
