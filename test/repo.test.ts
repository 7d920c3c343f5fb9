import t from 'tap';
import fs from 'node:fs';
import { API_INFO } from '../src/plugins/swagger.js';

const read = (f: string) => fs.readFileSync(f, 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string; license: string; engines: { node: string } };

t.test('the OpenAPI version is the package version, and the changelog has its section', async (t) => {
  t.equal(API_INFO.version, pkg.version);
  t.match(read('CHANGELOG.md'), new RegExp(`^## \\[${pkg.version.replace(/\./g, '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'));
  t.match(read('CHANGELOG.md'), /^## \[Unreleased\]$/m, 'a place for the next changes');
});

t.test('the licence the package declares is granted in full', async (t) => {
  t.equal(pkg.license, 'Apache-2.0');
  const licence = read('LICENSE');
  t.match(licence, /Apache License\s+Version 2\.0, January 2004/);
  t.match(licence, /END OF TERMS AND CONDITIONS/);
  t.ok(fs.existsSync('NOTICE') && fs.existsSync('SECURITY.md') && fs.existsSync('CONTRIBUTING.md'));
});

t.test('.nvmrc and engines agree on Node 20', async (t) => {
  t.equal(read('.nvmrc').trim(), '20');
  t.match(pkg.engines.node, /^>=20\./);
});
