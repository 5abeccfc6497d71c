/**
 * The README's tour, run literally: every `sh` block between the `tour:start` and `tour:end`
 * markers, in order, in one bash, from the repository root, with `optimus` on PATH as the README
 * installs it and HOME in a temp folder (so ~/.optimus is a fresh data dir). Output blocks shown in
 * the tour (fenced without a language) must appear in what the commands print.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-project.js';

const ROOT = join(import.meta.dirname, '../..');

function tourBlocks(readme: string): { commands: string[]; outputs: string[] } {
  const start = readme.indexOf('<!-- tour:start -->');
  const end = readme.indexOf('<!-- tour:end -->');
  if (start < 0 || end < start)
    throw new Error('README.md has no <!-- tour:start --> … <!-- tour:end --> section');
  const tour = readme.slice(start, end);
  const commands: string[] = [];
  const outputs: string[] = [];
  for (const m of tour.matchAll(/```(\w*)\n([\s\S]*?)```/g)) {
    if (m[1] === 'sh') commands.push(m[2]!);
    else if (m[1] === '') outputs.push(m[2]!.trimEnd());
  }
  return { commands, outputs };
}

/** Whether the tour's fixed port is free here (a developer may have a server of their own on it). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('the README tour', () => {
  it('runs as written on a clean checkout, and prints what it shows', async (ctx) => {
    if (!(await portFree(9100))) {
      ctx.skip('port 9100 is in use here, and the tour uses the default port: tour not run');
    }
    const { commands, outputs } = tourBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(commands.length).toBeGreaterThan(1);
    const home = tempDir();
    const bin = join(home, 'bin');
    mkdirSync(bin);
    // The README installs the CLI globally (`npm install -g .`, tested in cli-install.test.ts);
    // here the same entry point goes on PATH without touching the machine's global prefix.
    writeFileSync(join(bin, 'optimus'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, 'optimus'), 0o755);
    const script = [
      'set -euo pipefail',
      // A server left behind by a failing step must not outlive the test.
      "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
      ...commands.map((block) =>
        block
          .split('\n')
          .filter((line) => !/^\s*npm (install|link)\b/.test(line))
          .join('\n'),
      ),
    ].join('\n');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      PATH: `${bin}:${process.env.PATH}`,
      NO_COLOR: '1',
      OPTIMUS_CACHE_DIR: join(home, 'cache'),
    };
    // A new user has none of these set.
    for (const k of ['OPTIMUS_HOST', 'OPTIMUS_TOKEN', 'OPTIMUS_DB_URL', 'OPTIMUS_APP_KEY']) delete env[k];
    const child = spawn('bash', ['-c', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
    for (const output of outputs) expect(stdout).toContain(output);
    // The tour starts a server, installs plugins, deploys and runs a job: minutes on a loaded machine.
  }, 300_000);
});
