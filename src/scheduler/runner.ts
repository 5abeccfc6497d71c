/**
 * The embedded runner: inside `optimus serve`, it creates the runs each deployed job's schedule
 * makes due, starts queued runs (depends_on_past permitting), claims ready nodes under a lease and
 * executes them (run input in a fresh directory, the executor, captured and masked output), and
 * records every outcome through the pure decisions of run-state.ts. All state is in the store, so
 * a server killed at any moment loses nothing and two servers on one PostgreSQL share the work:
 *
 * - A node runs only under a lease this server holds (claimed with FOR UPDATE SKIP LOCKED), renewed
 *   by a heartbeat that also notices cancels. A server whose leases expired died: another server
 *   (or this one after a restart) cleans up what its handle still runs and interrupts the node,
 *   which counts as a failed attempt and is retried by the job's rules.
 * - The embedded store can be opened by one server only, so at start every running node there is
 *   an orphan of a previous run of this server.
 * - `stop()` stops claiming, stops the running attempts and gives them back (queued again, the
 *   attempt not counted), so the next start runs them again without using up a retry.
 *
 * A queued run starts once depends_on_past allows and its upstream jobs' runs for its window have
 * succeeded (upstream-wait.ts). A run found waiting for upstreams is looked at again only every
 * `upstreamCheckMs`, or at once when a run of one of its upstream jobs ends on this server, and the
 * runs of one upstream job that any waiting run needs are read in one query per pass: thousands of
 * waiting runs cost a few queries every few seconds, not one per run per poll.
 *
 * An attempt's directory (`<data dir>/runs/<run>/<node>/<attempt>`, with the rendered input and
 * secrets in `in/.secret`) is removed when the attempt ends, whatever its result: the logs keep
 * what the node printed, and resolved secrets do not stay on disk.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isOptimusError } from '../core/errors.js';
import { computeWindow } from '../core/window-compute.js';
import { compileRunInput, type PluginSource, type RunInput, writeRunInput } from '../services/run-input.js';
import { runRecordFor } from '../services/runs.js';
import type { SecretCipher } from '../services/secret-cipher.js';
import { loadJobValue } from '../spec/job-spec.js';
import type { ServerConfig } from '../spec/server-config.js';
import type { RunAtTime, RunNodeRecord, RunRecord } from '../store/run-store.js';
import type { JobRecord, Json, Store } from '../store/store.js';
import type { AttemptResult, Executor } from './executor.js';
import { createLogCapture, type LogCapture } from './log-capture.js';
import { createProcessExecutor } from './process-executor.js';
import { advanceReplays } from './replay-advance.js';
import {
  type AttemptOutcome,
  finishAttempt,
  INTERRUPTED_ERROR,
  interruptNode,
  RELEASED_NOTE,
  startRun,
} from './run-state.js';
import { dueTimes, type ScheduleSpec } from './schedule.js';
import {
  type Interval,
  type UpstreamCheck,
  type UpstreamDecision,
  type UpstreamTimes,
  upstreamDecision,
  upstreamLabel,
  upstreamTimes,
  type WaitJob,
} from './upstream-wait.js';

export interface RunnerOptions {
  store: Store;
  plugins: PluginSource;
  cipher: SecretCipher;
  config: ServerConfig['scheduler'];
  /** Attempt directories go under `<dataDir>/runs`; absent (an in-memory store) = a temp dir. */
  dataDir?: string;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Default: chosen by `config.executor`. */
  executor?: Executor;
  /** Tuning, for tests and benchmarks. */
  leaseMs?: number;
  heartbeatMs?: number;
  pollMs?: number;
  schedulePassMs?: number;
  /** Runs one job's catch-up creates per scheduler pass at most. */
  maxRunsPerPass?: number;
  /** How often a run waiting for its upstream jobs' runs is looked at again (default 5 s). */
  upstreamCheckMs?: number;
  now?: () => Date;
}

export interface RunnerStats {
  owner: string;
  running: number;
  /** Attempts started and finished since start(). */
  started: number;
  finished: number;
  /** Runs the scheduler created since start(). */
  scheduled: number;
  /** Orphaned nodes interrupted since start(). */
  recovered: number;
}

