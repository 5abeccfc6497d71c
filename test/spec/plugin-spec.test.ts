import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTaskOnly } from '../../src/core/plugin.js';
import { errorsOf, warningsOf } from '../../src/core/problem.js';
import {
  checkUrnTemplate,
  loadPluginFile,
  loadPluginSet,
  loadPluginSpec,
} from '../../src/spec/plugin-spec.js';
import { FIXTURES, tempDir, v3Plugin } from '../helpers/temp-project.js';

const fixture = (p: string) => loadPluginFile(join(FIXTURES, p));

describe('upstream fixtures', () => {
  it('reads the raystack v1 sample plugin: multi-line script joined, mods kept', () => {
    const r = fixture('raystack-optimus/plugin_yaml_tests_sample_plugin.yaml');
    expect(errorsOf(r.problems)).toEqual([]);
    expect(r.dialect).toBe('v1');
    const p = r.plugin!;
    expect(p.name).toBe('bq2bqtest');
    expect(p.versions.default).toEqual({
      image: 'docker.io/raystack/optimus-task-bq2bq-executor',
      tag: 'latest',
      entrypoint: { shell: '/bin/bash', script: 'sleep 100; sleep 150' },
    });
    expect(p.hints.kind).toBe('task');
    expect(isTaskOnly(p)).toBe(true);
    expect(p.questions[0]).toMatchObject({ name: 'PROJECT', regexp: '^[a-zA-Z0-9_\\-]+$', minlength: 3 });
    expect(p.defaultConfig).toEqual({ TEST: '{{.test}}' });
    expect(p.defaultAssets['query.sql']).toContain('project.dataset.table');
  });

  it('defaults the shell to /bin/sh when a v1 entrypoint has none', () => {
    const r = fixture('raystack-optimus/plugin_yaml_tests_sample_plugin_without_shell.yaml');
    expect(r.plugin!.versions.default!.entrypoint).toEqual({ shell: '/bin/sh', script: 'sleep 100' });
  });

  it('names each missing field of an invalid v1 plugin', () => {
    const noVersion = fixture('raystack-optimus/plugin_yaml_tests_sample_plugin_without_version.yaml');
    expect(noVersion.plugin).toBeUndefined();
    expect(errorsOf(noVersion.problems).map((p) => [p.path, p.message, p.line])).toEqual([
      ['pluginversion', 'must not be empty', 6],
      ['image', 'must not be empty', 7],
    ]);
    const schemaInvalid = fixture('raystack-optimus/plugin_yaml_tests_sample_plugin_schema_invalid.yaml');
    expect(
      errorsOf(schemaInvalid.problems)
        .map((p) => p.path)
        .sort(),
    ).toEqual(['image', 'pluginversion']);
    // Releases before 0.7 had no entrypoint: a warning, not an error (see upstream-compat.test.ts).
    expect(warningsOf(schemaInvalid.problems).map((p) => p.code)).toContain('PLUGIN_ENTRYPOINT_MISSING');
  });

  it('accepts a plain-string entrypoint as the script, with a deprecation warning', () => {
    const r = fixture('raystack-optimus/dev_plugins_optimus-plugin-echo.yaml');
    expect(r.plugin!.versions.default!.entrypoint).toEqual({ shell: '/bin/sh', script: 'sleep 10' });
    expect(warningsOf(r.problems)).toMatchObject([
      { code: 'PLUGIN_DEPRECATED', path: 'entrypoint', line: 6 },
    ]);
  });

  it('reads the production bq2bq plugin with multiselect and subquestions', () => {
    const r = fixture('raystack-transformers/optimus-plugin-bq2bq.yaml');
    expect(errorsOf(r.problems)).toEqual([]);
    const load = r.plugin!.questions.find((q) => q.name === 'LOAD_METHOD')!;
    expect(load.multiselect).toContain('REPLACE_MERGE');
    expect(load.default).toBe('APPEND');
    expect(load.subquestions[0]!.ifvalue).toBe('REPLACE_MERGE');
    expect(load.subquestions[0]!.questions[0]).toMatchObject({ name: 'PARTITION_FILTER', required: true });
    expect(r.plugin!.versions.default).toMatchObject({
      image: 'docker.io/odpf/optimus-task-bq2bq-executor',
      tag: '0.3.2',
    });
    expect(r.plugin!.version).toBe('0.3.2');
  });

  it('reads the predator hook plugin: hooktype becomes a stage hint, macros kept verbatim', () => {
    const r = fixture('raystack-predator/optimus-plugin-predator.yaml');
    expect(errorsOf(r.problems)).toEqual([]);
    expect(r.plugin!.hints).toMatchObject({ kind: 'hook', stage: 'post' });
    expect(r.plugin!.defaultConfig.BQ_PROJECT).toBe('{{.TASK__PROJECT}}');
    expect(r.plugin!.defaultConfig.PREDATOR_URL).toBe('{{.GLOBAL__PREDATOR_HOST}}');
    expect(r.plugin!.questions[0]!.help).toContain('DATE(event_timestamp) < "{{ .DEND|Date }}"');
  });

  it.each([
    'plugin_tests_sample_plugin.yaml',
    'plugin_tests_sample_plugin_without_shell.yaml',
    'plugin_tests_sample_plugin_with_destination_template.yaml',
    'plugin_tests_sample_plugin_with_parser.yaml',
    'plugin_tests_sample_plugin_with_parser_and_destination_template.yaml',
    'plugin_tests_sample_plugin_with_parser_and_yamlpath_selector.yaml',
  ])('accepts the goto v2 plugin %s', (file) => {
    const r = fixture(`goto-optimus/${file}`);
    expect(errorsOf(r.problems)).toEqual([]);
    expect(r.dialect).toBe('v2');
  });

  it('keeps v2 multi-line scripts as one script and resolves version fallbacks', () => {
    const r = fixture('goto-optimus/plugin_tests_sample_plugin_with_parser_and_destination_template.yaml');
    const p = r.plugin!;
    expect(p.versions.default!.entrypoint!.script).toBe('sleep 100\nsleep 150');
    expect(p.versions['3.6']).toEqual({
      image: 'docker.io/goto/optimus-task-bq2bq-executor',
      tag: 'v0.3.5',
      entrypoint: { shell: '/bin/bash', script: 'sleep 100\nsleep 150' },
    });
    expect(p.destinationUrnTemplate).toBe('bigquery://<PROJECT>:<DATASET>.<TABLE>');
    expect(p.assetParsers).toEqual({ bq: [{ filepath: './query.sql' }] });
  });

  it.each([
    ['plugin_tests_sample_plugin_invalid.yaml', 'must be a YAML mapping'],
    ['plugin_tests_sample_plugin_schema_invalid.yaml', 'plugin_versions is required'],
    ['plugin_tests_sample_plugin_without_version.yaml', 'plugin_versions.default.image must not be empty'],
    ['plugin_tests_sample_plugin_with_unproper_destination_template.yaml', 'unclosed "<"'],
  ])('rejects the goto v2 plugin %s with a clear message', (file, message) => {
    const r = fixture(`goto-optimus/${file}`);
    expect(r.plugin).toBeUndefined();
    const text = errorsOf(r.problems).map((p) => `${p.path ? `${p.path} ` : ''}${p.message}`);
    expect(text.join('\n')).toContain(message);
    for (const p of errorsOf(r.problems)) expect(p.line).toBeGreaterThan(0);
  });
});

