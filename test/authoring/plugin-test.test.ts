/**
 * `optimus plugin test`: small plugin folders written here (not the scaffold), run through the
 * built CLI. A good yaml plugin passes every check; each broken plugin fails the check that names
 * its problem, with a fix, and the checks that need it are skipped saying which; tests/*.yaml cases
 * compare exactly and show expected vs actual; secrets given in tests files never reach the output.
 */

import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDurationOption } from '../../src/authoring/duration.js';
import { didYouMean, type PluginCheck, testPlugin } from '../../src/authoring/plugin-test.js';
import { fileMismatch } from '../../src/authoring/test-cases.js';
import { formatDuration } from '../../src/scheduler/process-executor.js';
import { pluginV3Schema } from '../../src/spec/plugin-schema.js';
import { runOptimus } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-project.js';

const SPEC = `version: 3
name: shop
description: copies a table
plugin_versions:
  default:
    image: docker.io/acme/shop
    tag: 0.1.0
    entrypoint:
      shell: /bin/sh
      script: |
        cat "$JOB_DIR/in/query.sql"
questions:
  - name: TABLE
    prompt: Table to write
    regexp: ^[a-z_]+$
    validationerror: lowercase letters and _ only
    default: orders
    subquestions:
      - ifvalue: orders
        questions:
          - name: PARTITION
            prompt: Partition column
            multiselect: [day, hour]
            default: day
configs:
  - name: TABLE
    required: true
  - name: API_TOKEN
    secret: true
    required: true
default_config:
  PROJECT: acme
destination_urn_template: bigquery://<PROJECT>:ds.<TABLE>
`;

const JOB = `version: 3
name: sample-shop
owner: me@example.com
schedule:
  start_date: "2026-03-01"
  interval: "0 0 * * *"
task:
  name: shop
  config:
    TABLE: orders
    API_TOKEN: "{{ .secret.API_TOKEN }}"
  window:
    size: 24h
`;

const QUERY = 'select *\nfrom src\nwhere ts >= "{{ .DSTART }}" and ts < "{{ .DEND }}"\n';

const TESTS = `cases:
  - name: renders the window into query.sql
    expect:
      files:
        query.sql: |-
          select *
          from src
          where ts >= "2026-02-28T00:00:00Z" and ts < "2026-03-01T00:00:00Z"
      envs: {TABLE: orders, DSTART: "2026-02-28T00:00:00Z", API_TOKEN: "<secret API_TOKEN>"}
      destination: bigquery://acme:ds.orders
      dependencies: []
  - name: another table on another day
    given:
      config: {TABLE: items}
      scheduled_at: "2026-03-05T00:00:00Z"
      secrets: {API_TOKEN: token-value}
      globals: {WAREHOUSE: w1}
    expect:
      envs: {TABLE: items, DEND: "2026-03-05T00:00:00Z", API_TOKEN: token-value, GLOBAL__WAREHOUSE: w1}
      destination: bigquery://acme:ds.items
`;

function yamlPlugin(overrides: Record<string, string> = {}): string {
  return tempDir({
    'plugin.yaml': SPEC,
    'sample/job.yaml': JOB,
    'sample/assets/query.sql': QUERY,
    'tests/sample.yaml': TESTS,
    ...overrides,
  });
}

const SDK_SPEC = `{
  version: 3,
  name: 'bin',
  plugin_versions: {
    default: { image: 'docker.io/acme/bin', tag: '0.1.0', entrypoint: { shell: '/bin/sh', script: 'echo hi' } },
  },
  configs: [{ name: 'TABLE', required: true }],
  mods: ['dependency_resolver'],
}`;

/** A binary project on the SDK; `main` is src/main.ts. */
function binaryPlugin(main: string, extra: Record<string, string> = {}): string {
  return tempDir({
    'package.json': JSON.stringify({ name: 'bin', version: '0.1.0', private: true, type: 'module' }),
    'src/main.ts': main,
    'sample/job.yaml': JOB.replace('name: shop', 'name: bin').replace(/ {4}API_TOKEN.*\n/, ''),
    'sample/assets/query.sql': 'select * from `acme.raw.events`',
    ...extra,
  });
}

