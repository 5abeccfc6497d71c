import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../src/core/canonical-json.js';

/** The former hand-written canonical form: the package must produce the same text for JSON values. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(',')}}`;
}

describe('canonical JSON', () => {
  it('writes every JSON value exactly as the former implementation did, so stored hashes stay valid', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => canonicalJson(v) === reference(v)),
      { numRuns: 2000 },
    );
  });

  it('gives the same hash whatever the key order', () => {
    expect(contentHash({ a: 1, b: { d: [1, 2], c: 'x' } })).toBe(
      contentHash({ b: { c: 'x', d: [1, 2] }, a: 1 }),
    );
    expect(contentHash({ a: [1, 2] })).not.toBe(contentHash({ a: [2, 1] }));
  });

  it('keeps the hash a server computed before the switch to the package', () => {
    const job = {
      spec: {
        name: 'daily-load',
        version: 3,
        task: { name: 'warehouse-load', config: { TABLE: 't', N: 1.5, ok: true, none: null } },
        labels: { é: 'ü', a: '"q"\n' },
        hooks: [],
      },
      assets: { 'query.sql': 'select 1\n' },
    };
    expect(contentHash(job)).toBe('599a42ae3246295c046cd3e18f1ed7a4c84a9a004c980e164283c80367e524a7');
  });

  it('drops undefined fields and writes a lone undefined as null', () => {
    expect(canonicalJson({ a: undefined, b: [undefined] })).toBe('{"b":[null]}');
    expect(canonicalJson(undefined)).toBe('null');
  });
});
