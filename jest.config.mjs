// Nest 12, @google/genai and friends are ESM-only, so jest runs in its native ESM mode
// (node --experimental-vm-modules, see package.json) and ts-jest emits ESM.
const base = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  // Sources import siblings as './x.js' (NodeNext); jest must find './x.ts'.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/support/jest-realm.ts'],
};

/**
 * Specs live by kind: test/api (the HTTP contract), test/resilience (faults, slow clients,
 * crashes, the process, fuzzing), test/database (statements, migrations), test/cluster (several
 * instances on one PostgreSQL), test/browser (the page in Chromium); helpers in test/support.
 * The patterns take a spec of its kind in any folder under test/, so none is left out unnoticed.
 */
const E2E = '<rootDir>/test/**/*.e2e-spec.ts';

/** Specs of the SQLite file and of the single process around it (boot, crash, process, soak, a full disk). */
const SQLITE_ONLY = ['boot', 'crash', 'process', 'soak', 'disk-full'].map((name) => `/test/resilience/${name}\\.e2e-spec\\.ts$`);

export default {
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      setupFiles: [...base.setupFiles, '<rootDir>/test/support/unit-logs.ts'],
    },
    { ...base, displayName: 'e2e', testMatch: [E2E] },
    // The same e2e suites on PostgreSQL, but those about the SQLite file and the process around
    // it; and the specs of several instances on one database. scripts/jest.mjs starts the server.
    {
      ...base,
      displayName: 'e2e-pg',
      testMatch: [E2E, '<rootDir>/test/**/*.pg-spec.ts'],
      testPathIgnorePatterns: SQLITE_ONLY,
      setupFiles: [...base.setupFiles, '<rootDir>/test/support/on-postgres.ts'],
    },
    { ...base, displayName: 'browser', testMatch: ['<rootDir>/test/**/*.browser-spec.ts'] },
  ],
};
