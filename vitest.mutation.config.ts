import { defineConfig, mergeConfig } from 'vitest/config';
import { mutationTestFiles } from './stryker.config.mjs';
import base from './vitest.config.js';

// Mutation runs (stryker.config.mjs) plant bugs in src/ and need tests that run src/ in this
// process. End-to-end tests drive the built CLI in dist/ (which Stryker does not rebuild), so they
// can never see a mutant: leaving them out only saves time.
const config = mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: ['test/e2e/**', 'node_modules/**', '.stryker-tmp/**'],
    },
  }),
);
// Replaced, not merged (mergeConfig would append to the base's include): only the tests that are
// about the mutated modules, see stryker.config.mjs.
config.test!.include = mutationTestFiles();
export default config;
