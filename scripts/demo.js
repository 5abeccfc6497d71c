// `npm run demo`: the whole path that exists so far, on the example project and the embedded
// defaults. Validate plugins and jobs locally, compile them to Airflow DAGs and write each plugin's
// wrapper image context, scaffold, test, run and pack a new plugin (the authoring kit), install the
// plugins (a file provider, plus the example binary plugin and the new one) for a server, start `optimus serve` on a throwaway data dir, deploy (each
// job's upstreams inferred from its SQL), store secrets, inspect a job's lineage, plan a change
// without applying it, run a job on the embedded runner and read its run graph and logs (checking
// no secret value was printed), replay a day with its downstream jobs in order, then stop the
// server, having shown the web console's jobs page. Exits non-zero if any step fails.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const project = relative(process.cwd(), join(root, 'examples/project')) || '.';
const bin = join(root, 'bin/optimus.js');
const work = mkdtempSync(join(tmpdir(), 'optimus-demo-'));
const env = { ...process.env, OPTIMUS_CACHE_DIR: join(work, 'cache') };
let server;

function title(args, note) {
  process.stdout.write(`\n\x1b[1m$ optimus ${args.join(' ')}\x1b[0m  # ${note}\n`);
}

function step(note, args, input) {
  title(args, note);
  const r = spawnSync(process.execPath, [bin, ...args], {
    stdio: [input === undefined ? 'inherit' : 'pipe', 'inherit', 'inherit'],
    input,
    env,
  });
  if (r.status !== 0) fail(`demo step failed (exit ${r.status}): optimus ${args.join(' ')}`);
}

/** Like step, but keeps what the command printed (shown as it is) so the demo can check it. */
function captured(note, args, { quiet = false } = {}) {
  if (!quiet) title(args, note);
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env });
  if (!quiet) {
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
  }
  printed += r.stdout + r.stderr;
  if (r.status !== 0) fail(`demo step failed (exit ${r.status}): optimus ${args.join(' ')}`);
  return r.stdout;
}
let printed = '';

function fail(message) {
  process.stderr.write(`${message}\n`);
  cleanup();
  process.exit(1);
}

function cleanup() {
  server?.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
}

// 1. Locally: specs, jobs, run graphs. No server needed.
const specs = relative(process.cwd(), join(root, 'examples/plugins'));
step('check the plugin specs', ['plugin', 'validate', specs]);
step('install the project’s plugins as optimus.yaml declares them (frozen to its lock)', [
  'plugin',
  'install',
  '--frozen',
  '-c',
  join(project, 'optimus.yaml'),
]);
step('validate every job of every namespace', ['job', 'validate', '--dir', project]);
for (const job of ['campaign-performance', 'revenue-daily'])
  step(`run order of ${job}`, ['job', 'graph', job, '--dir', project]);

// Beyond one machine: the same jobs as Airflow DAG files, and each plugin's wrapper image context.
const dags = join(work, 'airflow');
step('compile every job to an Airflow DAG (KubernetesPodOperator tasks, in run-graph order)', [
  'scheduler',
  'compile',
  '--dir',
  project,
  '--out',
  dags,
]);
step('again: nothing changed, so no file is rewritten', [
  'scheduler',
  'compile',
  '--dir',
  project,
  '--out',
  dags,
]);
const dag = readFileSync(join(dags, 'dags/finance/revenue-daily.py'), 'utf8');
process.stdout.write(`\n${join('dags', 'finance', 'revenue-daily.py')} (first task):\n`);
process.stdout.write(
  `${dag.slice(dag.indexOf('    task_'), dag.indexOf('    )', dag.indexOf('    task_')) + 6)}\n`,
);
step('the wrapper image of each plugin: its executor image plus the base image’s entrypoint', [
  'plugin',
  'image',
  '--all',
  '--dir',
  project,
  '--output',
  join(work, 'wrapper-images'),
]);

