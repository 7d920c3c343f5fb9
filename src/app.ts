import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Redis } from 'ioredis';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { defaultConfig, type Config } from './config.js';
import { openDatabase, type Database, type DatabaseSource } from './db/client.js';
import { systemClock, type Clock } from './lib/clock.js';
import { newId } from './lib/ids.js';
import authPlugin from './plugins/auth.js';
import errorsPlugin, { serializeError } from './plugins/errors.js';
import pressurePlugin from './plugins/pressure.js';
import securityPlugin from './plugins/security.js';
import compressPlugin from './plugins/compress.js';
import idempotencyPlugin from './plugins/idempotency.js';
import cursorsPlugin, { CursorSigner } from './plugins/cursors.js';
import { installValidators } from './plugins/validation.js';
import swaggerPlugin from './plugins/swagger.js';
import { auditRoutes } from './modules/audit/routes.js';
import { healthRoutes } from './modules/health/routes.js';
import { wellKnownRoutes } from './modules/wellknown/routes.js';
import { KeyRing } from './modules/identity/index.js';
import { KeyStore } from './modules/keystore/index.js';
import { ReplaySealer } from './modules/idempotency/index.js';
import { SsoVerifier } from './modules/identity/index.js';
import { LoginThrottle } from './modules/identity/index.js';
import { accountRoutes, authRoutes } from './modules/identity/routes.js';
import { catalogRoutes } from './modules/catalog/routes.js';
import { controlRoutes } from './modules/controls/routes.js';
import { reportRoutes } from './modules/reports/routes.js';
import { certificationRoutes } from './modules/certifications/routes.js';
import { evidenceRoutes } from './modules/evidence/routes.js';
import { soaRoutes } from './modules/controls/soa-routes.js';
import { webhookRoutes } from './modules/webhooks/routes.js';
import { questionnaireRoutes } from './modules/questionnaires/routes.js';
import { assignmentRoutes } from './modules/questionnaires/assignment-routes.js';
import { questionCommentRoutes } from './modules/questionnaires/comment-routes.js';
import { sectionRoutes } from './modules/questionnaires/section-routes.js';
import { libraryRoutes } from './modules/library/routes.js';
import { saveToLibraryRoutes } from './modules/questionnaires/library-routes.js';
import { libraryImportRoutes } from './modules/library/import-routes.js';
import { controlSuggester } from './modules/questionnaires/index.js';
import { profileRoutes } from './modules/profile/routes.js';
import { prospectQuestionnaireRoutes } from './modules/trust/prospect-routes.js';
import { runNextJob, type FillDeps } from './modules/questionnaires/index.js';
import { loadThesaurus } from './modules/questionnaires/index.js';
import { Llm } from './modules/questionnaires/index.js';
import { DeliveryWorker } from './modules/webhooks/index.js';
import { MailWorker } from './modules/mail/index.js';
import { mailRoutes } from './modules/mail/routes.js';
import { registerWebhookReactions } from './modules/webhooks/index.js';
import { registerLibraryReactions } from './modules/library/index.js';
import { scanExpiries } from './scans.js';
import { startPoller, type Poller } from './lib/poller.js';
import { SEEDS_DIR, seedDatabase } from './seeds.js';
import { describeRetirement } from './catalog-retire.js';
import type { SeedReport } from './modules/catalog/index.js';
import { FsBlobStore, type BlobBackend } from './lib/storage.js';
import { S3BlobBackend } from './lib/s3-storage.js';
import { BlobService, type SweepResult } from './modules/blobs/index.js';
import { TrustPortal, safeRequestSerializer } from './modules/trust/index.js';
import { trustRoutes } from './modules/trust/routes.js';
import { customerAccountRoutes } from './modules/accounts/routes.js';
import { trustPublicRoutes } from './modules/trust/public-routes.js';
import { scanGrantExpiries } from './modules/trust/index.js';
import { scanQuestionnairesDueSoon } from './modules/questionnaires/index.js';
import { ParserPool } from './formats/pool.js';
import type { DraftRunner } from './modules/questionnaires/index.js';

