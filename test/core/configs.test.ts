import { describe, expect, it } from 'vitest';
import { checkConfigs, effectiveConfig, pluginDefaults, questionProblem } from '../../src/core/configs.js';
import type { Plugin, Question } from '../../src/core/plugin.js';
import { loadPluginSpec } from '../../src/spec/plugin-spec.js';
import { v3Plugin } from '../helpers/temp-project.js';

const wh = loadPluginSpec(
  v3Plugin(
    'wh',
    `questions:
  - {name: TABLE, prompt: Table, regexp: '^[a-z_]+$', validationerror: lower case and _ only, maxlength: 10, required: true}
  - name: MODE
    prompt: Mode
    default: APPEND
    multiselect: [APPEND, REPLACE]
    subquestions:
      - ifvalue: REPLACE
        questions: [{name: FILTER, prompt: Filter, required: true, minlength: 3}]
configs:
  - {name: TABLE, required: true}
  - {name: TOKEN, description: warehouse credential, required: true, secret: true}
  - {name: REGION, required: true, default: eu}
`,
  ),
  'wh.yaml',
).plugin!;

const codes = (config: Record<string, string>) =>
  checkConfigs(wh, config, 'task').map((i) => `${i.code} ${i.key}`);

describe('mandatory configs', () => {
  it('accepts a complete config, with defaults filling what the job leaves out', () => {
    expect(codes({ TABLE: 'sales', TOKEN: '{{ .secret.TOKEN }}' })).toEqual([]);
  });

  it('reports every required config that is missing or empty, with a fix', () => {
    const issues = checkConfigs(wh, { TABLE: '  ' }, 'task');
    expect(issues.map((i) => `${i.code} ${i.key} ${i.present}`)).toEqual([
      'CONFIG_MISSING TABLE true',
      'CONFIG_MISSING TOKEN false',
    ]);
    expect(issues[1]!.message).toContain('warehouse credential');
    expect(issues[1]!.hint).toContain('{{ .secret.TOKEN }}');
  });

  it('rejects a secret given in plain text without ever echoing it', () => {
    const issues = checkConfigs(wh, { TABLE: 'sales', TOKEN: 'sk-live-0123456789' }, 'task');
    expect(issues.map((i) => i.code)).toEqual(['CONFIG_SECRET_PLAIN']);
    expect(JSON.stringify(issues)).not.toContain('sk-live');
  });

  it('accepts a secret reference with or without spaces', () => {
    expect(codes({ TABLE: 'sales', TOKEN: '{{.secret.TOKEN}}' })).toEqual([]);
    expect(codes({ TABLE: 'sales', TOKEN: '{{ .secret.OTHER_NAME }}' })).toEqual([]);
  });

  it("checks answers with their question's rules", () => {
    const issues = checkConfigs(wh, { TABLE: 'Sales', TOKEN: '{{ .secret.TOKEN }}', MODE: 'UPSERT' }, 'task');
    expect(issues.map((i) => i.message)).toEqual([
      'config TABLE: "Sales": lower case and _ only',
      'config MODE: "UPSERT" is not one of: APPEND, REPLACE',
    ]);
    expect(codes({ TABLE: 'much_too_long_name', TOKEN: '{{ .secret.TOKEN }}' })).toEqual([
      'CONFIG_INVALID TABLE',
    ]);
  });

  it('asks subquestions only when the answer matches their ifvalue', () => {
    const base = { TABLE: 'sales', TOKEN: '{{ .secret.TOKEN }}' };
    expect(codes({ ...base, MODE: 'APPEND' })).toEqual([]);
    expect(codes({ ...base, MODE: 'REPLACE' })).toEqual(['CONFIG_MISSING FILTER']);
    expect(codes({ ...base, MODE: 'REPLACE', FILTER: 'x' })).toEqual(['CONFIG_INVALID FILTER']);
    expect(codes({ ...base, MODE: 'REPLACE', FILTER: 'day = 1' })).toEqual([]);
  });

  it('does not check templated values, which are only known at run time', () => {
    expect(codes({ TABLE: '{{ .GLOBAL__TABLE }}', TOKEN: '{{ .secret.TOKEN }}' })).toEqual([]);
  });
});

