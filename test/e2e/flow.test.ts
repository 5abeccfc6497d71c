import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
