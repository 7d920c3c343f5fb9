import t from 'tap';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { ConfigError, defaultConfig, loadConfig } from '../../src/config.js';
import type { App } from '../../src/app.js';
import { WARM_UP_MS } from '../../src/plugins/pressure.js';
import { signup, testApp } from '../helpers/app.js';

/**
 * Keeps the event loop busy in chunks until under-pressure's sampler (about once a second) reports
 * pressure. Chunks, not one long block: the sampler averages the loop's delay over its window, so
 * every sample in it has to be late, and the loop has to turn for the sampler's timer to fire.
 */
async function overload(app: App, chunkMs = 150, limitMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!app.isUnderPressure()) {
    if (Date.now() - start > limitMs) throw new Error('the sampler never saw the lag');
    const until = Date.now() + chunkMs;
    while (Date.now() < until) {
      /* busy: the lag under test */
    }
    await yieldLoop();
  }
}

/** Startup's own lag is forgiven for a while after ready (the first inject makes the app ready). */
async function pastWarmUp(app: App): Promise<void> {
  await app.ready();
  await new Promise((r) => setTimeout(r, WARM_UP_MS + 100));
}

async function calm(app: App, limitMs = 10_000): Promise<void> {
  const start = Date.now();
  while (app.isUnderPressure()) {
    if (Date.now() - start > limitMs) throw new Error('pressure never went away');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pressure = (over: Partial<ReturnType<typeof defaultConfig>['pressure']>) => ({
  pressure: { ...defaultConfig().pressure, ...over },
});

t.test('a lagging event loop sheds API requests, not probes', async (t) => {
  // 50 ms: far above an idle loop's delay (so signup is not refused), far below the overload's.
  const app = await testApp(t, { config: pressure({ maxEventLoopDelayMs: 50, maxEventLoopUtilization: 0, retryAfterSeconds: 7 }) });
  const owner = await signup(app);
  await pastWarmUp(app);
  await calm(app);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/me', headers: owner.auth })).statusCode, 200, 'answers when calm');

  await overload(app);
  const shed = await app.inject({ method: 'GET', url: '/api/v1/me', headers: owner.auth });
  const health = await app.inject({ method: 'GET', url: '/healthz' });
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(shed.statusCode, 503);
  t.equal(shed.headers['retry-after'], '7');
  t.match(shed.headers['content-type'], /^application\/problem\+json/);
  t.match(shed.json(), { status: 503, code: 'service_unavailable', detail: /event loop delay \d+ ms/, requestId: shed.headers['x-request-id'] });
  t.equal(health.statusCode, 200, 'liveness still answers');
  t.equal(ready.statusCode, 200, 'readiness still answers');

  await calm(app);
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/me', headers: owner.auth })).statusCode, 200, 'answers again once the loop recovers');
});

t.test('a saturated event loop sheds too (utilization limit)', async (t) => {
  const app = await testApp(t, { config: pressure({ maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0.5 }) });
  await pastWarmUp(app);
  await overload(app);
  // Refused before authentication: a 503, not the 401 this request would otherwise get.
  const shed = await app.inject({ method: 'GET', url: '/api/v1/me' });
  t.equal(shed.statusCode, 503);
  t.equal(shed.headers['retry-after'], '10', 'the default');
  t.match(shed.json(), { code: 'service_unavailable', detail: /event loop utilization/ });
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});

t.test('both limits at 0 turn shedding off', async (t) => {
  const app = await testApp(t, { config: pressure({ maxEventLoopDelayMs: 0, maxEventLoopUtilization: 0 }) });
  t.notOk(app.hasDecorator('isUnderPressure'), 'under-pressure is not even loaded');
});

t.test('configuration', async (t) => {
  t.same(loadConfig({}).pressure, { maxEventLoopDelayMs: 1000, maxEventLoopUtilization: 0, retryAfterSeconds: 10 }, 'defaults');
  t.same(loadConfig({ MAX_EVENT_LOOP_DELAY_MS: '0', MAX_EVENT_LOOP_UTILIZATION: '0.9', PRESSURE_RETRY_AFTER_SECONDS: '30' }).pressure, {
    maxEventLoopDelayMs: 0,
    maxEventLoopUtilization: 0.9,
    retryAfterSeconds: 30,
  });
  try {
    loadConfig({ MAX_EVENT_LOOP_DELAY_MS: '-5', MAX_EVENT_LOOP_UTILIZATION: '1.5', PRESSURE_RETRY_AFTER_SECONDS: 'soon' });
    t.fail('should throw');
  } catch (err) {
    t.type(err, ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    t.match(problems, /MAX_EVENT_LOOP_DELAY_MS must be an integer from 0 to 60000 \(got "-5"\)/);
    t.match(problems, /MAX_EVENT_LOOP_UTILIZATION must be a number from 0 to 1 \(got "1.5"\)/);
    t.match(problems, /PRESSURE_RETRY_AFTER_SECONDS must be an integer from 1 to 3600 \(got "soon"\)/);
  }
  t.throws(() => loadConfig({ MAX_EVENT_LOOP_UTILIZATION: 'high' }), ConfigError);
});
