/**
 * The mod host: asks binary plugins that implement the dependency-resolver mod where each job
 * writes and what it reads (docs/plugin-protocol.md, "Mods").
 *
 * Per plugin executable it keeps a small pool of long-lived processes, started lazily and stopped
 * when idle. A job is two calls (`generate_destination`, `generate_dependencies`) always sent in
 * the same JSON-RPC batch to the same process; batches are spread over the pool.
 *
 * A misbehaving plugin fails only its own jobs:
 * - a JSON-RPC error answer fails that job, and the process goes on serving;
 * - a process that exits, crashes or writes garbage is replaced, and the jobs it had not answered
 *   are retried one at a time on a fresh process, so the job that crashes it fails alone;
 * - a process that misses a deadline is killed and replaced (a plugin blocked on one job would miss
 *   every later deadline of its batch too). When one job of the batch missed it, that job fails;
 *   when several did, each is retried alone, so only a job that hangs by itself fails.
 *
 * Processes are keyed by the executable's path and identity (size, mtime, inode): a plugin
 * reinstalled by a registry reload gets new processes, and the old ones idle out.
 */

import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { DependenciesResult, DestinationResult, ModParams } from '@optimus-ts/plugin-sdk';
import type { Logger } from 'pino';
import { OptimusError } from '../../core/errors.js';
import { secretMasker } from '../../scheduler/log-capture.js';
import { PROTOCOL_VERSION, type RpcProcess, startRpcProcess } from '../protocol/rpc-process.js';

export interface ModHostOptions {
  /** Processes per plugin executable; default min(4, cpus). */
  poolSize?: number;
  /** Calls per JSON-RPC batch (a job is two calls); default 100. */
  maxBatch?: number;
  /** Deadline of each call; default 30 s. */
  callTimeoutMs?: number;
  /** Deadline of the handshake that starts each process; default 10 s. */
  handshakeTimeoutMs?: number;
  /** An idle process exits after this long; default 60 s. */
  idleMs?: number;
  /** Receives each plugin's stderr, line by line, every secret value sent to that process masked. */
  logger?: Pick<Logger, 'info' | 'warn'>;
  /** Environment of plugin processes; default the host's. */
  env?: NodeJS.ProcessEnv;
}

/** The plugin a call goes to. */
export interface ModPlugin {
  /** The name users see (the installed name). */
  name: string;
  /** The executable. */
  file: string;
}

export interface ModRequest {
  params: ModParams;
  /** Secret values the params hold: masked in the plugin's logs and in errors. */
  secrets?: readonly string[];
}

export type ModOutcome =
  | { ok: true; destination: string | null; dependencies: string[]; warnings: string[] }
  | { ok: false; error: OptimusError };

export interface ModHost {
  /** Outcomes in the order of `requests`; never rejects for one job's failure. */
  resolve(
    plugin: ModPlugin,
    requests: readonly ModRequest[],
    opts?: { onResult?: (index: number, outcome: ModOutcome) => void },
  ): Promise<ModOutcome[]>;
  /** Stops every process. */
  close(): Promise<void>;
  /** Processes running now, per plugin name (for tests and metrics). */
  stats(): { processes: number; spawned: number };
}

/** The JSON-RPC error code a plugin uses for a job it cannot answer. */
export const JOB_ERROR_CODE = -32001;

interface Worker {
  proc: RpcProcess;
  busy: boolean;
  idleTimer?: NodeJS.Timeout;
  /**
   * Every secret value this process was sent, for masking its stderr: not only the calls in flight,
   * since a line written before an answer may be read after it (stderr and stdout are two pipes).
   */
  sent: Set<string>;
  mask?: (line: string) => string;
  /** Killed by the host (it missed a deadline): never handed out again. */
  killed?: boolean;
}

interface Pool {
  key: string;
  plugin: ModPlugin;
  workers: Set<Worker>;
  /** Set when a handshake refused the plugin: every call fails with it until the file changes. */
  broken?: OptimusError;
  waiting: { resolve(w: Worker): void; reject(e: unknown): void }[];
  starting: number;
  /** The first process's start: others wait for it, so a plugin that refuses is started once. */
  first?: Promise<unknown>;
}

type Unit = { index: number; req: ModRequest };
type CallError = Error & { code?: string };

