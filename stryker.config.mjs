// Mutation testing (`npm run mutation`): plants small bugs in the modules that protect users and
// checks that the test suite notices each one. Reports land in reports/mutation/ (not committed).
//
// One module, quickly:
//   MUTATE=src/core/secret-ref.ts npx stryker run
// mutates only that module, runs only the test files listed for it below, and writes
// reports/mutation/<module>/mutation.json and index.html, so runs of different modules at the same
// time do not overwrite each other's reports. Without MUTATE (`npm run mutation`) every module below
// is mutated and the test files of all of them are used.
//
// Why narrowing is needed for speed and does not hide mutants: "static" mutants (module-level code
// such as regex constants) have no per-test coverage, so Stryker runs every selected test file
// related to the module for each of them; a module imported by the server pulls in the whole unit
// suite. Listing the tests that are about a module keeps that set small; every mutant is still run
// and counted (`ignoreStatic` stays off).
//
// The narrowing is done by vitest.mutation.config.ts (its `include`), not by Stryker's own
// `testFiles` option: with `testFiles`, Stryker 9.6.1 activates static mutants only once the tests
// start, after the module-level code has already run, so every static mutant "survives" unseen.
/** @type {Record<string, string[]>} module → the test files that are about it */
export const MODULES = {
  'src/core/run-graph.ts': ['test/core/run-graph.test.ts'],
  'src/core/hook-rules.ts': ['test/core/hook-rules.test.ts', 'test/core/run-graph.test.ts'],
  'src/core/configs.ts': ['test/core/configs.test.ts'],
  'src/core/secret-ref.ts': ['test/core/secret-ref.test.ts', 'test/core/configs.test.ts'],
  'src/core/window.ts': ['test/core/window.test.ts'],
  'src/core/lineage.ts': ['test/core/lineage.test.ts'],
  'src/spec/job-spec.ts': ['test/spec/job-spec.test.ts', 'test/spec/upstream-compat.test.ts'],
  'src/spec/plugin-spec.ts': ['test/spec/plugin-spec.test.ts', 'test/spec/upstream-compat.test.ts'],
  // The modules below are covered by other work on issue 8; their owners may refine these lists.
  'src/plugins/install/archive.ts': [
    'test/plugins/archive.test.ts',
    'test/plugins/install-failures.test.ts',
    'test/plugins/install.test.ts',
  ],
  'src/plugins/install/lock.ts': [
    'test/plugins/lock.test.ts',
    'test/plugins/frozen.test.ts',
    'test/plugins/install.test.ts',
  ],
  'src/plugins/install/installer.ts': ['test/plugins/*.test.ts'],
  'src/services/deploy.ts': ['test/services/deploy.test.ts', 'test/server/api.test.ts'],
  'src/services/secret-cipher.ts': ['test/services/secret-cipher.test.ts', 'test/server/hard-edges.test.ts'],
  'src/server/auth.ts': ['test/server/auth.test.ts', 'test/server/api.test.ts'],
  'src/core/template/*.ts': ['test/core/template/{syntax,fmt,functions,assets,go-time}.test.ts'],
  // The runner's pure modules (issue 9).
  'src/scheduler/run-state.ts': ['test/scheduler/run-state.test.ts'],
  'src/scheduler/schedule.ts': ['test/scheduler/schedule.test.ts'],
  'src/scheduler/log-capture.ts': ['test/scheduler/log-capture.test.ts'],
  'src/core/window-compute.ts': ['test/core/window-compute.test.ts'],
};

const only = process.env.MUTATE || undefined;

/** The test files a mutation run uses (read by vitest.mutation.config.ts). */
export function mutationTestFiles() {
  return only ? MODULES[only] : [...new Set(Object.values(MODULES).flat())];
}

if (only !== undefined && !(only in MODULES)) {
  throw new Error(
    `MUTATE=${only} is not one of the configured modules:\n  ${Object.keys(MODULES).join('\n  ')}`,
  );
}
const reportDir = only ? `reports/mutation/${only.replace(/^src\//, '').replace(/\.ts$/, '')}` : 'reports/mutation';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  // Not lower: on a shared, loaded machine a slow run of a surviving mutant would be cut off as a
  // "timeout", which Stryker counts as detected and so hides a weak test. Few mutants really loop.
  timeoutMS: 20_000,
  mutate: only ? [only] : Object.keys(MODULES),
  ignorePatterns: ['reports', 'bench/results', 'coverage', '.stryker-tmp'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `${reportDir}/index.html` },
  jsonReporter: { fileName: `${reportDir}/mutation.json` },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
