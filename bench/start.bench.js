// How fast `optimus serve` starts on the embedded store, and how much memory it then holds.
// Start = from spawning the process to its `--json` listening line; memory = the process's RSS
// after it has been idle for a moment. Runs: a first start on a new data directory (from the store
// image the build makes), a restart on that directory, and, as baselines in the same run, a bare
// `node` process and a bare node HTTP server, plus a first start without the image (the store
// created from nothing, as before the image existed; BENCH_START_NO_IMAGE=0 skips it). Wall time
// depends on what else the machine runs; the CPU time the server used until listening much less.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/optimus.js');
const IMAGE = join(ROOT, 'dist/store-image/pglite.tar.gz');
const REST_MS = Number(process.env.BENCH_REST_MS ?? 3000);
const ROUNDS = Number(process.env.BENCH_START_ROUNDS ?? 3);

/** Spawn `args`, resolve when stdout shows a line passing `ready`, with the time it took. */
function startProcess(args, ready, env = {}) {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, {
    env: { ...process.env, OPTIMUS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const started = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.split('\n').some(ready)) resolve(performance.now() - t0);
    });
    exited.then((code) =>
      reject(new Error(`${args.join(' ')} exited with ${code} before it was ready:\n${err}`)),
    );
  });
  return {
    child,
    started,
    stderr: () => err,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resident memory of a process, in MB (Linux /proc; `ps` elsewhere). */
function rssMb(pid) {
  const status = `/proc/${pid}/status`;
  if (existsSync(status)) {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(status, 'utf8'));
    if (m) return Number(m[1]) / 1024;
  }
  return Number.NaN;
}

/** CPU time (user + system, all threads) a process has used so far, in seconds (Linux /proc). */
function cpuSeconds(pid) {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return Number.NaN;
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = readFileSync(stat, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const rest = () => new Promise((r) => setTimeout(r, REST_MS));

async function serveOnce(dir, env = {}) {
  const p = startProcess(
    [BIN, 'serve', '-c', join(dir, 'server.yaml'), '--data-dir', join(dir, 'data'), '--port', '0', '--json'],
    (l) => l.startsWith('{"listening"'),
    env,
  );
  try {
    const ms = await p.started;
    const cpu = cpuSeconds(p.child.pid);
    await rest();
    return { ms, cpu, rss: rssMb(p.child.pid), stderr: p.stderr() };
  } finally {
    await p.stop();
  }
}

async function baseline(label, script) {
  const p = startProcess(['-e', script], (l) => l === 'ready');
  const ms = await p.started;
  await rest();
  const rss = rssMb(p.child.pid);
  await p.stop();
  return { label, ms, rss };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run() {
  if (!existsSync(IMAGE)) throw new Error(`no store image at ${IMAGE}: run \`npm run build\` first`);
  const rows = [];
  const bare = await baseline(
    'bare node',
    "console.log('ready'); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000)",
  );
  const http = await baseline(
    'bare node HTTP server',
    "require('node:http').createServer((q, s) => s.end()).listen(0, '127.0.0.1', () => console.log('ready'))",
  );
  for (const b of [bare, http]) {
    rows.push({ metric: `baseline, ${b.label}: start`, value: b.ms / 1000, unit: 's' });
    rows.push({ metric: `baseline, ${b.label}: RSS at rest`, value: b.rss, unit: 'MB' });
  }

  const first = [];
  const again = [];
  for (let i = 0; i < ROUNDS; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'optimus-bench-start-'));
    try {
      writeFileSync(
        join(dir, 'server.yaml'),
        `plugins: {install_location: ${JSON.stringify(join(ROOT, 'examples/plugins'))}}\n`,
      );
      const a = await serveOnce(dir);
      if (a.stderr.includes('note:'))
        throw new Error(`the first start did not use the store image:\n${a.stderr}`);
      first.push(a);
      again.push(await serveOnce(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const pick = (runs, key) => median(runs.map((r) => r[key]));
  rows.push(
    {
      metric: `first start, new data dir from the image (median of ${ROUNDS})`,
      value: pick(first, 'ms') / 1000,
      unit: 's',
      target: '< 3',
    },
    { metric: 'first start: CPU time used until listening', value: pick(first, 'cpu'), unit: 's' },
    { metric: 'first start: RSS at rest', value: pick(first, 'rss'), unit: 'MB', target: '< 300' },
    { metric: `restart (median of ${ROUNDS})`, value: pick(again, 'ms') / 1000, unit: 's', target: '< 2' },
    { metric: 'restart: CPU time used until listening', value: pick(again, 'cpu'), unit: 's' },
    { metric: 'restart: RSS at rest', value: pick(again, 'rss'), unit: 'MB', target: '< 300' },
    {
      metric: 'first start ÷ bare node HTTP server start',
      value: pick(first, 'ms') / http.ms,
      unit: '×',
    },
  );

  if (process.env.BENCH_START_NO_IMAGE !== '0') {
    const dir = mkdtempSync(join(tmpdir(), 'optimus-bench-start-'));
    try {
      writeFileSync(
        join(dir, 'server.yaml'),
        `plugins: {install_location: ${JSON.stringify(join(ROOT, 'examples/plugins'))}}\n`,
      );
      const none = await serveOnce(dir, { OPTIMUS_STORE_IMAGE: join(dir, 'no-image.tar.gz') });
      rows.push(
        { metric: 'baseline, first start without the image (initdb)', value: none.ms / 1000, unit: 's' },
        { metric: 'baseline, first start without the image: RSS at rest', value: none.rss, unit: 'MB' },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { name: 'start', rows };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table((await run()).rows);
}
