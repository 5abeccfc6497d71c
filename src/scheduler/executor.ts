/**
 * How one attempt of one node is executed. The runner prepares everything (a fresh work directory
 * with the rendered input in `in/`, the environment, the timeout) and hands it to an executor: the
 * process executor runs the plugin's entrypoint as a child process, the docker executor runs it in
 * the plugin's image. Executors never see the store; they report output and their handle through
 * callbacks and resolve when the attempt is over. They throw only for bugs: every expected failure
 * (missing entrypoint, image not found, timeout, cancel, non-zero exit) is an `AttemptResult`.
 */
import type { Entrypoint } from '../core/plugin.js';
import type { Json } from '../store/store.js';

export interface NodeAttempt {
  runId: number;
  node: string;
  attempt: number;
  /** The plugin's image reference (`image:tag`) and its entrypoint; absent entrypoint = legacy v1 plugin. */
  image: string;
  entrypoint?: Entrypoint;
  /**
   * A fresh directory owned by this attempt. The run input is already written to `in/` (assets,
   * `in/.env`, `in/.secret`). Process executor: `JOB_DIR` = this directory; docker executor: it is
   * mounted at `/data` and `JOB_DIR=/data`.
   */
  workDir: string;
  /** Every variable the node gets: rendered envs, resolved secrets and system variables (JOB_NAME, …), without JOB_DIR. */
  env: Record<string, string>;
  /** Kill the attempt after this many ms (result `timedOut`). */
  timeoutMs: number;
  /** Aborted when the run is cancelled or the server shuts down: kill the attempt (result `cancelled`). */
  signal: AbortSignal;
  /** Raw output as it arrives; the runner splits lines, masks secrets and stores them. */
  onOutput(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  /** Called once the attempt is started, with what identifies it for clean-up after a crash. */
  onHandle(handle: Json): void;
}

export interface AttemptResult {
  /** Process exit code, null when killed by a signal or never started. */
  exitCode: number | null;
  /** succeeded = exit code 0 and neither timed out nor cancelled. */
  succeeded: boolean;
  timedOut: boolean;
  cancelled: boolean;
  /** Why it failed, in words for the user (e.g. "exited with code 3", "timed out after 30s", "image not found"). */
  error?: string;
}

export interface Executor {
  readonly kind: 'process' | 'docker';
  run(attempt: NodeAttempt): Promise<AttemptResult>;
  /**
   * Stops what a handle from an earlier server instance still runs, if it still runs (a server
   * killed with SIGKILL leaves its children behind). Must be safe to call for a handle that is gone
   * or belongs to another host.
   */
  cleanup(handle: Json): Promise<void>;
}

/** The longest delay a Node timer holds (about 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Calls `onTimeout` once `timeoutMs` have passed (a longer timeout than a timer holds waits the
 * longest it can). No timer for a timeout that is not a positive finite number. Clear it with clearTimeout.
 */
export function attemptTimer(timeoutMs: number, onTimeout: () => void): NodeJS.Timeout | undefined {
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) return undefined;
  return setTimeout(onTimeout, Math.min(timeoutMs, MAX_TIMER_MS));
}
