// Large inputs. Kept apart from the behaviour tests: they are slow under mutation testing
// (stryker.config.mjs leaves this file out) and check scale, not logic.
import { describe, expect, it } from 'vitest';
import { renderString } from '../../../src/core/template/index.js';

const ctx = { TABLE: 'sales' };

describe('scale', () => {
  it('handles a large template in linear time and memory', () => {
    const line = 'select {{ .TABLE }} {{/* c */}} {{- " x" -}} {{ if .TABLE }}y{{ end }}\n';
    const text = line.repeat(10_000);
    const out = renderString(text, ctx, { maxOutputBytes: 64 * 1024 * 1024 }).output;
    expect(out.split('\n')).toHaveLength(10_000);
    expect(out.startsWith('select sales  xy\nselect sales  xy')).toBe(true);
    const plain = 'x'.repeat(5_000_000);
    expect(renderString(plain, {}).output).toHaveLength(5_000_000);
  });
});
