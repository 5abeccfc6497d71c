// `optimus deploy` through the CLI of a generated project of 10,000 jobs (validate.bench.js's
// generator: 20 plugins, one task and three hooks each) to a real `optimus serve` on the embedded
// store: the first deploy, then an unchanged re-deploy and one with 10 jobs changed, each measured
// incrementally (validation cache + manifest of content hashes) and in full (`--no-cache
// --no-manifest`: every job validated and uploaded, as before) in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, serve } from './serve-kit.js';
import { generate } from './validate.bench.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CHANGED = 10;

/**
 * CPU seconds (user + system) from /proc: of this process's waited-for children (`self`, so a
 * spawnSync'd CLI), or of a running process. Wall time on a busy machine mostly measures the
 * machine; CPU time says what the CLI and the server each spent. `undefined` off Linux.
 */
function cpuSeconds(pid = 'self') {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return undefined;
  const f = readFileSync(file, 'utf8').split(') ')[1].split(' ');
  const tick = 100; // USER_HZ, 100 on every Linux this runs on
  return pid === 'self' ? (Number(f[13]) + Number(f[14])) / tick : (Number(f[11]) + Number(f[12])) / tick;
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'optimus-bench-'));
  const project = join(dir, 'project');
  const env = { ...process.env, NO_COLOR: '1', OPTIMUS_CACHE_DIR: join(dir, 'cache') };
  let server;
  try {
    mkdirSync(project);
    generate(project);
    server = await serve(
      dir,
      `serve: {host: 127.0.0.1}\nplugins: {install_location: ${JSON.stringify(join(project, 'plugins'))}}\n`,
      ['--no-runner'],
    );
    const cli = (args, input) => {
      const cpu0 = cpuSeconds();
      const srv0 = cpuSeconds(server.pid);
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [BIN, ...args, '--dir', project, '--host', server.url], {
        env,
        encoding: 'utf8',
        maxBuffer: 1 << 30,
        ...(input === undefined ? {} : { input }),
      });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`optimus ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
      const cpu = cpu0 === undefined ? Number.NaN : cpuSeconds() - cpu0;
      const serverCpu = srv0 === undefined ? Number.NaN : cpuSeconds(server.pid) - srv0;
      return { ms, cpu, serverCpu, stderr: r.stderr };
    };
    cli(['project', 'register']);
    cli(['secret', 'set', 'TOKEN'], 'bench-token');

    const first = cli(['deploy']);
    // The 10 changed jobs: a new description each round, so every round changes them again.
    let round = 0;
    const change = () => {
      round++;
      for (let k = 0; k < CHANGED; k++) {
        const j = k * Math.floor(JOBS / CHANGED);
        const file = join(
          project,
          ['alpha', 'beta', 'gamma', 'delta'][j % 4],
          `group${j % 50}`,
          `job${j}`,
          'job.yaml',
        );
        const text = readFileSync(file, 'utf8').replace(/^description: .*\n/m, '');
        writeFileSync(
          file,
          text.replace(/^name: .*\n/m, (line) => `${line}description: round ${round}\n`),
        );
      }
    };
    const median = (args, before) => {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        before?.();
        runs.push(cli(args));
      }
      const mid = (k) => runs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
      return { ms: mid('ms'), cpu: mid('cpu'), serverCpu: mid('serverCpu'), stderr: runs.at(-1).stderr };
    };
    const FULL = ['deploy', '--no-cache', '--no-manifest'];
    // Warm the validation cache once, so "incremental" measures what a user's second deploy costs.
    cli(['deploy']);
    const fullUnchanged = median(FULL);
    const incUnchanged = median(['deploy']);
    const fullChanged = median(FULL, change);
    const incChanged = median(['deploy'], change);
    const uploaded = (stderr) =>
      [...stderr.matchAll(/\(([\d.]+) (KiB|MiB)\)/g)].reduce(
        (kib, m) => kib + Number(m[1]) * (m[2] === 'MiB' ? 1024 : 1),
        0,
      );
    return {
      name: 'deploy-cli',
      rows: [
        { metric: `first deploy through the CLI, ${JOBS} jobs`, value: first.ms / 1000, unit: 's' },
        {
          metric: 'unchanged re-deploy, incremental',
          value: incUnchanged.ms / 1000,
          unit: 's',
          target: '< 1',
        },
        {
          metric: 'unchanged re-deploy, full (--no-cache --no-manifest)',
          value: fullUnchanged.ms / 1000,
          unit: 's',
        },
        {
          metric: 'unchanged re-deploy, full / incremental',
          value: fullUnchanged.ms / incUnchanged.ms,
          unit: 'x',
        },
        {
          metric: `${CHANGED} jobs changed, incremental`,
          value: incChanged.ms / 1000,
          unit: 's',
          target: '< 1',
        },
        { metric: `${CHANGED} jobs changed, full`, value: fullChanged.ms / 1000, unit: 's' },
        {
          metric: `${CHANGED} jobs changed, full / incremental`,
          value: fullChanged.ms / incChanged.ms,
          unit: 'x',
        },
        { metric: 'CLI CPU, unchanged, incremental', value: incUnchanged.cpu, unit: 's' },
        { metric: 'CLI CPU, unchanged, full', value: fullUnchanged.cpu, unit: 's' },
        { metric: `CLI CPU, ${CHANGED} changed, incremental`, value: incChanged.cpu, unit: 's' },
        { metric: `CLI CPU, ${CHANGED} changed, full`, value: fullChanged.cpu, unit: 's' },
        { metric: 'server CPU, unchanged, incremental', value: incUnchanged.serverCpu, unit: 's' },
        { metric: 'server CPU, unchanged, full', value: fullUnchanged.serverCpu, unit: 's' },
        { metric: `server CPU, ${CHANGED} changed, incremental`, value: incChanged.serverCpu, unit: 's' },
        { metric: `server CPU, ${CHANGED} changed, full`, value: fullChanged.serverCpu, unit: 's' },
        { metric: 'uploaded, unchanged, incremental', value: uploaded(incUnchanged.stderr), unit: 'KiB' },
        {
          metric: `uploaded, ${CHANGED} changed, incremental`,
          value: uploaded(incChanged.stderr),
          unit: 'KiB',
        },
        { metric: 'uploaded, full', value: uploaded(fullUnchanged.stderr), unit: 'KiB' },
      ],
    };
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.table(r.rows);
}
