import { describe, expect, it } from 'vitest';
import { suggest } from '../../src/services/validate-project.js';

describe('did you mean', () => {
  const jobs = ['revenue-daily', 'campaign-performance', 'attribution', 'revenue-weekly'];

  it('offers the nearest names first, at most three', () => {
    expect(suggest('revenue-dialy', jobs)).toBe('did you mean revenue-daily, revenue-weekly?');
    expect(suggest('atribution', jobs)).toBe('did you mean attribution?');
    expect(suggest('a', ['b', 'c', 'd', 'e'])).toBe('did you mean b, c, d?');
  });

  it('lists the known names when none is close, and says when there are none', () => {
    expect(suggest('zzzzzzzz', jobs)).toBe(
      'known jobs: revenue-daily, campaign-performance, attribution, revenue-weekly',
    );
    const many = Array.from({ length: 12 }, (_, i) => `job-number-${i}`);
    expect(suggest('zzzzzzzzzzzzzzzzzz', many)).toMatch(/^known jobs: job-number-0, .*job-number-9, …$/);
    expect(suggest('x', [])).toBe('the project has no jobs');
  });

  it('copes with long names without building a large table', () => {
    const long = 'x'.repeat(5000);
    expect(suggest(long, [`${long}y`])).toBe(`did you mean ${long}y?`);
  });
});
