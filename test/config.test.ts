import t from 'tap';
import path from 'node:path';
import { ConfigError, loadConfig, redactUrl } from '../src/config.js';

t.test('defaults follow the design card', async (t) => {
  const c = loadConfig({}, '/srv/app');
  t.equal(c.port, 3000);
  t.equal(c.host, '0.0.0.0');
  t.equal(c.databaseUrl, undefined);
  t.equal(c.dataDir, path.resolve('/srv/app', '.data'));
  t.equal(c.seedDemo, true, 'demo on the embedded default');
  t.equal(c.logLevel, 'info');
  t.equal(c.openai, undefined);
});

t.test('PostgreSQL turns the demo off unless asked', async (t) => {
  const c = loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db' });
  t.equal(c.seedDemo, false);
  t.equal(loadConfig({ DATABASE_URL: 'postgres://u@h/db', SEED_DEMO: 'true' }).seedDemo, true);
});

t.test('openai settings', async (t) => {
  const c = loadConfig({ OPENAI_API_KEY: 'sk-x', OPENAI_BASE_URL: 'http://127.0.0.1:9999/v1', OPENAI_MODEL: 'm' });
  t.match(c.openai, { apiKey: 'sk-x', baseUrl: 'http://127.0.0.1:9999/v1', model: 'm', embeddingModel: 'text-embedding-3-small' });
});

t.test('every problem is reported at once', async (t) => {
  try {
    loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://root:secret@h/db', LOG_LEVEL: 'loud', SEED_DEMO: 'maybe', JWT_PRIVATE_KEY: 'nope' });
    t.fail('should throw');
  } catch (err) {
    t.type(err, ConfigError);
    const problems = (err as ConfigError).problems;
    t.equal(problems.length, 5);
    t.match(problems.join('\n'), /PORT[\s\S]*DATABASE_URL[\s\S]*SEED_DEMO[\s\S]*LOG_LEVEL[\s\S]*JWT_PRIVATE_KEY/);
    t.notMatch(problems.join('\n'), /secret/, 'passwords in URLs are not echoed');
  }
});

t.test('redactUrl', async (t) => {
  t.equal(redactUrl('postgres://user:pw@host/db'), 'postgres://user:***@host/db');
  t.equal(redactUrl('postgres://host/db'), 'postgres://host/db');
});

t.test('the embedded engine: PostgreSQL by default, PGlite on request, a port when given', async (t) => {
  t.same(loadConfig({}).embedded, { engine: 'postgres', port: undefined });
  t.same(loadConfig({ EMBEDDED_DB: 'pglite' }).embedded, { engine: 'pglite', port: undefined });
  t.same(loadConfig({ EMBEDDED_PG_PORT: '54329' }).embedded, { engine: 'postgres', port: 54329 });
  try {
    loadConfig({ EMBEDDED_DB: 'sqlite', EMBEDDED_PG_PORT: '80' });
    t.fail('should throw');
  } catch (err) {
    t.match((err as ConfigError).problems, [/EMBEDDED_DB must be postgres or pglite/, /EMBEDDED_PG_PORT must be an integer from 1024/]);
  }
});

t.test('the fill job lease: 30 s by default, in seconds from JOB_LEASE_SECONDS, bounded', async (t) => {
  t.equal(loadConfig({}).jobs.leaseMs, 30_000);
  t.equal(loadConfig({ JOB_LEASE_SECONDS: '5' }).jobs.leaseMs, 5_000);
  t.throws(() => loadConfig({ JOB_LEASE_SECONDS: '1' }), /JOB_LEASE_SECONDS must be an integer from 3 to 3600/);
  t.throws(() => loadConfig({ JOB_LEASE_SECONDS: 'soon' }), /JOB_LEASE_SECONDS/);
});

t.test('the per-credential API rate limit: 600 a minute by default, from RATE_LIMIT_API_PER_MINUTE, bounded', async (t) => {
  t.equal(loadConfig({}).limits.apiPerMinute, 600);
  t.equal(loadConfig({ RATE_LIMIT_API_PER_MINUTE: '50' }).limits.apiPerMinute, 50);
  t.throws(() => loadConfig({ RATE_LIMIT_API_PER_MINUTE: '0' }), /RATE_LIMIT_API_PER_MINUTE must be an integer from 1 to 1000000 \(got "0"\)/);
  t.throws(() => loadConfig({ RATE_LIMIT_API_PER_MINUTE: 'lots' }), /RATE_LIMIT_API_PER_MINUTE/);
});
