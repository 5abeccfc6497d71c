/**
 * Runs of deployed jobs as a user (or the scheduler) asks for them: what a new run holds (its nodes
 * from the job's run graph, its behaviour snapshotted from the spec), a manual trigger, a cancel,
 * and the one JSON shape the API and the CLI show. The runner executes what these create; the store
 * keeps it. Nothing here touches HTTP: errors are OptimusErrors whose category the edge maps.
 */
import { OptimusError } from '../core/errors.js';
import { quote } from '../core/names.js';
import type { NodeStage } from '../core/run-graph.js';
import { parseDuration } from '../core/template/go-time.js';
import { DEFAULT_UPSTREAM_TIMEOUT_MS } from '../spec/server-config.js';
import {
  NODE_FINISHED,
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

/** Over: the run ended and none of its nodes still runs (a cancelled run's nodes may still be stopping). */
export function runIsOver(run: RunRecord): boolean {
  return RUN_FINISHED.includes(run.status) && !run.nodes.some((n) => n.status === 'running');
}

export type RunView = ReturnType<typeof runView>;
export type RunNodeView = RunView['nodes'][number];

/**
 * The run as the API and the CLI show it (snake_case, ISO times). `duration_ms` of something still
 * running is the time so far, so a progress display needs no clock of its own.
 */
export function runView(run: RunRecord, now = new Date()) {
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
    nodes: run.nodes.map((n) => nodeView(n, now)),
  };
}

function nodeView(n: RunNodeRecord, now: Date) {
  return {
    name: n.name,
    type: n.type,
    stage: n.stage,
    depends_on: n.dependsOn,
    status: n.status,
    attempt: n.attempt,
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
  };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function durationMs(start: Date | null, end: Date | null, now: Date): number | null {
  if (!start) return null;
  return Math.max(0, (end ?? now).getTime() - start.getTime());
}
