/** Turn zod issues into located problems with messages a user can act on. */
import type { z } from 'zod';
import type { PathSegment, Problem } from '../core/problem.js';
import { problemAt, type YamlSource } from './yaml-source.js';

export interface ShapeCheckOptions {
  /** Unknown keys are errors in strict dialects, warnings in legacy ones. */
  unknownKeys: 'error' | 'warning';
  /** Prefix for `code`, e.g. PLUGIN or JOB. */
  codePrefix: string;
  /** Prepended to every issue path (when validating a sub-tree). */
  basePath?: PathSegment[];
}

export function shapeProblems(
  schema: z.ZodType,
  value: unknown,
  src: Pick<YamlSource, 'file' | 'locate'>,
  opts: ShapeCheckOptions,
): Problem[] {
  const res = schema.safeParse(value);
  if (res.success) return [];
  const out: Problem[] = [];
  const base = opts.basePath ?? [];
  for (const issue of res.error.issues) {
    const path = [...base, ...(issue.path as PathSegment[])];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push(
          problemAt(
            src,
            [...path, key],
            opts.unknownKeys,
            `${opts.codePrefix}_UNKNOWN_KEY`,
            `unknown key "${key}"`,
            {
              key: true,
              hint:
                opts.unknownKeys === 'warning'
                  ? 'it is ignored; remove it or check its spelling'
                  : 'check its spelling',
            },
          ),
        );
      }
      continue;
    }
    out.push(
      problemAt(
        src,
        path,
        'error',
        `${opts.codePrefix}_INVALID`,
        describe(issue, valueAt(value, issue.path)),
      ),
    );
  }
  return out;
}

function describe(issue: z.core.$ZodIssue, actual: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (actual === undefined) return 'is required';
      if (issue.message && !issue.message.startsWith('Invalid input')) return issue.message;
      return `must be ${article(issue.expected)}, got ${typeName(actual)}`;
    case 'invalid_value':
      if (issue.message && !issue.message.startsWith('Invalid')) return issue.message;
      return `must be one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      if (actual === undefined) return 'is required';
      return issue.message.startsWith('Invalid input')
        ? `has the wrong type (${typeName(actual)})`
        : issue.message;
    case 'too_small':
      if (issue.origin === 'string' && issue.minimum === 1) return 'must not be empty';
      return issue.message;
    default:
      return issue.message;
  }
}

function article(t: string): string {
  if (t === 'array') return 'a list';
  if (t === 'object' || t === 'record') return 'a mapping';
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

export function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = value;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}
