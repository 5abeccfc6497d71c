/**
 * Files that upstream Optimus accepts are accepted here, with a warning where they use a retired
 * form (issue: "upstream files read as upstream reads them").
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorsOf, warningsOf } from '../../src/core/problem.js';
import { checkLoadedJob, validateProject } from '../../src/services/validate-project.js';
import { loadJob, loadJobValue } from '../../src/spec/job-spec.js';
import { loadPluginFile, loadPluginSet } from '../../src/spec/plugin-spec.js';
import { FIXTURES, PROJECT_YAML, tempDir, v3Plugin } from '../helpers/temp-project.js';

const JOB = `version: 1
name: j1
owner: me@x
schedule: {start_date: "2021-01-01", interval: "0 2 * * *"}
task: {name: t, window: {size: 24h}}
`;

/** A project whose plugins are the v3 task `t` and the upstream predator hook (hooktype: post). */
function project(jobYaml: string, extraFiles: Record<string, string> = {}) {
  const root = tempDir({
    'optimus.yaml': PROJECT_YAML,
    'plugins/t.yaml': v3Plugin('t'),
    'ns1/jobs/j1/job.yaml': jobYaml,
    ...extraFiles,
  });
  mkdirSync(join(root, 'plugins'), { recursive: true });
  copyFileSync(
    join(FIXTURES, 'raystack-predator/optimus-plugin-predator.yaml'),
    join(root, 'plugins/optimus-plugin-predator.yaml'),
  );
  return root;
}

const only = (root: string) => {
  const r = validateProject({ dir: root });
  expect(errorsOf(r.problems)).toEqual([]);
  expect(r.jobs).toHaveLength(1);
  return r.jobs[0]!;
};

describe('a hook written `type: post` (upstream docs of 2021)', () => {
  it('is read as the stage when no plugin is named like it, with a warning that says so', () => {
    const job = only(
      project(`${JOB}hooks:\n  - name: predator\n    type: post\n    config: {FILTER: x, MODE: complete}\n`),
    );
    expect(errorsOf(job.problems)).toEqual([]);
    const warning = warningsOf(job.problems).find((p) => p.code === 'HOOK_TYPE_IS_STAGE');
    expect(warning).toMatchObject({ path: 'hooks[0].type', line: 8 });
    expect(warning!.message).toContain('read as plugin "predator" at stage "post"');
    expect(warning!.hint).toBe('write `stage: post` instead of `type: post`');
    expect(job.nodes.map((n) => [n.name, n.type, n.stage])).toEqual([
      ['t', 't', 'task'],
      ['predator', 'predator', 'post'],
    ]);
  });

  it('puts a `type: pre` hook before the task', () => {
    const job = only(project(`${JOB}hooks:\n  - {name: predator, type: pre, config: {MODE: complete}}\n`));
    expect(job.nodes.map((n) => `${n.stage}:${n.name}`)).toEqual(['pre:predator', 'task:t']);
  });

  it('lets an explicit stage win over a stage-like type, and says the type is ignored', () => {
    const job = only(
      project(`${JOB}hooks:\n  - {name: predator, type: pre, stage: fail, config: {MODE: complete}}\n`),
    );
    expect(job.nodes.find((n) => n.name === 'predator')!.stage).toBe('fail');
    const w = warningsOf(job.problems).find((p) => p.code === 'HOOK_TYPE_IS_STAGE')!;
    expect(w.message).toContain('stage "fail" is set too');
    expect(w.hint).toBe('remove `type`');
  });

  it('uses a plugin that really is named "post", without a warning', () => {
    const root = project(`${JOB}hooks:\n  - {name: announce, type: post}\n`, {
      'plugins/post.yaml': v3Plugin('post'),
    });
    const job = only(root);
    expect(job.problems.filter((p) => p.code === 'HOOK_TYPE_IS_STAGE')).toEqual([]);
    expect(job.nodes.find((n) => n.name === 'announce')!.type).toBe('post');
  });

  it('still reports an unknown plugin when the hook name is not a plugin either', () => {
    const job = only(project(`${JOB}hooks:\n  - {name: nobody, type: post}\n`));
    expect(errorsOf(job.problems).map((p) => [p.code, p.path])).toEqual([
      ['PLUGIN_UNKNOWN', 'hooks[0].name'],
    ]);
  });

  it('is accepted by the server too (a deploy carries the fields as written)', () => {
    const plugins = loadPluginSet([join(project(JOB), 'plugins')]).plugins;
    const loaded = loadJobValue(
      {
        version: 1,
        name: 'j1',
        owner: 'me@x',
        schedule: { start_date: '2021-01-01', end_date: '' },
        behavior: null,
        task: { name: 't' },
        hooks: [{ name: 'predator', type: 'post', config: { MODE: 'complete' } }],
      },
      ['jobs', 0],
    );
    const report = checkLoadedJob(loaded, 'ns1', { plugins, rules: [] });
    expect(errorsOf(report.problems)).toEqual([]);
    expect(report.spec!.schedule.end_date).toBeUndefined();
    expect(report.nodes.map((n) => `${n.stage}:${n.type}`)).toEqual(['task:t', 'post:predator']);
  });
});

