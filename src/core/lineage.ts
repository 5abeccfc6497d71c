/**
 * Upstream resolution between jobs, pure: which jobs each job waits for, from what inference found
 * (a job reads a URN another job writes) and from the `dependencies` its spec declares. No I/O: the
 * store hands every job over as a `LineageRow` inside the deploy's transaction (see
 * store/lineage-store.ts) and writes back the lists `upstreamResolver` says changed.
 *
 * Decisions, in one place:
 * - One edge per (job, upstream job). An upstream both declared and inferred gets one edge of kind
 *   `static` (the user asked for it, so it holds whatever inference later finds), whose `via` lists
 *   the `dependencies[i]` entries first, then the matched URNs: `job inspect` can show both reasons,
 *   and the runner and replays never see the same upstream twice.
 * - Jobs are keyed `project/job` (job names are unique per project, and no name holds a `/`).
 * - Edges are sorted by upstream project then job; cycles start at their smallest job and are
 *   sorted; everything compares by UTF-16 code units, so the answer never depends on the locale or
 *   on the order the rows came in.
 * - A cycle is written in run order: `a → b → a` means b waits for a, a waits for b.
 */
import type { LineageRow, ResolveUpstreams, StaticDependency, UpstreamEdge } from '../store/lineage-store.js';
import { OptimusError } from './errors.js';

/** `project/job`: the key the store and the resolver use for a job. */
export const jobKey = (projectName: string, name: string): string => `${projectName}/${name}`;

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The static dependencies of a job spec (as deployed: `dependencies[].job`). `job` names a job of the
 * same project, `project/job` one of another project; an entry with only `http` (or anything that is
 * not a non-empty `job` string) is not a dependency between jobs and is skipped. Kept in step with
 * migration 0004, which computes the same for jobs stored before it.
 */
export function staticDependencies(spec: unknown): StaticDependency[] {
  if (spec === null || typeof spec !== 'object') return [];
  const deps = (spec as { dependencies?: unknown }).dependencies;
  if (!Array.isArray(deps)) return [];
  const out: StaticDependency[] = [];
  deps.forEach((d: unknown, index) => {
    if (d === null || typeof d !== 'object') return;
    const job = (d as { job?: unknown }).job;
    if (typeof job !== 'string' || job === '') return;
    const slash = job.indexOf('/');
    out.push(slash < 0 ? { job, index } : { project: job.slice(0, slash), job: job.slice(slash + 1), index });
  });
  return out;
}

/** A static dependency that names no job (the deploy warns; it is not an edge). */
export interface UnresolvedDependency {
  projectName: string;
  namespaceName: string;
  name: string;
  dependency: StaticDependency;
}

export interface Resolution {
  /** Every job's upstream edges, key `project/job`, each list sorted. */
  upstreams: Map<string, UpstreamEdge[]>;
  /** Sorted by job key, then dependency index. */
  unresolved: UnresolvedDependency[];
}

const edgeOrder = (a: UpstreamEdge, b: UpstreamEdge) => cmp(a.project, b.project) || cmp(a.job, b.job);

/**
 * Every job's upstreams. Inferred: jobs (any namespace, any project, never the job itself) whose
 * destination is one of its sources. Static: its `dependencies`, resolved by name in the named
 * project or its own. Linear in the rows and their sources (destinations are indexed in a Map).
 */
