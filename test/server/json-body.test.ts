import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findUnstorable, jsonDepthExceeds } from '../../src/server/json-body.js';

/** Nesting depth of a parsed value: 0 for a scalar, 1 for a flat array or object. */
function depth(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...children.map(depth));
}

describe('the JSON depth check on raw text', () => {
  it('agrees with the depth of the parsed value, whatever strings hold', () => {
    const tricky = fc.constantFrom('[', ']', '{', '}', '"', '\\', '\\"', '\\\\', 'x');
    const text = fc.oneof(
      fc.string(),
      fc.array(tricky, { maxLength: 12 }).map((a) => a.join('')),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        text,
        fc.integer(),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(text, tie('node'), { maxKeys: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, fc.nat({ max: 6 }), (v, max) => {
        expect(jsonDepthExceeds(JSON.stringify(v), max)).toBe(depth(v) > max);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses a body nested a million levels deep at once, without parsing it', () => {
    expect(jsonDepthExceeds(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`, 64)).toBe(true);
    expect(jsonDepthExceeds('"unterminated [[[[', 1)).toBe(false);
  });
});

describe('text the store cannot hold', () => {
  it('is found in a key or a value, with its path: NUL and lone surrogates', () => {
    expect(findUnstorable({ a: [1, { b: 'x\u0000' }] })).toEqual({
      path: ['a', 1, 'b'],
      reason: 'contains a NUL character',
    });
    expect(findUnstorable({ a: { 'k\u0000': 1 } })).toEqual({
      path: ['a', 'k\\u0000'],
      reason: 'has a key that contains a NUL character',
    });
    for (const bad of ['\ud800', 'a\udc00', '\ud83d', 'x\udfff\ud800']) {
      expect(findUnstorable([bad])?.reason, JSON.stringify(bad)).toContain('lone UTF-16 surrogate');
    }
  });

  it('is not found in ordinary text, emoji included', () => {
    expect(findUnstorable({ a: ['ok', 'fine 💩', '\u0001\t'], b: 2, c: null })).toBeUndefined();
  });
});
