import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { defaultConfig, type Config } from './config.js';
import { openDatabase, type Database } from './db/client.js';
import { systemClock, type Clock } from './lib/clock.js';
import { newId } from './lib/ids.js';
import authPlugin from './plugins/auth.js';
import errorsPlugin from './plugins/errors.js';
import securityPlugin from './plugins/security.js';
import swaggerPlugin from './plugins/swagger.js';
import { auditRoutes } from './modules/audit/routes.js';
import { healthRoutes } from './modules/health/routes.js';
import { KeyRing } from './modules/identity/keys.js';
import { accountRoutes, authRoutes } from './modules/identity/routes.js';
import { catalogRoutes } from './modules/catalog/routes.js';
import { controlRoutes } from './modules/controls/routes.js';
import { reportRoutes } from './modules/reports/routes.js';
import { certificationRoutes } from './modules/certifications/routes.js';
import { evidenceRoutes } from './modules/evidence/routes.js';
import { soaRoutes } from './modules/controls/soa-routes.js';
import { seedDatabase } from './seeds.js';

export interface BuildAppOptions {
  /** Defaults to the built-in defaults; the server passes the config it validated at boot. */
  config?: Config;
  /** A database to use instead of opening one from config; the app closes it on close(). */
  database?: Database;
  /** Time source for token expiry and other time rules. */
  clock?: Clock;
  /** Signing keys; default: from config (PEM) or generated once under DATA_DIR/keys. */
  keys?: KeyRing;
  /** Pino options, or false for silence (tests). */
  logger?: FastifyServerOptions['logger'];
}

export type App = FastifyInstance;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The only way to make the app: the server and every test go through here. */
export async function buildApp(options: BuildAppOptions = {}): Promise<App> {
  const config = options.config ?? defaultConfig();
  const clock = options.clock ?? systemClock;
  const database =
    options.database ?? (await openDatabase(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir }));

  try {
    await database.migrate();
    await seedDatabase(database.db, { demo: config.seedDemo, clock });
  } catch (err) {
    await database.close();
    throw err;
  }

  const keys =
    options.keys ??
    (await KeyRing.open({
      dir: path.join(config.dataDir, 'keys'),
      pem: config.auth.signingKeyPem,
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      ttlSeconds: config.auth.accessTokenTtlSeconds,
      clock,
    }));

  const app = Fastify({
    logger: options.logger ?? {
      level: config.logLevel,
      // Tokens and passwords never reach the log, even if a serializer changes later.
      redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.accessToken', '*.key', '*.token', '*.secret'],
    },
    bodyLimit: config.limits.bodyBytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : newId();
    },
    ajv: { customOptions: { allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onClose', async () => {
    await database.close();
  });

  await app.register(errorsPlugin);
  await app.register(securityPlugin);
  await app.register(swaggerPlugin);
  const identityDeps = { db: database.db, keys, clock };
  await app.register(authPlugin, { identity: identityDeps, db: database.db, clock });

  await app.register(healthRoutes, { database, keys });
  await app.register(
    async (api) => {
      await api.register(authRoutes, { deps: identityDeps, authRateLimit: { max: config.limits.authPerMinute, timeWindow: 60_000 } });
      await api.register(accountRoutes);
      await api.register(auditRoutes);
      await api.register(catalogRoutes);
      await api.register(controlRoutes);
      await api.register(reportRoutes);
      await api.register(soaRoutes);
      await api.register(evidenceRoutes, { config });
      await api.register(certificationRoutes);
    },
    { prefix: '/api/v1' },
  );

  app.decorate('keys', keys);
  app.decorate('database', database);
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    keys: KeyRing;
    database: Database;
  }
}
