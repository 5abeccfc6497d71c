/**
 * Replays arrived with migration 0005: an embedded store made before it keeps its runs, its
 * scheduled runs stay one per job and time, and a replay may run those times again beside them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import { migrations } from '../../src/store/migrations/index.js';
import type { RunInputRecord } from '../../src/store/run-store.js';
import { oldStoreImage } from '../helpers/old-store-image.js';

const BEFORE_REPLAYS = Object.keys(migrations).filter((n) => n < '0005_replays');
const AT = new Date('2026-01-02T00:00:00Z');

let root: string;
let old: string;

const runInput = (over: Partial<RunInputRecord> = {}): RunInputRecord => ({
  projectName: 'kept',
  namespaceName: 'ns',
  jobName: 'j',
  scheduledAt: AT,
  trigger: 'schedule',
  jobHash: 'h',
  settings: {
    maxAttempts: 1,
    retryDelayMs: 0,
    exponentialBackoff: false,
    timeoutMs: 1000,
    dependsOnPast: false,
  },
  nodes: [{ name: 'task', type: 'bq2bq', stage: 'task', dependsOn: [] }],
  ...over,
});

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'optimus-test-'));
  old = await oldStoreImage(root, BEFORE_REPLAYS, (pglite) =>
    pglite.query(
      `insert into runs (project_name, namespace_name, job_name, scheduled_at, trigger, status, job_hash, settings)
       values ('kept', 'ns', 'j', $1, 'schedule', 'succeeded', 'h', '{}'::jsonb)`,
      [AT],
    ),
  );
}, 120_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('replays in an embedded store made before them', () => {
  it('keeps the runs, keeps scheduled runs one per job and time, and lets a replay run that time again', async () => {
    const store = await createStore({ dataDir: join(root, 'from-old-image'), image: old });
    try {
      const [kept] = await store.listRuns('kept', 'j');
      expect(kept).toMatchObject({ trigger: 'schedule', status: 'succeeded', replayId: null });
      expect(await store.createRun(runInput())).toMatchObject({ created: false, run: { id: kept!.id } });

      const made = await store.createReplay({
        projectName: 'kept',
        namespaceName: 'ns',
        jobName: 'j',
        from: new Date('2026-01-01T00:00:00Z'),
        to: new Date('2026-01-02T23:59:59Z'),
        downstream: false,
        parallel: false,
        jobs: [{ project: 'kept', namespace: 'ns', job: 'j' }],
        items: [
          {
            project: 'kept',
            namespace: 'ns',
            job: 'j',
            scheduledAt: AT,
            windowStart: new Date('2026-01-01T00:00:00Z'),
            windowEnd: AT,
            after: [],
          },
        ],
      });
      if (!made.created) throw new Error('replay not created');
      const after = await store.updateReplay(made.replay.id, () => ({
        createRuns: [runInput({ trigger: 'replay' })],
      }));
      const again = await store.getRun(after!.items[0]!.run!.id);
      expect(again).toMatchObject({
        trigger: 'replay',
        replayId: made.replay.id,
        scheduledAt: AT,
        status: 'queued',
      });
      expect((await store.listRuns('kept', 'j')).map((r) => r.trigger).sort()).toEqual([
        'replay',
        'schedule',
      ]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
