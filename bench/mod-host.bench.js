// Mod calls per second through the mod host (a pool of long-lived processes, JSON-RPC batches)
// against spawning one plugin process per job, in the same run, on the same plugin.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const JOBS = Number(process.env.BENCH_MOD_JOBS ?? 5000);
const SPAWNED = Number(process.env.BENCH_MOD_SPAWNED ?? 100);
const DIST = process.env.OPTIMUS_DIST
  ? pathToFileURL(`${process.env.OPTIMUS_DIST.replace(/\/$/, '')}/`)
  : new URL('../dist/', import.meta.url);
const load = (path) => import(new URL(path, DIST).href);

const SPEC = {
  version: 3,
  name: 'sqlish',
  mods: ['dependency_resolver'],
  plugin_versions: { default: { image: 'x', tag: '1', entrypoint: { script: 'run' } } },
};
const PLUGIN = `#!/usr/bin/env node
const spec = ${JSON.stringify(SPEC)};
const answer = ({ id, method, params }) => {
  if (method === 'handshake') return { jsonrpc: '2.0', id, result: { protocol: 1, spec } };
  const reads = [...params.assets['query.sql'].matchAll(/from \`([^\`]+)\`/g)].map((m) => 'bigquery://' + m[1]);
  if (method === 'generate_destination') return { jsonrpc: '2.0', id, result: { destination: 'bigquery://' + params.config.TABLE } };
  return { jsonrpc: '2.0', id, result: { dependencies: reads } };
};
let buf = '';
process.stdin.on('data', (c) => {
  buf += c;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    if (!line.trim()) continue;
    const m = JSON.parse(line);
    process.stdout.write(JSON.stringify(Array.isArray(m) ? m.map(answer) : answer(m)) + '\\n');
  }
});
process.stdin.on('end', () => process.exit(0));
`;

const params = (i) => ({
  job: { project: 'p', namespace: 'n', name: `job${i}`, labels: {} },
  config: { TABLE: `p:d.t${i}` },
  assets: { 'query.sql': `select * from \`p.d.t${i - 1}\` join \`p.d.t${i - 2}\` using (id)` },
});

/** One process per job: spawn, handshake, both calls, exit (what a host without a pool does). */
function oneShot(file, i) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.on('error', reject);
    child.on('close', () => resolve(out.trim().split('\n').length));
    const p = params(i);
    child.stdin.end(
      [
        { jsonrpc: '2.0', id: 1, method: 'handshake', params: { protocol: 1 } },
        { jsonrpc: '2.0', id: 2, method: 'generate_destination', params: p },
        { jsonrpc: '2.0', id: 3, method: 'generate_dependencies', params: p },
      ]
        .map((m) => JSON.stringify(m))
        .join('\n') + '\n',
    );
  });
}

export async function run() {
  const { createModHost } = await load('plugins/mods/mod-host.js');
  const dir = mkdtempSync(join(tmpdir(), 'optimus-bench-mods-'));
  try {
    const file = join(dir, 'sqlish');
    writeFileSync(file, PLUGIN);
    chmodSync(file, 0o755);

    const host = createModHost();
    const reqs = Array.from({ length: JOBS }, (_, i) => ({ params: params(i) }));
    let t = performance.now();
    const cold = await host.resolve({ name: 'sqlish', file }, reqs);
    const coldMs = performance.now() - t;
    if (cold.some((o) => !o.ok)) throw new Error('a mod call failed');
    t = performance.now();
    await host.resolve({ name: 'sqlish', file }, reqs);
    const warmMs = performance.now() - t;
    await host.close();

    // Spawning per job is slow: measured on fewer jobs, with the same concurrency as the pool.
    const limit = Math.min(4, (await import('node:os')).availableParallelism());
    t = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: limit }, async () => {
        while (next < SPAWNED) await oneShot(file, next++);
      }),
    );
    const spawnMs = performance.now() - t;

    // The whole inferrer (rendering each job's config and assets, then the mod host) on 10,000 jobs.
    const { createInferrer } = await load('services/lineage-infer.js');
    const { loadPluginObject } = await load('spec/plugin-spec.js');
    const { loadJobValue } = await load('spec/job-spec.js');
    const { createSecretCipher } = await load('services/secret-cipher.js');
    const plugin = { ...loadPluginObject(SPEC, 'sqlish').plugin, source: file };
    const served = {
      get: (name) =>
        name === 'sqlish' ? { plugin, kind: 'binary', file, spec: new Uint8Array() } : undefined,
    };
    const inferrer = createInferrer({
      plugins: served,
      store: { secretsVisibleTo: async () => [], getProject: async () => undefined },
      cipher: createSecretCipher('a'.repeat(32)),
    });
    const INFER = 10_000;
    const inferReqs = Array.from({ length: INFER }, (_, i) => {
      const p = params(i);
      const spec = loadJobValue(
        {
          version: 3,
          name: `job${i}`,
          owner: 'o@acme.example',
          schedule: { start_date: '2026-01-01', interval: '0 2 * * *' },
          task: { name: 'sqlish', config: { TABLE: `p:d.t${i}` }, window: { size: '1d', truncate_to: 'd' } },
        },
        [],
      ).spec;
      return {
        projectName: 'p',
        namespaceName: 'n',
        spec,
        assets: p.assets,
        hash: `h${i}`,
        projectConfig: {},
        namespaceConfig: {},
      };
    });
    t = performance.now();
    const inferred = await inferrer.infer(inferReqs);
    const inferMs = performance.now() - t;
    await inferrer.close();
    if (inferred.some((r) => !r.ok))
      throw new Error(`inference failed: ${JSON.stringify(inferred.find((r) => !r.ok))}`);

    const pooled = (JOBS * 2) / (warmMs / 1000);
    const spawned = (SPAWNED * 2) / (spawnMs / 1000);
    return {
      name: 'mod-host',
      rows: [
        {
          metric: `mod host, ${JOBS} jobs, pool started cold`,
          value: (JOBS * 2) / (coldMs / 1000),
          unit: 'calls/s',
        },
        { metric: `mod host, ${JOBS} jobs, pool warm`, value: pooled, unit: 'calls/s' },
        {
          metric: `baseline: one process per job (${SPAWNED} jobs, ${limit} at a time)`,
          value: spawned,
          unit: 'calls/s',
        },
        { metric: 'pool speed-up over one process per job', value: pooled / spawned, unit: 'x' },
        { metric: `inferrer: ${INFER} jobs rendered and resolved (cold pool)`, value: inferMs, unit: 'ms' },
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  console.table(r.rows);
}
