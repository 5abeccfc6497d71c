/**
 * Answers given up front: an `--answers` YAML file (question name → answer) and repeatable
 * `--set NAME=VALUE` flags, which win over the file. Both answer built-in and plugin questions.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { OptimusError } from '../../core/errors.js';

/** One answer: a single value, or several for a multi-choice question (e.g. `depends_on`). */
export type AnswerValue = string | string[];
export type AnswerSet = Map<string, AnswerValue>;

/** Commander parser for a repeatable `--set KEY=VALUE`. */
export function collectSet(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function loadAnswers(opts: { answers?: unknown; set?: unknown }): AnswerSet {
  const out: AnswerSet = new Map();
  if (typeof opts.answers === 'string') {
    for (const [k, v] of Object.entries(readAnswersFile(opts.answers))) out.set(k, v);
  }
  for (const item of Array.isArray(opts.set) ? (opts.set as string[]) : []) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      throw new OptimusError('ANSWER_FLAG_INVALID', `--set "${item}" is not NAME=VALUE`, {
        category: 'usage',
        hint: 'write it as --set TABLE=orders (quote values holding spaces: --set "interval=0 2 * * *")',
      });
    }
    out.set(item.slice(0, eq).trim(), item.slice(eq + 1));
  }
  return out;
}

function readAnswersFile(file: string): Record<string, AnswerValue> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new OptimusError(
      'ANSWERS_UNREADABLE',
      `cannot read answers file ${file}: ${(e as Error).message}`,
      {
        category: 'usage',
        hint: 'pass a YAML file mapping question names to answers, e.g. `TABLE: orders`',
      },
    );
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (e) {
    throw new OptimusError(
      'ANSWERS_INVALID',
      `answers file ${file} is not valid YAML: ${(e as Error).message}`,
      {
        category: 'usage',
      },
    );
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new OptimusError('ANSWERS_INVALID', `answers file ${file} must be a YAML mapping of name: answer`, {
      category: 'usage',
      hint: 'e.g.\n  name: orders-daily\n  owner: data@acme.example\n  TABLE: orders',
    });
  }
  const out: Record<string, AnswerValue> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null || v === undefined) continue;
    if (Array.isArray(v)) out[k] = v.map(scalarText(file, k));
    else out[k] = scalarText(file, k)(v);
  }
  return out;
}

const scalarText = (file: string, key: string) => (v: unknown) => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new OptimusError('ANSWERS_INVALID', `answers file ${file}: the answer to ${key} must be text`, {
    category: 'usage',
  });
};