function plugin(extra: Partial<Plugin>): Plugin {
  return {
    name: 'p',
    description: '',
    dialect: 'v3',
    version: '1',
    versions: { default: { image: 'p', tag: '1', entrypoint: { shell: '/bin/sh', script: 'run' } } },
    questions: [],
    configs: [],
    defaultConfig: {},
    defaultAssets: {},
    mods: [],
    hints: { dependsOn: [] },
    ...extra,
  };
}
const question = (name: string, extra: Partial<Question> = {}): Question => ({
  name,
  prompt: `${name} prompt`,
  required: false,
  subquestions: [],
  ...extra,
});

describe('config defaults', () => {
  it("fills what a job leaves out from default_config first, then each config's default", () => {
    const p = plugin({
      defaultConfig: { A: 'from default_config' },
      configs: [
        { name: 'A', required: false, secret: false, default: 'from the config' },
        { name: 'B', required: false, secret: false, default: 'b' },
        { name: 'C', required: false, secret: false },
      ],
    });
    expect(pluginDefaults(p)).toStrictEqual({ A: 'from default_config', B: 'b' });
    expect(effectiveConfig(p, { B: 'written', D: 'd' })).toEqual({
      A: 'from default_config',
      B: 'written',
      D: 'd',
    });
  });

  it('counts a default as present for a required config', () => {
    const p = plugin({ configs: [{ name: 'R', required: true, secret: false, default: 'x' }] });
    expect(checkConfigs(p, {}, 'hook')).toEqual([]);
  });
});

describe('config problems as a user reads them', () => {
  it('names the role and plugin, says whether the key was written, and how to fix it', () => {
    const p = plugin({
      configs: [
        { name: 'TABLE', required: true, secret: false },
        { name: 'TOKEN', required: true, secret: true, description: 'warehouse credential' },
      ],
    });
    expect(checkConfigs(p, { TABLE: '' }, 'hook')).toEqual([
      {
        severity: 'error',
        code: 'CONFIG_MISSING',
        message: 'hook plugin "p" requires config TABLE',
        key: 'TABLE',
        present: true,
        hint: 'add TABLE: <value> under config',
      },
      {
        severity: 'error',
        code: 'CONFIG_MISSING',
        message: 'hook plugin "p" requires config TOKEN (warehouse credential)',
        key: 'TOKEN',
        present: false,
        hint: 'add TOKEN: "{{ .secret.TOKEN }}" and store the value with `optimus secret set TOKEN`',
      },
    ]);
  });

  it('tells how to store a secret given in plain text, whether written or defaulted', () => {
    const p = plugin({ configs: [{ name: 'TOKEN', required: false, secret: true }] });
    const expected = {
      severity: 'error',
      code: 'CONFIG_SECRET_PLAIN',
      message:
        'config TOKEN is a secret and must be a reference like {{ .secret.TOKEN }}; the value given was not printed',
      key: 'TOKEN',
      present: true,
      hint: 'store the value with `optimus secret set TOKEN` and write TOKEN: "{{ .secret.TOKEN }}"',
    };
    expect(checkConfigs(p, { TOKEN: 'hunter2' }, 'task')).toEqual([expected]);
    const defaulted = plugin({ ...p, defaultConfig: { TOKEN: 'hunter2' } });
    expect(checkConfigs(defaulted, {}, 'task')).toEqual([{ ...expected, present: false }]);
    expect(checkConfigs(p, {}, 'task')).toEqual([]);
    expect(checkConfigs(p, { TOKEN: ' ' }, 'task')).toEqual([]);
  });

  it('asks for a required question once, even when a config of that name is also required', () => {
    const p = plugin({
      questions: [question('TABLE', { required: true }), question('MODE', { required: true })],
      configs: [{ name: 'TABLE', required: true, secret: false }],
    });
    expect(checkConfigs(p, { MODE: '\t' }, 'task')).toEqual([
      {
        severity: 'error',
        code: 'CONFIG_MISSING',
        message: 'task plugin "p" requires config TABLE',
        key: 'TABLE',
        present: false,
        hint: 'add TABLE: <value> under config',
      },
      {
        severity: 'error',
        code: 'CONFIG_MISSING',
        message: 'task plugin "p" requires config MODE (MODE prompt)',
        key: 'MODE',
        present: true,
        hint: 'add MODE: <value> under config',
      },
    ]);
  });

  it('says nothing about an optional question left out', () => {
    const p = plugin({ questions: [question('OPT', { minlength: 3 })] });
    expect(checkConfigs(p, {}, 'task')).toEqual([]);
  });

  it('shows a long answer shortened and never shows a secret answer', () => {
    const p = plugin({
      questions: [question('NAME', { maxlength: 5 }), question('TOKEN', { maxlength: 5 })],
      configs: [{ name: 'TOKEN', required: false, secret: true }],
    });
    const long = 'x'.repeat(61);
    const issues = checkConfigs(p, { NAME: long, TOKEN: 'hunter2' }, 'task');
    expect(issues).toEqual([
      expect.objectContaining({ code: 'CONFIG_SECRET_PLAIN', key: 'TOKEN' }),
      {
        severity: 'error',
        code: 'CONFIG_INVALID',
        message: `config NAME: "${'x'.repeat(57)}..." is longer than 5 characters`,
        key: 'NAME',
        present: true,
      },
      {
        severity: 'error',
        code: 'CONFIG_INVALID',
        message: 'config TOKEN: the value is longer than 5 characters',
        key: 'TOKEN',
        present: true,
      },
    ]);
    expect(JSON.stringify(issues)).not.toContain('hunter2');
    expect(checkConfigs(p, { NAME: 'x'.repeat(60) }, 'task')[0]!.message).toBe(
      `config NAME: "${'x'.repeat(60)}" is longer than 5 characters`,
    );
    // A secret question's answer is checked, but named only as "the value".
    const q = plugin({
      questions: [question('TOKEN', { maxlength: 5 })],
      configs: [{ name: 'TOKEN', required: false, secret: true }],
    });
    expect(checkConfigs(q, { TOKEN: '{{ .secret.TOKEN }}' }, 'task')).toEqual([]);
  });

  it('checks subquestions of a defaulted answer too', () => {
    const p = plugin({
      questions: [
        question('MODE', {
          default: 'REPLACE',
          subquestions: [{ ifvalue: 'REPLACE', questions: [question('FILTER', { required: true })] }],
        }),
      ],
      configs: [{ name: 'MODE', required: false, secret: false, default: 'REPLACE' }],
    });
    expect(checkConfigs(p, {}, 'task').map((i) => `${i.code} ${i.key}`)).toEqual(['CONFIG_MISSING FILTER']);
  });
});

