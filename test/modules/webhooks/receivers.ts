import type { Test } from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../../../src/app.js';
import type { Tenant } from '../../helpers/app.js';

/** A receiver on 127.0.0.1 that answers `status`, or never answers ('hang'). */
export async function receiver(t: Test, status: number | 'hang' = 200, headers: Record<string, string> = {}) {
  let hits = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits++;
      if (status === 'hang') return;
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end('x');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let closed = false;
  const close = () =>
    new Promise<void>((r) => {
      if (closed) return r();
      closed = true;
      server.closeAllConnections();
      server.close(() => r());
    });
  t.teardown(close);
  return { port: (server.address() as AddressInfo).port, hits: () => hits, close };
}

export async function until(cond: () => boolean | Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every spelling of a loopback, metadata or private address from the review, with a port of ours. */
export const spellings = (port: number) => [
  `http://127.0.0.1:${port}/`,
  `http://localhost:${port}/`,
  `http://[::1]:${port}/`,
  `http://0.0.0.0:${port}/`,
  `http://2130706433:${port}/`,
  `http://0x7f000001:${port}/`,
  `http://0177.0.0.1:${port}/`,
  `http://127.1:${port}/`,
  `http://[::ffff:127.0.0.1]:${port}/`,
  `http://169.254.169.254:${port}/latest/meta-data/`,
  `http://10.0.0.1:${port}/`,
  `http://192.168.1.1:${port}/`,
  `http://api.localhost:${port}/`,
];

/** Config for tests whose receivers listen on 127.0.0.1. */
export const LOCAL_ALLOWED = { webhooks: { requireHttps: false, allowPrivateNetworks: true } };

export const hook = (app: App, who: Tenant, url: string, events = ['*']) =>
  app.inject({ method: 'POST', url: '/api/v1/webhooks', headers: who.auth, payload: { url, events } });
export const deliveries = async (app: App, who: Tenant, id: string) =>
  (await app.inject({ method: 'GET', url: `/api/v1/webhooks/${id}/deliveries`, headers: who.auth })).json().items;
