/**
 * Schedule intervals as upstream Optimus accepts them (robfig/cron's standard parser, then Airflow):
 * five fields (minute hour day-of-month month day-of-week) or one of the `@` descriptors. Problems
 * are explained in this project's words, naming the field, so a user never sees a parser's message.
 */

export const CRON_DESCRIPTORS = [
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
  '@once',
] as const;

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** `?` stands for "any" in the day fields only. */
  question?: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  // 7 is Sunday as well as 0, as in cron.
  { name: 'day-of-week', min: 0, max: 7, names: DAYS, question: true },
];

const FIELD_LIST = FIELDS.map((f) => f.name).join(' ');

/** Why `interval` is not a schedule this project runs, or undefined when it is one. */
export function cronProblem(interval: string): string | undefined {
  const text = interval.trim();
  if (text.startsWith('@')) {
    if ((CRON_DESCRIPTORS as readonly string[]).includes(text.toLowerCase())) return undefined;
    return `"${text}" is not a known schedule; use one of ${CRON_DESCRIPTORS.join(', ')}, or five cron fields`;
  }
  const parts = text.split(/\s+/).filter(Boolean);
  if (parts.length !== FIELDS.length) {
    return `has ${parts.length} field${parts.length === 1 ? '' : 's'}; a cron expression has 5: ${FIELD_LIST}`;
  }
  for (let i = 0; i < FIELDS.length; i++) {
    const problem = fieldProblem(parts[i]!, FIELDS[i]!);
    if (problem) return `${FIELDS[i]!.name} field "${parts[i]}": ${problem}`;
  }
  const [, , dom, month] = parts;
  if (impossibleDay(dom!, month!))
    return `day-of-month ${dom} never occurs in month ${month}, so it never runs`;
  return undefined;
}

function fieldProblem(text: string, f: Field): string | undefined {
  if (text === '?' && f.question) return undefined;
  for (const item of text.split(',')) {
    if (item === '') return 'has an empty list item';
    const [range, step, extra] = item.split('/');
    if (extra !== undefined) return `"${item}" has more than one "/"`;
    if (step !== undefined) {
      if (!/^\d+$/.test(step)) return `step "${step}" is not a whole number`;
      if (Number(step) === 0) return 'a step of 0 never advances';
      if (Number(step) > f.max) return `step ${step} is larger than the field's range ${f.min}–${f.max}`;
    }
    if (range === '*') continue;
    const bounds = range!.split('-');
    if (bounds.length > 2) return `"${range}" is not a value or a range a-b`;
    const values: number[] = [];
    for (const b of bounds) {
      const v = fieldValue(b, f);
      if (v === undefined) {
        return f.names
          ? `"${b}" is not a number ${f.min}–${f.max} or a name (${f.names[0]}…${f.names[f.names.length - 1]})`
          : `"${b}" is not a number ${f.min}–${f.max}`;
      }
      if (v < f.min || v > f.max) return `${v} is outside ${f.min}–${f.max}`;
      values.push(v);
    }
    if (values.length === 2 && values[0]! > values[1]!)
      return `range ${range} runs backwards (write the smaller value first)`;
  }
  return undefined;
}

function fieldValue(text: string, f: Field): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const i = f.names?.indexOf(text.toUpperCase()) ?? -1;
  if (i < 0) return undefined;
  return f === FIELDS[3] ? i + 1 : i;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A single explicit day that no listed month has (31 in February): the schedule never fires. */
function impossibleDay(dom: string, month: string): boolean {
  if (!/^\d+$/.test(dom) || month === '*' || month.includes('/')) return false;
  const months: number[] = [];
  for (const item of month.split(',')) {
    const [a, b = a] = item.split('-').map((x) => fieldValue(x, FIELDS[3]!)!);
    for (let m = a!; m <= b!; m++) months.push(m);
  }
  return months.every((m) => Number(dom) > DAYS_IN_MONTH[m - 1]!);
}

/**
 * The five cron fields each `@` descriptor stands for, for cron-parser: it knows some descriptors
 * under other names and `@midnight` not at all, while robfig/cron (upstream) reads all of these.
 * (`@once` has no fields: callers handle it.)
 */
export const DESCRIPTOR_FIELDS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
