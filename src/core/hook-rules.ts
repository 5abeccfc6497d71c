/**
 * Project-level hook ordering rules: `"a >> b,c"` means hook `a` runs before `b` and `c`.
 * Chains (`a >> b >> c`) and lists on either side are allowed.
 */

export interface HookEdge {
  from: string;
  to: string;
}

export interface HookRule {
  /** The rule as written, for messages. */
  text: string;
  /** Index in the rules list, for locating it. */
  index: number;
  edges: HookEdge[];
}

export interface RuleParseError {
  index: number;
  message: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function parseHookRules(lines: readonly string[]): { rules: HookRule[]; errors: RuleParseError[] } {
  const rules: HookRule[] = [];
  const errors: RuleParseError[] = [];
  lines.forEach((text, index) => {
    const r = parseHookRule(text, index);
    if ('message' in r) errors.push(r);
    else rules.push(r);
  });
  return { rules, errors };
}

export function parseHookRule(text: string, index = 0): HookRule | RuleParseError {
  // Names are trimmed one by one below, which also covers the spaces around `>>`.
  const parts = text.split('>>');
  if (parts.length < 2)
    return { index, message: `rule "${text}" must look like "a >> b,c" (hook a runs before hooks b and c)` };
  const groups: string[][] = [];
  for (const part of parts) {
    const names = part.split(',').map((n) => n.trim());
    if (names.some((n) => n === '')) return { index, message: `rule "${text}" has an empty hook name` };
    const bad = names.find((n) => !NAME.test(n));
    if (bad) return { index, message: `rule "${text}": "${bad}" is not a valid hook name` };
    groups.push(names);
  }
  const edges: HookEdge[] = [];
  for (let i = 0; i + 1 < groups.length; i++) {
    for (const from of groups[i]!) {
      for (const to of groups[i + 1]!) {
        if (from === to) return { index, message: `rule "${text}" makes hook "${from}" run before itself` };
        edges.push({ from, to });
      }
    }
  }
  return { text, index, edges };
}

/** `depends_on` may be a list or a comma-separated string. */
export function splitDependsOn(v: string | readonly string[]): string[] {
  const items = typeof v === 'string' ? v.split(',') : v;
  return items.map((s) => s.trim()).filter(Boolean);
}
