/**
 * Runs of deployed jobs as a user (or the scheduler) asks for them: what a new run holds (its nodes
 * from the job's run graph, its behaviour snapshotted from the spec), a manual trigger, a cancel, a
 * retry of the nodes that failed, a run's changes and log lines as they come (for a live view), and
 * the one JSON shape the API and the CLI show. The runner executes what these create; the store
 * keeps it. Nothing here touches HTTP: errors are OptimusErrors whose category the edge maps.
 */
import { OptimusError } from '../core/errors.js';
import { quote } from '../core/names.js';
import type { NodeStage } from '../core/run-graph.js';
import { parseDuration } from '../core/template/go-time.js';
import { RETRYABLE, retryNodes } from '../scheduler/run-state.js';
import { DEFAULT_UPSTREAM_TIMEOUT_MS } from '../spec/server-config.js';
import {
  type LogLineRecord,
  NODE_FINISHED,
  type NodeAttemptRecord,
  type NodeChange,
  RUN_FINISHED,
  type RunChange,
  type RunInputRecord,
  type RunNodeRecord,
  type RunRecord,
  type RunSettings,
  type RunStore,
  type RunTrigger,
} from '../store/run-store.js';
import type { JobRecord } from '../store/store.js';

export interface RunDefaults {
  /** Timeout of one attempt of a node when the job's `behavior.timeout` says nothing. */
  nodeTimeoutMs: number;
  /** How long a run may wait for its upstream jobs' runs (the server's `scheduler.upstream_timeout`); default 24h. */
  upstreamTimeoutMs?: number;
}

const STAGES: readonly NodeStage[] = ['pre', 'task', 'post', 'fail'];

/**
 * The run to create for `job` at `scheduledAt`. The settings are a snapshot: a deploy after the run
 * was created does not change how it retries or times out.
 */
export function runRecordFor(
  job: JobRecord,
  scheduledAt: Date,
  trigger: RunTrigger,
  defaults: RunDefaults,
): RunInputRecord {
  return {
    projectName: job.projectName,
    namespaceName: job.namespaceName,
    jobName: job.name,
    scheduledAt,
    trigger,
    jobHash: job.hash,
    settings: runSettingsFor(job.spec, defaults),
    nodes: runNodesOf(job),
  };
}

/**
 * `behavior` of a deployed spec as run settings. The spec was validated at deploy time, so values
 * are well formed; this still reads defensively (the stored JSON is the raw job.yaml after
 * inheritance: `behavior` may be absent or null, numbers may be strings) and falls back to the
 * defaults rather than refusing to run a deployed job.
 */
export function runSettingsFor(spec: unknown, defaults: RunDefaults): RunSettings {
  const behavior = field(spec, 'behavior');
  const retry = field(behavior, 'retry');
  const count = Number(field(retry, 'count') ?? 0);
  const delay = durationMsOf(field(retry, 'delay'));
  const timeout = durationMsOf(field(behavior, 'timeout'));
  return {
    maxAttempts: Number.isInteger(count) && count > 0 ? count + 1 : 1,
    retryDelayMs: delay !== undefined && delay > 0 ? delay : 0,
    exponentialBackoff: field(retry, 'exponential_backoff') === true,
    timeoutMs: timeout !== undefined && timeout > 0 ? timeout : defaults.nodeTimeoutMs,
    dependsOnPast: field(behavior, 'depends_on_past') === true,
    upstreamTimeoutMs: defaults.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
  };
}

function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** A Go duration (`90s`, `1h30m`; YAML may have made `0` a number) in whole milliseconds. */
function durationMsOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const ns = parseDuration(String(value));
  return ns === undefined ? undefined : Number(ns / 1_000_000n);
}

/** The deployed run graph (stored as `{name, type, stage, depends_on}`) as the run's nodes. */
function runNodesOf(job: JobRecord): RunInputRecord['nodes'] {
  const graph = Array.isArray(job.runGraph) ? job.runGraph : [];
  const nodes: RunInputRecord['nodes'] = [];
  for (const entry of graph) {
    const name = field(entry, 'name');
    const stage = field(entry, 'stage');
    const dependsOn = field(entry, 'depends_on');
    if (typeof name !== 'string' || !STAGES.includes(stage as NodeStage)) continue;
    const type = field(entry, 'type');
    nodes.push({
      name,
      type: typeof type === 'string' ? type : name,
      stage: stage as NodeStage,
      dependsOn: Array.isArray(dependsOn) ? dependsOn.filter((d): d is string => typeof d === 'string') : [],
    });
  }
  if (!nodes.some((n) => n.stage === 'task')) {
    throw new OptimusError(
      'JOB_NOT_RUNNABLE',
      `job ${quote(job.name)} has no run graph on the server, so it cannot run`,
      {
        category: 'conflict',
        hint: 'deploy it again with `optimus deploy` (its plugins must be installed on the server)',
      },
    );
  }
  return nodes;
}

