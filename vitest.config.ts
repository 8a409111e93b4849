import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      // Test the xstate build users run. Its development build warns about assign() inside
      // actions whenever one actor synchronously delivers to another that starts or assigns:
      // a false alarm for a tree of actors passing messages, drowning real output.
      xstate: fileURLToPath(new URL('./node_modules/xstate/dist/xstate.cjs.mjs', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: a few files at a time keeps loopback traffic from starving the servers under test.
    maxWorkers: 2,
  },
});
