// ESLint (flat config) with typescript-eslint's typed linting: `npm run lint` runs it with
// `prettier --check`. Formatting is Prettier's alone (eslint-config-prettier turns off ESLint's
// layout rules). The rule set aims at defects, not style: a promise nobody awaits or catches, an async
// function where a callback's return is ignored, `return promise` inside try (the catch never sees the
// rejection), throwing non-Errors, `${x}` in a plain string, `==` coercions, a value compared with itself.
// Measured: about 35 s of CPU for the whole tree (typed linting, 2 cores); see docs/developing.md.
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', '.venv/', '.local/', '.venv-horizon/', '.horizon/'] },
  // Some eslint-disable comments name rules this config keeps off (no-control-regex, no-explicit-any).
  { linterOptions: { reportUnusedDisableDirectives: 'off' } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      // The TypeScript project service finds each file's project (tsconfig.json's references), so the
      // type-aware rules see the same types as `tsc -b`.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Type-aware rules that catch real defects. node:test's describe/it/test return promises that the runner itself tracks.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      '@typescript-eslint/no-for-in-array': 'error',
      '@typescript-eslint/no-implied-eval': 'error',
      '@typescript-eslint/no-array-delete': 'error',
      '@typescript-eslint/restrict-plus-operands': 'error',
      // A switch without a default must name every member of the union it switches on.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-template-curly-in-string': 'error',
      'no-self-compare': 'error',
      'no-unreachable-loop': 'error',
      'no-constructor-return': 'error',
      'no-unused-private-class-members': 'error',
      // Deliberate: validation and sanitising code matches control characters.
      'no-control-regex': 'off',
      // The driver stubs are empty interfaces until their owners fill them; not a defect.
      '@typescript-eslint/no-empty-object-type': 'off',
      // `any` is used on purpose at JSON and SDK boundaries; the compiler's strict mode does the rest.
      '@typescript-eslint/no-explicit-any': 'off',
      // An unused variable or import is a defect (a result dropped, a leftover); unused parameters keep a signature.
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  prettier,
);