/**
 * A manual run of a deployed job at `scheduledAt` (default now). One run per job and scheduled
 * time: asking for a time that already has one is a conflict naming that run, never a second run.
 */
export async function triggerRun(
  store: RunStore,
  projectName: string,
  jobName: string,
  scheduledAt: Date | undefined,
  defaults: RunDefaults,
): Promise<RunRecord> {
  const job = await store.findJob(projectName, jobName);
  if (!job) {
    throw new OptimusError(
      'JOB_NOT_FOUND',
      `job ${quote(jobName)} is not deployed in project ${quote(projectName)}`,
      { category: 'not_found', hint: 'deploy it with `optimus deploy`, then run it' },
    );
  }
  const at = scheduledAt ?? new Date();
  const { run, created } = await store.createRun(runRecordFor(job, at, 'manual', defaults));
  if (!created) {
    throw new OptimusError(
      'RUN_EXISTS',
      `job ${quote(jobName)} already has a run scheduled at ${at.toISOString()}: run ${run.id} (${run.status})`,
      {
        category: 'conflict',
        hint: `see it with \`optimus job runs ${jobName}\`, or pass another --scheduled-at`,
      },
    );
  }
  return run;
}

/**
 * What cancelling `run` changes, or undefined when it is already over. Nodes that have not started
 * are cancelled now; running ones are asked to stop (their runner kills them and records the end);
 * the run itself ends at once, so neither the scheduler nor the runner starts anything more of it.
 */
export function cancelDecision(run: RunRecord, note: string, now = new Date()): RunChange | undefined {
  if (RUN_FINISHED.includes(run.status)) return undefined;
  const nodes: NodeChange[] = [];
  for (const node of run.nodes) {
    if (node.status === 'pending' || node.status === 'queued') {
      nodes.push({ name: node.name, status: 'cancelled', notBefore: null, finishedAt: now });
    } else if (node.status === 'running' && !node.cancelRequested) {
      nodes.push({ name: node.name, cancelRequested: true });
    }
  }
  return { status: 'cancelled', note, finishedAt: now, nodes };
}

/** Cancel a run that has not finished; `who` says on whose behalf, for the run's note. */
export async function cancelRun(store: RunStore, runId: number, who?: string): Promise<RunRecord> {
  const note = who ? `cancelled by ${who}` : 'cancelled';
  let over: RunRecord | undefined;
  const run = await store.updateRun(runId, (current) => {
    const change = cancelDecision(current, note);
    if (!change) over = current;
    return change;
  });
  if (!run) {
    throw new OptimusError('RUN_NOT_FOUND', `there is no run ${runId}`, {
      category: 'not_found',
      hint: 'list the runs of the job with `optimus job runs <job>`',
    });
  }
  if (over) {
    throw new OptimusError(
      'RUN_FINISHED',
      `run ${runId} of job ${quote(over.jobName)} has already ${over.status === 'cancelled' ? 'been cancelled' : over.status}${over.finishedAt ? ` (at ${over.finishedAt.toISOString()})` : ''}`,
      { category: 'conflict', hint: 'only a queued or running run can be cancelled' },
    );
  }
  return run;
}

/** Nodes named in a retry that cannot be retried, each with its place in the list asked for. */
export class RetryNodeError extends OptimusError {
  constructor(
    readonly problems: readonly { index: number; message: string }[],
    hint: string,
  ) {
    super(
      'RUN_NODE_NOT_RETRYABLE',
      problems.length === 1 ? problems[0]!.message : problems.map((p) => p.message).join('; '),
      { category: 'invalid', hint },
    );
    this.name = 'RetryNodeError';
  }
}

/**
 * Re-run a finished run's failed nodes: `nodes` (each failed, upstream_failed or cancelled), or
 * all such nodes when absent, and what did not succeed downstream of them (run-state.ts
 * retryNodes). Decided under the run's lock: of two retries of one run, the second finds it
 * running again and is refused. The caller wakes the runner.
 */
