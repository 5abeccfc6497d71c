/**
 * Run state survives the embedded store's process being killed (SIGKILL) at any moment: every run
 * the process saw committed is there afterwards with all its nodes, a node it held is still
 * running under its lease (for the next server to recover), and no run is left half-made.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import { tempDir } from '../helpers/temp-project.js';

describe('run state in the embedded store after a SIGKILL', () => {
  it('keeps every committed run whole and the leases its server held', async () => {
    const dataDir = join(tempDir(), 'data');
    const child = spawn(process.execPath, [join(import.meta.dirname, 'run-crash-child.mjs'), dataDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const acknowledged: number[] = [];
    let out = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.on('exit', () => reject(new Error(`the child exited early: ${out}`)));
        child.stdout.on('data', (d) => {
          out += d;
          const seen = [...out.matchAll(/^claimed (\d+)$/gm)].map((m) => Number(m[1]));
          acknowledged.splice(0, acknowledged.length, ...seen);
          // Killed in the middle of its work on a later run, wherever that is.
          if (seen.length >= 5) resolve();
        });
      });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }

    const store = await createStore({ dataDir });
    try {
      const runs = await store.listRuns('p', 'j', { limit: 1000 });
      const ids = runs.map((r) => r.id);
      for (const id of acknowledged) expect(ids).toContain(id);
      for (const run of runs) {
        expect(run.nodes.map((n) => n.name)).toEqual(['pre', 'task', 'post']);
      }
      for (const id of acknowledged) {
        const run = runs.find((r) => r.id === id)!;
        expect(run.status).toBe('running');
        expect(run.nodes[0]).toMatchObject({ status: 'running', attempt: 1, leaseOwner: 'crashing-server' });
        expect(await store.readLogs(id, { limit: 10_000 })).toHaveLength(200);
      }
      const held = (await store.orphanedNodes({ owner: 'crashing-server' })).map((n) => n.runId);
      for (const id of acknowledged) expect(held).toContain(id);
      expect((await store.runningNodes()).map((n) => n.runId).sort()).toEqual([...held].sort());
    } finally {
      await store.close();
    }
  }, 120_000);
});
