import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runOptimus } from '../helpers/cli.js';
import { serveForSuite } from '../helpers/serve-process.js';
import { EXAMPLE, EXAMPLE_PLUGINS, tempDir } from '../helpers/temp-project.js';

const PLUGINS = EXAMPLE_PLUGINS;
const server = serveForSuite();

/** The CLI without a terminal: stdin is a pipe, as in CI or a script. */
const optimus = (args: string[], cwd: string) => runOptimus(args, { cwd });

function exampleProject(): string {
  const dir = tempDir();
  cpSync(EXAMPLE, dir, { recursive: true });
  return dir;
}

const ORDERS = {
  namespace: 'finance',
  name: 'orders-daily',
  owner: 'finance-data@acme.example',
  task: 'warehouse-load',
  start_date: '2026-03-01',
  interval: '0 3 * * *',
  window: 'weekly',
  PROJECT: 'acme',
  DATASET: 'sales',
  TABLE: 'orders',
  LOAD_METHOD: 'REPLACE',
  PARTITION_FILTER: "dt = '{{ .DSTART | Date }}'",
};
const asSet = (answers: Record<string, string>) =>
  Object.entries(answers).flatMap(([k, v]) => ['--set', `${k}=${v}`]);

describe('job create without a terminal', () => {
  it('writes the same job.yaml from an answers file as from --set flags', () => {
    const a = exampleProject();
    const b = exampleProject();
    writeFileSync(
      join(a, 'answers.yaml'),
      Object.entries(ORDERS)
        .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
        .join('\n'),
    );
    const fromFile = optimus(
      ['job', 'create', '--answers', 'answers.yaml', '--host', server.url, '--json'],
      a,
    );
    expect(fromFile.stderr).toBe('');
    expect(fromFile.code).toBe(0);
    expect(fromFile.json()).toMatchObject({
      ok: true,
      file: 'finance/jobs/orders-daily/job.yaml',
      job: 'orders-daily',
      task: 'warehouse-load',
      assets: ['assets/query.sql'],
      secrets: ['WH_TOKEN'],
      placeholders: [],
    });
    const fromFlags = optimus(['job', 'create', ...asSet(ORDERS), '--host', server.url], b);
    expect(fromFlags.code).toBe(0);
    expect(fromFlags.stdout).toContain('created finance/jobs/orders-daily/job.yaml');

    const file = 'finance/jobs/orders-daily/job.yaml';
    const text = readFileSync(join(a, file), 'utf8');
    expect(readFileSync(join(b, file), 'utf8')).toBe(text);
    expect(parse(text)).toEqual({
      version: 3,
      name: 'orders-daily',
      owner: 'finance-data@acme.example',
      schedule: { start_date: '2026-03-01', interval: '0 3 * * *' },
      behavior: { depends_on_past: false },
      task: {
        name: 'warehouse-load',
        config: {
          PROJECT: 'acme',
          DATASET: 'sales',
          TABLE: 'orders',
          LOAD_METHOD: 'REPLACE',
          PARTITION_FILTER: "dt = '{{ .DSTART | Date }}'",
          BATCH_SIZE: '500',
          SQL_TYPE: 'STANDARD',
          WH_TOKEN: '{{ .secret.WH_TOKEN }}',
        },
        window: { size: '1w', truncate_to: 'w' },
      },
      hooks: [],
      dependencies: [],
      labels: { orchestrator: 'optimus' },
    });
    expect(readFileSync(join(a, 'finance/jobs/orders-daily/assets/query.sql'), 'utf8')).toContain('select 1');
    const valid = optimus(['job', 'validate', 'orders-daily', '--plugins', PLUGINS, '--json'], a);
    expect(valid.json().ok).toBe(true);
  });

  it('lists every unanswered question and writes nothing', () => {
    const dir = exampleProject();
    const r = optimus(
      ['job', 'create', '--set', 'namespace=finance', '--set', 'task=warehouse-load', '--host', server.url],
      dir,
    );
    expect(r.code).toBe(2);
    const listed = [...r.stderr.matchAll(/^ {2}- (\S+):/gm)].map((m) => m[1]);
    expect(listed).toEqual(['name', 'owner', 'PROJECT', 'DATASET', 'TABLE']);
    expect(r.stderr).toContain('without a terminal to ask on: 5 questions have no answer');
    expect(r.stderr).toMatch(/hint: answer with --set name=<value>/);
    expect(existsSync(join(dir, 'finance/jobs/orders-daily'))).toBe(false);
  });

  it('asks for the task plugin before its questions can be listed', () => {
    const r = optimus(['job', 'create', '--host', server.url, '--json'], exampleProject());
    expect(r.code).toBe(2);
    const { error } = r.json();
    expect(error.code).toBe('SURVEY_UNANSWERED');
    for (const q of ['namespace', 'name', 'owner', 'task', "the task plugin's own questions"])
      expect(error.message).toContain(q);
  });

  it('refuses an answer by flag that breaks the question, naming it', () => {
    const dir = exampleProject();
    const r = optimus(
      [
        'job',
        'create',
        ...asSet({ ...ORDERS, TABLE: 'Orders-2026', window: 'yearly' }),
        '--host',
        server.url,
      ],
      dir,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('2 answers are not valid');
    expect(r.stderr).toContain('- window: "yearly" is not one of: hourly, daily, weekly, monthly');
    expect(r.stderr).toContain('- TABLE: "Orders-2026": lower case and _ only');
    expect(existsSync(join(dir, 'finance/jobs/orders-daily'))).toBe(false);
  });

  it('refuses a job name that is already taken in the project', () => {
    const r = optimus(
      ['job', 'create', ...asSet({ ...ORDERS, name: 'revenue-daily' }), '--host', server.url],
      exampleProject(),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('- name: a job named "revenue-daily" already exists in this project');
  });

  it('writes required configs no question asks as empty TODOs that fail validation until filled', () => {
    const dir = exampleProject();
    const r = optimus(
      [
        'job',
        'create',
        ...asSet({ namespace: 'marketing', name: 'events', owner: 'me', task: 'publish-event' }),
        '--host',
        server.url,
        '--json',
      ],
      dir,
    );
    expect(r.code).toBe(0);
    expect(r.json().placeholders).toEqual(['TOPIC']);
    const file = join(dir, 'marketing/jobs/events/job.yaml');
    expect(readFileSync(file, 'utf8')).toContain('TOPIC: "" # TODO: topic to publish to');
    const before = optimus(['job', 'validate', 'events', '--plugins', PLUGINS, '--json'], dir).json();
    expect(before.ok).toBe(false);
    expect(before.jobs[0].errors).toMatchObject([{ code: 'CONFIG_MISSING', path: 'task.config.TOPIC' }]);
    writeFileSync(file, readFileSync(file, 'utf8').replace('TOPIC: ""', 'TOPIC: events.tables'));
    expect(optimus(['job', 'validate', 'events', '--plugins', PLUGINS], dir).code).toBe(0);
  });
});

describe('job addhook', () => {
  it('adds one plugin twice under two names, keeping the comments, and the job still validates', () => {
    const dir = exampleProject();
    const file = join(dir, 'finance/jobs/ledger-export/job.yaml');
    const original = readFileSync(file, 'utf8')
      .replace('task:\n', 'task: # the main step\n')
      .replace(
        '  config: {ENTRY: main.py}\n',
        '  # the script lives in assets/\n  config: {ENTRY: main.py}\n',
      )
      .concat('# end of file\n');
    writeFileSync(file, original);
    const add = (answers: Record<string, string>) =>
      optimus(['job', 'addhook', 'ledger-export', ...asSet(answers), '--host', server.url, '--json'], dir);

    const first = add({
      plugin: 'data-audit',
      hook_name: 'audit-rows',
      stage: 'pre',
      AUDIT_TABLE: 'acme.finance.ledger',
    });
    expect(first.code).toBe(0);
    expect(first.json()).toMatchObject({ ok: true, hook: 'audit-rows', type: 'data-audit', stage: 'pre' });
    const second = add({
      plugin: 'data-audit',
      hook_name: 'audit-nulls',
      depends_on: 'audit-rows',
      AUDIT_TABLE: 'acme.finance.ledger',
      MAX_NULL_RATIO: '0.01',
    });
    expect(second.code).toBe(0);
    const again = add({ plugin: 'data-audit', hook_name: 'audit-rows', AUDIT_TABLE: 'acme.finance.ledger' });
    expect(again.code).toBe(2);
    expect(again.json().error.message).toContain('hook_name: the job already has a hook named "audit-rows"');

    const text = readFileSync(file, 'utf8');
    for (const comment of [
      '# An upstream-style',
      '# the main step',
      '# the script lives in assets/',
      '# end of file',
    ])
      expect(text).toContain(comment);
    // Flow maps stay flow maps, quoting stays as written.
    expect(text).toContain('schedule: {start_date: "2025-06-01", interval: "0 6 * * 1"}');
    expect(text).toContain('  window: {size: 168h, offset: "0", truncate_to: w}');
    const { hooks: _, ...rest } = parse(text);
    expect(rest).toEqual(parse(original));
    const hooks = parse(text).hooks as Record<string, unknown>[];
    expect(hooks.slice(-2)).toEqual([
      {
        name: 'audit-rows',
        type: 'data-audit',
        stage: 'pre',
        config: { AUDIT_TABLE: 'acme.finance.ledger', MAX_NULL_RATIO: '0.05' },
      },
      {
        name: 'audit-nulls',
        type: 'data-audit',
        stage: 'post',
        depends_on: ['audit-rows'],
        config: { AUDIT_TABLE: 'acme.finance.ledger', MAX_NULL_RATIO: '0.01' },
      },
    ]);
    const valid = optimus(['job', 'validate', 'ledger-export', '--plugins', PLUGINS, '--json'], dir);
    expect(valid.json()).toMatchObject({ ok: true, summary: { errors: 0 } });
  });

  it('writes the hook name alone when it is the plugin, with its stage hint and secret reference', () => {
    const dir = exampleProject();
    const r = optimus(
      [
        'job',
        'addhook',
        'ledger-export',
        ...asSet({ plugin: 'slack-notify', CHANNEL: '#finance' }),
        '--host',
        server.url,
      ],
      dir,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('optimus secret set SLACK_TOKEN');
    const twice = optimus(
      [
        'job',
        'addhook',
        'ledger-export',
        ...asSet({ plugin: 'slack-notify', CHANNEL: '#finance' }),
        '--host',
        server.url,
      ],
      dir,
    );
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain(
      '- hook_name: the default "slack-notify" cannot be used: the job already has a hook named "slack-notify"',
    );
    const hook = (
      parse(readFileSync(join(dir, 'finance/jobs/ledger-export/job.yaml'), 'utf8')).hooks as Record<
        string,
        unknown
      >[]
    ).at(-1);
    expect(hook).toEqual({
      name: 'slack-notify',
      stage: 'post',
      config: {
        CHANNEL: '#finance',
        MESSAGE: '{{ .JOB_NAME }} finished',
        SLACK_TOKEN: '{{ .secret.SLACK_TOKEN }}',
      },
    });
  });

  it('refuses a hook that would close a cycle in the run order, before its questions, writing nothing', () => {
    const dir = exampleProject();
    const file = join(dir, 'finance/jobs/revenue-daily/job.yaml');
    const before = readFileSync(file, 'utf8');
    // A pre hook runs before the task, and audit-output (post) after it: pre after post is a cycle.
    const r = optimus(
      [
        'job',
        'addhook',
        'revenue-daily',
        '--yes',
        ...asSet({ plugin: 'data-audit', hook_name: 'pre-check', stage: 'pre', depends_on: 'audit-output' }),
        '--host',
        server.url,
        '--json',
      ],
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({
      ok: false,
      error: {
        code: 'HOOK_CYCLE',
        message: expect.stringContaining('hook "pre-check" cannot be added to job "revenue-daily"'),
        hint: 'the cycle runs through the task: a pre hook cannot run after a post or fail hook',
      },
    });
    // Refused before AUDIT_TABLE (the plugin's own question) was even missed.
    expect(r.stdout).not.toContain('AUDIT_TABLE');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('does not offer a task-only plugin as a hook', () => {
    const r = optimus(
      ['job', 'addhook', 'ledger-export', '--set', 'plugin=warehouse-load', '--host', server.url],
      exampleProject(),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /- plugin: "warehouse-load" is not one of: data-audit, publish-event, python-script, slack-notify/,
    );
  });

  it('names the closest jobs when the job is unknown', () => {
    const r = optimus(['job', 'addhook', 'ledger-exprt', '--host', server.url], exampleProject());
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('job "ledger-exprt" is not in any namespace');
    expect(r.stderr).toContain('did you mean ledger-export');
  });
});

describe('init', () => {
  it('writes a project by flags that job validate accepts, and a created job joins it', () => {
    const parent = tempDir();
    const r = optimus(
      [
        'init',
        '--dir',
        'acme',
        '--project',
        'acme',
        '--namespace',
        'sales',
        'ops',
        '--host',
        server.url,
        '--json',
      ],
      parent,
    );
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({
      ok: true,
      project: 'acme',
      namespaces: ['sales', 'ops'],
      plugins_dir: '.plugins',
    });
    const dir = join(parent, 'acme');
    expect(parse(readFileSync(join(dir, 'optimus.yaml'), 'utf8'))).toEqual({
      version: 1,
      host: server.url,
      project: { name: 'acme', config: {} },
      namespaces: [
        { name: 'sales', job: { path: 'sales/jobs' }, config: {} },
        { name: 'ops', job: { path: 'ops/jobs' }, config: {} },
      ],
      plugins: { install_location: '.plugins' },
    });
    expect(optimus(['job', 'validate', '--json'], dir).json()).toMatchObject({ ok: true, project: 'acme' });

    // The host written by init is where job create finds its plugins.
    const created = optimus(
      ['job', 'create', ...asSet({ namespace: 'ops', name: 'nightly', owner: 'ops', task: 'python-script' })],
      dir,
    );
    expect(created.code).toBe(0);
    expect(existsSync(join(dir, 'ops/jobs/nightly/assets/main.py'))).toBe(true);
    expect(optimus(['job', 'validate', '--plugins', PLUGINS, '--json'], dir).json()).toMatchObject({
      ok: true,
      summary: { jobs: 1 },
    });
  });

  it('refuses to overwrite optimus.yaml unless forced', () => {
    const dir = tempDir({ 'optimus.yaml': 'version: 1\nproject: {name: old}\n' });
    const r = optimus(['init', '--project', 'new', '--namespace', 'a'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('optimus.yaml already exists');
    expect(readFileSync(join(dir, 'optimus.yaml'), 'utf8')).toContain('old');
    expect(optimus(['init', '--project', 'new', '--namespace', 'a', '--force'], dir).code).toBe(0);
    expect(parse(readFileSync(join(dir, 'optimus.yaml'), 'utf8')).project.name).toBe('new');
  });

  it('lists the missing answers instead of waiting for a terminal', () => {
    const r = optimus(['init', '--project', 'x'], tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('- namespaces:');
  });
});