describe('answer rules', () => {
  it.each([
    [{ multiselect: ['A', 'B'] }, 'C', '"C" is not one of: A, B'],
    [{ regexp: '^[a-z]+$' }, 'Sales', '"Sales" does not match ^[a-z]+$'],
    [{ regexp: '^[a-z]+$', validationerror: 'lower case only' }, 'Sales', '"Sales": lower case only'],
    [{ minlength: 3 }, 'ab', '"ab" is shorter than 3 characters'],
    [{ maxlength: 3 }, 'abcd', '"abcd" is longer than 3 characters'],
  ] as [Partial<Question>, string, string][])('%j refuses %j: %s', (rules, value, message) => {
    expect(questionProblem(question('Q', rules), value)).toBe(message);
  });

  it.each([
    [{ multiselect: ['A', 'B'] }, 'B'],
    [{ regexp: '^[a-z]+$' }, 'sales'],
    [{ regexp: '([' }, 'anything'],
    [{ minlength: 3 }, 'abc'],
    [{ maxlength: 3 }, 'abc'],
    [{ minlength: 0, maxlength: 0 }, ''],
    [{}, 'x'],
  ] as [Partial<Question>, string][])('%j accepts %j', (rules, value) => {
    expect(questionProblem(question('Q', rules), value)).toBeUndefined();
  });

  it('reports the first rule broken, in the order options, pattern, length', () => {
    const q = question('Q', { multiselect: ['AB'], regexp: '^x', minlength: 5 });
    expect(questionProblem(q, 'Z')).toBe('"Z" is not one of: AB');
    expect(questionProblem(question('Q', { regexp: '^x', minlength: 5 }), 'y')).toBe('"y" does not match ^x');
    expect(questionProblem(q, 'AB', 'the value')).toBe('the value does not match ^x');
  });
});
