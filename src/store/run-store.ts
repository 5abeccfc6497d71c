/**
 * The run-state port: runs of deployed jobs, their nodes (the job's run graph, one row per task or
 * hook), leases on running nodes and captured log lines. Durable in the same store as jobs (PGlite
 * or PostgreSQL), so a server killed at any moment loses nothing: every transition is one
 * transaction, and a node is only ever run under a lease that one server holds.
 *
 * Concurrency rules the implementation keeps:
 * - A run is created once per (project, job, scheduled time): the unique key decides, not a read.
 * - `updateRun` holds the run's row lock (and its nodes') for the whole read-decide-write, so two
 *   servers finishing two nodes of one run never lose one update.
 * - `claimNodes` takes nodes with `FOR UPDATE SKIP LOCKED`: two servers never claim one node.
 * - Attempts are recorded by the transitions that start and end them: `claimNodes` adds the
 *   running attempt, and the `attempts` of a `RunChange` end it, in the same transaction that moves
 *   the node, so a node's history can never disagree with its state.
 */
import type { NodeStage } from '../core/run-graph.js';
import type { Json } from './store.js';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const RUN_FINISHED: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];

/**
 * - pending: waits for its upstream nodes (or for the run to start)
 * - queued: may start at `notBefore` (null = now); a retry waits here for its delay
 * - running: an attempt holds a lease
 * - succeeded / failed: the last attempt's result (failed = no attempts left)
 * - upstream_failed: never ran because a node it needs failed
 * - skipped: not needed (post hooks after a failed task, fail hooks after a task that succeeded)
 * - cancelled: the run was cancelled before the node finished
 */
export type NodeStatus =
  | 'pending'
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'upstream_failed'
  | 'skipped'
  | 'cancelled';
export const NODE_FINISHED: readonly NodeStatus[] = [
  'succeeded',
  'failed',
  'upstream_failed',
  'skipped',
  'cancelled',
];

/** `replay`: created by a replay (see replay-store.ts), which orders its runs itself. */
export type RunTrigger = 'schedule' | 'manual' | 'replay';

/** Snapshot of the job's run behaviour taken when the run is created (a later deploy does not change it). */
export interface RunSettings {
  /** behavior.retry.count + 1 (at least 1). */
  maxAttempts: number;
  /** behavior.retry.delay in ms (0 = none). */
  retryDelayMs: number;
  /** behavior.retry.exponential_backoff: the n-th retry waits delay × 2^(n−1). */
  exponentialBackoff: boolean;
  /** Per-node timeout in ms for one attempt. */
  timeoutMs: number;
  /** behavior.depends_on_past: the run starts only after the job's previous run succeeded. */
  dependsOnPast: boolean;
  /**
   * How long after its creation a run waiting for its upstream jobs' runs fails (the server's
   * `scheduler.upstream_timeout` when it was created); absent in runs created before it existed.
   */
  upstreamTimeoutMs?: number;
}

export interface RunNodeRecord {
  runId: number;
  /** Node name: the task's plugin name or the hook's name (unique in the run). */
  name: string;
  /** The plugin. */
  type: string;
  stage: NodeStage;
  /** Upstream nodes in this run. */
  dependsOn: string[];
  status: NodeStatus;
  /** Attempts started so far (0 before the first); a manual retry keeps counting. */
  attempt: number;
  /**
   * Attempts started before the last manual retry of the run: they do not count against
   * `settings.maxAttempts` (a retried node gets the job's retries again).
   */
  attemptsBefore: number;
  /** Earliest start of a queued node (retry delay); null = as soon as possible. */
  notBefore: Date | null;
  /** Server instance that holds the running attempt. */
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  /**
   * What runs the current attempt, for clean-up after a crash: e.g. `{kind:'process', host, pid,
   * startTicks}` or `{kind:'docker', container}`. Set by the executor as soon as it starts.
   */
  handle: Json | null;
  /** Set by a cancel while the node runs; the lease owner stops the attempt. */
  cancelRequested: boolean;
  startedAt: Date | null;
  finishedAt: Date | null;
  exitCode: number | null;
  /** Why the last attempt failed, in words for a user (never a secret value). */
  error: string | null;
}

