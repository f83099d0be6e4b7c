// One jest project per test layer; `npm test` runs them all in one invocation, `npm run test:<layer>` one of them
// (TEST_LAYER=<layer>, which, unlike --selectProjects, leaves `npm run test:unit -- <path>` meaning a test path).
// A project's globalSetup runs only when one of its tests is selected; the shared teardown runs once.
const layer = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  testMatch: ['**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/lib'],
};
// test/global-setup.ts starts one Temporal dev server and workflow bundle for whichever of these layers runs first.
const teardown = { globalTeardown: '<rootDir>/test/global-teardown.ts' };

/** @type {import('jest').Config['projects']} */
const projects = [
  // No services: no Temporal CLI, no dev server, no PostgreSQL, no Chromium (npm run test:unit forbids the CLI).
  { ...layer, displayName: 'unit', roots: ['<rootDir>/test/unit'], setupFiles: ['<rootDir>/test/unit/setup.ts'] },
  // The workflow on the dev server, with stub activities.
  {
    ...layer,
    ...teardown,
    displayName: 'workflow',
    roots: ['<rootDir>/test/workflow'],
    globalSetup: '<rootDir>/test/workflow/global-setup.ts',
  },
  // Real parts: the emulator, SQLite, PostgreSQL, Chromium, the dev server; the recorded histories' replay.
  {
    ...layer,
    ...teardown,
    displayName: 'integration',
    roots: ['<rootDir>/test/integration', '<rootDir>/test/replay'],
    globalSetup: '<rootDir>/test/integration/global-setup.ts',
  },
];

const only = process.env.TEST_LAYER;
const selected = only ? projects.filter((project) => project.displayName === only) : projects;
if (selected.length === 0) {
  throw new Error(`TEST_LAYER=${only}: no such layer (${projects.map((p) => p.displayName).join(', ')})`);
}

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 120000,
  maxWorkers: 2,
  projects: selected,
};
