import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTaskOnly } from '../../src/core/plugin.js';
import { errorsOf, warningsOf } from '../../src/core/problem.js';
import {
  checkUrnTemplate,
  isPluginSpecFile,
  loadPluginFile,
  loadPluginObject,
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

  it('reads the exec form (args) of an entrypoint, and a version that overrides the form', () => {
    const r = loadPluginSpec(
      `version: 3
name: exec
plugin_versions:
  default: {image: acme/exec, tag: "1.0", entrypoint: {args: [/app/run, --table, "$TABLE"]}}
  "0.9": {tag: "0.9", entrypoint: {script: old-run}}
  "1.1": {tag: "1.1"}
`,
      'exec.yaml',
    );
    expect(errorsOf(r.problems)).toEqual([]);
    expect(r.plugin!.versions).toEqual({
      default: {
        image: 'acme/exec',
        tag: '1.0',
        entrypoint: { shell: '/bin/sh', script: '', args: ['/app/run', '--table', '$TABLE'] },
      },
      '0.9': { image: 'acme/exec', tag: '0.9', entrypoint: { shell: '/bin/sh', script: 'old-run' } },
      '1.1': {
        image: 'acme/exec',
        tag: '1.1',
        entrypoint: { shell: '/bin/sh', script: '', args: ['/app/run', '--table', '$TABLE'] },
      },
    });
  });

  it.each([
    ['{}', 'plugin_versions.default.entrypoint', 'needs script (run by the shell) or args (run directly)'],
    [
      '{script: run, args: [run]}',
      'plugin_versions.default.entrypoint.args',
      'give script or args, not both',
    ],
    [
      '{shell: /bin/bash, args: [run]}',
      'plugin_versions.default.entrypoint.shell',
      'shell is used only with script',
    ],
    ['{args: []}', 'plugin_versions.default.entrypoint.args', ''],
  ])('refuses the entrypoint %s, naming the field', (entrypoint, path, message) => {
    const r = loadPluginSpec(
      `version: 3\nname: x\nplugin_versions:\n  default: {image: i, tag: t, entrypoint: ${entrypoint}}\n`,
      'x.yaml',
    );
    expect(r.plugin).toBeUndefined();
    expect(errorsOf(r.problems)).toEqual([
      expect.objectContaining({ path, message: expect.stringContaining(message) }),
    ]);
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

describe('plugin specs: what a user is told', () => {
  const v1 = (extra = '') =>
    `name: a\nplugintype: hook\npluginversion: "1"\nimage: docker.io/acme/a:2.0\nentrypoint: {script: run}\n${extra}`;

  it('says what it got when a spec is not a mapping, and where to look', () => {
    expect(loadPluginSpec('- a\n', 'x.yaml').problems).toEqual([
      {
        severity: 'error',
        code: 'PLUGIN_INVALID',
        message: 'a plugin spec must be a YAML mapping, got a list',
        file: 'x.yaml',
        line: 1,
        column: 1,
        hint: 'see `optimus plugin schema` for the expected shape',
      },
    ]);
    expect(loadPluginSpec('null\n', 'x.yaml').problems[0]!.message).toBe(
      'a plugin spec must be a YAML mapping, got null',
    );
    expect(loadPluginObject('text', 'handshake').problems[0]!.message).toBe(
      'a plugin spec must be a YAML mapping, got string',
    );
  });

  it('names an unsupported version and the ones that exist', () => {
    expect(loadPluginSpec('version: "4"\nname: a\n', 'x.yaml').problems).toEqual([
      {
        severity: 'error',
        code: 'PLUGIN_DIALECT_UNKNOWN',
        message: 'unsupported plugin spec version "4"',
        file: 'x.yaml',
        line: 1,
        column: 10,
        path: 'version',
        hint: 'use version: 3 (or 2); omit version only for legacy v1 files with plugintype/pluginversion/image',
      },
    ]);
  });

  it('reads version 2 and 3 written as strings, and a missing or empty version as v1', () => {
    expect(loadPluginSpec(v3Plugin('a').replace('version: 3', 'version: "3"'), 'a.yaml').dialect).toBe('v3');
    const v2 =
      'version: "2"\nname: b\nplugin_versions: {default: {image: i, tag: t, entrypoint: {script: s}}}\n';
    expect(loadPluginSpec(v2, 'b.yaml').dialect).toBe('v2');
    expect(loadPluginSpec(`version:\n${v1()}`, 'a.yaml').dialect).toBe('v1');
  });

  it('loads a spec that arrives as data, without positions', () => {
    const r = loadPluginObject(
      {
        version: 3,
        name: 'bin',
        plugin_versions: { default: { image: 'i', tag: 't', entrypoint: { script: 's' } } },
      },
      'bin (handshake)',
    );
    expect(r.problems).toEqual([]);
    expect(r.plugin).toMatchObject({ name: 'bin', source: 'bin (handshake)' });
    const bad = loadPluginObject({ version: 3, name: 'bin' }, 'bin (handshake)');
    expect(errorsOf(bad.problems)).toMatchObject([{ file: 'bin (handshake)', path: 'plugin_versions' }]);
    expect(errorsOf(bad.problems)[0]).not.toHaveProperty('line');
  });

  it('tells how to write a plain-string entrypoint the new way', () => {
    const r = loadPluginSpec(v1().replace('entrypoint: {script: run}', 'entrypoint: "run it"'), 'a.yaml');
    expect(r.problems).toEqual([
      {
        severity: 'warning',
        code: 'PLUGIN_DEPRECATED',
        message: 'a plain-string entrypoint is deprecated; it is used as the script',
        file: 'a.yaml',
        line: 5,
        column: 13,
        path: 'entrypoint',
        hint: 'write entrypoint: {shell: /bin/sh, script: "..."}',
      },
    ]);
  });

  it('warns about each deprecated key at the key, with why it is ignored', () => {
    const r = loadPluginSpec(v1('api_version: 1\n'), 'a.yaml');
    expect(r.problems).toEqual([
      {
        severity: 'warning',
        code: 'PLUGIN_DEPRECATED',
        message: 'api_version is no longer part of the plugin contract and is ignored',
        file: 'a.yaml',
        line: 6,
        column: 1,
        path: 'api_version',
      },
    ]);
    expect(r.plugin).toBeDefined();
  });
});

describe('plugin specs: the model a job is checked against', () => {
  it('reads a v1 plugin: image and tag, script lines, mods, hints and name/value defaults', () => {
    const r = loadPluginSpec(
      `name: legacy
description: Old one
plugintype: hook
pluginversion: 0.1
pluginmods: [Dependency-Resolver]
image: registry.local:5000/team/legacy:1.2
entrypoint:
  script: |
    first

    second
hooktype: pre
dependson: [audit]
questions: [{name: Q}]
defaultconfig: [{name: A, value: 1}, {name: B}]
defaultassets: [{name: q.sql, value: select 1}]
destination_urn_template: "bq://<Q>"
asset_parsers: {bq: [{filepath: ./q.sql}]}
`,
      'legacy.yaml',
    );
    expect(errorsOf(r.problems)).toEqual([]);
    expect(r.plugin).toEqual({
      name: 'legacy',
      description: 'Old one',
      dialect: 'v1',
      version: '0.1',
      versions: {
        default: {
          image: 'registry.local:5000/team/legacy',
          tag: '1.2',
          entrypoint: { shell: '/bin/sh', script: 'first; second' },
        },
      },
      questions: [{ name: 'Q', prompt: 'Q', required: false, subquestions: [] }],
      configs: [],
      defaultConfig: { A: '1', B: '' },
      defaultAssets: { 'q.sql': 'select 1' },
      destinationUrnTemplate: 'bq://<Q>',
      assetParsers: { bq: [{ filepath: './q.sql' }] },
      mods: ['dependency_resolver'],
      hints: { kind: 'hook', stage: 'pre', dependsOn: ['audit'] },
      source: 'legacy.yaml',
    });
  });

  it.each([
    ['docker.io/acme/a', 'docker.io/acme/a', ''],
    ['registry.local:5000/acme/a', 'registry.local:5000/acme/a', ''],
    ['a:latest', 'a', 'latest'],
  ])('splits the v1 image %s into image and tag', (ref, image, tag) => {
    const r = loadPluginSpec(
      `name: a\nplugintype: task\npluginversion: "1"\nimage: "${ref}"\nentrypoint: {script: s}\n`,
      'a.yaml',
    );
    expect(r.plugin!.versions.default).toMatchObject({ image, tag });
  });

  it('reads v1 pluginmods without the dependency resolver as no mods, and a v1 plugin without hints', () => {
    const r = loadPluginSpec(
      'name: a\nplugintype: task\npluginversion: "1"\nimage: i:1\nentrypoint: {script: s}\npluginmods: [cli]\n',
      'a.yaml',
    );
    expect(r.plugin!.mods).toEqual([]);
    expect(r.plugin!.hints).toEqual({ kind: 'task', dependsOn: [] });
  });

  it('fills named versions from the default version, field by field', () => {
    const r = loadPluginSpec(
      `version: 3
name: a
description: d
plugin_versions:
  default: {image: img, tag: "1", entrypoint: {shell: /bin/bash, script: run}}
  "2": {tag: "2"}
  "3": {image: other, entrypoint: {script: go}}
  "4": {entrypoint: {shell: /bin/zsh}}
`,
      'a.yaml',
    );
    expect(r.plugin!.description).toBe('d');
    expect(r.plugin!.versions).toEqual({
      default: { image: 'img', tag: '1', entrypoint: { shell: '/bin/bash', script: 'run' } },
      '2': { image: 'img', tag: '2', entrypoint: { shell: '/bin/bash', script: 'run' } },
      '3': { image: 'other', tag: '1', entrypoint: { shell: '/bin/bash', script: 'go' } },
      '4': { image: 'img', tag: '1', entrypoint: { shell: '/bin/zsh', script: 'run' } },
    });
  });

  it('reads every question field, with the name as the prompt when there is none', () => {
    const r = loadPluginSpec(
      v3Plugin(
        'q',
        `questions:
  - name: MODE
    prompt: Mode
    help: how to load
    default: A
    multiselect: [A, B]
    regexp: "^[AB]$"
    validationerror: A or B
    minlength: 1
    maxlength: 1
    required: true
    subquestions: [{ifvalue: B, questions: [{name: SUB, prompt: Sub}]}]
  - {name: BARE, prompt: Bare}
configs:
  - {name: MODE, description: load mode, default: A}
  - {name: TOKEN, secret: true, default: "{{ .secret.TOKEN }}"}
default_config: {TOKEN: "{{ .secret.TOKEN }}", N: 1}
destination_urn_template: "bq://<MODE>"
asset_parsers: {bq: [{filepath: ./q.sql}]}
`,
      ),
      'q.yaml',
    );
    expect(r.problems).toEqual([]);
    expect(r.plugin!.questions).toEqual([
      {
        name: 'MODE',
        prompt: 'Mode',
        help: 'how to load',
        default: 'A',
        multiselect: ['A', 'B'],
        regexp: '^[AB]$',
        validationerror: 'A or B',
        minlength: 1,
        maxlength: 1,
        required: true,
        subquestions: [
          { ifvalue: 'B', questions: [{ name: 'SUB', prompt: 'Sub', required: false, subquestions: [] }] },
        ],
      },
      { name: 'BARE', prompt: 'Bare', required: false, subquestions: [] },
    ]);
    expect(r.plugin!.configs).toEqual([
      { name: 'MODE', description: 'load mode', default: 'A', required: false, secret: false },
      { name: 'TOKEN', default: '{{ .secret.TOKEN }}', required: false, secret: true },
    ]);
    expect(r.plugin!.defaultConfig).toEqual({ TOKEN: '{{ .secret.TOKEN }}', N: '1' });
    expect(r.plugin!.destinationUrnTemplate).toBe('bq://<MODE>');
    expect(r.plugin!.assetParsers).toEqual({ bq: [{ filepath: './q.sql' }] });
    expect(r.plugin!.hints).toEqual({ dependsOn: [] });
    expect(r.plugin!.mods).toEqual([]);
  });

  it('reads a v2 plugin without v3-only fields', () => {
    const r = loadPluginSpec(
      'version: 2\nname: b\nplugin_versions: {default: {image: i, tag: 7, entrypoint: {script: s}}}\ndefault_config: {A: x}\n',
      'b.yaml',
    );
    expect(r.plugin).toMatchObject({
      dialect: 'v2',
      version: '7',
      questions: [],
      configs: [],
      defaultConfig: { A: 'x' },
      defaultAssets: {},
      mods: [],
      hints: { dependsOn: [] },
    });
    expect(r.plugin).not.toHaveProperty('destinationUrnTemplate');
    expect(r.plugin).not.toHaveProperty('assetParsers');
  });
});

describe('plugin specs: consistency checks', () => {
  const problems = (extra: string) =>
    loadPluginSpec(v3Plugin('a', extra), 'a.yaml').problems.map(
      (p) => `${p.severity} ${p.code} ${p.path}${p.line ? `@${p.line}` : ''}: ${p.message}`,
    );

  it('names where a question was first asked when a subquestion repeats it', () => {
    expect(
      problems(`questions:
  - {name: A, prompt: a, multiselect: [x, y], subquestions: [{ifvalue: x, questions: [{name: A, prompt: again}]}]}
`),
    ).toEqual([
      'error PLUGIN_DUPLICATE_QUESTION questions[0].subquestions[0].questions[0].name@6: question "A" is already asked at questions[0]',
    ]);
  });

  it('explains a regexp that does not compile, bounds that cross and a default that is not an option', () => {
    expect(
      problems(`questions:
  - {name: A, prompt: a, regexp: "(", minlength: 3, maxlength: 2}
  - {name: B, prompt: b, multiselect: [x, y], default: z}
`),
    ).toEqual([
      expect.stringMatching(/^error PLUGIN_INVALID questions\[0\]\.regexp@6: regexp does not compile: .+/),
      'error PLUGIN_INVALID questions[0].minlength@6: minlength 3 is greater than maxlength 2',
      'error PLUGIN_INVALID questions[1].default@7: default "z" is not one of the options',
    ]);
    expect(
      problems(
        'questions: [{name: A, prompt: a, minlength: 2, maxlength: 2, multiselect: [xy], default: xy}]\n',
      ),
    ).toEqual([]);
  });

  it('warns that subquestions behind an impossible answer are never asked', () => {
    expect(
      problems(`questions:
  - name: A
    prompt: a
    multiselect: [x]
    subquestions: [{ifvalue: x, questions: []}, {ifvalue: z, questions: []}]
  - {name: B, prompt: b, subquestions: [{ifvalue: anything, questions: []}]}
`),
    ).toEqual([
      'warning PLUGIN_UNREACHABLE_QUESTION questions[0].subquestions[1].ifvalue@9: ifvalue "z" is not one of the options, so these questions are never asked',
    ]);
  });

  it('refuses a config declared twice and a secret with a plain default, never printing the value', () => {
    const r = loadPluginSpec(
      v3Plugin(
        'a',
        `configs:
  - {name: A}
  - {name: A}
  - {name: TOKEN, secret: true, default: hunter2}
default_config: {TOKEN: hunter3, OTHER: plain}
`,
      ),
      'a.yaml',
    );
    expect(r.problems).toEqual([
      expect.objectContaining({
        code: 'PLUGIN_DUPLICATE_CONFIG',
        path: 'configs[1].name',
        line: 7,
        message: 'config "A" is declared twice',
      }),
      expect.objectContaining({
        code: 'PLUGIN_SECRET_DEFAULT',
        path: 'configs[2].default',
        line: 8,
        message: 'secret config "TOKEN" has a plain default value',
        hint: 'use a reference such as "{{ .secret.TOKEN }}" or remove the default',
      }),
      expect.objectContaining({
        code: 'PLUGIN_SECRET_DEFAULT',
        path: 'default_config.TOKEN',
        line: 9,
        message: 'secret config "TOKEN" has a plain default value',
        hint: 'use "{{ .secret.TOKEN }}"',
      }),
    ]);
    expect(JSON.stringify(r.problems)).not.toMatch(/hunter/);
  });

  it('checks the destination URN template of every dialect', () => {
    expect(problems('destination_urn_template: "bq://<a b>"\n')).toEqual([
      'error PLUGIN_INVALID destination_urn_template@5: destination_urn_template placeholder "<a b>" is not a config name',
    ]);
  });

  it('warns when a required config is asked by an optional question without a default', () => {
    expect(
      problems(`questions:
  - {name: A, prompt: a}
  - {name: B, prompt: b, default: x}
  - {name: C, prompt: c, required: true}
  - name: D
    prompt: d
    subquestions: [{ifvalue: y, questions: [{name: E, prompt: e}]}]
configs:
  - {name: A, required: true}
  - {name: B, required: true}
  - {name: C, required: true}
  - {name: D}
  - {name: E, required: true}
`),
    ).toEqual([
      'warning PLUGIN_QUESTION_OPTIONAL configs[0].required@13: config "A" is required but its question is optional',
      'warning PLUGIN_QUESTION_OPTIONAL configs[4].required@17: config "E" is required but its question is optional',
    ]);
    const r = loadPluginSpec(
      v3Plugin('a', 'questions: [{name: A, prompt: a}]\nconfigs: [{name: A, required: true}]\n'),
      'a.yaml',
    );
    expect(r.problems[0]!.hint).toBe('mark the question required too, so job create asks for it');
  });
});

describe('destination URN templates in detail', () => {
  it.each([
    ['bq://project.table', undefined],
    ['BQ+x.y-z://<A_1>', undefined],
    ['bq://<A>:<B>', undefined],
    ['1bq://<A>', 'destination_urn_template "1bq://<A>" must start with a scheme such as bigquery://'],
    ['bq:/<A>', 'destination_urn_template "bq:/<A>" must start with a scheme such as bigquery://'],
    [' bq://<A>', 'destination_urn_template " bq://<A>" must start with a scheme such as bigquery://'],
    ['bq://<A>>', 'destination_urn_template has a ">" without a matching "<" at character 9'],
    ['bq://x><A>', 'destination_urn_template has a ">" without a matching "<" at character 7'],
    ['bq://<A', 'destination_urn_template has an unclosed "<" at character 6'],
    ['bq://<A<B>', 'destination_urn_template has an unclosed "<" at character 6'],
    ['bq://<>', 'destination_urn_template placeholder "<>" is not a config name'],
    ['bq://<1A>', 'destination_urn_template placeholder "<1A>" is not a config name'],
    ['bq://<A-B>', 'destination_urn_template placeholder "<A-B>" is not a config name'],
    ['bq://<A> <B!>', 'destination_urn_template placeholder "<B!>" is not a config name'],
  ])('%s', (t, expected) => {
    expect(checkUrnTemplate(t)).toBe(expected);
  });
});

describe('plugin files and sets', () => {
  it('recognises .yaml and .yml files in any case', () => {
    expect(['a.yaml', 'a.yml', 'A.YAML', 'a.Yml'].map(isPluginSpecFile)).toEqual([true, true, true, true]);
    expect(['a.json', 'yaml', 'a.yaml.bak', 'a.yamlx'].map(isPluginSpecFile)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('loads files given one by one and directories without descending into sub-folders, sorted', () => {
    const dir = tempDir({
      'b.yml': v3Plugin('b'),
      'a.yaml': v3Plugin('a'),
      'sub/c.yaml': v3Plugin('c'),
      'notes.txt': 'ignored',
    });
    const single = tempDir({ 'x.yaml': v3Plugin('x') });
    const set = loadPluginSet([dir, join(single, 'x.yaml')]);
    expect(set.problems).toEqual([]);
    expect([...set.plugins.keys()]).toEqual(['a', 'b', 'x']);
    expect(set.results.map((r) => r.file)).toEqual([
      join(dir, 'a.yaml'),
      join(dir, 'b.yml'),
      join(single, 'x.yaml'),
    ]);
    expect(set.plugins.get('a')!.source).toBe(join(dir, 'a.yaml'));
  });

  it('says which file defined a plugin name first, and keeps that one', () => {
    const dir = tempDir({
      'one.yaml': v3Plugin('same', 'description: first\n'),
      'two.yaml': v3Plugin('same'),
    });
    const set = loadPluginSet([dir]);
    expect(set.problems).toEqual([
      {
        severity: 'error',
        code: 'PLUGIN_NAME_COLLISION',
        message: `plugin "same" is also defined in ${join(dir, 'one.yaml')}`,
        file: join(dir, 'two.yaml'),
        hint: 'plugin names must be unique; rename one of them',
      },
    ]);
    expect(set.plugins.get('same')!.description).toBe('first');
  });

  it('keeps the problems of a broken file and loads the others', () => {
    const dir = tempDir({ 'bad.yaml': 'version: 3\nname: bad\n', 'good.yaml': v3Plugin('good') });
    const set = loadPluginSet([dir]);
    expect([...set.plugins.keys()]).toEqual(['good']);
    expect(errorsOf(set.problems)).toMatchObject([{ file: join(dir, 'bad.yaml'), path: 'plugin_versions' }]);
  });

  it('says how to point at plugins when a path does not exist', () => {
    expect(loadPluginSet(['/nonexistent/plugins']).problems).toEqual([
      {
        severity: 'error',
        code: 'FILE_UNREADABLE',
        message: 'file not found',
        file: '/nonexistent/plugins',
        hint: 'check the path, or pass --plugins <dir>',
      },
    ]);
    expect(loadPluginFile('/nonexistent/a.yaml')).toMatchObject({
      file: '/nonexistent/a.yaml',
      problems: [{ code: 'FILE_UNREADABLE', file: '/nonexistent/a.yaml' }],
    });
    expect(loadPluginFile('/nonexistent/a.yaml').plugin).toBeUndefined();
  });
});

describe('plugin specs: nothing more than was written', () => {
  it('stops at a YAML syntax error, reporting it once', () => {
    const text = 'version: 3\nname: [unclosed\n';
    const r = loadPluginSpec(text, 'x.yaml');
    expect(r.problems.map((p) => p.code)).toEqual(['YAML_SYNTAX']);
    expect(r.dialect).toBeUndefined();
    const dir = tempDir({ 'x.yaml': text });
    const f = loadPluginFile(join(dir, 'x.yaml'));
    expect(f.problems.map((p) => p.code)).toEqual(['YAML_SYNTAX']);
    expect(f.dialect).toBeUndefined();
    expect(loadPluginFile(join(dir, 'missing.yaml')).problems).toEqual([
      {
        severity: 'error',
        code: 'FILE_UNREADABLE',
        message: 'cannot read plugin spec: file not found',
        file: join(dir, 'missing.yaml'),
      },
    ]);
  });

  it('does not warn about legacy keys in a v3 file, where they are simply unknown', () => {
    const r = loadPluginSpec(v3Plugin('a', 'api_version: 1\n'), 'a.yaml');
    expect(r.problems.map((p) => `${p.severity} ${p.code}`)).toEqual(['error PLUGIN_UNKNOWN_KEY']);
  });

  it('adds no questions, configs, defaults or optional fields that were not written', () => {
    const v3 = loadPluginSpec(v3Plugin('a'), 'a.yaml').plugin!;
    expect(v3).toStrictEqual({
      name: 'a',
      description: '',
      dialect: 'v3',
      version: '1.0.0',
      versions: {
        default: { image: 'docker.io/acme/a', tag: '1.0.0', entrypoint: { shell: '/bin/sh', script: 'run' } },
      },
      questions: [],
      configs: [],
      defaultConfig: {},
      defaultAssets: {},
      mods: [],
      hints: { dependsOn: [] },
      source: 'a.yaml',
    });
    const v1 = loadPluginSpec(
      'name: b\nplugintype: task\npluginversion: "1"\nimage: i:1\nentrypoint: {script: s}\n',
      'b.yaml',
    );
    expect(v1.plugin).toStrictEqual({
      name: 'b',
      description: '',
      dialect: 'v1',
      version: '1',
      versions: { default: { image: 'i', tag: '1', entrypoint: { shell: '/bin/sh', script: 's' } } },
      questions: [],
      configs: [],
      defaultConfig: {},
      defaultAssets: {},
      mods: [],
      hints: { kind: 'task', dependsOn: [] },
      source: 'b.yaml',
    });
  });

  it('reads a question without length limits as having none', () => {
    const r = loadPluginSpec(v3Plugin('a', 'questions: [{name: A, prompt: a}]\n'), 'a.yaml');
    expect(r.plugin!.questions).toStrictEqual([
      { name: 'A', prompt: 'a', required: false, subquestions: [] },
    ]);
  });

  it('trims each line of a v1 script before joining them', () => {
    const r = loadPluginSpec(
      'name: b\nplugintype: task\npluginversion: "1"\nimage: i:1\nentrypoint: {script: "  a  \\n\\n  b  "}\n',
      'b.yaml',
    );
    expect(r.plugin!.versions.default!.entrypoint!.script).toBe('a; b');
  });

  it('keeps an image reference that starts with a colon whole', () => {
    const r = loadPluginSpec(
      'name: b\nplugintype: task\npluginversion: "1"\nimage: ":x"\nentrypoint: {script: s}\n',
      'b.yaml',
    );
    expect(r.plugin!.versions.default).toMatchObject({ image: ':x', tag: '' });
  });

  it('warns, at the image key, that a v1 plugin without entrypoint runs the image’s own', () => {
    const r = loadPluginSpec('name: b\nplugintype: task\npluginversion: "1"\nimage: i:1\n', 'b.yaml');
    expect(r.problems).toEqual([
      {
        severity: 'warning',
        code: 'PLUGIN_ENTRYPOINT_MISSING',
        message:
          "no entrypoint: the image's own entrypoint will be used, so only a container executor can run this plugin (the process executor refuses it)",
        file: 'b.yaml',
        line: 4,
        column: 1,
        path: 'image',
        hint: 'add entrypoint: {shell: /bin/sh, script: "..."}',
      },
    ]);
  });

  it('reports question problems as errors and unreachable subquestions as warnings', () => {
    const r = loadPluginSpec(
      v3Plugin(
        'a',
        'questions: [{name: A, prompt: a, multiselect: [x], default: y, minlength: 3, maxlength: 1, subquestions: [{ifvalue: z, questions: [{name: A, prompt: b}]}]}]\n',
      ),
      'a.yaml',
    );
    expect(r.problems.map((p) => `${p.severity} ${p.path}`)).toEqual([
      'error questions[0].minlength',
      'error questions[0].default',
      'warning questions[0].subquestions[0].ifvalue',
      'error questions[0].subquestions[0].questions[0].name',
    ]);
  });

  it('loads the files of a directory in name order', () => {
    const names = ['m', 'c', 'z', 'a', 'q', 'f', 'x', 'b', 'k', 'd'];
    const dir = tempDir(Object.fromEntries(names.map((n) => [`${n}.yaml`, v3Plugin(n)])));
    expect([...loadPluginSet([dir]).plugins.keys()]).toEqual([...names].sort());
  });
});
