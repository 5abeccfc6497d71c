/**
 * `optimus deploy` against a real `optimus serve`: a manifest of content hashes first, then only
 * the jobs the server lacks travel; a job changed on the server meanwhile is resent; a server
 * without the manifest route gets everything; `--plan` shows field-level changes and applies none.
 */
import { spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type CliResult } from '../helpers/cli.js';
import { api, serveForSuite } from '../helpers/serve-process.js';
import { EXAMPLE } from '../helpers/temp-project.js';

const server = serveForSuite(['--no-runner']);
let project: string;
let cache: string;

const FINANCE = '/api/v1beta1/project/acme-analytics/namespace/finance';

/** The CLI on the suite's project, against `host` (default: the server), with its own caches. */
const optimus = (args: string[], host?: string) =>
  // Not spawnSync: that would block the event loop, and with it the proxy this process runs.
  new Promise<CliResult>((done) => {
    const child = spawn(process.execPath, [BIN, ...args, '--dir', project, '--host', host ?? server.url], {
      env: { ...process.env, NO_COLOR: '1', OPTIMUS_CACHE_DIR: cache },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => done({ code, stdout, stderr, json: () => JSON.parse(stdout) }));
  });

type NsOut = {
  namespace: string;
  sent: number;
  kept: number;
  added: string[];
  modified: string[];
  unchanged: string[];
  validation: { cached: number; checked: number };
};
const ns = (out: { namespaces: NsOut[] }, name: string) => out.namespaces.find((n) => n.namespace === name)!;

const edit = (path: string, change: (text: string) => string) => {
  const file = join(project, path);
  writeFileSync(file, change(readFileSync(file, 'utf8')));
};

type Answer = { status: number; headers?: Record<string, string>; body: string | Buffer };

/** A proxy in front of the server that can act on a request and its answer; closed after each test. */
const proxies: http.Server[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => new Promise((done) => p.close(done))));
});
async function proxy(
  intercept: (path: string, forward: () => Promise<Answer>) => Promise<Answer>,
): Promise<string> {
  const p = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const forward = async () => {
      const r = await fetch(server.url + req.url, {
        method: req.method!,
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => k === 'content-type' || k === 'if-none-match'),
        ) as Record<string, string>,
        ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
      });
      // Bytes and headers as they came: /plugins is a zip with an ETag.
      const headers: Record<string, string> = {};
      for (const k of ['content-type', 'etag']) {
        const v = r.headers.get(k);
        if (v) headers[k] = v;
      }
      return { status: r.status, headers, body: Buffer.from(await r.arrayBuffer()) };
    };
    const r = await intercept(req.url!, forward);
    res.writeHead(r.status, r.headers ?? { 'content-type': 'application/json' }).end(r.body);
  });
  proxies.push(p);
  await new Promise<void>((done) => p.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(p.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  project = join(server.root, 'project');
  cpSync(EXAMPLE, project, { recursive: true });
  cache = join(server.root, 'cache');
  // The secrets the example jobs use, set before the first deploy as a team would.
  expect((await optimus(['project', 'register'])).code).toBe(0);
  for (const name of ['WH_TOKEN', 'SLACK_TOKEN'])
    expect((await optimus(['secret', 'set', name, `value-of-${name}`])).code).toBe(0);
}, 60_000);

