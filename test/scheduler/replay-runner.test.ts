/**
 * Replays on a real store with the embedded runner and real child processes: `a` and `b` run daily
 * at 02:00 and `b` depends on `a`; a replay of `a` with its downstream jobs over three days. Each
 * task appends `start|end <job> <DSTART>` to a file, so the order the runs really ran in is read
 * back from what the processes did, not from the store's bookkeeping.
 *
 * The test calls advanceReplays itself, as the runner's loop does.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { advanceReplays } from '../../src/scheduler/replay-advance.js';
import type { Runner } from '../../src/scheduler/runner.js';
import { cancelReplay, createReplay, replayView } from '../../src/services/replay.js';
import { createStore } from '../../src/store/create-store.js';
import type { ReplayRecord } from '../../src/store/replay-store.js';
import { deployJobs, type Kit, openKit, shellJob, startRunner } from './runner-kit.js';

const DEFAULTS = { nodeTimeoutMs: 60_000 };
const quiet = { warn: () => undefined, error: () => undefined };
const SCHEDULE = { start_date: '2026-01-01', end_date: '2026-01-20', interval: '0 2 * * *' };

let kit: Kit;
let runner: Runner | undefined;
let events: string;

beforeEach(async () => {
  kit = await openKit(await createStore({}));
  events = join(kit.dir, 'events.txt');
  writeFileSync(events, '');
});

afterEach(async () => {
  await runner?.stop();
  runner = undefined;
  await kit.close();
});

/** A task that logs its start and end around `body` (shell), keyed by job and window start. */
const task = (job: string, body = 'sleep 0.2') =>
  `echo "start ${job} $DSTART" >> ${events}; ${body}; rc=$?; echo "end ${job} $DSTART" >> ${events}; exit $rc`;

async function deploy(aBody?: string, bBody?: string): Promise<void> {
  await deployJobs(kit, 'p', [
    shellJob('a', task('a', aBody), [], { schedule: SCHEDULE }),
    shellJob('b', task('b', bBody), [], { schedule: SCHEDULE, dependencies: [{ job: 'a' }] }),
  ]);
  // Scheduling is off (a pass interval no test reaches): only the replay creates runs.
  runner = startRunner(kit, { schedulePassMs: Number.MAX_SAFE_INTEGER });
  await runner.start();
}

const replay = (parallel = false) =>
  createReplay(
    { store: kit.store },
    {
      project: 'p',
      job: 'a',
      from: new Date('2026-01-02T00:00:00Z'),
      to: new Date('2026-01-04T23:59:59.999Z'),
      downstream: true,
      parallel,
    },
    DEFAULTS,
  );

/** Advances the replay as the runner's loop would, until `done` says so. */
async function advanceUntil(id: number, done: (r: ReplayRecord) => boolean): Promise<ReplayRecord> {
  let last: ReplayRecord | undefined;
  await expect
    .poll(
      async () => {
        if (
          (await advanceReplays({ store: kit.store, now: new Date(), logger: quiet, defaults: DEFAULTS })) > 0
        )
          runner?.wake();
        last = await kit.store.getReplay(id);
        return last !== undefined && done(last);
      },
      { timeout: 60_000, interval: 50 },
    )
    .toBe(true);
  return last!;
}

const lines = () => readFileSync(events, 'utf8').trim().split('\n').filter(Boolean);
const day = (d: number) => `2026-01-0${d}T02:00:00Z`;

