/**
 * Runs a document's shell blocks as a new user would paste them: the `sh` blocks between two
 * markers, in order, in one bash with `set -euo pipefail`, with `optimus` on PATH (the built CLI,
 * as `npm install -g .` would put it there) and HOME in a temp folder, so ~/.optimus is a fresh
 * data dir. Blocks fenced without a language are what the commands must print.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BIN } from './cli.js';
import { tempDir } from './temp-project.js';

export interface DocBlocks {
  commands: string[];
  /** Expected output blocks, trailing white space trimmed. */
  outputs: string[];
}

/** The `sh` and output blocks between `<!-- <marker>:start -->` and `<!-- <marker>:end -->`. */
export function docBlocks(text: string, marker: string, file: string): DocBlocks {
  const start = text.indexOf(`<!-- ${marker}:start -->`);
  const end = text.indexOf(`<!-- ${marker}:end -->`);
  if (start < 0 || end < start)
    throw new Error(`${file} has no <!-- ${marker}:start --> … <!-- ${marker}:end --> section`);
  const commands: string[] = [];
  const outputs: string[] = [];
  for (const m of text.slice(start, end).matchAll(/```(\w*)\n([\s\S]*?)```/g)) {
    if (m[1] === 'sh') commands.push(m[2]!);
    else if (m[1] === '') outputs.push(m[2]!.trimEnd());
  }
  return { commands, outputs };
}

/** Whether `port` is free on 127.0.0.1 (a developer may have a server of their own on it). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Runs `commands` in one bash from `cwd` (default: a fresh folder in the temp HOME). */
export async function runDocCommands(
  commands: readonly string[],
  opts: { cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; home: string }> {
  const home = tempDir();
  const bin = join(home, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'optimus'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, 'optimus'), 0o755);
  const cwd = opts.cwd ?? join(home, 'work');
  mkdirSync(cwd, { recursive: true });
  const script = [
    'set -euo pipefail',
    // A server left behind by a failing step must not outlive the test.
    "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
    ...commands,
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
  const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr, home };
}
