import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['libs/*/src/**/*.spec.ts', 'services/*/src/**/*.spec.ts', 'services/*/test/**/*.spec.ts', 'test/**/*.spec.ts'],
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
