import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { triggerRun } from '../../src/services/runs.js';
import { createStore } from '../../src/store/create-store.js';
import { startPostgres } from '../helpers/postgres.js';
import { deployJobs, openKit, shellJob, startRunner, waitForRun } from './runner-kit.js';

const server = await startPostgres();
const pgServer = 'skipped' in server ? undefined : server;
const skipped = 'skipped' in server ? server.skipped : undefined;
if (skipped) console.warn(`runner tests on PostgreSQL skipped: ${skipped}`);

describe.skipIf(skipped !== undefined)(
  `two runners on one PostgreSQL${skipped ? ` (skipped: ${skipped})` : ''}`,
  () => {
    afterAll(() => pgServer!.stop());

    it('share 30 runs of a five-node job and run every node exactly once', async () => {
      const a = await openKit(await createStore({ url: pgServer!.url }));
      const b = await openKit(await createStore({ url: pgServer!.url }));
      const executions = join(a.dir, 'executions');
      // Each node appends its run's scheduled day and its own name: a node run twice shows twice.
      const mark = (node: string) => `echo "$RUN_DAY ${node}" >> "${executions}"`;
      const config = { RUN_DAY: '{{ .DEND }}' };
      await deployJobs(a, 'shared', [
        shellJob(
          'fanout',
          mark('task'),
          [
            { name: 'pre-a', stage: 'pre', script: mark('pre-a'), config },
            { name: 'pre-b', stage: 'pre', script: mark('pre-b'), config },
            { name: 'post-c', stage: 'post', script: mark('post-c'), config },
            { name: 'post-d', stage: 'post', script: mark('post-d'), depends_on: ['post-c'], config },
          ],
          { task: { name: 'shell', config: { SCRIPT: mark('task'), ...config } } },
        ),
      ]);
      const config4 = {
        type: 'local' as const,
        executor: 'process' as const,
        concurrency: 4,
        nodeTimeoutMs: 60_000,
        docker: { network: 'none' },
      };
      const runners = [startRunner(a, { config: config4 }), startRunner(b, { config: config4 })];
      try {
        const ids: number[] = [];
        for (let day = 0; day < 30; day++) {
          const at = new Date(Date.UTC(2026, 0, 1 + day));
          ids.push((await triggerRun(a.store, 'shared', 'fanout', at, { nodeTimeoutMs: 60_000 })).id);
        }
        await Promise.all(runners.map((r) => r.start()));
        for (const id of ids) expect((await waitForRun(a.store, id)).status).toBe('succeeded');
        const lines = readFileSync(executions, 'utf8').trim().split('\n');
        expect(lines).toHaveLength(150);
        expect(new Set(lines).size).toBe(150);
        const done = runners.map((r) => r.stats().finished);
        expect(done[0]! + done[1]!).toBe(150);
        // Both took part: with four nodes each at most at once, neither can take all the ready work.
        expect(done.every((n) => n > 0)).toBe(true);
      } finally {
        await Promise.all(runners.map((r) => r.stop()));
        await a.close();
        await b.close();
      }
    }, 180_000);
  },
);