export interface BuildAppOptions {
  /** Defaults to the built-in defaults; the server passes the config it validated at boot. */
  config?: Config;
  /** A database to use instead of opening one from config; the app closes it on close(). */
  database?: Database;
  /** Time source for token expiry and other time rules. */
  clock?: Clock;
  /** Signing keys; default: from config (PEM), the database (KEY_ENCRYPTION_KEY) or generated once under DATA_DIR/keys. */
  keys?: KeyRing;
  /** With keys in the database: how often they are re-read, so rotations reach this replica (default 60 s). */
  keyRefreshIntervalMs?: number;
  /** Where evidence, document and questionnaire files live; default: content-addressed files under DATA_DIR/blobs. */
  blobs?: BlobBackend;
  /** Webhook delivery: retry delays and polling; `worker: false` leaves sending to another process. */
  webhooks?: { worker?: boolean; retryScheduleMs?: number[]; pollIntervalMs?: number; timeoutMs?: number; batchSize?: number; perOrgConcurrency?: number };
  /** Mail sending (with SMTP_URL): retry delays and polling; `worker: false` leaves the outbox to another process. */
  mail?: { worker?: boolean; retryScheduleMs?: number[]; pollIntervalMs?: number; timeoutMs?: number };
  /** Background jobs: `worker: false` leaves them queued (tests run them by hand). */
  /** `pool: undefined` drafts fill batches on this thread (tests that measure coverage; the answers are the same). */
  jobs?: { worker?: boolean; pollIntervalMs?: number; batchSize?: number; afterBatch?: (done: number) => Promise<void>; pool?: DraftRunner | undefined };
  /** How often to delete expired Idempotency-Key rows (default 15 minutes; 0 turns it off). */
  idempotencySweepIntervalMs?: number;
  /** How often to look for expiring evidence, certifications and access grants (default 60 s; 0 turns it off). */
  expiryScanIntervalMs?: number;
  /** The language model client; default: from config (OPENAI_*), none when no key is set. */
  llm?: Llm;
  /** Pino options, or false for silence (tests). */
  logger?: FastifyServerOptions['logger'];
}

export type App = FastifyInstance;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Errors are logged without database bind parameters, whichever logger options were given. */
function withSafeErrors(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger || typeof logger !== 'object') return logger;
  return { ...logger, serializers: { ...logger.serializers, err: serializeError as never } };
}

/** Where the database comes from: DATABASE_URL, else the embedded engine under DATA_DIR. */
export function databaseSource(config: Config): DatabaseSource {
  if (config.databaseUrl) return { url: config.databaseUrl };
  if (config.embedded.engine === 'pglite') return { dataDir: config.dataDir };
  return {
    embedded: {
      dir: path.join(config.dataDir, 'pg'),
      secretFile: path.join(config.dataDir, 'pg-password'),
      ...(config.embedded.port !== undefined ? { port: config.embedded.port } : {}),
      // The server's own warnings (the app's logger does not exist yet): one line each, on stderr.
      log: {
        info: (msg) => {
          if (['info', 'debug', 'trace'].includes(config.logLevel)) process.stdout.write(`${msg}\n`);
        },
        warn: (msg) => {
          if (config.logLevel !== 'silent') process.stderr.write(`${msg}\n`);
        },
      },
    },
  };
}

/** Where files live, from config: under DATA_DIR, or in a bucket checked now so that a wrong one fails the boot. */
async function openBlobBackend(config: Config): Promise<BlobBackend> {
  const dir = path.join(config.dataDir, 'blobs');
  if (config.blobs.store === 'fs') return new FsBlobStore(dir);
  // Uploads are staged on the local disk before they go to the bucket: scratch, never shared.
  const backend = new S3BlobBackend({ ...config.blobs.s3, tmpDir: path.join(dir, 'tmp') });
  try {
    await backend.checkBucket();
  } catch (err) {
    backend.close();
    throw err;
  }
  return backend;
}

