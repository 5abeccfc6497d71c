/**
 * vitest globalSetup: builds the web console (`npm run build:console`) when console/dist is missing
 * or older than its sources, once per test run, before any browser test starts a server with it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const CONSOLE = join(ROOT, 'console');

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) {
    if (name === 'dist' || name === 'node_modules') continue;
    newest = Math.max(newest, newestMtime(join(path, name)));
  }
  return newest;
}

export default function setup(): void {
  const index = join(CONSOLE, 'dist/index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(CONSOLE)) return;
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', CONSOLE, '--logLevel', 'warn'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0)
    throw new Error(`building the web console failed (npm run build:console):\n${r.stderr}${r.stdout}`);
}
