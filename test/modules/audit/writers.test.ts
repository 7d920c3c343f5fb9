import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// The audit log has one writer, the audit module's service: a path that inserted rows itself
// (the trust page's access requests, the catalog migration did) would skip whatever that writer
// guarantees. Read from the sources, so a new way round it fails here.
const SRC = fileURLToPath(new URL('../../../src', import.meta.url));

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

t.test('only the audit module reads or writes the audit table', async (t) => {
  const files = sources(SRC);
  t.ok(files.length > 100, `read ${files.length} source files`);
  const outside = files
    .filter((f) => !f.startsWith(path.join(SRC, 'modules', 'audit') + path.sep))
    // The schema barrel re-exports every table for drizzle-kit and the migrator.
    .filter((f) => f !== path.join(SRC, 'db', 'schema.ts'))
    .filter((f) => /from '[./]*(?:modules\/)?audit\/tables\.js'/.test(fs.readFileSync(f, 'utf8')))
    .map((f) => path.relative(SRC, f));
  t.same(outside, [], 'no other file imports the audit table');
});
