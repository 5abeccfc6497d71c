import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Runner } from '../../src/scheduler/runner.js';
import { cancelRun, triggerRun } from '../../src/services/runs.js';
import { createStore } from '../../src/store/create-store.js';
import {
  alive,
  deployJobs,
  type Kit,
  logsOf,
  nodeStatus,
  openKit,
  shellJob,
  startRunner,
  waitForRun,
} from './runner-kit.js';

let kit: Kit;
let runner: Runner | undefined;
let projects = 0;

beforeAll(async () => {
  kit = await openKit(await createStore({}));
});
afterAll(async () => {
  await kit.close();
});
afterEach(async () => {
  await runner?.stop();
  runner = undefined;
});

/** A project of its own for each test (a deploy replaces a namespace's jobs). */
async function deploy(...jobs: unknown[]): Promise<string> {
  const project = `p${++projects}`;
  await deployJobs(kit, project, jobs);
  return project;
}

async function run(project: string, job: string, over: Parameters<typeof startRunner>[1] = {}) {
  runner ??= startRunner(kit, over);
  await runner.start();
  const created = await triggerRun(kit.store, project, job, undefined, { nodeTimeoutMs: 60_000 });
  runner.wake();
  return waitForRun(kit.store, created.id);
}

/** Appends `<word> <node>` to the shared log; its lines show the order nodes ran in. */
const note = (word: string, node: string) => `echo "${word} ${node}" >> "${'$'}TRACE"`;

