/**
 * Runs a node as a child process: the plugin's entrypoint (`shell -c script`, or its `args` run directly) in the attempt's work
 * directory, with the node's environment, `JOB_DIR` and the server's `PATH`. The child leads its
 * own process group, so a timeout or a cancel stops everything it started (SIGTERM to the group,
 * SIGKILL after a grace period), and when the entrypoint itself exits, whatever it left running in
 * the background is killed too, as a container's would be.
 *
 * The handle (`{kind:'process', host, pid, startTicks}`) lets a restarted server kill a group left
 * behind by a server that died: the kernel's start time of the pid (/proc/<pid>/stat field 22)
 * tells it apart from an unrelated process that got the same pid later.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Json } from '../store/store.js';
import { type AttemptResult, attemptTimer, type Executor, type NodeAttempt } from './executor.js';

export interface ProcessExecutorOptions {
  /** Between SIGTERM and SIGKILL (default 5 s). */
  graceMs?: number;
  /** The server's PATH, given to every node (default this process's). */
  path?: string;
}

export interface ProcessHandle {
  kind: 'process';
  host: string;
  pid: number;
  startTicks: number;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Field 22 (starttime, in clock ticks since boot); fields after the name start at field 3. */
export function startTicksOf(pid: number): number | undefined {
  const f = statFields(pid)?.[22 - 3];
  return f === undefined ? undefined : Number(f);
}

/** Field 5 (process group). */
function groupOf(pid: number): number | undefined {
  const f = statFields(pid)?.[5 - 3];
  return f === undefined ? undefined : Number(f);
}

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function noEntrypointError(attempt: Pick<NodeAttempt, 'node' | 'image'>): string {
  return (
    `the plugin of node ${attempt.node} (${attempt.image}) has no entrypoint ` +
    '(a legacy v1 plugin runs only with the docker executor: set scheduler.executor: docker)'
  );
}

export function createProcessExecutor(opts: ProcessExecutorOptions = {}): Executor {
  const graceMs = opts.graceMs ?? 5000;
  const serverPath = opts.path ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  const host = hostname();

  return {
    kind: 'process',

    run(attempt: NodeAttempt): Promise<AttemptResult> {
      if (!attempt.entrypoint) {
        return Promise.resolve({
          exitCode: null,
          succeeded: false,
          timedOut: false,
          cancelled: false,
          error: noEntrypointError(attempt),
        });
      }
      if (attempt.signal.aborted) {
        return Promise.resolve({
          exitCode: null,
          succeeded: false,
          timedOut: false,
          cancelled: true,
          error: 'cancelled',
        });
      }
      // The exec form runs its program directly; the script form through the shell.
      const [program, ...argv] = attempt.entrypoint.args?.length
        ? attempt.entrypoint.args
        : [attempt.entrypoint.shell || '/bin/sh', '-c', attempt.entrypoint.script];
      return new Promise((resolve) => {
        let child: ReturnType<typeof spawn>;
        try {
          child = spawn(program!, argv, {
            cwd: attempt.workDir,
            env: { PATH: serverPath, ...attempt.env, JOB_DIR: attempt.workDir },
            detached: true,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
        } catch (e) {
          // Thrown synchronously for an environment Node cannot pass (a NUL in a value).
          resolve({
            exitCode: null,
            succeeded: false,
            timedOut: false,
            cancelled: false,
            error: `cannot start ${program}: ${(e as Error).message}`,
          });
          return;
        }
        let timedOut = false;
        let cancelled = false;
        let exitCode: number | null = null;
        let spawnError: string | undefined;
        let killTimer: NodeJS.Timeout | undefined;
        const pid = child.pid;

        const stop = () => {
          if (pid === undefined || killTimer) return;
          killGroup(pid, 'SIGTERM');
          killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
        };
        const timeout = attemptTimer(attempt.timeoutMs, () => {
          timedOut = true;
          stop();
        });
        const onAbort = () => {
          cancelled = true;
          stop();
        };
        attempt.signal.addEventListener('abort', onAbort, { once: true });

        if (pid !== undefined) {
          const startTicks = startTicksOf(pid);
          if (startTicks !== undefined) {
            const handle: ProcessHandle = { kind: 'process', host, pid, startTicks };
            attempt.onHandle(handle as unknown as Json);
          }
        }
        child.stdout!.on('data', (chunk: Buffer) => attempt.onOutput('stdout', chunk));
        child.stderr!.on('data', (chunk: Buffer) => attempt.onOutput('stderr', chunk));
        child.on('error', (e: NodeJS.ErrnoException) => {
          spawnError =
            e.code === 'ENOENT'
              ? `cannot start ${program}: no such program (or the work directory is gone)`
              : `cannot start ${program}: ${e.message}`;
        });
        child.on('exit', (code) => {
          exitCode = code;
          // The entrypoint is done: what it left in the background goes with it, else those
          // processes would keep the output pipes (and this attempt) open.
          if (pid !== undefined) killGroup(pid, 'SIGKILL');
        });
        child.on('close', () => {
          clearTimeout(timeout);
          if (killTimer) clearTimeout(killTimer);
          attempt.signal.removeEventListener('abort', onAbort);
          if (spawnError) {
            resolve({
              exitCode: null,
              succeeded: false,
              timedOut: false,
              cancelled: false,
              error: spawnError,
            });
          } else if (timedOut) {
            resolve({
              exitCode,
              succeeded: false,
              timedOut: true,
              cancelled: false,
              error: `timed out after ${formatDuration(attempt.timeoutMs)} (behavior.timeout, or the server's scheduler.node_timeout)`,
            });
          } else if (cancelled) {
            resolve({ exitCode, succeeded: false, timedOut: false, cancelled: true, error: 'cancelled' });
          } else if (exitCode === 0) {
            resolve({ exitCode: 0, succeeded: true, timedOut: false, cancelled: false });
          } else {
            resolve({
              exitCode,
              succeeded: false,
              timedOut: false,
              cancelled: false,
              error: exitCode === null ? 'killed by a signal' : `exited with code ${exitCode}`,
            });
          }
        });
      });
    },

    async cleanup(raw: Json): Promise<void> {
      const handle = raw as unknown as Partial<ProcessHandle> | null;
      if (handle?.kind !== 'process' || handle.host !== host) return;
      const { pid, startTicks } = handle;
      if (typeof pid !== 'number' || typeof startTicks !== 'number' || pid <= 1) return;
      const ticks = startTicksOf(pid);
      if (ticks !== undefined) {
        // Alive: ours only if it started when ours did; otherwise the pid was reused.
        if (ticks === startTicks) killGroup(pid, 'SIGKILL');
        return;
      }
      // The leader is gone but what it started may live on in its group (the kernel keeps a group's
      // id from being reused while any member lives): kill those that started after it.
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const member = Number(entry);
        if (groupOf(member) !== pid) continue;
        const t = startTicksOf(member);
        if (t !== undefined && t >= startTicks) {
          try {
            process.kill(member, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
      }
    },
  };
}
