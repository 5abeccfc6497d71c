/**
 * The run graph of one job: every pre hook before the task, every post hook after it, fail hooks
 * after it on failure only; project rules and legacy plugin hints add edges between hooks; a hook's
 * own `depends_on` replaces the rules that target it. Pure: callers map issues to file positions.
 */
import type { HookRule } from './hook-rules.js';
import type { HookSpec } from './job.js';
import { type HookStage, isTaskOnly, type Plugin } from './plugin.js';

export type NodeStage = HookStage | 'task';

export interface RunNode {
  name: string;
  /** The plugin. */
  type: string;
  stage: NodeStage;
  /** Direct upstream nodes, in run order. */
  dependsOn: string[];
}

export interface GraphIssue {
  severity: 'error' | 'warning';
  code: string;
  message: string;
  /** Index of the hook in the job's `hooks`, when the issue is about one. */
  hookIndex?: number;
  field?: 'name' | 'type' | 'stage' | 'depends_on';
  /** Index into the project rules, when the issue is about one. */
  ruleIndex?: number;
  /** For task-level issues. */
  task?: boolean;
  hint?: string;
}

export interface RunGraphInput {
  task: { name: string };
  hooks: readonly HookSpec[];
  plugins: ReadonlyMap<string, Plugin>;
  rules?: readonly HookRule[];
}

export interface RunGraph {
  /** In run order; empty when the graph has a cycle. */
  nodes: RunNode[];
  issues: GraphIssue[];
}

const STAGE_RANK: Record<NodeStage, number> = { pre: 0, task: 1, post: 2, fail: 3 };

