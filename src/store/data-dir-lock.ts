/**
 * One process per embedded data directory. PGlite does not stop a second process (or a second
 * store in the same process) from opening the same directory, and two writers corrupt it; a lock
 * file holding the owner's pid does. A lock left by a dead process is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OptimusError } from '../core/errors.js';

const LOCK_FILE = 'optimus-store.lock';
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the directory's lock (creating the directory); returns the release function. */
export function lockDataDir(dataDir: string): () => void {
  const dir = resolve(dataDir);
  const path = join(dir, LOCK_FILE);
  const locked = (by: string) =>
    new OptimusError('STORE_LOCKED', `the data directory ${dir} is in use by ${by}`, {
      category: 'conflict',
      hint: `stop the other Optimus server or give this one its own data directory; if none is running, delete ${path}`,
    });
  if (heldHere.has(dir)) throw locked('this process');
  try {
    mkdirSync(dir, { recursive: true });
    for (;;) {
      try {
        writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
        // Our own pid in the file is a previous life of this pid (e.g. a restarted container).
        if (pid > 0 && pid !== process.pid && alive(pid)) throw locked(`process ${pid}`);
        rmSync(path, { force: true });
      }
    }
  } catch (e) {
    if (e instanceof OptimusError) throw e;
    throw new OptimusError(
      'STORE_OPEN_FAILED',
      `cannot use ${dir} as the store's data directory: ${(e as Error).message}`,
      {
        category: 'io',
        hint: 'check that the directory (and its parent) is writable by this user',
      },
    );
  }
  heldHere.add(dir);
  return () => {
    heldHere.delete(dir);
    rmSync(path, { force: true });
  };
}