export interface RunRecord {
  id: number;
  projectName: string;
  namespaceName: string;
  jobName: string;
  scheduledAt: Date;
  trigger: RunTrigger;
  /** The replay that created it (trigger `replay`); null otherwise. */
  replayId: number | null;
  status: RunStatus;
  /** Hash of the job as deployed when the run was created. */
  jobHash: string;
  settings: RunSettings;
  /** Why a queued run has not started, or why it ended (e.g. "waiting for run 41 (depends_on_past)"). */
  note: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** In run-graph order. */
  nodes: RunNodeRecord[];
}

/** What another run's wait needs to know of a run (see RunStore.newestRunsAt). */
export interface RunAtTime {
  id: number;
  scheduledAt: Date;
  trigger: RunTrigger;
  status: RunStatus;
}

export interface RunInputRecord {
  projectName: string;
  namespaceName: string;
  jobName: string;
  scheduledAt: Date;
  trigger: RunTrigger;
  /**
   * A replay's run (trigger `replay`): unique per replay, job and scheduled time, beside the job's
   * scheduled or manual run at that time. Absent or null: unique per job and scheduled time.
   */
  replayId?: number | null;
  jobHash: string;
  settings: RunSettings;
  /** From the job's run graph; all start `pending`. */
  nodes: { name: string; type: string; stage: NodeStage; dependsOn: string[] }[];
}

/** Fields of a node that a transition may change. */
export type NodeChange = { name: string } & Partial<
  Pick<
    RunNodeRecord,
    | 'status'
    | 'attempt'
    | 'attemptsBefore'
    | 'notBefore'
    | 'leaseOwner'
    | 'leaseExpiresAt'
    | 'handle'
    | 'cancelRequested'
    | 'startedAt'
    | 'finishedAt'
    | 'exitCode'
    | 'error'
  >
>;

export interface RunChange {
  status?: RunStatus;
  note?: string | null;
  startedAt?: Date | null;
  finishedAt?: Date | null;
  nodes?: NodeChange[];
  /** Attempts this transition ends (or gives back), recorded with it. */
  attempts?: AttemptChange[];
}

/**
 * How one attempt went: `running` until it ends; `timed_out` is a failure by the node's timeout.
 * An attempt given back on a graceful shutdown is no attempt: it is not kept.
 */
export type AttemptStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out';
export interface NodeAttemptRecord {
  runId: number;
  node: string;
  /** 1-based, as the node's `attempt` and its log lines count. */
  attempt: number;
  status: AttemptStatus;
  startedAt: Date;
  finishedAt: Date | null;
  exitCode: number | null;
  /** Why it failed, in words for a user (never a secret value). */
  error: string | null;
}

/**
 * The end of attempt `attempt` of `node`: `ended` records how (the row is written even when the
 * attempt's start was never recorded, e.g. it began before the store was upgraded); `released`
 * removes it (given back on a graceful shutdown, its number is used again).
 */
export type AttemptChange =
  | ({ kind: 'ended'; node: string; attempt: number } & Pick<
      NodeAttemptRecord,
      'startedAt' | 'finishedAt' | 'exitCode' | 'error'
    > & { status: Exclude<AttemptStatus, 'running'> })
  | { kind: 'released'; node: string; attempt: number };

/** Which runs `recentRuns` lists. */
export interface RecentRunsQuery {
  project?: string;
  namespace?: string;
  job?: string;
  status?: RunStatus;
  limit: number;
  /**
   * Paging: only runs that come after this one in the listing's order (newest scheduled first,
   * then highest id), i.e. scheduled before `scheduledAt`, or at it with an id below `id`.
   * Without `id`: scheduled strictly before `scheduledAt`.
   */
  before?: { scheduledAt: Date; id?: number };
}

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogLineInput {
  runId: number;
  node: string;
  attempt: number;
  stream: LogStream;
  at: Date;
  /** One line, without its newline, secret values already masked. */
  line: string;
}

