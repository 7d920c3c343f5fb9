// Entry of a parser worker thread (plain JavaScript, so it loads without a TypeScript loader). When
// the thread did not inherit a TypeScript loader from its parent, tsx is registered here first.
let tasks;
try {
  tasks = await import('./tasks.ts');
} catch (err) {
  if (err?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
  const { register } = await import('tsx/esm/api');
  register();
  // A failed import stays cached under its URL: ask again under another one.
  tasks = await import('./tasks.ts?tsx');
}

export default tasks.runTask;
