/**
 * docs/plugin-authoring.md's tutorial, run literally: every `sh` block between the
 * `tutorial:start` and `tutorial:end` markers, in order, in one bash, from an empty temp folder,
 * with `optimus` on PATH and HOME in a temp folder. Each line of the output blocks (fenced without
 * a language) must appear in what the commands print, and no secret value may.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { docBlocks, portFree, runDocCommands } from '../helpers/doc-script.js';

const DOC = join(import.meta.dirname, '../../docs/plugin-authoring.md');
const PORT = 9123;

describe('the plugin authoring tutorial', () => {
  it('runs as written from an empty folder, and prints what it shows', async (ctx) => {
    if (!(await portFree(PORT))) ctx.skip(`port ${PORT} is in use here, and the tutorial uses it: not run`);
    const { commands, outputs } = docBlocks(
      readFileSync(DOC, 'utf8'),
      'tutorial',
      'docs/plugin-authoring.md',
    );
    expect(commands.length).toBeGreaterThan(4);
    const { code, stdout, stderr } = await runDocCommands(commands);
    expect({ code, stderr: code === 0 ? '' : stderr, stdout: code === 0 ? '' : stdout }).toEqual({
      code: 0,
      stderr: '',
      stdout: '',
    });
    // The test's output lines are checked one by one: the doc shows them without each check's detail.
    for (const line of outputs.flatMap((o) => o.split('\n'))) expect(stdout).toContain(line);
    expect(stdout + stderr).not.toContain('the-real-token');
    expect(stdout + stderr).not.toContain('a-test-token');
  }, 300_000);
});
