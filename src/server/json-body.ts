/**
 * The one JSON body parser of the API. Before anything parses or walks a body it checks its nesting
 * depth on the raw text (a body nested thousands of levels deep would exhaust the stack of any
 * recursive code downstream: validation, hashing, storing). After parsing it refuses NUL characters
 * and lone surrogates, which neither PostgreSQL text nor jsonb can hold, naming the field.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatPath, type PathSegment } from '../core/problem.js';
import { ApiError } from './errors.js';

/** Deepest nesting of objects and arrays a request body may have; job specs need fewer than 10. */
export const MAX_JSON_DEPTH = 64;

/**
 * True when the JSON text opens more than `max` objects/arrays inside each other. Linear and without
 * recursion; strings are skipped with indexOf, so asset-heavy deploys cost a fraction of parsing.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // The closing quote is the next one not escaped, i.e. not after an odd run of backslashes.
      let end = i;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return false;
        let k = end - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((end - 1 - k) % 2 === 0) break;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Why PostgreSQL could not store this text (`NUL` or a lone UTF-16 surrogate, which neither text nor
 * jsonb accepts), or undefined when it can.
 */
export function unstorable(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return 'contains a NUL character';
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return 'contains a lone UTF-16 surrogate (not valid Unicode)';
    } else if (c >= 0xdc00 && c <= 0xdfff) return 'contains a lone UTF-16 surrogate (not valid Unicode)';
  }
  return undefined;
}

/** Path and reason of the first key or string the store could not hold, found without recursion. */
export function findUnstorable(value: unknown): { path: PathSegment[]; reason: string } | undefined {
  const stack: { v: unknown; path: PathSegment[] }[] = [{ v: value, path: [] }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      const reason = unstorable(v);
      if (reason) return { path, reason };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i] });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i]!;
        const reason = unstorable(k);
        // The key itself cannot be shown as is: JSON-escape it (NUL and surrogates become \uXXXX).
        if (reason)
          return { path: [...path, JSON.stringify(k).slice(1, -1)], reason: `has a key that ${reason}` };
        stack.push({ v: x, path: [...path, k] });
      }
    }
  }
  return undefined;
}

/** Only text that spells a NUL or a surrogate as an escape can hold one (UTF-8 decoding cannot). */
const MAY_BE_UNSTORABLE = /\\u(?:0000|[dD][89a-fA-F])/;

export function installJsonBodyParser(app: FastifyInstance): void {
  // Fastify's own parser (secure-json-parse: refuses __proto__ poisoning), behind the depth check.
  const parseJson = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (request: FastifyRequest, text: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
      const body = String(text);
      if (jsonDepthExceeds(body, MAX_JSON_DEPTH)) {
        done(
          new ApiError(
            400,
            'REQUEST_TOO_DEEP',
            `the request body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`,
            [{ path: 'body', message: `nesting deeper than ${MAX_JSON_DEPTH} levels` }],
            `flatten the data: at most ${MAX_JSON_DEPTH} levels of nesting are accepted`,
          ),
        );
        return;
      }
      parseJson(request, body, (err, parsed) => {
        if (err) return done(err);
        const bad = MAY_BE_UNSTORABLE.test(body) ? findUnstorable(parsed) : undefined;
        if (bad) {
          const path = formatPath(['body', ...bad.path]);
          return done(
            new ApiError(
              400,
              'REQUEST_INVALID',
              `${path} ${bad.reason}, which the server cannot store`,
              [{ path, message: bad.reason }],
              'remove the character from the value',
            ),
          );
        }
        done(null, parsed);
      });
    },
  );
}
