import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorsOf, warningsOf } from '../../src/core/problem.js';
import { validateProject } from '../../src/services/validate-project.js';
import { discoverJobDirs, loadJob } from '../../src/spec/job-spec.js';
import { PROJECT_YAML, tempDir, v3Plugin } from '../helpers/temp-project.js';

const JOB = `version: 3
name: j1
owner: me@x
schedule: {start_date: "2026-01-01", interval: "0 2 * * *"}
task: {name: t, window: {size: 1d}}
`;

describe('job.yaml', () => {
  it('loads a job with its assets, including sub-folders', () => {
    const root = tempDir({
      'ns/j1/job.yaml': JOB,
      'ns/j1/assets/query.sql': 'select 1',
      'ns/j1/assets/sub/x.sql': 'select 2',
    });
    const job = loadJob(join(root, 'ns/j1'), join(root, 'ns'));
    expect(job.problems).toEqual([]);
    expect(job.spec!.assets).toEqual({ 'query.sql': 'select 1', 'sub/x.sql': 'select 2' });
    expect(job.spec!.task.window).toEqual({ size: '1d' });
  });

  it('inherits from this.yaml files, nearest first, and a child false or 0 overrides the parent', () => {
    const root = tempDir({
      'ns/this.yaml': `owner: far@x
behavior: {depends_on_past: true, retry: {count: 3, delay: 5m}}
labels: {team: far, tier: gold}
task: {config: {A: far, B: far}}
hooks:
  - {name: notify, config: {CHANNEL: "#far", TOKEN: t}}
  - {name: audit}
`,
      'ns/team/this.yaml': 'owner: near@x\nlabels: {team: near}\ntask: {config: {B: near}}\n',
      'ns/team/j1/job.yaml': `${JOB}behavior: {depends_on_past: false, retry: {count: 0}}
hooks:
  - {name: notify, config: {CHANNEL: "#mine"}}
`,
    });
    const job = loadJob(join(root, 'ns/team/j1'), join(root, 'ns'));
    expect(errorsOf(job.problems)).toEqual([]);
    const s = job.spec!;
    expect(s.owner).toBe('me@x');
    expect(s.labels).toEqual({ team: 'near', tier: 'gold' });
    expect(s.task.config).toEqual({ A: 'far', B: 'near' });
    expect(s.behavior.depends_on_past).toBe(false);
    expect(s.behavior.retry).toEqual({ count: 0, delay: '5m' });
    expect(s.hooks.map((h) => [h.name, h.config])).toEqual([
      ['notify', { CHANNEL: '#mine', TOKEN: 't' }],
      ['audit', {}],
    ]);
  });

  it('points a problem in an inherited value at the this.yaml that holds it', () => {
    const root = tempDir({ 'ns/this.yaml': 'behavior: {retry: {count: -1}}\n', 'ns/j1/job.yaml': JOB });
    const job = loadJob(join(root, 'ns/j1'), join(root, 'ns'));
    expect(errorsOf(job.problems)).toMatchObject([
      { file: join(root, 'ns/this.yaml'), line: 1, path: 'behavior.retry.count' },
    ]);
  });

  it('reports every missing required field at once', () => {
    const root = tempDir({ 'ns/j1/job.yaml': 'name: j1\n' });
    const job = loadJob(join(root, 'ns/j1'), join(root, 'ns'));
    expect(errorsOf(job.problems).map((p) => p.path)).toEqual([
      'version',
      'owner',
      'schedule.start_date',
      'task.name',
    ]);
  });

  it('reads hook type, stage and depends_on as a list or a comma-separated string', () => {
    const root = tempDir({
      'ns/j1/job.yaml': `${JOB}hooks:
  - {name: a}
  - {name: b, type: audit, stage: pre, depends_on: "a, c"}
  - {name: c, depends_on: [a]}
`,
    });
    const hooks = loadJob(join(root, 'ns/j1'), join(root, 'ns')).spec!.hooks;
    expect(hooks).toEqual([
      { name: 'a', type: 'a', config: {} },
      { name: 'b', type: 'audit', stage: 'pre', dependsOn: ['a', 'c'], config: {} },
      { name: 'c', type: 'c', dependsOn: ['a'], config: {} },
    ]);
  });

  it('rejects wrong types with file, line, column and dotted path', () => {
    const root = tempDir({
      'ns/j1/job.yaml': `${JOB}hooks:
  - {name: a}
  - {name: b, stage: later, depends_on: {x: 1}}
`,
    });
    const errs = errorsOf(loadJob(join(root, 'ns/j1'), join(root, 'ns')).problems);
    expect(errs.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`)).toEqual([
      '8:22 hooks[1].stage: must be one of: "pre", "post", "fail"',
      '8:41 hooks[1].depends_on: must be a list of hook names or a comma-separated string',
    ]);
  });

  it('treats unknown keys as errors in version 3 jobs and warnings before', () => {
    const root = tempDir({
      'ns/a/job.yaml': `${JOB}hook: []\n`,
      'ns/b/job.yaml': `${JOB.replace('version: 3', 'version: 2').replace('size: 1d', 'size: 24h')}hook: []\n`,
    });
    expect(errorsOf(loadJob(join(root, 'ns/a'), join(root, 'ns')).problems)).toMatchObject([
      { code: 'JOB_UNKNOWN_KEY', path: 'hook' },
    ]);
    const b = loadJob(join(root, 'ns/b'), join(root, 'ns'));
    expect(errorsOf(b.problems)).toEqual([]);
    expect(warningsOf(b.problems)).toMatchObject([{ code: 'JOB_UNKNOWN_KEY', path: 'hook' }]);
  });

  it('checks dates, cron intervals and retry delays', () => {
    const root = tempDir({
      'ns/j1/job.yaml': `version: 3
name: j1
owner: me
schedule: {start_date: "2026-02-30", end_date: "2025-01-01", interval: "every day"}
behavior: {retry: {delay: soon}}
task: {name: t}
`,
    });
    const errs = errorsOf(loadJob(join(root, 'ns/j1'), join(root, 'ns')).problems);
    expect(errs.map((p) => p.path)).toEqual([
      'schedule.start_date',
      'schedule.interval',
      'behavior.retry.delay',
    ]);
  });

  it('reports malformed YAML without throwing', () => {
    const root = tempDir({ 'ns/j1/job.yaml': 'name: [\n' });
    const job = loadJob(join(root, 'ns/j1'), join(root, 'ns'));
    expect(errorsOf(job.problems)[0]).toMatchObject({
      code: 'YAML_SYNTAX',
      file: join(root, 'ns/j1/job.yaml'),
    });
  });

  it('finds jobs in nested folders but not inside a job’s assets', () => {
    const root = tempDir({
      'ns/a/job.yaml': JOB,
      'ns/a/assets/job.yaml': 'not a job',
      'ns/deep/er/b/job.yaml': JOB,
    });
    expect(discoverJobDirs(join(root, 'ns')).map((d) => d.slice(root.length))).toEqual([
      '/ns/a',
      '/ns/deep/er/b',
    ]);
  });
});

describe('project validation', () => {
  const plugins = {
    'plugins/t.yaml': v3Plugin('t', 'configs: [{name: TOKEN, required: true, secret: true}]\n'),
    'plugins/audit.yaml': v3Plugin('audit'),
  };

  it('validates every job of every namespace and reports all problems in one run', () => {
    const root = tempDir({
      'optimus.yaml': PROJECT_YAML,
      ...plugins,
      'ns1/jobs/good/job.yaml': `${JOB}  config: {TOKEN: "{{ .secret.TOKEN }}"}\n`.replace(
        'task: {name: t, window: {size: 1d}}\n  config',
        'task:\n  name: t\n  config',
      ),
      'ns1/jobs/bad/job.yaml': `${JOB.replace('j1', 'j2')}hooks:\n  - {name: audit, depends_on: [ghost]}\n  - {name: audit}\n`,
    });
    const report = validateProject({ dir: root });
    expect(report.problems).toEqual([]);
    const bad = report.jobs.find((j) => j.name === 'j2')!;
    expect(errorsOf(bad.problems).map((p) => `${p.code} ${p.path}`)).toEqual([
      'HOOK_DUPLICATE hooks[1].name',
      'HOOK_UNKNOWN hooks[0].depends_on',
      'CONFIG_MISSING task.config',
    ]);
    const good = report.jobs.find((j) => j.name === 'j1')!;
    expect(good.problems).toEqual([]);
    expect(good.nodes.map((n) => n.name)).toEqual(['t']);
  });

  it('locates a hook rule problem in optimus.yaml and applies rules per job', () => {
    const root = tempDir({
      'optimus.yaml': `${PROJECT_YAML}  dependencies: ["a >> b", "broken"]\n`,
      ...plugins,
      'ns1/jobs/README.md': 'no jobs yet',
    });
    const report = validateProject({ dir: root });
    expect(errorsOf(report.problems)).toMatchObject([
      { code: 'HOOK_RULE_INVALID', path: 'plugins.dependencies[1]', line: 7 },
    ]);
  });

  it('reports a job name used twice, unknown window presets and unknown plugin versions', () => {
    const root = tempDir({
      'optimus.yaml': PROJECT_YAML,
      ...plugins,
      'ns1/jobs/a/job.yaml': `${JOB}`.replace('window: {size: 1d}', 'version: "9", window: {preset: daily}'),
      'ns1/jobs/b/job.yaml': JOB,
    });
    const report = validateProject({ dir: root });
    const codes = report.jobs.flatMap((j) => errorsOf(j.problems).map((p) => p.code));
    expect(codes).toEqual(
      expect.arrayContaining(['WINDOW_INVALID', 'PLUGIN_VERSION_UNKNOWN', 'JOB_DUPLICATE']),
    );
  });

  it('says how to fix a missing optimus.yaml', () => {
    const report = validateProject({ dir: tempDir() });
    expect(report.problems).toMatchObject([
      { code: 'PROJECT_CONFIG_MISSING', hint: expect.stringContaining('--dir') },
    ]);
  });
});
