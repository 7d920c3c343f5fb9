// Type-aware lint (typescript-eslint): the rules that catch real defects in async server code.
// No rule is turned off. tap's `t.test(...)` is listed as a known-safe call: tap awaits its
// subtests itself, so a floating subtest promise is how tap is meant to be used.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'clients/typescript/schema.d.ts', 'coverage/**', '.tap/**', '.data/**', 'migrations/**'] },
  {
    files: ['**/*.ts', '**/*.mts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: '@tapjs/core', name: ['test', 'todo', 'skip', 'only'] },
            { from: 'package', package: '@tapjs/test', name: ['test', 'todo', 'skip', 'only'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
);
