import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorsOf, warningsOf } from '../../src/core/problem.js';
import { validateProject } from '../../src/services/validate-project.js';
import { discoverJobDirs, loadJob, loadJobValue, newJobScan } from '../../src/spec/job-spec.js';
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
    expect(hooks).toStrictEqual([
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
    expect(errs.map((p) => `${p.code} ${p.path}`)).toEqual([
      'JOB_INVALID schedule.start_date',
      'JOB_INVALID schedule.interval',
      'JOB_INVALID behavior.retry.delay',
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

  it('locates a hook rule problem in optimus.yaml', () => {
    const root = tempDir({
      'optimus.yaml': `${PROJECT_YAML}  dependencies: ["a >> b", "broken"]\n`,
      ...plugins,
      'ns1/jobs/README.md': 'no jobs yet',
    });
    expect(errorsOf(validateProject({ dir: root }).problems)).toMatchObject([
      { code: 'HOOK_RULE_INVALID', path: 'plugins.dependencies[1]', line: 7 },
    ]);
  });

  it("applies project hook rules per job: only where both hooks are present, and never over a hook's depends_on", () => {
    const job = (name: string, hooks: string) =>
      `${JOB.replace('j1', name).replace('task: {name: t, window: {size: 1d}}', 'task: {name: t, window: {size: 1d}, config: {TOKEN: "{{ .secret.TOKEN }}"}}')}hooks:\n${hooks}`;
    const root = tempDir({
      'optimus.yaml': `${PROJECT_YAML}  dependencies: ["a >> b"]\n`,
      ...plugins,
      'ns1/jobs/both/job.yaml': job('both', '  - {name: b, type: audit}\n  - {name: a, type: audit}\n'),
      'ns1/jobs/only-b/job.yaml': job('only-b', '  - {name: b, type: audit}\n'),
      'ns1/jobs/own-order/job.yaml': job(
        'own-order',
        '  - {name: b, type: audit, depends_on: []}\n  - {name: a, type: audit}\n',
      ),
    });
    const report = validateProject({ dir: root });
    expect(report.problems).toEqual([]);
    const order = (name: string) => {
      const j = report.jobs.find((x) => x.name === name)!;
      expect(j.problems).toEqual([]);
      return j.nodes.map((n) => `${n.name}<-${n.dependsOn.join(',')}`);
    };
    expect(order('both')).toEqual(['t<-', 'a<-t', 'b<-t,a']);
    expect(order('only-b')).toEqual(['t<-', 'b<-t']);
    expect(order('own-order')).toEqual(['t<-', 'b<-t', 'a<-t']);
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

describe('job.yaml: inheritance in detail', () => {
  const load = (root: string, dir = 'ns/j1') => loadJob(join(root, dir), join(root, 'ns'));

  it('merges notify entries by `on`: configs key by key, channels without repeats, new events appended', () => {
    const root = tempDir({
      'ns/this.yaml': `behavior:
  catch_up: true
  notify:
    - {on: failure, config: {A: far, B: far}, channels: ["#a", "#b"]}
    - {on: sla_miss, channels: ["#sla"]}
`,
      'ns/j1/job.yaml': `${JOB}behavior:
  notify:
    - {on: failure, config: {A: near}, channels: ["#b", "#c"]}
`,
    });
    expect(load(root).spec!.behavior).toEqual({
      catch_up: true,
      notify: [
        { on: 'failure', config: { A: 'near', B: 'far' }, channels: ['#b', '#c', '#a'] },
        { on: 'sla_miss', channels: ['#sla'] },
      ],
    });
  });

  it('takes notify from a parent when the job has none, and leaves it out when nobody sets it', () => {
    const root = tempDir({
      'ns/this.yaml': 'behavior: {notify: [{on: failure}]}\n',
      'ns/j1/job.yaml': `${JOB}behavior: {depends_on_past: true}\n`,
      'ns/j2/job.yaml': `${JOB.replace('j1', 'j2')}behavior: {catch_up: false}\n`,
    });
    expect(load(root).spec!.behavior).toEqual({ depends_on_past: true, notify: [{ on: 'failure' }] });
    const bare = tempDir({ 'ns/this.yaml': 'behavior: {catch_up: true}\n', 'ns/j1/job.yaml': JOB });
    expect(load(bare).spec!.behavior).toEqual({ catch_up: true });
    expect(load(bare).raw).toStrictEqual({
      version: 3,
      name: 'j1',
      owner: 'me@x',
      schedule: { start_date: '2026-01-01', interval: '0 2 * * *' },
      task: { name: 't', window: { size: '1d' } },
      behavior: { catch_up: true },
    });
  });

  it('keeps notify channels from the parent when the job lists none for that event', () => {
    const root = tempDir({
      'ns/this.yaml': 'behavior: {notify: [{on: failure, channels: ["#a"]}]}\n',
      'ns/j1/job.yaml': `${JOB}behavior: {notify: [{on: failure, config: {X: "1"}}]}\n`,
    });
    expect(load(root).spec!.behavior.notify).toEqual([
      { on: 'failure', config: { X: '1' }, channels: ['#a'] },
    ]);
    const none = tempDir({
      'ns/this.yaml': 'behavior: {notify: [{on: failure}]}\n',
      'ns/j1/job.yaml': `${JOB}behavior: {notify: [{on: failure}]}\n`,
    });
    expect(load(none).spec!.behavior.notify).toEqual([{ on: 'failure' }]);
  });

  it('appends parent dependencies unless the job already has the same job and type or http name', () => {
    const root = tempDir({
      'ns/this.yaml': `dependencies:
  - {job: shared}
  - {job: other, type: intra}
  - {job: other}
  - {http: {name: ping, url: "http://far"}}
  - {http: {name: pong, url: "http://far"}}
`,
      'ns/j1/job.yaml': `${JOB}dependencies:
  - {job: shared}
  - {job: other, type: inter}
  - {http: {name: ping, url: "http://near"}}
`,
    });
    expect(load(root).spec!.dependencies).toEqual([
      { job: 'shared' },
      { job: 'other', type: 'inter' },
      { http: { name: 'ping', url: 'http://near' } },
      { job: 'other', type: 'intra' },
      { job: 'other' },
      { http: { name: 'pong', url: 'http://far' } },
    ]);
  });

  it('takes dependencies and hooks from a parent when the job has none', () => {
    const root = tempDir({
      'ns/this.yaml': 'dependencies: [{job: up}]\nhooks: [{name: audit, stage: pre}]\n',
      'ns/j1/job.yaml': JOB,
    });
    const s = load(root).spec!;
    expect(s.dependencies).toEqual([{ job: 'up' }]);
    expect(s.hooks).toEqual([{ name: 'audit', type: 'audit', stage: 'pre', config: {} }]);
  });

  it('fills a hook from the nearest file first and keeps every field the job sets', () => {
    const root = tempDir({
      'ns/this.yaml':
        'hooks: [{name: audit, type: far, stage: post, depends_on: [x], config: {A: far, C: far}}]\n',
      'ns/team/this.yaml': 'hooks: [{name: audit, type: near, config: {A: near, B: near}}]\n',
      'ns/team/j1/job.yaml': `${JOB}hooks: [{name: audit, stage: pre}]\n`,
    });
    expect(load(root, 'ns/team/j1').spec!.hooks).toEqual([
      {
        name: 'audit',
        type: 'near',
        stage: 'pre',
        dependsOn: ['x'],
        config: { A: 'near', B: 'near', C: 'far' },
      },
    ]);
  });

  it('reports a hook name used twice in one file instead of merging the two', () => {
    const root = tempDir({
      'ns/this.yaml': 'hooks: [{name: audit, config: {A: far}}]\n',
      'ns/j1/job.yaml': `${JOB}hooks: [{name: audit, config: {B: one}}, {name: audit, config: {B: two}}]\n`,
    });
    expect(load(root).spec!.hooks.map((h) => h.config)).toEqual([{ B: 'one', A: 'far' }, { B: 'two' }]);
  });

  it('points a problem in an inherited hook at the this.yaml line that declares it', () => {
    const root = tempDir({
      'ns/this.yaml': 'owner: x\nhooks:\n  - {name: first}\n  - {name: bad, stage: later}\n',
      'ns/j1/job.yaml': `${JOB}hooks: [{name: mine}]\n`,
    });
    const job = load(root);
    expect(errorsOf(job.problems)).toMatchObject([
      { file: join(root, 'ns/this.yaml'), line: 4, path: 'hooks[1].stage' },
    ]);
    expect(job.locate(['hooks', 2, 'name'])).toEqual({
      file: join(root, 'ns/this.yaml'),
      line: 4,
      column: 12,
    });
    expect(job.locate(['hooks', 0, 'name'])).toEqual({
      file: join(root, 'ns/j1/job.yaml'),
      line: 6,
      column: 16,
    });
  });

  it('locates a merged field in the nearest file that sets it, and a key when asked', () => {
    const root = tempDir({
      'ns/this.yaml': 'labels: {team: far}\n',
      'ns/j1/job.yaml': `${JOB}labels: {tier: near}\n`,
    });
    const job = load(root);
    expect(job.locate(['labels', 'team'])).toEqual({ file: join(root, 'ns/this.yaml'), line: 1, column: 16 });
    expect(job.locate(['labels', 'tier'])).toEqual({
      file: join(root, 'ns/j1/job.yaml'),
      line: 6,
      column: 16,
    });
    expect(job.locate(['labels', 'tier'], { key: true })).toEqual({
      file: join(root, 'ns/j1/job.yaml'),
      line: 6,
      column: 10,
    });
    expect(job.locate(['nowhere'])).toEqual({ file: join(root, 'ns/j1/job.yaml'), line: 1, column: 1 });
    expect(job.problem(['labels', 'team'], 'warning', 'X', 'msg', { hint: 'h' })).toEqual({
      severity: 'warning',
      code: 'X',
      message: 'msg',
      file: join(root, 'ns/this.yaml'),
      line: 1,
      column: 16,
      path: 'labels.team',
      hint: 'h',
    });
    expect(job.problem([], 'error', 'Y', 'whole')).toEqual({
      severity: 'error',
      code: 'Y',
      message: 'whole',
      file: join(root, 'ns/j1/job.yaml'),
      line: 1,
      column: 1,
    });
  });

  it('reads this.yaml files only up to the namespace root', () => {
    const root = tempDir({
      'this.yaml': 'owner: outside@x\nlabels: {outside: "yes"}\n',
      'ns/this.yaml': 'labels: {inside: "yes"}\n',
      'ns/j1/job.yaml': JOB,
    });
    expect(load(root).spec!.labels).toEqual({ inside: 'yes' });
  });

  it('reads no this.yaml above a job folder that is outside the namespace root', () => {
    const root = tempDir({
      'this.yaml': 'labels: {above: "yes"}\n',
      'elsewhere/this.yaml': 'labels: {elsewhere: "yes"}\n',
      'elsewhere/j1/this.yaml': 'labels: {own: "yes"}\n',
      'elsewhere/j1/job.yaml': JOB,
      'ns/x': '',
    });
    const job = loadJob(join(root, 'elsewhere/j1'), join(root, 'ns'));
    expect(job.spec!.labels).toEqual({ own: 'yes' });
  });

  it('lets a job that leaves its task config empty inherit the parent config', () => {
    const root = tempDir({
      'ns/this.yaml': 'task: {config: {A: far}}\n',
      'ns/j1/job.yaml': JOB.replace('task: {name: t, window: {size: 1d}}', 'task: {name: t, config: null}'),
    });
    expect(load(root).spec!.task.config).toEqual({ A: 'far' });
  });

  it('checks every date, dependency and label problem as an error with the same code', () => {
    const root = tempDir({
      'ns/j1/job.yaml': `${JOB.replace('start_date: "2026-01-01"', 'start_date: "2026-01-02", end_date: "2026-01-01"')}labels: {"": x}\ndependencies: [{type: x}, {job: "a b"}]\n`,
    });
    expect(load(root).problems.map((p) => `${p.severity} ${p.code} ${p.path}`)).toEqual([
      'error JOB_INVALID schedule.end_date',
      'error JOB_INVALID labels',
      'error JOB_INVALID dependencies[0]',
      'error JOB_INVALID dependencies[1].job',
    ]);
  });

  it('reads a this.yaml in the job folder itself', () => {
    const root = tempDir({ 'ns/j1/this.yaml': 'labels: {here: "yes"}\n', 'ns/j1/job.yaml': JOB });
    expect(load(root).spec!.labels).toEqual({ here: 'yes' });
  });

  it('reads one this.yaml once for every job under it, when given a scan', () => {
    const root = tempDir({
      'ns/this.yaml': 'labels: {team: t}\n',
      'ns/j1/job.yaml': JOB,
      'ns/j2/job.yaml': JOB.replace('j1', 'j2'),
    });
    const scan = newJobScan();
    const dirs = discoverJobDirs(join(root, 'ns'), scan);
    expect([...scan.parents.keys()].sort()).toEqual([join(root, 'ns/j1'), join(root, 'ns/j2')]);
    expect([...scan.noAssets].sort()).toEqual([join(root, 'ns/j1'), join(root, 'ns/j2')]);
    const jobs = dirs.map((d) => loadJob(d, join(root, 'ns'), scan));
    expect(jobs.map((j) => j.spec!.labels)).toEqual([{ team: 't' }, { team: 't' }]);
    expect(scan.parents.get(join(root, 'ns'))).not.toBeNull();
    expect(scan.parents.get(join(root, 'ns/j1'))).toBeNull();
  });

  it('refuses a job.yaml or this.yaml that is not a mapping, at line 1 of that file', () => {
    const root = tempDir({
      'ns/this.yaml': '- a\n- b\n',
      'ns/j1/job.yaml': JOB,
      'ns/j2/job.yaml': '"text"\n',
    });
    expect(load(root).problems).toEqual([
      {
        severity: 'error',
        code: 'JOB_INVALID',
        message: 'a job spec must be a YAML mapping',
        file: join(root, 'ns/this.yaml'),
        line: 1,
        column: 1,
      },
    ]);
    expect(errorsOf(load(root, 'ns/j2').problems).map((p) => p.file)).toEqual([
      join(root, 'ns/j2/job.yaml'),
      join(root, 'ns/this.yaml'),
    ]);
  });

  it('treats an empty this.yaml as nothing to inherit', () => {
    const root = tempDir({ 'ns/this.yaml': '# nothing yet\n', 'ns/j1/job.yaml': JOB });
    expect(load(root).problems).toEqual([]);
  });

  it('reports a job folder without job.yaml as unreadable', () => {
    const root = tempDir({ 'ns/j1/notes.txt': '' });
    expect(load(root).problems).toEqual([
      {
        severity: 'error',
        code: 'FILE_UNREADABLE',
        message: 'file not found',
        file: join(root, 'ns/j1/job.yaml'),
      },
    ]);
  });

  it('reports a YAML error in a this.yaml and stops there', () => {
    const root = tempDir({ 'ns/this.yaml': 'owner: [\n', 'ns/j1/job.yaml': JOB });
    const job = load(root);
    expect(errorsOf(job.problems)).toMatchObject([{ code: 'YAML_SYNTAX', file: join(root, 'ns/this.yaml') }]);
    expect(job.spec).toBeUndefined();
  });
});

describe('job.yaml: values a user reads back', () => {
  const load = (yaml: string) => {
    const root = tempDir({ 'ns/j1/job.yaml': yaml });
    return loadJob(join(root, 'ns/j1'), join(root, 'ns'));
  };

  it('keeps optional fields when written and leaves them out when not', () => {
    const full = load(`version: 2
name: j1
owner: me
description: Loads things
schedule: {start_date: "2026-01-01", end_date: "2026-12-31", interval: "@daily"}
task:
  name: t
  version: 1.2
  config: {N: 5, B: true, E: null}
  window: {size: 24h, truncate_to: d}
hooks:
  - {name: a, version: 2, stage: fail}
labels: {n: 1}
metadata: {resources: {request: {cpu: "1"}}}
`);
    expect(errorsOf(full.problems)).toEqual([]);
    expect(full.spec).toEqual({
      version: 2,
      name: 'j1',
      owner: 'me',
      description: 'Loads things',
      schedule: { start_date: '2026-01-01', end_date: '2026-12-31', interval: '@daily' },
      behavior: {},
      task: {
        name: 't',
        version: '1.2',
        config: { N: '5', B: 'true', E: '' },
        window: { size: '24h', truncate_to: 'd' },
      },
      hooks: [{ name: 'a', type: 'a', version: '2', stage: 'fail', config: {} }],
      dependencies: [],
      labels: { n: '1' },
      metadata: { resources: { request: { cpu: '1' } } },
      assets: {},
    });
    const bare = load(JOB.replace(', window: {size: 1d}', '').replace(', interval: "0 2 * * *"', ''));
    expect(bare.spec).toEqual({
      version: 3,
      name: 'j1',
      owner: 'me@x',
      schedule: { start_date: '2026-01-01' },
      behavior: {},
      task: { name: 't', config: {} },
      hooks: [],
      dependencies: [],
      labels: {},
      metadata: {},
      assets: {},
    });
  });

  it('accepts a schedule that runs once, an end date on the start date and an empty end date', () => {
    expect(errorsOf(load(JOB.replace('"0 2 * * *"', '"@once"')).problems)).toEqual([]);
    expect(
      errorsOf(
        load(JOB.replace('start_date: "2026-01-01"', 'start_date: "2026-01-01", end_date: "2026-01-01"'))
          .problems,
      ),
    ).toEqual([]);
  });

  it('explains a bad cron interval at its line, naming the value and the forms it accepts', () => {
    const job = load(JOB.replace('"0 2 * * *"', '"  61 * * * *  "'));
    expect(errorsOf(job.problems)).toEqual([
      expect.objectContaining({
        code: 'JOB_INVALID',
        path: 'schedule.interval',
        message: expect.stringMatching(/^interval "61 \* \* \* \*"\S* .*61/),
        hint: expect.stringContaining('"0 2 * * *"'),
        line: 4,
      }),
    ]);
  });

  it('says which date is not real and when the end is before the start', () => {
    const errs = errorsOf(
      load(JOB.replace('start_date: "2026-01-01"', 'start_date: "2026-13-01", end_date: "2026-02-29"'))
        .problems,
    );
    expect(errs.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'schedule.start_date: start_date "2026-13-01" is not a real date',
      'schedule.end_date: end_date "2026-02-29" is not a real date',
    ]);
    const before = errorsOf(
      load(JOB.replace('start_date: "2026-01-01"', 'start_date: "2026-01-02", end_date: "2026-01-01"'))
        .problems,
    );
    expect(before.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'schedule.end_date: end_date is before start_date',
    ]);
    expect(errorsOf(load(JOB.replace('"2026-01-01"', '"2024-02-29"')).problems)).toEqual([]);
    expect(errorsOf(load(JOB.replace('"2026-01-01"', '"2026-04-31"')).problems)).toHaveLength(1);
  });

  it.each(['30s', '5m', '1h30m', '1.5h', '1.h', '.55h', '0', '100ms'])(
    'accepts the retry delay %s',
    (delay) => {
      expect(errorsOf(load(`${JOB}behavior: {retry: {delay: "${delay}"}}\n`).problems)).toEqual([]);
    },
  );

  it.each(['soon', '5', '5 m', 'm5', '5mx', '5d'])('refuses the retry delay %j with the path', (delay) => {
    expect(errorsOf(load(`${JOB}behavior: {retry: {delay: "${delay}"}}\n`).problems)).toEqual([
      expect.objectContaining({
        path: 'behavior.retry.delay',
        message: `retry delay "${delay}" is not a duration such as 30s, 5m or 1h`,
      }),
    ]);
  });

  it.each(['30m', '2h', '1h30m', '90s'])('accepts the node timeout %s', (timeout) => {
    expect(errorsOf(load(`${JOB}behavior: {timeout: "${timeout}"}\n`).problems)).toEqual([]);
  });

  it.each(['0', '-5m', 'soon', '5', '5d'])('refuses the node timeout %j with the path', (timeout) => {
    expect(errorsOf(load(`${JOB}behavior: {timeout: "${timeout}"}\n`).problems)).toEqual([
      expect.objectContaining({
        path: 'behavior.timeout',
        message: `timeout "${timeout}" is not a positive duration such as 30m or 2h`,
      }),
    ]);
  });

  it('refuses an empty label key', () => {
    expect(errorsOf(load(`${JOB}labels: {" ": x, ok: y}\n`).problems)).toEqual([
      expect.objectContaining({
        code: 'JOB_INVALID',
        path: 'labels',
        message: 'label keys must not be empty',
      }),
    ]);
  });

  it('checks each dependency names a job (or project/job) or an http endpoint', () => {
    const errs = errorsOf(
      load(`${JOB}dependencies:
  - {job: ok-job}
  - {job: proj/ok.job_2}
  - {type: inter}
  - {job: "bad name"}
  - {job: "a/b/c"}
  - {job: "/x"}
  - {http: {name: h, url: "http://x"}}
`).problems,
    );
    expect(errs.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'dependencies[2]: a dependency needs `job` (name or project/name) or `http`',
      'dependencies[3].job: "bad name" is not a job name or project/job name',
      'dependencies[4].job: "a/b/c" is not a job name or project/job name',
      'dependencies[5].job: "/x" is not a job name or project/job name',
    ]);
  });

  it('ignores a hook stage it does not know once the shape check has spoken', () => {
    const job = load(`${JOB}hooks: [{name: a, depends_on: "b, ,c"}]\n`);
    expect(job.spec!.hooks).toEqual([{ name: 'a', type: 'a', dependsOn: ['b', 'c'], config: {} }]);
  });
});

describe('jobs sent as data (deploy)', () => {
  const base = {
    version: 3,
    name: 'j1',
    owner: 'me',
    schedule: { start_date: '2026-01-01' },
    task: { name: 't' },
  };

  it('loads a job with its assets', () => {
    const job = loadJobValue({ ...base, assets: { 'q.sql': 'select 1', 'sub/x.sql': 'select 2' } }, [
      'jobs',
      0,
    ]);
    expect(job.problems).toEqual([]);
    expect(job.spec!.assets).toEqual({ 'q.sql': 'select 1', 'sub/x.sql': 'select 2' });
    expect(job.raw).toEqual(base);
  });

  it('locates problems by the path in the request', () => {
    const job = loadJobValue({ ...base, owner: undefined, labels: { '': 'x' } }, ['jobs', 3]);
    expect(job.problems).toStrictEqual([
      { severity: 'error', code: 'JOB_FIELD_MISSING', message: 'owner is required', path: 'jobs[3].owner' },
    ]);
    expect([job.dir, job.file]).toEqual(['', '']);
    const cron = loadJobValue({ ...base, schedule: { start_date: '2026-01-01', interval: 'never' } }, [
      'jobs',
      1,
    ]);
    expect(cron.problems).toMatchObject([
      { path: 'jobs[1].schedule.interval', hint: expect.stringContaining('@daily') },
    ]);
    expect(job.locate(['owner'])).toEqual({});
  });

  it('refuses a job that is not an object', () => {
    for (const v of [null, 'job', [base]])
      expect(loadJobValue(v, ['jobs', 0]).problems).toEqual([
        { severity: 'error', code: 'JOB_INVALID', message: 'a job must be an object', path: 'jobs[0]' },
      ]);
  });

  it('refuses assets that are not a map of relative paths to text', () => {
    expect(loadJobValue({ ...base, assets: ['q.sql'] }, ['jobs', 0]).problems).toEqual([
      {
        severity: 'error',
        code: 'JOB_INVALID',
        message: 'assets must map file paths to their content',
        path: 'jobs[0].assets',
      },
    ]);
    const bad = loadJobValue(
      { ...base, assets: { 'ok.sql': 'x', 'n.sql': 5, '': 'x', '/abs': 'x', 'a/../../b': 'x', '..': 'x' } },
      ['jobs', 0],
    );
    for (const p of bad.problems) expect(p).toMatchObject({ severity: 'error', code: 'JOB_INVALID' });
    expect(bad.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'jobs[0].assets["n.sql"]: asset content must be a string',
      'jobs[0].assets[""]: asset paths must be relative and stay inside assets/',
      'jobs[0].assets["/abs"]: asset paths must be relative and stay inside assets/',
      'jobs[0].assets["a/../../b"]: asset paths must be relative and stay inside assets/',
      'jobs[0].assets[".."]: asset paths must be relative and stay inside assets/',
    ]);
    expect(bad.spec).toBeUndefined();
    expect(loadJobValue({ ...base, assets: null }, ['jobs', 0]).spec!.assets).toEqual({});
  });

  it('treats unknown keys as errors in version 3 jobs and warnings before', () => {
    expect(loadJobValue({ ...base, colour: 'red' }, ['jobs', 0]).problems).toMatchObject([
      { severity: 'error', code: 'JOB_UNKNOWN_KEY', path: 'jobs[0].colour' },
    ]);
    const v2 = loadJobValue({ ...base, version: 2, colour: 'red' }, ['jobs', 0]);
    expect(v2.problems).toMatchObject([
      { severity: 'warning', code: 'JOB_UNKNOWN_KEY', path: 'jobs[0].colour' },
    ]);
    expect(v2.problems[0]).not.toHaveProperty('file');
    expect(v2.spec).toBeDefined();
  });
});

describe('job discovery', () => {
  it('skips hidden folders and node_modules, and returns folders sorted', () => {
    const root = tempDir({
      'ns/b/job.yaml': JOB,
      'ns/a/job.yaml': JOB,
      'ns/.git/x/job.yaml': JOB,
      'ns/node_modules/y/job.yaml': JOB,
      'ns/a/nested/job.yaml': JOB,
      'ns/c/job.yaml/readme': 'a folder named job.yaml is not a job',
    });
    expect(discoverJobDirs(join(root, 'ns')).map((d) => d.slice(root.length))).toEqual([
      '/ns/a',
      '/ns/a/nested',
      '/ns/b',
    ]);
    expect(discoverJobDirs(join(root, 'missing'))).toEqual([]);
  });

  it('reads a job’s assets folder unless the scan found none', () => {
    const root = tempDir({
      'ns/j1/job.yaml': JOB,
      'ns/j1/assets/q.sql': 'select 1',
      'ns/j1/this.yaml/x': '',
    });
    const scan = newJobScan();
    discoverJobDirs(join(root, 'ns'), scan);
    expect(scan.noAssets.size).toBe(0);
    expect(loadJob(join(root, 'ns/j1'), join(root, 'ns'), scan).spec!.assets).toEqual({
      'q.sql': 'select 1',
    });
    expect(scan.parents.get(join(root, 'ns/j1'))).toBeNull();
  });
});

describe('job.yaml: edges of loading', () => {
  const load = (root: string, dir = 'ns/j1') => loadJob(join(root, dir), join(root, 'ns'));

  it('records, while discovering, which job folders have no this.yaml and no assets folder', () => {
    const root = tempDir({
      'ns/j1/job.yaml': JOB,
      'ns/j1/notes.txt': 'a file that is neither',
      'ns/j1/this.yaml/x': 'a folder named this.yaml is no parent file',
      'ns/j1/assets': 'a file named assets is no assets folder',
      'ns/j2/job.yaml': JOB,
      'ns/j2/this.yaml': 'labels: {a: b}\n',
      'ns/j2/assets/q.sql': 'select 1',
    });
    const scan = newJobScan();
    discoverJobDirs(join(root, 'ns'), scan);
    expect(
      [...scan.parents.entries()].filter(([, v]) => v === null).map(([k]) => k.slice(root.length)),
    ).toEqual(expect.arrayContaining(['/ns/j1']));
    expect(scan.parents.has(join(root, 'ns/j2'))).toBe(false);
    expect([...scan.noAssets].map((d) => d.slice(root.length))).toEqual(['/ns/j1']);
  });

  it('returns job folders sorted by path, not in the order they were walked', () => {
    const root = tempDir({ 'ns/a/b/job.yaml': JOB, 'ns/a-b/job.yaml': JOB });
    expect(discoverJobDirs(join(root, 'ns')).map((d) => d.slice(root.length))).toEqual([
      '/ns/a-b',
      '/ns/a/b',
    ]);
  });

  it('locates nothing in a job that could not be read or parsed, without failing', () => {
    const missing = load(tempDir({ 'ns/j1/x': '' }));
    expect(missing.locate(['hooks', 0, 'name'])).toEqual({ file: missing.file });
    const broken = load(tempDir({ 'ns/j1/job.yaml': 'name: [\n' }));
    expect(broken.locate(['hooks', 0, 'name'])).toMatchObject({ file: broken.file });
    const list = load(tempDir({ 'ns/j1/job.yaml': '- a\n' }));
    expect(list.locate(['hooks', 0, 'name'])).toMatchObject({ file: list.file });
  });

  it('treats a this.yaml with nothing in it as nothing to inherit', () => {
    const root = tempDir({ 'ns/this.yaml': '', 'ns/j1/job.yaml': JOB });
    expect(load(root).problems).toEqual([]);
  });

  it('builds no spec from a file with a shape error', () => {
    const root = tempDir({ 'ns/j1/job.yaml': `${JOB}labels: [a]\n` });
    const job = load(root);
    expect(errorsOf(job.problems)).toMatchObject([{ path: 'labels' }]);
    expect(job.spec).toBeUndefined();
    expect(job.raw).toBeUndefined();
  });

  it('checks a this.yaml in the mode of each job that uses it: strict for version 3, lenient before', () => {
    const root = tempDir({
      'ns/this.yaml': 'colour: red\n',
      'ns/v3/job.yaml': JOB,
      'ns/v2/job.yaml': JOB.replace('version: 3', 'version: 2').replace('size: 1d', 'size: 24h'),
    });
    const scan = newJobScan();
    const v3 = loadJob(join(root, 'ns/v3'), join(root, 'ns'), scan);
    const v2 = loadJob(join(root, 'ns/v2'), join(root, 'ns'), scan);
    const again = loadJob(join(root, 'ns/v3'), join(root, 'ns'), scan);
    expect(v3.problems.map((p) => `${p.severity} ${p.code}`)).toEqual(['error JOB_UNKNOWN_KEY']);
    expect(v2.problems.map((p) => `${p.severity} ${p.code}`)).toEqual(['warning JOB_UNKNOWN_KEY']);
    expect(again.problems.map((p) => `${p.severity} ${p.code}`)).toEqual(['error JOB_UNKNOWN_KEY']);
  });

  it('points a dependency problem at the dependency, also in a job with hooks', () => {
    const root = tempDir({
      'ns/j1/job.yaml': `${JOB}hooks: [{name: a}, {name: b}]\ndependencies: [{job: ok}, {job: "bad name"}]\n`,
    });
    expect(errorsOf(load(root).problems)).toMatchObject([
      { path: 'dependencies[1].job', line: 7, column: 33 },
    ]);
  });

  it('keeps the behavior when the end date is left empty, and the end date when behavior is', () => {
    const a = tempDir({
      'ns/j1/job.yaml': `${JOB.replace('start_date: "2026-01-01"', 'start_date: "2026-01-01", end_date: ""')}behavior: {catch_up: true}\n`,
    });
    const s = load(a).spec!;
    expect(s.behavior).toEqual({ catch_up: true });
    expect(s.schedule).toEqual({ start_date: '2026-01-01', interval: '0 2 * * *' });
    const b = tempDir({
      'ns/j1/job.yaml': `${JOB.replace('start_date: "2026-01-01"', 'start_date: "2026-01-01", end_date: "2026-02-01"')}behavior:\n`,
    });
    expect(load(b).spec!.schedule.end_date).toBe('2026-02-01');
    expect(load(b).spec!.behavior).toEqual({});
  });

  it('reports an assets path that is not a folder, and ignores links in assets', async () => {
    const root = tempDir({ 'ns/j1/job.yaml': JOB, 'ns/j1/assets': 'not a folder' });
    expect(load(root).problems).toEqual([
      expect.objectContaining({
        code: 'FILE_UNREADABLE',
        message: expect.stringMatching(/^cannot read assets: /),
        file: join(root, 'ns/j1/assets'),
      }),
    ]);
    const { symlinkSync } = await import('node:fs');
    const linked = tempDir({ 'ns/j1/job.yaml': JOB, 'ns/j1/assets/q.sql': 'select 1', 'elsewhere/x': '' });
    symlinkSync(join(linked, 'missing'), join(linked, 'ns/j1/assets/dangling.sql'));
    symlinkSync(join(linked, 'elsewhere'), join(linked, 'ns/j1/assets/dir'));
    const job = load(linked);
    expect(job.problems).toEqual([]);
    expect(job.spec!.assets).toEqual({ 'q.sql': 'select 1' });
  });

  it.each(['x5m', '+-5m', '10', '0x', '5m '])('refuses the retry delay %j', (delay) => {
    const root = tempDir({ 'ns/j1/job.yaml': `${JOB}behavior: {retry: {delay: "${delay}"}}\n` });
    expect(errorsOf(load(root).problems).map((p) => p.path)).toEqual(['behavior.retry.delay']);
  });
});
