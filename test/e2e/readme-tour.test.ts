/**
 * The README's tour, run literally: every `sh` block between the `tour:start` and `tour:end`
 * markers, in order, in one bash, from the repository root, with `optimus` on PATH as the README
 * installs it and HOME in a temp folder (so ~/.optimus is a fresh data dir). Output blocks shown in
 * the tour (fenced without a language) must appear in what the commands print.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { docBlocks, portFree, runDocCommands } from '../helpers/doc-script.js';

const ROOT = join(import.meta.dirname, '../..');

describe('the README tour', () => {
  it('runs as written on a clean checkout, and prints what it shows', async (ctx) => {
    if (!(await portFree(9100))) {
      ctx.skip('port 9100 is in use here, and the tour uses the default port: tour not run');
    }
    const { commands, outputs } = docBlocks(
      readFileSync(join(ROOT, 'README.md'), 'utf8'),
      'tour',
      'README.md',
    );
    expect(commands.length).toBeGreaterThan(1);
    // The README installs the CLI globally (`npm install -g .`, tested in cli-install.test.ts); the
    // runner puts the same entry point on PATH without touching the machine's global prefix.
    const withoutInstall = commands.map((block) =>
      block
        .split('\n')
        .filter((line) => !/^\s*npm (install|link)\b/.test(line))
        .join('\n'),
    );
    const { code, stdout, stderr } = await runDocCommands(withoutInstall, { cwd: ROOT });
    expect({ code, stderr: code === 0 ? '' : stderr, stdout: code === 0 ? '' : stdout }).toEqual({
      code: 0,
      stderr: '',
      stdout: '',
    });
    for (const output of outputs) expect(stdout).toContain(output);
    // The tour starts a server, installs plugins, deploys and runs a job: minutes on a loaded machine.
  }, 300_000);
});
