// ESLint runs only rules that find bugs; the layout of the code is prettier's (`npm run lint` runs
// both). The rules are type-aware: they read the types through tsconfig.json.
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// node:test's describe/it/test return promises that the runner itself awaits: calling them at the
// top of a test file without `await` is how node:test is meant to be used.
const nodeTest = { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] };

export default defineConfig(
  { ignores: ['dist/', 'dist-stress/', 'node_modules/', 'bench/results/'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits or catches: its rejection is unhandled, and an unhandled rejection
      // ends the agent. `void p` does not count as handled: hand it to background() instead.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { ignoreVoid: false, allowForKnownSafeCalls: [nodeTest] },
      ],
      // A promise where a boolean or a void callback is expected (an async listener, `if (p)`).
      '@typescript-eslint/no-misused-promises': 'error',
      // `await` on something that is not a promise: usually a missing call or a wrong type.
      '@typescript-eslint/await-thenable': 'error',
      // A name declared and never used is often a value computed and then forgotten.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
);
