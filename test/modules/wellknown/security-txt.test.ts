import t from 'tap';
import { loadConfig, ConfigError } from '../../../src/config.js';
import { testApp, manualClock } from '../../helpers/app.js';

/** RFC 9116: `Field: value` lines; returns the fields in order. */
function fields(body: string): Array<[string, string]> {
  return body
    .trimEnd()
    .split('\n')
    .map((line) => {
      const m = /^([A-Za-z-]+): (\S.*)$/.exec(line);
      if (!m) throw new Error(`not a security.txt line: ${line}`);
      return [m[1]!, m[2]!];
    });
}

t.test('security.txt answers an RFC 9116 file from configuration, on any host', async (t) => {
  const { clock } = manualClock(new Date('2026-12-03T15:00:00Z'));
  const config = loadConfig(
    {
      SECURITY_CONTACT: 'security@example.com, https://example.com/report',
      SECURITY_POLICY_URL: 'https://example.com/security-policy',
      PUBLIC_URL: 'https://trust.example.com',
    },
    process.cwd(),
  );
  const app = await testApp(t, { clock, config: { security: config.security, publicUrl: config.publicUrl } });
  for (const host of ['api.example.com', 'trust.customer.example']) {
    const r = await app.inject({ method: 'GET', url: '/.well-known/security.txt', headers: { host } });
    t.equal(r.statusCode, 200, `served on ${host}`);
    t.match(r.headers['content-type'], /^text\/plain; charset=utf-8/);
    const f = fields(r.body);
    t.same(
      f.filter(([k]) => k === 'Contact').map(([, v]) => v),
      ['mailto:security@example.com', 'https://example.com/report'],
      'contacts in order, a bare address as mailto:',
    );
    const expires = f.filter(([k]) => k === 'Expires');
    t.equal(expires.length, 1, 'exactly one Expires');
    const at = Date.parse(expires[0]![1]);
    t.match(expires[0]![1], /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'an RFC 3339 date-time');
    t.ok(at > clock().getTime() && at < clock().getTime() + 365 * 86_400_000, 'in the future, less than a year away');
    t.same(f.find(([k]) => k === 'Canonical')?.[1], 'https://trust.example.com/.well-known/security.txt');
    t.same(f.find(([k]) => k === 'Policy')?.[1], 'https://example.com/security-policy');
  }
});

t.test('without SECURITY_CONTACT there is no security.txt', async (t) => {
  const app = await testApp(t);
  const r = await app.inject({ method: 'GET', url: '/.well-known/security.txt' });
  t.equal(r.statusCode, 404);
  t.equal(r.json().code, 'not_found');
});

t.test('SECURITY_CONTACT is validated at boot', async (t) => {
  t.same(loadConfig({}, process.cwd()).security, { contacts: [], policyUrl: undefined });
  t.throws(() => loadConfig({ SECURITY_CONTACT: 'call us' }, process.cwd()), ConfigError);
  t.throws(() => loadConfig({ SECURITY_CONTACT: 'http://example.com/report' }, process.cwd()), ConfigError, 'plain http is not a contact URI');
  t.throws(() => loadConfig({ SECURITY_CONTACT: 'a@example.com', SECURITY_POLICY_URL: 'ftp://x' }, process.cwd()), ConfigError);
});
