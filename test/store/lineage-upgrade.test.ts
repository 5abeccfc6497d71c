/**
 * Lineage arrived with migration 0004: jobs stored before it get the lineage columns when their
 * store opens, their static dependencies read from their spec (the same as core/lineage.ts reads
 * them), no lineage and no upstreams until a deploy resolves them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticDependencies, upstreamResolver } from '../../src/core/lineage.js';
import { createStore } from '../../src/store/create-store.js';
import { oldStoreImage } from '../helpers/old-store-image.js';

const BEFORE_LINEAGE = ['0001_init', '0002_window_presets', '0003_runs'];

/** Specs as an older server stored them, with every shape `dependencies` can take. */
const SPECS: Record<string, unknown> = {
  base: { name: 'base' },
  'other-base': { name: 'other-base' },
  mixed: {
    name: 'mixed',
    dependencies: [
      { job: 'base' },
      { http: { name: 'ready', url: 'https://example.com' } },
      { job: 'kept/other-base', type: 'inter' },
      { job: '' },
      { job: 7 },
      'text',
      { job: 'missing' },
    ],
  },
  'not-a-list': { name: 'not-a-list', dependencies: { job: 'base' } },
  'only-http': { name: 'only-http', dependencies: [{ http: { name: 'h', url: 'u' } }] },
};

let root: string;
let old: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'optimus-test-'));
  old = await oldStoreImage(root, BEFORE_LINEAGE, async (pglite) => {
    await pglite.exec(`
      insert into projects (name, config) values ('kept', '{}');
      insert into namespaces (project_name, name, config) values ('kept', 'ns', '{}');`);
    for (const [name, spec] of Object.entries(SPECS)) {
      await pglite.query(
        `insert into jobs (project_name, namespace_name, name, spec, hash, run_graph) values ('kept', 'ns', $1, $2, 'h', '[]')`,
        [name, JSON.stringify(spec)],
      );
    }
  });
}, 120_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('lineage in an embedded store made before it', () => {
  it('gives the jobs it holds their static dependencies from their spec, and no lineage yet', async () => {
    const store = await createStore({ dataDir: join(root, 'from-old-image'), image: old });
    try {
      const rows = await store.lineageRows();
      expect(Object.fromEntries(rows.map((r) => [r.name, r.staticDependencies]))).toEqual(
        Object.fromEntries(Object.entries(SPECS).map(([name, spec]) => [name, staticDependencies(spec)])),
      );
      expect(rows.find((r) => r.name === 'mixed')!.staticDependencies).toEqual([
        { job: 'base', index: 0 },
        { project: 'kept', job: 'other-base', index: 2 },
        { job: 'missing', index: 6 },
      ]);
      for (const r of rows) expect(r).toMatchObject({ destination: null, sources: [], upstreams: [] });
      expect(await store.getJob('kept', 'ns', 'mixed')).toMatchObject({ lineage: null, upstreams: [] });
      expect((await store.jobSummaries('kept')).map((s) => s.lineageKey)).toEqual(
        Object.keys(SPECS).map(() => null),
      );
    } finally {
      await store.close();
    }
  }, 60_000);

  it('resolves those dependencies on the first deploy that resolves upstreams', async () => {
    const store = await createStore({ dataDir: join(root, 'first-deploy'), image: old });
    try {
      let unresolved: unknown[] = [];
      await store.applyDeploy({
        upsert: [],
        delete: [],
        deploy: {
          projectName: 'kept',
          namespaceName: 'ns',
          status: 'succeeded',
          startedAt: new Date(),
          finishedAt: new Date(),
          added: [],
          modified: [],
          deleted: [],
          unchanged: 5,
          problems: [],
        },
        resolve: upstreamResolver({ onUnresolved: (u) => (unresolved = u) }),
      });
      expect((await store.getJob('kept', 'ns', 'mixed'))!.upstreams).toEqual([
        { project: 'kept', namespace: 'ns', job: 'base', kind: 'static', via: ['dependencies[0]'] },
        { project: 'kept', namespace: 'ns', job: 'other-base', kind: 'static', via: ['dependencies[2]'] },
      ]);
      expect(unresolved).toEqual([
        { projectName: 'kept', namespaceName: 'ns', name: 'mixed', dependency: { job: 'missing', index: 6 } },
      ]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
