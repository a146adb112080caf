import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['libs/*/src/**/*.spec.ts', 'services/*/src/**/*.spec.ts', 'services/*/test/**/*.spec.ts', 'test/**/*.spec.ts', 'tools/**/*.spec.ts', 'examples/**/*.spec.ts'],
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The kill/chaos tests run real brokers and processes on two shared cores; one retry keeps
    // a scheduling hiccup from failing CI, and scripts/test.sh lists every test that needed it,
    // so a flaky test is named, not hidden. A real bug fails both tries.
    retry: 1,
  },
});