export function buildRunGraph(input: RunGraphInput): RunGraph {
  const issues: GraphIssue[] = [];
  const taskName = input.task.name;
  const taskPlugin = input.plugins.get(taskName);
  if (!taskPlugin) {
    issues.push({
      severity: 'error',
      code: 'PLUGIN_UNKNOWN',
      message: `task plugin "${taskName}" is not installed`,
      task: true,
      hint: knownHint(input.plugins),
    });
  }

  interface HookNode {
    hook: HookSpec;
    index: number;
    stage: HookStage;
    plugin: Plugin | undefined;
  }
  const hooks = new Map<string, HookNode>();
  input.hooks.forEach((hook, index) => {
    if (hooks.has(hook.name)) {
      issues.push({
        severity: 'error',
        code: 'HOOK_DUPLICATE',
        message: `hook name "${hook.name}" is used twice in this job`,
        hookIndex: index,
        field: 'name',
        hint: 'give each hook a unique name; set `type` to reuse a plugin',
      });
      return;
    }
    if (hook.name === taskName) {
      issues.push({
        severity: 'error',
        code: 'HOOK_NAME_CLASH',
        message: `hook name "${hook.name}" is the name of the task`,
        hookIndex: index,
        field: 'name',
        hint: 'rename the hook and set `type` to the plugin',
      });
      return;
    }
    const plugin = input.plugins.get(hook.type);
    if (!plugin) {
      issues.push({
        severity: 'error',
        code: 'PLUGIN_UNKNOWN',
        message: `hook plugin "${hook.type}" is not installed`,
        hookIndex: index,
        field: hook.type === hook.name ? 'name' : 'type',
        hint: knownHint(input.plugins),
      });
    } else if (isTaskOnly(plugin)) {
      issues.push({
        severity: 'error',
        code: 'PLUGIN_TASK_ONLY',
        message: `plugin "${plugin.name}" implements the dependency-resolver mod, so it can only be a task, not a hook`,
        hookIndex: index,
        field: hook.type === hook.name ? 'name' : 'type',
      });
    }
    hooks.set(hook.name, { hook, index, stage: hook.stage ?? plugin?.hints.stage ?? 'post', plugin });
  });

  // preds: node → (upstream → whether the job's own depends_on set that edge; rules yield to those)
  const preds = new Map<string, Map<string, boolean>>();
  const succs = new Map<string, Set<string>>();
  const all = [taskName, ...hooks.keys()];
  for (const n of all) {
    preds.set(n, new Map());
    succs.set(n, new Set());
  }
  const stageOf = (n: string): NodeStage => (n === taskName ? 'task' : hooks.get(n)!.stage);
  const addEdge = (from: string, to: string, byJob = false) => {
    if (!preds.get(to)!.has(from)) preds.get(to)!.set(from, byJob);
    succs.get(from)!.add(to);
  };
  const path = (from: string, to: string): string[] | undefined => {
    // Depth-first search for a path from → to along successors.
    const seen = new Set<string>();
    const walk = (n: string, acc: string[]): string[] | undefined => {
      if (n === to) return [...acc, n];
      if (seen.has(n)) return undefined;
      seen.add(n);
      for (const s of succs.get(n)!) {
        const p = walk(s, [...acc, n]);
        if (p) return p;
      }
      return undefined;
    };
    return walk(from, []);
  };
  const neverTogether = (a: string, b: string) => {
    const sa = stageOf(a);
    const sb = stageOf(b);
    return (sa === 'fail' && sb === 'post') || (sa === 'post' && sb === 'fail');
  };

  for (const { stage, hook } of hooks.values()) {
    if (stage === 'pre') addEdge(hook.name, taskName);
    else addEdge(taskName, hook.name);
  }

  // The job's own edges.
  let jobCycle = false;
  for (const { hook, index } of hooks.values()) {
    for (const dep of hook.dependsOn ?? []) {
      if (dep === hook.name) {
        issues.push({
          severity: 'error',
          code: 'HOOK_SELF_DEPENDENCY',
          message: `hook "${hook.name}" depends on itself`,
          hookIndex: index,
          field: 'depends_on',
        });
        continue;
      }
      if (!hooks.has(dep) && dep !== taskName) {
        const known = [...hooks.keys()].filter((n) => n !== hook.name);
        issues.push({
          severity: 'error',
          code: 'HOOK_UNKNOWN',
          message: `hook "${hook.name}" depends on "${dep}", which is not a hook of this job`,
          hookIndex: index,
          field: 'depends_on',
          hint: known.length ? `hooks in this job: ${known.join(', ')}` : 'this job has no other hooks',
        });
        continue;
      }
      if (neverTogether(dep, hook.name)) {
        issues.push({
          severity: 'error',
          code: 'HOOK_STAGE_CONFLICT',
          message: `hook "${hook.name}" (${stageOf(hook.name)}) cannot depend on "${dep}" (${stageOf(dep)}): post hooks run on success and fail hooks on failure, never both`,
          hookIndex: index,
          field: 'depends_on',
        });
        continue;
      }
      const back = path(hook.name, dep);
      addEdge(dep, hook.name, true);
      if (back && !jobCycle) {
        jobCycle = true;
        issues.push({
          severity: 'error',
          code: 'HOOK_CYCLE',
          message: `hook ordering has a cycle: ${[dep, ...back].join(' → ')}`,
          hookIndex: index,
          field: 'depends_on',
          hint: cycleHint([dep, ...back], taskName),
        });
      }
    }
  }
  if (jobCycle) return { nodes: [], issues };

  // Project rules, then legacy plugin hints: both yield to the job's own depends_on.
  const explicit = (n: string) => hooks.get(n)!.hook.dependsOn !== undefined;
  const pathHasJobEdge = (p: string[]) => {
    for (let i = 1; i < p.length; i++) if (preds.get(p[i]!)!.get(p[i - 1]!)) return true;
    return false;
  };
  let ruleCycle = false;
  for (const rule of input.rules ?? []) {
    for (const { from, to } of rule.edges) {
      if (!hooks.has(from) || !hooks.has(to) || explicit(to)) continue;
      if (neverTogether(from, to)) {
        issues.push({
          severity: 'warning',
          code: 'HOOK_RULE_DROPPED',
          message: `project rule "${rule.text}" is ignored for this job: "${from}" and "${to}" are a post and a fail hook, which never run together`,
          ruleIndex: rule.index,
        });
        continue;
      }
      const back = path(to, from);
      if (back) {
        const cycle = [from, ...back];
        if (pathHasJobEdge(back)) {
          issues.push({
            severity: 'warning',
            code: 'HOOK_RULE_DROPPED',
            message: `project rule "${rule.text}" is dropped for this job: it contradicts the job's depends_on (${cycle.join(' → ')})`,
            ruleIndex: rule.index,
          });
          continue;
        }
        if (!ruleCycle) {
          ruleCycle = true;
          issues.push({
            severity: 'error',
            code: 'HOOK_CYCLE',
            message: `project rule "${rule.text}" makes a cycle in this job: ${cycle.join(' → ')}`,
            ruleIndex: rule.index,
            hint: cycleHint(cycle, taskName),
          });
        }
        continue;
      }
      addEdge(from, to);
    }
  }
  if (ruleCycle) return { nodes: [], issues };

  for (const { hook, plugin } of hooks.values()) {
    if (!plugin || explicit(hook.name)) continue;
    for (const dep of plugin.hints.dependsOn) {
      const targets = hooks.has(dep)
        ? [dep]
        : [...hooks.values()].filter((h) => h.hook.type === dep).map((h) => h.hook.name);
      for (const from of targets) {
        if (from === hook.name || neverTogether(from, hook.name) || preds.get(hook.name)!.has(from)) continue;
        const back = path(hook.name, from);
        if (back) {
          issues.push({
            severity: 'warning',
            code: 'HOOK_HINT_DROPPED',
            message: `plugin "${plugin.name}" asks to run after "${from}", which would make a cycle (${[from, ...back].join(' → ')}); ignored`,
            hookIndex: hooks.get(hook.name)!.index,
          });
          continue;
        }
        addEdge(from, hook.name);
      }
    }
  }

  // Stable topological order: among ready nodes, earlier stage first, then declaration order.
  const rank = (n: string): [number, number] => {
    const h = hooks.get(n);
    // Stryker disable next-line all: equivalent, the task is never ready together with a hook (pre hooks run before it, the others after), so its rank is never compared
    if (!h) return [STAGE_RANK.task, -1];
    return [STAGE_RANK[h.stage], h.index];
  };
  const indegree = new Map(all.map((n) => [n, preds.get(n)!.size]));
  const ready = all.filter((n) => indegree.get(n) === 0);
  const order: string[] = [];
  while (ready.length) {
    ready.sort((a, b) => {
      const [sa, ia] = rank(a);
      const [sb, ib] = rank(b);
      return sa - sb || ia - ib;
    });
    const n = ready.shift()!;
    order.push(n);
    for (const s of succs.get(n)!) {
      const d = indegree.get(s)! - 1;
      indegree.set(s, d);
      if (d === 0) ready.push(s);
    }
  }
  const position = new Map(order.map((n, i) => [n, i]));
  const nodes: RunNode[] = order.map((n) => ({
    name: n,
    type: n === taskName ? taskName : hooks.get(n)!.hook.type,
    stage: stageOf(n),
    dependsOn: [...preds.get(n)!.keys()].sort((a, b) => position.get(a)! - position.get(b)!),
  }));
  return { nodes, issues };
}

function knownHint(plugins: ReadonlyMap<string, Plugin>): string {
  const names = [...plugins.keys()].sort();
  if (!names.length) return 'no plugins are installed; run `optimus plugin install` or pass --plugins <dir>';
  return `installed plugins: ${names.join(', ')}`;
}

function cycleHint(cycle: string[], taskName: string): string {
  if (cycle.includes(taskName))
    return 'the cycle runs through the task: a pre hook cannot run after a post or fail hook';
  return 'remove one of these edges';
}
