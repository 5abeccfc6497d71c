/**
 * How a run moves: pure decisions over a `RunRecord`, each returning the `RunChange` that
 * `RunStore.updateRun` applies inside the run's lock (or undefined when nothing changes). No I/O and
 * no clock of their own, so every rule is tested without a store and two servers deciding on one
 * run always see the state the other left.
 *
 * Rules, as Airflow applies them to the DAG a job compiles to:
 * - a run starts (its first nodes become queued) once depends_on_past allows it and its upstream
 *   jobs' runs for its window have succeeded (upstream-wait.ts decides that); a run that waited for
 *   them longer than its upstream timeout fails without running anything;
 * - pre hooks and the task run when every upstream succeeded, else they are `upstream_failed`;
 * - post hooks run only after the task succeeded (skipped when it did not);
 * - fail hooks run only when the task failed, or never ran because a pre hook failed (Airflow's
 *   `one_failed`), and are skipped when it succeeded;
 * - a failed attempt is retried (`queued` with a delay) while attempts are left;
 * - every attempt's end is recorded with the transition (`RunChange.attempts`);
 * - a manual retry of a finished run (retryNodes) sends the chosen nodes and what did not succeed
 *   downstream of them back to pending; attempt numbers go on, the job's retries start again;
 * - the run ends when every node has: cancelled if a node was cancelled, failed if one failed or
 *   could not run because of a failure, else succeeded.
 */
import type {
  AttemptChange,
  NodeChange,
  NodeStatus,
  RunChange,
  RunNodeRecord,
  RunRecord,
  RunSettings,
} from '../store/run-store.js';
import { NODE_FINISHED } from '../store/run-store.js';
import type { UpstreamDecision } from './upstream-wait.js';

/** How one attempt of a node ended, as the runner saw it. */
export type AttemptOutcome =
  | { kind: 'succeeded'; exitCode: number }
  | { kind: 'failed'; exitCode: number | null; error: string; timedOut?: boolean }
  /** Stopped because its run was cancelled. */
  | { kind: 'cancelled'; exitCode?: number | null }
  /** The server that ran it died: counts as a failed attempt. */
  | { kind: 'interrupted' }
  /**
   * The server stopped it on a graceful shutdown: the attempt is given back (queued again with its
   * attempt count restored), so a restart runs it without using up a retry.
   */
  | { kind: 'released' };

export const RELEASED_NOTE = 'stopped: the server shut down while it ran; it runs again when a server starts';

export const INTERRUPTED_ERROR = 'interrupted: the server stopped while it ran';

/** A retry never waits longer than a day, however many doublings exponential backoff asks for. */
export const MAX_RETRY_DELAY_MS = 24 * 60 * 60 * 1000;

/** How long the retry after failed attempt number `attempt` (1-based) waits. */
export function retryDelayMs(settings: RunSettings, attempt: number): number {
  const base = Math.max(0, settings.retryDelayMs);
  if (base === 0) return 0;
  const factor = settings.exponentialBackoff ? 2 ** Math.max(0, attempt - 1) : 1;
  return Math.min(base * factor, MAX_RETRY_DELAY_MS);
}

const finished = (s: NodeStatus) => NODE_FINISHED.includes(s);
const failedLike = (s: NodeStatus) => s === 'failed' || s === 'upstream_failed';

/**
 * Start a queued run. `previous` is the job's run scheduled just before this one (for
 * depends_on_past); while it has not succeeded the run stays queued with a note saying why.
 * `upstream` is what upstream-wait.ts decided of its upstream jobs' runs (absent = nothing to wait
 * for): while not ready the run stays queued with its note; timed out, the run fails and every
 * node is `upstream_failed` (none ran, and no fail hook runs: nothing of the job failed).
 */
export function startRun(
  run: RunRecord,
  previous: RunRecord | undefined,
  now: Date,
  upstream?: UpstreamDecision,
): RunChange | undefined {
  if (run.status !== 'queued') return undefined;
  if (run.settings.dependsOnPast && previous && previous.status !== 'succeeded') {
    const stuck = previous.status === 'failed' || previous.status === 'cancelled';
    const note =
      `waiting for run ${previous.id} (scheduled ${previous.scheduledAt.toISOString()}) to succeed: ` +
      `the job has depends_on_past and that run is ${previous.status}` +
      (stuck ? '; this run starts only once it succeeds, or cancel this one' : '');
    return note === run.note ? undefined : { note };
  }
  if (upstream && !upstream.ready) {
    if (!upstream.timedOut) return upstream.note === run.note ? undefined : { note: upstream.note };
    return {
      status: 'failed',
      note: upstream.note,
      finishedAt: now,
      nodes: run.nodes
        .filter((n) => !finished(n.status))
        .map((n) => ({ name: n.name, status: 'upstream_failed', notBefore: null, finishedAt: now })),
    };
  }
  const changes = propagate(run, new Map(), now);
  return finishIfDone(run, changes, now, { status: 'running', startedAt: now, note: null });
}

