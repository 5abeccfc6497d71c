/** What reaches a pipe: no escape codes unless asked for, and a reader that stops early is no error. */
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { colorEnabled } from '../../src/cli/colors.js';
import { BIN, runOptimus } from '../helpers/cli.js';
import { EXAMPLE, tempDir, v3Plugin } from '../helpers/temp-project.js';

const ESC = '\u001b[';

describe('colour', () => {
  it('is on only for a terminal, unless NO_COLOR or FORCE_COLOR say otherwise', () => {
    const tty = { isTTY: true };
    const pipe = { isTTY: false };
    expect(colorEnabled(tty, {})).toBe(true);
    expect(colorEnabled(pipe, {})).toBe(false);
    expect(colorEnabled(pipe, { CI: 'true' })).toBe(false);
    expect(colorEnabled(tty, { TERM: 'dumb' })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(tty, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled(pipe, { FORCE_COLOR: '' })).toBe(true);
    expect(colorEnabled(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorEnabled(tty, { FORCE_COLOR: 'false' })).toBe(false);
    expect(colorEnabled(pipe, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
  });

  it('writes no escape codes to a pipe, even under CI, and writes them when FORCE_COLOR asks', () => {
    const dir = tempDir();
    cpSync(EXAMPLE, dir, { recursive: true });
    const job = join(dir, 'finance/jobs/revenue-daily/job.yaml');
    writeFileSync(job, readFileSync(job, 'utf8').replace('depends_on: notify-team', 'depends_on: [nobody]'));
    const validate = (env: NodeJS.ProcessEnv) =>
      runOptimus(['job', 'validate', '--dir', dir], {
        env: { NO_COLOR: undefined, FORCE_COLOR: undefined, ...env },
      });
    const plain = validate({ CI: 'true' });
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain('error hook "publish" depends on "nobody"');
    expect(plain.stdout + plain.stderr).not.toContain(ESC);
    expect(validate({ FORCE_COLOR: '0' }).stdout).not.toContain(ESC);
    expect(validate({ FORCE_COLOR: '1' }).stdout).toContain(`${ESC}31merror`);
    expect(validate({ FORCE_COLOR: '1', NO_COLOR: '1' }).stdout).not.toContain(ESC);
  });
});

describe('a closed pipe', () => {
  it('ends the command quietly when the reader stops after the first line (`| head -1`)', async () => {
    // Enough output to outlast the pipe's buffer, so writes continue after the reader is gone.
    const files: Record<string, string> = {};
    for (let i = 0; i < 400; i++) files[`optimus-plugin-p${i}.yaml`] = v3Plugin(`p${i}`, 'description: x\n');
    const dir = tempDir(files);
    const child = spawn(process.execPath, [BIN, 'plugin', 'validate', dir], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let first = '';
    child.stdout.once('data', (d: Buffer) => {
      first = d.toString().split('\n')[0]!;
      child.stdout.destroy();
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    expect(first).toMatch(/^✓ .*optimus-plugin-p0\.yaml/);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
