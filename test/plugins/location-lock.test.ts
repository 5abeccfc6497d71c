import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLocationLock, LOCATION_LOCK_FILE } from '../../src/plugins/install/location-lock.js';
import { tempDir } from './helpers.js';

describe('install location lock', () => {
  it('refuses a second holder while the first is alive, naming its pid', async () => {
    const dir = tempDir();
    const held = await acquireLocationLock(dir);
    await expect(acquireLocationLock(dir, { waitMs: 50, pollMs: 10 })).rejects.toMatchObject({
      code: 'PLUGIN_INSTALL_LOCKED',
      message: expect.stringContaining(`pid ${process.pid}`),
    });
    await held.release();
    expect(existsSync(join(dir, LOCATION_LOCK_FILE))).toBe(false);
    await (await acquireLocationLock(dir, { waitMs: 50 })).release();
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(
      join(dir, LOCATION_LOCK_FILE),
      JSON.stringify({ pid: dead, host: hostname(), since: 'earlier' }),
    );
    const lock = await acquireLocationLock(dir, { waitMs: 1000, pollMs: 10 });
    // The stale lock was replaced by this process's own.
    expect(JSON.parse(readFileSync(join(dir, LOCATION_LOCK_FILE), 'utf8'))).toMatchObject({
      pid: process.pid,
      host: hostname(),
    });
    await lock.release();
    expect(existsSync(join(dir, LOCATION_LOCK_FILE))).toBe(false);
  });

  it('takes over a lock file its creator never finished writing, once it is 10 seconds old', async () => {
    const dir = tempDir();
    const file = join(dir, LOCATION_LOCK_FILE);
    writeFileSync(file, '');
    await expect(acquireLocationLock(dir, { waitMs: 50, pollMs: 10 })).rejects.toMatchObject({
      code: 'PLUGIN_INSTALL_LOCKED',
      message: `another install into ${dir} is running`,
      hint: `wait for it, or remove ${file} if that process is gone`,
    });
    const old = new Date(Date.now() - 11_000);
    utimesSync(file, old, old);
    const lock = await acquireLocationLock(dir, { waitMs: 1000, pollMs: 10 });
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('tells the caller once which process it waits for', async () => {
    const dir = tempDir();
    const held = await acquireLocationLock(dir);
    const told: number[] = [];
    const waiting = acquireLocationLock(dir, { waitMs: 5000, pollMs: 5, onWait: (pid) => told.push(pid) });
    await new Promise((r) => setTimeout(r, 50));
    await held.release();
    await (await waiting).release();
    expect(told).toEqual([process.pid]);
  });

  it('does not take over a lock held on another host', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, LOCATION_LOCK_FILE),
      JSON.stringify({ pid: 1, host: 'some-other-host', since: 'now' }),
    );
    await expect(acquireLocationLock(dir, { waitMs: 50, pollMs: 10 })).rejects.toMatchObject({
      code: 'PLUGIN_INSTALL_LOCKED',
    });
  });
});
