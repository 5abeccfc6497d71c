import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { addHookToYaml, newJobYaml } from '../../../src/cli/survey/job-file.js';
import { WINDOWS } from '../../../src/cli/survey/job-questions.js';
import { checkWindow } from '../../../src/core/window.js';

const hook = { name: 'audit', stage: 'post', config: { AUDIT_TABLE: 'a.b.c' }, placeholders: [] };

describe('job.yaml writing', () => {
  it('writes a version 3 job with a quoted start date and TODO comments on empty required configs', () => {
    const text = newJobYaml({
      name: 'events',
      owner: 'me',
      startDate: '2026-01-01',
      interval: '0 2 * * *',
      task: 'publish-event',
      config: { TOPIC: '' },
      window: { ...WINDOWS.daily },
      placeholders: [{ key: 'TOPIC', description: 'topic to publish to' }],
    });
    expect(text).toContain('start_date: "2026-01-01"');
    expect(text).toContain('TOPIC: "" # TODO: topic to publish to');
    expect(parse(text)).toMatchObject({ version: 3, hooks: [], labels: { orchestrator: 'optimus' } });
  });

  it('uses window presets that version 3 windows accept', () => {
    for (const w of Object.values(WINDOWS)) expect(checkWindow(3, { ...w }, null)).toEqual([]);
  });

  it('puts a new hooks list right after the task when the job has none', () => {
    const text = 'name: j # the job\ntask:\n  name: t\nlabels: {a: b}\n';
    expect(addHookToYaml(text, 'job.yaml', hook)).toBe(
      'name: j # the job\ntask:\n  name: t\nhooks:\n  - name: audit\n    stage: post\n    config:\n      AUDIT_TABLE: a.b.c\nlabels: {a: b}\n',
    );
  });

  it('turns the empty hooks: [] of a created job into a list, and appends to an existing one', () => {
    const once = addHookToYaml('task: {name: t}\nhooks: []\n', 'job.yaml', hook);
    expect(once).toBe(
      'task: {name: t}\nhooks:\n  - name: audit\n    stage: post\n    config:\n      AUDIT_TABLE: a.b.c\n',
    );
    const twice = addHookToYaml(once, 'job.yaml', {
      ...hook,
      name: 'audit-2',
      type: 'data-audit',
      depends_on: ['audit'],
      config: { AUDIT_TABLE: '' },
      placeholders: [{ key: 'AUDIT_TABLE', description: 'table to audit' }],
    });
    expect(twice).toContain(
      '  - name: audit-2\n    type: data-audit\n    stage: post\n    depends_on: [audit]\n    config:\n      AUDIT_TABLE: "" # TODO: table to audit\n',
    );
  });

  it('refuses a job whose hooks are not a list', () => {
    expect(() => addHookToYaml('hooks: nope\n', 'job.yaml', hook)).toThrow('job.yaml: hooks must be a list');
  });
});
