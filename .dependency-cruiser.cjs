// Module boundaries, checked in CI (npm run lint:deps). The layers go one way, lowest first; a file
// may import its own layer and the layers below it, never a layer above. Each module is a layer of
// its own, so two modules cannot import each other. The database schema (every tables.ts and the
// barrel src/db/schema.ts) is shared: tables may reference other tables for foreign keys.
const LAYERS = [
  ['src/config\\.ts', 'src/db/', 'src/lib/'], // kernel
  ['src/formats/'], // file readers and writers: no domain
  ['src/modules/keystore/'], // the instance's own keys in the database (KEY_ENCRYPTION_KEY)
  ['src/modules/audit/'],
  ['src/modules/events/'], // the outbox and its reactions
  ['src/modules/mail/'], // the mail outbox and its SMTP worker: identity and trust queue messages
  ['src/modules/blobs/'],
  ['src/modules/idempotency/'],
  ['src/modules/health/'],
  ['src/modules/wellknown/'],
  ['src/modules/knowledge/'],
  ['src/modules/files/'], // versioned files on their owners' tables (evidence, trust documents)
  ['src/modules/catalog/'],
  ['src/modules/identity/'],
  // the record
  ['src/modules/profile/'],
  ['src/modules/evidence/'],
  ['src/modules/certifications/'],
  ['src/modules/controls/'],
  // what is built on it
  ['src/modules/library/'],
  ['src/modules/questionnaires/'],
  // read models
  ['src/modules/reports/'],
  ['src/modules/trust/'],
  ['src/modules/accounts/'], // customer accounts: a read model over questionnaires and the trust page
  // consumers and the demo
  ['src/modules/webhooks/'],
  ['src/modules/demo/'],
  // the app: plugins, wiring, seeds, the server
  ['src/plugins/', 'src/(?!config\\.ts)[^/]+\\.ts'],
];

const TABLES = '^src/modules/[^/]+/tables\\.ts$|^src/db/schema\\.ts$';
const anyOf = (paths) => `^(${paths.join('|')})`;

const upward = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1).flat();
  if (above.length === 0) return [];
  const name = `layer-${i}-${layer[0].replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '')}`;
  return [
    {
      name: `${name}-imports-upward`,
      comment: `${layer.join(', ')} may not import a layer above it (see LAYERS in .dependency-cruiser.cjs)`,
      severity: 'error',
      from: { path: anyOf(layer), pathNot: TABLES },
      to: { path: anyOf(above) },
    },
  ];
});

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'tables-import-only-tables',
      comment: 'A tables.ts references other tables (foreign keys), shared vocabularies and kernel constants only: never services.',
      severity: 'error',
      from: { path: TABLES },
      to: { path: '^src/', pathNot: `${TABLES}|^src/lib/|^src/modules/events/vocabulary\\.ts$` },
    },
    {
      name: 'only-own-code-reads-tables',
      comment: "A module's tables are read by its own code only: other modules call its API (a tables.ts may still reference other tables for foreign keys).",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/', pathNot: '^src/modules/[^/]+/tables\\.ts$' },
      to: { path: '^src/modules/[^/]+/tables\\.ts$|^src/db/schema\\.ts$', pathNot: '^src/modules/$1/tables\\.ts$' },
    },
    {
      name: 'app-reads-no-tables',
      comment: "The app (plugins, wiring, seeds, catalog-retire) reads no module's tables: it calls the modules' APIs.",
      severity: 'error',
      from: { path: '^src/(plugins/|[^/]+\\.ts$)' },
      to: { path: TABLES },
    },
    {
      name: 'other-modules-through-their-index',
      comment:
        'A module is used through its index.ts (its API) or its pure.ts (the part of that API with no I/O, for worker threads); ' +
        'its other files are its own (a tables.ts may still reference tables).',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/', pathNot: TABLES },
      to: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/$1/|^src/modules/[^/]+/(index|pure|tables)\\.ts$' },
    },
    {
      name: 'worker-code-stays-small',
      comment:
        "What a worker thread loads (a module's pure.ts, the fill's drafting) reaches no module's index or services, no database " +
        'client and no network library: a new worker must not load the whole app (bench:fill measured it).',
      severity: 'error',
      from: { path: '^src/modules/[^/]+/pure\\.ts$|^src/modules/questionnaires/drafting\\.ts$' },
      to: {
        path: '^src/modules/[^/]+/(index|service)\\.ts$|^src/db/|node_modules/(pg|openai|exceljs|jose|nodemailer|fastify|@electric-sql)/',
        reachable: true,
      },
    },
    {
      name: 'app-uses-modules-through-their-index',
      comment:
        'The app (plugins, wiring, seeds, catalog-retire) uses each module through its index.ts, and registers its route plugins from their own files: ' +
        'indexes leave routes out so that a worker loading a module (the draft pool) does not load every route plugin with it.',
      severity: 'error',
      from: { path: '^src/(plugins/|[^/]+\\.ts$)' },
      to: { path: '^src/modules/', pathNot: '^src/modules/[^/]+/(index|routes|[a-z-]+-routes)\\.ts$' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles between files.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'not-to-tests',
      comment: 'Application code never imports tests.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs'] },
  },
};
