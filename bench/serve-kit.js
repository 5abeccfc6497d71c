// What the end-to-end benchmarks share: a real `optimus serve` on the embedded store in a temp
// folder, started from the built CLI, and the CLI run as a user runs it.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '../bin/optimus.js');

/** Starts `optimus serve` with `config` (server.yaml text) in `dir`; resolves when it listens. */
export async function serve(dir, config, args = [], env = {}) {
  const file = join(dir, 'server.yaml');
  writeFileSync(file, config);
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '-c', file, '--data-dir', join(dir, 'data'), '--port', '0', '--json', ...args],
    { env: { ...process.env, OPTIMUS_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"listening"'));
      if (line) resolve(JSON.parse(line).listening);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
  return {
    url,
    pid: child.pid,
    async stop() {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    },
  };
}

/** Runs the CLI against `url` for the project in `project`; returns its time and output. */
export function cli(url, project, env, args, input) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args, '--dir', project, '--host', url], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    ...(input === undefined ? {} : { input }),
  });
  const ms = performance.now() - t0;
  if (r.status !== 0)
    throw new Error(`optimus ${args.join(' ')} failed (${r.status}):\n${r.stderr}${r.stdout.slice(0, 2000)}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

/** Median of `runs` timings of `f` (called with the round number). */
export function median(runs, f) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(f(i));
  results.sort((a, b) => a.ms - b.ms);
  return results[Math.floor(results.length / 2)];
}
