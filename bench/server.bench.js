// Deploy 10,000 jobs (a task and two hooks each, a 1 KiB asset each) to a fresh `optimus serve` on
// the embedded store, end to end over HTTP; re-deploy unchanged and with one job changed; then
// GET /api/v1beta1/plugins throughput on loopback. With BENCH_PG_URL (or a local cluster found by
// bench/postgres.js) the same deploy runs on PostgreSQL.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { serve } from './serve-kit.js';

const ROOT = join(import.meta.dirname, '..');
const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);

function job(i, variant = '') {
  return {
    version: 3,
    name: `gen-${i}`,
    owner: 'bench@acme.example',
    description: `generated ${variant}`,
    schedule: { start_date: '2026-01-01', interval: `${i % 60} * * * *` },
    task: { name: 'python-script', config: { ENTRY: 'main.py', N: String(i) }, window: { size: '1h' } },
    hooks: [
      { name: 'audit', type: 'data-audit', stage: 'pre', config: { AUDIT_TABLE: `acme.raw.t_${i}` } },
      { name: 'publish', type: 'publish-event', config: { TOPIC: `t.${i}` } },
    ],
    assets: { 'main.py': `# job ${i}\n${'x'.repeat(1014)}\n` },
  };
}

async function call(url, method, path, body) {
  const r = await fetch(url + path, {
    method,
    body: body && JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  const json = await r.json();
  if (r.status >= 300)
    throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json).slice(0, 500)}`);
  return json;
}

async function timed(fn) {
  const t0 = performance.now();
  const out = await fn();
  return { ms: performance.now() - t0, out };
}

async function deployRun(label, env) {
  const dir = mkdtempSync(join(tmpdir(), 'optimus-bench-srv-'));
  const s = await serve(
    dir,
    `plugins: {install_location: ${JSON.stringify(join(ROOT, 'examples/plugins'))}}\n`,
    [],
    env,
  );
  try {
    await call(s.url, 'POST', '/api/v1beta1/project', { project: { name: 'bench' } });
    await call(s.url, 'POST', '/api/v1beta1/project/bench/namespace', { namespace: { name: 'n' } });
    const jobs = Array.from({ length: JOBS }, (_, i) => job(i));
    const path = '/api/v1beta1/project/bench/namespace/n/deploy';
    const cold = await timed(() => call(s.url, 'POST', path, { jobs }));
    if (cold.out.deploy.added.length !== JOBS) throw new Error('cold deploy did not add every job');
    const same = await timed(() => call(s.url, 'POST', path, { jobs }));
    if (same.out.deploy.status !== 'unchanged') throw new Error('unchanged re-deploy changed something');
    jobs[17] = job(17, 'changed');
    const one = await timed(() => call(s.url, 'POST', path, { jobs }));
    if (one.out.deploy.modified.length !== 1)
      throw new Error('one-job re-deploy did not modify exactly one job');
    return {
      rows: [
        {
          metric: `${label}: deploy ${JOBS} jobs to a fresh server`,
          value: cold.ms / 1000,
          unit: 's',
          target: label === 'embedded' ? '< 10' : undefined,
        },
        { metric: `${label}: re-deploy unchanged`, value: same.ms / 1000, unit: 's', target: '< 1' },
        {
          metric: `${label}: re-deploy with one job changed`,
          value: one.ms / 1000,
          unit: 's',
          target: '< 1',
        },
      ],
      server: s,
      dir,
    };
  } catch (e) {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** Requests per second of GET on a keep-alive loop: wrk when installed, else a Node client. */
async function throughput(url, path, seconds = 5) {
  if (spawnSync('which', ['wrk']).status === 0) {
    const r = spawnSync('wrk', ['-t2', '-c64', `-d${seconds}s`, url + path], { encoding: 'utf8' });
    const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
    if (m) return { rps: Number(m[1]), tool: 'wrk -t2 -c64' };
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const { hostname, port } = new URL(url);
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      await new Promise((resolve, reject) => {
        http
          .get({ hostname, port, path, agent }, (res) => {
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject);
      });
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 64 }, worker));
  agent.destroy();
  return { rps: done / ((performance.now() - t0) / 1000), tool: 'node http, 64 connections' };
}

export async function run() {
  const rows = [];
  const embedded = await deployRun('embedded');
  rows.push(...embedded.rows);
  const t = await throughput(embedded.server.url, '/api/v1beta1/plugins');
  rows.push({
    metric: `GET /api/v1beta1/plugins (${t.tool}; client and server share 2 cores)`,
    value: t.rps,
    unit: 'req/s',
    target: '>= 5000',
  });
  await embedded.server.stop();
  rmSync(embedded.dir, { recursive: true, force: true });

  let pgUrl = process.env.BENCH_PG_URL;
  let pg;
  if (!pgUrl) {
    const { startPostgres } = await import('./postgres.js');
    pg = await startPostgres();
    if ('url' in pg) pgUrl = pg.url;
    else rows.push({ metric: `PostgreSQL deploy skipped: ${pg.skipped}`, value: Number.NaN, unit: '' });
  }
  if (pgUrl) {
    try {
      const r = await deployRun('PostgreSQL', { OPTIMUS_DB_URL: pgUrl });
      rows.push(...r.rows);
      await r.server.stop();
      rmSync(r.dir, { recursive: true, force: true });
    } finally {
      if (pg && 'stop' in pg) await pg.stop();
    }
  }
  return { name: 'server', rows };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table((await run()).rows);
}