// A plugin author's loop, no server needed: scaffold a plugin, check it, run its sample job here as
// the server would, and pack the artifact that the server below installs.
const authored = join(work, 'orders-load');
const artifacts = join(work, 'artifacts');
step('scaffold a binary plugin with a dependency resolver (TypeScript on the plugin SDK)', [
  'plugin',
  'init',
  'orders-load',
  '--kind',
  'binary',
  '--mod',
  'dependency-resolver',
  '--dir',
  authored,
]);
step('its checks: build, handshake, spec, questions, sample job, resolver, tests/*.yaml', [
  'plugin',
  'test',
  authored,
]);
step('render its sample job’s input as the server would, and run the entrypoint here', [
  'plugin',
  'run',
  authored,
  '--no-build',
  '--secret',
  'API_TOKEN=a-demo-token',
  '--scheduled-at',
  '2026-03-02T02:00:00Z',
]);
step('pack it: the artifact, its sha256 and the plugins.list entry', [
  'plugin',
  'pack',
  authored,
  '--no-build',
  '--out',
  artifacts,
]);

// 2. A server: its plugins installed declaratively from a file provider, pinned in a lock file.
const config = join(work, 'server.yaml');
const plugins = ['warehouse-load', 'python-script', 'data-audit', 'slack-notify', 'publish-event'];
writeFileSync(
  config,
  `plugins:
  install_location: ${JSON.stringify(join(work, 'plugins'))}
  providers:
    - {name: examples, type: file, root: ${JSON.stringify(join(root, 'examples'))}}
    - {name: authored, type: file, root: ${JSON.stringify(artifacts)}}
  list:
${plugins.map((p) => `    - {name: ${p}, provider: examples, url: plugins/optimus-plugin-${p}.yaml}`).join('\n')}
    - {name: row-count-check, provider: examples, url: binary-plugin/row-count-check}
    - {name: orders-load, provider: authored, url: orders-load-0.1.0.tar.gz}
`,
);
step('install the server’s plugins (and pin them in plugins.lock.yaml)', ['plugin', 'install', '-c', config]);
step('again: nothing changed, so nothing is downloaded', ['plugin', 'install', '-c', config]);

title(
  ['serve', '-c', 'server.yaml', '--data-dir', '<tmp>', '--port', '0'],
  'embedded store, generated app key, 127.0.0.1',
);
server = spawn(
  process.execPath,
  [bin, 'serve', '-c', config, '--data-dir', join(work, 'data'), '--port', '0', '--json'],
  {
    env: { ...env, OPTIMUS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const url = await new Promise((resolve) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const line = out.split('\n').find((l) => l.startsWith('{"listening"'));
    if (line) resolve(JSON.parse(line).listening);
  });
  server.on('exit', (code) => fail(`the server exited early (${code})`));
});

// 3. The client-lite path: nothing installed locally; the server provides plugins and validation.
const at = ['--dir', project, '--host', url];
step('deploy: validated with the server’s plugin specs, then uploaded', ['deploy', ...at]);
const secrets = { WH_TOKEN: 'demo-warehouse-token', SLACK_TOKEN: 'xoxb-demo-slack' };
step(
  'secrets go to the server encrypted, never echoed',
  ['secret', 'set', 'WH_TOKEN', ...at],
  `${secrets.WH_TOKEN}\n`,
);
step('another one, for the Slack hook', ['secret', 'set', 'SLACK_TOKEN', ...at], `${secrets.SLACK_TOKEN}\n`);
step(
  'a namespace-scoped secret',
  ['secret', 'set', 'ADS_API_KEY', '-n', 'marketing', ...at],
  'ads-demo-key\n',
);
step('names, scopes and digests only', ['secret', 'list', ...at]);
step('deploy again: nothing changed', ['deploy', ...at]);
step('what the server holds for a job, and who reads what it writes', [
  'job',
  'inspect',
  'revenue-daily',
  ...at,
]);
step('its upstreams, inferred from its query.sql across namespaces: nobody listed them', [
  'job',
  'inspect',
  'marketing-roi',
  ...at,
]);

// A change, planned and not applied: a copy of the project where marketing-roi no longer reads revenue.
const edited = join(work, 'project');
cpSync(join(root, 'examples/project'), edited, {
  recursive: true,
  filter: (src) => !src.endsWith('.plugins'),
});
const roiQuery = join(edited, 'finance/jobs/marketing-roi/assets/query.sql');
writeFileSync(
  roiQuery,
  readFileSync(roiQuery, 'utf8')
    .replace('sum(r.revenue) / nullif(any_value(s.spend), 0) as roas', 'any_value(s.spend) as spend')
    .replace(/from `acme-dw\.finance\.revenue_daily` r\ncross join spend s/, 'from spend s'),
);
step('plan a deploy of that copy: the changed asset, and the upstream it would lose; nothing applied', [
  'deploy',
  '--plan',
  '--dir',
  edited,
  '--host',
  url,
]);

