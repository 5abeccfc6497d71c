/**
 * The host side of the binary plugin protocol (docs/plugin-protocol.md): a plugin process speaking
 * newline-delimited JSON-RPC 2.0 over stdin/stdout, stderr as its log. One process serves many
 * calls; every call has an id and a timeout, and a batch is one JSON array on one line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { OptimusError } from '../../core/errors.js';

export const PROTOCOL_VERSION = 1;

export interface RpcProcess {
  call<T = unknown>(method: string, params?: unknown, opts?: { timeoutMs?: number }): Promise<T>;
  /** Several calls sent as one JSON-RPC batch; results in the order of `calls`. */
  batch<T = unknown>(
    calls: { method: string; params?: unknown }[],
    opts?: { timeoutMs?: number },
  ): Promise<T[]>;
  /**
   * Like `batch`, but one promise per call, so one call's error or timeout leaves the others
   * answered (the mod host needs to know which calls of a batch a crash left unanswered).
   */
  batchEach<T = unknown>(
    calls: { method: string; params?: unknown }[],
    opts?: { timeoutMs?: number },
  ): Promise<T>[];
  /** Close stdin and wait for exit; kill after `graceMs`. */
  close(graceMs?: number): Promise<void>;
  /** SIGKILL now (a process that stopped answering); pending calls fail. */
  kill(): void;
  /** The process id, for logs; undefined when it could not start. */
  readonly pid: number | undefined;
  /** Why the process can no longer answer (exited, wrote garbage); undefined while it can. */
  failure(): Error | undefined;
  /** Last lines written to stderr, for error messages. */
  stderrTail(): string;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

const MAX_LINE = 64 * 1024 * 1024;

export function startRpcProcess(
  executable: string,
  opts: {
    label: string;
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    onLog?: (line: string) => void;
    /** Told once when the process can no longer answer (it exited, could not start, wrote garbage). */
    onFailure?: (error: Error) => void;
  },
): RpcProcess {
  const label = opts.label;
  const defaultTimeout = opts.timeoutMs ?? 10_000;
  const child: ChildProcess = spawn(executable, [], {
    cwd: dirname(executable),
    stdio: ['pipe', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
  });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let exited: Error | undefined;
  const tail: string[] = [];

  const failAll = (e: Error) => {
    if (!exited) {
      exited = e;
      opts.onFailure?.(e);
    }
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.reject(e);
    }
  };

  child.on('error', (e: NodeJS.ErrnoException) =>
    failAll(
      new OptimusError('PLUGIN_PROTOCOL_FAILED', `${label}: cannot start: ${e.code ?? e.message}`, {
        category: 'invalid',
      }),
    ),
  );
  // 'close' (not 'exit'): stdout and stderr are fully read by then, so a last answer or log line is not lost.
  child.on('close', (code, signal) =>
    failAll(
      new OptimusError(
        'PLUGIN_PROTOCOL_FAILED',
        `${label}: exited (${signal ?? `code ${code}`}) before answering${tailText(tail)}`,
        { category: 'invalid' },
      ),
    ),
  );
  child.stdin?.on('error', () => {
    // EPIPE when the plugin exits early: reported through 'exit'.
  });

  createInterface({ input: child.stderr!, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    opts.onLog?.(line);
  });

  const settle = (msg: unknown) => {
    if (!msg || typeof msg !== 'object') return;
    const m = msg as { id?: unknown; result?: unknown; error?: { code?: number; message?: string } };
    if (typeof m.id !== 'number') return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error) {
      p.reject(
        new OptimusError(
          'PLUGIN_PROTOCOL_ERROR',
          `${label}: ${m.error.message ?? 'error'} (code ${m.error.code ?? '?'})`,
          { category: 'invalid' },
        ),
      );
    } else p.resolve(m.result);
  };

  createInterface({ input: child.stdout!, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
    if (line.trim() === '') return;
    if (line.length > MAX_LINE) return failAll(protocolError(label, 'a response line exceeds 64 MiB'));
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return failAll(
        protocolError(label, `wrote a line that is not JSON on stdout: ${JSON.stringify(line.slice(0, 80))}`),
      );
    }
    if (Array.isArray(msg)) for (const m of msg) settle(m);
    else settle(msg);
  });

  const register = (id: number, timeoutMs: number, method: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(
          new OptimusError(
            'PLUGIN_PROTOCOL_TIMEOUT',
            `${label}: no answer to "${method}" within ${timeoutMs} ms${tailText(tail)}`,
            { category: 'invalid' },
          ),
        );
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
    });

  const send = (payload: unknown) => child.stdin!.write(`${JSON.stringify(payload)}\n`);

  /** One promise per call of a batch, so one call's failure does not hide the others' answers. */
  const batchEach = <T>(
    calls: { method: string; params?: unknown }[],
    o?: { timeoutMs?: number },
  ): Promise<T>[] => {
    if (exited) {
      const e = exited;
      return calls.map(() => Promise.reject(e));
    }
    const msgs = calls.map((c) => ({
      jsonrpc: '2.0',
      id: nextId++,
      method: c.method,
      ...(c.params === undefined ? {} : { params: c.params }),
    }));
    const ps = msgs.map((m) => register(m.id, o?.timeoutMs ?? defaultTimeout, m.method));
    send(msgs);
    return ps as Promise<T>[];
  };

  return {
    call<T>(method: string, params?: unknown, o?: { timeoutMs?: number }): Promise<T> {
      if (exited) return Promise.reject(exited);
      const id = nextId++;
      const p = register(id, o?.timeoutMs ?? defaultTimeout, method);
      send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
      return p as Promise<T>;
    },
    batch: <T>(calls: { method: string; params?: unknown }[], o?: { timeoutMs?: number }): Promise<T[]> =>
      Promise.all(batchEach<T>(calls, o)),
    batchEach,
    async close(graceMs = 1000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = new Promise<void>((r) => child.once('close', () => r()));
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await done;
      clearTimeout(timer);
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    get pid() {
      return child.pid;
    },
    failure: () => exited,
    stderrTail: () => tail.join('\n'),
  };
}

function protocolError(label: string, msg: string): OptimusError {
  return new OptimusError('PLUGIN_PROTOCOL_FAILED', `${label}: ${msg}`, {
    category: 'invalid',
    hint: 'a binary plugin writes only JSON-RPC responses on stdout; logs go to stderr',
  });
}

function tailText(tail: string[]): string {
  return tail.length ? `; stderr: ${tail.slice(-3).join(' | ')}` : '';
}