describe('empty values upstream treats as absent', () => {
  it('accepts `behavior:` left empty and `end_date: ""`', () => {
    const job = only(
      project(`version: 1
name: j1
owner: me@x
schedule:
  start_date: "2021-01-01"
  end_date: ""
  interval: "0 2 * * *"
behavior:
task: {name: t}
`),
    );
    expect(job.problems).toEqual([]);
    expect(job.spec!.schedule.end_date).toBeUndefined();
    expect(job.spec!.behavior).toEqual({});
    expect(job.raw).not.toHaveProperty('behavior');
    expect(job.raw!.schedule).toEqual({ start_date: '2021-01-01', interval: '0 2 * * *' });
  });

  it('lets a parent this.yaml show through an empty child value', () => {
    const root = tempDir({
      'ns/this.yaml': 'schedule: {end_date: "2030-01-01"}\nbehavior: {catch_up: true}\n',
      'ns/j1/job.yaml': `${JOB.replace('interval: "0 2 * * *"', 'interval: "0 2 * * *", end_date: ""')}behavior:\n`,
    });
    const job = loadJob(join(root, 'ns/j1'), join(root, 'ns'));
    expect(errorsOf(job.problems)).toEqual([]);
    expect(job.spec!.schedule.end_date).toBe('2030-01-01');
    expect(job.spec!.behavior.catch_up).toBe(true);
  });

  it('drops each empty form on its own, keeping every other field', () => {
    const load = (extra: string) =>
      loadJob(join(tempDir({ 'ns/j1/job.yaml': `${JOB}${extra}` }), 'ns/j1'), join(tempDir(), 'x'));
    const onlyBehavior = load('behavior:\n');
    expect(errorsOf(onlyBehavior.problems)).toEqual([]);
    expect(onlyBehavior.raw).not.toHaveProperty('behavior');
    expect(onlyBehavior.raw!.schedule).toEqual({ start_date: '2021-01-01', interval: '0 2 * * *' });
    const kept = load('behavior: {catch_up: true}\n');
    expect(kept.raw!.behavior).toEqual({ catch_up: true });
    const root = tempDir({
      'ns/j1/job.yaml': JOB.replace('interval: "0 2 * * *"', 'interval: "0 2 * * *", end_date: ""'),
    });
    const onlyEnd = loadJob(join(root, 'ns/j1'), join(root, 'ns'));
    expect(onlyEnd.raw!.schedule).toEqual({ start_date: '2021-01-01', interval: '0 2 * * *' });
    expect(onlyEnd.raw!.name).toBe('j1');
  });

  it('still refuses an end_date that is not a date', () => {
    const root = tempDir({ 'ns/j1/job.yaml': JOB.replace('}', ', end_date: soon}') });
    const job = loadJob(join(root, 'ns/j1'), join(root, 'ns'));
    expect(errorsOf(job.problems).map((p) => [p.path, p.message])).toEqual([
      ['schedule.end_date', 'must be a date written YYYY-MM-DD'],
    ]);
  });
});

