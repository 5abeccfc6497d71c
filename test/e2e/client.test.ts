import { spawn, spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, runOptimus } from '../helpers/cli.js';
import { api, serveForSuite, startServe } from '../helpers/serve-process.js';
import { EXAMPLE, tempDir } from '../helpers/temp-project.js';

const server = serveForSuite();
let cache: string;
let project: string;

/** Every command here runs against the suite's project and server, with its own plugin cache. */
const optimus = (args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; host?: string } = {}) =>
  runOptimus([...args, '--dir', project, '--host', opts.host ?? server.url], {
    ...(opts.input === undefined ? {} : { input: opts.input }),
    env: { OPTIMUS_CACHE_DIR: cache, ...opts.env },
  });

beforeAll(() => {
  const root = server.root;
  project = join(root, 'project');
  cpSync(EXAMPLE, project, { recursive: true });
  cache = join(root, 'cache');
}, 60_000);

describe('client-lite commands against a real server', () => {
  it('deploys every namespace, then reports an unchanged re-deploy', () => {
    const first = optimus(['deploy', '--json']);
    expect(first.code).toBe(0);
    const out = first.json();
    expect(out.namespaces.map((n: { namespace: string; added: string[] }) => [n.namespace, n.added])).toEqual(
      [
        ['marketing', ['attribution', 'campaign-performance']],
        ['finance', ['ledger-export', 'marketing-roi', 'revenue-daily']],
      ],
    );
    const again = optimus(['deploy', '-n', 'finance']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('= 3 jobs unchanged');
    expect(again.stdout).toContain('deployed: 0 added, 0 modified, 3 unchanged, 0 deleted');
  });

  it('uploads nothing when a job is invalid locally, and says where', async () => {
    const file = join(project, 'finance/jobs/revenue-daily/job.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      original
        .replace('depends_on: notify-team', 'depends_on: [ghost]')
        .replace('Revenue per product line', 'changed'),
    );
    try {
      const r = optimus(['deploy']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /revenue-daily\/job\.yaml:\d+:\d+ hooks\[2\]\.depends_on error hook "publish" depends on "ghost"/,
      );
      expect(r.stdout).toContain('nothing deployed');
      const job = await api(
        server.url,
        'GET',
        '/api/v1beta1/project/acme-analytics/namespace/finance/job/revenue-daily',
      );
      expect(job.json.job.spec.description).not.toBe('changed');
    } finally {
      writeFileSync(file, original);
    }
  });

  it('sets secrets from an argument, stdin or a file, and never prints a value', () => {
    expect(optimus(['secret', 'set', 'wh_token', 'arg-value-1']).code).toBe(0);
    const piped = optimus(['secret', 'set', 'SLACK_TOKEN', '-n', 'marketing'], { input: 'piped-value-2\n' });
    expect(piped.stdout).toContain('secret SLACK_TOKEN created for namespace marketing');
    const file = join(tempDir({ v: 'file-value-3' }), 'v');
    const updated = optimus(['secret', 'set', 'WH_TOKEN', '--file', file, '--json']);
    expect(updated.json()).toMatchObject({
      ok: true,
      action: 'updated',
      secret: { name: 'WH_TOKEN', namespace: null },
    });
    const list = optimus(['secret', 'list', '--json']);
    expect(list.json().secrets.map((s: { name: string }) => s.name)).toEqual(['SLACK_TOKEN', 'WH_TOKEN']);
    const everything = [piped, updated, list, optimus(['secret', 'list'])]
      .map((r) => r.stdout + r.stderr)
      .join('');
    for (const v of ['arg-value-1', 'piped-value-2', 'file-value-3']) expect(everything).not.toContain(v);
    expect(optimus(['secret', 'delete', 'slack_token', '-n', 'marketing']).stdout).toContain(
      'secret SLACK_TOKEN deleted',
    );
    const missing = optimus(['secret', 'set', 'X']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no secret value given');
  });

  it('registers and describes the project and its namespaces', () => {
    expect(optimus(['project', 'register']).stdout).toContain(
      'registered project acme-analytics (2 hook rules) and 2 namespaces',
    );
    const d = optimus(['project', 'describe', '--json']).json();
    expect(d.project.plugin_dependencies).toEqual([
      'audit-output >> notify-team,publish',
      'check-source >> audit-input',
    ]);
    expect(d.project.config.WAREHOUSE).toBe('acme_dw');
    expect(optimus(['namespace', 'list']).stdout.split('\n').filter(Boolean)).toEqual([
      'finance',
      'marketing',
    ]);
    const ns = optimus(['namespace', 'describe', 'marketing', '--json']).json();
    expect(ns.jobs.map((j: { name: string }) => j.name)).toEqual(['attribution', 'campaign-performance']);
    expect(optimus(['namespace', 'register', 'nope']).code).toBe(2);
  });

  it('inspects a deployed job: run graph, configs and whether the checkout matches', () => {
    const r = optimus(['job', 'inspect', 'campaign-performance', '--json']);
    expect(r.code).toBe(0);
    const v = r.json();
    expect(v).toMatchObject({ name: 'campaign-performance', namespace: 'marketing', local: 'in sync' });
    expect(v.run_graph.map((n: { name: string }) => n.name)).toEqual([
      'check-source',
      'audit-input',
      'warehouse-load',
      'audit-output',
      'publish',
      'notify-team',
      'page-oncall',
    ]);
    expect(v.task.config.WH_TOKEN).toBe('{{ .secret.WH_TOKEN }}');
    expect(optimus(['job', 'inspect', 'nope']).stderr).toContain('job "nope" is not deployed');
    const typo = optimus(['job', 'inspect', 'campaign-perfomance']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('hint: did you mean campaign-performance?');
    const graphTypo = optimus(['job', 'graph', 'atribution', '--json']);
    expect(graphTypo.json()).toMatchObject({
      ok: false,
      error: { code: 'JOB_NOT_FOUND', hint: 'did you mean attribution?' },
    });
  });

  it('syncs the server’s plugin specs and validates with them offline', () => {
    const sync = optimus(['plugin', 'sync', '--json']);
    expect(sync.json().plugins).toEqual([
      'data-audit',
      'publish-event',
      'python-script',
      'slack-notify',
      'warehouse-load',
    ]);
    // --server uses the server's specs although the project has plugins installed.
    const r = optimus(['job', 'validate', '--server', '--json']);
    expect(r.code).toBe(0);
    expect(r.json().summary).toMatchObject({ jobs: 5, plugins: 5, errors: 0 });
    expect(r.json().plugin_source).toEqual({ kind: 'server', server: server.url, offline: false });
    const never = optimus(['job', 'validate', '--server'], { host: 'http://127.0.0.1:9' });
    expect(never.code).toBe(1);
    expect(never.stderr).toContain('no copy of its plugin specs is cached here');
    expect(never.stderr).toContain('hint: start the server');
  });
  it('lists the server’s plugins and compares them with the local plugin config', () => {
    const run = (args: string[]) =>
      spawnSync(
        process.execPath,
        [BIN, 'plugin', ...args, '-c', join(project, 'optimus.yaml'), '--host', server.url, '--json'],
        { encoding: 'utf8' },
      );
    const list = JSON.parse(run(['list', '--server']).stdout);
    expect(list.plugins.find((p: { name: string }) => p.name === 'warehouse-load')).toMatchObject({
      task_only: true,
      version: '1.2.0',
    });
    const local = join(
      tempDir({
        'optimus.yaml':
          'version: 1\nproject: {name: x}\nplugins:\n  list: [{name: data-audit, url: a.yaml}, {name: mine, url: m.yaml}]\n',
      }),
      'optimus.yaml',
    );
    const diff = spawnSync(
      process.execPath,
      [BIN, 'plugin', 'diff', '--server', '-c', local, '--host', server.url, '--json'],
      { encoding: 'utf8' },
    );
    const changes = JSON.parse(diff.stdout).changes.map(
      (c: { name: string; change: string }) => `${c.change} ${c.name}`,
    );
    expect(changes).toContain('only-local mine');
    expect(changes).toContain('only-server warehouse-load');
    expect(changes).not.toContain('only-server data-audit');
  });
});

describe('when the server cannot be used', () => {
  it('says the server is unreachable and how to fix it', () => {
    const r = optimus(['deploy'], { host: 'http://127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach the Optimus server at http://127.0.0.1:9');
    expect(r.stderr).toContain('hint: start it with `optimus serve`');
  });

  it('says the token was refused', async () => {
    const guarded = await startServe(join(tempDir(), 'data'), [], { OPTIMUS_AUTH_TOKENS: 'right-token' });
    try {
      const none = optimus(['secret', 'list'], { host: guarded.url });
      expect(none.stderr).toContain('refused a request without a token');
      const wrong = optimus(['secret', 'list'], { host: guarded.url, env: { OPTIMUS_TOKEN: 'wrong' } });
      expect(wrong.stderr).toContain('refused the token');
      expect(wrong.stderr).toContain('check OPTIMUS_TOKEN');
      const right = optimus(['project', 'register'], {
        host: guarded.url,
        env: { OPTIMUS_TOKEN: 'right-token' },
      });
      expect(right.code).toBe(0);
    } finally {
      guarded.child.kill('SIGTERM');
      await guarded.exited;
    }
  }, 60_000);

  it('refuses a server that speaks another API version', async () => {
    const fake = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ server_version: '9.0.0', api_version: 2 }));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    try {
      const port = (fake.address() as { port: number }).port;
      // Not spawnSync: the fake server lives in this process and must keep answering.
      const child = spawn(
        process.execPath,
        [BIN, 'deploy', '--dir', project, '--host', `http://127.0.0.1:${port}`],
        { env: { ...process.env, NO_COLOR: '1' } },
      );
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const code = await new Promise((done) => child.on('close', done));
      const r = { code, stderr };
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('the server speaks API version 2 (server 9.0.0); this CLI speaks 1');
      expect(r.stderr).toContain('upgrade the optimus CLI');
    } finally {
      fake.close();
    }
  });
});
