import { CronExpressionParser } from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { CRON_DESCRIPTORS, cronProblem } from '../../src/core/cron.js';

describe('schedule intervals', () => {
  const valid = [
    '0 2 * * *',
    '*/15 * * * *',
    '0 0 1,15 * *',
    '30 4 1-7 * MON',
    '0 9 * JAN-MAR mon-fri',
    '0 0 * * 7',
    '5-55/10 0-23/2 ? * ?',
    '0 0 29 2 *',
    '  0 2 * * *  ',
  ];
  it.each(valid)('accepts %s, and the scheduler library can run it', (expr) => {
    expect(cronProblem(expr)).toBeUndefined();
    expect(() => CronExpressionParser.parse(expr.trim())).not.toThrow();
  });

  it.each([...CRON_DESCRIPTORS, '@DAILY'])('accepts the descriptor %s', (d) => {
    expect(cronProblem(d)).toBeUndefined();
  });

  it.each([
    ['0 2 * * 8', 'day-of-week field "8": 8 is outside 0–7'],
    ['61 * * * *', 'minute field "61": 61 is outside 0–59'],
    ['0 24 * * *', 'hour field "24": 24 is outside 0–23'],
    ['0 0 0 * *', 'day-of-month field "0": 0 is outside 1–31'],
    ['0 0 * 13 *', 'month field "13": 13 is outside 1–12'],
    ['0 2 * *', 'has 4 fields; a cron expression has 5: minute hour day-of-month month day-of-week'],
    ['0 0 2 * * *', 'has 6 fields; a cron expression has 5: minute hour day-of-month month day-of-week'],
    ['daily', 'has 1 field; a cron expression has 5: minute hour day-of-month month day-of-week'],
    ['*/0 * * * *', 'minute field "*/0": a step of 0 never advances'],
    ['*/x * * * *', 'minute field "*/x": step "x" is not a whole number'],
    ['*/90 * * * *', 'minute field "*/90": step 90 is larger than the field\'s range 0–59'],
    ['1/2/3 * * * *', 'minute field "1/2/3": "1/2/3" has more than one "/"'],
    ['5-1 * * * *', 'minute field "5-1": range 5-1 runs backwards (write the smaller value first)'],
    ['1-2-3 * * * *', 'minute field "1-2-3": "1-2-3" is not a value or a range a-b'],
    ['1,,2 * * * *', 'minute field "1,,2": has an empty list item'],
    ['? * * * *', 'minute field "?": "?" is not a number 0–59'],
    ['0 0 * FOO *', 'month field "FOO": "FOO" is not a number 1–12 or a name (JAN…DEC)'],
    ['0 0 L * *', 'day-of-month field "L": "L" is not a number 1–31'],
    ['0 2 31 2 *', 'day-of-month 31 never occurs in month 2, so it never runs'],
    ['0 2 30 FEB *', 'day-of-month 30 never occurs in month FEB, so it never runs'],
    ['@every 1h', '"@every 1h" is not a known schedule; use one of @yearly'],
  ])('refuses %s in its own words: %s', (expr, words) => {
    expect(cronProblem(expr)).toContain(words);
  });

  it('accepts a day that exists in at least one of the listed months', () => {
    expect(cronProblem('0 0 31 1-3 *')).toBeUndefined();
    expect(cronProblem('0 0 31 2,4 *')).toContain('never occurs');
    expect(cronProblem('0 0 31 */2 *')).toBeUndefined();
  });
});
