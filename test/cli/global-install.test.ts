/**
 * The CLI on PATH from a checkout, the way the docs say: `npm install -g .` links the checkout into
 * npm's global prefix. Here the prefix is a temp folder, so nothing outside the test changes, and
 * `--offline --ignore-scripts` keeps it off the network and away from rebuilding the shared dist/
 * (the suite runs after `npm run build`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-project.js';

const REPO = join(import.meta.dirname, '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('optimus installed globally from a checkout', () => {
  it('runs as `optimus` from any folder', () => {
    const prefix = tempDir();
    const elsewhere = tempDir();
    execFileSync(
      NPM,
      ['install', '-g', '--prefix', prefix, '--offline', '--ignore-scripts', '--no-audit', '--no-fund', REPO],
      { cwd: elsewhere, stdio: 'pipe' },
    );
    const bin = join(prefix, 'bin', 'optimus');
    expect(existsSync(bin)).toBe(true);
    const env = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
    const version = spawnSync('optimus', ['--version'], { cwd: elsewhere, env, encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = spawnSync('optimus', ['init', '--help'], { cwd: elsewhere, env, encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: optimus init [options]');
    // It really is usable there: init writes a project in that folder.
    const init = spawnSync('optimus', ['init', '--project', 'anywhere', '--namespace', 'a', '--yes'], {
      cwd: elsewhere,
      env,
      encoding: 'utf8',
    });
    expect(init.status).toBe(0);
    expect(existsSync(join(elsewhere, 'optimus.yaml'))).toBe(true);
  });
});
