/**
 * Runs that wait for their upstream jobs, on the embedded runner with a real store and real child
 * processes: job b reads the file job a writes for the same day, and declares a as a dependency.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Runner } from '../../src/scheduler/runner.js';
import { runView, triggerRun } from '../../src/services/runs.js';
import { createStore } from '../../src/store/create-store.js';
import type { RunRecord } from '../../src/store/run-store.js';
import {
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

const DEFAULTS = { nodeTimeoutMs: 60_000 };
/** A day: b's run at this time covers 2026-03-01, as does a's. */
const DAY = new Date('2026-03-02T00:00:00Z');
const daily = { schedule: { start_date: '2026-01-01', interval: '0 0 * * *' } };

/**
 * a writes `a-<DSTART>` once `release-<DSTART>` exists (or fails when `fail-<DSTART>` does); b
 * prints what a wrote for its day and fails when it is not there.
 */
async function deployPair(dir: string, bExtra: Record<string, unknown> = {}): Promise<string> {
  const project = `w${++projects}`;
  const env = { DIR: dir };
  const a = shellJob(
    'a',
    'while [ ! -e "$DIR/release-$DSTART" ]; do [ -e "$DIR/fail-$DSTART" ] && exit 3; sleep 0.05; done; ' +
      'echo "rows of $DSTART" > "$DIR/a-$DSTART"',
    [],
    daily,
  );
  const b = shellJob('b', 'cat "$DIR/a-$DSTART"', [], { ...daily, dependencies: [{ job: 'a' }], ...bExtra });
  const c = shellJob('c', 'echo on its own', [], daily);
  for (const job of [a, b, c]) (job.task.config as Record<string, string>).DIR = env.DIR;
  await deployJobs(kit, project, [a, b, c]);
  return project;
}

function start(upstreamCheckMs = 50) {
  runner = startRunner(kit, {
    // No run of the scheduler's own: the test triggers every run.
    schedulePassMs: Number.MAX_SAFE_INTEGER,
    upstreamCheckMs,
    config: {
      type: 'local',
      executor: 'process',
      concurrency: 8,
      nodeTimeoutMs: 60_000,
      docker: { network: 'none' },
    },
  });
  return runner.start();
}

const noteIs = (text: string) => (r: RunRecord) => r.note === text;