/** The only way to make the app: the server and every test go through here. */
export async function buildApp(options: BuildAppOptions = {}): Promise<App> {
  // Consumers of the outbox react in the emitting transaction; the record never calls them.
  registerLibraryReactions();
  registerWebhookReactions();
  const config = options.config ?? defaultConfig();
  const clock = options.clock ?? systemClock;
  const database = options.database ?? (await openDatabase(databaseSource(config)));

  // References in the database decide when bytes go (shared across organizations by hash).
  let backend: BlobBackend;
  try {
    backend = options.blobs ?? (await openBlobBackend(config));
  } catch (err) {
    await database.close();
    throw err;
  }
  const blobs = new BlobService(database.db, backend);
  let seeded: SeedReport;
  // Keys in the database unless JWT_PRIVATE_KEY is set; opened at boot, so a wrong KEY_ENCRYPTION_KEY stops the start.
  let keyStore: KeyStore | undefined;
  try {
    await database.migrate();
    seeded = await seedDatabase(database.db, { clock, ...(config.seedDemo ? { demo: { blobs } } : {}) });
    if (config.auth.keyEncryptionKey && !config.auth.signingKeyPem) keyStore = await KeyStore.open(database.db, config.auth.keyEncryptionKey);
  } catch (err) {
    if (!options.blobs && backend instanceof S3BlobBackend) backend.close();
    await database.close();
    throw err;
  }

  const keys =
    options.keys ??
    (await KeyRing.open({
      dir: path.join(config.dataDir, 'keys'),
      pem: config.auth.signingKeyPem,
      store: keyStore,
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      ttlSeconds: config.auth.accessTokenTtlSeconds,
      clock,
    }));
  // Grant, replay-seal and cursor keys come from this PEM (JWT_PRIVATE_KEY, else the database's root secret); unset: files in DATA_DIR.
  const secretPem = config.auth.signingKeyPem ?? (await keyStore?.rootPem());

  // Shared state for replicas (rate-limit counters): checked at boot, so a wrong REDIS_URL is a clear start-up error.
  let redis: Redis | undefined;
  if (config.redis.url) {
    redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5000 });
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      await database.close();
      throw new Error(`REDIS_URL: cannot reach Redis (${(err as Error).message})`);
    }
  }

  const app = Fastify({
    logger: withSafeErrors(
      options.logger ?? {
        level: config.logLevel,
        // Tokens and passwords never reach the log, even if a serializer changes later.
        redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.accessToken', '*.key', '*.token', '*.secret'],
        // Trust grant links carry their token in the path: the logged URL masks it.
        serializers: { req: safeRequestSerializer },
      },
    ),
    bodyLimit: config.limits.bodyBytes,
    // Off by default: X-Forwarded-For is believed only when the operator says a proxy sets it.
    trustProxy: config.trustProxy,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : newId();
    },
    // Trust-page grant links carry a signed token in the path; it is longer than the default 100.
    routerOptions: { maxParamLength: 4096 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onClose', async () => {
    await database.close();
  });
  if (redis) {
    const client = redis;
    // ioredis reconnects by itself; until then the rate limiter lets requests through (skipOnError).
    client.on('error', (err: Error) => app.log.warn({ err: { message: err.message } }, 'redis connection error'));
    app.addHook('onClose', async () => {
      await client.quit();
    });
  }

  app.decorate('keys', keys);
  // Rotations and retirements made on another replica (or by `npm run keys`) reach this one.
  app.addHook('onReady', async () =>
    keys.startRefresh(options.keyRefreshIntervalMs ?? 60_000, (err) => app.log.warn({ err }, 'signing keys: reloading from the database failed')),
  );
  app.addHook('preClose', async () => keys.stopRefresh());
  if (config.auth.signingKeyPem && config.auth.keyEncryptionKey) app.log.warn('KEY_ENCRYPTION_KEY is ignored: JWT_PRIVATE_KEY is set and takes precedence');
  // Unset PUBLIC_URL names this process's own port as the token issuer: a replica on another port refuses its tokens.
  if (config.databaseUrl && config.auth.issuer === `http://localhost:${config.port}`) {
    app.log.warn(
      `PUBLIC_URL is unset with DATABASE_URL: tokens and links name ${config.auth.issuer}; replicas behind one address must all set PUBLIC_URL to it`,
    );
  }
  // Keys generated into this process's DATA_DIR: a replica with another disk would sign with its own and refuse these tokens.
  if (config.databaseUrl && !config.auth.signingKeyPem && !config.auth.keyEncryptionKey && !options.keys) {
    app.log.warn(
      `signing keys are kept in ${path.join(config.dataDir, 'keys')} with DATABASE_URL: replicas sharing this database must share DATA_DIR, or set KEY_ENCRYPTION_KEY (keys in the database) or JWT_PRIVATE_KEY`,
    );
  }
  app.decorate('database', database);
  // A catalog version that retired controls says so, and what became of each organization's data on them.
  for (const r of seeded.retired) {
    app.log.warn(
      { catalogRetired: r },
      `catalog ${r.framework} v${r.catalogVersion.from}->v${r.catalogVersion.to}: retired ${r.refs.length} control(s) (${r.refs.join(', ')}); ${seeded.retirements.filter((x) => x.framework === r.framework).length} organization record(s) moved or kept as history`,
    );
  }
  for (const r of seeded.retirements) app.log.warn({ catalogRetirement: r }, describeRetirement(r));
  // Uploaded files are parsed in worker threads with a heap cap and a deadline (src/formats/pool.ts).
  const parsers = new ParserPool({ threads: config.limits.parserThreads, memoryMb: config.limits.parserMemoryMb, timeoutMs: config.limits.parserTimeoutMs });
  app.decorate('parsers', parsers);
  app.addHook('onClose', async () => parsers.close());
  installValidators(app);

  await app.register(errorsPlugin);
  // Load shedding first: a refused request should cost as little as possible (probes exempt). Not
  // on in-process PGlite: its queries run on this event loop, so shedding would refuse requests for the database's own work.
  if (database.kind !== 'pglite') await app.register(pressurePlugin, config.pressure);
  await app.register(securityPlugin, {
    apiPerMinute: config.limits.apiPerMinute,
    ...(redis ? { redis: { client: redis, keyPrefix: config.redis.keyPrefix } } : {}),
  });
  // br/gzip for text responses; registered before any route so every route gets its hook.
  await app.register(compressPlugin);
  await app.register(swaggerPlugin);
  const throttle = new LoginThrottle(database.db, clock, { maxFailures: config.auth.loginMaxFailures, lockoutSeconds: config.auth.loginLockoutSeconds });
  const identityDeps = { db: database.db, keys, clock, throttle, ...(config.sso ? { sso: new SsoVerifier(config.sso, clock) } : {}) };
  await app.register(authPlugin, { identity: identityDeps, db: database.db, clock });
  // Stored first answers are sealed with a key from JWT_PRIVATE_KEY, or one generated once in DATA_DIR.
  const sealer = await ReplaySealer.open({ dir: path.join(config.dataDir, 'idempotency'), pem: secretPem });
  await app.register(idempotencyPlugin, {
    db: database.db,
    clock,
    maxBufferBytes: config.limits.uploadBytes,
    sealer,
    sweepIntervalMs: options.idempotencySweepIntervalMs,
  });
  // List cursors are signed over their list and organization; the key comes from the same material as the sealer's.
  await app.register(cursorsPlugin, { signer: await CursorSigner.open({ dir: path.join(config.dataDir, 'idempotency'), pem: secretPem }) });

  await app.register(healthRoutes, { database, keys });
  await app.register(wellKnownRoutes, { contacts: config.security.contacts, policyUrl: config.security.policyUrl, publicUrl: config.publicUrl, clock });
  const thesaurus = loadThesaurus(SEEDS_DIR);
  // Trust portal: public pages and JSON at the root (/trust/..., /api/v1/public/...); its API is in the block below.
  const trustPortal = await TrustPortal.open({
    config,
    db: database.db,
    blobs,
    clock,
    secretPem,
    stampPdf: (bytes, stamp) => parsers.watermarkPdf(bytes, stamp),
  });
  if (redis) await shareTrustInvalidations(app, redis, `${config.redis.keyPrefix}trust-invalidate`, trustPortal.cache);
  await app.register(trustPublicRoutes, { portal: trustPortal });
  await app.register(prospectQuestionnaireRoutes, { portal: trustPortal });
  await app.register(
    async (api) => {
      await api.register(authRoutes, { deps: identityDeps, authRateLimit: { max: config.limits.authPerMinute, timeWindow: 60_000 } });
      await api.register(accountRoutes, { publicUrl: config.publicUrl });
      await api.register(auditRoutes);
      await api.register(catalogRoutes);
      await api.register(controlRoutes);
      await api.register(reportRoutes);
      await api.register(soaRoutes);
      await api.register(evidenceRoutes, { config, blobs });
      await api.register(certificationRoutes);
      await api.register(mailRoutes);
      await api.register(webhookRoutes, { policy: { requireHttps: config.webhooks.requireHttps, allowPrivateNetworks: config.webhooks.allowPrivateNetworks } });
      await api.register(questionnaireRoutes, { config, blobs });
      await api.register(assignmentRoutes);
      await api.register(questionCommentRoutes);
      await api.register(sectionRoutes);
      await api.register(libraryRoutes);
      await api.register(saveToLibraryRoutes);
      // Imported entries get retrieval's control suggestions; the library cannot import questionnaires itself.
      await api.register(libraryImportRoutes, { config, blobs, suggestControls: controlSuggester({ db: database.db, clock, thesaurus }) });
      await api.register(profileRoutes);
      await api.register(trustRoutes, { portal: trustPortal });
      await api.register(customerAccountRoutes);
    },
    { prefix: '/api/v1' },
  );

  const worker = new DeliveryWorker({ db: database.db, clock, log: app.log, allowPrivateNetworks: config.webhooks.allowPrivateNetworks, ...options.webhooks });
  if (options.webhooks?.worker !== false) {
    app.addHook('onReady', async () => worker.start());
    // preClose runs before the database closes: no delivery is cut off halfway.
    app.addHook('preClose', async () => worker.stop());
  }
  // Mail goes out only with SMTP_URL; without it messages wait in the outbox (GET /outbox/mail), none is dropped.
  const mailWorker =
    config.mail.smtpUrl && config.mail.from
      ? new MailWorker({ db: database.db, clock, log: app.log, smtpUrl: config.mail.smtpUrl, from: config.mail.from, ...options.mail })
      : undefined;
  if (mailWorker && options.mail?.worker !== false) {
    app.addHook('onReady', async () => mailWorker.start());
    app.addHook('preClose', async () => mailWorker.stop());
  }
  app.decorate('mailWorker', mailWorker);
  if (!mailWorker) app.log.info('SMTP_URL is not set: e-mail waits in the outbox (GET /api/v1/outbox/mail) and is not sent');
  // Background jobs (questionnaire fills): claimed from the database, so a restart resumes them.
  const llm = options.llm ?? (config.openai ? new Llm(config.openai) : undefined);
  // Ranking and drafting run in the parser pool's workers: a big fill never holds the event loop.
  const jobDeps = { db: database.db, clock, thesaurus, llm, log: app.log, pool: parsers, leaseMs: config.jobs.leaseMs, ...options.jobs };
  if (options.jobs?.worker !== false) {
    let runner: Poller | undefined;
    const drain = async () => {
      while (await runNextJob(jobDeps)) {
        /* run every due job, then wait for the next poll */
      }
    };
    app.addHook('onReady', async () => {
      runner = startPoller('background jobs', drain, options.jobs?.pollIntervalMs ?? 250, app.log);
    });
    app.addHook('preClose', async () => runner?.stop());
  }
  app.decorate('jobDeps', jobDeps);

  const scanEvery = options.expiryScanIntervalMs ?? 60_000;
  if (scanEvery > 0) {
    let scanner: Poller | undefined;
    app.addHook('onReady', async () => {
      // Access grants expire, and questionnaires come due, on the same schedule; each scan is bounded and indexed on its own.
      // One after the other: a failing first scan (the database going away) ends the run, and no
      // second query is left waiting on a pool that is closing.
      scanner = startPoller(
        'expiry scan',
        async () => {
          await scanExpiries(database.db, clock);
          await scanGrantExpiries(database.db, clock);
          await scanQuestionnairesDueSoon(database.db, clock);
        },
        scanEvery,
        app.log,
      );
    });
    app.addHook('preClose', async () => scanner?.stop());
  }
  app.decorate('deliveryWorker', worker);

  // Startup GC: files, leases and temporary files a crash left behind; in the background, so a
  // large store does not hold up the first requests.
  let blobSweep: Promise<SweepResult | undefined> = Promise.resolve(undefined);
  app.addHook('onReady', async () => {
    blobSweep = blobs.sweep().then(
      (r) => {
        if (r.temp + r.leases + r.orphans > 0) app.log.info({ sweep: r }, 'blob store swept');
        return r;
      },
      (err: unknown) => {
        app.log.error({ err }, 'blob sweep failed');
        return undefined;
      },
    );
  });
  app.addHook('preClose', async () => {
    blobs.stopSweep();
    await blobSweep;
  });
  if (!options.blobs && backend instanceof S3BlobBackend) {
    const s3 = backend;
    app.addHook('onClose', async () => s3.close());
  }
  // Files on the local disk are visible to this process only: a replica on another disk cannot serve them.
  if (config.databaseUrl && config.blobs.store === 'fs' && !options.blobs) {
    app.log.warn(
      `BLOB_STORE=fs with DATABASE_URL: files are kept in ${path.join(config.dataDir, 'blobs')}, so replicas sharing this database must share DATA_DIR (or use BLOB_STORE=s3)`,
    );
  }
  app.decorate('blobs', blobs);
  app.decorate('blobSweep', { getter: () => blobSweep });
  return app;
}

