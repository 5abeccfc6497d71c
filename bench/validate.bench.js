// `optimus job validate --json` on a generated project of 10,000 jobs (one task and three hooks
// each, 20 plugins), and `optimus --help` start-up, each against a baseline in the same run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const BIN = join(import.meta.dirname, '../bin/optimus.js');
const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const PLUGINS = 20;

export function generate(dir) {
  const ns = ['alpha', 'beta', 'gamma', 'delta'];
  writeFileSync(
    join(dir, 'optimus.yaml'),
    `version: 1\nproject: {name: bench}\nnamespaces:\n${ns.map((n) => `  - {name: ${n}, job: {path: ${n}}}`).join('\n')}\nplugins:\n  install_location: plugins\n  dependencies: ["h1 >> h2", "h2 >> h3"]\n`,
  );
  mkdirSync(join(dir, 'plugins'));
  for (let p = 0; p < PLUGINS; p++) {
    writeFileSync(
      join(dir, 'plugins', `p${p}.yaml`),
      `version: 3
name: p${p}
plugin_versions:
  default: {image: docker.io/bench/p${p}, tag: "1.0.${p}", entrypoint: {script: run}}
questions:
  - {name: TABLE, prompt: Table, regexp: '^[a-z0-9_]+$', required: true}
configs:
  - {name: TABLE, required: true}
  - {name: TOKEN, required: true, secret: true}
default_config: {BATCH: "500"}
`,
    );
  }
  for (const n of ns) {
    mkdirSync(join(dir, n), { recursive: true });
    writeFileSync(join(dir, n, 'this.yaml'), `owner: ${n}@bench\nlabels: {ns: ${n}}\n`);
  }
  for (let j = 0; j < JOBS; j++) {
    const jobDir = join(dir, ns[j % ns.length], `group${j % 50}`, `job${j}`);
    mkdirSync(join(jobDir, 'assets'), { recursive: true });
    const hook = (h, stage) =>
      `  - {name: h${h}, type: p${(j + h) % PLUGINS}, stage: ${stage}, config: {TABLE: t${j}_${h}, TOKEN: "{{ .secret.TOKEN }}"}}`;
    writeFileSync(
      join(jobDir, 'job.yaml'),
      `version: 3
name: job${j}
schedule: {start_date: "2026-01-01", interval: "0 ${j % 24} * * *"}
task:
  name: p${j % PLUGINS}
  config: {TABLE: table_${j}, TOKEN: "{{ .secret.TOKEN }}"}
  window: {size: 1d, truncate_to: d}
hooks:
${hook(1, 'pre')}
${hook(2, 'post')}
${hook(3, 'post')}
`,
    );
    writeFileSync(join(jobDir, 'assets', 'query.sql'), `select * from source_${j}`);
  }
}

function timeRun(args, runs) {
  const times = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], result: last };
}

export async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'optimus-bench-'));
  try {
    generate(dir);
    const validate = timeRun([BIN, 'job', 'validate', '--json', '--dir', dir], 3);
    const out = JSON.parse(validate.result.stdout);
    if (out.summary.jobs !== JOBS || !out.ok)
      throw new Error(`unexpected validate result: ${JSON.stringify(out.summary)}`);
    const node = timeRun(['-e', '0'], 15);
    const help = timeRun([BIN, '--help'], 15);
    return {
      name: 'validate',
      rows: [
        {
          metric: `job validate --json, ${JOBS} jobs x 4 nodes, ${PLUGINS} plugins`,
          value: validate.median / 1000,
          unit: 's',
          target: '< 3',
        },
        { metric: 'job validate, per job', value: validate.median / JOBS, unit: 'ms' },
        { metric: 'optimus --help', value: help.median, unit: 'ms', target: '< 150' },
        { metric: 'baseline: node -e 0', value: node.median, unit: 'ms' },
        { metric: 'optimus --help / bare node', value: help.median / node.median, unit: 'x' },
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
