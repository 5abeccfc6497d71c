import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NodeAttempt } from '../../src/scheduler/executor.js';
import {
  createProcessExecutor,
  type ProcessHandle,
  startTicksOf,
} from '../../src/scheduler/process-executor.js';
import type { Json } from '../../src/store/store.js';
import { alive } from './runner-kit.js';

const root = mkdtempSync(join(tmpdir(), 'optimus-exec-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

async function attempt(script: string | undefined, over: Partial<NodeAttempt> = {}, executorOpts = {}) {
  const workDir = join(root, String(dirs++));
  mkdirSync(join(workDir, 'in'), { recursive: true });
  const out = { stdout: '', stderr: '' };
  const handles: Json[] = [];
  const result = await createProcessExecutor(executorOpts).run({
    runId: 1,
    node: 'load',
    attempt: 1,
    image: 'acme/load:1.0',
    entrypoint: script === undefined ? undefined : { shell: '/bin/sh', script },
    workDir,
    env: {},
    timeoutMs: 60_000,
    signal: new AbortController().signal,
    onOutput: (stream, chunk) => {
      out[stream] += chunk.toString();
    },
    onHandle: (h) => handles.push(h),
    ...over,
  });
  return { result, out, handles, workDir };
}

describe('process executor', () => {
  it('runs the entrypoint in the work directory with the env, JOB_DIR and PATH', async () => {
    const workDir = join(root, 'env');
    mkdirSync(join(workDir, 'in'), { recursive: true });
    writeFileSync(join(workDir, 'in', 'query.sql'), 'select 1;\nselect 2;\n');
    const { result, out, handles } = await attempt(
      'echo "dir=$JOB_DIR pwd=$(pwd)"; wc -l < "$JOB_DIR/in/query.sql"; printf "%s" "$MULTI" | wc -l; echo to-stderr >&2; test -n "$PATH"',
      { workDir, env: { MULTI: 'one\ntwo\n', HOME: '/nowhere' } },
    );
    expect(result).toEqual({ exitCode: 0, succeeded: true, timedOut: false, cancelled: false });
    expect(out.stdout.split('\n').map((l) => l.trim())).toEqual([
      `dir=${workDir} pwd=${workDir}`,
      '2',
      '2',
      '',
    ]);
    expect(out.stderr).toBe('to-stderr\n');
    expect(handles).toEqual([
      { kind: 'process', host: expect.any(String), pid: expect.any(Number), startTicks: expect.any(Number) },
    ]);
  });

  it('runs the exec form (args) directly: no shell, so nothing in the arguments is expanded', async () => {
    const { result, out } = await attempt(undefined, {
      entrypoint: { shell: '/bin/sh', script: '', args: ['/bin/echo', '$HOME', 'a b', '`id`'] },
      env: { HOME: '/nowhere' },
    });
    expect(result).toEqual({ exitCode: 0, succeeded: true, timedOut: false, cancelled: false });
    expect(out.stdout).toBe('$HOME a b `id`\n');
  });

  it('fails the exec form clearly when its program does not exist', async () => {
    const { result } = await attempt(undefined, {
      entrypoint: { shell: '/bin/sh', script: '', args: ['/no/such/program', 'x'] },
    });
    expect(result).toMatchObject({ succeeded: false, exitCode: null });
    expect(result.error).toContain('cannot start /no/such/program');
  });

  it('runs a node whose timeout is longer than a timer can hold (about 24.8 days) to its end', async () => {
    const { result, out } = await attempt('sleep 0.2; echo done', { timeoutMs: 40 * 24 * 3_600_000 });
    expect(result).toEqual({ exitCode: 0, succeeded: true, timedOut: false, cancelled: false });
    expect(out.stdout).toBe('done\n');
  });

  it('reports a non-zero exit as a failed attempt with its code', async () => {
    const { result } = await attempt('exit 3');
    expect(result).toEqual({
      exitCode: 3,
      succeeded: false,
      timedOut: false,
      cancelled: false,
      error: 'exited with code 3',
    });
  });

  it('kills the whole process tree when the attempt times out, leaving nothing behind', async () => {
    const { result, out } = await attempt('sleep 1000 & echo $!; sleep 1000', { timeoutMs: 300 });
    expect(result).toMatchObject({ succeeded: false, timedOut: true, cancelled: false });
    expect(result.error).toBe(
      "timed out after 300ms (behavior.timeout, or the server's scheduler.node_timeout)",
    );
    await expect.poll(() => alive(Number(out.stdout.trim()))).toBe(false);
  });

  it('kills with SIGKILL what ignores SIGTERM after the grace period', async () => {
    const { result, out } = await attempt(
      "trap '' TERM; sleep 1000 & echo $!; wait",
      { timeoutMs: 200 },
      { graceMs: 200 },
    );
    expect(result).toMatchObject({ timedOut: true, exitCode: null });
    await expect.poll(() => alive(Number(out.stdout.trim()))).toBe(false);
  });

  it('kills what the entrypoint left running in the background when it exits', async () => {
    const { result, out } = await attempt('sleep 1000 > /dev/null 2>&1 & echo $!');
    expect(result.succeeded).toBe(true);
    await expect.poll(() => alive(Number(out.stdout.trim()))).toBe(false);
  });

  it('stops the attempt when its signal is aborted', async () => {
    const controller = new AbortController();
    const { result } = await attempt('echo started; sleep 1000', {
      signal: controller.signal,
      onOutput: (_s, chunk) => {
        if (chunk.toString().includes('started')) controller.abort();
      },
    });
    expect(result).toMatchObject({ succeeded: false, cancelled: true, timedOut: false, error: 'cancelled' });
  });

  it('refuses a plugin without an entrypoint, naming the docker executor', async () => {
    const { result, handles } = await attempt(undefined);
    expect(result.succeeded).toBe(false);
    expect(result.error).toBe(
      'the plugin of node load (acme/load:1.0) has no entrypoint (a legacy v1 plugin runs only with the docker executor: set scheduler.executor: docker)',
    );
    expect(handles).toEqual([]);
  });

  it('says so when the shell does not exist or the environment cannot be passed', async () => {
    const missing = await attempt('true', { entrypoint: { shell: '/no/such/shell', script: 'true' } });
    expect(missing.result).toMatchObject({
      succeeded: false,
      error: expect.stringContaining('cannot start /no/such/shell'),
    });
    const nul = await attempt('true', { env: { BAD: 'a\0b' } });
    expect(nul.result).toMatchObject({
      succeeded: false,
      error: expect.stringContaining('cannot start /bin/sh'),
    });
  });
});

describe('cleaning up after a server that died', () => {
  const executor = createProcessExecutor();
  const orphan = (script: string) => {
    const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = child.pid!;
    const handle: ProcessHandle = { kind: 'process', host: hostname(), pid, startTicks: startTicksOf(pid)! };
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    return { pid, handle, output: () => out, exited };
  };

  it('kills the process group of a handle whose process still runs', async () => {
    const o = orphan('sleep 1000');
    await executor.cleanup(o.handle as unknown as Json);
    await o.exited;
    expect(alive(o.pid)).toBe(false);
  });

  it('kills what is left of the group when its leader already exited', async () => {
    const o = orphan('sleep 1000 > /dev/null & echo $!');
    await o.exited;
    const sleeper = Number(o.output().trim());
    expect(alive(sleeper)).toBe(true);
    await executor.cleanup(o.handle as unknown as Json);
    await expect.poll(() => alive(sleeper)).toBe(false);
  });

  it('leaves alone a process that only has the same pid, or runs on another host', async () => {
    const o = orphan('sleep 1000');
    try {
      await executor.cleanup({ ...o.handle, startTicks: o.handle.startTicks - 1 } as unknown as Json);
      await executor.cleanup({ ...o.handle, host: 'another-host' } as unknown as Json);
      await executor.cleanup({ kind: 'docker', container: 'x' });
      await executor.cleanup(null);
      expect(alive(o.pid)).toBe(true);
    } finally {
      process.kill(-o.pid, 'SIGKILL');
      await o.exited;
    }
  });
});
