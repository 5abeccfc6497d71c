/**
 * One installer at a time per install_location: a lock file created with O_EXCL holding the
 * owner's pid and host. A lock whose process is gone (same host) is stale and taken over.
 */
import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OptimusError } from '../../core/errors.js';

export const LOCATION_LOCK_FILE = '.optimus-install.lock';

export interface LocationLock {
  release(): Promise<void>;
}

export async function acquireLocationLock(
  installLocation: string,
  opts: { waitMs?: number; pollMs?: number; onWait?: (ownerPid: number) => void } = {},
): Promise<LocationLock> {
  const file = join(installLocation, LOCATION_LOCK_FILE);
  const deadline = Date.now() + (opts.waitMs ?? 120_000);
  let told = false;
  for (;;) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(
        JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }),
      );
      await fh.close();
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          await rm(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = await readOwner(file);
    if (!owner && (await abandonedEmpty(file))) {
      await rm(file, { force: true });
      continue;
    }
    if (owner && isStale(owner)) {
      // Remove only if it is still the same stale lock (another waiter may have replaced it).
      const again = await readOwner(file);
      if (again && again.pid === owner.pid && again.since === owner.since) await rm(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new OptimusError(
        'PLUGIN_INSTALL_LOCKED',
        `another install into ${installLocation} is running${owner ? ` (pid ${owner.pid} on ${owner.host})` : ''}`,
        { category: 'conflict', hint: `wait for it, or remove ${file} if that process is gone` },
      );
    }
    if (owner && !told) {
      told = true;
      opts.onWait?.(owner.pid);
    }
    await sleep(opts.pollMs ?? 100);
  }
}

interface Owner {
  pid: number;
  host: string;
  since: string;
}

async function readOwner(file: string): Promise<Owner | undefined> {
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as Owner;
    return typeof v.pid === 'number' ? v : undefined;
  } catch {
    // Being written right now, or unreadable: treated as held.
    return undefined;
  }
}

/** A lock file nobody finished writing (its creator died between open and write) for 10 s. */
async function abandonedEmpty(file: string): Promise<boolean> {
  try {
    return Date.now() - (await stat(file)).mtimeMs > 10_000;
  } catch {
    return false;
  }
}

function isStale(owner: Owner): boolean {
  if (owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