// 4. The embedded runner: run a job with a task and three hooks, watch it, read what it printed.
captured('run it now and wait: each node as it changes (exit 1 if the run fails)', [
  'job',
  'run',
  'revenue-daily',
  '--wait',
  ...at,
]);
captured('the run graph of the last runs, each node with its state and duration', [
  'job',
  'runs',
  'revenue-daily',
  '--limit',
  '1',
  ...at,
]);
captured('what the task and hooks printed (secret values are masked in stored logs)', [
  'job',
  'logs',
  'revenue-daily',
  ...at,
]);
const logs = JSON.parse(captured('', ['job', 'logs', 'revenue-daily', '--json', ...at], { quiet: true }));
const lines = logs.lines ?? [];
if (!lines.some((l) => /authenticated with a \d+-character token/.test(l.line)))
  fail('the warehouse-load task did not report using its WH_TOKEN secret');
for (const [name, value] of Object.entries(secrets))
  if (printed.includes(value)) fail(`the value of secret ${name} was printed`);
process.stdout.write(
  `\nsecret check: the task used WH_TOKEN and the hook SLACK_TOKEN; neither value appears in anything printed above\n`,
);

// 5. Replay: the day again for revenue-daily and, in dependency order, every job downstream of it.
captured('replay a day: revenue-daily first, then marketing-roi (it reads revenue-daily’s table)', [
  'replay',
  'revenue-daily',
  '--from',
  '2026-03-01',
  '--to',
  '2026-03-01',
  '--downstream',
  '--wait',
  ...at,
]);
const replays = JSON.parse(captured('', ['replay', 'list', '--json', ...at], { quiet: true }));
const replay = replays.replays?.[0];
if (replay?.status !== 'succeeded') fail(`the replay did not succeed: ${JSON.stringify(replay)}`);
captured('its progress per job and window', ['replay', 'status', String(replay.id), ...at]);
for (const [name, value] of Object.entries(secrets))
  if (printed.includes(value)) fail(`the value of secret ${name} was printed`);

// 6. The web console, served by the same server at `/`: what its jobs page shows, as the API gives it
// to the page, and, where Debian's chromium is installed, the page itself rendered headless.
process.stdout.write(
  `\n\x1b[1mthe web console: open ${url}/ in a browser\x1b[0m  # served by the same server\n`,
);
const index = await fetch(`${url}/`);
const html = await index.text();
if (index.status !== 200 || !html.includes('<div id="root">'))
  fail(`the server did not serve the web console at / (${index.status}): run \`npm run build\``);
const { jobs: listed = [] } = await (await fetch(`${url}/api/v1beta1/jobs?limit=100`)).json();
process.stdout.write(`jobs page (${listed.length} jobs):\n`);
for (const j of listed)
  process.stdout.write(
    `  ${j.name.padEnd(22)} ${`${j.project}/${j.namespace}`.padEnd(26)} ${j.task.padEnd(16)} last run: ${j.last_run?.status ?? 'never'}\n`,
  );
if (existsSync('/usr/bin/chromium')) {
  const page = spawnSync(
    '/usr/bin/chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${join(work, 'chromium')}`,
      '--virtual-time-budget=8000',
      '--dump-dom',
      `${url}/#/jobs`,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  const shown = listed.filter((j) => page.stdout?.includes(`>${j.name}<`)).length;
  if (shown !== listed.length)
    fail(`chromium rendered ${shown} of the ${listed.length} jobs on the console's jobs page`);
  process.stdout.write(`chromium rendered the jobs page headless: all ${shown} jobs are on it\n`);
} else {
  process.stdout.write('(install Debian’s chromium to have the demo render the page headless too)\n');
}

server.removeAllListeners('exit');
server.kill('SIGTERM');
await new Promise((r) => server.on('exit', r));
server = undefined;
cleanup();
process.stdout.write(
  '\nDemo done. To go on by hand: `npm install -g .`, then the tour in README.md (a server of your own with `optimus serve -c examples/server/server.yaml --install-plugins`, data in ~/.optimus).\n',
);
