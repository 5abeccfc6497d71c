import { describe, expect, it } from 'vitest';
import { checkConfigs } from '../../src/core/configs.js';
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
