import { buildApp } from './app.js';
import { ConfigError, loadConfig, redactUrl } from './config.js';

// Reads config, builds, listens, and shuts down gracefully. Everything else lives in buildApp.
let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const app = await buildApp({ config });

let closingSince: number | undefined;
async function shutdown(signal: string) {
  if (closingSince !== undefined) {
    // npm and tsx relay the signal the process group already got: repeats within 2 s are echoes.
    if (Date.now() - closingSince < 2000) return;
    app.log.warn(`second ${signal}: exiting now`);
    process.exit(1);
  }
  closingSince = Date.now();
  app.log.info(`${signal} received: draining requests and closing the database`);
  // A stuck request must not keep the process alive forever.
  const force = setTimeout(() => {
    app.log.error('graceful shutdown timed out after 10 s');
    process.exit(1);
  }, 10_000);
  force.unref();
  try {
    await app.close();
    process.exit(0);
  } catch (err) {
    app.log.error({ err }, 'error while shutting down');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await app.listen({ port: config.port, host: config.host });
const base = config.publicUrl;
const db = config.databaseUrl
  ? `PostgreSQL ${redactUrl(config.databaseUrl)}`
  : config.embedded.engine === 'pglite'
    ? `embedded PGlite in ${config.dataDir}`
    : `embedded PostgreSQL in ${config.dataDir}/pg`;
const lines = [
  `Trust Center API listening on ${config.host}:${app.server.address() && typeof app.server.address() === 'object' ? (app.server.address() as { port: number }).port : config.port} (${db})`,
  `  API docs:    ${base}/docs`,
  `  Trust page:  ${base}/trust/demo`,
];
if (config.seedDemo) lines.push(`  Demo login:  POST ${base}/api/v1/auth/login {"email":"owner@demo.example.com","password":"Demo-Password-2026!"}`);
process.stdout.write(lines.join('\n') + '\n');
