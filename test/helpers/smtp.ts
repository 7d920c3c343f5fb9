import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface Received {
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: ParsedMail['headers'];
  /** The raw List-Unsubscribe header lines, as sent. */
  listUnsubscribe: string | undefined;
  listUnsubscribePost: string | undefined;
  from: string;
}

/**
 * A real SMTP server on 127.0.0.1 (the `smtp-server` package) that parses what it receives with
 * `mailparser`. `refuseNext(n, code)` makes it answer the next n messages with that reply code.
 */
export async function smtpServer(t: Test) {
  const received: Received[] = [];
  let refusals: { left: number; code: number } = { left: 0, code: 451 };
  const server = new SMTPServer({
    authOptional: true,
    // Plain SMTP on loopback: the test certificate would be refused by the client's TLS check.
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refusals.left > 0) {
          refusals.left--;
          const err = Object.assign(new Error('try again later'), { responseCode: refusals.code });
          callback(err);
          return;
        }
        simpleParser(Buffer.concat(chunks)).then(
          (m) => {
            const raw = (name: string) =>
              m.headerLines
                .find((h) => h.key === name)
                ?.line.replace(/^[^:]+:\s*/, '')
                .replace(/\r?\n\s+/g, ' ');
            const to = Array.isArray(m.to) ? m.to[0] : m.to;
            received.push({
              to: to?.value[0]?.address ?? '',
              from: m.from?.value[0]?.address ?? '',
              subject: m.subject ?? '',
              text: m.text ?? '',
              html: typeof m.html === 'string' ? m.html : '',
              headers: m.headers,
              listUnsubscribe: raw('list-unsubscribe'),
              listUnsubscribePost: raw('list-unsubscribe-post'),
            });
            callback();
          },
          (err: Error) => callback(err),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    refuseNext(n: number, code = 451) {
      refusals = { left: n, code };
    },
    /** Waits until a received message satisfies `match` (polling), or fails after `ms`. */
    async waitFor(match: (m: Received) => boolean, ms = 10_000): Promise<Received> {
      const until = Date.now() + ms;
      for (;;) {
        const hit = received.find(match);
        if (hit) return hit;
        if (Date.now() > until)
          throw new Error(`no matching message within ${ms} ms (received: ${received.map((m) => `${m.to}: ${m.subject}`).join('; ') || 'none'})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** The first link in a text that starts with this prefix. */
export function linkIn(text: string, prefix: string): string {
  const found = text.match(/https?:\/\/\S+/g)?.find((u) => u.startsWith(prefix));
  if (!found) throw new Error(`no link starting with ${prefix} in:\n${text}`);
  return found;
}
