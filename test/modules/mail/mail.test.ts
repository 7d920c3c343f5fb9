// The mail outbox: without SMTP_URL messages wait and are listed (nothing dropped); with it the
// worker sends them to a real SMTP server on 127.0.0.1 after commit, retries temporary refusals on
// its schedule, gives up on permanent ones, and every value in the HTML part is escaped.
import t from 'tap';
import { type ConfigError, loadConfig } from '../../../src/config.js';
import { PASSWORD, manualClock, memberWithRole, signup, testApp } from '../../helpers/app.js';
import { prospectGrant } from '../../helpers/trust.js';
import { smtpServer } from '../../helpers/smtp.js';

t.test('SMTP_URL and MAIL_FROM are validated at boot', async (t) => {
  t.same(loadConfig({}).mail, { smtpUrl: undefined, from: undefined });
  t.same(loadConfig({ SMTP_URL: 'smtps://user:pw@mail.example.com:465', MAIL_FROM: 'Acme Trust <trust@acme.example>' }).mail, {
    smtpUrl: 'smtps://user:pw@mail.example.com:465',
    from: 'Acme Trust <trust@acme.example>',
  });
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };
  t.match(problems({ SMTP_URL: 'smtp://mail.example.com' }), [/MAIL_FROM is required/]);
  const bad = problems({ SMTP_URL: 'http://user:secret@mail.example.com', MAIL_FROM: 'trust@acme.example' });
  t.match(bad, [/SMTP_URL must be a smtp: or smtps: URL/]);
  t.notMatch(bad.join(' '), /secret/, 'the password is not echoed');
  t.match(problems({ MAIL_FROM: 'not an address' }), [/MAIL_FROM must be an e-mail address/]);
});

t.test('without SMTP_URL: invitations and grant links wait in the outbox, listed for admins', async (t) => {
  const app = await testApp(t);
  t.equal(app.mailWorker, undefined, 'no worker without SMTP_URL');
  const a = await signup(app, 'nosmtp');
  const invite = await app.inject({ method: 'POST', url: '/api/v1/members', headers: a.auth, payload: { email: 'Riley@Example.com', role: 'viewer' } });
  t.equal(invite.statusCode, 201);
  const { grant } = await prospectGrant(app, a);

  const list = async (query = '') => app.inject({ method: 'GET', url: `/api/v1/outbox/mail${query}`, headers: a.auth });
  const all = (await list()).json().items as { kind: string; to: string; text: string; status: string; attempts: number }[];
  t.same(
    all.map((m) => [m.kind, m.to, m.status, m.attempts]),
    [
      ['access_grant', 'pat@buyer.example.com', 'pending', 0],
      ['invitation', 'riley@example.com', 'pending', 0],
    ],
  );
  // The mailed link is signed on its own (ECDSA signatures differ), for the same grant: it opens the grant's page.
  const mailed = /https?:\/\/\S+\/access\/\S+/.exec(all[0]!.text)![0];
  t.ok(mailed.startsWith(grant.url.slice(0, grant.url.indexOf('/access/') + 8)), 'a grant link of this page');
  t.equal((await app.inject({ method: 'GET', url: new URL(mailed).pathname })).statusCode, 200, 'the mailed grant link works');
  t.ok(all[1]!.text.includes(invite.json().invitation.token), 'the invitation token is in the message');
  const page1 = (await list('?limit=1')).json();
  t.equal(page1.items.length, 1);
  const page2 = (await list(`?limit=1&cursor=${page1.nextCursor}`)).json();
  t.same([page2.items[0].kind, page2.nextCursor], ['invitation', null]);
  t.same(
    (await list('?to=RILEY@example.com')).json().items.map((m: { kind: string }) => m.kind),
    ['invitation'],
  );
  const viewer = await memberWithRole(app, a, 'viewer');
  t.equal((await app.inject({ method: 'GET', url: '/api/v1/outbox/mail', headers: viewer.auth })).statusCode, 403);
  const other = await signup(app, 'nosmtp-other');
  t.same(
    (await app.inject({ method: 'GET', url: '/api/v1/outbox/mail', headers: other.auth })).json().items,
    [],
    "another tenant sees none of this one's mail",
  );
});

