import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pluginCacheDir } from '../../src/cli/plugin-cache.js';
import { runOptimus } from '../helpers/cli.js';
import { serveForSuite } from '../helpers/serve-process.js';
import { tempDir } from '../helpers/temp-project.js';

const server = serveForSuite();

describe('a new project, from nothing to a deployed job', () => {
  it('init → job create → addhook twice with one plugin → secret set → deploy → inspect', () => {
    const root = tempDir();
    const proj = join(root, 'proj');
    const cache = join(root, 'cache');
    const optimus = (args: string[], input = '') => {
      const r = runOptimus(args, { input, env: { OPTIMUS_CACHE_DIR: cache } });
      if (r.code !== 0)
        throw new Error(`optimus ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
      return r.stdout;
    };

    optimus([
      'init',
      '--dir',
      proj,
      '--project',
      'flow',
      '--namespace',
      'sales',
      '--host',
      server.url,
      '--yes',
    ]);
    const set = (pairs: Record<string, string>) =>
      Object.entries(pairs).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
    optimus([
      'job',
      'create',
      '--dir',
      proj,
      '--yes',
      ...set({
        name: 'orders-daily',
        owner: 'sales@acme.example',
        task: 'warehouse-load',
        window: 'daily',
        PROJECT: 'acme-dw',
        DATASET: 'sales',
        TABLE: 'orders',
        LOAD_METHOD: 'REPLACE',
        PARTITION_FILTER: "day = '{{ .DSTART | Date }}'",
      }),
    ]);
    const jobFile = join(proj, 'sales/jobs/orders-daily/job.yaml');
    expect(readFileSync(jobFile, 'utf8')).toContain('WH_TOKEN: "{{ .secret.WH_TOKEN }}"');

    optimus([
      'job',
      'addhook',
      'orders-daily',
      '--dir',
      proj,
      '--yes',
      ...set({
        plugin: 'data-audit',
        hook_name: 'audit-in',
        stage: 'pre',
        AUDIT_TABLE: 'acme-dw.raw.orders',
      }),
    ]);
    optimus([
      'job',
      'addhook',
      'orders-daily',
      '--dir',
      proj,
      '--yes',
      ...set({
        plugin: 'data-audit',
        hook_name: 'audit-out',
        stage: 'post',
        AUDIT_TABLE: 'acme-dw.sales.orders',
      }),
    ]);
    const yaml = readFileSync(jobFile, 'utf8');
    expect(yaml).toMatch(/name: audit-in\n\s+type: data-audit/);
    expect(yaml).toMatch(/name: audit-out\n\s+type: data-audit/);

    expect(optimus(['secret', 'set', 'WH_TOKEN', '--dir', proj], 'flow-secret\n')).toContain(
      'secret WH_TOKEN created',
    );

    const deploy = JSON.parse(optimus(['deploy', '--dir', proj, '--json']));
    expect(deploy).toMatchObject({
      ok: true,
      project: 'flow',
      namespaces: [{ namespace: 'sales', added: ['orders-daily'], warnings: [] }],
    });

    const inspect = JSON.parse(optimus(['job', 'inspect', 'orders-daily', '--dir', proj, '--json']));
    expect(inspect.local).toBe('in sync');
    expect(inspect.run_graph.map((n: { name: string; stage: string }) => `${n.stage}:${n.name}`)).toEqual([
      'pre:audit-in',
      'task:warehouse-load',
      'post:audit-out',
    ]);
    expect(inspect.task.config).toMatchObject({
      LOAD_METHOD: 'REPLACE',
      TABLE: 'orders',
      WH_TOKEN: '{{ .secret.WH_TOKEN }}',
    });
    expect(JSON.stringify(inspect)).not.toContain('flow-secret');
  });
});

/** The commands a run printed as `next: …`, as argument lists (backticks and trailing notes dropped). */
function nextCommands(stdout: string): string[][] {
  return [...stdout.matchAll(/^next: `?optimus ([^`(\n]+)/gm)].map((m) => m[1]!.trim().split(/\s+/));
}

describe('client-lite by default: the next: hints of a project without local plugins', () => {
  it('init → job create → job validate → job graph, each run as the previous one printed it', {
    timeout: 120_000,
  }, () => {
    const root = tempDir();
    const env = { OPTIMUS_CACHE_DIR: join(root, 'cache') };
    const optimus = (args: string[]) => {
      const r = runOptimus(args, { cwd: root, env });
      if (r.code !== 0)
        throw new Error(`optimus ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
      return r;
    };
    const init = optimus([
      'init',
      '--dir',
      'proj',
      '--project',
      'lite',
      '--namespace',
      'sales',
      '--host',
      server.url,
      '--yes',
    ]);
    const [create] = nextCommands(init.stdout);
    expect(create).toEqual(['job', 'create', '--dir', 'proj']);

    const created = optimus([
      ...create!,
      '--yes',
      ...['name=orders', 'owner=o@acme.example', 'task=python-script', 'ENTRY=main.py'].flatMap((a) => [
        '--set',
        a,
      ]),
    ]);
    const [validate] = nextCommands(created.stdout);
    expect(validate).toEqual(['job', 'validate', 'orders', '--dir', 'proj']);

    const validated = optimus(validate!);
    expect(validated.stdout).toContain(`checked against 5 plugins of ${server.url}`);
    expect(validated.stdout).not.toContain('plugin install');
    const [graph] = nextCommands(validated.stdout);
    expect(graph).toEqual(['job', 'graph', 'orders', '--dir', 'proj']);
    expect(optimus(graph!).stdout).toMatch(/^orders \(sales\)\n\s+1\. task python-script\n$/);

    const hooked = optimus([
      'job',
      'addhook',
      'orders',
      '--dir',
      'proj',
      '--yes',
      ...['plugin=data-audit', 'hook_name=audit', 'stage=pre', 'AUDIT_TABLE=acme.raw.orders'].flatMap((a) => [
        '--set',
        a,
      ]),
    ]);
    const [afterHook] = nextCommands(hooked.stdout);
    expect(afterHook).toEqual(['job', 'graph', 'orders', '--dir', 'proj']);
    const nodes = JSON.parse(optimus([...afterHook!, '--json']).stdout).nodes;
    expect(nodes.map((n: { stage: string; name: string }) => `${n.stage}:${n.name}`)).toEqual([
      'pre:audit',
      'task:python-script',
    ]);
  });

  it('names the server when a job uses a plugin it does not serve, never `plugin install`', () => {
    const root = tempDir();
    const env = { OPTIMUS_CACHE_DIR: join(root, 'cache') };
    runOptimus(
      ['init', '--dir', root, '--project', 'p', '--namespace', 'ns', '--host', server.url, '--yes'],
      { env },
    );
    writeFileSync(
      join(root, 'ns/jobs/job.yaml'),
      'version: 3\nname: ghost-job\nowner: o\nschedule: {start_date: "2026-01-01", interval: "0 1 * * *"}\ntask: {name: ghost, config: {}, window: {size: 1d}}\n',
    );
    const r = runOptimus(['job', 'validate', '--dir', root], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`task plugin "ghost" is not served by ${server.url}`);
    expect(r.stdout).toContain(
      'hint: the server serves: data-audit, publish-event, python-script, slack-notify, warehouse-load',
    );
    expect(r.stdout).not.toContain('plugin install');
  });

  it("refreshes the cached specs only when the server's fingerprint changes, and works offline with a note", {
    timeout: 120_000,
  }, () => {
    const root = tempDir();
    const cache = join(root, 'cache');
    const env = { OPTIMUS_CACHE_DIR: cache };
    runOptimus(
      ['init', '--dir', root, '--project', 'p', '--namespace', 'ns', '--host', server.url, '--yes'],
      { env },
    );
    const sync = () => runOptimus(['plugin', 'sync', '--dir', root, '--json'], { env }).json();
    expect(sync()).toMatchObject({ ok: true, changed: true });
    expect(sync()).toMatchObject({ ok: true, changed: false });
    const dir = sync().cache as string;
    // A stale copy (an older fingerprint) is replaced on the next validation.
    writeFileSync(join(dir, '.etag'), '"stale"');
    rmSync(join(dir, 'optimus-plugin-data-audit.yaml'));
    const validated = runOptimus(['job', 'validate', '--dir', root, '--json'], { env }).json();
    expect(validated.summary.plugins).toBe(5);
    expect(existsSync(join(dir, 'optimus-plugin-data-audit.yaml'))).toBe(true);

    // Unreachable and nothing cached for that address: a failure that says what to do.
    const dead = 'http://127.0.0.1:1';
    const none = runOptimus(['job', 'validate', '--dir', root, '--host', dead], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`cannot reach the Optimus server at ${dead}`);
    expect(none.stderr).toContain('no copy of its plugin specs is cached here');
    expect(none.stderr).toContain('--plugins <dir>');

    // Unreachable with a copy cached for that address (as left by an earlier run): used, noted once.
    const previous = process.env.OPTIMUS_CACHE_DIR;
    process.env.OPTIMUS_CACHE_DIR = cache;
    const deadCopy = pluginCacheDir(dead);
    if (previous === undefined) delete process.env.OPTIMUS_CACHE_DIR;
    else process.env.OPTIMUS_CACHE_DIR = previous;
    cpSync(dir, deadCopy, { recursive: true });
    const offline = runOptimus(['job', 'validate', '--dir', root, '--host', dead], { env });
    expect(offline.code).toBe(0);
    const notes = offline.stderr.split('\n').filter(Boolean);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /^note http:\/\/127\.0\.0\.1:1 is unreachable: using its plugin specs cached at \d{4}-/,
    );
    expect(offline.stdout).toContain(`checked against 5 plugins of ${dead} (cached copy)`);
  });
});