describe('a replay on the runner', { timeout: 120_000 }, () => {
  it('runs the job’s windows in order and each downstream window after the upstream window it reads, then succeeds', async () => {
    await deploy();
    const created = await replay();
    expect(created.jobs.map((j) => j.job)).toEqual(['a', 'b']);
    // Only the first window of `a` needs nothing: it is the one run created at once.
    expect(created.items.filter((i) => i.run).map((i) => [i.job, i.scheduledAt.toISOString()])).toEqual([
      ['a', '2026-01-02T02:00:00.000Z'],
    ]);
    runner!.wake();

    const ended = await advanceUntil(created.id, (r) => r.status !== 'running');
    expect(ended.status).toBe('succeeded');
    expect(replayView(ended).items.map((i) => `${i.job} ${i.scheduled_at.slice(0, 10)} ${i.state}`)).toEqual([
      'a 2026-01-02 succeeded',
      'a 2026-01-03 succeeded',
      'a 2026-01-04 succeeded',
      'b 2026-01-02 succeeded',
      'b 2026-01-03 succeeded',
      'b 2026-01-04 succeeded',
    ]);
    for (const item of ended.items) {
      expect(await kit.store.getRun(item.run!.id)).toMatchObject({ trigger: 'replay', replayId: created.id });
    }

    const seen = lines();
    const at = (line: string) => {
      const i = seen.indexOf(line);
      expect(i, `${line} in\n${seen.join('\n')}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    // a's windows one at a time, oldest first; b's window only after a's window of the same day.
    expect(seen.filter((l) => l.includes(' a '))).toEqual(
      [1, 1, 2, 2, 3, 3].map((d, k) => `${k % 2 ? 'end' : 'start'} a ${day(d)}`),
    );
    for (const d of [1, 2, 3]) expect(at(`start b ${day(d)}`)).toBeGreaterThan(at(`end a ${day(d)}`));
    expect(at(`start b ${day(1)}`)).toBeLessThan(at(`end b ${day(1)}`));
  });

  it('ends failed when a window fails, and never creates the runs that needed it', async () => {
    await deploy(`sleep 0.1; [ "$DSTART" != "${day(2)}" ]`);
    const created = await replay();
    runner!.wake();
    const ended = await advanceUntil(created.id, (r) => r.status !== 'running');
    expect(ended.status).toBe('failed');
    expect(ended.note).toMatch(
      /^run \d+ of job "a" \(scheduled 2026-01-03T02:00:00.000Z\) failed; 3 runs were not created \("a", "b"\)$/,
    );
    expect(replayView(ended).items.map((i) => `${i.job} ${i.scheduled_at.slice(0, 10)} ${i.state}`)).toEqual([
      'a 2026-01-02 succeeded',
      'a 2026-01-03 failed',
      'a 2026-01-04 skipped',
      'b 2026-01-02 succeeded',
      'b 2026-01-03 skipped',
      'b 2026-01-04 skipped',
    ]);
    // Nothing ran for the later windows, and nothing more is ever created.
    expect(lines().filter((l) => l.includes(day(3)) || l.includes(`b ${day(2)}`))).toEqual([]);
    expect(await advanceReplays({ store: kit.store, now: new Date(), logger: quiet })).toBe(0);
    expect((await kit.store.listRuns('p', 'b')).map((r) => r.scheduledAt.toISOString())).toEqual([
      '2026-01-02T02:00:00.000Z',
    ]);
  });

  it('stops when cancelled: the running window is stopped and nothing more is created', async () => {
    await deploy('sleep 60');
    const created = await replay();
    runner!.wake();
    await expect.poll(() => lines(), { timeout: 30_000, interval: 50 }).toEqual([`start a ${day(1)}`]);

    const cancelled = await cancelReplay({ store: kit.store }, 'p', created.id, 'the test');
    expect(cancelled).toMatchObject({ status: 'cancelled', note: 'cancelled by the test' });
    const first = cancelled.items[0]!.run!;
    await expect
      .poll(async () => (await kit.store.getRun(first.id))?.nodes.map((n) => n.status), {
        timeout: 30_000,
        interval: 50,
      })
      .toEqual(['cancelled']);
    expect(await advanceReplays({ store: kit.store, now: new Date(), logger: quiet })).toBe(0);
    const after = replayView((await kit.store.getReplay(created.id))!);
    expect(after.counts).toMatchObject({ cancelled: 1, skipped: 5, total: 6 });
    await expect(cancelReplay({ store: kit.store }, 'p', created.id)).rejects.toMatchObject({
      code: 'REPLAY_FINISHED',
    });
  });

  it('refuses a second replay of the job over an overlapping range while the first runs, naming it', async () => {
    await deploy('sleep 60');
    const created = await replay();
    await expect(replay(true)).rejects.toMatchObject({
      code: 'REPLAY_RUNNING',
      category: 'conflict',
      message: expect.stringContaining(`replay ${created.id} of job "a"`),
      hint: `follow it with \`optimus replay status ${created.id}\`, or cancel it with \`optimus replay cancel ${created.id}\``,
    });
    await cancelReplay({ store: kit.store }, 'p', created.id);
  });
});
