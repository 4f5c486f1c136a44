import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql ships CJS (main) and ESM (module) twins; Pothos and yoga load the CJS one at run time.
    // Vite would pick the ESM one for our sources, and graphql refuses types from "another realm".
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // The machines have two cores; more workers only add contention to loopback tests.
    maxWorkers: 2,
    // Every suite over a loopback socket, as production is served (the front door, then yoga); the
    // contract suites a second time through `gateway.fetch`, yoga's path alone (test/support/stack.ts).
    projects: [
      { extends: true, test: { name: 'socket', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'fetch',
          include: [
            'test/gateway/operations.test.ts',
            'test/gateway/metrics.test.ts',
            'test/gateway/audit-and-access-log.test.ts',
            'test/security/auth.test.ts',
            'test/security/hostile-input.test.ts',
            'test/security/attacks.test.ts',
            'test/security/budget-flood.test.ts',
            'test/security/entities-cap.test.ts',
            'test/federation/federation.test.ts',
            'test/sessions/sessions.test.ts',
            'test/sessions/coalesced-mints.test.ts',
          ],
          env: { TEST_TRANSPORT: 'fetch' },
        },
      },
    ],
  },
});