t.test('temporary refusals are retried on the schedule; a permanent one fails; sent bodies are dropped', async (t) => {
  const smtp = await smtpServer(t);
  const time = manualClock();
  const app = await testApp(t, {
    clock: time.clock,
    config: { mail: { smtpUrl: smtp.url, from: 'trust@acme.example' } },
    // The test drives the worker itself, so each attempt is one call.
    options: { mail: { worker: false, retryScheduleMs: [60_000, 600_000] } },
  });
  const a = await signup(app, 'retry');
  const worker = app.mailWorker!;
  const outbox = async () => (await app.inject({ method: 'GET', url: '/api/v1/outbox/mail', headers: a.auth })).json().items;

  smtp.refuseNext(2, 451);
  await app.inject({ method: 'POST', url: '/api/v1/members', headers: a.auth, payload: { email: 'sam@example.com', role: 'viewer' } });
  t.equal(await worker.runOnce(), 1);
  let [m] = await outbox();
  t.match(m, { status: 'retrying', attempts: 1, lastError: 'SMTP 451', nextAttemptAt: '2026-06-01T12:01:00.000Z' });
  t.equal(await worker.runOnce(), 0, 'not due before its retry time');
  time.advance(60_000);
  t.equal(await worker.runOnce(), 1);
  [m] = await outbox();
  t.match(m, { status: 'retrying', attempts: 2, nextAttemptAt: '2026-06-01T12:11:00.000Z' });
  time.advance(600_000);
  t.equal(await worker.runOnce(), 1);
  [m] = await outbox();
  t.match(m, { status: 'sent', attempts: 3, lastError: null, text: null });
  t.equal(smtp.received.length, 1, 'delivered once');
  t.equal(smtp.received[0]!.to, 'sam@example.com');

  smtp.refuseNext(1, 550);
  await app.inject({ method: 'POST', url: '/api/v1/members', headers: a.auth, payload: { email: 'nobody@example.com', role: 'viewer' } });
  await worker.runOnce();
  [m] = await outbox();
  t.match(m, { to: 'nobody@example.com', status: 'failed', attempts: 1, lastError: 'SMTP 550', nextAttemptAt: null });
  t.ok(m.text.length > 0, 'a failed message keeps its text, so an admin can pass it on');
  time.advance(86_400_000);
  t.equal(await worker.runOnce(), 0, 'a failed message is not tried again');

  // An admin sends it again (the address was fixed on the other side): a new round of tries.
  // A day later the owner's token has expired: log in again.
  const login = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: a.email, password: PASSWORD } });
  a.auth = { authorization: `Bearer ${login.json().accessToken}` };
  const other = await signup(app, 'retry-other');
  t.equal((await app.inject({ method: 'POST', url: `/api/v1/outbox/mail/${m.id}/retry`, headers: other.auth })).statusCode, 404, "another tenant's message");
  const retried = await app.inject({ method: 'POST', url: `/api/v1/outbox/mail/${m.id}/retry`, headers: a.auth });
  t.equal(retried.statusCode, 200, retried.body);
  t.match(retried.json(), { status: 'pending', attempts: 0, lastError: 'SMTP 550' });
  t.equal(await worker.runOnce(), 1);
  [m] = await outbox();
  t.match(m, { to: 'nobody@example.com', status: 'sent', attempts: 1 });
  t.equal(smtp.received.filter((r) => r.to === 'nobody@example.com').length, 1, 'delivered on the retry');
  const again = await app.inject({ method: 'POST', url: `/api/v1/outbox/mail/${m.id}/retry`, headers: a.auth });
  t.equal(again.statusCode, 409, 'a sent message is not sent again');
  const audit = (await app.inject({ method: 'GET', url: '/api/v1/audit-events?action=mail.retried', headers: a.auth })).json();
  t.equal(audit.items.length, 1, 'the retry is audited');
});

