import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAnswers } from '../../../src/cli/survey/answers.js';
import { createSurvey } from '../../../src/cli/survey/survey.js';
import { OptimusError } from '../../../src/core/errors.js';
import { tempDir } from '../../helpers/temp-project.js';
import { scriptedPrompter } from './scripted-prompter.js';

const owner = { name: 'owner', message: 'Owner', required: true };
const table = {
  name: 'TABLE',
  message: 'Target table',
  required: true,
  check: (v: string) => (/^[a-z_]+$/.test(v) ? undefined : `"${v}": lower case and _ only`),
};

describe('survey without a terminal', () => {
  it('takes defaults, skips optional questions and lists every question left unanswered', async () => {
    const survey = createSurvey({ answers: new Map(), interactive: false });
    expect(
      await survey.ask({ name: 'interval', message: 'Interval', default: '0 2 * * *', required: true }),
    ).toBe('0 2 * * *');
    expect(await survey.ask({ name: 'NOTE', message: 'Note', required: false })).toBeUndefined();
    expect(await survey.ask(owner)).toBeUndefined();
    expect(await survey.ask(table)).toBeUndefined();
    let error: unknown;
    try {
      survey.finish('create the job');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OptimusError);
    expect((error as OptimusError).category).toBe('usage');
    expect((error as OptimusError).message).toBe(
      'cannot create the job without a terminal to ask on: 2 questions have no answer:\n  - owner: Owner\n  - TABLE: Target table',
    );
    expect((error as OptimusError).hint).toContain('--set owner=<value> --set TABLE=<value>');
  });

  it('checks answers given by flag with the question’s own rules', async () => {
    const survey = createSurvey({
      answers: new Map([
        ['TABLE', 'Orders'],
        ['window', 'yearly'],
        ['owner', ' team '],
      ]),
      interactive: false,
    });
    await survey.ask(table);
    await survey.ask({
      name: 'window',
      message: 'Window',
      choices: [{ value: 'daily' }, { value: 'hourly' }],
      required: true,
    });
    expect(await survey.ask(owner)).toBe('team');
    expect(() => survey.finish('create the job')).toThrow(
      /2 answers are not valid:\n {2}- TABLE: "Orders": lower case and _ only\n {2}- window: "yearly" is not one of: daily, hourly/,
    );
  });

  it('reads a multi-choice answer from a comma-separated flag and refuses unknown choices', async () => {
    const choices = [{ value: 'audit' }, { value: 'quality' }];
    const ok = createSurvey({ answers: new Map([['depends_on', 'audit, quality']]), interactive: false });
    expect(await ok.askMany({ name: 'depends_on', message: 'After', choices })).toEqual(['audit', 'quality']);
    const bad = createSurvey({ answers: new Map([['depends_on', ['audit', 'ghost']]]), interactive: false });
    await bad.askMany({ name: 'depends_on', message: 'After', choices });
    expect(() => bad.finish('add the hook')).toThrow('- depends_on: "ghost" is not one of: audit, quality');
    const none = createSurvey({ answers: new Map(), interactive: false });
    expect(await none.askMany({ name: 'depends_on', message: 'After', choices })).toEqual([]);
  });

  it('reports answers that no question used', async () => {
    const survey = createSurvey({
      answers: new Map([
        ['owner', 'me'],
        ['TABEL', 'x'],
      ]),
      interactive: false,
    });
    await survey.ask(owner);
    expect(survey.unused()).toEqual(['TABEL']);
  });
});

describe('survey on a terminal', () => {
  it('asks what flags did not answer, and asks again until a rule is met', async () => {
    const { prompter, shown } = scriptedPrompter({ 'Target table': ['Bad-Table', 'orders'] });
    const survey = createSurvey({ answers: new Map([['owner', 'me']]), interactive: true, prompter });
    expect(await survey.ask(owner)).toBe('me');
    expect(await survey.ask(table)).toBe('orders');
    expect(shown).toEqual(['> "Bad-Table": lower case and _ only']);
  });

  it('stops at once on a bad answer given by flag', async () => {
    const { prompter } = scriptedPrompter({});
    const survey = createSurvey({ answers: new Map([['TABLE', 'X']]), interactive: true, prompter });
    await expect(survey.ask(table)).rejects.toThrow('- TABLE: "X": lower case and _ only');
  });
});

describe('answers from flags and files', () => {
  it('lets --set win over the answers file, and keeps lists', () => {
    const dir = tempDir({ 'a.yaml': 'TABLE: from_file\nOWNER: 42\ndepends_on: [a, b]\nEMPTY:\n' });
    const answers = loadAnswers({
      answers: join(dir, 'a.yaml'),
      set: ['TABLE=from_flag', 'interval=0 2 * * *'],
    });
    expect(Object.fromEntries(answers)).toEqual({
      TABLE: 'from_flag',
      OWNER: '42',
      depends_on: ['a', 'b'],
      interval: '0 2 * * *',
    });
  });

  it('refuses a --set without a name and an answers file that is not a mapping', () => {
    expect(() => loadAnswers({ set: ['=x'] })).toThrow('--set "=x" is not NAME=VALUE');
    const dir = tempDir();
    writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n');
    expect(() => loadAnswers({ answers: join(dir, 'list.yaml') })).toThrow('must be a YAML mapping');
  });
});