describe('incremental deploy through the CLI', () => {
  let financeJobs: number;

  it('sends every job the first time, then only the changed one, then none', async () => {
    const first = await optimus(['deploy', '--json']);
    expect(first.code).toBe(0);
    const f1 = ns(first.json(), 'finance');
    financeJobs = f1.added.length;
    expect(financeJobs).toBeGreaterThanOrEqual(2);
    expect(f1).toMatchObject({ sent: financeJobs, kept: 0 });

    edit('finance/jobs/revenue-daily/job.yaml', (t) =>
      t.replace(/^description: .*$/m, 'description: edited'),
    );
    const second = await optimus(['deploy', '--json']);
    expect(second.code).toBe(0);
    const f2 = ns(second.json(), 'finance');
    expect(f2).toMatchObject({
      sent: 1,
      kept: financeJobs - 1,
      modified: ['revenue-daily'],
      validation: { cached: financeJobs - 1, checked: 1 },
    });
    expect(ns(second.json(), 'marketing')).toMatchObject({ sent: 0, added: [], modified: [] });

    const third = await optimus(['deploy']);
    expect(third.code).toBe(0);
    expect(third.stderr).toContain(`deploying finance: 0 of ${financeJobs} jobs changed`);
    expect(third.stdout).toContain(`= ${financeJobs} jobs unchanged`);
    expect(third.stdout).toMatch(/deployed: 0 added, 0 modified, \d+ unchanged, 0 deleted/);
    const stored = await api(server.url, 'GET', `${FINANCE}/job/revenue-daily`);
    expect(stored.json.job.spec.description).toBe('edited');
  });

  /** Someone else deploys revenue-daily of finance with other content (the rest kept as stored). */
  const deployElsewhere = async (description: string) => {
    const job = (await api(server.url, 'GET', `${FINANCE}/job/revenue-daily`)).json.job;
    const others = (await api(server.url, 'GET', `${FINANCE}/job`)).json.jobs.filter(
      (j: { name: string }) => j.name !== 'revenue-daily',
    );
    const r = await api(server.url, 'POST', `${FINANCE}/deploy`, {
      jobs: [{ ...job.spec, description, assets: job.assets }],
      keep: others.map((j: { name: string; hash: string }) => ({ name: j.name, hash: j.hash })),
    });
    expect(r.status).toBe(200);
  };

  it('names unchanged jobs as kept without a manifest, and resends one the server holds otherwise', async () => {
    const seen: string[] = [];
    let armed = false;
    const host = await proxy(async (path, forward) => {
      seen.push(path);
      // Someone else deployed revenue-daily since this client's last deploy.
      if (armed && path === `${FINANCE}/deploy` && seen.filter((p) => p === path).length === 1)
        await deployElsewhere('changed on the server');
      return forward();
    });
    // The validation cache is per server (its plugin specs): one deploy through this host fills it.
    expect((await optimus(['deploy', '-n', 'finance'], host)).code).toBe(0);
    seen.length = 0;
    armed = true;
    const r = await optimus(['deploy', '-n', 'finance', '--json'], host);
    expect(r.code).toBe(0);
    expect(seen).not.toContain(`${FINANCE}/deploy/manifest`);
    expect(seen.filter((p) => p === `${FINANCE}/deploy`)).toHaveLength(2);
    expect(ns(r.json(), 'finance')).toMatchObject({
      sent: 1,
      kept: financeJobs - 1,
      modified: ['revenue-daily'],
      validation: { cached: financeJobs, checked: 0 },
    });
    const stored = await api(server.url, 'GET', `${FINANCE}/job/revenue-daily`);
    expect(stored.json.job.spec.description).toBe('edited');
  });

  it('resends in full a kept job that changed on the server after the manifest was read', async () => {
    const host = await proxy(async (path, forward) => {
      const answer = await forward();
      if (path === `${FINANCE}/deploy/manifest`) await deployElsewhere('changed on the server');
      return answer;
    });
    // Without the validation cache nothing is known unchanged: the manifest is asked first.
    const r = await optimus(['deploy', '-n', 'finance', '--no-cache', '--json'], host);
    expect(r.code).toBe(0);
    expect(ns(r.json(), 'finance')).toMatchObject({
      sent: 1,
      kept: financeJobs - 1,
      modified: ['revenue-daily'],
    });
    const stored = await api(server.url, 'GET', `${FINANCE}/job/revenue-daily`);
    expect(stored.json.job.spec.description).toBe('edited');
  });

  it('deploys everything in full to a server without the manifest route', async () => {
    edit('finance/jobs/revenue-daily/job.yaml', (t) =>
      t.replace('description: edited', 'description: old server'),
    );
    const seen: string[] = [];
    const host = await proxy(async (path, forward) => {
      seen.push(path);
      if (path.endsWith('/deploy/manifest'))
        return { status: 404, body: JSON.stringify({ code: 'ROUTE_NOT_FOUND', message: 'no such route' }) };
      const answer = await forward();
      if (path !== '/api/v1beta1/version') return answer;
      // A server of before the manifest protocol names no features.
      const { features: _f, ...version } = JSON.parse(String(answer.body));
      return { ...answer, body: JSON.stringify(version) };
    });
    const r = await optimus(['deploy', '-n', 'finance', '--json'], host);
    expect(r.code).toBe(0);
    expect(ns(r.json(), 'finance')).toMatchObject({
      sent: financeJobs,
      kept: 0,
      modified: ['revenue-daily'],
    });
    expect(seen).toContain(`${FINANCE}/deploy/manifest`);
  });

  it('--plan shows a changed config field and applies nothing', async () => {
    const before = await api(server.url, 'GET', `${FINANCE}/deploy`);
    edit('finance/jobs/revenue-daily/job.yaml', (t) =>
      t.replace('TABLE: revenue_daily', 'TABLE: revenue_total'),
    );
    const text = await optimus(['deploy', '--plan']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('~ revenue-daily would change');
    expect(text.stdout).toContain('~ task.config.TABLE: "revenue_daily" → "revenue_total"');
    expect(text.stdout).toContain('nothing was applied');
    const json = (await optimus(['deploy', '--plan', '--json'])).json();
    expect(json.applied).toBe(false);
    expect(ns(json, 'finance')).toMatchObject({
      added: [],
      deleted: [],
      modified: [
        {
          name: 'revenue-daily',
          changes: [{ path: 'task.config.TABLE', before: 'revenue_daily', after: 'revenue_total' }],
        },
      ],
    });
    const after = await api(server.url, 'GET', `${FINANCE}/deploy`);
    expect(after.json.deploys).toEqual(before.json.deploys);
    const stored = await api(server.url, 'GET', `${FINANCE}/job/revenue-daily`);
    expect(stored.json.job.spec.task.config.TABLE).toBe('revenue_daily');
  });

  it('registers the project again only when its settings in optimus.yaml changed', async () => {
    const same = await optimus(['deploy', '-n', 'marketing']);
    expect(same.code).toBe(0);
    expect(same.stderr).toContain('project acme-analytics and its namespaces are up to date');
    edit('optimus.yaml', (t) =>
      t.replace('"check-source >> audit-input"', '"check-source >> audit-input,publish"'),
    );
    const changed = await optimus(['deploy', '-n', 'marketing']);
    expect(changed.code).toBe(0);
    expect(changed.stderr).toContain('registering project acme-analytics');
    const held = await api(server.url, 'GET', '/api/v1beta1/project/acme-analytics');
    expect(held.json.project.plugin_dependencies).toContain('check-source >> audit-input,publish');
  });

  it('registers a namespace again only when its config in optimus.yaml changed', async () => {
    const same = await optimus(['deploy', '-n', 'marketing']);
    expect(same.stderr).toContain('project acme-analytics and its namespaces are up to date');
    edit('optimus.yaml', (t) => t.replace('"#marketing-data"', '"#marketing-team"'));
    const changed = await optimus(['deploy', '-n', 'marketing']);
    expect(changed.code).toBe(0);
    expect(changed.stderr).toContain('registering 1 namespace (project acme-analytics is up to date)');
    const held = await api(server.url, 'GET', '/api/v1beta1/project/acme-analytics/namespace/marketing');
    expect(held.json.namespace.config).toEqual({ TEAM_CHANNEL: '#marketing-team' });
  });

  it('--plan of a project the server does not know lists every job as added and registers nothing', async () => {
    edit('optimus.yaml', (t) => t.replace('name: acme-analytics', 'name: acme-planned'));
    try {
      const r = await optimus(['deploy', '--plan', '--json']);
      expect(r.code).toBe(0);
      const out = r.json();
      expect(ns(out, 'finance')).toMatchObject({ registered: false, modified: [], deleted: [] });
      expect(ns(out, 'finance').added).toHaveLength(financeJobs);
      expect((await api(server.url, 'GET', '/api/v1beta1/project/acme-planned')).status).toBe(404);
    } finally {
      edit('optimus.yaml', (t) => t.replace('name: acme-planned', 'name: acme-analytics'));
    }
  });
});
