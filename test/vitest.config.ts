import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.js';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['integration/**/*.test.ts', 'e2e/**/*.test.ts'],
      // Tests here share one machine's namespaces and CPU; run files one at a time.
      fileParallelism: false,
    },
  }),
);