export function createModHost(opts: ModHostOptions = {}): ModHost {
  const poolSize = Math.max(1, opts.poolSize ?? Math.min(4, availableParallelism()));
  const maxBatch = Math.max(2, opts.maxBatch ?? 100);
  const callTimeoutMs = opts.callTimeoutMs ?? 30_000;
  const handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 10_000;
  const idleMs = opts.idleMs ?? 60_000;
  const pools = new Map<string, Pool>();
  let spawned = 0;
  let closed = false;

  const poolFor = async (plugin: ModPlugin): Promise<Pool> => {
    let id: string;
    try {
      const st = await stat(plugin.file);
      id = `${plugin.file}\0${st.size}\0${st.mtimeMs}\0${st.ino}`;
    } catch (e) {
      throw new OptimusError(
        'PLUGIN_MOD_UNAVAILABLE',
        `plugin ${plugin.name}: cannot read its executable ${plugin.file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        { hint: 'reinstall the plugin and reload the server’s plugins' },
      );
    }
    let pool = pools.get(id);
    if (!pool) {
      pool = { key: id, plugin, workers: new Set(), waiting: [], starting: 0 };
      pools.set(id, pool);
      // The same path with another identity is an older install: let its processes go.
      for (const [k, p] of pools) if (k !== id && p.plugin.file === plugin.file) retire(k, p);
    }
    return pool;
  };

  const retire = (key: string, pool: Pool) => {
    pools.delete(key);
    for (const w of pool.workers) if (!w.busy) stopWorker(pool, w);
  };

  const stopWorker = (pool: Pool, w: Worker) => {
    pool.workers.delete(w);
    if (w.idleTimer) clearTimeout(w.idleTimer);
    void w.proc.close(1000);
  };

  const spawnWorker = async (pool: Pool): Promise<Worker> => {
    const { plugin } = pool;
    let worker: Worker | undefined;
    const proc = startRpcProcess(plugin.file, {
      label: `plugin ${plugin.name}`,
      timeoutMs: callTimeoutMs,
      ...(opts.env ? { env: opts.env } : {}),
      onLog: (line) => {
        if (!opts.logger) return;
        if (worker && !worker.mask) worker.mask = secretMasker([...worker.sent]).mask;
        opts.logger.info({ plugin: plugin.name, pid: proc.pid }, worker?.mask ? worker.mask(line) : line);
      },
      onFailure: () => {
        if (worker) {
          pool.workers.delete(worker);
          if (worker.idleTimer) clearTimeout(worker.idleTimer);
        }
      },
    });
    spawned++;
    try {
      const res = await proc.call<{ protocol?: unknown; spec?: { name?: unknown; mods?: unknown } }>(
        'handshake',
        { protocol: PROTOCOL_VERSION, host: 'optimus' },
        { timeoutMs: handshakeTimeoutMs },
      );
      const refusal = handshakeRefusal(plugin, res);
      if (refusal) {
        pool.broken = refusal;
        throw refusal;
      }
    } catch (e) {
      proc.kill();
      if (e === pool.broken) throw e;
      throw new OptimusError(
        'PLUGIN_MOD_FAILED',
        `plugin ${plugin.name} failed its handshake: ${stripLabel(plugin, (e as Error).message)}`,
        { hint: 'run the executable by hand (see docs/plugin-protocol.md) and check its stderr' },
      );
    }
    worker = { proc, busy: false, sent: new Set() };
    pool.workers.add(worker);
    return worker;
  };

  /** A free process of the pool: an idle one, a new one while under the size, else the next freed. */
  const acquire = async (pool: Pool): Promise<Worker> => {
    if (pool.broken) throw pool.broken;
    if (pool.workers.size === 0 && pool.first) await pool.first.catch(() => undefined);
    if (pool.broken) throw pool.broken;
    for (const w of pool.workers)
      if (!w.busy && !w.killed && !w.proc.failure()) {
        w.busy = true;
        if (w.idleTimer) clearTimeout(w.idleTimer);
        return w;
      }
    if (pool.workers.size + pool.starting < poolSize) {
      pool.starting++;
      try {
        const spawning = spawnWorker(pool);
        if (pool.workers.size === 0) pool.first = spawning;
        const w = await spawning;
        w.busy = true;
        return w;
      } finally {
        pool.starting--;
      }
    }
    return new Promise((resolve, reject) => pool.waiting.push({ resolve, reject }));
  };

  const release = (pool: Pool, w: Worker) => {
    if (w.killed || w.proc.failure() || !pool.workers.has(w) || closed || pool.workers.size > poolSize) {
      stopWorker(pool, w);
      // A waiter gets a fresh process instead of the dead one.
      const next = pool.waiting.shift();
      if (next) void acquireFresh(pool).then(next.resolve, next.reject);
      return;
    }
    const next = pool.waiting.shift();
    if (next) return next.resolve(w);
    w.busy = false;
    w.idleTimer = setTimeout(() => stopWorker(pool, w), idleMs);
    w.idleTimer.unref();
  };

  const acquireFresh = async (pool: Pool): Promise<Worker> => {
    const w = await spawnWorker(pool);
    w.busy = true;
    return w;
  };

  /** Sends the units as one batch; returns those a crash or a deadline left for a retry. */
  const runBatch = async (
    pool: Pool,
    units: Unit[],
    settle: (u: Unit, o: ModOutcome) => void,
    alone: boolean,
  ): Promise<Unit[]> => {
    let w: Worker;
    try {
      w = await acquire(pool);
    } catch (e) {
      for (const u of units) settle(u, { ok: false, error: asError(e) });
      return [];
    }
    for (const u of units)
      for (const v of u.req.secrets ?? [])
        if (!w.sent.has(v)) {
          w.sent.add(v);
          w.mask = undefined;
        }
    const calls = units.flatMap((u) => [
      { method: 'generate_destination', params: u.req.params },
      { method: 'generate_dependencies', params: u.req.params },
    ]);
    const answers = await Promise.allSettled(w.proc.batchEach(calls, { timeoutMs: callTimeoutMs }));
    const tail = w.proc.stderrTail();
    const retry: Unit[] = [];
    const timedOut: Unit[] = [];
    units.forEach((u, i) => {
      const d = answers[2 * i]!;
      const g = answers[2 * i + 1]!;
      if (d.status === 'fulfilled' && g.status === 'fulfilled') {
        settle(u, outcome(pool.plugin, u, d.value, g.value));
        return;
      }
      const failed = (d.status === 'rejected' ? d : g) as PromiseRejectedResult;
      const err = failed.reason as CallError;
      if (err.code === 'PLUGIN_PROTOCOL_ERROR')
        settle(u, { ok: false, error: jobError(pool.plugin, u, err, '') });
      else if (err.code === 'PLUGIN_PROTOCOL_TIMEOUT') timedOut.push(u);
      else if (alone) settle(u, { ok: false, error: jobError(pool.plugin, u, err, tail) });
      else retry.push(u);
    });
    if (timedOut.length) {
      w.killed = true;
      w.proc.kill();
    }
    release(pool, w);
    if (timedOut.length === 1 || alone) {
      for (const u of timedOut)
        settle(u, {
          ok: false,
          error: jobError(
            pool.plugin,
            u,
            new Error(`no answer within ${callTimeoutMs} ms`),
            tail,
            'PLUGIN_MOD_TIMEOUT',
          ),
        });
    } else retry.push(...timedOut);
    return retry;
  };

  return {
    async resolve(plugin, requests, o = {}) {
      if (closed)
        throw new OptimusError('PLUGIN_MOD_CLOSED', 'the mod host is closed', { category: 'internal' });
      const out: ModOutcome[] = new Array(requests.length);
      const settle = (u: Unit, outc: ModOutcome) => {
        out[u.index] = outc;
        o.onResult?.(u.index, outc);
      };
      if (!requests.length) return out;
      let pool: Pool;
      try {
        pool = await poolFor(plugin);
      } catch (e) {
        for (const [index, req] of requests.entries())
          settle({ index, req }, { ok: false, error: asError(e) });
        return out;
      }
      const units = requests.map((req, index) => ({ index, req }));
      // Enough batches to keep every process of the pool busy, none over maxBatch calls.
      const perBatch = Math.max(1, Math.min(Math.floor(maxBatch / 2), Math.ceil(units.length / poolSize)));
      const batches: Unit[][] = [];
      for (let i = 0; i < units.length; i += perBatch) batches.push(units.slice(i, i + perBatch));
      const retries = (await Promise.all(batches.map((b) => runBatch(pool, b, settle, false)))).flat();
      // One at a time, each on a fresh process: the job that kills its process fails alone.
      for (const u of retries.sort((a, b) => a.index - b.index)) await runBatch(pool, [u], settle, true);
      return out;
    },
    async close() {
      closed = true;
      const all: Promise<void>[] = [];
      for (const pool of pools.values())
        for (const w of pool.workers) {
          if (w.idleTimer) clearTimeout(w.idleTimer);
          all.push(w.proc.close(1000));
        }
      pools.clear();
      await Promise.all(all);
    },
    stats() {
      let processes = 0;
      for (const p of pools.values()) processes += p.workers.size;
      return { processes, spawned };
    },
  };
}

function handshakeRefusal(
  plugin: ModPlugin,
  res: { protocol?: unknown; spec?: { name?: unknown; mods?: unknown } } | undefined,
): OptimusError | undefined {
  const hint = 'reinstall the plugin, or reload the server’s plugins if it was replaced';
  if (!res || typeof res !== 'object' || res.protocol !== PROTOCOL_VERSION)
    return new OptimusError(
      'PLUGIN_PROTOCOL_UNSUPPORTED',
      `plugin ${plugin.name}: its handshake answered protocol ${JSON.stringify(res?.protocol)}, this host speaks ${PROTOCOL_VERSION}`,
      { hint: 'see docs/plugin-protocol.md' },
    );
  const name = res.spec?.name;
  // The installer may rename an executable to the configured name, so its file name counts too.
  if (name !== plugin.name && name !== basename(plugin.file))
    return new OptimusError(
      'PLUGIN_MOD_MISMATCH',
      `plugin ${plugin.name}: its handshake names plugin ${JSON.stringify(name)}`,
      { hint },
    );
  const mods = res.spec?.mods;
  if (!Array.isArray(mods) || !mods.includes('dependency_resolver'))
    return new OptimusError(
      'PLUGIN_MOD_MISMATCH',
      `plugin ${plugin.name}: its handshake does not list dependency_resolver in mods`,
      { hint },
    );
  return undefined;
}

function outcome(plugin: ModPlugin, u: Unit, dest: unknown, deps: unknown): ModOutcome {
  const d = dest as DestinationResult | null;
  const g = deps as DependenciesResult | null;
  const bad = (what: string) => ({
    ok: false as const,
    error: jobError(plugin, u, new Error(`answered ${what}`), '', 'PLUGIN_MOD_ANSWER_INVALID'),
  });
  if (!d || typeof d !== 'object' || !(d.destination === null || typeof d.destination === 'string'))
    return bad('generate_destination without a destination (a string or null)');
  if (
    !g ||
    typeof g !== 'object' ||
    !Array.isArray(g.dependencies) ||
    g.dependencies.some((x) => typeof x !== 'string')
  )
    return bad('generate_dependencies without dependencies (a list of strings)');
  const warnings = Array.isArray(g.warnings)
    ? g.warnings.filter((x): x is string => typeof x === 'string')
    : [];
  const masker = secretMasker(u.req.secrets ?? []);
  return {
    ok: true,
    destination: d.destination,
    dependencies: g.dependencies,
    warnings: warnings.map((w) => masker.mask(w)),
  };
}

function jobName(u: Unit): string {
  const j = u.req.params.job;
  return `${j.namespace}/${j.name}`;
}

function stripLabel(plugin: ModPlugin, message: string): string {
  const label = `plugin ${plugin.name}: `;
  return message.startsWith(label) ? message.slice(label.length) : message;
}

function jobError(
  plugin: ModPlugin,
  u: Unit,
  err: CallError,
  tail: string,
  code = err.code === 'PLUGIN_PROTOCOL_ERROR' ? 'PLUGIN_MOD_JOB_ERROR' : 'PLUGIN_MOD_FAILED',
): OptimusError {
  const mask = secretMasker(u.req.secrets ?? []).mask;
  const msg = stripLabel(plugin, err.message);
  const lines = tail.split('\n').filter(Boolean).slice(-3).join(' | ');
  const stderr = lines && !msg.includes('stderr:') ? `; stderr: ${lines}` : '';
  return new OptimusError(code, mask(`plugin ${plugin.name} failed for job ${jobName(u)}: ${msg}${stderr}`), {
    hint:
      code === 'PLUGIN_MOD_JOB_ERROR'
        ? 'the plugin could not answer for this job: check the job’s config and assets'
        : 'the plugin misbehaved on this job (the other jobs were answered): check its stderr, or ask its author',
  });
}

function asError(e: unknown): OptimusError {
  return e instanceof OptimusError
    ? e
    : new OptimusError('PLUGIN_MOD_FAILED', String((e as Error)?.message ?? e), { category: 'internal' });
}
