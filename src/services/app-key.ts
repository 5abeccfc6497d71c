/** The server's app key: given by config or env, else generated once and kept in the data dir (0600). */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const APP_KEY_FILE = 'app.key';

export function ensureAppKey(dataDir: string): { key: string; file: string; created: boolean } {
  const file = join(dataDir, APP_KEY_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    const key = readFileSync(file, 'utf8').trim();
    // Someone may have loosened it; a key readable by others is a leaked key.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { key, file, created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, file, created: true };
}
