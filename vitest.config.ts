import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts', 'test/plugins/leftover-temp-dirs.ts', 'test/helpers/console-build.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
