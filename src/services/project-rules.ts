/**
 * Checks of a project's hook ordering rules as a whole, at registration: rules that contradict each
 * other (`a >> b` with `b >> a`, or a longer cycle) could never be satisfied by any job holding those
 * hooks, so they are refused; a name that is no plugin of this server is worth a warning (it may
 * be a hook's own name, or a typo).
 */
import type { HookRule } from '../core/hook-rules.js';

export interface RuleCycle {
  /** The hooks in order, first repeated last: `a → b → a`. */
  cycle: string[];
  /** Indexes of the rules whose edges make the cycle. */
  rules: number[];
}

export interface RuleWarning {
  index: number;
  name: string;
  message: string;
}

/** The first cycle the rules' edges make, or undefined. Iterative, so any number of rules is fine. */
export function findRuleCycle(rules: readonly HookRule[]): RuleCycle | undefined {
  const next = new Map<string, Map<string, number>>();
  for (const rule of rules) {
    for (const { from, to } of rule.edges) {
      const out = next.get(from) ?? new Map<string, number>();
      if (!out.has(to)) out.set(to, rule.index);
      next.set(from, out);
    }
  }
  const state = new Map<string, 'open' | 'done'>();
  for (const start of [...next.keys()].sort()) {
    if (state.has(start)) continue;
    const stack: { node: string; edges: [string, number][]; at: number }[] = [];
    const enter = (node: string) => {
      state.set(node, 'open');
      stack.push({ node, edges: [...(next.get(node) ?? new Map<string, number>())].sort(), at: 0 });
    };
    enter(start);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.at === top.edges.length) {
        state.set(top.node, 'done');
        stack.pop();
        continue;
      }
      const [to, ruleIndex] = top.edges[top.at++]!;
      const seen = state.get(to);
      if (seen === 'open') {
        const from = stack.findIndex((f) => f.node === to);
        const path = stack.slice(from);
        const ruleIndexes = path.map((f) => f.edges[f.at - 1]![1]);
        return {
          cycle: [...path.map((f) => f.node), to],
          rules: [...new Set(ruleIndexes.length ? ruleIndexes : [ruleIndex])].sort((a, b) => a - b),
        };
      }
      if (seen === undefined) enter(to);
    }
  }
  return undefined;
}

/** One warning per rule and name that is not a plugin this server has. */
export function unknownRuleNames(rules: readonly HookRule[], plugins: ReadonlySet<string>): RuleWarning[] {
  const out: RuleWarning[] = [];
  for (const rule of rules) {
    const names = new Set(rule.edges.flatMap((e) => [e.from, e.to]));
    for (const name of names) {
      if (plugins.has(name)) continue;
      out.push({
        index: rule.index,
        name,
        message: `rule "${rule.text}" names "${name}", which is not a plugin on this server: it orders only hooks named "${name}"`,
      });
    }
  }
  return out;
}
