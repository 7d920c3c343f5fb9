import type { FastifyBaseLogger } from 'fastify';

export interface Poller {
  stop(): Promise<void>;
}

/**
 * Runs `fn` now and then again `intervalMs` after each run ends (never two at once). `stop` waits
 * for a run in progress, so nothing is cut off halfway when the app closes.
 */
export function startPoller(name: string, fn: () => Promise<unknown>, intervalMs: number, log: FastifyBaseLogger): Poller {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    if (stopped) return;
    running = fn()
      .catch((err) => log.error({ err }, `${name} failed`))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  timer = setTimeout(tick, 0);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
