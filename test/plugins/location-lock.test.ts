import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
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
    await lock.release();
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