export interface Runner {
  start(): Promise<void>;
  /** Graceful: stops claiming, stops running attempts and queues them again (run after a restart). */
  stop(): Promise<void>;
  /** Look for work now (after a trigger or a cancel) instead of at the next poll. */
  wake(): void;
  stats(): RunnerStats;
}

interface Attempt {
  controller: AbortController;
  /** Aborted because the server stops: given back (released), not cancelled. */
  shutdown: boolean;
  /** Aborted because this server no longer holds (or cannot renew) the node's lease. */
  leaseLost: boolean;
  /** Date.now() when it was claimed. */
  claimedAt: number;
  done: Promise<void>;
}

interface CachedJob {
  hash: string;
  job: JobRecord;
  schedule: ScheduleSpec;
  /** Nothing can be due before this; undefined = look now. */
  nextCheck?: Date;
  /** Creating its runs failed before (said once per deployed version; tried again each minute). */
  failing?: boolean;
}

/** How long a job whose runs could not be created waits before the scheduler tries again. */
const SCHEDULE_RETRY_MS = 60_000;

export const LEASE_LOST_NOTE =
  'stopped: this server lost its lease on the node (the store was unreachable too long, or another server took it over)';

const NEVER = new Date(8.64e15);

/** "attempt 2 of 3"; after a manual retry "attempt 4 (1 of 3 since the retry)": numbers go on counting. */
function attemptLabel(node: RunNodeRecord, maxAttempts: number): string {
  if (node.attemptsBefore === 0) return `attempt ${node.attempt} of ${maxAttempts}`;
  return `attempt ${node.attempt} (${node.attempt - node.attemptsBefore} of ${maxAttempts} since the retry)`;
}