export function resolveUpstreams(rows: readonly LineageRow[]): Resolution {
  const byKey = new Map<string, LineageRow>();
  const writers = new Map<string, LineageRow[]>();
  // Built once and used twice: making and hashing the key strings showed up in profiles.
  const keys = rows.map((row) => jobKey(row.projectName, row.name));
  rows.forEach((row, i) => {
    byKey.set(keys[i]!, row);
    if (row.destination === null) return;
    const list = writers.get(row.destination);
    if (list) list.push(row);
    else writers.set(row.destination, [row]);
  });

  const upstreams = new Map<string, UpstreamEdge[]>();
  const unresolved: UnresolvedDependency[] = [];
  rows.forEach((row, r) => {
    // Per upstream job (rows are unique per job, so the row itself is the key): its static reasons
    // and inferred ones, merged into one edge below. Parallel arrays searched linearly: a job has a
    // handful of upstreams, and this loop runs for every job of every project on every deploy.
    const ups: LineageRow[] = [];
    const statics: string[][] = [];
    const urns: string[][] = [];
    // A job reading hundreds of tables gets an index instead, so no job costs quadratic time.
    let index: Map<LineageRow, number> | undefined;
    const slot = (up: LineageRow): number => {
      let i = index ? (index.get(up) ?? -1) : ups.indexOf(up);
      if (i < 0) {
        i = ups.push(up) - 1;
        statics.push([]);
        urns.push([]);
        if (index) index.set(up, i);
        else if (ups.length > 32) index = new Map(ups.map((u, k) => [u, k]));
      }
      return i;
    };
    for (const source of row.sources) {
      const list = writers.get(source);
      if (list) for (const up of list) if (up !== row) urns[slot(up)]!.push(source);
    }
    const deps =
      row.staticDependencies.length > 1
        ? [...row.staticDependencies].sort((a, b) => a.index - b.index)
        : row.staticDependencies;
    for (const dep of deps) {
      const up = byKey.get(jobKey(dep.project ?? row.projectName, dep.job));
      if (up) statics[slot(up)]!.push(`dependencies[${dep.index}]`);
      else
        unresolved.push({
          projectName: row.projectName,
          namespaceName: row.namespaceName,
          name: row.name,
          dependency: dep,
        });
    }
    const edges: UpstreamEdge[] = [];
    for (let i = 0; i < ups.length; i++) {
      const up = ups[i]!;
      const declared = statics[i]!;
      const read = urns[i]!;
      const inferred = read.length > 1 ? [...new Set(read)].sort(cmp) : read;
      edges.push({
        project: up.projectName,
        namespace: up.namespaceName,
        job: up.name,
        kind: declared.length ? 'static' : 'inferred',
        via: declared.length ? [...declared, ...inferred] : inferred,
      });
    }
    if (edges.length > 1) edges.sort(edgeOrder);
    upstreams.set(keys[r]!, edges);
  });
  unresolved.sort(
    (a, b) =>
      cmp(jobKey(a.projectName, a.name), jobKey(b.projectName, b.name)) ||
      a.dependency.index - b.dependency.index,
  );
  return { upstreams, unresolved };
}

/**
 * Every cycle of the graph (job key → its upstream edges), found with Tarjan's strongly connected
 * components: a component of two or more jobs, or one job that is its own upstream. Each is
 * returned as a closed walk in run order that passes through every job of the component, starting
 * and ending at its smallest job (`[a, b, a]`); a component with several loops is one walk, so
 * every job on any cycle is named exactly in one entry. Sorted by first job.
 */
export function findCycles(graph: ReadonlyMap<string, readonly UpstreamEdge[]>): string[][] {
  // Jobs as numbers, and run order: an edge from each upstream to the job that waits for it.
  const ids = new Map<string, number>();
  const keys: string[] = [];
  const next: number[][] = [];
  const id = (key: string) => {
    let n = ids.get(key);
    if (n === undefined) {
      n = keys.length;
      ids.set(key, n);
      keys.push(key);
      next.push([]);
    }
    return n;
  };
  for (const [key, edges] of graph) {
    const down = id(key);
    for (const e of edges) next[id(jobKey(e.project, e.job))]!.push(down);
  }

  // Iterative Tarjan: 10,000 jobs in a chain would overflow the stack if recursive.
  const n = keys.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  const nodes: number[] = [];
  const pos: number[] = [];
  for (let start = 0; start < n; start++) {
    if (index[start] !== -1) continue;
    nodes.push(start);
    pos.push(0);
    index[start] = low[start] = counter++;
    stack.push(start);
    onStack[start] = 1;
    while (nodes.length) {
      const v = nodes[nodes.length - 1]!;
      const succ = next[v]!;
      const i = pos[pos.length - 1]!;
      if (i < succ.length) {
        pos[pos.length - 1] = i + 1;
        const w = succ[i]!;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          nodes.push(w);
          pos.push(0);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v]!, index[w]!);
        }
        continue;
      }
      nodes.pop();
      pos.pop();
      if (nodes.length) {
        const parent = nodes[nodes.length - 1]!;
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] === index[v]) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          component.push(w);
        } while (w !== v);
        if (component.length > 1 || next[v]!.includes(v)) components.push(component);
      }
    }
  }
  return components
    .map((c) =>
      closedWalk(
        c.map((k) => keys[k]!),
        (key) => next[ids.get(key)!]!.map((k) => keys[k]!),
      ),
    )
    .sort((a, b) => cmp(a[0]!, b[0]!));
}

/**
 * A walk from the component's smallest job through all its jobs and back, each step along an edge:
 * from where it is, breadth-first to the nearest job not yet named (ties by name), then home. For a
 * simple cycle this is the cycle itself.
 */