describe('the embedded runner', () => {
  it('runs a job with pre, post and fail hooks in order, independent hooks side by side', async () => {
    const trace = join(kit.dir, 'five.trace');
    // Each pre hook waits for the other to have started: run one after the other they would wait
    // forever (and time out), so the run succeeding shows they ran at the same time.
    const meet = (me: string, other: string) =>
      `${note('start', me)}; touch "$MEET/${me}"; while [ ! -e "$MEET/${other}" ]; do sleep 0.02; done; ${note('end', me)}`;
    const env = { TRACE: trace, MEET: kit.dir };
    const project = await deploy(
      shellJob(
        'five',
        `${note('start', 'task')}; ${note('end', 'task')}`,
        [
          { name: 'check-a', stage: 'pre', script: meet('check-a', 'check-b'), config: env },
          { name: 'check-b', stage: 'pre', script: meet('check-b', 'check-a'), config: env },
          { name: 'publish', stage: 'post', script: note('run', 'publish'), config: env },
          {
            name: 'announce',
            stage: 'post',
            script: note('run', 'announce'),
            depends_on: ['publish'],
            config: env,
          },
          { name: 'page', stage: 'fail', script: note('run', 'page'), config: env },
        ],
        {
          task: {
            name: 'shell',
            config: { SCRIPT: `${note('start', 'task')}; ${note('end', 'task')}`, ...env },
          },
          behavior: { timeout: '20s' },
        },
      ),
    );
    const done = await run(project, 'five');
    expect(nodeStatus(done)).toEqual({
      'check-a': 'succeeded',
      'check-b': 'succeeded',
      shell: 'succeeded',
      publish: 'succeeded',
      announce: 'succeeded',
      page: 'skipped',
    });
    expect(done.status).toBe('succeeded');
    const lines = readFileSync(trace, 'utf8').trim().split('\n');
    const pos = (l: string) => lines.indexOf(l);
    expect(lines).toHaveLength(8);
    expect(Math.max(pos('end check-a'), pos('end check-b'))).toBeLessThan(pos('start task'));
    expect(pos('end task')).toBeLessThan(pos('run publish'));
    expect(pos('run publish')).toBeLessThan(pos('run announce'));
    expect(await logsOf(kit.store, done.id, 'shell')).toEqual([
      expect.stringMatching(
        /^1 system attempt 1 of 1 started \(process executor, docker.io\/acme\/shell:1.0.0\)$/,
      ),
      '1 system succeeded (exit code 0)',
    ]);
  });

  it('runs the fail hook, not the post hooks, when the task fails, and says why in the logs', async () => {
    const project = await deploy(
      shellJob('breaks', 'echo "loading"; echo "table is missing" >&2; exit 3', [
        { name: 'publish', stage: 'post', script: 'echo published' },
        { name: 'page', stage: 'fail', script: 'echo "paging: $JOB_NAME failed"' },
      ]),
    );
    const done = await run(project, 'breaks');
    expect(done.status).toBe('failed');
    expect(nodeStatus(done)).toEqual({ shell: 'failed', publish: 'skipped', page: 'succeeded' });
    expect(done.nodes[0]).toMatchObject({ exitCode: 3, error: 'exited with code 3' });
    expect(done.note).toBe('node shell failed: exited with code 3');
    const logs = await logsOf(kit.store, done.id, 'shell');
    expect(logs).toContain('1 stdout loading');
    expect(logs).toContain('1 stderr table is missing');
    expect(logs).toContain('1 system failed: exited with code 3');
    expect(await logsOf(kit.store, done.id, 'page')).toContain('1 stdout paging: breaks failed');
  });

  it('never runs more nodes at once than the concurrency limit', async () => {
    const slots = join(kit.dir, 'slots');
    const counts = join(kit.dir, 'counts');
    const busy = (n: string) =>
      `mkdir -p "${slots}"; touch "${slots}/${n}"; ls "${slots}" | wc -l >> "${counts}"; sleep 0.3; rm "${slots}/${n}"`;
    const hooks = ['a', 'b', 'c', 'd', 'e'].map((n) => ({
      name: `pre-${n}`,
      stage: 'pre' as const,
      script: busy(n),
    }));
    const project = await deploy(shellJob('wide', busy('task'), hooks));
    const done = await run(project, 'wide', {
      config: {
        type: 'local',
        executor: 'process',
        concurrency: 2,
        nodeTimeoutMs: 60_000,
        docker: { network: 'none' },
      },
    });
    expect(done.status).toBe('succeeded');
    const seen = readFileSync(counts, 'utf8').trim().split('\n').map(Number);
    expect(seen).toHaveLength(6);
    expect(Math.max(...seen)).toBeLessThanOrEqual(2);
  });

  it('retries a failed node after its delay and succeeds on the second attempt', async () => {
    const marker = join(kit.dir, 'retry.marker');
    const project = await deploy(
      shellJob(
        'flaky',
        `if [ -e "${marker}" ]; then echo second; else touch "${marker}"; echo first; exit 1; fi`,
        [],
        {
          behavior: { retry: { count: 2, delay: '1s', exponential_backoff: true } },
        },
      ),
    );
    const done = await run(project, 'flaky');
    expect(done.status).toBe('succeeded');
    expect(done.nodes[0]).toMatchObject({ status: 'succeeded', attempt: 2, error: null });
    const logs = await logsOf(kit.store, done.id, 'shell');
    expect(logs).toContain('1 stdout first');
    expect(logs).toContain('1 system attempt 1 of 3 started (process executor, docker.io/acme/shell:1.0.0)');
    expect(logs).toContain('1 system failed: exited with code 1');
    expect(logs).toContain('2 stdout second');
  });

  it('kills a node that runs past its timeout, with everything it started', async () => {
    const pidFile = join(kit.dir, 'sleeper.pid');
    const project = await deploy(
      shellJob('hangs', `sleep 1000 & echo $! > "${pidFile}"; sleep 1000`, [], {
        behavior: { timeout: '1s' },
      }),
    );
    const done = await run(project, 'hangs');
    expect(done.status).toBe('failed');
    expect(done.nodes[0]!.error).toBe(
      "timed out after 1s (behavior.timeout, or the server's scheduler.node_timeout)",
    );
    await expect.poll(() => alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('keeps 8 MiB of a node printing 20 MB, says what it dropped, and goes on running jobs', async () => {
    const project = await deploy(
      shellJob('loud', "head -c 20000000 /dev/zero | tr '\\0' x | fold -w 99"),
      shellJob('after', 'echo still here'),
    );
    const done = await run(project, 'loud');
    expect(done.status).toBe('succeeded');
    let stored = 0;
    let after = 0;
    const tail: string[] = [];
    for (;;) {
      const page = await kit.store.readLogs(done.id, { node: 'shell', afterId: after, limit: 10_000 });
      if (page.length === 0) break;
      for (const l of page) {
        if (l.stream === 'stdout') stored += Buffer.byteLength(l.line) + 1;
        else tail.push(l.line);
      }
      after = page.at(-1)!.id;
    }
    expect(stored).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(stored).toBeGreaterThan(8 * 1024 * 1024 - 100);
    // fold writes 202,020 full lines of 99 and a last one of 20 without a newline.
    const printed = 20_000_000 + 202_020;
    expect(tail.slice(1)).toEqual([
      `… ${printed - stored} bytes of output dropped (a node's output is kept up to 8388608 bytes per attempt)`,
      'succeeded (exit code 0)',
    ]);
    expect((await run(project, 'after')).status).toBe('succeeded');
  });

  it('masks secret values in stored logs', async () => {
    const project = await deploy(
      shellJob('secretive', 'echo "token=$TOKEN"; printf "%s" "$TOKEN" | wc -c', [], {
        task: {
          name: 'shell',
          config: {
            SCRIPT: 'echo "token=$TOKEN"; printf "%s" "$TOKEN" | wc -c',
            TOKEN: '{{ .secret.WH_TOKEN }}',
          },
        },
      }),
    );
    await kit.store.insertSecret({
      projectName: project,
      name: 'WH_TOKEN',
      namespaceName: null,
      ...kit.cipher.encrypt(Buffer.from('wh-s3cr3t-value')),
    });
    const done = await run(project, 'secretive');
    expect(done.status).toBe('succeeded');
    const logs = await logsOf(kit.store, done.id, 'shell');
    expect(logs).toContain('1 stdout token=****');
    // The node got the real value.
    expect(logs.map((l) => l.trim())).toContain('1 stdout 15');
    expect(logs.join('\n')).not.toContain('wh-s3cr3t-value');
  });

  it('fails a node whose plugin has no entrypoint, naming the docker executor', async () => {
    const project = await deploy(
      shellJob('old', 'echo task', [{ name: 'legacy', type: 'legacy', stage: 'pre', script: '' }]),
    );
    const done = await run(project, 'old');
    expect(done.status).toBe('failed');
    expect(nodeStatus(done)).toEqual({ legacy: 'failed', shell: 'upstream_failed' });
    expect(done.nodes.find((n) => n.name === 'legacy')!.error).toBe(
      'the plugin of node legacy (docker.io/acme/legacy:0.1.0) has no entrypoint (a legacy v1 plugin runs only with the docker executor: set scheduler.executor: docker)',
    );
  });

  it('records a template error as the failure of that node', async () => {
    const project = await deploy(
      shellJob('typo', 'echo never', [], {
        task: { name: 'shell', config: { SCRIPT: 'echo {{ .DSTART | NoSuchFunction }}' } },
      }),
    );
    const done = await run(project, 'typo');
    expect(done.status).toBe('failed');
    expect(done.nodes[0]!.error).toMatch(/^cannot prepare its input: .*NoSuchFunction/);
    const logs = await logsOf(kit.store, done.id, 'shell');
    expect(logs[0]).toMatch(/^1 system attempt 1 of 1: cannot prepare its input: .*NoSuchFunction/);
  });

  it('starts a run of a job that depends on its past only after the previous run succeeded', async () => {
    const gate = join(kit.dir, 'gate');
    const trace = join(kit.dir, 'past.trace');
    const project = await deploy(
      shellJob('chain', `while [ ! -e "${gate}" ]; do sleep 0.02; done; echo "$DSTART" >> "${trace}"`, [], {
        behavior: { depends_on_past: true },
        task: {
          name: 'shell',
          config: {
            SCRIPT: `while [ ! -e "${gate}" ]; do sleep 0.02; done; echo "{{ .EXECUTION_TIME }}" >> "${trace}"`,
          },
        },
      }),
    );
    runner = startRunner(kit);
    await runner.start();
    const defaults = { nodeTimeoutMs: 60_000 };
    const first = await triggerRun(kit.store, project, 'chain', new Date('2026-02-01T00:00:00Z'), defaults);
    const second = await triggerRun(kit.store, project, 'chain', new Date('2026-02-02T00:00:00Z'), defaults);
    runner.wake();
    await waitForRun(kit.store, first.id, (r) => r.nodes[0]!.status === 'running');
    const waiting = await waitForRun(kit.store, second.id, (r) => r.note !== null);
    expect(waiting.status).toBe('queued');
    expect(waiting.note).toContain(`waiting for run ${first.id}`);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(gate, '');
    const a = await waitForRun(kit.store, first.id);
    const b = await waitForRun(kit.store, second.id);
    expect([a.status, b.status]).toEqual(['succeeded', 'succeeded']);
    expect(b.startedAt!.getTime()).toBeGreaterThanOrEqual(a.finishedAt!.getTime());
  });

  it('cancels a running node: its process is stopped and the run ends cancelled', async () => {
    const pidFile = join(kit.dir, 'cancel.pid');
    const project = await deploy(
      shellJob('long', `echo $$ > "${pidFile}"; echo started; sleep 1000`, [
        { name: 'publish', stage: 'post', script: 'echo no' },
      ]),
    );
    runner = startRunner(kit);
    await runner.start();
    const created = await triggerRun(kit.store, project, 'long', undefined, { nodeTimeoutMs: 60_000 });
    runner.wake();
    await expect
      .poll(async () => (await logsOf(kit.store, created.id, 'shell')).includes('1 stdout started'), {
        timeout: 30_000,
      })
      .toBe(true);
    await cancelRun(kit.store, created.id, 'a test');
    const done = await waitForRun(kit.store, created.id);
    expect(done.status).toBe('cancelled');
    expect(done.note).toBe('cancelled by a test');
    expect(nodeStatus(done)).toEqual({ shell: 'cancelled', publish: 'cancelled' });
    expect(await logsOf(kit.store, created.id, 'shell')).toContain('1 system cancelled');
    await expect.poll(() => alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('gives a running attempt back on a graceful stop: the next start runs it again without using a retry', async () => {
    const pidFile = join(kit.dir, 'graceful.pid');
    const marker = join(kit.dir, 'graceful.second');
    // The first attempt sleeps until the server stops; the one after the restart finishes.
    const project = await deploy(
      shellJob(
        'restarted',
        `if [ -e "${marker}" ]; then echo again; else touch "${marker}"; echo $$ > "${pidFile}"; sleep 1000; fi`,
      ),
    );
    const first = startRunner(kit);
    await first.start();
    const created = await triggerRun(kit.store, project, 'restarted', undefined, { nodeTimeoutMs: 60_000 });
    first.wake();
    await expect.poll(() => existsSync(pidFile), { timeout: 30_000 }).toBe(true);
    await first.stop();
    await expect.poll(() => alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
    const stopped = (await kit.store.getRun(created.id))!;
    expect(stopped.status).toBe('running');
    expect(stopped.nodes[0]).toMatchObject({ status: 'queued', attempt: 0, leaseOwner: null });
    runner = startRunner(kit);
    await runner.start();
    runner.wake();
    const done = await waitForRun(kit.store, created.id);
    expect(done.status).toBe('succeeded');
    // One attempt allowed (no retry configured), and it was not used up by the stop.
    expect(done.nodes[0]).toMatchObject({ status: 'succeeded', attempt: 1 });
    expect(await logsOf(kit.store, created.id, 'shell')).toContain('1 stdout again');
  });

  it('stops a node whose lease another server took over, and leaves the node to that server', async () => {
    const pidFile = join(kit.dir, 'lease.pid');
    const project = await deploy(shellJob('contested', `echo $$ > "${pidFile}"; sleep 1000`));
    runner = startRunner(kit, { leaseMs: 3000, heartbeatMs: 100 });
    await runner.start();
    const created = await triggerRun(kit.store, project, 'contested', undefined, { nodeTimeoutMs: 60_000 });
    runner.wake();
    await expect.poll(() => existsSync(pidFile), { timeout: 30_000 }).toBe(true);
    // What a server that thought this one dead would do: take the node's lease.
    await kit.store.updateRun(created.id, () => ({
      nodes: [{ name: 'shell', leaseOwner: 'another-server', leaseExpiresAt: new Date(Date.now() + 60_000) }],
    }));
    await expect.poll(() => alive(Number(readFileSync(pidFile, 'utf8'))), { timeout: 30_000 }).toBe(false);
    await expect
      .poll(async () =>
        (await logsOf(kit.store, created.id, 'shell')).some((l) => l.includes('lost its lease')),
      )
      .toBe(true);
    // The other server's claim stands: this one recorded nothing over it.
    await expect.poll(() => runner!.stats().running).toBe(0);
    const after = (await kit.store.getRun(created.id))!;
    expect(after.nodes[0]).toMatchObject({ status: 'running', leaseOwner: 'another-server', attempt: 1 });
    await cancelRun(kit.store, created.id, 'a test');
  });

  it('creates the runs a schedule makes due, once each', async () => {
    const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
    const project = await deploy(
      shellJob('daily', 'true', [], {
        schedule: { start_date: daysAgo(3), interval: '0 0 * * *' },
        behavior: { catch_up: true },
      }),
      shellJob('latest-only', 'true', [], { schedule: { start_date: daysAgo(3), interval: '0 0 * * *' } }),
    );
    runner = startRunner(kit);
    await runner.start();
    await expect
      .poll(async () => (await kit.store.listRuns(project, 'daily')).length, { timeout: 30_000 })
      .toBe(3);
    await expect.poll(async () => (await kit.store.listRuns(project, 'latest-only')).length).toBe(1);
    const runs = await kit.store.listRuns(project, 'daily');
    expect(runs.every((r) => r.trigger === 'schedule' && r.scheduledAt.getUTCHours() === 0)).toBe(true);
    // Another pass creates nothing new.
    runner.wake();
    await waitForRun(kit.store, runs[0]!.id);
    expect(await kit.store.listRuns(project, 'daily')).toHaveLength(3);
    expect(existsSync(kit.dir)).toBe(true);
  });
});
