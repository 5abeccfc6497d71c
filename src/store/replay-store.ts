/**
 * The replay port: a replay is a stored plan of runs to create again, one item per (job, scheduled
 * time), each with the items whose runs must succeed first. The plan is written once when the
 * replay is created; its runs are created progressively (`updateReplay`), and which items have a
 * run is read from the runs themselves (runs.replay_id), so the two cannot disagree.
 *
 * Concurrency rules the implementation keeps:
 * - `createReplay` decides whether a replay of the same root job over an overlapping range is
 *   running inside its transaction, under a lock per (project, job): of two requests at once, one
 *   creates and the other sees it.
 * - `updateReplay` holds the replay's row lock for the whole read-decide-write, and a run it
 *   creates is unique per (replay, job, scheduled time): two servers advancing one replay create
 *   each run once.
 */
import type { RunInputRecord, RunStatus } from './run-store.js';

export type ReplayStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export const REPLAY_FINISHED: readonly ReplayStatus[] = ['succeeded', 'failed', 'cancelled'];

/** A job of the replay, in dependency order (upstream first). */
export interface ReplayJob {
  project: string;
  namespace: string;
  job: string;
}

/** One run to create: a job at a scheduled time, and what must succeed first. */
export interface ReplayItem {
  project: string;
  namespace: string;
  job: string;
  scheduledAt: Date;
  /** The job's data window at that time (half-open), which upstream items overlap. */
  windowStart: Date;
  windowEnd: Date;
  /** Indexes (in the replay's `items`) of the items whose runs must succeed before this one's is created. */
  after: number[];
}

/** An item as stored, with its run when the replay created one. */
export interface ReplayItemState extends ReplayItem {
  run: { id: number; status: RunStatus } | null;
}

export interface ReplayInput {
  projectName: string;
  /** The root job's namespace. */
  namespaceName: string;
  /** The root job. */
  jobName: string;
  from: Date;
  to: Date;
  downstream: boolean;
  parallel: boolean;
  jobs: ReplayJob[];
  items: ReplayItem[];
}

export interface ReplayRecord extends Omit<ReplayInput, 'items'> {
  id: number;
  status: ReplayStatus;
  /** Why it ended (or why it is about to), in words for a user. */
  note: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  items: ReplayItemState[];
}

/** A replay without its items, for listings: how many items, and its runs by status. */
export interface ReplaySummary extends Omit<ReplayRecord, 'items'> {
  itemCount: number;
  runCounts: Partial<Record<RunStatus, number>>;
}

export interface ReplayChange {
  status?: ReplayStatus;
  note?: string | null;
  finishedAt?: Date | null;
  /** Runs to create in the same transaction (their `replayId` is set to the replay's). */
  createRuns?: RunInputRecord[];
}

export interface ReplayStore {
  /**
   * Creates the replay unless a running replay of the same project and root job has a range that
   * overlaps [from, to] (both inclusive): then returns that one (the oldest such) and creates nothing.
   */
  createReplay(
    input: ReplayInput,
  ): Promise<{ replay: ReplayRecord; created: true } | { running: ReplaySummary; created: false }>;
  getReplay(id: number): Promise<ReplayRecord | undefined>;
  /** Newest first; `job` = only replays whose root job it is. */
  listReplays(projectName: string, opts?: { job?: string; limit?: number }): Promise<ReplaySummary[]>;
  /** Ids of the running replays, oldest first (the advancer's work list). */
  activeReplays(): Promise<number[]>;
  /**
   * In one transaction holding the replay's lock: read it (items with their runs), call `decide`
   * (pure, synchronous), apply what it returns, creating its runs. Returns the replay as it is
   * afterwards; undefined when there is no such replay.
   */
  updateReplay(
    id: number,
    decide: (replay: ReplayRecord) => ReplayChange | undefined,
  ): Promise<ReplayRecord | undefined>;
}
