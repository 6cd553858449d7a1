// npm run lint: typescript-eslint with type information for src/, test/ and the TypeScript of the
// repo; the plain JavaScript (scripts, the chat page) with the recommended rules. Formatting is
// Prettier's (eslint-config-prettier turns off the rules it owns).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // test/support/openapi-types.ts is written by `npm run openapi` (openapi-typescript).
  { ignores: ['dist/', 'coverage/', 'node_modules/', 'test/support/openapi-types.ts'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A promise nobody awaits hides its failure: await it, return it, or say `void` on purpose.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Types are imported as types: nothing of them is left in the emitted JavaScript.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // An async function that awaits nothing is how a port's method keeps its promise shape.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Specs read what HTTP, Gemini's wire format and the database answer: JSON, `any` by nature.
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // jest.spyOn and expect(mock.method) take methods unbound.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // The emulator reads whatever a client sends and checks it field by field, as Gemini does.
    files: ['src/gemini/emulator/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    files: ['scripts/**/*.mjs', '*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['src/web/public/**/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'module' },
  },
  prettier,
);