function closedWalk(component: string[], following: (key: string) => string[]): string[] {
  const members = new Set(component);
  const sorted = new Map(component.map((k) => [k, following(k).sort(cmp)]));
  const next = (k: string) => sorted.get(k)!;
  const start = [...component].sort(cmp)[0]!;
  if (component.length === 1) return [start, start];
  const unseen = new Set(component);
  unseen.delete(start);
  const walk = [start];
  const pathTo = (from: string, done: (n: string) => boolean): string[] => {
    const prev = new Map<string, string>([[from, from]]);
    let frontier = [from];
    while (frontier.length) {
      const following: string[] = [];
      for (const n of frontier) {
        for (const m of next(n)) {
          if (!members.has(m) || prev.has(m)) continue;
          prev.set(m, n);
          if (done(m)) {
            const path = [m];
            for (let p = n; p !== from; p = prev.get(p)!) path.push(p);
            return path.reverse();
          }
          following.push(m);
        }
      }
      frontier = following;
    }
    // Unreachable inside a strongly connected component.
    return [];
  };
  let at = start;
  while (unseen.size) {
    const path = pathTo(at, (n) => unseen.has(n));
    for (const n of path) unseen.delete(n);
    walk.push(...path);
    at = walk[walk.length - 1]!;
  }
  walk.push(...pathTo(at, (n) => n === start));
  return walk;
}

const sameEdges = (a: readonly UpstreamEdge[], b: readonly UpstreamEdge[]): boolean =>
  a.length === b.length &&
  a.every((e, i) => {
    const f = b[i]!;
    return (
      e.project === f.project &&
      e.namespace === f.namespace &&
      e.job === f.job &&
      e.kind === f.kind &&
      e.via.length === f.via.length &&
      e.via.every((v, j) => v === f.via[j])
    );
  });

export interface UpstreamResolverOptions {
  /**
   * Keys (`project/job`) of the jobs this deploy adds or changes. When given, only a cycle through
   * one of them refuses the deploy: a cycle among jobs it does not touch (stored before cycles were
   * checked) is reported to `onCycles` and left for their own namespace's next deploy. Absent: every
   * cycle refuses.
   */
  touched?: ReadonlySet<string>;
  /** Static dependencies naming no job, for the deploy's warnings. */
  onUnresolved?: (unresolved: UnresolvedDependency[]) => void;
  /** The whole resolution (every job's edges), e.g. for `deploy --plan`. */
  onResolved?: (resolution: Resolution) => void;
  /** Cycles that did not refuse the deploy (see `touched`). */
  onCycles?: (cycles: string[][]) => void;
}

/** The `JOB_CYCLE` error for these cycles: the message names every job on every one. */
export function cycleError(cycles: readonly string[][]): OptimusError {
  const list = cycles.map((c) => c.join(' → '));
  return new OptimusError(
    'JOB_CYCLE',
    `jobs wait for each other in a cycle, so none of them could ever run: ${list.join('; ')}`,
    {
      category: 'invalid',
      hint: 'each arrow points from a job to one that waits for it (it reads what the job writes, or lists it under `dependencies`): remove one of those reads or dependencies, or mark a read table with /* @ignoreupstream */',
    },
  );
}

/**
 * The resolver a deploy hands to `Store.applyDeploy`: resolves every job, refuses a cycle with
 * `JOB_CYCLE`, and returns only the upstream lists that differ from the stored ones.
 */
export function upstreamResolver(opts: UpstreamResolverOptions = {}): ResolveUpstreams {
  return (rows) => {
    const resolution = resolveUpstreams(rows);
    const cycles = findCycles(resolution.upstreams);
    const touched = opts.touched;
    const refusing = touched ? cycles.filter((c) => c.some((k) => touched.has(k))) : cycles;
    if (refusing.length) throw cycleError(refusing);
    if (cycles.length) opts.onCycles?.(cycles);
    opts.onUnresolved?.(resolution.unresolved);
    opts.onResolved?.(resolution);
    const changed = new Map<string, UpstreamEdge[]>();
    for (const row of rows) {
      const key = jobKey(row.projectName, row.name);
      const edges = resolution.upstreams.get(key)!;
      if (!sameEdges(edges, row.upstreams)) changed.set(key, edges);
    }
    return changed;
  };
}

/**
 * The jobs that wait for `project/job` directly, as edges naming the downstream job (with the kind
 * and reasons of its edge), from the stored upstreams. Sorted by project, then job.
 */
