// Shared vitest settings for every workspace.
// Workspace packages export a "source" condition pointing at src/index.ts, so tests run
// against the TypeScript sources without a prior build; the published "default" stays dist/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source', 'import', 'node', 'default'] },
  ssr: { resolve: { conditions: ['source', 'import', 'node', 'default'], externalConditions: ['source'] } },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real servers; keep worker count modest on 2-core machines.
    maxWorkers: 2,
  },
});
