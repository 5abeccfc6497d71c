/**
 * The run graph of one job: every pre hook before the task, every post hook after it, fail hooks
 * after it on failure only; project rules and legacy plugin hints add edges between hooks; a hook's
 * own `depends_on` replaces the rules that target it. Pure: callers map issues to file positions.
 * Every edge says where it came from, and every rule or hint that did not become an edge says why,
 * so a reader can see the ordering decisions rather than guess them.
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

/** Where an edge came from: the stage order, a project rule, the job's `depends_on`, a plugin's legacy hint. */
export type EdgeOrigin = 'default' | 'rule' | 'depends_on' | 'legacy_hint';

export interface RunEdge {
  from: string;
  to: string;
  origin: EdgeOrigin;
  /** Index into the project's hook rules when `origin` is `rule`; null otherwise. */
  rule: number | null;
  /** One sentence for people, e.g. `hook notify depends_on audit`. */
  detail: string;
}

/** A project rule's edge (or a legacy hint's) that the builder did not add, and why. */
export interface DroppedRule {
  /** Index into the project's hook rules; null for a legacy plugin hint. */
  rule: number | null;
  from: string | null;
  to: string | null;
  reason: string;
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
  /** Every edge of `nodes` (one per `dependsOn` entry), in node order then `dependsOn` order. */
  edges: RunEdge[];
  /**
   * Rule and hint edges not added, in the order the builder decided. A rule naming no hook of the
   * job at all is not listed: it is about other jobs, not a decision about this one.
   */
  dropped: DroppedRule[];
  issues: GraphIssue[];
}

type EdgeSource = Omit<RunEdge, 'from' | 'to'>;

const DEFAULT_DETAIL: Record<HookStage, string> = {
  pre: 'pre hooks run before the task',
  post: 'post hooks run after the task succeeds',
  fail: 'fail hooks run after the task fails',
};

const STAGE_RANK: Record<NodeStage, number> = { pre: 0, task: 1, post: 2, fail: 3 };