describe('v3 dialect', () => {
  it('normalises questions, configs, defaults, mods and the stage hint', () => {
    const r = loadPluginSpec(
      v3Plugin(
        'wh',
        `questions:
  - {name: TABLE, prompt: Table, required: true}
configs:
  - {name: TABLE, required: true}
  - {name: TOKEN, secret: true, required: true}
default_config: {BATCH: 500}
default_assets: {q.sql: select 1}
default_stage: pre
mods: [dependency_resolver]
`,
      ),
      'wh.yaml',
    );
    expect(r.problems).toEqual([]);
    expect(r.plugin).toMatchObject({
      dialect: 'v3',
      version: '1.0.0',
      configs: [
        { name: 'TABLE', required: true, secret: false },
        { name: 'TOKEN', required: true, secret: true },
      ],
      defaultConfig: { BATCH: '500' },
      defaultAssets: { 'q.sql': 'select 1' },
      mods: ['dependency_resolver'],
      hints: { stage: 'pre' },
    });
    expect(r.plugin!.versions.default!.entrypoint!.shell).toBe('/bin/sh');
  });

  it('rejects unknown keys in v3 but only warns in v1 and v2', () => {
    const v3 = loadPluginSpec(v3Plugin('a', 'colour: red\n'), 'a.yaml');
    expect(errorsOf(v3.problems)).toMatchObject([
      { code: 'PLUGIN_UNKNOWN_KEY', path: 'colour', line: 5, column: 1 },
    ]);
    const v2 = loadPluginSpec(
      'version: 2\nname: b\ncolour: red\nplugin_versions: {default: {image: i, tag: t, entrypoint: {script: s}}}\n',
      'b.yaml',
    );
    expect(v2.plugin).toBeDefined();
    expect(warningsOf(v2.problems)).toMatchObject([{ code: 'PLUGIN_UNKNOWN_KEY', path: 'colour', line: 3 }]);
  });

  it('warns about api_version, dry_run and secretpath in legacy files', () => {
    const r = loadPluginSpec(
      'name: a\nplugintype: hook\npluginversion: 1\nimage: i:1\nentrypoint: {script: s}\napiversion: [1]\ndry_run: true\nsecretpath: /x\n',
      'a.yaml',
    );
    expect(r.plugin).toBeDefined();
    expect(warningsOf(r.problems).map((p) => p.path)).toEqual(['apiversion', 'dry_run', 'secretpath']);
  });

  it('reports every problem of a file in one run, each with line and column', () => {
    const r = loadPluginSpec(
      `version: 3
name: bad name
plugin_versions:
  default: {image: "", tag: t, entrypoint: {script: s}}
questions:
  - {name: A, prompt: a, regexp: "([", minlength: 5, maxlength: 2}
  - {name: A, prompt: again}
configs:
  - {name: TOKEN, secret: true, default: hunter2}
`,
      'bad.yaml',
    );
    const errs = errorsOf(r.problems).map((p) => `${p.line}:${p.column} ${p.path}`);
    expect(errs).toEqual(expect.arrayContaining(['2:7 name', '4:20 plugin_versions.default.image']));
    expect(r.plugin).toBeUndefined();
  });

  it('checks question and config consistency once the shape is right', () => {
    const r = loadPluginSpec(
      v3Plugin(
        'a',
        `questions:
  - {name: A, prompt: a, regexp: "([", minlength: 5, maxlength: 2}
  - {name: A, prompt: again}
configs:
  - {name: TOKEN, secret: true, default: hunter2}
`,
      ),
      'a.yaml',
    );
    const codes = errorsOf(r.problems).map((p) => `${p.code} ${p.path}`);
    expect(codes).toEqual(
      expect.arrayContaining([
        'PLUGIN_INVALID questions[0].regexp',
        'PLUGIN_INVALID questions[0].minlength',
        'PLUGIN_DUPLICATE_QUESTION questions[1].name',
        'PLUGIN_SECRET_DEFAULT configs[0].default',
      ]),
    );
    expect(JSON.stringify(r.problems)).not.toContain('hunter2');
  });

  it('reports malformed YAML with its position instead of throwing', () => {
    const r = loadPluginSpec('version: 3\nname: [unclosed\n', 'x.yaml');
    expect(r.plugin).toBeUndefined();
    expect(errorsOf(r.problems)[0]).toMatchObject({ code: 'YAML_SYNTAX', file: 'x.yaml' });
    expect(errorsOf(r.problems)[0]!.line).toBeGreaterThan(0);
  });

  it('rejects an unsupported version', () => {
    const r = loadPluginSpec('version: 9\nname: a\n', 'x.yaml');
    expect(errorsOf(r.problems)).toMatchObject([{ code: 'PLUGIN_DIALECT_UNKNOWN', line: 1, column: 10 }]);
  });
});

