/**
 * Global setup for the whole suite: fails the run when directories that test/plugins/helpers.ts
 * tempDir() made in the system temp folder outlive it (tempDir removes them when its test file is
 * done; this catches the next test or helper that forgets). Their names carry this run's tag, so
 * another test run on the same machine cannot make this one fail; other new `optimus-install-*`
 * directories are reported without failing, as they may be that other run's.
 */
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';

export const TAG_VARIABLE = 'OPTIMUS_TEST_TMP_TAG';

const listing = () => readdirSync(tmpdir());

export default function setup(): () => void {
  const tag = `t${process.pid}`;
  // Test workers are started after this and inherit it.
  process.env[TAG_VARIABLE] = tag;
  const before = new Set(listing());
  return () => {
    const fresh = listing().filter((n) => !before.has(n));
    const ours = fresh.filter((n) => n.includes(`-${tag}-`));
    const maybe = fresh.filter((n) => n.startsWith('optimus-install-') && !ours.includes(n));
    const sample = (names: string[]) => `${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`;
    if (maybe.length)
      console.warn(
        `note: ${maybe.length} new optimus-install-* directories in ${tmpdir()} (${sample(maybe)})`,
      );
    if (!ours.length) return;
    // A teardown's exception is only logged by vitest: the exit code is what CI sees.
    process.exitCode = 1;
    console.error(
      `\nFAIL tests left ${ours.length} directories in ${tmpdir()}: ${sample(ours)}\n     remove what a test creates (tempDir() in test/plugins/helpers.ts does it when the file is done)\n`,
    );
  };
}