export async function retryRun(
  store: RunStore,
  runId: number,
  nodes?: readonly string[],
  now = new Date(),
): Promise<RunRecord> {
  const run = await store.updateRun(runId, (current) =>
    retryNodes(current, retryTargets(current, nodes), now),
  );
  if (!run) {
    throw new OptimusError('RUN_NOT_FOUND', `there is no run ${runId}`, {
      category: 'not_found',
      hint: 'list the runs of the job with `optimus job runs <job>`',
    });
  }
  return run;
}

/** The nodes a retry of `run` starts from, or the error saying why it cannot be retried. */
function retryTargets(run: RunRecord, names: readonly string[] | undefined): string[] {
  if (!runIsOver(run)) {
    throw new OptimusError(
      'RUN_NOT_OVER',
      `run ${run.id} of job ${quote(run.jobName)} is still ${run.status}: only a run that is over can be retried`,
      {
        category: 'conflict',
        hint: `wait for it to end, or cancel it with \`optimus job cancel ${run.jobName} --run ${run.id}\``,
      },
    );
  }
  const retryable = run.nodes.filter((n) => RETRYABLE.includes(n.status));
  const choice = `nodes that can be retried: ${retryable.map((n) => n.name).join(', ') || 'none'}`;
  if (names === undefined) {
    if (retryable.length === 0) {
      throw new OptimusError(
        'RUN_NOTHING_TO_RETRY',
        `run ${run.id} of job ${quote(run.jobName)} ${run.status}: none of its nodes failed or was cancelled`,
        { category: 'conflict', hint: `start a new run with \`optimus job run ${run.jobName}\`` },
      );
    }
    return retryable.map((n) => n.name);
  }
  const problems: { index: number; message: string }[] = [];
  names.forEach((name, index) => {
    const node = run.nodes.find((n) => n.name === name);
    if (!node) problems.push({ index, message: `run ${run.id} has no node ${quote(name)}` });
    else if (!RETRYABLE.includes(node.status))
      problems.push({
        index,
        message: `node ${quote(name)} of run ${run.id} ${node.status.replace('_', ' ')}: only a failed, upstream failed or cancelled node can be retried`,
      });
  });
  if (problems.length) throw new RetryNodeError(problems, choice);
  return [...new Set(names)];
}

/** Over: the run ended and none of its nodes still runs (a cancelled run's nodes may still be stopping). */
export function runIsOver(run: RunRecord): boolean {
  return RUN_FINISHED.includes(run.status) && !run.nodes.some((n) => n.status === 'running');
}

export type RunView = ReturnType<typeof runView>;
export type RunNodeView = RunView['nodes'][number];
export type AttemptView = RunNodeView['attempts'][number];

/**
 * The run as the API and the CLI show it (snake_case, ISO times), each node with its recorded
 * `attempts` (RunStore.attemptsOf; those of other runs are ignored). `duration_ms` of something
 * still running is the time so far, so a progress display needs no clock of its own.
 */
export function runView(run: RunRecord, attempts: readonly NodeAttemptRecord[], now = new Date()) {
  const byNode = new Map<string, NodeAttemptRecord[]>();
  for (const a of attempts) {
    if (a.runId !== run.id) continue;
    const list = byNode.get(a.node);
    if (list) list.push(a);
    else byNode.set(a.node, [a]);
  }
  return {
    id: run.id,
    project: run.projectName,
    namespace: run.namespaceName,
    job: run.jobName,
    scheduled_at: run.scheduledAt.toISOString(),
    trigger: run.trigger,
    status: run.status,
    over: runIsOver(run),
    note: run.note,
    job_hash: run.jobHash,
    created_at: run.createdAt.toISOString(),
    started_at: iso(run.startedAt),
    finished_at: iso(run.finishedAt),
    duration_ms: durationMs(run.startedAt, run.finishedAt, now),
    settings: {
      max_attempts: run.settings.maxAttempts,
      retry_delay_ms: run.settings.retryDelayMs,
      exponential_backoff: run.settings.exponentialBackoff,
      timeout_ms: run.settings.timeoutMs,
      depends_on_past: run.settings.dependsOnPast,
      upstream_timeout_ms: run.settings.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
    },
    nodes: run.nodes.map((n) => nodeView(n, byNode.get(n.name) ?? [], now)),
  };
}