export interface LogLineRecord extends LogLineInput {
  /** Increasing in insertion order within the store: the cursor for reading on. */
  id: number;
}

export interface RunStore {
  /** The job of that name in the project, whatever its namespace (names are unique per project). */
  findJob(projectName: string, jobName: string): Promise<import('./store.js').JobRecord | undefined>;
  /**
   * Creates the run and its nodes in one transaction, unless a run of that job at that scheduled
   * time exists (of the same replay, for a replay's run): then returns the existing one with
   * `created: false`.
   */
  createRun(input: RunInputRecord): Promise<{ run: RunRecord; created: boolean }>;
  getRun(id: number): Promise<RunRecord | undefined>;
  /** Newest scheduled time first; `before` = only runs scheduled strictly before it (paging). */
  listRuns(
    projectName: string,
    jobName: string,
    opts?: { limit?: number; before?: Date },
  ): Promise<RunRecord[]>;
  /** Runs of any job, newest scheduled first (then highest id), filtered and paged (see RecentRunsQuery). */
  recentRuns(query: RecentRunsQuery): Promise<RunRecord[]>;
  /** The recorded attempts of these runs' nodes, by run id, then node, then attempt number. */
  attemptsOf(runIds: readonly number[]): Promise<NodeAttemptRecord[]>;
  /** Runs in any of these statuses, oldest scheduled first (the runner's work list). */
  runsWithStatus(statuses: readonly RunStatus[], limit: number): Promise<RunRecord[]>;
  /** The run of the job scheduled just before `scheduledAt` (for depends_on_past). */
  previousRun(projectName: string, jobName: string, scheduledAt: Date): Promise<RunRecord | undefined>;
  /**
   * The newest run (highest id: a replay's run is newer than the one it re-runs) of the job at each
   * of these scheduled times that has one, oldest time first. For runs waiting on an upstream job.
   */
  newestRunsAt(projectName: string, jobName: string, times: readonly Date[]): Promise<RunAtTime[]>;
  /** Latest scheduled time of the job's runs with this trigger (the scheduler's watermark). */
  latestScheduledAt(projectName: string, jobName: string, trigger: RunTrigger): Promise<Date | undefined>;
  /**
   * In one transaction holding the run's lock: read the run, call `decide` (pure, synchronous),
   * apply what it returns. Returns the run as it is afterwards; undefined when no such run.
   */
  updateRun(runId: number, decide: (run: RunRecord) => RunChange | undefined): Promise<RunRecord | undefined>;
  /**
   * Atomically takes up to `limit` queued nodes (notBefore null or ≤ now, run status running, no
   * cancel requested), oldest run first, with `FOR UPDATE SKIP LOCKED`: each becomes `running`, its
   * attempt + 1, `startedAt` now, lease owned by `owner` until now + leaseMs, handle/exitCode/error
   * cleared, and that attempt is recorded as running. Returns the claimed nodes.
   */
  claimNodes(owner: string, limit: number, leaseMs: number): Promise<RunNodeRecord[]>;
  /**
   * Extends every lease `owner` holds to now + leaseMs. Returns the nodes it holds whose run asked
   * them to stop (cancelRequested).
   */
  renewLeases(owner: string, leaseMs: number): Promise<{ runId: number; name: string }[]>;
  /** Running nodes whose lease expired before now (their server died), or, with `owner`, every node that owner holds. */
  orphanedNodes(opts?: { owner?: string }): Promise<RunNodeRecord[]>;
  /** Every running node (any owner): for recovery of the embedded store, where only one server can run. */
  runningNodes(): Promise<RunNodeRecord[]>;
  /** Cancels the queued and running runs of these jobs (a deploy deleted them); returns their ids. */
  cancelRunsOfJobs(projectName: string, jobNames: readonly string[], note: string): Promise<number[]>;
  appendLogs(lines: readonly LogLineInput[]): Promise<void>;
  /** Oldest first, ids greater than `afterId`, at most `limit` (default 1000). */
  readLogs(
    runId: number,
    opts?: { node?: string; afterId?: number; limit?: number },
  ): Promise<LogLineRecord[]>;
}