/** `schedule` and `behavior.catch_up` of a deployed spec (raw JSON of job.yaml after inheritance). */
export function scheduleOf(spec: Json): ScheduleSpec {
  const obj = (v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const schedule = obj(obj(spec).schedule);
  // YAML may have read a date as a timestamp that JSON then wrote out in full.
  const day = (v: unknown) => (v === undefined || v === null ? undefined : String(v).slice(0, 10));
  return {
    interval: typeof schedule.interval === 'string' ? schedule.interval : undefined,
    startDate: day(schedule.start_date) ?? '',
    endDate: day(schedule.end_date),
    catchUp: obj(obj(spec).behavior).catch_up === true,
  };
}

export function createRunner(opts: RunnerOptions): Runner {
  const { store, logger } = opts;
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leaseMs = opts.leaseMs ?? 30_000;
  const heartbeatMs = opts.heartbeatMs ?? Math.min(1000, leaseMs / 3);
  const pollMs = opts.pollMs ?? 1000;
  const schedulePassMs = opts.schedulePassMs ?? 5000;
  const maxRunsPerPass = opts.maxRunsPerPass ?? 100;
  const now = opts.now ?? (() => new Date());
  const defaults = {
    nodeTimeoutMs: opts.config.nodeTimeoutMs,
    ...(opts.config.upstreamTimeoutMs !== undefined
      ? { upstreamTimeoutMs: opts.config.upstreamTimeoutMs }
      : {}),
  };
  const waits = createUpstreamWaits(store, opts.upstreamCheckMs ?? 5000, now);
  const inputDeps = { store, plugins: opts.plugins, cipher: opts.cipher };

  let executor: Executor | undefined = opts.executor;
  let baseDir = opts.dataDir ? join(opts.dataDir, 'runs') : '';
  let ownBaseDir = false;
  const running = new Map<string, Attempt>();
  const jobs = new Map<string, CachedJob>();
  /** Outcomes not yet recorded because the store failed; retried every pass. */
  const unrecorded: { runId: number; name: string; attempt: number; outcome: AttemptOutcome }[] = [];
  const stats = { started: 0, finished: 0, scheduled: 0, recovered: 0 };
  let started = false;
  let stopping = false;
  let lastSchedulePass = 0;
  let lastReplayPass = 0;
  /** A run ended or a replay was created or cancelled: look at the running replays at the next pass. */
  let replaysDue = true;
  let lastOrphanCheck = 0;
  let runsToStart = true;
  /** What a node needs of its run (fixed once the run exists), so each attempt need not read it again. */
  const runs = new Map<number, RunRecord>();
  let passing: Promise<void> | undefined;
  let again = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let heartbeating = false;
  /** Date.now() of the last heartbeat that renewed every lease this server holds. */
  let lastRenewed = Date.now();
  let lastHeldCheck = 0;

  const failed = (what: string, e: unknown) =>
    logger.error({ err: isOptimusError(e) ? { code: e.code, message: e.message } : e }, `runner: ${what}`);

  async function chooseExecutor(): Promise<Executor> {
    if (opts.config.executor === 'docker') {
      const { createDockerExecutor } = await import('./docker-executor.js');
      return createDockerExecutor({ host: opts.config.docker.host, network: opts.config.docker.network });
    }
    return createProcessExecutor();
  }

  /** Clean up what an orphaned node's handle still runs, then interrupt it (a failed attempt). */
  async function recover(nodes: RunNodeRecord[]): Promise<void> {
    for (const node of nodes) {
      // Ours and alive: its heartbeat was late, it is not an orphan.
      if (node.leaseOwner === owner && running.has(`${node.runId}/${node.name}`)) continue;
      try {
        if (node.handle !== null) await executor!.cleanup(node.handle);
        const after = await store.updateRun(node.runId, (run) => {
          const current = run.nodes.find((n) => n.name === node.name);
          // Someone else recovered it first, or it moved on.
          if (current?.status !== 'running' || current.attempt !== node.attempt) return undefined;
          if (current.leaseOwner !== node.leaseOwner) return undefined;
          return interruptNode(run, node.name, now());
        });
        if (after) {
          stats.recovered++;
          await store.appendLogs([
            {
              runId: node.runId,
              node: node.name,
              attempt: node.attempt,
              stream: 'system',
              at: now(),
              line: INTERRUPTED_ERROR,
            },
          ]);
          logger.warn(
            { run: node.runId, node: node.name, attempt: node.attempt },
            'runner: interrupted an orphaned node',
          );
        }
      } catch (e) {
        failed(`cannot recover node ${node.name} of run ${node.runId}`, e);
      }
    }
  }

  async function schedulePass(): Promise<void> {
    const at = now();
    const seen = new Set<string>();
    for (const project of await store.listProjects()) {
      for (const summary of await store.jobSummaries(project.name)) {
        if (stopping) return;
        const key = `${project.name}/${summary.name}`;
        seen.add(key);
        let cached = jobs.get(key);
        if (!cached || cached.hash !== summary.hash) {
          const job = await store.getJob(project.name, summary.namespaceName, summary.name);
          if (!job) continue;
          cached = { hash: job.hash, job, schedule: scheduleOf(job.spec) };
          jobs.set(key, cached);
        }
        if (cached.nextCheck && cached.nextCheck > at) continue;
        if (!cached.schedule.interval) {
          cached.nextCheck = NEVER;
          continue;
        }
        const since = await store.latestScheduledAt(project.name, summary.name, 'schedule');
        const due = dueTimes(cached.schedule, { since, now: at, max: maxRunsPerPass });
        if (due.problem) {
          logger.warn(
            { project: project.name, job: summary.name },
            `runner: job not scheduled: ${due.problem}`,
          );
          cached.nextCheck = NEVER;
          continue;
        }
        try {
          for (const time of due.times) {
            const { created } = await store.createRun(runRecordFor(cached.job, time, 'schedule', defaults));
            if (created) stats.scheduled++;
          }
          cached.nextCheck = due.next ?? NEVER;
          cached.failing = false;
        } catch (e) {
          // The store may be back in a minute; a job that cannot run at all (no run graph) is said
          // once per deployed version, not every minute.
          cached.nextCheck = new Date(at.getTime() + SCHEDULE_RETRY_MS);
          if (!cached.failing) failed(`job ${summary.name} of project ${project.name} not scheduled`, e);
          cached.failing = true;
        }
      }
    }
    for (const key of jobs.keys()) if (!seen.has(key)) jobs.delete(key);
  }

  async function startQueuedRuns(): Promise<void> {
    // Oldest first; runs held back by depends_on_past or their upstreams stay queued and are looked
    // at again. A run whose state would not change (still waiting, same note) is not written.
    const queued = await store.runsWithStatus(['queued'], 1000);
    const pastAllows: { run: RunRecord; previous: RunRecord | undefined }[] = [];
    for (const run of queued) {
      if (stopping) return;
      const previous = run.settings.dependsOnPast
        ? await store.previousRun(run.projectName, run.jobName, run.scheduledAt)
        : undefined;
      if (previous && previous.status !== 'succeeded') {
        if (startRun(run, previous, now())) {
          await store.updateRun(run.id, (current) => startRun(current, previous, now()));
        }
        continue;
      }
      pastAllows.push({ run, previous });
    }
    const { decisions, more } = await waits.decide(
      pastAllows.map((p) => p.run),
      queued.map((r) => r.id),
    );
    const began = Date.now();
    for (const [i, { run, previous }] of pastAllows.entries()) {
      if (stopping) return;
      const decision = decisions.get(run.id);
      // Waiting and not due to be looked at again yet, or left for the next pass.
      if (!decision) continue;
      if (!startRun(run, previous, now(), decision)) continue;
      await store.updateRun(run.id, (current) => startRun(current, previous, now(), decision));
      // Thousands of new waiting runs each get their note once: in slices, so that nodes are
      // claimed in between.
      if (Date.now() - began > PASS_BUDGET_MS) {
        waits.recheck(pastAllows.slice(i + 1).map((p) => p.run.id));
        wake();
        return;
      }
    }
    if (more) wake();
  }

  async function recordUnrecorded(): Promise<void> {
    while (unrecorded.length > 0) {
      const { runId, name, attempt, outcome } = unrecorded[0]!;
      await store.updateRun(runId, (run) => finishAttempt(run, name, attempt, outcome, now(), owner));
      unrecorded.shift();
    }
  }

  async function claimAndLaunch(): Promise<void> {
    const free = opts.config.concurrency - running.size;
    if (free <= 0 || stopping) return;
    for (const node of await store.claimNodes(owner, free, leaseMs)) launch(node);
  }

  function launch(node: RunNodeRecord): void {
    const key = `${node.runId}/${node.name}`;
    const controller = new AbortController();
    const attempt: Attempt = {
      controller,
      shutdown: false,
      leaseLost: false,
      claimedAt: Date.now(),
      done: Promise.resolve(),
    };
    running.set(key, attempt);
    stats.started++;
    attempt.done = (async () => {
      let outcome: AttemptOutcome;
      try {
        // Claimed just as the server began to stop: hand it back for the next start.
        if (stopping) attempt.shutdown = true;
        outcome = attempt.shutdown ? { kind: 'released' } : await execute(node, attempt);
      } catch (e) {
        failed(`node ${node.name} of run ${node.runId} failed unexpectedly`, e);
        outcome = {
          kind: 'failed',
          exitCode: null,
          error: 'the runner failed while running it (see the server log)',
        };
      }
      // Given back; if another server took the node over meanwhile, finishAttempt ignores this.
      if ((attempt.shutdown || attempt.leaseLost) && outcome.kind !== 'succeeded')
        outcome = { kind: 'released' };
      const record = { runId: node.runId, name: node.name, attempt: node.attempt, outcome };
      let runEnded = false;
      try {
        const after = await store.updateRun(node.runId, (run) =>
          finishAttempt(run, node.name, node.attempt, outcome, now(), owner),
        );
        runEnded = after?.status !== 'running';
        if (after && runEnded) waits.runEnded(after.projectName, after.jobName);
      } catch (e) {
        failed(`cannot record the end of node ${node.name} of run ${node.runId} (will retry)`, e);
        unrecorded.push(record);
      }
      running.delete(key);
      if (runEnded) runs.delete(node.runId);
      stats.finished++;
      // Its downstream nodes may be ready now; a run that ended may let a depends_on_past run start.
      if (!stopping) wake(runEnded);
    })();
  }

  async function execute(node: RunNodeRecord, attempt: Attempt): Promise<AttemptOutcome> {
    let run = runs.get(node.runId);
    if (!run) {
      run = await store.getRun(node.runId);
      if (!run) return { kind: 'failed', exitCode: null, error: 'its run is gone' };
      if (runs.size >= 1000) runs.delete(runs.keys().next().value!);
      runs.set(node.runId, run);
    }
    const dir = join(baseDir, String(node.runId), encodeURIComponent(node.name), String(node.attempt));
    let capture: LogCapture | undefined;
    const newCapture = (secrets: readonly string[]) =>
      createLogCapture({
        runId: node.runId,
        node: node.name,
        attempt: node.attempt,
        secrets,
        write: (lines) => store.appendLogs(lines),
        onWriteError: (e) => failed(`cannot store output of node ${node.name} of run ${node.runId}`, e),
      });
    try {
      let input: RunInput;
      try {
        input = await compileRunInput(inputDeps, {
          projectName: run.projectName,
          jobName: run.jobName,
          scheduledAt: run.scheduledAt,
          instanceType: node.stage === 'task' ? 'task' : 'hook',
          instanceName: node.name,
          executedAt: node.startedAt ?? now(),
          withSecrets: true,
        });
      } catch (e) {
        if (!isOptimusError(e)) throw e;
        const error = `cannot prepare its input: ${e.message}`;
        capture = newCapture([]);
        capture.system(`${attemptLabel(node, run.settings.maxAttempts)}: ${error}`);
        if (e.hint) capture.system(`hint: ${e.hint}`);
        return { kind: 'failed', exitCode: null, error };
      }
      capture = newCapture(input.maskValues);
      if (input.job.hash !== run.jobHash) {
        capture.system(
          'the job was deployed again after this run was created: running the version deployed now',
        );
      }
      for (const warning of input.warnings) capture.system(`warning: ${warning}`);
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      try {
        await writeRunInput(dir, input);
      } catch (e) {
        if (!isOptimusError(e)) throw e;
        const error = `cannot write its input: ${e.message}`;
        capture.system(error);
        return { kind: 'failed', exitCode: null, error };
      }
      capture.system(
        `${attemptLabel(node, run.settings.maxAttempts)} started (${executor!.kind} executor, ${input.plugin.image})`,
      );
      const handleWrites: Promise<unknown>[] = [];
      const out = capture;
      const result: AttemptResult = await executor!.run({
        runId: node.runId,
        node: node.name,
        attempt: node.attempt,
        image: input.plugin.image,
        entrypoint: input.plugin.entrypoint,
        workDir: dir,
        env: { ...input.envs, ...input.secrets },
        timeoutMs: run.settings.timeoutMs,
        signal: attempt.controller.signal,
        onOutput: (stream, chunk) => out.output(stream, chunk),
        onHandle: (handle) => {
          handleWrites.push(
            store
              .updateRun(node.runId, (r) => {
                const n = r.nodes.find((x) => x.name === node.name);
                if (n?.status !== 'running' || n.attempt !== node.attempt || n.leaseOwner !== owner)
                  return undefined;
                return { nodes: [{ name: node.name, handle }] };
              })
              .catch((e) => failed(`cannot record the handle of node ${node.name}`, e)),
          );
        },
      });
      await Promise.all(handleWrites);
      capture.endOutput();
      if (result.succeeded) {
        capture.system(`succeeded (exit code ${result.exitCode ?? 0})`);
        return { kind: 'succeeded', exitCode: result.exitCode ?? 0 };
      }
      if (result.cancelled) {
        capture.system(attempt.leaseLost ? LEASE_LOST_NOTE : attempt.shutdown ? RELEASED_NOTE : 'cancelled');
        return { kind: 'cancelled', exitCode: result.exitCode };
      }
      const error =
        result.error ?? (result.exitCode === null ? 'failed' : `exited with code ${result.exitCode}`);
      capture.system(`failed: ${error}`);
      return {
        kind: 'failed',
        exitCode: result.exitCode,
        error,
        ...(result.timedOut ? { timedOut: true } : {}),
      };
    } finally {
      await capture?.close();
      await rm(dir, { recursive: true, force: true }).catch((e) => failed(`cannot remove ${dir}`, e));
    }
  }

  /**
   * Renews the leases of the running nodes and stops those whose run was cancelled. A node runs
   * only while this server holds its lease: one whose lease another server took over (it thought
   * this one dead), or whose lease this server could not renew before it ran out (the store was
   * unreachable), is stopped here, so two servers never run one node at once.
   */
  async function heartbeat(): Promise<void> {
    if (heartbeating) return;
    if (running.size === 0) {
      lastRenewed = Date.now();
      return;
    }
    heartbeating = true;
    const began = Date.now();
    try {
      for (const { runId, name } of await store.renewLeases(owner, leaseMs)) {
        running.get(`${runId}/${name}`)?.controller.abort();
      }
      lastRenewed = began;
      if (began - lastHeldCheck >= leaseMs / 3) {
        lastHeldCheck = began;
        const held = new Set((await store.orphanedNodes({ owner })).map((n) => `${n.runId}/${n.name}`));
        for (const [key, attempt] of running) {
          if (!held.has(key) && attempt.claimedAt < began) loseLease(key, attempt);
        }
      }
    } catch (e) {
      failed('cannot renew leases', e);
    } finally {
      heartbeating = false;
    }
    // Stop before the lease can run out (with two heartbeats to spare), not after.
    if (Date.now() - lastRenewed > leaseMs - 2 * heartbeatMs) {
      for (const [key, attempt] of running) loseLease(key, attempt);
    }
  }

  function loseLease(key: string, attempt: Attempt): void {
    if (attempt.leaseLost || attempt.shutdown) return;
    attempt.leaseLost = true;
    logger.warn({ node: key }, `runner: ${LEASE_LOST_NOTE}`);
    attempt.controller.abort();
  }

  async function pass(): Promise<void> {
    const steps: [string, () => Promise<void>][] = [
      ['cannot record finished nodes', recordUnrecorded],
      [
        'cannot check for orphaned nodes',
        async () => {
          // A lease outlives a dead server by up to leaseMs anyway: looking a few times per lease is enough.
          if (Date.now() - lastOrphanCheck < leaseMs / 3) return;
          lastOrphanCheck = Date.now();
          await recover(await store.orphanedNodes());
        },
      ],
      [
        'scheduler pass failed',
        async () => {
          if (Date.now() - lastSchedulePass < schedulePassMs) return;
          lastSchedulePass = Date.now();
          await schedulePass();
        },
      ],
      [
        'cannot advance replays',
        async () => {
          // After a run ended here (its replay may go on), and every scheduler pass for replays that
          // runs on other servers moved on.
          if (!replaysDue && Date.now() - lastReplayPass < schedulePassMs) return;
          replaysDue = false;
          lastReplayPass = Date.now();
          if ((await advanceReplays({ store, now: now(), logger, defaults })) > 0) runsToStart = true;
        },
      ],
      [
        'cannot start queued runs',
        async () => {
          if (!runsToStart) return;
          runsToStart = false;
          await startQueuedRuns();
        },
      ],
      ['cannot claim nodes', claimAndLaunch],
    ];
    for (const [what, step] of steps) {
      if (stopping) return;
      try {
        await step();
      } catch (e) {
        failed(what, e);
      }
    }
  }

  /** `lookForRuns` false: only claim nodes (a node ended, its run goes on: no run can have become startable). */
  function wake(lookForRuns = true): void {
    if (!started || stopping) return;
    if (lookForRuns) {
      runsToStart = true;
      replaysDue = true;
    }
    if (passing) {
      again = true;
      return;
    }
    passing = (async () => {
      do {
        again = false;
        await pass();
      } while (again && !stopping);
    })().finally(() => {
      passing = undefined;
    });
  }

  return {
    async start() {
      if (started) return;
      executor ??= await chooseExecutor();
      if (!baseDir) {
        baseDir = await mkdtemp(join(tmpdir(), 'optimus-runs-'));
        ownBaseDir = true;
      }
      await mkdir(baseDir, { recursive: true });
      // Only one server opens an embedded store, so whatever runs there is left from before.
      await recover(store.kind === 'pglite' ? await store.runningNodes() : await store.orphanedNodes());
      started = true;
      lastRenewed = Date.now();
      pollTimer = setInterval(() => wake(), pollMs);
      heartbeatTimer = setInterval(() => void heartbeat(), heartbeatMs);
      pollTimer.unref();
      heartbeatTimer.unref();
      logger.info({ owner, executor: executor.kind, concurrency: opts.config.concurrency }, 'runner started');
      wake();
    },

    async stop() {
      if (!started || stopping) return;
      stopping = true;
      clearInterval(pollTimer);
      clearInterval(heartbeatTimer);
      // Let a pass in progress end first: it may still launch nodes it claimed, which then stop at once.
      await passing;
      for (const attempt of running.values()) {
        attempt.shutdown = true;
        attempt.controller.abort();
      }
      await Promise.all([...running.values()].map((a) => a.done));
      await recordUnrecorded().catch((e) => failed('cannot record finished nodes', e));
      if (ownBaseDir) await rm(baseDir, { recursive: true, force: true });
      logger.info({ owner }, 'runner stopped');
    },

    wake: () => wake(),

    stats: () => ({ owner, running: running.size, ...stats }),
  };
}

/** Jobs, project presets and computed upstream times a waiting run needs, read at most this often. */
interface ReadJob {
  readAt: number;
  job?: JobRecord;
  /** What the wait reads of the job's spec; undefined when the spec cannot be read. */
  wait?: WaitJob;
  /** Changes when anything `wait` was computed from does (the job's hash, its project's presets). */
  version: string;
}

/**
 * Time one pass spends on deciding and noting waiting runs before it lets nodes be claimed (the
 * next pass goes on where this one stopped): finding an upstream's times takes up to tens of ms.
 */
const PASS_BUDGET_MS = 250;

/** Computed upstream times kept at most (a few per waiting run). */
const MAX_CACHED_TIMES = 20_000;
/** Scheduled times per newestRunsAt query: bounds one statement's parameters. */
const TIMES_PER_QUERY = 5000;

/**
 * The runner's side of waiting for upstream jobs: decides, for the queued runs it is given, which
 * may start, reading what upstream-wait.ts needs with as few queries as it can (see the module
 * comment), and remembers the runs still waiting and when to look at them again.
 */
function createUpstreamWaits(store: Store, checkMs: number, now: () => Date) {
  const jobs = new Map<string, ReadJob>();
  const presets = new Map<string, { readAt: number; presets: Record<string, Json> | null; key: string }>();
  const times = new Map<string, UpstreamTimes>();
  /** Run id → when to look at it again, and the upstream jobs (`project/job`) it waits for. */
  const waiting = new Map<number, { nextCheck: number; upstreams: string[] }>();
  /** Jobs with a run that ended on this server since the last decide(). */
  let ended = new Set<string>();

  async function presetsOf(project: string, at: number) {
    let entry = presets.get(project);
    if (!entry || at - entry.readAt >= checkMs) {
      const windowPresets = (await store.getProject(project))?.windowPresets ?? null;
      entry = { readAt: at, presets: windowPresets, key: JSON.stringify(windowPresets) };
      presets.set(project, entry);
    }
    return entry;
  }

  async function readJob(project: string, name: string, at: number): Promise<ReadJob> {
    const key = `${project}/${name}`;
    const cached = jobs.get(key);
    if (cached && at - cached.readAt < checkMs) return cached;
    const job = await store.findJob(project, name);
    if (!job) {
      const gone: ReadJob = { readAt: at, version: '' };
      jobs.set(key, gone);
      return gone;
    }
    const p = await presetsOf(project, at);
    const version = `${job.hash}|${p.key}`;
    if (cached?.job && cached.version === version) {
      // Same spec and presets: keep what was derived from them, take the fresh upstreams.
      const fresh: ReadJob = { ...cached, readAt: at, job };
      jobs.set(key, fresh);
      return fresh;
    }
    const entry: ReadJob = { readAt: at, job, version };
    const wait = waitJobOf(job, p.presets);
    if (wait) entry.wait = wait;
    jobs.set(key, entry);
    return entry;
  }

  function timesFor(upKey: string, up: ReadJob, window: Interval): UpstreamTimes {
    const key = `${upKey}@${up.version}|${window.start.getTime()}|${window.end.getTime()}`;
    let found = times.get(key);
    if (!found) {
      found = up.wait
        ? upstreamTimes(up.wait, window)
        : { times: [], truncated: false, problem: 'its deployed spec cannot be read; deploy it again' };
      if (times.size >= MAX_CACHED_TIMES) times.delete(times.keys().next().value!);
      times.set(key, found);
    }
    return found;
  }

  return {
    /** Look at these runs on the next pass (what was decided for them was not applied). */
    recheck(ids: readonly number[]) {
      for (const id of ids) waiting.delete(id);
    },

    /** A run of this job ended on this server: the runs waiting for it are looked at on the next pass. */
    runEnded(project: string, job: string) {
      ended.add(`${project}/${job}`);
    },

    /**
     * Decisions for those of `runs` due to be looked at (a run missing from the result is waiting
     * and was looked at less than `checkMs` ago). `queuedIds`: every run still queued, so that
     * what is remembered of runs that left the queue is dropped. `more`: runs were left for the
     * next pass, as deciding them all would have taken longer than PASS_BUDGET_MS.
     */
    async decide(
      runs: readonly RunRecord[],
      queuedIds: readonly number[],
    ): Promise<{ decisions: Map<number, UpstreamDecision>; more: boolean }> {
      const at = now().getTime();
      const began = Date.now();
      let more = false;
      const justEnded = ended;
      ended = new Set();
      const stillQueued = new Set(queuedIds);
      for (const id of waiting.keys()) if (!stillQueued.has(id)) waiting.delete(id);

      const decisions = new Map<number, UpstreamDecision>();
      const pending: { run: RunRecord; checks: { label: string; key: string; times: UpstreamTimes }[] }[] =
        [];
      /** Upstream job → the scheduled times any pending run needs, by epoch ms. */
      const wanted = new Map<string, Map<number, Date>>();
      for (const run of runs) {
        if (run.trigger === 'replay') {
          decisions.set(run.id, { ready: true });
          continue;
        }
        const w = waiting.get(run.id);
        if (w && w.nextCheck > at && !w.upstreams.some((k) => justEnded.has(k))) continue;
        if (Date.now() - began > PASS_BUDGET_MS) {
          more = true;
          // The runs left for the next pass may wait for these jobs too.
          for (const k of justEnded) ended.add(k);
          break;
        }
        const own = await readJob(run.projectName, run.jobName, at);
        const edges = own.job?.upstreams ?? [];
        let window: Interval | undefined;
        try {
          if (own.wait) window = computeWindow(own.wait.window, run.scheduledAt);
        } catch {
          // Its own window cannot be computed: the run starts and fails preparing its input, saying why.
        }
        if (edges.length === 0 || !window) {
          decisions.set(run.id, { ready: true });
          continue;
        }
        const checks: (typeof pending)[number]['checks'] = [];
        for (const edge of edges) {
          const key = `${edge.project}/${edge.job}`;
          const up = await readJob(edge.project, edge.job, at);
          // A deleted upstream imposes nothing.
          if (!up.job) continue;
          const found = timesFor(key, up, window);
          const label = upstreamLabel(run.projectName, { ...edge, namespace: up.job.namespaceName });
          checks.push({ label, key, times: found });
          const set = wanted.get(key) ?? new Map<number, Date>();
          wanted.set(key, set);
          for (const t of found.times) set.set(t.getTime(), t);
        }
        pending.push({ run, checks });
      }

      const newest = new Map<string, RunAtTime[]>();
      for (const [key, set] of wanted) {
        const all = [...set.values()];
        const found: RunAtTime[] = [];
        const slash = key.indexOf('/');
        for (let i = 0; i < all.length; i += TIMES_PER_QUERY) {
          found.push(
            ...(await store.newestRunsAt(
              key.slice(0, slash),
              key.slice(slash + 1),
              all.slice(i, i + TIMES_PER_QUERY),
            )),
          );
        }
        newest.set(key, found);
      }

      const decidedAt = now();
      for (const { run, checks } of pending) {
        const full: UpstreamCheck[] = checks.map((c) => {
          const mine = new Set(c.times.times.map((t) => t.getTime()));
          return {
            label: c.label,
            times: c.times,
            runs: (newest.get(c.key) ?? []).filter((r) => mine.has(r.scheduledAt.getTime())),
          };
        });
        const decision = upstreamDecision(run, full, decidedAt);
        decisions.set(run.id, decision);
        if (decision.ready || decision.timedOut) waiting.delete(run.id);
        else waiting.set(run.id, { nextCheck: at + checkMs, upstreams: checks.map((c) => c.key) });
      }
      return { decisions, more };
    },
  };
}

/** What the wait reads of a deployed job: its window (with its project's presets) and schedule. */
function waitJobOf(job: JobRecord, presets: Record<string, Json> | null): WaitJob | undefined {
  const spec = loadJobValue(job.spec, []).spec;
  if (!spec) return undefined;
  return {
    window: {
      version: spec.version,
      ...(spec.task.window ? { window: spec.task.window } : {}),
      ...(spec.schedule.interval ? { interval: spec.schedule.interval } : {}),
      presets,
    },
    schedule: scheduleOf(job.spec),
  };
}