/** Views of these runs, their attempts read in one query. */
export async function runViews(
  store: Pick<RunStore, 'attemptsOf'>,
  runs: readonly RunRecord[],
  now = new Date(),
): Promise<RunView[]> {
  const attempts = await store.attemptsOf(runs.map((r) => r.id));
  return runs.map((r) => runView(r, attempts, now));
}

function nodeView(n: RunNodeRecord, attempts: readonly NodeAttemptRecord[], now: Date) {
  return {
    name: n.name,
    type: n.type,
    stage: n.stage,
    depends_on: n.dependsOn,
    status: n.status,
    attempt: n.attempt,
    attempts_before: n.attemptsBefore,
    not_before: iso(n.notBefore),
    cancel_requested: n.cancelRequested,
    started_at: iso(n.startedAt),
    finished_at: iso(n.finishedAt),
    duration_ms: NODE_FINISHED.includes(n.status)
      ? durationMs(n.startedAt, n.finishedAt, now)
      : n.status === 'running'
        ? durationMs(n.startedAt, null, now)
        : null,
    exit_code: n.exitCode,
    error: n.error,
    attempts: [...attempts]
      .sort((a, b) => a.attempt - b.attempt)
      .map((a) => ({
        attempt: a.attempt,
        status: a.status,
        started_at: a.startedAt.toISOString(),
        finished_at: iso(a.finishedAt),
        duration_ms:
          a.status === 'running' || a.finishedAt ? durationMs(a.startedAt, a.finishedAt, now) : null,
        exit_code: a.exitCode,
        error: a.error,
      })),
  };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function durationMs(start: Date | null, end: Date | null, now: Date): number | null {
  if (!start) return null;
  return Math.max(0, (end ?? now).getTime() - start.getTime());
}

/** What a live view of a run is told, in order: the run when it changed, new log lines, the end. */
export type RunEvent =
  | { type: 'run'; run: RunView }
  | { type: 'log'; lines: LogLineRecord[] }
  | { type: 'end' };

export interface RunEventOptions {
  /** Only this node's lines. */
  node?: string;
  /** Only lines after this id (a reconnecting client's last one). */
  after?: number;
  /** How long to wait between two looks at the store. */
  pollMs: number;
  /** Lines per `log` event at most. */
  batch?: number;
  /** Stops the polling (the client went away); the generator then returns. */
  signal: AbortSignal;
  /** Waits `ms` unless `signal` aborts first; injectable for tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * A run's changes and log lines as they happen, read from the store every `pollMs` while the
 * caller iterates and `signal` is not aborted: the run first, then again whenever it (a node, an
 * attempt, its status) changed, its new log lines in id order, and `end` once it is over and every
 * line was given (the run is read before its lines: when it was over then, every line it wrote is
 * stored). The run ending is the generator's end too. A run that disappears ends it as well.
 */
export async function* runEvents(
  store: Pick<RunStore, 'getRun' | 'attemptsOf' | 'readLogs'>,
  runId: number,
  opts: RunEventOptions,
): AsyncGenerator<RunEvent> {
  const batch = opts.batch ?? 1000;
  const wait = opts.sleep ?? sleepUnlessAborted;
  let after = opts.after ?? 0;
  let shown = '';
  while (!opts.signal.aborted) {
    const run = await store.getRun(runId);
    if (!run) {
      yield { type: 'end' };
      return;
    }
    const view = runView(run, await store.attemptsOf([runId]));
    // Durations of what runs grow on every look: a change is anything else.
    const seen = JSON.stringify(view, (key, value) => (key === 'duration_ms' ? undefined : value));
    if (seen !== shown) {
      shown = seen;
      yield { type: 'run', run: view };
    }
    for (;;) {
      if (opts.signal.aborted) return;
      const lines = await store.readLogs(runId, {
        afterId: after,
        limit: batch,
        ...(opts.node !== undefined ? { node: opts.node } : {}),
      });
      if (lines.length) {
        after = lines[lines.length - 1]!.id;
        yield { type: 'log', lines };
      }
      if (lines.length < batch) break;
    }
    if (runIsOver(run)) {
      yield { type: 'end' };
      return;
    }
    await wait(opts.pollMs, opts.signal);
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts. */
export const sleepUnlessAborted = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