export function buildRunGraph(input: RunGraphInput): RunGraph {
  const issues: GraphIssue[] = [];
  const dropped: DroppedRule[] = [];
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

  // preds: node → (upstream → where the edge came from; rules yield to the job's own depends_on).
  // An edge asked for twice keeps its first source: the stage order, then depends_on, rules, hints.
  const preds = new Map<string, Map<string, EdgeSource>>();
  const succs = new Map<string, Set<string>>();
  const all = [taskName, ...hooks.keys()];
  for (const n of all) {
    preds.set(n, new Map());
    succs.set(n, new Set());
  }
  const stageOf = (n: string): NodeStage => (n === taskName ? 'task' : hooks.get(n)!.stage);
  const addEdge = (from: string, to: string, source: EdgeSource) => {
    if (!preds.get(to)!.has(from)) preds.get(to)!.set(from, source);
    succs.get(from)!.add(to);
  };
  const byDefault = (stage: HookStage): EdgeSource => ({
    origin: 'default',
    rule: null,
    detail: DEFAULT_DETAIL[stage],
  });
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
    if (stage === 'pre') addEdge(hook.name, taskName, byDefault(stage));
    else addEdge(taskName, hook.name, byDefault(stage));
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
      addEdge(dep, hook.name, {
        origin: 'depends_on',
        rule: null,
        detail: `hook ${hook.name} depends_on ${dep}`,
      });
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
  if (jobCycle) return { nodes: [], edges: [], dropped, issues };

  // Project rules, then legacy plugin hints: both yield to the job's own depends_on.
  const explicit = (n: string) => hooks.get(n)!.hook.dependsOn !== undefined;
  const pathHasJobEdge = (p: string[]) => {
    for (let i = 1; i < p.length; i++)
      if (preds.get(p[i]!)!.get(p[i - 1]!)?.origin === 'depends_on') return true;
    return false;
  };
  let ruleCycle = false;
  for (const rule of input.rules ?? []) {
    const drop = (from: string, to: string, reason: string) =>
      dropped.push({ rule: rule.index, from, to, reason });
    for (const { from, to } of rule.edges) {
      const missing = [from, to].filter((n) => !hooks.has(n));
      if (missing.length === 1) drop(from, to, lacks(missing[0]!, taskName));
      if (missing.length) continue;
      if (explicit(to)) {
        drop(from, to, `hook ${to} sets its own depends_on, which replaces the project rules that order it`);
        continue;
      }
      if (neverTogether(from, to)) {
        drop(from, to, `${from} and ${to} are a post and a fail hook, which never run together`);
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
          drop(from, to, `it contradicts the job's depends_on (${cycle.join(' → ')})`);
          issues.push({
            severity: 'warning',
            code: 'HOOK_RULE_DROPPED',
            message: `project rule "${rule.text}" is dropped for this job: it contradicts the job's depends_on (${cycle.join(' → ')})`,
            ruleIndex: rule.index,
          });
          continue;
        }
        drop(from, to, `it makes a cycle (${cycle.join(' → ')})`);
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
      addEdge(from, to, {
        origin: 'rule',
        rule: rule.index,
        detail: `project rule ${rule.index} "${rule.text}": ${to} after ${from}`,
      });
    }
  }
  if (ruleCycle) return { nodes: [], edges: [], dropped, issues };

  for (const { hook, plugin } of hooks.values()) {
    if (!plugin) continue;
    const hint = `plugin ${plugin.name}'s legacy DependsOn hint`;
    const drop = (from: string, reason: string) => dropped.push({ rule: null, from, to: hook.name, reason });
    for (const dep of plugin.hints.dependsOn) {
      const targets = hooks.has(dep)
        ? [dep]
        : [...hooks.values()].filter((h) => h.hook.type === dep).map((h) => h.hook.name);
      for (const from of targets) {
        if (from === hook.name) continue;
        if (explicit(hook.name)) {
          drop(from, `${hint} is replaced by hook ${hook.name}'s own depends_on`);
          continue;
        }
        if (neverTogether(from, hook.name)) {
          drop(
            from,
            `${hint}: ${from} and ${hook.name} are a post and a fail hook, which never run together`,
          );
          continue;
        }
        if (preds.get(hook.name)!.has(from)) continue;
        const back = path(hook.name, from);
        if (back) {
          drop(from, `${hint} would make a cycle (${[from, ...back].join(' → ')})`);
          issues.push({
            severity: 'warning',
            code: 'HOOK_HINT_DROPPED',
            message: `plugin "${plugin.name}" asks to run after "${from}", which would make a cycle (${[from, ...back].join(' → ')}); ignored`,
            hookIndex: hooks.get(hook.name)!.index,
          });
          continue;
        }
        addEdge(from, hook.name, {
          origin: 'legacy_hint',
          rule: null,
          detail: `${hint}: ${hook.name} after ${from}`,
        });
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
  const edges = nodes.flatMap((n) =>
    n.dependsOn.map((from) => ({ from, to: n.name, ...preds.get(n.name)!.get(from)! })),
  );
  return { nodes, edges, dropped, issues };
}

/** Why a rule edge naming `name` does not apply to this job. */
function lacks(name: string, taskName: string): string {
  return name === taskName
    ? `${name} is this job's task, and project rules order hooks only`
    : `this job has no hook ${name}`;
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

/**
 * A run graph as a deploy stores it: its nodes in run order as runs read them
 * (`{name, type, stage, depends_on}`), each with its incoming `edges`; the task node also holds the
 * job's `dropped` rules. Kept a list of nodes so that every reader of stored graphs written before
 * edges were recorded reads these too.
 */
export interface StoredRunNode {
  name: string;
  type: string;
  stage: NodeStage;
  depends_on: string[];
  edges: RunEdge[];
  dropped?: DroppedRule[];
}

export function storedRunGraph(graph: Pick<RunGraph, 'nodes' | 'edges' | 'dropped'>): StoredRunNode[] {
  return graph.nodes.map((n) => ({
    name: n.name,
    type: n.type,
    stage: n.stage,
    depends_on: n.dependsOn,
    edges: graph.edges.filter((e) => e.to === n.name),
    ...(n.stage === 'task' ? { dropped: graph.dropped } : {}),
  }));
}

/** `unrecorded`: a graph stored before edges were, whose origin cannot be told from its nodes. */
export type ViewEdgeOrigin = EdgeOrigin | 'unrecorded';

export interface RunGraphView {
  nodes: { name: string; type: string; stage: NodeStage; depends_on: string[] }[];
  edges: (Omit<RunEdge, 'origin'> & { origin: ViewEdgeOrigin })[];
  dropped: DroppedRule[];
  /** False for a graph stored before edges were: `dropped` is then unknown, not empty. */
  origins_recorded: boolean;
}

export const UNRECORDED_DETAIL = 'deployed before edge origins were recorded; re-deploy to see them';

const STAGES: readonly NodeStage[] = ['pre', 'task', 'post', 'fail'];
const ORIGINS: readonly string[] = ['default', 'rule', 'depends_on', 'legacy_hint'];

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((d): d is string => typeof d === 'string') : [];
const record = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/**
 * The stored graph (see `storedRunGraph`) as clients read it. A graph stored before edges were
 * recorded gets its edges from `depends_on`: those between a hook and the task are the stage order
 * (the builder adds those first, so nothing else can have set them); the others are `unrecorded`.
 */
export function runGraphView(stored: unknown): RunGraphView {
  const entries = (Array.isArray(stored) ? stored : []).flatMap((e) => {
    const r = record(e);
    return r && typeof r.name === 'string' && STAGES.includes(r.stage as NodeStage) ? [r] : [];
  });
  const nodes = entries.map((r) => ({
    name: r.name as string,
    type: typeof r.type === 'string' ? r.type : (r.name as string),
    stage: r.stage as NodeStage,
    depends_on: strings(r.depends_on),
  }));
  const recorded = entries.length > 0 && entries.every((r) => Array.isArray(r.edges));
  if (recorded) {
    const edges = entries.flatMap((r) =>
      (r.edges as unknown[]).flatMap((e) => {
        const x = record(e);
        if (!x || typeof x.from !== 'string' || !ORIGINS.includes(x.origin as string)) return [];
        return [
          {
            from: x.from,
            to: r.name as string,
            origin: x.origin as EdgeOrigin,
            rule: typeof x.rule === 'number' ? x.rule : null,
            detail: typeof x.detail === 'string' ? x.detail : '',
          },
        ];
      }),
    );
    const task = entries.find((r) => r.stage === 'task');
    const dropped = (Array.isArray(task?.dropped) ? task.dropped : []).flatMap((d: unknown) => {
      const x = record(d);
      if (!x || typeof x.reason !== 'string') return [];
      const name = (v: unknown) => (typeof v === 'string' ? v : null);
      return [
        {
          rule: typeof x.rule === 'number' ? x.rule : null,
          from: name(x.from),
          to: name(x.to),
          reason: x.reason,
        },
      ];
    });
    return { nodes, edges, dropped, origins_recorded: true };
  }
  const stage = new Map(nodes.map((n) => [n.name, n.stage]));
  const edges = nodes.flatMap((n) =>
    n.depends_on.map((from) => {
      const hookStage =
        n.stage === 'task' ? stage.get(from) : stage.get(from) === 'task' ? n.stage : undefined;
      const byStage =
        hookStage !== undefined && hookStage !== 'task' && (hookStage === 'pre') === (n.stage === 'task');
      return byStage
        ? { from, to: n.name, origin: 'default' as const, rule: null, detail: DEFAULT_DETAIL[hookStage] }
        : { from, to: n.name, origin: 'unrecorded' as const, rule: null, detail: UNRECORDED_DETAIL };
    }),
  );
  return { nodes, edges, dropped: [], origins_recorded: false };
}
