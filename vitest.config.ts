import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // The machines have two cores; more workers only add contention to loopback tests.
    maxWorkers: 2,
  },
});
