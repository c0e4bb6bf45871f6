import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    // Log lines are stamped with local time: golden files are written in UTC wherever the tests run.
    env: { TZ: 'UTC' },
  },
});