describe('destination URN templates', () => {
  it.each([
    ['bigquery://<PROJECT>:<DATASET>.<TABLE>', undefined],
    ['bigquery://<PROJECT:<DATASET', 'unclosed'],
    ['bigquery://PROJECT>', 'without a matching'],
    ['<PROJECT>', 'scheme'],
    ['bq://<a b>', 'not a config name'],
  ])('%s', (t, expected) => {
    const err = checkUrnTemplate(t);
    if (expected === undefined) expect(err).toBeUndefined();
    else expect(err).toContain(expected);
  });
});

describe('plugin sets', () => {
  it('loads a directory and reports a name defined twice', () => {
    const dir = tempDir({
      'one.yaml': v3Plugin('same'),
      'two.yaml': v3Plugin('same'),
      'notes.txt': 'ignored',
    });
    const set = loadPluginSet([dir]);
    expect([...set.plugins.keys()]).toEqual(['same']);
    expect(errorsOf(set.problems)).toMatchObject([
      { code: 'PLUGIN_NAME_COLLISION', file: join(dir, 'two.yaml') },
    ]);
  });

  it('reports a missing path', () => {
    const set = loadPluginSet(['/nonexistent/plugins']);
    expect(errorsOf(set.problems)).toMatchObject([{ code: 'FILE_UNREADABLE', message: 'file not found' }]);
  });
});
