/**
 * The question engine. Each question is answered, in this order, by `--set`/`--answers`, by the
 * terminal when there is one, or by its default. Answers given up front follow the same rules as
 * typed ones. Without a terminal nothing is ever waited for: every question that has no answer is
 * collected and reported together at `finish()`, with every answer that broke a rule.
 */
import { OptimusError } from '../../core/errors.js';
import type { AnswerSet, AnswerValue } from './answers.js';
import type { Choice, Prompter } from './prompter.js';

export interface SurveyQuestion {
  /** Answer key (`--set NAME=…`). */
  name: string;
  message: string;
  help?: string;
  default?: string;
  /** A single choice among these. */
  choices?: Choice[];
  /** An empty answer is refused. Optional questions without an answer yield `undefined`. */
  required: boolean;
  /** Why a non-empty answer is refused, if it is. */
  check?: (value: string) => string | undefined;
}

export interface SurveyMultiQuestion {
  name: string;
  message: string;
  choices: Choice[];
  default?: string[];
  check?: (values: string[]) => string | undefined;
}

export interface Survey {
  readonly interactive: boolean;
  /** Whether the question was answered up front (`--set` / `--answers`). */
  has(name: string): boolean;
  ask(q: SurveyQuestion): Promise<string | undefined>;
  askMany(q: SurveyMultiQuestion): Promise<string[]>;
  /** Ask again after the server refused an answer; only on a terminal. */
  reask(q: SurveyQuestion, problem: string): Promise<string | undefined>;
  /** Questions that cannot even be listed yet (they depend on a missing answer). */
  pending(name: string, message: string): void;
  /** Show a line to a person at the terminal (nothing without one). */
  note(text: string): void;
  /** Throws one error listing every unanswered question and every refused answer. */
  finish(what: string): void;
  /** Answers given up front that no question used. */
  unused(): string[];
}

interface Gap {
  name: string;
  message: string;
}

export function createSurvey(opts: {
  answers: AnswerSet;
  /** Whether a person can be asked: a TTY on stdin and no `--yes`. */
  interactive: boolean;
  prompter?: Prompter;
}): Survey {
  const { answers, interactive, prompter } = opts;
  if (interactive && !prompter) throw new Error('an interactive survey needs a prompter');
  const used = new Set<string>();
  const missing: Gap[] = [];
  const invalid: Gap[] = [];

  const refuse = (name: string, message: string): undefined => {
    const gap = { name, message };
    // On a terminal a bad flag stops at once: asking the remaining questions first would waste them.
    if (interactive) throw answersError([], [gap], 'continue');
    invalid.push(gap);
    return undefined;
  };

  const problemOf = (q: SurveyQuestion, value: string): string | undefined => {
    if (value === '') return q.required ? 'an answer is required' : undefined;
    if (q.choices && !q.choices.some((c) => c.value === value))
      return `"${value}" is not one of: ${q.choices.map((c) => c.value).join(', ')}`;
    return q.check?.(value);
  };

  const prompt = async (q: SurveyQuestion, current?: string): Promise<string | undefined> => {
    const p = prompter!;
    const message = q.help ? `${q.message} (${q.help})` : q.message;
    const def = current ?? q.default;
    let value: string;
    if (q.choices) {
      value = await p.select({
        message,
        choices: q.choices,
        ...(def !== undefined && q.choices.some((c) => c.value === def) ? { default: def } : {}),
      });
    } else {
      value = (
        await p.input({
          message,
          ...(def !== undefined ? { default: def } : {}),
          validate: (v) => problemOf(q, v.trim()) ?? true,
        })
      ).trim();
    }
    return value === '' ? undefined : value;
  };

  const given = (name: string): AnswerValue | undefined => {
    const v = answers.get(name);
    if (v !== undefined) used.add(name);
    return v;
  };

  return {
    interactive,
    has: (name) => answers.has(name),
    async ask(q) {
      const v = given(q.name);
      if (v !== undefined) {
        if (Array.isArray(v)) return refuse(q.name, `expects one answer, not a list`);
        const value = v.trim();
        const problem = problemOf(q, value);
        if (problem) return refuse(q.name, problem);
        return value === '' ? undefined : value;
      }
      if (interactive) return prompt(q);
      if (q.default !== undefined) {
        // A default can clash too (a second hook of one plugin defaults to the same name).
        const problem = problemOf(q, q.default);
        return problem ? refuse(q.name, `the default "${q.default}" cannot be used: ${problem}`) : q.default;
      }
      if (q.required) missing.push({ name: q.name, message: q.message });
      return undefined;
    },
    async askMany(q) {
      const v = given(q.name);
      if (v !== undefined) {
        const values = (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
        const known = new Set(q.choices.map((c) => c.value));
        const unknown = values.filter((s) => !known.has(s));
        if (unknown.length) {
          refuse(
            q.name,
            `${unknown.map((s) => `"${s}"`).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not one of: ${[...known].join(', ') || '(none)'}`,
          );
          return [];
        }
        const problem = q.check?.(values);
        if (problem) {
          refuse(q.name, problem);
          return [];
        }
        return values;
      }
      if (interactive && q.choices.length) {
        return prompter!.checkbox({
          message: q.message,
          choices: q.choices,
          ...(q.default ? { default: q.default } : {}),
        });
      }
      return q.default ?? [];
    },
    async reask(q, problem) {
      if (!interactive) throw new Error('reask needs a terminal');
      prompter!.note(`✗ ${q.name}: ${problem}`);
      return prompt(q);
    },
    pending(name, message) {
      missing.push({ name, message });
    },
    note(text) {
      if (interactive) prompter!.note(text);
    },
    finish(what) {
      if (missing.length || invalid.length) throw answersError(missing, invalid, what);
    },
    unused: () => [...answers.keys()].filter((k) => !used.has(k)),
  };
}

/** One error for every unanswered question and refused answer, with the flags that fix them. */
export function answersError(missing: Gap[], invalid: Gap[], what: string): OptimusError {
  const lines: string[] = [];
  if (missing.length) {
    lines.push(
      `cannot ${what} without a terminal to ask on: ${missing.length === 1 ? '1 question has' : `${missing.length} questions have`} no answer:`,
    );
    for (const g of missing) lines.push(`  - ${g.name}: ${g.message}`);
  }
  if (invalid.length) {
    lines.push(`${invalid.length === 1 ? '1 answer is' : `${invalid.length} answers are`} not valid:`);
    for (const g of invalid) lines.push(`  - ${g.name}: ${g.message}`);
  }
  const names = [...missing, ...invalid].map((g) => g.name).filter((n) => !n.includes(' '));
  const example = names
    .slice(0, 3)
    .map((n) => `--set ${n}=<value>`)
    .join(' ');
  return new OptimusError(missing.length ? 'SURVEY_UNANSWERED' : 'SURVEY_ANSWER_INVALID', lines.join('\n'), {
    // A question left unanswered or answered against its rules is bad input, like a missing argument.
    category: 'usage',
    hint: `answer with ${example || '--set NAME=VALUE'} (repeatable), or put name: value lines in a file passed with --answers <file.yaml>`,
  });
}
