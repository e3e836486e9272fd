// Lint rules: typescript-eslint's type-aware recommended set, plus a ban on floating promises,
// which in a daemon turn into silent lost work, plus the layer rules of DESIGN.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers (DESIGN.md), each importing only those below: adapters (http, fleet, cli) → operations →
// services and jobs → devices, store, events, problems → drivers. Imports are relative, so each rule is a
// regex on the import path as written: agent/ folders are one level deep, their siblings are `../<name>/`.
const ADAPTERS = ['http', 'fleet', 'cli'];
// messages: the clerk-visible texts (tables of code -> {en, zh-CN}), which devices and events show.
const BOTTOM = ['devices', 'store', 'events', 'problems', 'messages'];
const layerRule = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const layers = [
  {
    files: ['drivers/**/*.ts'],
    rules: layerRule([
      {
        regex: '^(?:\\.\\./)+(?:agent|config)(?:/|$)',
        message: 'drivers know bytes and devices: they never import agent/ or config/ (DESIGN.md, Layout).',
      },
    ]),
  },
  {
    // Every agent/ folder that is not an adapter, the operations, the bottom layer or the device kinds
    // (whose descriptors bundle operations) is a service: new service folders are covered without a list.
    files: ['agent/*/**/*.ts'],
    ignores: [...ADAPTERS, 'operations', 'kinds', ...BOTTOM].map((d) => `agent/${d}/**`),
    rules: layerRule([
      {
        regex: `^\\.\\./(?:${[...ADAPTERS, 'operations'].join('|')})/`,
        message: 'services sit below the operations and the adapters: move the shared thing down a layer.',
      },
      {
        regex: '^\\.\\./(?:main|services)\\.js$',
        message: 'services do not import the composition root or the operations context.',
      },
    ]),
  },
  {
    files: BOTTOM.map((d) => `agent/${d}/**/*.ts`),
    rules: layerRule([
      {
        // An allow-list: a sibling folder that is not in this layer is a service, operations or adapter.
        regex: `^\\.\\./(?!(?:${BOTTOM.join('|')})/)[^./][^/]*/`,
        message: `devices, store, events, problems and messages import each other, drivers/ and config/: never services, operations or adapters.`,
      },
      { regex: '^\\.\\./[^/]+\\.js$', message: 'the bottom layer does not import agent/ top-level modules.' },
    ]),
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'var/', 'coverage/', 'eslint.config.js', 'client/index.*'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  ...layers,
  // The local page's modules run in the browser, as plain JS without a build: no type information.
  {
    files: ['agent/http/local-page/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      sourceType: 'module',
      parserOptions: { projectService: false },
      globals: Object.fromEntries(
        [
          'document',
          'localStorage',
          'sessionStorage',
          'history',
          'location',
          'fetch',
          'URL',
          'Blob',
          'crypto',
          'setInterval',
          'clearInterval',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  // models/fetch.mjs is plain JS that runs before the build (the npm prepare script): no type information.
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly' }, parserOptions: { projectService: false } },
  },
);
