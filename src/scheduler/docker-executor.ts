/**
 * The docker executor: one attempt of one node is one `docker run --rm` of the plugin's image, with
 * the attempt's work directory mounted at /data (JOB_DIR=/data) and the node's environment.
 *
 * Choices worth knowing:
 * - Env values never reach the command line, where `ps` would show them: the CLI gets `-e NAME` and
 *   the value sits in the docker CLI process's own environment, from which docker copies it (so
 *   multi-line values work). Names the CLI reads itself (PATH, HOME, DOCKER_*, proxies) cannot ride
 *   that way without changing how the CLI behaves, so those go through a private `--env-file`.
 * - The container runs as the server's uid:gid (`--user`): it can read and write /data, and what it
 *   writes there stays removable by the server without root.
 * - An entrypoint `{shell, script}` replaces the image's own entrypoint (`--entrypoint shell … -c
 *   script`), as Kubernetes `command` does for the Airflow scheduler; the exec form `{args}` runs
 *   `--entrypoint args[0] image args[1..]`; without one (legacy v1 plugin) the image's own
 *   entrypoint runs with no command.
 * - Timeout and cancel `docker kill` the container (`--rm` then removes it), not the CLI: a killed
 *   CLI leaves its container running. A final `docker rm -f` makes sure nothing is left.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { OptimusError } from '../core/errors.js';
import type { Json } from '../store/store.js';
import { type AttemptResult, attemptTimer, type Executor, type NodeAttempt } from './executor.js';
import { formatDuration } from './process-executor.js';

export interface DockerExecutorOptions {
  /** The docker CLI to run (default `docker` on PATH). */
  binary?: string;
  /** DOCKER_HOST for the CLI; default: whatever the CLI uses on its own. */
  host?: string;
  /** `docker run --network` (`none`, `host`, or a network the engine knows). */
  network: string;
  /**
   * `missing` (default): docker pulls an image it does not have. `never`: only local images; an
   * absent image fails the attempt at once instead of waiting on a registry.
   */
  pullPolicy?: 'never' | 'missing';
}

export interface DockerHandle {
  kind: 'docker';
  container: string;
}

/** How long a stopped attempt's CLI may take to exit before it is killed itself. */
const KILL_GRACE_MS = 30_000;
const KILL_RETRY_MS = 200;
/** What is kept of the CLI's stderr to explain a failure (docker's own messages come last). */
const STDERR_TAIL_BYTES = 8_192;
const CONTAINER_NAME = /^optimus-[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Names the docker CLI reads from its own environment: a node's value must not replace them. */
function cliOwnsName(name: string): boolean {
  return (
    name === 'PATH' ||
    name === 'HOME' ||
    name === 'TMPDIR' ||
    name.startsWith('DOCKER_') ||
    /^(https?_proxy|no_proxy|all_proxy)$/i.test(name)
  );
}

/**
 * `optimus-<run>-<node>-<attempt>-<random>`: readable in `docker ps`, a valid container name for
 * any node name, and unique even when two stores (two test databases, two servers) share an engine
 * and hand out the same run ids.
 */
export function containerName(runId: number, node: string, attempt: number): string {
  const safeNode =
    node
      .replace(/[^a-zA-Z0-9_.-]+/g, '_')
      .replace(/^[^a-zA-Z0-9]+/, '')
      .slice(0, 80) || 'node';
  return `optimus-${runId}-${safeNode}-${attempt}-${randomBytes(3).toString('hex')}`;
}

/** A `--mount` field quoted as the CLI's CSV parser expects, so paths with `,` or `:` survive. */
function mountField(key: string, value: string): string {
  return `"${key}=${value.replaceAll('"', '""')}"`;
}

function failed(error: string, exitCode: number | null = null): AttemptResult {
  return { exitCode, succeeded: false, timedOut: false, cancelled: false, error };
}

/** The line of docker's stderr that says what went wrong, without the CLI's `docker: ` prefix. */
function dockerMessage(stderr: string, pattern?: RegExp): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("Run 'docker"));
  const line = (pattern && lines.findLast((l) => pattern.test(l))) || lines.at(-1) || '';
  return line.replace(/^docker: /, '').replace(/\.$/, '');
}

const UNREACHABLE =
  /Cannot connect to the Docker daemon|error during connect|dial unix .*: connect:|Is the docker daemon running/i;
const IMAGE_MISSING =
  /Unable to find image|No such image|pull access denied|manifest unknown|repository does not exist|not found: manifest|failed to resolve reference/i;
const ENTRYPOINT_FAILED =
  /OCI runtime (create|exec) failed|starting container process caused|unable to start container process/i;

