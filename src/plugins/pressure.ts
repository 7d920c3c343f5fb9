import fp from 'fastify-plugin';
import underPressure from '@fastify/under-pressure';
import type { Config } from '../config.js';
import { DomainError } from '../lib/errors.js';

/**
 * Probes keep answering under load: an orchestrator that saw 503s there would restart (or stop
 * routing to) a process that is busy but alive, which turns a slowdown into an outage.
 */
const EXEMPT = new Set(['/healthz', '/readyz']);

/**
 * Startup (module loading, schema compilation, migrations) keeps the loop busy for a second or
 * more; under-pressure samples about once a second, so the first samples after ready still show
 * it (measured: 0.99 utilization, 800 ms delay). Two sample windows after ready, it is load.
 */
export const WARM_UP_MS = 2_000;

/**
 * Load shedding: when the event loop lags (or is saturated) past the configured limits, requests
 * are refused at once with a 503 and Retry-After rather than queued behind work that already
 * misses its deadlines. Register it early so refused requests cost as little as possible.
 */
export default fp<Config['pressure']>(
  async (app, opts) => {
    if (opts.maxEventLoopDelayMs <= 0 && opts.maxEventLoopUtilization <= 0) return;
    let warmUntil = Infinity;
    app.addHook('onReady', async () => {
      warmUntil = Date.now() + WARM_UP_MS;
    });
    await app.register(underPressure, {
      maxEventLoopDelay: opts.maxEventLoopDelayMs,
      maxEventLoopUtilization: opts.maxEventLoopUtilization,
      // The last sample's utilization: the default (since start) hardly moves once a process is old.
      eventLoopUtilizationMode: 'interval',
      retryAfter: opts.retryAfterSeconds,
      // Resolving lets the request through; throwing sends it to the error handler (problem+json).
      pressureHandler: async (request, _reply, type, value) => {
        if (Date.now() < warmUntil) return;
        if (request.routeOptions.url !== undefined && EXEMPT.has(request.routeOptions.url)) return;
        const measured =
          type === 'eventLoopDelay'
            ? `event loop delay ${Math.round(value ?? 0)} ms`
            : type === 'eventLoopUtilization'
              ? `event loop utilization ${(value ?? 0).toFixed(2)}`
              : type;
        throw new DomainError('service_unavailable', `the server is overloaded (${measured}); retry after ${opts.retryAfterSeconds} s`, {
          headers: { 'retry-after': String(opts.retryAfterSeconds) },
        });
      },
    });
  },
  { name: 'pressure', fastify: '5.x' },
);
