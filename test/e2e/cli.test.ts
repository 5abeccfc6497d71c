import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runOptimus } from '../helpers/cli.js';
import { EXAMPLE, EXAMPLE_PLUGINS, FIXTURES, tempDir } from '../helpers/temp-project.js';

const optimus = (args: string[], cwd = process.cwd()) => runOptimus(args, { cwd });

function copyExample(): string {
  const dir = tempDir();
  cpSync(EXAMPLE, dir, { recursive: true });
  return dir;
}

describe('optimus CLI', () => {
  it('validates the example project', () => {
    const r = optimus(['job', 'validate', '--dir', EXAMPLE, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.summary).toMatchObject({ jobs: 5, invalid_jobs: 0, errors: 0 });
    expect(out.jobs.map((j: { namespace: string }) => j.namespace).sort()).toEqual([
      'finance',
      'finance',
      'finance',
      'marketing',
      'marketing',
    ]);
  });

  it('prints the run graph as JSON, task stage "task", hooks in run order', () => {
    const r = optimus(['job', 'graph', 'revenue-daily', '--dir', EXAMPLE, '--json']);
    expect(r.code).toBe(0);
    const g = JSON.parse(r.stdout);
    expect(g.job).toBe('revenue-daily');
    expect(g.nodes).toEqual([
      { name: 'warehouse-load', type: 'warehouse-load', stage: 'task', depends_on: [] },
      { name: 'audit-output', type: 'data-audit', stage: 'post', depends_on: ['warehouse-load'] },
      {
        name: 'notify-team',
        type: 'slack-notify',
        stage: 'post',
        depends_on: ['warehouse-load', 'audit-output'],
      },
      {
        name: 'publish',
        type: 'publish-event',
        stage: 'post',
        depends_on: ['warehouse-load', 'notify-team'],
      },
    ]);
  });

  it('prints a readable run graph', () => {
    const r = optimus(['job', 'graph', 'campaign-performance', '--dir', EXAMPLE]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').slice(1);
    expect(lines.map((l) => l.trim().split(/\s+/).slice(1, 3).join(' '))).toEqual([
      'pre check-source',
      'pre audit-input',
      'task warehouse-load',
      'post audit-output',
      'post publish',
      'post notify-team',
      'fail page-oncall',
    ]);
  });

  it('exits 1 and reports every problem with file:line:col and path, never a stack trace', () => {
    const dir = copyExample();
    const job = join(dir, 'finance/jobs/revenue-daily/job.yaml');
    writeFileSync(
      job,
      readFileSync(job, 'utf8')
        .replace('depends_on: notify-team', 'depends_on: [notify-team, nobody]')
        .replace('WH_TOKEN: "{{ .secret.WH_TOKEN }}"', 'WH_TOKEN: super-secret-value'),
    );
    const r = optimus(['job', 'validate', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /finance\/jobs\/revenue-daily\/job\.yaml:\d+:\d+ hooks\[2\]\.depends_on error hook "publish" depends on "nobody"/,
    );
    expect(r.stdout).toMatch(/job\.yaml:\d+:\d+ task\.config\.WH_TOKEN error config WH_TOKEN is a secret/);
    expect(r.stdout + r.stderr).not.toContain('super-secret-value');
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    const json = JSON.parse(optimus(['job', 'validate', '--dir', dir, '--json']).stdout);
    expect(json.ok).toBe(false);
    expect(json.summary.invalid_jobs).toBe(1);
  });

  it('validates only the named jobs and reports an unknown name with a suggestion', () => {
    const one = JSON.parse(optimus(['job', 'validate', 'attribution', '--dir', EXAMPLE, '--json']).stdout);
    expect(one.jobs.map((j: { name: string }) => j.name)).toEqual(['attribution']);
    const r = optimus(['job', 'graph', 'revenue-dayly', '--dir', EXAMPLE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('did you mean revenue-daily?');
  });

  it('validates plugin files and directories, naming the dialect', () => {
    const r = optimus([
      'plugin',
      'validate',
      join(FIXTURES, 'raystack-transformers'),
      EXAMPLE_PLUGINS,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.plugins.map((p: { name: string; dialect: string }) => `${p.name}:${p.dialect}`)).toEqual([
      'bq2bq:v1',
      'data-audit:v3',
      'publish-event:v3',
      'python-script:v3',
      'slack-notify:v3',
      'warehouse-load:v3',
    ]);
    const bad = optimus([
      'plugin',
      'validate',
      join(FIXTURES, 'goto-optimus/plugin_tests_sample_plugin_without_version.yaml'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('plugin_versions.default.image error must not be empty');
  });

  it('prints the v3 JSON Schema', () => {
    const r = optimus(['plugin', 'schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).title).toContain('version 3');
  });

  it('exits 2 on bad usage', () => {
    expect(optimus(['job', 'graph']).code).toBe(2);
    expect(optimus(['job', 'frobnicate']).code).toBe(2);
    expect(optimus(['--help']).code).toBe(0);
  });

  it('explains how to fix a missing project, as bad usage', () => {
    const r = optimus(['job', 'validate', '--dir', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('cannot read project config: file not found');
    expect(r.stdout).toContain('--dir');
  });
});