function check(checks: PluginCheck[], name: string): PluginCheck {
  const c = checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check ${name} in ${checks.map((x) => x.name).join(', ')}`);
  return c;
}

/** The line of check `name` in human output, with the lines indented under it. */
function block(stdout: string, name: string): string {
  const lines = stdout.split('\n');
  const i = lines.findIndex((l) => l.slice(2).startsWith(`${name} `));
  if (i < 0) throw new Error(`no line for ${name} in:\n${stdout}`);
  let j = i + 1;
  while (j < lines.length && lines[j]!.startsWith('    ')) j++;
  return lines.slice(i, j).join('\n');
}

describe('a good yaml plugin', () => {
  it('passes every check, and the checks that do not apply say why', () => {
    const dir = yamlPlugin();
    const r = runOptimus(['plugin', 'test', '.'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(block(r.stdout, 'build')).toBe('- build          a yaml plugin has nothing to build');
    expect(block(r.stdout, 'handshake')).toContain('a yaml plugin has no handshake');
    expect(block(r.stdout, 'spec')).toMatch(/^✓ spec +shop \(v3\) is valid$/);
    expect(block(r.stdout, 'questions')).toMatch(
      /^✓ questions +2 questions; 2 defaults, each passing its own rules$/,
    );
    expect(block(r.stdout, 'sample job')).toMatch(/^✓ sample job +sample\/job\.yaml uses shop as its task$/);
    expect(block(r.stdout, 'sample render')).toMatch(
      /^✓ sample render +renders for 2026-03-01T00:00:00Z: 1 file \(query\.sql\), \d+ envs, 1 secret$/,
    );
    expect(block(r.stdout, 'resolver')).toMatch(
      /^✓ resolver +destination bigquery:\/\/acme:ds\.orders; 0 dependencies$/,
    );
    expect(block(r.stdout, 'tests/sample.yaml: renders the window into query.sql')).toContain(
      'matches (1 file, 3 envs, destination, dependencies)',
    );
    expect(block(r.stdout, 'tests/sample.yaml: another table on another day')).toContain('✓');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('plugin shop: 7 passed, 0 failed, 2 skipped');
  });

  it('--json: ok, plugin and one entry per check, in order', () => {
    const dir = yamlPlugin();
    const r = runOptimus(['plugin', 'test', dir, '--json']);
    expect(r.code).toBe(0);
    const doc = r.json();
    expect(doc.ok).toBe(true);
    expect(doc.plugin).toBe('shop');
    expect(doc.checks.map((c: PluginCheck) => c.name)).toEqual([
      'build',
      'handshake',
      'spec',
      'questions',
      'sample job',
      'sample render',
      'resolver',
      'tests/sample.yaml: renders the window into query.sql',
      'tests/sample.yaml: another table on another day',
    ]);
    expect(doc.checks[0]).toEqual({
      name: 'build',
      ok: true,
      skipped: true,
      message: 'a yaml plugin has nothing to build',
    });
    for (const c of doc.checks) {
      expect(
        Object.keys(c).every((k) => ['name', 'ok', 'skipped', 'message', 'fix', 'details'].includes(k)),
      ).toBe(true);
      expect(c.ok).toBe(true);
    }
  });

  it('without tests/ it says so in one skipped line, and a plugin with no resolver skips that check', () => {
    const dir = tempDir({
      'plugin.yaml': SPEC.replace(/destination_urn_template.*\n/, ''),
      'sample/job.yaml': JOB,
      'sample/assets/query.sql': QUERY,
    });
    const r = runOptimus(['plugin', 'test', '.', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const checks: PluginCheck[] = r.json().checks;
    expect(check(checks, 'resolver')).toEqual({
      name: 'resolver',
      ok: true,
      skipped: true,
      message: 'the plugin infers no dependencies',
    });
    expect(checks.at(-1)).toEqual({ name: 'tests', ok: true, skipped: true, message: 'no tests/*.yaml' });
  });
});

describe('a broken yaml plugin', () => {
  it('a typo in the spec: the spec check names file:line, the key and the fix; later checks are skipped', () => {
    const dir = yamlPlugin({ 'plugin.yaml': SPEC.replace('configs:', 'configz:') });
    const r = runOptimus(['plugin', 'test', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    const line = SPEC.split('\n').indexOf('configs:') + 1;
    expect(block(r.stdout, 'spec')).toBe(
      [
        '✗ spec           1 error in plugin.yaml',
        `    plugin.yaml:${line}: configz: unknown key "configz" (did you mean configs?)`,
        '    fix: rename configz to configs',
      ].join('\n'),
    );
    for (const name of ['questions', 'sample job', 'sample render', 'resolver'])
      expect(block(r.stdout, name)).toMatch(new RegExp(`^- ${name} +skipped: the spec check failed$`));
    expect(r.stdout).toContain(
      '- tests/sample.yaml: renders the window into query.sql  skipped: the spec check failed',
    );
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('plugin shop: 0 passed, 1 failed, 8 skipped');
  });

  it('a question whose default fails its own regexp: names the question, the default, the rule and the fix', () => {
    const dir = yamlPlugin({ 'plugin.yaml': SPEC.replace('default: orders', 'default: Orders') });
    const r = runOptimus(['plugin', 'test', '.', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const doc = r.json();
    expect(doc.ok).toBe(false);
    expect(check(doc.checks, 'questions')).toEqual({
      name: 'questions',
      ok: false,
      message:
        'question TABLE: default "Orders" fails its own regexp ^[a-z_]+$ ("lowercase letters and _ only")',
      fix: 'question TABLE: change the default or the regexp',
    });
    // The plugin itself is usable: the checks after it still run.
    expect(check(doc.checks, 'sample render').ok).toBe(true);
  });

  it('a subquestion whose default is too short for its own minlength fails too', async () => {
    const dir = yamlPlugin({
      'plugin.yaml': SPEC.replace('multiselect: [day, hour]', 'minlength: 5'),
    });
    const report = await testPlugin(dir);
    expect(report.ok).toBe(false);
    expect(check(report.checks, 'questions')).toMatchObject({
      ok: false,
      message: 'question PARTITION: default "day" fails its own minlength 5',
      fix: 'question PARTITION: change the default or minlength',
    });
  });

  it('the sample job: required configs, secret references and answers, each with file:line:field', () => {
    const job = JOB.replace('TABLE: orders', 'TABLE: Orders').replace(
      'API_TOKEN: "{{ .secret.API_TOKEN }}"',
      'API_TOKEN: plain-value',
    );
    const dir = yamlPlugin({ 'sample/job.yaml': job });
    const r = runOptimus(['plugin', 'test', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    const lines = job.split('\n');
    const at = (prefix: string) => lines.findIndex((l) => l.trim().startsWith(prefix)) + 1;
    const out = block(r.stdout, 'sample job');
    expect(out).toContain('✗ sample job     2 errors in sample/job.yaml');
    expect(out).toContain(
      `sample/job.yaml:${at('TABLE:')}: task.config.TABLE: config TABLE: "Orders": lowercase`,
    );
    expect(out).toContain(
      `sample/job.yaml:${at('API_TOKEN:')}: task.config.API_TOKEN: config API_TOKEN is a secret and must be a reference`,
    );
    expect(out).not.toContain('plain-value');
    expect(block(r.stdout, 'sample render')).toContain('skipped: the sample job check failed');
    // Cases rendering the sample cannot run either.
    expect(r.stdout).toContain(
      '- tests/sample.yaml: renders the window into query.sql  skipped: the sample job check failed',
    );
  });

  it('a sample job naming another plugin: it is stood in for and not checked, which the check says', () => {
    const dir = yamlPlugin({
      'sample/job.yaml': `${JOB}hooks:\n  - name: notify\n    config: {ANY: thing}\n`,
    });
    const r = runOptimus(['plugin', 'test', '.'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(block(r.stdout, 'sample job')).toMatch(
      /^✓ sample job +sample\/job\.yaml uses shop as its task\n {4}hook plugin notify is not checked here \(pass --plugins <dir> with its spec to check its configs\)$/,
    );
  });

  it('an old-style hook (type: post) stands in for the plugin its name names, as job validate reads it', () => {
    const dir = yamlPlugin({ 'sample/job.yaml': `${JOB}hooks:\n  - name: notify\n    type: post\n` });
    const r = runOptimus(['plugin', 'test', '.', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(check(r.json().checks, 'sample job').details).toEqual([
      expect.stringMatching(/^warning: sample\/job\.yaml:\d+: hooks\[0\]\.type: type "post" names a stage/),
      'hook plugin notify is not checked here (pass --plugins <dir> with its spec to check its configs)',
    ]);
  });

  it('a sample job that does not use the plugin, and a missing one', () => {
    const other = yamlPlugin({ 'sample/job.yaml': JOB.replace('name: shop', 'name: bq2bq') });
    const r = runOptimus(['plugin', 'test', '.'], { cwd: other });
    expect(block(r.stdout, 'sample job')).toBe(
      [
        '✗ sample job     sample/job.yaml does not use plugin shop: its task is bq2bq',
        '    fix: set task.name: shop in sample/job.yaml',
      ].join('\n'),
    );
    const missing = tempDir({ 'plugin.yaml': SPEC });
    const m = runOptimus(['plugin', 'test', '.'], { cwd: missing });
    expect(m.code).toBe(1);
    expect(block(m.stdout, 'sample job')).toContain('✗ sample job     sample/job.yaml does not exist');
    expect(block(m.stdout, 'sample job')).toContain('fix: write a sample job using the plugin there');
  });

  it('--job checks another job file (relative to the working directory)', () => {
    const dir = yamlPlugin({
      'sample/job.yaml': JOB.replace('name: shop', 'name: other'),
      'elsewhere/job.yaml': JOB,
    });
    const r = runOptimus(['plugin', 'test', '.', '--job', 'elsewhere/job.yaml'], { cwd: dir });
    expect(block(r.stdout, 'sample job')).toMatch(
      /^✓ sample job +elsewhere\/job\.yaml uses shop as its task$/,
    );
  });

  it('a template that does not render: the sample render check names the field', () => {
    const dir = yamlPlugin({ 'sample/assets/query.sql': 'select {{ .DSTART | nosuchfunc }}\n' });
    const r = runOptimus(['plugin', 'test', '.', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const c = check(r.json().checks, 'sample render');
    expect(c.ok).toBe(false);
    expect(c.message).toMatch(/^assets\.query\.sql: .*nosuchfunc/);
  });
});

describe('tests/*.yaml', () => {
  it('a failing case shows the key, expected and actual; for a multi-line file the first differing line', () => {
    const tests = `cases:
  - name: wrong
    expect:
      files:
        query.sql: |-
          select *
          from other
          where 1 = 1
        missing.sql: x
      envs: {TABLE: orders, DSTART: "2026-01-01T00:00:00Z", NOPE: x}
      destination: bigquery://acme:ds.wrong
      dependencies: ["bigquery://acme:ds.src"]
`;
    const dir = yamlPlugin({ 'tests/sample.yaml': tests });
    const r = runOptimus(['plugin', 'test', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(block(r.stdout, 'tests/sample.yaml: wrong')).toBe(
      [
        '✗ tests/sample.yaml: wrong  6 mismatches: files["query.sql"] line 2, files["missing.sql"], envs.DSTART, envs.NOPE, destination, dependencies',
        '    files["query.sql"] line 2: expected "from other", got "from src"',
        '    files["missing.sql"]: expected x, got no such file (rendered: query.sql)',
        '    envs.DSTART: expected "2026-01-01T00:00:00Z", got "2026-02-28T00:00:00Z"',
        '    envs.NOPE: expected "x", got not set',
        '    destination: expected "bigquery://acme:ds.wrong", got "bigquery://acme:ds.orders"',
        '    dependencies: expected [bigquery://acme:ds.src], got [] (missing bigquery://acme:ds.src)',
        '    fix: change the plugin, or the expectation in tests/sample.yaml:2 if the new output is right',
      ].join('\n'),
    );
  });

  it('a block scalar that keeps its final newline: the fix says rendered files are trimmed', async () => {
    const tests =
      'cases:\n  - name: nl\n    expect:\n      files:\n        query.sql: |\n          select *\n          from src\n          where ts >= "2026-02-28T00:00:00Z" and ts < "2026-03-01T00:00:00Z"\n';
    const report = await testPlugin(yamlPlugin({ 'tests/sample.yaml': tests }));
    const c = check(report.checks, 'tests/sample.yaml: nl');
    expect(c.ok).toBe(false);
    expect(c.details).toEqual(['files["query.sql"]: expected a final newline, got no final newline']);
    expect(c.fix).toContain('rendered files are trimmed');
  });

  it('secrets given in a tests file are masked in what a failing case prints', () => {
    const tests = `cases:
  - name: leaks nothing
    given:
      secrets: {API_TOKEN: hunter2-secret}
      config: {TABLE: hunter2-secret}
    expect:
      envs: {API_TOKEN: other-value, TABLE: x}
      files: {query.sql: "select"}
`;
    const dir = yamlPlugin({
      'tests/sample.yaml': tests,
      'sample/assets/query.sql': 'select "{{ .secret.API_TOKEN }}"',
    });
    for (const args of [[], ['--json']]) {
      const r = runOptimus(['plugin', 'test', '.', ...args], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stdout).not.toContain('hunter2');
      expect(r.stdout).toContain('****');
    }
    const r = runOptimus(['plugin', 'test', '.'], { cwd: dir });
    expect(block(r.stdout, 'tests/sample.yaml: leaks nothing')).toContain(
      'envs.API_TOKEN: expected ****, got **** (a different value)',
    );
  });

  it('a malformed tests file is reported with file:line and the field', () => {
    const dir = yamlPlugin({
      'tests/sample.yaml': 'cases:\n  - name: a\n    given:\n      confg: {TABLE: x}\n',
      'tests/syntax.yaml': 'cases: [\n',
      'tests/time.yml': 'cases:\n  - name: t\n    given:\n      scheduled_at: yesterday\n',
    });
    const r = runOptimus(['plugin', 'test', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(block(r.stdout, 'tests/sample.yaml')).toBe(
      [
        '✗ tests/sample.yaml  1 error in tests/sample.yaml',
        '    tests/sample.yaml:4: cases[0].given.confg: unknown key "confg" (did you mean config?)',
        '    fix: rename confg to config',
      ].join('\n'),
    );
    expect(block(r.stdout, 'tests/syntax.yaml')).toMatch(
      /\n {4}tests\/syntax\.yaml:2: .*\n {4}fix: fix the YAML syntax at tests\/syntax\.yaml:2$/,
    );
    expect(block(r.stdout, 'tests/time.yml')).toContain(
      'tests/time.yml:4: cases[0].given.scheduled_at: "yesterday" is not an RFC 3339 time',
    );
  });

  it('an empty (or comments-only) tests file says it is empty and to write `cases:`', () => {
    const dir = yamlPlugin({ 'tests/sample.yaml': '', 'tests/notes.yaml': '# to do\n' });
    const r = runOptimus(['plugin', 'test', '.', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    for (const f of ['tests/sample.yaml', 'tests/notes.yaml']) {
      const c = check(r.json().checks, f);
      expect(c.ok).toBe(false);
      expect(c.details).toEqual([`${f}: is empty: write \`cases:\` and a list of cases under it — ${c.fix}`]);
      expect(c.fix).toMatch(/^e\.g\. cases: \[\{name: /);
    }
    expect(r.stdout).not.toContain('is required');
  });

  it('nesting too deep for a tests file is refused with its line, not a stack overflow', () => {
    const dir = yamlPlugin({
      // Deeper than any parser's stack: the YAML parsers themselves give up.
      'tests/flow.yaml': `cases: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
      // Parsable, but far deeper than a tests file: refused before its shape is checked.
      'tests/block.yaml': `cases:\n  - name: deep\n    given:\n      config: ${'['.repeat(80)}1${']'.repeat(80)}\n`,
    });
    const r = runOptimus(['plugin', 'test', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/call stack|fix the YAML syntax/i);
    expect(block(r.stdout, 'tests/flow.yaml')).toMatch(
      /\n {4}tests\/flow\.yaml:1: nested more than 64 levels deep; a tests file needs 4 or 5 — .*\n {4}fix: write each case as name, given and expect/,
    );
    expect(block(r.stdout, 'tests/block.yaml')).toContain(
      'tests/block.yaml:4: nested more than 64 levels deep',
    );
  });

  it('control characters in a case name are printed escaped, never raw', () => {
    const dir = yamlPlugin({
      'tests/sample.yaml':
        'cases:\n  - name: "a\\0b\\e[31mred\\nfake ✓ line"\n    expect: {envs: {TABLE: nope}}\n',
    });
    const r = runOptimus(['plugin', 'test', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/[\u0000\u001b]/);
    expect(r.stdout).toContain('tests/sample.yaml: a\\u0000b\\u001b[31mred\\u000afake ✓ line');
    expect(r.stdout.split('\n').filter((l) => l.startsWith('fake'))).toEqual([]);
    const j = runOptimus(['plugin', 'test', '.', '--json'], { cwd: dir }).json();
    expect(j.checks.map((c: { name: string }) => c.name)).toContain(
      'tests/sample.yaml: a\\u0000b\\u001b[31mred\\u000afake ✓ line',
    );
  });

  it('a case may render another job (given.job, relative to the plugin folder); a missing one is named', () => {
    const dir = yamlPlugin({
      'jobs/b/job.yaml': JOB.replace('TABLE: orders', 'TABLE: bees'),
      'tests/sample.yaml': `cases:
  - name: b
    given: {job: jobs/b/job.yaml}
    expect: {envs: {TABLE: bees}}
  - name: gone
    given: {job: jobs/nope/job.yaml}
`,
    });
    const r = runOptimus(['plugin', 'test', '.', '--json'], { cwd: dir });
    const checks: PluginCheck[] = r.json().checks;
    expect(check(checks, 'tests/sample.yaml: b')).toMatchObject({ ok: true, message: 'matches (1 env)' });
    expect(check(checks, 'tests/sample.yaml: gone')).toMatchObject({
      ok: false,
      message: 'tests/sample.yaml:6: given.job: jobs/nope/job.yaml does not exist',
    });
  });
});

/** A hook plugin: its sample job's task is another plugin (bq-load), which it reads as TASK__*. */
const HOOK_SPEC = `version: 3
name: notify
plugin_versions:
  default:
    image: docker.io/acme/notify
    tag: "1"
    entrypoint: {script: 'echo "$CHANNEL: $TASK__TABLE"'}
questions:
  - name: CHANNEL
    prompt: Channel to post to
    regexp: ^[a-z]+$
configs:
  - {name: CHANNEL, required: true}
`;

const HOOK_JOB = `version: 3
name: sample-notify
owner: me@example.com
schedule:
  start_date: "2026-03-01"
  interval: "0 0 * * *"
task:
  name: bq-load
  config:
    TABLE: orders
  window:
    size: 24h
hooks:
  - name: notify
    config:
      CHANNEL: data
`;

/** The task plugin as a server has it: a required config, a default reading a secret, a destination. */
const TASK_SPEC = `version: 3
name: bq-load
plugin_versions:
  default:
    image: docker.io/acme/bq-load
    tag: "1"
    entrypoint: {script: 'echo load'}
configs:
  - {name: TABLE, required: true}
  - {name: DATASET, required: true}
default_config:
  PROJECT: acme
  KEY: "{{ .secret.BQ_KEY }}"
destination_urn_template: bigquery://<PROJECT>:<DATASET>.<TABLE>
`;

const HOOK_TESTS = `cases:
  - name: posts about the task's table
    expect:
      envs: {CHANNEL: data, TASK__TABLE: orders}
  - name: another channel
    given:
      config: {CHANNEL: ops}
    expect:
      envs: {CHANNEL: ops}
`;

/** A case that holds only when the task plugin's own spec is used: its default and destination. */
const TASK_TESTS = `cases:
  - name: the task plugin's defaults and destination
    expect:
      envs: {TASK__PROJECT: acme, JOB_DESTINATION: "bigquery://acme:raw.orders"}
`;

function hookPlugin(overrides: Record<string, string> = {}): string {
  return tempDir({
    'notify/plugin.yaml': HOOK_SPEC,
    'notify/sample/job.yaml': HOOK_JOB,
    'notify/tests/hook.yaml': HOOK_TESTS,
    'specs/bq-load.yaml': TASK_SPEC,
    ...overrides,
  });
}

describe('hook plugins', () => {
  it('a sample with the plugin as a hook passes every check with its task plugin stood in', () => {
    const cwd = hookPlugin();
    const r = runOptimus(['plugin', 'test', 'notify'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(block(r.stdout, 'sample job')).toBe(
      [
        '✓ sample job     notify/sample/job.yaml uses notify as hook notify',
        '    task plugin bq-load is not checked here (pass --plugins <dir> with its spec to check its configs)',
      ].join('\n'),
    );
    expect(block(r.stdout, 'sample render')).toMatch(
      /^✓ sample render +renders for 2026-03-01T00:00:00Z: 0 files, \d+ envs$/,
    );
    expect(block(r.stdout, 'resolver')).toMatch(/^- resolver +the plugin infers no dependencies$/);
    expect(block(r.stdout, "tests/hook.yaml: posts about the task's table")).toContain('✓');
    expect(block(r.stdout, 'tests/hook.yaml: another channel')).toContain('✓');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('plugin notify: 6 passed, 0 failed, 3 skipped');
  });

  it('the hook’s own config is still checked against its spec', () => {
    const cwd = hookPlugin({ 'notify/sample/job.yaml': HOOK_JOB.replace('CHANNEL: data', 'CHANNEL: Data') });
    const r = runOptimus(['plugin', 'test', 'notify'], { cwd });
    expect(r.code).toBe(1);
    const line = HOOK_JOB.split('\n').findIndex((l) => l.includes('CHANNEL: data')) + 1;
    expect(block(r.stdout, 'sample job')).toContain(
      `notify/sample/job.yaml:${line}: hooks[0].config.CHANNEL: hook "notify": config CHANNEL: "Data"`,
    );
  });

  it('--plugins: the task plugin’s spec is used, so its configs are checked and its defaults rendered', () => {
    const cwd = hookPlugin({ 'notify/tests/task.yaml': TASK_TESTS });
    // The sample sets no DATASET, which bq-load requires: only its real spec knows that.
    const r = runOptimus(['plugin', 'test', 'notify', '--plugins', 'specs'], { cwd });
    expect(r.code).toBe(1);
    // A missing key is reported where the mapping it belongs in starts.
    const line = HOOK_JOB.split('\n').indexOf('    TABLE: orders') + 1;
    expect(block(r.stdout, 'sample job')).toBe(
      [
        '✗ sample job     1 error in notify/sample/job.yaml',
        `    notify/sample/job.yaml:${line}: task.config: task plugin "bq-load" requires config DATASET — add DATASET: <value> under config`,
        '    task plugin bq-load is checked against specs/bq-load.yaml',
        '    fix: add DATASET: <value> under config',
      ].join('\n'),
    );
    expect(block(r.stdout, 'sample render')).toContain('skipped: the sample job check failed');

    // With DATASET set every check passes, the case that needs bq-load's default and destination too.
    const fixed = hookPlugin({
      'notify/sample/job.yaml': HOOK_JOB.replace('TABLE: orders', 'TABLE: orders\n    DATASET: raw'),
      'notify/tests/task.yaml': TASK_TESTS,
    });
    const ok = runOptimus(['plugin', 'test', 'notify', '--plugins', 'specs', '--json'], { cwd: fixed });
    expect(ok.code).toBe(0);
    const checks: PluginCheck[] = ok.json().checks;
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(check(checks, 'sample job').details).toEqual([
      'task plugin bq-load is checked against specs/bq-load.yaml',
    ]);
    expect(check(checks, "tests/task.yaml: the task plugin's defaults and destination")).toMatchObject({
      ok: true,
      message: 'matches (2 envs)',
    });

    // Without --plugins the stand-in has neither, and the case says what differs.
    const bare = runOptimus(['plugin', 'test', 'notify', '--json'], { cwd: fixed });
    expect(bare.code).toBe(1);
    expect(
      check(bare.json().checks, "tests/task.yaml: the task plugin's defaults and destination"),
    ).toMatchObject({
      ok: false,
      details: [
        'envs.TASK__PROJECT: expected "acme", got not set',
        'envs.JOB_DESTINATION: expected "bigquery://acme:raw.orders", got ""',
      ],
    });
  });

  it('--plugins without the task plugin: still stood in, and the check says it was not found there', () => {
    const cwd = hookPlugin({ 'others/x.yaml': TASK_SPEC.replace('name: bq-load', 'name: x') });
    const r = runOptimus(['plugin', 'test', 'notify', '--plugins', 'others', '--json'], { cwd });
    expect(r.code).toBe(0);
    expect(check(r.json().checks, 'sample job').details).toEqual([
      'task plugin bq-load is not in --plugins others: its configs are not checked',
    ]);
  });

  it('--plugins with a broken spec or no such folder is bad usage (exit 2) naming the file and line', () => {
    const cwd = hookPlugin({
      'specs/broken.yaml': TASK_SPEC.replace('name: bq-load', 'name: other').replace('configs:', 'configz:'),
    });
    const line = TASK_SPEC.split('\n').indexOf('configs:') + 1;
    const r = runOptimus(['plugin', 'test', 'notify', '--plugins', 'specs'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `error: --plugins specs: specs/broken.yaml:${line}:1: configz: unknown key "configz"\n`,
    );
    const j = runOptimus(['plugin', 'test', 'notify', '--plugins', 'specs', '--json'], { cwd });
    expect(j.code).toBe(2);
    expect(j.json()).toMatchObject({ ok: false, error: { code: 'PLUGINS_DIR_INVALID' } });
    expect(j.json().error.message).toContain(`specs/broken.yaml:${line}:1`);

    const none = runOptimus(['plugin', 'test', 'notify', '--plugins', 'nowhere'], { cwd });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('error: --plugins nowhere: nowhere: ');
  });
});

describe('binary plugins', () => {
  it('a resolver that throws: the resolver check shows its message and says the resolver threw', () => {
    const dir = binaryPlugin(`import { servePlugin } from '@optimus-ts/plugin-sdk';
servePlugin({
  spec: ${SDK_SPEC},
  generateDestination: ({ config }) => { throw new Error('cannot place table ' + config.TABLE); },
  generateDependencies: () => [],
});
`);
    const r = runOptimus(['plugin', 'test', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(block(r.stdout, 'build')).toMatch(/^✓ build +dist\/bin \(\d+ kB\) built in \d+ ms$/);
    expect(block(r.stdout, 'handshake')).toMatch(/^✓ handshake +answered in \d+ ms \(deadline 10s\)$/);
    const resolver = block(r.stdout, 'resolver');
    expect(resolver).toContain('✗ resolver');
    expect(resolver).toContain('cannot place table orders');
    expect(resolver).toContain(
      'fix: the resolver threw for the sample job (sample/job.yaml): fix generateDestination/generateDependencies in src/main.ts',
    );
  });

  it('a working resolver: destination and dependencies, and cases that expect them', () => {
    const dir = binaryPlugin(
      `import { servePlugin } from '@optimus-ts/plugin-sdk';
import { extractSources } from '@optimus-ts/plugin-sdk/sql';
servePlugin({
  spec: ${SDK_SPEC},
  generateDestination: ({ config }) => 'bigquery://acme:ds.' + config.TABLE,
  generateDependencies: ({ assets }) => extractSources(assets['query.sql'] ?? '', {}).sources,
});
`,
      {
        'tests/lineage.yaml': `cases:
  - name: lineage
    expect:
      destination: bigquery://acme:ds.orders
      dependencies: ["bigquery://acme:raw.events"]
  - name: wrong lineage
    given: {config: {TABLE: x}}
    expect:
      destination: bigquery://acme:ds.orders
`,
      },
    );
    const r = runOptimus(['plugin', 'test', '.', '--json'], { cwd: dir });
    const checks: PluginCheck[] = r.json().checks;
    expect(check(checks, 'resolver')).toEqual({
      name: 'resolver',
      ok: true,
      message: 'destination bigquery://acme:ds.orders; 1 dependency',
      details: ['dependency: bigquery://acme:raw.events'],
    });
    expect(check(checks, 'tests/lineage.yaml: lineage')).toMatchObject({ ok: true });
    expect(check(checks, 'tests/lineage.yaml: wrong lineage').details).toEqual([
      'destination: expected "bigquery://acme:ds.orders", got "bigquery://acme:ds.x"',
    ]);
    expect(r.code).toBe(1);
  });

  it('src/main.ts that never calls servePlugin: the handshake gets no answer, with the fix', () => {
    const dir = binaryPlugin('console.error("warming up"); setInterval(() => {}, 1000);\n');
    const r = runOptimus(['plugin', 'test', '.', '--handshake-timeout', '400ms'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(block(r.stdout, 'handshake')).toBe(
      [
        '✗ handshake      no answer within 400ms',
        '    stderr: warming up',
        '    fix: src/main.ts must call servePlugin({ spec, … }) when it starts; nothing may block the event loop at start (a long synchronous loop, an await that never settles); stdout carries only protocol responses (log to stderr)',
      ].join('\n'),
    );
    expect(block(r.stdout, 'spec')).toMatch(/^- spec +skipped: the handshake check failed$/);
  });

  it('a prebuilt executable that hangs, and one that exits with an error on stderr', () => {
    const dir = tempDir({
      hangs: '#!/bin/sh\nexec sleep 30\n',
      dies: '#!/bin/sh\necho "missing credentials file" >&2\nexit 3\n',
    });
    chmodSync(join(dir, 'hangs'), 0o755);
    chmodSync(join(dir, 'dies'), 0o755);
    const h = runOptimus(['plugin', 'test', 'hangs', '--handshake-timeout', '300ms'], { cwd: dir });
    expect(h.code).toBe(1);
    expect(block(h.stdout, 'build')).toBe('- build          prebuilt executable hangs');
    expect(block(h.stdout, 'handshake')).toContain('✗ handshake      no answer within 300ms');
    expect(block(h.stdout, 'handshake')).toContain('fix: hangs must call servePlugin');
    const d = runOptimus(['plugin', 'test', 'dies', '--json'], { cwd: dir });
    expect(d.code).toBe(1);
    expect(check(d.json().checks, 'handshake')).toEqual({
      name: 'handshake',
      ok: false,
      message: 'exited (code 3) before answering; stderr: missing credentials file',
      fix: 'it exited before answering: run dies by hand to see the whole error',
    });
  });

  it('a compile error fails the build with file:line:col; --no-build without a build says how to build', () => {
    const dir = binaryPlugin('const x: number = ;\n');
    const r = runOptimus(['plugin', 'test', '.', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const build = check(r.json().checks, 'build');
    expect(build.ok).toBe(false);
    expect(build.message).toMatch(/failed with 1 error/);
    expect(build.details?.join('\n')).toMatch(/src\/main\.ts:1:\d+/);
    expect(check(r.json().checks, 'handshake').message).toBe('skipped: the build check failed');

    const fresh = binaryPlugin('export {};\n');
    const n = runOptimus(['plugin', 'test', '.', '--no-build', '--json'], { cwd: fresh });
    expect(n.code).toBe(1);
    expect(check(n.json().checks, 'build')).toEqual({
      name: 'build',
      ok: false,
      message: 'dist/bin does not exist',
      fix: 'build it with `optimus plugin build .`, or leave out --no-build',
    });
  });

  it('a spec the handshake sends with an unknown key: the spec check fails naming it', () => {
    const dir = binaryPlugin(`import { servePlugin } from '@optimus-ts/plugin-sdk';
const spec = ${SDK_SPEC};
servePlugin({ spec: { ...spec, configz: [] } as typeof spec });
`);
    const r = runOptimus(['plugin', 'test', '.', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const checks: PluginCheck[] = r.json().checks;
    expect(check(checks, 'handshake').ok).toBe(true);
    const spec = check(checks, 'spec');
    expect(spec.ok).toBe(false);
    expect(spec.message).toBe('the handshake spec is invalid: configz: unknown key "configz"');
    expect(spec.fix).toBe(
      'rename configz to configs in the spec object passed to servePlugin in src/main.ts',
    );
  });
});

describe('usage', () => {
  it('exit 2 for a folder that is no plugin project, a bad --handshake-timeout or a missing --job', () => {
    const dir = tempDir({ 'readme.txt': 'nothing here' });
    const none = runOptimus(['plugin', 'test', '.'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('error: .: holds no plugin.yaml');
    const missing = runOptimus(['plugin', 'test', 'nope', '--json'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.json().error.code).toBe('PLUGIN_PROJECT_NOT_FOUND');
    const good = yamlPlugin();
    for (const bad of ['10', '10x', '0s', '-1s']) {
      const r = runOptimus(['plugin', 'test', '.', `--handshake-timeout=${bad}`], { cwd: good });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--handshake-timeout "${bad}" is not a duration`);
    }
    const job = runOptimus(['plugin', 'test', '.', '--job', 'no/job.yaml'], { cwd: good });
    expect(job.code).toBe(2);
    expect(job.stderr).toContain('error: --job no/job.yaml does not exist');
  });

  it('durations: Go syntax (ms, s, m, h, fractions, sums), more than zero, within a timer; formatted back the short way', () => {
    expect(parseDurationOption('500ms', '--x')).toBe(500);
    expect(parseDurationOption('10s', '--x')).toBe(10_000);
    expect(parseDurationOption('1m30s', '--x')).toBe(90_000);
    expect(parseDurationOption('1.5s', '--x')).toBe(1_500);
    for (const bad of ['0ms', '-1s', '10', 'soon', '1000h'])
      expect(() => parseDurationOption(bad, '--handshake-timeout')).toThrow(/--handshake-timeout/);
    expect(formatDuration(10_000)).toBe('10s');
    expect(formatDuration(120_000)).toBe('2m');
    expect(formatDuration(1_500)).toBe('1500ms');
  });

  it('key suggestions come from the schema at the key’s own level', () => {
    expect(didYouMean(pluginV3Schema, 'configz')).toBe('configs');
    expect(didYouMean(pluginV3Schema, 'configs[0].secrt')).toBe('secret');
    expect(didYouMean(pluginV3Schema, 'plugin_versions.default.entrypoint.scrpt')).toBe('script');
    expect(didYouMean(pluginV3Schema, 'questions[0].subquestions[0].questions[1].regex')).toBe('regexp');
    expect(didYouMean(pluginV3Schema, 'completely_different')).toBeUndefined();
  });

  it('file mismatches: single line quoted, multi-line by first differing line', () => {
    expect(fileMismatch('f', 'a', 'b')).toEqual({ key: 'f', expected: '"a"', actual: '"b"' });
    expect(fileMismatch('f', 'a\nb\nc', 'a\nb')).toEqual({
      key: 'f line 3',
      expected: '"c"',
      actual: 'no line 3 (2 lines)',
    });
  });
});
