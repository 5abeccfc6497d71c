/**
 * docs/plugin-authoring.md's tutorial, run literally: every `sh` block between the
 * `tutorial:start` and `tutorial:end` markers, in order, in one bash, from an empty temp folder,
 * with `optimus` on PATH and HOME in a temp folder. Output blocks (fenced without a language) must
 * appear in what the commands print.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-project.js';

const DOC = join(import.meta.dirname, '../../docs/plugin-authoring.md');
const PORT = 9123;

function tutorialBlocks(doc: string): { commands: string[]; outputs: string[] } {
  const start = doc.indexOf('<!-- tutorial:start -->');
  const end = doc.indexOf('<!-- tutorial:end -->');
  if (start < 0 || end < start)
    throw new Error(
      'docs/plugin-authoring.md has no <!-- tutorial:start --> … <!-- tutorial:end --> section',
    );
  const commands: string[] = [];
  const outputs: string[] = [];
  for (const m of doc.slice(start, end).matchAll(/```(\w*)\n([\s\S]*?)```/g)) {
    if (m[1] === 'sh') commands.push(m[2]!);
    else if (m[1] === '') outputs.push(...m[2]!.trimEnd().split('\n'));
  }
  return { commands, outputs };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('the plugin authoring tutorial', () => {
  it('runs as written from an empty folder, and prints what it shows', async (ctx) => {
    if (!(await portFree(PORT))) ctx.skip(`port ${PORT} is in use here, and the tutorial uses it: not run`);
    const { commands, outputs } = tutorialBlocks(readFileSync(DOC, 'utf8'));
    expect(commands.length).toBeGreaterThan(4);
    const home = tempDir();
    const work = join(home, 'work');
    const bin = join(home, 'bin');
    mkdirSync(work);
    mkdirSync(bin);
    writeFileSync(join(bin, 'optimus'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, 'optimus'), 0o755);
    const script = ['set -euo pipefail', "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT", ...commands].join(
      '\n',
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      PATH: `${bin}:${process.env.PATH}`,
      NO_COLOR: '1',
      OPTIMUS_CACHE_DIR: join(home, 'cache'),
    };
    for (const k of ['OPTIMUS_HOST', 'OPTIMUS_TOKEN', 'OPTIMUS_DB_URL', 'OPTIMUS_APP_KEY']) delete env[k];
    const child = spawn('bash', ['-c', script], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect({ code, stderr: code === 0 ? '' : stderr, stdout: code === 0 ? '' : stdout }).toEqual({
      code: 0,
      stderr: '',
      stdout: '',
    });
    for (const line of outputs) expect(stdout).toContain(line);
    expect(stdout + stderr).not.toContain('the-real-token');
    expect(stdout + stderr).not.toContain('a-test-token');
  }, 300_000);
});
