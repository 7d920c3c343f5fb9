// Trust-page subscribers, updates and subprocessor change notices, through a real SMTP server on
// 127.0.0.1: double opt-in, a published update and a subprocessor notice reach the confirmed
// subscriber only, one-click unsubscribe (RFC 8058) stops them, the events go out as webhooks.
import t, { type Test } from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { manualClock, signup, testApp } from '../../helpers/app.js';
import { linkIn, smtpServer } from '../../helpers/smtp.js';
import { parseXml, type XmlElement } from '../../helpers/xml.js';
import { prospectGrant } from '../../helpers/trust.js';

const PUBLIC_URL = 'http://trust.test.example';
const path = (url: string) => url.slice(PUBLIC_URL.length);

async function webhookInbox(t: Test) {
  const bodies: { type: string; data: Record<string, unknown> }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
}

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
};

t.test('subscribe, confirm by mail, receive updates and a subprocessor notice, unsubscribe', async (t) => {
  const smtp = await smtpServer(t);
  const hooks = await webhookInbox(t);
  const time = manualClock(new Date('2026-06-01T12:00:00Z'));
  const app = await testApp(t, {
    clock: time.clock,
    config: {
      publicUrl: PUBLIC_URL,
      mail: { smtpUrl: smtp.url, from: 'Acme Trust <trust@acme.example>' },
      webhooks: { requireHttps: false, allowPrivateNetworks: true },
    },
    options: { mail: { pollIntervalMs: 20 }, webhooks: { pollIntervalMs: 20 } },
  });
  const a = await signup(app, 'subs');
  const other = await signup(app, 'subs-other');
  const hook = await app.inject({
    method: 'POST',
    url: '/api/v1/webhooks',
    headers: a.auth,
    payload: { url: hooks.url, events: ['trust.update_published', 'subscriber.confirmed', 'subscriber.removed'] },
  });
  t.equal(hook.statusCode, 201, hook.body);
  const page = await app.inject({
    method: 'PUT',
    url: '/api/v1/trust-page',
    headers: a.auth,
    payload: { published: true, subprocessors: [{ name: 'Cloud Host', purpose: 'Hosting', location: 'Ireland' }] },
  });
  t.equal(page.statusCode, 200, page.body);
  t.equal(page.json().subprocessorNoticeDays, 30);
  for (const o of [other]) await app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: o.auth, payload: { published: true } });

  // Double opt-in: the same answer for a new address, the same address again, and a second one.
  const subscribe = (email: string, topics?: string[]) =>
    app.inject({ method: 'POST', url: `/api/v1/public/trust/${a.slug}/subscriptions`, payload: { email, ...(topics ? { topics } : {}) } });
  const first = await subscribe('Alice@Example.com');
  const again = await subscribe('alice@example.com');
  const bob = await subscribe('bob@example.com', ['incident']);
  t.equal(first.statusCode, 202);
  t.same([again.statusCode, again.body, bob.statusCode, bob.body], [202, first.body, 202, first.body], 'no oracle: every answer is the same');
  t.equal((await subscribe('not-an-address')).statusCode, 400);

  const confirmation = await smtp.waitFor((m) => m.to === 'alice@example.com');
  await smtp.waitFor((m) => m.to === 'bob@example.com');
  t.equal(smtp.received.filter((m) => m.to === 'alice@example.com').length, 1, 'a second subscribe within a minute sends no second confirmation');
  t.equal(confirmation.from, 'trust@acme.example');
  t.match(confirmation.subject, /Confirm your subscription/);
  t.match(confirmation.listUnsubscribePost, 'List-Unsubscribe=One-Click');
  t.match(confirmation.html, /<a href="http:\/\/trust\.test\.example\/trust\/[^"]+\/subscriptions\/confirm\?token=/);

  // Opening the link changes nothing (mail scanners open links); the page's button confirms.
  const confirmLink = linkIn(confirmation.text, `${PUBLIC_URL}/trust/${a.slug}/subscriptions/confirm`);
  const open = await app.inject({ method: 'GET', url: path(confirmLink) });
  t.equal(open.statusCode, 200);
  t.match(open.body, /Confirm subscription<\/button>/);
  const listed = async (who = a) =>
    (await app.inject({ method: 'GET', url: '/api/v1/subscribers', headers: who.auth })).json().items as {
      id: string;
      email: string;
      status: string;
      topics: string[];
    }[];
  t.same((await listed()).map((s) => [s.email, s.status]).sort(), [
    ['alice@example.com', 'pending'],
    ['bob@example.com', 'pending'],
  ]);
  const confirmed = await app.inject({ method: 'POST', url: path(confirmLink) });
  t.equal(confirmed.statusCode, 200);
  t.match(confirmed.body, /Subscription confirmed/);
  t.match((await app.inject({ method: 'POST', url: path(confirmLink) })).body, /Already confirmed/, 'confirming twice changes nothing');
  const alice = (await listed()).find((s) => s.email === 'alice@example.com')!;
  t.equal(alice.status, 'confirmed');
  t.equal((await listed(other)).length, 0, 'another tenant sees none of them');
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/subscribers/${alice.id}`, headers: other.auth })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: path(confirmLink).replace(a.slug, other.slug) })).statusCode, 404, "a link on another organization's page");
  t.equal((await app.inject({ method: 'GET', url: path(confirmLink).replace(/token=.{4}/, 'token=AAAA') })).statusCode, 401, 'a tampered link');

  // An update published with notify all reaches the confirmed subscriber only.
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/trust-updates',
    headers: a.auth,
    payload: { title: 'Penetration test 2026', body: 'An external firm tested the platform: **no critical finding** remains.', category: 'security' },
  });
  t.equal(created.statusCode, 201, created.body);
  t.equal(created.json().status, 'draft');
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/trust-updates/${created.json().id}`, headers: other.auth })).statusCode, 404);
  const published = await app.inject({
    method: 'POST',
    url: `/api/v1/trust-updates/${created.json().id}/publish`,
    headers: a.auth,
    payload: { notify: 'all' },
  });
  t.equal(published.statusCode, 200, published.body);
  t.equal(published.json().recipients, 1, 'alice only: bob is unconfirmed');
  t.equal(
    (await app.inject({ method: 'POST', url: `/api/v1/trust-updates/${created.json().id}/publish`, headers: a.auth, payload: { notify: 'all' } })).statusCode,
    409,
  );
  const notice = await smtp.waitFor((m) => m.to === 'alice@example.com' && m.subject.includes('Penetration test 2026'));
  t.match(notice.html, /<strong>no critical finding<\/strong>/);
  const unsubscribeUrl = /^<(.+)>$/.exec(notice.listUnsubscribe ?? '')?.[1];
  t.ok(unsubscribeUrl?.startsWith(`${PUBLIC_URL}/trust/${a.slug}/subscriptions/unsubscribe?token=`), 'List-Unsubscribe names the one-click URL');
  t.equal(notice.listUnsubscribePost, 'List-Unsubscribe=One-Click');
  t.match(notice.text, unsubscribeUrl!, 'the unsubscribe link is in the text too');

  // A subprocessor change drafts a notice and sends nothing until a person publishes it.
  const changed = await app.inject({
    method: 'PUT',
    url: '/api/v1/trust-page',
    headers: a.auth,
    payload: {
      subprocessors: [
        { name: 'Cloud Host', purpose: 'Hosting', location: 'Germany' },
        { name: 'Mail Relay', purpose: 'Transactional e-mail', location: 'United States' },
      ],
    },
  });
  t.equal(changed.statusCode, 200, changed.body);
  const drafts = (await app.inject({ method: 'GET', url: '/api/v1/trust-updates?status=draft', headers: a.auth })).json().items;
  t.equal(drafts.length, 1);
  const draft = drafts[0];
  t.equal(draft.origin, 'subprocessor_change');
  t.equal(draft.category, 'subprocessor');
  t.equal(draft.effectiveAt, '2026-07-01T12:00:00.000Z', '30 days after the change by default');
  t.same(
    draft.changes.map((c: { change: string; name: string }) => [c.change, c.name]),
    [
      ['changed', 'Cloud Host'],
      ['added', 'Mail Relay'],
    ],
  );
  t.match(draft.body, /location from "Ireland" to "Germany"/);
  // A further change updates the same draft (still measured from the list before the first change).
  await app.inject({
    method: 'PUT',
    url: '/api/v1/trust-page',
    headers: a.auth,
    payload: { subprocessors: [{ name: 'Mail Relay', purpose: 'Transactional e-mail', location: 'United States' }], subprocessorNoticeDays: 45 },
  });
  await app.inject({
    method: 'PUT',
    url: '/api/v1/trust-page',
    headers: a.auth,
    payload: { subprocessors: [{ name: 'Mail Relay', purpose: 'Transactional e-mail', location: 'United States' }] },
  });
  const redrafted = (await app.inject({ method: 'GET', url: '/api/v1/trust-updates?status=draft', headers: a.auth })).json().items;
  t.equal(redrafted.length, 1, 'one draft, brought up to date');
  t.same(
    redrafted[0].changes.map((c: { change: string; name: string }) => [c.change, c.name]),
    [
      ['added', 'Mail Relay'],
      ['removed', 'Cloud Host'],
    ],
  );
  t.equal(redrafted[0].effectiveAt, '2026-07-16T12:00:00.000Z', 'the page setting (45 days) dates it');
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(
    smtp.received.some((m) => m.subject.includes('subprocessors')),
    'nothing sent before a person publishes',
  );
  const pub2 = await app.inject({ method: 'POST', url: `/api/v1/trust-updates/${redrafted[0].id}/publish`, headers: a.auth, payload: { notify: 'all' } });
  t.equal(pub2.json().recipients, 1);
  const spNotice = await smtp.waitFor((m) => m.to === 'alice@example.com' && m.subject.includes('Changes to our subprocessors'));
  t.match(spNotice.text, /Added: \*\*Mail Relay\*\*/);
  t.match(spNotice.html, /Removed: <strong>Cloud Host<\/strong>/);
  t.match(spNotice.text, /Effective 2026-07-16/);

  // The page shows the updates without scripts, the JSON carries them, the feed is Atom.
  const html = await app.inject({ method: 'GET', url: `/trust/${a.slug}` });
  t.match(html.body, /<section id="updates"/);
  t.match(html.body, /Penetration test 2026/);
  t.match(html.body, /<form method="post" action="\/trust\/[^"]+\/subscribe"/);
  t.notMatch(html.body, /<script/);
  const json = (await app.inject({ method: 'GET', url: `/api/v1/public/trust/${a.slug}` })).json();
  t.same(
    json.updates.map((u: { title: string }) => u.title),
    ['Changes to our subprocessors', 'Penetration test 2026'],
  );
  const atom = await app.inject({ method: 'GET', url: `/trust/${a.slug}/updates.atom` });
  t.equal(atom.statusCode, 200);
  t.match(atom.headers['content-type'], /application\/atom\+xml/);
  const feed = parseXml(atom.body);
  const ATOM = 'http://www.w3.org/2005/Atom';
  t.equal(feed.name, 'feed');
  t.equal(feed.uri, ATOM, 'the Atom namespace');
  const child = (el: XmlElement, name: string) => el.children.filter((c) => c.name === name && c.uri === ATOM);
  for (const required of ['id', 'title', 'updated', 'author']) t.equal(child(feed, required).length, 1, `feed has one <${required}>`);
  t.equal(child(feed, 'link').find((l) => l.attributes.rel === 'self')?.attributes.href, `${PUBLIC_URL}/trust/${a.slug}/updates.atom`);
  const entries = child(feed, 'entry');
  t.equal(entries.length, 2);
  for (const e of entries) {
    for (const required of ['id', 'title', 'updated']) t.equal(child(e, required).length, 1, `entry has one <${required}>`);
    t.match(child(e, 'id')[0]!.text, /^urn:uuid:[0-9a-f-]{36}$/);
    t.ok(!Number.isNaN(Date.parse(child(e, 'updated')[0]!.text)), 'updated is a date');
  }
  t.equal(child(entries[1]!, 'title')[0]!.text, 'Penetration test 2026');
  t.match(child(entries[1]!, 'content')[0]!.text, '<strong>no critical finding</strong>', 'the HTML content is escaped in the XML and unescapes to markup');
  t.equal(child(entries[0]!, 'category')[0]!.attributes.term, 'subprocessor');

  // One click (RFC 8058): a POST to the List-Unsubscribe URL; then nothing more arrives.
  const before = smtp.received.length;
  const unsub = await app.inject({
    method: 'POST',
    url: path(unsubscribeUrl!),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'List-Unsubscribe=One-Click',
  });
  t.equal(unsub.statusCode, 200);
  t.match(unsub.body, /You are unsubscribed/);
  t.equal((await listed()).find((s) => s.email === 'alice@example.com')!.status, 'unsubscribed');
  const third = await app.inject({
    method: 'POST',
    url: '/api/v1/trust-updates',
    headers: a.auth,
    payload: { title: 'ISO renewal', body: 'Renewed.', category: 'certification' },
  });
  const pub3 = await app.inject({ method: 'POST', url: `/api/v1/trust-updates/${third.json().id}/publish`, headers: a.auth, payload: { notify: 'all' } });
  t.equal(pub3.json().recipients, 0, 'nobody left to mail');
  await new Promise((r) => setTimeout(r, 300));
  t.equal(smtp.received.length, before, 'nothing more was sent after the unsubscribe');
  t.same(
    smtp.received.filter((m) => m.to === 'bob@example.com').map((m) => m.subject),
    [confirmation.subject],
    'the unconfirmed address got only its confirmation',
  );

  // The events went out as webhooks.
  await until(() => hooks.bodies.filter((b) => b.type === 'trust.update_published').length === 3 && hooks.bodies.some((b) => b.type === 'subscriber.removed'));
  const confirmedEvent = hooks.bodies.find((b) => b.type === 'subscriber.confirmed');
  t.same(confirmedEvent?.data, { subscriberId: alice.id, email: 'alice@example.com', topics: [], confirmedAt: '2026-06-01T12:00:00.000Z' });
  t.match(hooks.bodies.find((b) => b.type === 'subscriber.removed')?.data, { subscriberId: alice.id, reason: 'unsubscribed' });
  t.match(hooks.bodies.find((b) => b.type === 'trust.update_published' && b.data.category === 'subprocessor')?.data, {
    title: 'Changes to our subprocessors',
    audience: 'public',
    notify: 'all',
    recipients: 1,
    effectiveAt: '2026-07-16T12:00:00.000Z',
  });

  // A confirmation link expires after 7 days; the vendor can remove a subscriber.
  const carol = await subscribe('carol@example.com');
  t.equal(carol.statusCode, 202);
  const carolMail = await smtp.waitFor((m) => m.to === 'carol@example.com');
  const bobRow = (await listed()).find((s) => s.email === 'bob@example.com')!;
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/subscribers/${bobRow.id}`, headers: a.auth })).statusCode, 204);
  t.notOk((await listed()).some((s) => s.email === 'bob@example.com'));
  time.advance(8 * 86_400_000);
  const late = await app.inject({ method: 'POST', url: path(linkIn(carolMail.text, `${PUBLIC_URL}/trust/${a.slug}/subscriptions/confirm`)) });
  t.equal(late.statusCode, 410);
});

t.test('update notices to grant holders carry a one-click opt-out that keeps the address out of later ones', async (t) => {
  const smtp = await smtpServer(t);
  const app = await testApp(t, {
    config: { publicUrl: PUBLIC_URL, mail: { smtpUrl: smtp.url, from: 'trust@acme.example' } },
    options: { mail: { pollIntervalMs: 20 } },
  });
  const a = await signup(app, 'grantee-notices');
  const other = await signup(app, 'grantee-notices-other');
  await prospectGrant(app, a, { name: 'Pat Buyer', email: 'Pat@Buyer.example.com', company: 'Buyer Inc' });
  await prospectGrant(app, a, { name: 'Quinn Buyer', email: 'quinn@buyer.example.com', company: 'Buyer Inc' });
  const publish = async (title: string) => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/trust-updates',
      headers: a.auth,
      payload: { title, body: 'For holders of document access.', category: 'security', audience: 'grantees' },
    });
    t.equal(created.statusCode, 201, created.body);
    const res = await app.inject({ method: 'POST', url: `/api/v1/trust-updates/${created.json().id}/publish`, headers: a.auth, payload: { notify: 'all' } });
    t.equal(res.statusCode, 200, res.body);
    return res.json().recipients as number;
  };

  t.equal(await publish('Grantee notice one'), 2, 'both grant holders');
  const pat = await smtp.waitFor((m) => m.to === 'pat@buyer.example.com' && m.subject.includes('Grantee notice one'));
  await smtp.waitFor((m) => m.to === 'quinn@buyer.example.com' && m.subject.includes('Grantee notice one'));
  const optOut = /^<(.+)>$/.exec(pat.listUnsubscribe ?? '')?.[1];
  t.ok(optOut?.startsWith(`${PUBLIC_URL}/trust/${a.slug}/subscriptions/unsubscribe?token=`), 'List-Unsubscribe names the one-click URL');
  t.equal(pat.listUnsubscribePost, 'List-Unsubscribe=One-Click');
  t.match(pat.text, optOut!, 'the link is in the text');
  t.match(pat.text, /because you have access to documents/);
  t.match(pat.html, /<a href="http:\/\/trust\.test\.example\/trust\/[^"]+\/subscriptions\/unsubscribe\?token=/);

  // The link is bound to its organization and cannot be altered into another address.
  t.equal((await app.inject({ method: 'GET', url: path(optOut!).replace(a.slug, other.slug) })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: path(optOut!).replace(/token=.{4}/, 'token=AAAA') })).statusCode, 401);
  // Opening it changes nothing (mail scanners open links); the one-click POST opts out, twice is the same.
  const open = await app.inject({ method: 'GET', url: path(optOut!) });
  t.equal(open.statusCode, 200);
  t.notMatch(open.body, /You are unsubscribed/);
  for (let i = 0; i < 2; i++) {
    const res = await app.inject({
      method: 'POST',
      url: path(optOut!),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    t.equal(res.statusCode, 200);
    t.match(res.body, /You are unsubscribed/);
  }
  t.match((await app.inject({ method: 'GET', url: path(optOut!) })).body, /You are unsubscribed/, 'the page says so afterwards');
  const audit = (await app.inject({ method: 'GET', url: '/api/v1/audit-events?action=trust_notice.grantee_opted_out', headers: a.auth })).json();
  t.equal(audit.items.filter((e: { action: string }) => e.action === 'trust_notice.grantee_opted_out').length, 1, 'recorded once');

  // The next notice to grantees skips the address that opted out; the other holder still gets it.
  const before = smtp.received.filter((m) => m.to === 'pat@buyer.example.com').length;
  t.equal(await publish('Grantee notice two'), 1, 'quinn only');
  await smtp.waitFor((m) => m.to === 'quinn@buyer.example.com' && m.subject.includes('Grantee notice two'));
  await new Promise((r) => setTimeout(r, 300));
  t.equal(smtp.received.filter((m) => m.to === 'pat@buyer.example.com').length, before, 'nothing more reached the address that opted out');
  // Another organization's grantee notices are not affected by this one's opt-out.
  await prospectGrant(app, other, { name: 'Pat Buyer', email: 'pat@buyer.example.com', company: 'Buyer Inc' });
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/trust-updates',
    headers: other.auth,
    payload: { title: 'Other notice', body: 'Hello.', category: 'general', audience: 'grantees' },
  });
  const res = await app.inject({ method: 'POST', url: `/api/v1/trust-updates/${created.json().id}/publish`, headers: other.auth, payload: { notify: 'all' } });
  t.equal(res.json().recipients, 1);
});

t.test('a subprocessor notice a person edited is kept as written; drafts can be deleted, published updates cannot', async (t) => {
  const time = manualClock(new Date('2026-06-01T12:00:00Z'));
  const app = await testApp(t, { clock: time.clock });
  const a = await signup(app, 'notice-edits');
  const other = await signup(app, 'notice-edits-other');
  const put = (subprocessors: { name: string; purpose: string; location: string }[]) =>
    app.inject({ method: 'PUT', url: '/api/v1/trust-page', headers: a.auth, payload: { published: true, subprocessors } });
  const drafts = async () =>
    (await app.inject({ method: 'GET', url: '/api/v1/trust-updates?status=draft', headers: a.auth })).json().items as {
      id: string;
      title: string;
      body: string;
      changes: { change: string; name: string }[];
    }[];
  const host = { name: 'Cloud Host', purpose: 'Hosting', location: 'Ireland' };
  const relay = { name: 'Mail Relay', purpose: 'Transactional e-mail', location: 'United States' };
  const crm = { name: 'CRM Vendor', purpose: 'Customer records', location: 'Germany' };
  t.equal((await put([host])).statusCode, 200);
  t.equal((await put([host, relay])).statusCode, 200);
  const [first] = await drafts();
  t.same(
    first!.changes.map((c) => [c.change, c.name]),
    [['added', 'Mail Relay']],
  );
  const words = 'We are adding Mail Relay for transactional e-mail. Our DPA lists it from 1 July.';
  const edited = await app.inject({ method: 'PATCH', url: `/api/v1/trust-updates/${first!.id}`, headers: a.auth, payload: { body: words } });
  t.equal(edited.statusCode, 200, edited.body);

  // A further change leaves the edited draft as the person wrote it and drafts the new change apart.
  t.equal((await put([host, relay, crm])).statusCode, 200);
  const after = await drafts();
  t.equal(after.length, 2);
  const kept = after.find((d) => d.id === first!.id)!;
  t.equal(kept.body, words, 'the hand-written text is not overwritten');
  t.same(
    kept.changes.map((c) => [c.change, c.name]),
    [['added', 'Mail Relay']],
  );
  const fresh = after.find((d) => d.id !== first!.id)!;
  t.same(
    fresh.changes.map((c) => [c.change, c.name]),
    [['added', 'CRM Vendor']],
    'the new draft lists only the change after the edit',
  );
  // The new draft, untouched, is brought up to date as before.
  t.equal((await put([host, relay])).statusCode, 200);
  t.same(
    (await drafts()).map((d) => d.id),
    [first!.id],
    'the list back where the new draft started drops it; the edited one stays',
  );

  // Deleting: another tenant's is a 404, a draft goes, a published update is a 409.
  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/trust-updates/${first!.id}`, headers: other.auth })).statusCode, 404);
  const del = await app.inject({ method: 'DELETE', url: `/api/v1/trust-updates/${first!.id}`, headers: a.auth });
  t.equal(del.statusCode, 204);
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/trust-updates/${first!.id}`, headers: a.auth })).statusCode, 404);
  const audit = (await app.inject({ method: 'GET', url: '/api/v1/audit-events?action=trust_update.deleted', headers: a.auth })).json();
  t.equal(audit.items.length, 1, 'the deletion is audited');
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/trust-updates',
    headers: a.auth,
    payload: { title: 'Published', body: 'Text.', category: 'general' },
  });
  await app.inject({ method: 'POST', url: `/api/v1/trust-updates/${created.json().id}/publish`, headers: a.auth, payload: { notify: 'none' } });
  const refused = await app.inject({ method: 'DELETE', url: `/api/v1/trust-updates/${created.json().id}`, headers: a.auth });
  t.equal(refused.statusCode, 409);
  t.equal(refused.json().code, 'conflict');
});
