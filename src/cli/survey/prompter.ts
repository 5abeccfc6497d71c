/** The terminal side of a survey: @inquirer/prompts behind a small interface tests can replace. */
import { checkbox, input, select } from '@inquirer/prompts';
import { OptimusError } from '../../core/errors.js';

export interface Choice {
  value: string;
  /** What the list shows; default: the value. */
  label?: string;
  description?: string;
}

export interface Prompter {
  input(o: { message: string; default?: string; validate: (v: string) => string | true }): Promise<string>;
  select(o: { message: string; choices: Choice[]; default?: string }): Promise<string>;
  checkbox(o: { message: string; choices: Choice[]; default?: string[] }): Promise<string[]>;
  /** A line of text between questions, e.g. why an answer was refused by the server. */
  note(text: string): void;
}

/** Prompts on the terminal; with `toStderr` they leave stdout to `--json`. */
export function terminalPrompter(opts: { toStderr?: boolean } = {}): Prompter {
  const output = opts.toStderr ? process.stderr : process.stdout;
  const context = { output, clearPromptOnDone: false };
  const cancelled = (e: unknown): never => {
    if ((e as Error)?.name === 'ExitPromptError' || (e as Error)?.name === 'AbortPromptError') {
      throw new OptimusError('SURVEY_CANCELLED', 'cancelled: nothing was written', { category: 'usage' });
    }
    throw e;
  };
  return {
    input: (o) =>
      input(
        {
          message: o.message,
          ...(o.default !== undefined ? { default: o.default } : {}),
          validate: o.validate,
        },
        context,
      ).catch(cancelled),
    select: (o) =>
      select(
        {
          message: o.message,
          choices: o.choices.map((c) => ({
            value: c.value,
            name: c.label ?? c.value,
            ...(c.description ? { description: c.description } : {}),
          })),
          ...(o.default !== undefined ? { default: o.default } : {}),
          pageSize: 12,
        },
        context,
      ).catch(cancelled),
    checkbox: (o) =>
      checkbox(
        {
          message: o.message,
          choices: o.choices.map((c) => ({
            value: c.value,
            name: c.label ?? c.value,
            checked: o.default?.includes(c.value) ?? false,
          })),
          pageSize: 12,
        },
        context,
      ).catch(cancelled),
    note: (text) => output.write(`${text}\n`),
  };
}
