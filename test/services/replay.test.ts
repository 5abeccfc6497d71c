/** Replay planning: which jobs, in which order, which windows, and what each window waits for. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideReplay,
  type PlannedJob,
  parseReplayTime,
  planItems,
  readyItems,
  replayJobs,
  replaySummaryView,
  replayView,
  windowsOverlap,
} from '../../src/services/replay.js';
import type { LineageRow } from '../../src/store/lineage-store.js';
import type { ReplayRecord } from '../../src/store/replay-store.js';
import type { RunStatus } from '../../src/store/run-store.js';
import type { JobRecord } from '../../src/store/store.js';

const row = (name: string, upstreams: string[] = [], project = 'p'): LineageRow => ({
  projectName: project,
  namespaceName: 'ns',
  name,
  destination: null,
  sources: [],
  staticDependencies: [],
  upstreams: upstreams.map((u) => {
    const [p, j] = u.includes('/') ? u.split('/') : [project, u];
    return { project: p!, namespace: 'ns', job: j!, kind: 'static' as const, via: ['dependencies[0]'] };
  }),
});

const names = (jobs: ReturnType<typeof replayJobs>) => jobs.map((j) => j.job.job);
const t = (iso: string) => new Date(iso);

describe('the jobs of a replay', () => {
  // a → b → d, a → c → d, e unrelated, x in another project reads b.
  const rows = [
    row('d', ['b', 'c']),
    row('c', ['a']),
    row('b', ['a']),
    row('a'),
    row('e'),
    row('x', ['p/b'], 'other'),
  ];

  it('is the job alone without --downstream', () => {
    expect(names(replayJobs({ project: 'p', job: 'b' }, rows, false))).toEqual(['b']);
  });

  it('holds every job downstream of the root, across projects, upstream first', () => {
    const jobs = replayJobs({ project: 'p', job: 'a' }, rows, true);
    expect(jobs.map((j) => `${j.job.project}/${j.job.job}`)).toEqual(['p/a', 'p/b', 'other/x', 'p/c', 'p/d']);
    expect(Object.fromEntries(jobs.map((j) => [j.job.job, j.upstreams]))).toEqual({
      a: [],
      b: ['p/a'],
      c: ['p/a'],
      x: ['p/b'],
      d: ['p/b', 'p/c'],
    });
  });

  it('leaves out upstream jobs of a downstream job that are not downstream of the root', () => {
    const jobs = replayJobs({ project: 'p', job: 'c' }, rows, true);
    expect(names(jobs)).toEqual(['c', 'd']);
    expect(jobs[1]!.upstreams).toEqual(['p/c']);
  });

  it('gives the same order whatever the order of the rows', () => {
    const reversed = [...rows].reverse();
    expect(names(replayJobs({ project: 'p', job: 'a' }, reversed, true))).toEqual(
      names(replayJobs({ project: 'p', job: 'a' }, rows, true)),
    );
  });

  it('refuses a cycle, naming its jobs', () => {
    const cyclic = [row('a'), row('b', ['a', 'c']), row('c', ['b'])];
    expect(() => replayJobs({ project: 'p', job: 'a' }, cyclic, true)).toThrow(
      expect.objectContaining({ code: 'REPLAY_CYCLE', message: expect.stringContaining('p/b, p/c') }),
    );
  });

  it('refuses a job that is not deployed', () => {
    expect(() => replayJobs({ project: 'p', job: 'zz' }, rows, true)).toThrow(
      expect.objectContaining({ code: 'JOB_NOT_FOUND' }),
    );
  });
});

const daily = (job: string, days: number[], upstreams: string[] = []): PlannedJob => ({
  job: { project: 'p', namespace: 'ns', job },
  upstreams: upstreams.map((u) => `p/${u}`),
  windows: days.map((d) => ({
    scheduledAt: t(`2026-03-0${d + 1}T02:00:00Z`),
    start: t(`2026-03-0${d}T00:00:00Z`),
    end: t(`2026-03-0${d + 1}T00:00:00Z`),
  })),
});

describe('the items of a replay', () => {
  it('runs the windows of one job one after another unless parallel', () => {
    const seq = planItems([daily('a', [1, 2, 3])], false);
    expect(seq.map((i) => i.after)).toEqual([[], [0], [1]]);
    const par = planItems([daily('a', [1, 2, 3])], true);
    expect(par.map((i) => i.after)).toEqual([[], [], []]);
  });

  it('makes a downstream window wait for the upstream windows it overlaps', () => {
    const items = planItems([daily('a', [1, 2, 3]), daily('b', [1, 2, 3], ['a'])], true);
    expect(items.map((i) => `${i.job}@${i.scheduledAt.toISOString().slice(5, 10)}:${i.after}`)).toEqual([
      'a@03-02:',
      'a@03-03:',
      'a@03-04:',
      'b@03-02:0',
      'b@03-03:1',
      'b@03-04:2',
    ]);
  });

  it('makes a weekly window wait for every daily window inside it, and a daily one for the weekly window holding it', () => {
    const weekly: PlannedJob = {
      job: { project: 'p', namespace: 'ns', job: 'w' },
      upstreams: ['p/a'],
      windows: [
        {
          scheduledAt: t('2026-03-08T00:00:00Z'),
          start: t('2026-03-01T00:00:00Z'),
          end: t('2026-03-08T00:00:00Z'),
        },
      ],
    };
    const items = planItems([daily('a', [1, 2, 3, 8]), weekly], false);
    // Sequential: the weekly window also waits for nothing of its own job before it.
    expect(items[4]!.after).toEqual([0, 1, 2]);

    const dailyAfterWeekly = planItems(
      [
        { ...weekly, job: { ...weekly.job, job: 'w' }, upstreams: [] },
        { ...daily('d', [2, 8]), upstreams: ['p/w'] },
      ],
      true,
    );
    expect(dailyAfterWeekly.map((i) => i.after)).toEqual([[], [0], []]);
  });

  it('finds the same prerequisites as comparing every pair of windows, whatever their sizes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 30 })), {
          maxLength: 40,
        }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 30 })), {
          maxLength: 40,
        }),
        (ups, downs) => {
          const windows = (list: [number, number][]) =>
            list.map(([s, len], k) => ({
              scheduledAt: new Date(k * 1000),
              start: new Date(s * 60_000),
              end: new Date((s + len) * 60_000),
            }));
          const u: PlannedJob = {
            job: { project: 'p', namespace: 'ns', job: 'u' },
            upstreams: [],
            windows: windows(ups),
          };
          const d: PlannedJob = {
            job: { project: 'p', namespace: 'ns', job: 'd' },
            upstreams: ['p/u'],
            windows: windows(downs),
          };
          const items = planItems([u, d], true);
          for (const [k, w] of d.windows.entries()) {
            const expected = u.windows.flatMap((x, i) => (windowsOverlap(x, w) ? [i] : []));
            expect(items[ups.length + k]!.after).toEqual(expected);
          }
        },
      ),
    );
  });

  it('treats windows as half-open, and an empty window as the point it is', () => {
    const w = (a: string, b: string) => ({ start: t(`2026-03-01T${a}:00Z`), end: t(`2026-03-01T${b}:00Z`) });
    expect(windowsOverlap(w('00:00', '01:00'), w('01:00', '02:00'))).toBe(false);
    expect(windowsOverlap(w('00:00', '01:30'), w('01:00', '02:00'))).toBe(true);
    expect(windowsOverlap(w('01:00', '01:00'), w('01:00', '02:00'))).toBe(true);
    expect(windowsOverlap(w('02:00', '02:00'), w('01:00', '02:00'))).toBe(false);
    expect(windowsOverlap(w('02:00', '02:00'), w('02:00', '02:00'))).toBe(true);
  });
});

describe('replay ranges', () => {
  it('reads dates as whole UTC days, both ends inclusive', () => {
    expect(parseReplayTime('2026-03-01', 'from')?.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(parseReplayTime('2026-03-03', 'to')?.toISOString()).toBe('2026-03-03T23:59:59.999Z');
  });

  it('reads RFC 3339 times, in UTC unless a zone is given', () => {
    expect(parseReplayTime('2026-03-01T02:00:00+07:00', 'from')?.toISOString()).toBe(
      '2026-02-28T19:00:00.000Z',
    );
    expect(parseReplayTime('2026-03-01T02:00', 'to')?.toISOString()).toBe('2026-03-01T02:00:00.000Z');
  });

  it('refuses what is not a date', () => {
    for (const bad of ['yesterday', '2026-02-30', '2026-3-1', '', '2026-03-01T25:00:00Z']) {
      expect(parseReplayTime(bad, 'from'), bad).toBeUndefined();
    }
  });
});

const JOB = (name: string): JobRecord => ({
  projectName: 'p',
  namespaceName: 'ns',
  name,
  spec: { version: 3, name, behavior: { depends_on_past: true } },
  assets: {},
  hash: `h-${name}`,
  runGraph: [{ name: 'shell', type: 'shell', stage: 'task', depends_on: [] }],
  lineage: null,
  upstreams: [],
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

function replayOf(states: (RunStatus | null)[], parallel = false): ReplayRecord {
  const items = planItems([daily('a', [1, 2]), daily('b', [1, 2], ['a'])], parallel);
  return {
    id: 7,
    projectName: 'p',
    namespaceName: 'ns',
    jobName: 'a',
    from: t('2026-03-01T00:00:00Z'),
    to: t('2026-03-03T23:59:59.999Z'),
    downstream: true,
    parallel,
    jobs: [
      { project: 'p', namespace: 'ns', job: 'a' },
      { project: 'p', namespace: 'ns', job: 'b' },
    ],
    status: 'running',
    note: null,
    createdAt: t('2026-04-01T00:00:00Z'),
    finishedAt: null,
    items: items.map((i, n) => ({ ...i, run: states[n] ? { id: 100 + n, status: states[n]! } : null })),
  };
}

const JOBS = new Map([
  ['p/a', JOB('a')],
  ['p/b', JOB('b')],
]);
const NOW = t('2026-04-01T01:00:00Z');
const DEFAULTS = { nodeTimeoutMs: 60_000 };

describe('advancing a replay', () => {
  it('creates the runs of the items whose prerequisites succeeded, as replay runs without depends_on_past', () => {
    const replay = replayOf(['succeeded', null, null, null]);
    expect(readyItems(replay)).toEqual([1, 2]);
    const change = decideReplay(replay, JOBS, DEFAULTS, NOW);
    expect(change?.createRuns?.map((r) => [r.jobName, r.scheduledAt.toISOString(), r.trigger])).toEqual([
      ['a', '2026-03-03T02:00:00.000Z', 'replay'],
      ['b', '2026-03-02T02:00:00.000Z', 'replay'],
    ]);
    expect(change?.createRuns?.every((r) => r.settings.dependsOnPast === false)).toBe(true);
  });

  it('creates nothing while the prerequisites still run', () => {
    expect(decideReplay(replayOf(['running', null, null, null]), JOBS, DEFAULTS, NOW)).toBeUndefined();
  });

  it('ends succeeded when every run succeeded', () => {
    expect(
      decideReplay(replayOf(['succeeded', 'succeeded', 'succeeded', 'succeeded']), JOBS, DEFAULTS, NOW),
    ).toEqual({
      status: 'succeeded',
      finishedAt: NOW,
      note: null,
    });
  });

  it('stops creating runs when one failed, and ends failed naming the run and what was not created', () => {
    const waiting = decideReplay(replayOf(['failed', null, 'running', null], true), JOBS, DEFAULTS, NOW);
    expect(waiting).toEqual({
      note: 'run 100 of job "a" (scheduled 2026-03-02T02:00:00.000Z) failed; no more runs are created, waiting for 1 run to finish',
    });
    const ended = decideReplay(replayOf(['failed', 'succeeded', null, null]), JOBS, DEFAULTS, NOW);
    expect(ended).toEqual({
      status: 'failed',
      finishedAt: NOW,
      note: 'run 100 of job "a" (scheduled 2026-03-02T02:00:00.000Z) failed; 2 runs were not created ("b")',
    });
  });

  it('ends failed when a job of the replay is no longer deployed', () => {
    const jobs = new Map([...JOBS, ['p/b', null]]);
    expect(decideReplay(replayOf(['succeeded', 'running', null, null]), jobs, DEFAULTS, NOW)).toEqual({
      note: 'job "b" of project "p" is no longer deployed; no more runs are created, waiting for 1 run to finish',
    });
  });

  it('shows each window as its run’s status, waiting before it has one and skipped once the replay ended', () => {
    const view = replayView(replayOf(['succeeded', 'running', null, null]));
    expect(view.items.map((i) => i.state)).toEqual(['succeeded', 'running', 'waiting', 'waiting']);
    expect(view.jobs.map((j) => [j.job, j.windows, j.counts.succeeded, j.counts.waiting])).toEqual([
      ['a', 2, 1, 0],
      ['b', 2, 0, 2],
    ]);
    const failed = { ...replayOf(['failed', null, null, null]), status: 'failed' as const };
    expect(replayView(failed).counts).toMatchObject({ total: 4, failed: 1, skipped: 3, waiting: 0 });
    const { items: _, ...summary } = failed;
    expect(replaySummaryView({ ...summary, itemCount: 4, runCounts: { failed: 1 } }).counts).toMatchObject({
      total: 4,
      failed: 1,
      skipped: 3,
    });
  });
});