/**
 * Record the end of `attempt` of node `name`. Ignored (undefined) unless the node is still running
 * that attempt, held by `owner` when given: a server that lost its lease must not overwrite what
 * the new holder decided.
 */
export function finishAttempt(
  run: RunRecord,
  name: string,
  attempt: number,
  outcome: AttemptOutcome,
  now: Date,
  owner?: string,
): RunChange | undefined {
  const node = run.nodes.find((n) => n.name === name);
  if (node?.status !== 'running' || node.attempt !== attempt) return undefined;
  if (owner !== undefined && node.leaseOwner !== owner) return undefined;
  const released = { leaseOwner: null, leaseExpiresAt: null };
  let change: NodeChange;
  let ended: AttemptChange;
  const end = (
    status: Extract<AttemptChange, { kind: 'ended' }>['status'],
    exitCode: number | null,
    error: string | null,
  ): AttemptChange => ({
    kind: 'ended',
    node: name,
    attempt,
    status,
    startedAt: node.startedAt ?? now,
    finishedAt: now,
    exitCode,
    error,
  });
  if (outcome.kind === 'released' && !node.cancelRequested && run.status !== 'cancelled') {
    const change: NodeChange = {
      name,
      ...released,
      status: 'queued',
      attempt: node.attempt - 1,
      notBefore: null,
      error: RELEASED_NOTE,
    };
    return { nodes: [change], attempts: [{ kind: 'released', node: name, attempt }] };
  }
  if (outcome.kind === 'succeeded') {
    change = {
      name,
      ...released,
      status: 'succeeded',
      finishedAt: now,
      exitCode: outcome.exitCode,
      error: null,
    };
    ended = end('succeeded', outcome.exitCode, null);
  } else if (outcome.kind === 'cancelled' || node.cancelRequested || run.status === 'cancelled') {
    // A cancel wins over whatever else ended the attempt: the user asked it to stop, so no retry.
    const exitCode =
      outcome.kind === 'failed' || outcome.kind === 'cancelled' ? (outcome.exitCode ?? null) : null;
    change = { name, ...released, status: 'cancelled', finishedAt: now, exitCode, error: 'cancelled' };
    ended = end('cancelled', exitCode, 'cancelled');
  } else {
    // ('released' reaches here only for a node whose run was cancelled, handled above.)
    const error = outcome.kind === 'failed' ? outcome.error : INTERRUPTED_ERROR;
    const exitCode = outcome.kind === 'failed' ? outcome.exitCode : null;
    ended = end(outcome.kind === 'failed' && outcome.timedOut ? 'timed_out' : 'failed', exitCode, error);
    // Attempts before a manual retry do not count: the retry gives the node the job's retries again.
    const counted = node.attempt - node.attemptsBefore;
    if (counted < run.settings.maxAttempts) {
      const wait = retryDelayMs(run.settings, counted);
      change = {
        name,
        ...released,
        status: 'queued',
        notBefore: wait > 0 ? new Date(now.getTime() + wait) : null,
        exitCode,
        error,
        finishedAt: now,
      };
    } else {
      change = { name, ...released, status: 'failed', finishedAt: now, exitCode, error };
    }
  }
  const changes = new Map([[name, change]]);
  if (run.status !== 'running') return { nodes: [...changes.values()], attempts: [ended] };
  return { ...finishIfDone(run, propagate(run, changes, now), now, {}), attempts: [ended] };
}

/** Node statuses a manual retry re-runs. */
export const RETRYABLE: readonly NodeStatus[] = ['failed', 'upstream_failed', 'cancelled'];

/**
 * A manual retry of a run that is over: `names` (each one of RETRYABLE, checked by the caller) and
 * every node downstream of them that did not succeed go back to pending, their last attempt's
 * fields cleared; succeeded nodes keep their result. A run that had started runs again at once
 * (the nodes whose upstreams succeeded are queued now); one that never started (cancelled while
 * waiting, or its upstream jobs' runs timed out) is queued again and waits as a new run does.
 */
export function retryNodes(run: RunRecord, names: readonly string[], now: Date): RunChange {
  const downstream = new Map<string, string[]>();
  for (const n of run.nodes) {
    for (const d of n.dependsOn) downstream.set(d, [...(downstream.get(d) ?? []), n.name]);
  }
  const again = new Set<string>(names);
  const stack = [...names];
  while (stack.length) {
    for (const next of downstream.get(stack.pop()!) ?? []) {
      if (again.has(next)) continue;
      again.add(next);
      stack.push(next);
    }
  }
  const changes = new Map<string, NodeChange>();
  for (const n of run.nodes) {
    if (!again.has(n.name) || n.status === 'succeeded') continue;
    changes.set(n.name, {
      name: n.name,
      status: 'pending',
      attemptsBefore: n.attempt,
      notBefore: null,
      leaseOwner: null,
      leaseExpiresAt: null,
      handle: null,
      cancelRequested: false,
      startedAt: null,
      finishedAt: null,
      exitCode: null,
      error: null,
    });
  }
  if (run.startedAt === null) {
    return { status: 'queued', note: null, finishedAt: null, nodes: [...changes.values()] };
  }
  const restarted = { ...run, status: 'running' as const };
  return finishIfDone(restarted, propagate(restarted, changes, now), now, {
    status: 'running',
    note: null,
    finishedAt: null,
  });
}