describe('legacy v1 plugin files', () => {
  it('accepts `hooktype: ""` on a task plugin', () => {
    const root = tempDir({
      'p.yaml': `name: bq
plugintype: task
pluginversion: 0.1.0
image: docker.io/acme/bq:0.1.0
hooktype: ""
entrypoint: {script: run}
`,
    });
    const r = loadPluginFile(join(root, 'p.yaml'));
    expect(r.problems).toEqual([]);
    expect(r.plugin!.hints.stage).toBeUndefined();
  });

  it('accepts a file without entrypoint (before 0.7), warning that the image entrypoint is used', () => {
    const root = tempDir({
      'p.yaml': 'name: old\nplugintype: hook\npluginversion: 0.1.0\nimage: docker.io/acme/old:0.1.0\n',
    });
    const r = loadPluginFile(join(root, 'p.yaml'));
    expect(errorsOf(r.problems)).toEqual([]);
    expect(warningsOf(r.problems)).toMatchObject([
      { code: 'PLUGIN_ENTRYPOINT_MISSING', line: 4, hint: 'add entrypoint: {shell: /bin/sh, script: "..."}' },
    ]);
    expect(r.plugin!.versions.default).toEqual({ image: 'docker.io/acme/old', tag: '0.1.0' });
  });
});

describe('a job file that does not parse', () => {
  const broken = `version: 1
name: broken-job
owner: me@x
task:
  name: t
  config:
    A: 1
   B: [2
    C: 3
hooks: []
`;

  it('reports the first syntax error once, not the parser’s follow-on errors', () => {
    const job = loadJob(join(tempDir({ 'ns/j1/job.yaml': broken }), 'ns/j1'), '/');
    expect(job.problems).toHaveLength(1);
    expect(job.problems[0]).toMatchObject({ code: 'YAML_SYNTAX', line: 8 });
    expect(job.problems[0]!.hint).toMatch(/^fix this first: the parser reported \d+ more errors? /);
  });

  it('is named by its `name` when that line can be read, and can be asked for by it', () => {
    const root = project(JOB, { 'ns1/jobs/j2/job.yaml': broken });
    const all = validateProject({ dir: root });
    expect(all.jobs.map((j) => j.name).sort()).toEqual(['broken-job', 'j1']);
    const one = validateProject({ dir: root, only: ['broken-job'] });
    expect(one.problems).toEqual([]);
    expect(one.jobs.map((j) => [j.name, j.problems.map((p) => p.code)])).toEqual([
      ['broken-job', ['YAML_SYNTAX']],
    ]);
  });

  it('takes the top-level name only: quoted, with a comment, never a nested task or hook name', () => {
    const nested = `version: 1
task:
  name: t
 bad: [
name: "quoted-job"   # the job
`;
    const job = loadJob(join(tempDir({ 'ns/j1/job.yaml': nested }), 'ns/j1'), '/');
    expect(job.problems.map((p) => p.code)).toEqual(['YAML_SYNTAX']);
    expect(job.name).toBe('quoted-job');
    const onlyNested = loadJob(
      join(tempDir({ 'ns/j1/job.yaml': 'task:\n  name: t\n bad: [\n' }), 'ns/j1'),
      '/',
    );
    expect(onlyNested.name).toBeUndefined();
  });

  it('names a job that parses but has problems by its name, if that is a non-empty string', () => {
    const load = (text: string) => loadJob(join(tempDir({ 'ns/j1/job.yaml': text }), 'ns/j1'), '/');
    expect(load('name: shaped\nowner: [x]\n').name).toBe('shaped');
    expect(load('name: 123\nowner: me\n').name).toBeUndefined();
    expect(load("name: ''\nowner: me\n").name).toBeUndefined();
    // A file that is valid YAML but not a mapping is not searched line by line.
    expect(load('- name: listed\n').name).toBeUndefined();
  });

  it('is named by its folder when no name can be read', () => {
    const root = project(JOB, { 'ns1/jobs/j2/job.yaml': broken.replace('name: broken-job\n', '') });
    const names = validateProject({ dir: root }).jobs.map((j) => j.name);
    expect(names.some((n) => n.endsWith(join('ns1', 'jobs', 'j2')))).toBe(true);
  });
});