export function downstreamsOf(
  rows: readonly LineageRow[],
  projectName: string,
  name: string,
): UpstreamEdge[] {
  const out: UpstreamEdge[] = [];
  for (const row of rows) {
    const edge = row.upstreams.find((e) => e.project === projectName && e.job === name);
    if (edge)
      out.push({
        project: row.projectName,
        namespace: row.namespaceName,
        job: row.name,
        kind: edge.kind,
        via: edge.via,
      });
  }
  return out.sort(edgeOrder);
}

/**
 * Every job downstream of `project/job`, transitively, in an order where each job comes after all
 * of its upstreams among them (ties by key). Keys `project/job`; the job itself is not included.
 * Stored data has no cycles (deploys refuse them); if one is there anyway, its jobs come last.
 */
export function allDownstreams(rows: readonly LineageRow[], projectName: string, name: string): string[] {
  const waiting = new Map<string, string[]>();
  for (const row of rows) {
    for (const e of row.upstreams) {
      const up = jobKey(e.project, e.job);
      const list = waiting.get(up);
      if (list) list.push(jobKey(row.projectName, row.name));
      else waiting.set(up, [jobKey(row.projectName, row.name)]);
    }
  }
  const root = jobKey(projectName, name);
  const reached = new Set<string>();
  const queue = [root];
  while (queue.length) {
    for (const d of waiting.get(queue.pop()!) ?? []) {
      if (d !== root && !reached.has(d)) {
        reached.add(d);
        queue.push(d);
      }
    }
  }
  // Kahn's algorithm over the reached jobs; in-degrees count only upstreams that are themselves reached.
  const indegree = new Map<string, number>([...reached].map((k) => [k, 0]));
  for (const k of reached)
    for (const d of waiting.get(k) ?? []) if (reached.has(d)) indegree.set(d, indegree.get(d)! + 1);
  const ready = [...reached].filter((k) => indegree.get(k) === 0).sort(cmp);
  const order: string[] = [];
  while (ready.length) {
    const k = ready.shift()!;
    order.push(k);
    const freed: string[] = [];
    for (const d of waiting.get(k) ?? []) {
      if (!reached.has(d)) continue;
      const n = indegree.get(d)! - 1;
      indegree.set(d, n);
      if (n === 0) freed.push(d);
    }
    ready.push(...freed);
    ready.sort(cmp);
  }
  if (order.length < reached.size) order.push(...[...reached].filter((k) => !order.includes(k)).sort(cmp));
  return order;
}

/** The sources of `row` that no job in `rows` writes (shown as external, never an error). */
export function externalSources(row: LineageRow, rows: readonly LineageRow[]): string[] {
  const written = new Set<string>();
  for (const r of rows) if (r.destination !== null) written.add(r.destination);
  return row.sources.filter((s) => !written.has(s));
}

export interface UpstreamChange {
  /** `project/job` of the job whose upstreams change. */
  job: string;
  added: UpstreamEdge[];
  removed: UpstreamEdge[];
  /** Same upstream job, different kind or reasons. */
  changed: { before: UpstreamEdge; after: UpstreamEdge }[];
}

/**
 * Per job, how its upstreams change between two resolutions (job key → edges). A job only in
 * `before` (deleted) loses all its edges; one only in `after` (added) gains all. Jobs without a
 * change are left out; sorted by job key.
 */
export function diffUpstreams(
  before: ReadonlyMap<string, readonly UpstreamEdge[]>,
  after: ReadonlyMap<string, readonly UpstreamEdge[]>,
): UpstreamChange[] {
  const out: UpstreamChange[] = [];
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort(cmp);
  for (const job of keys) {
    const b = new Map((before.get(job) ?? []).map((e) => [jobKey(e.project, e.job), e]));
    const a = new Map((after.get(job) ?? []).map((e) => [jobKey(e.project, e.job), e]));
    const change: UpstreamChange = { job, added: [], removed: [], changed: [] };
    for (const [k, e] of a) {
      const old = b.get(k);
      if (!old) change.added.push(e);
      else if (!sameEdges([old], [e])) change.changed.push({ before: old, after: e });
    }
    for (const [k, e] of b) if (!a.has(k)) change.removed.push(e);
    if (change.added.length || change.removed.length || change.changed.length) {
      change.added.sort(edgeOrder);
      change.removed.sort(edgeOrder);
      change.changed.sort((x, y) => edgeOrder(x.after, y.after));
      out.push(change);
    }
  }
  return out;
}