/** A running node whose server stopped or died: a failed attempt, retried by the usual rules. */
export function interruptNode(run: RunRecord, name: string, now: Date): RunChange | undefined {
  const node = run.nodes.find((n) => n.name === name);
  if (node?.status !== 'running') return undefined;
  // Stryker disable next-line ObjectLiteral,StringLiteral: finishAttempt handles every outcome kind it does not name as an interruption
  return finishAttempt(run, name, node.attempt, { kind: 'interrupted' }, now);
}

/**
 * Decide every pending node whose upstream nodes have all finished, given `changes` already
 * decided in this transition (applied on top of the run's nodes). Returns changes including those.
 */
function propagate(run: RunRecord, changes: Map<string, NodeChange>, now: Date): Map<string, NodeChange> {
  const status = new Map<string, NodeStatus>(
    run.nodes.map((n) => [n.name, changes.get(n.name)?.status ?? n.status]),
  );
  const task = run.nodes.find((n) => n.stage === 'task');
  const byName = new Map(run.nodes.map((n) => [n.name, n]));
  const set = (node: RunNodeRecord, s: NodeStatus) => {
    status.set(node.name, s);
    const terminal = s !== 'queued';
    changes.set(node.name, {
      ...changes.get(node.name),
      name: node.name,
      status: s,
      ...(terminal ? { finishedAt: now } : {}),
    });
  };
  // Nodes are in run-graph order, so one pass usually settles everything; repeat in case a store
  // returned them otherwise.
  for (let changed = true; changed; ) {
    changed = false;
    for (const node of run.nodes) {
      if (status.get(node.name) !== 'pending') continue;
      const ups: Upstream[] = [];
      for (const d of node.dependsOn) {
        const up = byName.get(d);
        // An upstream this run does not have cannot hold the node back.
        if (up) ups.push({ stage: up.stage, status: status.get(d)! });
      }
      if (ups.some((u) => !finished(u.status))) continue;
      const next = readiness(node, ups, task ? status.get(task.name) : undefined);
      set(node, next);
      changed = true;
    }
  }
  return changes;
}

interface Upstream {
  stage: RunNodeRecord['stage'];
  status: NodeStatus;
}

function readiness(node: RunNodeRecord, ups: Upstream[], taskStatus: NodeStatus | undefined): NodeStatus {
  const allSucceeded = (list: Upstream[]) => list.every((u) => u.status === 'succeeded');
  if (node.stage === 'pre' || node.stage === 'task' || taskStatus === undefined) {
    return allSucceeded(ups) ? 'queued' : 'upstream_failed';
  }
  if (taskStatus === 'cancelled') return 'cancelled';
  if (node.stage === 'post') {
    if (taskStatus !== 'succeeded') return 'skipped';
    if (allSucceeded(ups)) return 'queued';
    return ups.some((u) => u.status === 'skipped') ? 'skipped' : 'upstream_failed';
  }
  // A fail hook is triggered by the task's failure; only the fail hooks it waits for must have
  // succeeded (a failed pre hook upstream is exactly what it is there to report).
  if (!failedLike(taskStatus)) return 'skipped';
  const fellows = ups.filter((u) => u.stage === 'fail');
  if (allSucceeded(fellows)) return 'queued';
  return fellows.some((u) => u.status === 'skipped') ? 'skipped' : 'upstream_failed';
}

/** Adds the run's own end to `extra` + node changes when every node has finished. */
function finishIfDone(
  run: RunRecord,
  changes: Map<string, NodeChange>,
  now: Date,
  extra: Omit<RunChange, 'nodes'>,
): RunChange {
  const statuses = run.nodes.map((n) => changes.get(n.name)?.status ?? n.status);
  const change: RunChange = { ...extra, nodes: [...changes.values()] };
  if (!statuses.every(finished)) return change;
  change.finishedAt = now;
  if (statuses.includes('cancelled')) {
    change.status = 'cancelled';
  } else {
    const failedNode = run.nodes.find((n) => (changes.get(n.name)?.status ?? n.status) === 'failed');
    if (failedNode || statuses.includes('upstream_failed')) {
      change.status = 'failed';
      const error = failedNode ? (changes.get(failedNode.name)?.error ?? failedNode.error) : undefined;
      change.note = failedNode
        ? `node ${failedNode.name} failed${error ? `: ${error}` : ''}`
        : 'a node could not run';
    } else {
      change.status = 'succeeded';
    }
  }
  return change;
}