/**
 * Trust-page changes reach every replica's cache at once: each publishes the organizations it
 * invalidated on a Redis channel and drops what the others publish. If Redis is down, the cache's
 * TTL still bounds how long another replica serves the old page.
 */
async function shareTrustInvalidations(app: FastifyInstance, redis: Redis, channel: string, cache: TrustPortal['cache']): Promise<void> {
  const self = newId();
  // A connection in subscriber mode can do nothing else, so it is a second one.
  const subscriber = redis.duplicate();
  subscriber.on('error', (err: Error) => app.log.warn({ err: { message: err.message } }, 'redis subscriber error'));
  await subscriber.subscribe(channel);
  subscriber.on('message', (_channel: string, message: string) => {
    const m = /^([^ ]+) ([0-9a-f-]{36})$/.exec(message);
    if (m && m[1] !== self) cache.invalidateLocal(m[2]!);
  });
  cache.broadcastTo((orgId) => {
    redis
      .publish(channel, `${self} ${orgId}`)
      .catch((err: Error) => app.log.warn({ err: { message: err.message } }, 'trust cache: invalidation not broadcast'));
  });
  app.addHook('onClose', async () => {
    await subscriber.quit();
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    keys: KeyRing;
    database: Database;
    deliveryWorker: DeliveryWorker;
    /** Undefined without SMTP_URL. */
    mailWorker: MailWorker | undefined;
    blobs: BlobService;
    /** The startup sweep of the blob store (settles once it is done). */
    blobSweep: Promise<SweepResult | undefined>;
    jobDeps: FillDeps;
    parsers: ParserPool;
  }
}
