import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['libs/*/src/**/*.spec.ts', 'services/*/src/**/*.spec.ts', 'services/*/test/**/*.spec.ts', 'test/**/*.spec.ts', 'tools/**/*.spec.ts', 'examples/**/*.spec.ts'],
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // No blanket retry: a test that needs one says so itself ({ retry: n } with the reason beside
    // it), and scripts/test.sh names every test that passed only on a retry (test/retryReporter.ts).
  },
});