t.test('an unreachable SMTP server is a retry, not a loss', async (t) => {
  const time = manualClock();
  // Nothing listens on port 9 of loopback (discard): the connection is refused.
  const app = await testApp(t, {
    clock: time.clock,
    config: { mail: { smtpUrl: 'smtp://127.0.0.1:9', from: 'trust@acme.example' } },
    options: { mail: { worker: false, timeoutMs: 2000 } },
  });
  const a = await signup(app, 'down');
  await app.inject({ method: 'POST', url: '/api/v1/members', headers: a.auth, payload: { email: 'sam@example.com', role: 'viewer' } });
  await app.mailWorker!.runOnce();
  const [m] = (await app.inject({ method: 'GET', url: '/api/v1/outbox/mail', headers: a.auth })).json().items;
  t.match(m, { status: 'retrying', attempts: 1, lastError: 'connection failed' });
});

t.test("everything a person wrote is escaped in a message's HTML part", async (t) => {
  const smtp = await smtpServer(t);
  const app = await testApp(t, { config: { mail: { smtpUrl: smtp.url, from: 'trust@acme.example' } }, options: { mail: { pollIntervalMs: 20 } } });
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/signup',
    payload: {
      organization: { name: 'Evil <script>alert(1)</script> & Co', slug: `evil-${process.pid}` },
      user: { email: `owner@evil-${process.pid}.example.com`, password: 'Correct-Horse-Battery-9' },
    },
  });
  t.equal(res.statusCode, 201, res.body);
  const auth = { authorization: `Bearer ${res.json().accessToken}` };
  await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: auth, payload: { published: true } });
  await app.inject({ method: 'POST', url: `/api/v1/public/trust/evil-${process.pid}/subscriptions`, payload: { email: 'dana@example.com' } });
  const confirm = await smtp.waitFor((m) => m.to === 'dana@example.com');
  t.notMatch(confirm.html, /<script>/);
  t.match(confirm.html, /Evil &lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; Co/);
  t.match(confirm.text, 'Evil <script>alert(1)</script> & Co', 'the text part is the words as written');
  const link = /https?:\/\/\S+\/subscriptions\/confirm\?token=\S+/.exec(confirm.text)![0];
  await app.inject({ method: 'POST', url: new URL(link).pathname + new URL(link).search });

  const update = await app.inject({
    method: 'POST',
    url: '/api/v1/trust-updates',
    headers: auth,
    payload: {
      title: 'Fixed <img src=x onerror=alert(1)>',
      body: 'See [our notes](javascript:alert(1)) and [the report](https://example.com/r?a=1&b=2).\n\n<script>alert(2)</script> **bold**',
      category: 'incident',
    },
  });
  t.equal(update.statusCode, 201, update.body);
  t.notMatch(update.json().bodyHtml, /<script|href="javascript/i);
  await app.inject({ method: 'POST', url: `/api/v1/trust-updates/${update.json().id}/publish`, headers: auth, payload: { notify: 'all' } });
  const notice = await smtp.waitFor((m) => m.to === 'dana@example.com' && m.subject.includes('Fixed'));
  t.equal(notice.subject, 'Evil <script>alert(1)</script> & Co: Fixed <img src=x onerror=alert(1)>', 'the subject is plain text');
  t.notMatch(notice.html, /<img|<script|href="javascript/i);
  t.match(notice.html, /Fixed &lt;img src=x onerror=alert\(1\)&gt;/);
  t.match(notice.html, /&lt;script&gt;alert\(2\)&lt;\/script&gt; <strong>bold<\/strong>/);
  t.match(notice.html, /<a href="https:\/\/example\.com\/r\?a=1&amp;b=2" rel="noopener noreferrer">the report<\/a>/);
  t.match(notice.html, /\[our notes\]\(javascript:alert\(1\)\)/, 'a javascript: link stays text');
  const page = await app.inject({ method: 'GET', url: `/trust/evil-${process.pid}` });
  t.notMatch(page.body, /<script|<img src=x/);
});
