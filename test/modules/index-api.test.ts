// Each module is used through its index.ts (the lint forbids reaching past it); this checks what the
// lint cannot see: an index says in two comment lines what the module owns, and hands out no table.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { is, Table } from 'drizzle-orm';

const MODULES = path.resolve('src/modules');

for (const name of fs.readdirSync(MODULES).filter((d) => fs.statSync(path.join(MODULES, d)).isDirectory())) {
  t.test(`modules/${name}/index.ts`, async (t) => {
    const file = path.join(MODULES, name, 'index.ts');
    t.ok(fs.existsSync(file), 'exists');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    t.ok(lines[0]!.startsWith('// ') && lines[1]!.startsWith('// '), `starts with two comment lines: ${lines[0]}`);
    const api = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const tables = Object.entries(api)
      .filter(([, v]) => is(v, Table))
      .map(([k]) => k);
    t.same(tables, [], 'exports no table: other modules read through its functions');
  });
}