describe('runs waiting for their upstream jobs', () => {
  it('resolves the dependency of b on a when they are deployed', async () => {
    const project = await deployPair(kit.dir);
    const b = await kit.store.findJob(project, 'b');
    expect(b?.upstreams.map((u) => `${u.project}/${u.job} ${u.kind}`)).toEqual([`${project}/a static`]);
  });

  it('keeps a run queued while its upstream’s run for the day is missing or running, and starts it once that succeeded', async () => {
    const project = await deployPair(kit.dir);
    await start();
    // Manual runs wait too.
    const b = await triggerRun(kit.store, project, 'b', DAY, DEFAULTS);
    runner!.wake();
    await waitForRun(
      kit.store,
      b.id,
      noteIs('waiting for upstream ns/a: scheduled time 2026-03-02T00:00:00Z has no run yet'),
    );

    const a = await triggerRun(kit.store, project, 'a', DAY, DEFAULTS);
    runner!.wake();
    const waiting = await waitForRun(
      kit.store,
      b.id,
      noteIs('waiting for upstream ns/a: run at 2026-03-02T00:00:00Z is running'),
    );
    expect(waiting.status).toBe('queued');
    expect(nodeStatus(waiting)).toEqual({ shell: 'pending' });

    writeFileSync(join(kit.dir, 'release-2026-03-01T00:00:00Z'), '');
    expect((await waitForRun(kit.store, a.id)).status).toBe('succeeded');
    const done = await waitForRun(kit.store, b.id);
    expect(done.status).toBe('succeeded');
    expect(done.note).toBeNull();
    expect(await logsOf(kit.store, b.id, 'shell')).toContain('1 stdout rows of 2026-03-01T00:00:00Z');
  });

  it('fails a run whose upstream run never succeeds once the upstream timeout has passed', async () => {
    const project = await deployPair(kit.dir);
    await start();
    const day = new Date('2026-03-06T00:00:00Z');
    writeFileSync(join(kit.dir, 'fail-2026-03-05T00:00:00Z'), '');
    const a = await triggerRun(kit.store, project, 'a', day, DEFAULTS);
    runner!.wake();
    expect((await waitForRun(kit.store, a.id)).status).toBe('failed');
    // Created after a failed, so its wait sees the failure well before its timeout.
    // A manual run takes its timeout from the server's defaults when it is created.
    const b = await triggerRun(kit.store, project, 'b', day, { ...DEFAULTS, upstreamTimeoutMs: 3000 });
    runner!.wake();
    await waitForRun(
      kit.store,
      b.id,
      noteIs('waiting for upstream ns/a: run at 2026-03-06T00:00:00Z failed (re-run it or replay it)'),
    );
    const failed = await waitForRun(kit.store, b.id);
    expect(failed.status).toBe('failed');
    expect(failed.note).toBe(
      "upstream runs did not succeed within 3s of this run's creation (the server's scheduler.upstream_timeout): " +
        'ns/a at 2026-03-06T00:00:00Z (failed)',
    );
    expect(nodeStatus(failed)).toEqual({ shell: 'upstream_failed' });
    // Nothing of b ran.
    expect(await logsOf(kit.store, b.id, 'shell')).toEqual([]);
    expect(runView(failed, []).settings.upstream_timeout_ms).toBe(3000);
  });

  it('starts a waiting run as soon as its upstream’s run ends on the same server, without waiting for the next check', async () => {
    const project = await deployPair(kit.dir);
    // Looked at again only every ten minutes: only the end of a's run can let b start in time.
    await start(600_000);
    const day = new Date('2026-03-08T00:00:00Z');
    const a = await triggerRun(kit.store, project, 'a', day, DEFAULTS);
    runner!.wake();
    await waitForRun(kit.store, a.id, (r) => r.status === 'running');
    const b = await triggerRun(kit.store, project, 'b', day, DEFAULTS);
    runner!.wake();
    await waitForRun(
      kit.store,
      b.id,
      noteIs('waiting for upstream ns/a: run at 2026-03-08T00:00:00Z is running'),
    );
    writeFileSync(join(kit.dir, 'release-2026-03-07T00:00:00Z'), '');
    expect((await waitForRun(kit.store, b.id)).status).toBe('succeeded');
  });

  it('runs a job without upstreams at once while another waits', async () => {
    const project = await deployPair(kit.dir);
    await start();
    const day = new Date('2026-03-10T00:00:00Z');
    const b = await triggerRun(kit.store, project, 'b', day, DEFAULTS);
    const c = await triggerRun(kit.store, project, 'c', day, DEFAULTS);
    runner!.wake();
    expect((await waitForRun(kit.store, c.id)).status).toBe('succeeded');
    expect((await kit.store.getRun(b.id))?.status).toBe('queued');
  });

  it('does not wait for an upstream that was deleted', async () => {
    const project = await deployPair(kit.dir);
    await start();
    const day = new Date('2026-03-12T00:00:00Z');
    writeFileSync(join(kit.dir, 'a-2026-03-11T00:00:00Z'), 'rows written by hand\n');
    // b stays, a goes: b's dependency is no longer deployed.
    const b = shellJob('b', 'cat "$DIR/a-$DSTART"', [], { ...daily, dependencies: [{ job: 'a' }] });
    (b.task.config as Record<string, string>).DIR = kit.dir;
    await deployJobs(kit, project, [b]);
    const run = await triggerRun(kit.store, project, 'b', day, DEFAULTS);
    runner!.wake();
    expect((await waitForRun(kit.store, run.id)).status).toBe('succeeded');
  });
});
