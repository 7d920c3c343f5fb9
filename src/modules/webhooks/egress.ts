import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where webhooks may go. Receivers are customers' servers on the public internet; anything else
 * (loopback, private, link-local, metadata services, our own database) would make us a proxy
 * into our own network. `allowPrivateNetworks` turns the check off for development and tests.
 */
export interface EgressPolicy {
  allowPrivateNetworks: boolean;
}

/** The coarse outcomes a tenant may see: no errno, address or port detail (no port-scanner signal). */
export const SEND_ERRORS = {
  refused: 'refused by egress policy',
  timeout: 'timed out',
  connection: 'connection failed',
} as const;

// ::a.b.c.d (deprecated IPv4-compatible): ipaddr.js calls it unicast, but it embeds an IPv4 address.
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');
// The NAT64 well-known prefix embeds an IPv4 address in its last 32 bits: judge that address.
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

/**
 * True for a public unicast address only. Allow-list on ipaddr.js's range names, so every special
 * range it knows (loopback, private, CGNAT, link-local, multicast, unspecified, broadcast,
 * documentation, benchmarking, IPv4-mapped, 6to4, Teredo...) is refused.
 */
export function isPublicAddress(text: string): boolean {
  if (!ipaddr.isValid(text)) return false;
  const addr = ipaddr.parse(text);
  if (addr.kind() === 'ipv4') return addr.range() === 'unicast';
  const v6 = addr as ipaddr.IPv6;
  if (v6.match(NAT64_WELL_KNOWN)) return isPublicAddress(ipaddr.fromByteArray(v6.toByteArray().slice(12)).toString());
  return v6.range() === 'unicast' && !v6.match(IPV4_COMPATIBLE);
}

/** The URL's host as the WHATWG parser normalized it (2130706433, 0x7f.1 and 127.1 are all 127.0.0.1), without IPv6 brackets. */
function hostOf(u: URL): string {
  return u.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * RFC 6761: names under `.localhost` are loopback even where the resolver does not list them
 * (systemd-resolved, browsers map them). Plain `localhost` is resolved and its addresses checked.
 */
function isLocalhostName(host: string): boolean {
  return /(^localhost\.|\.localhost\.?)$/i.test(host);
}

/** A decision without the network: refused for a non-public literal or a *.localhost name; null when DNS must decide. */
function literalVerdict(u: URL, policy: EgressPolicy): 'allowed' | 'refused' | null {
  if (policy.allowPrivateNetworks) return 'allowed';
  const host = hostOf(u);
  if (net.isIP(host) !== 0) return isPublicAddress(host) ? 'allowed' : 'refused';
  return isLocalhostName(host) ? 'refused' : null;
}

const SAVE_LOOKUP_TIMEOUT_MS = 3_000;

/**
 * The check when a URL is saved. A name that resolves to any non-public address is refused; a
 * name that does not resolve (yet) is accepted, since every send checks again before connecting.
 */
export async function checkUrlOnSave(u: URL, policy: EgressPolicy): Promise<boolean> {
  const verdict = literalVerdict(u, policy);
  if (verdict !== null) return verdict === 'allowed';
  let timer: NodeJS.Timeout | undefined;
  const addresses = await Promise.race([
    dns.promises.lookup(hostOf(u), { all: true, verbatim: true }).catch(() => null),
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), SAVE_LOOKUP_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  return addresses === null || addresses.every((a) => isPublicAddress(a.address));
}

class EgressRefused extends Error {
  constructor() {
    super(SEND_ERRORS.refused);
    this.name = 'EgressRefused';
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for the socket: resolves, refuses the connection if any address is not public, and
 * hands the socket exactly the addresses it checked (no second resolution, so no DNS rebinding).
 */
function guardedLookup(policy: EgressPolicy) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (addresses.length === 0) return callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), []);
      if (!policy.allowPrivateNetworks && addresses.some((a) => !isPublicAddress(a.address))) return callback(new EgressRefused(), []);
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export type SendResult =
  { ok: true; statusCode: number; durationMs: number; snippet: string } | { ok: false; error: (typeof SEND_ERRORS)[keyof typeof SEND_ERRORS]; detail: string };

/**
 * POSTs `body` under the egress policy, one fresh connection, no redirects followed, everything
 * (DNS, connect, headers, body) within `timeoutMs`. Reads at most `maxResponseBytes` of the answer.
 */
export function postUnderPolicy(
  rawUrl: string,
  opts: {
    headers: Record<string, string>;
    body: string;
    timeoutMs: number;
    maxResponseBytes: number;
    policy: EgressPolicy;
  },
): Promise<SendResult> {
  let u: URL;
  try {
    u = new URL(rawUrl);
  } catch {
    return Promise.resolve({ ok: false, error: SEND_ERRORS.refused, detail: 'invalid URL' });
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || literalVerdict(u, opts.policy) === 'refused') {
    return Promise.resolve({ ok: false, error: SEND_ERRORS.refused, detail: 'literal host refused' });
  }
  const client = u.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    const t0 = performance.now();
    let response: { statusCode: number; durationMs: number; chunks: Buffer[]; size: number } | undefined;
    let settled = false;
    const settle = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const settleResponse = () => {
      if (!response) return;
      settle({
        ok: true,
        statusCode: response.statusCode,
        durationMs: response.durationMs,
        snippet: Buffer.concat(response.chunks).subarray(0, opts.maxResponseBytes).toString('utf8'),
      });
    };
    const req = client.request(
      u,
      {
        method: 'POST',
        // A fresh connection per delivery: every send runs the guarded lookup; Host and SNI stay the URL's name.
        agent: false,
        lookup: guardedLookup(opts.policy) as unknown as net.LookupFunction,
        headers: { ...opts.headers, 'content-length': String(Buffer.byteLength(opts.body)) },
      },
      (res) => {
        response = { statusCode: res.statusCode ?? 0, durationMs: Math.round(performance.now() - t0), chunks: [], size: 0 };
        res.on('data', (chunk: Buffer) => {
          response!.chunks.push(chunk);
          response!.size += chunk.length;
          if (response!.size >= opts.maxResponseBytes) settleResponse();
        });
        res.on('end', settleResponse);
        res.on('error', settleResponse);
        res.on('aborted', settleResponse);
      },
    );
    // A receiver that answered but is slow to finish its body still answered: keep its status.
    const timer = setTimeout(() => (response ? settleResponse() : settle({ ok: false, error: SEND_ERRORS.timeout, detail: 'deadline' })), opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (response) return settleResponse();
      settle(
        err instanceof EgressRefused
          ? { ok: false, error: SEND_ERRORS.refused, detail: 'resolved to a non-public address' }
          : { ok: false, error: SEND_ERRORS.connection, detail: err.code ?? err.message },
      );
    });
    req.end(opts.body);
  });
}