export function createDockerExecutor(options: DockerExecutorOptions): Executor {
  const binary = options.binary ?? 'docker';
  const pullPolicy = options.pullPolicy ?? 'missing';
  const engine = options.host ?? process.env.DOCKER_HOST ?? 'the default docker socket';

  /** The CLI's environment before a node's variables are added. */
  function baseEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) {
      // Only what the CLI itself needs: the server's other variables (its app key, DATABASE_URL)
      // have no business in a process that talks to the engine.
      if (value !== undefined && (cliOwnsName(name) || name === 'LANG' || name.startsWith('XDG_')))
        env[name] = value;
    }
    if (options.host) env.DOCKER_HOST = options.host;
    return env;
  }

  function unreachable(detail: string): string {
    return `cannot reach the docker engine (${engine}: ${detail}): start dockerd or set scheduler.docker.host`;
  }

  function imageMissing(image: string, detail: string): string {
    return `image ${image} is not available to the docker engine (${detail}): load or build it, or check the registry`;
  }

  function notInstalled(): string {
    return `the docker CLI (${binary}) was not found: install docker, or use scheduler.executor: process`;
  }

  /** Runs a short docker command; resolves with its exit code and output, never rejects. */
  function docker(
    args: string[],
  ): Promise<{ code: number | null; stdout: string; stderr: string; missing?: true }> {
    return new Promise((done) => {
      execFile(binary, args, { env: baseEnv(), timeout: 60_000 }, (error, stdout, stderr) => {
        const err = error as (NodeJS.ErrnoException & { code?: unknown }) | null;
        if (err?.code === 'ENOENT') return done({ code: null, stdout: '', stderr: '', missing: true });
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  async function run(attempt: NodeAttempt): Promise<AttemptResult> {
    const name = containerName(attempt.runId, attempt.node, attempt.attempt);
    if (attempt.signal.aborted) return { ...failed('cancelled before it started'), cancelled: true };

    if (pullPolicy === 'never') {
      const inspect = await docker(['image', 'inspect', '--format', '{{.Id}}', attempt.image]);
      if (inspect.missing) return failed(notInstalled());
      if (inspect.code !== 0) {
        if (UNREACHABLE.test(inspect.stderr))
          return failed(unreachable(dockerMessage(inspect.stderr, UNREACHABLE)));
        return failed(imageMissing(attempt.image, dockerMessage(inspect.stderr) || 'not found locally'));
      }
    }

    const env = baseEnv();
    const args = [
      'run',
      '--rm',
      '--name',
      name,
      '--label',
      `optimus.run=${attempt.runId}`,
      '--label',
      `optimus.node=${attempt.node}`,
      '--label',
      `optimus.attempt=${attempt.attempt}`,
      '--network',
      options.network,
      '--pull',
      pullPolicy,
      '--mount',
      ['type=bind', mountField('source', resolve(attempt.workDir)), 'target=/data'].join(','),
      '--workdir',
      '/data',
      '-e',
      'JOB_DIR=/data',
    ];
    if (process.getuid && process.getgid) args.push('--user', `${process.getuid()}:${process.getgid()}`);

    const fileLines: string[] = [];
    for (const [key, value] of Object.entries(attempt.env)) {
      if (key === 'JOB_DIR') continue;
      if (!key || key.includes('=') || key.includes('\0') || value.includes('\0'))
        return failed(
          `variable ${JSON.stringify(key)} cannot be passed to a container (bad name or a NUL byte in its value)`,
        );
      if (cliOwnsName(key)) {
        if (/[\r\n]/.test(value) || /\s/.test(key))
          return failed(
            `variable ${key} has a multi-line value, and ${key} is a name the docker CLI reads itself: rename the variable`,
          );
        fileLines.push(`${key}=${value}`);
      } else {
        env[key] = value;
        args.push('-e', key);
      }
    }
    let envDir: string | undefined;
    if (fileLines.length > 0) {
      envDir = mkdtempSync(join(tmpdir(), 'optimus-docker-env-'));
      const file = join(envDir, 'env');
      writeFileSync(file, `${fileLines.join('\n')}\n`, { mode: 0o600 });
      args.push('--env-file', file);
    }

    if (attempt.entrypoint?.args?.length) {
      // The exec form: its program replaces the image's entrypoint, its arguments follow the image.
      const [program, ...rest] = attempt.entrypoint.args;
      args.push('--entrypoint', program!, attempt.image, ...rest);
    } else if (attempt.entrypoint) {
      args.push(
        '--entrypoint',
        attempt.entrypoint.shell || '/bin/sh',
        attempt.image,
        '-c',
        attempt.entrypoint.script,
      );
    } else {
      args.push(attempt.image);
    }

    try {
      return await execute(attempt, name, args, env);
    } finally {
      if (envDir) rmSync(envDir, { recursive: true, force: true });
    }
  }

  function execute(
    attempt: NodeAttempt,
    name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
  ): Promise<AttemptResult> {
    return new Promise((done) => {
      let child: ChildProcess;
      try {
        child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        done(failed(`cannot start the docker CLI: ${(e as Error).message}`));
        return;
      }

      let stopped: 'timedOut' | 'cancelled' | undefined;
      let stderrTail = '';
      let spawnError: NodeJS.ErrnoException | undefined;
      let graceTimer: NodeJS.Timeout | undefined;
      let exited = false;

      child.stdout?.on('data', (chunk: Buffer) => attempt.onOutput('stdout', chunk));
      child.stderr?.on('data', (chunk: Buffer) => {
        attempt.onOutput('stderr', chunk);
        stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
      });
      child.on('error', (e) => {
        spawnError = e;
      });

      const stop = (why: 'timedOut' | 'cancelled') => {
        if (stopped || exited) return;
        stopped = why;
        void (async () => {
          // Until the CLI has created and started the container, `docker kill` finds nothing to
          // kill; killing the CLI instead could race a create still in flight in the engine and
          // leave a container nobody removes. So keep asking until the container dies with the CLI.
          while (!exited) {
            if ((await docker(['kill', name])).code === 0) return;
            await new Promise((r) => setTimeout(r, KILL_RETRY_MS));
          }
        })();
        // The engine may have stopped answering: do not wait on the CLI for ever.
        graceTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      };

      const timeoutMs = attempt.timeoutMs;
      const timer = attemptTimer(timeoutMs, () => stop('timedOut'));
      const onAbort = () => stop('cancelled');
      attempt.signal.addEventListener('abort', onAbort, { once: true });
      // Only now: the callback may abort, and that must find the listener in place.
      attempt.onHandle({ kind: 'docker', container: name } satisfies DockerHandle);
      if (attempt.signal.aborted) stop('cancelled');

      child.on('close', (code) => {
        exited = true;
        if (timer) clearTimeout(timer);
        if (graceTimer) clearTimeout(graceTimer);
        attempt.signal.removeEventListener('abort', onAbort);
        const finish = async (): Promise<AttemptResult> => {
          if (spawnError) {
            return failed(
              spawnError.code === 'ENOENT'
                ? notInstalled()
                : `cannot run the docker CLI: ${spawnError.message}`,
            );
          }
          if (stopped) {
            let error =
              stopped === 'timedOut'
                ? `timed out after ${formatDuration(timeoutMs)} (behavior.timeout, or the server's scheduler.node_timeout)`
                : 'cancelled';
            await removeContainer(name).catch((e: Error) => {
              error += ` (${e.message})`;
            });
            return {
              exitCode: null,
              succeeded: false,
              timedOut: stopped === 'timedOut',
              cancelled: stopped === 'cancelled',
              error,
            };
          }
          if (code === 0) return { exitCode: 0, succeeded: true, timedOut: false, cancelled: false };
          return classify(attempt, code, stderrTail);
        };
        void finish().then(done);
      });
    });
  }

  /** Explains a non-zero exit of `docker run`: docker's own failures (125-127) or the node's code. */
  function classify(attempt: NodeAttempt, code: number | null, stderr: string): AttemptResult {
    if (code === null) return failed('the docker CLI was killed');
    if (code === 125 || code === 126 || code === 127) {
      if (UNREACHABLE.test(stderr)) return failed(unreachable(dockerMessage(stderr, UNREACHABLE)), code);
      if (code === 125 && IMAGE_MISSING.test(stderr))
        return failed(imageMissing(attempt.image, dockerMessage(stderr)), code);
      if (ENTRYPOINT_FAILED.test(stderr)) {
        const what = attempt.entrypoint?.args?.length
          ? `its program ${attempt.entrypoint.args[0]}`
          : attempt.entrypoint
            ? `its shell ${attempt.entrypoint.shell || '/bin/sh'}`
            : 'its entrypoint';
        return failed(
          `the container could not start ${what} (${dockerMessage(stderr, ENTRYPOINT_FAILED)}): check the plugin's image and entrypoint`,
          code,
        );
      }
      // 125 is also a code a node may exit with itself: docker's own failures say who they are from.
      if (code === 125 && /^docker: |Error response from daemon/m.test(stderr))
        return failed(`docker could not run the container: ${dockerMessage(stderr)}`, code);
    }
    return failed(`exited with code ${code}`, code);
  }

  async function removeContainer(name: string): Promise<void> {
    const r = await docker(['rm', '-f', name]);
    if (r.missing) throw new OptimusError('DOCKER_CLI_MISSING', notInstalled(), { category: 'io' });
    if (r.code === 0 || /No such container|is already in progress/i.test(r.stderr)) return;
    if (UNREACHABLE.test(r.stderr)) {
      throw new OptimusError('DOCKER_ENGINE_UNREACHABLE', unreachable(dockerMessage(r.stderr, UNREACHABLE)), {
        category: 'io',
        hint: `container ${name} may still be running: remove it with docker rm -f ${name}`,
      });
    }
    throw new OptimusError(
      'DOCKER_REMOVE_FAILED',
      `cannot remove container ${name}: ${dockerMessage(r.stderr)}`,
      {
        category: 'io',
        hint: `remove it by hand: docker rm -f ${name}`,
      },
    );
  }

  return {
    kind: 'docker',
    run,
    async cleanup(handle: Json): Promise<void> {
      if (typeof handle !== 'object' || handle === null || Array.isArray(handle)) return;
      const { kind, container } = handle as Record<string, Json>;
      // Only containers this executor named: a handle from elsewhere must never remove a stranger's.
      if (kind !== 'docker' || typeof container !== 'string' || !CONTAINER_NAME.test(container)) return;
      await removeContainer(container);
    },
  };
}
