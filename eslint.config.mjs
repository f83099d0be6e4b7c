import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import { builtinModules } from 'node:module';

export default tseslint.config(
  { ignores: ['node_modules', 'lib', '.data', '.tools', 'coverage', 'eslint.config.mjs', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'object-shorthand': ['error', 'always'],
    },
  },
  {
    // The layers under the workflow know nothing of it: they import from neutral modules (src/common, src/shared.ts).
    files: ['src/zendesk/**/*.ts', 'src/activities/**/*.ts', 'src/storage/**/*.ts', 'src/codec/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../workflows', '../workflows/*'], message: 'The workflow sits above this layer.' }] },
      ],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
          patterns: [
            { group: ['axios', 'better-sqlite3', 'zod'], message: 'Workflow code must stay deterministic.' },
            {
              group: ['../activities', '../activities/*', '../storage/*', '../zendesk/*', '../emulator/*'],
              allowTypeImports: true,
              message: 'Workflows may import only types from activity-side modules.',
            },
          ],
        },
      ],
    },
  },
);
