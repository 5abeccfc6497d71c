import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from '../helpers/temp-project.js';
import { replayStoreContract } from './replay-store.case.js';
import { runStoreContract } from './run-store.case.js';
import { storeContract } from './store.case.js';

storeContract('PGlite, in memory', () => createStore({}));
runStoreContract('PGlite, in memory', () => createStore({}));
replayStoreContract('PGlite, in memory', () => createStore({}));

async function withStore<T>(dataDir: string, f: (store: Store) => Promise<T>): Promise<T> {
  const store = await createStore({ dataDir });
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

describe('PGlite store in a data directory', () => {
  it('keeps its data after closing and reopening', async () => {
    const dataDir = join(tempDir(), 'data');
    await withStore(dataDir, async (store) => {
      expect(store.kind).toBe('pglite');
      await expect(createStore({ dataDir })).rejects.toMatchObject({
        code: 'STORE_LOCKED',
        category: 'conflict',
      });
      await store.upsertProject({ name: 'p', config: { K: 'v' }, pluginDependencies: ['a >> b'] });
      await store.upsertNamespace({ projectName: 'p', name: 'ns', config: {} });
      await store.insertSecret({
        projectName: 'p',
        name: 'S',
        namespaceName: 'ns',
        ciphertext: 'Yw==',
        digest: 'd',
      });
      await store.applyDeploy({
        upsert: [
          {
            projectName: 'p',
            namespaceName: 'ns',
            name: 'j',
            spec: { a: 1 },
            assets: { 'q.sql': 'select 1' },
            hash: 'h',
            runGraph: [],
          },
        ],
        delete: [],
        deploy: {
          projectName: 'p',
          namespaceName: 'ns',
          status: 'succeeded',
          startedAt: new Date(),
          finishedAt: new Date(),
          added: ['j'],
          modified: [],
          deleted: [],
          unchanged: 0,
          problems: [],
        },
      });
    });
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);

    await withStore(dataDir, async (reopened) => {
      expect(await reopened.getProject('p')).toMatchObject({
        config: { K: 'v' },
        pluginDependencies: ['a >> b'],
      });
      expect(await reopened.getSecret('p', 'S')).toMatchObject({ namespaceName: 'ns', ciphertext: 'Yw==' });
      expect(await reopened.getJob('p', 'ns', 'j')).toMatchObject({
        spec: { a: 1 },
        assets: { 'q.sql': 'select 1' },
      });
      expect((await reopened.listDeploys('p', 'ns')).map((d) => d.added)).toEqual([['j']]);
    });
  });

  it('shows all of a deploy or none of it after the process is killed (SIGKILL) during it, and reopens', async () => {
    const JOBS = 5000;
    const dataDir = join(tempDir(), 'data');
    const child = (phase: string) =>
      spawn(process.execPath, [join(import.meta.dirname, 'crash-child.mjs'), dataDir, phase, String(JOBS)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
    const exited = (c: ReturnType<typeof child>) =>
      new Promise<number | null>((resolve) => c.on('exit', (code) => resolve(code)));

    expect(await exited(child('setup'))).toBe(0);
    const apply = child('apply');
    const done = exited(apply);
    let out = '';
    try {
      await new Promise<void>((resolve) =>
        apply.stdout.on('data', (d) => {
          out += d;
          if (out.includes('applying')) resolve();
        }),
      );
      // While the child runs, the directory is its own.
      const locked = await createStore({ dataDir }).catch((e: unknown) => e);
      expect(locked).toMatchObject({
        code: 'STORE_LOCKED',
        message: expect.stringContaining(`process ${apply.pid}`),
      });
      // Writing 5,000 jobs takes hundreds of milliseconds: the kill lands inside the transaction
      // (when the machine is fast enough to commit first, the assertions below check the new state).
      await sleep(50);
    } finally {
      apply.kill('SIGKILL');
      await done;
    }

    await withStore(dataDir, async (store) => {
      const summaries = await store.jobSummaries('p');
      const deploys = (await store.listDeploys('p', 'ns')).map((d) => d.added);
      const hashes = [...new Set(summaries.map((s) => s.hash))];
      if (out.includes('committed')) {
        expect({ jobs: summaries.length, hashes, deploys }).toEqual({
          jobs: JOBS - 2,
          hashes: ['v2'],
          deploys: [['v2'], ['v1']],
        });
      } else {
        expect({ jobs: summaries.length, hashes, deploys }).toEqual({
          jobs: JOBS,
          hashes: ['v1'],
          deploys: [['v1']],
        });
      }
    });
  }, 120_000);
});
