/**
 * Run state arrived with migration 0003: an embedded store made before it (from an older image, or
 * a data directory an older server used) gets the run tables when opened, keeping what it held,
 * and the image the build makes has them from the start.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStoreImage, createStore } from '../../src/store/create-store.js';
import { migrations } from '../../src/store/migrations/index.js';
import type { RunInputRecord } from '../../src/store/run-store.js';
import { STORE_IMAGE_FILE } from '../../src/store/store-image.js';
import { oldStoreImage } from '../helpers/old-store-image.js';

const RUN_TABLES = ['run_attempts', 'run_logs', 'run_nodes', 'runs'];
const BEFORE_RUNS = ['0001_init', '0002_window_presets'];

let root: string;
/** An image this code makes (with 0003), and one made by the code before run state. */
let current: string;
let old: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'optimus-test-'));
  current = join(root, 'current.tar.gz');
  await buildStoreImage(current);
  old = await oldStoreImage(
    root,
    BEFORE_RUNS,
    (pglite) => pglite.exec(`insert into projects (name, config) values ('kept', '{"K":"v"}')`),
    existsSync(STORE_IMAGE_FILE) ? STORE_IMAGE_FILE : current,
  );
}, 120_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Run tables and applied migrations of a closed data directory, or of an image. */
async function inspect(from: {
  dataDir?: string;
  image?: string;
}): Promise<{ tables: string[]; applied: string[] }> {
  const pglite = await PGlite.create(
    from.image ? { loadDataDir: new Blob([readFileSync(from.image)]) } : { dataDir: from.dataDir! },
  );
  try {
    const tables = await pglite.query<{ t: string }>(
      `select table_name as t from information_schema.tables where table_schema = 'public' and table_name like 'run%' order by 1`,
    );
    const applied = await pglite.query<{ name: string }>('select name from kysely_migration order by name');
    return { tables: tables.rows.map((r) => r.t), applied: applied.rows.map((r) => r.name) };
  } finally {
    await pglite.close();
  }
}

const runInput = (): RunInputRecord => ({
  projectName: 'kept',
  namespaceName: 'ns',
  jobName: 'j',
  scheduledAt: new Date('2026-01-01T00:00:00Z'),
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
});

describe('run state in an embedded store made before it', () => {
  it('is added when a data directory made from an older image opens, keeping its data', async () => {
    const dataDir = join(root, 'from-old-image');
    const store = await createStore({ dataDir, image: old });
    try {
      expect(await store.getProject('kept')).toMatchObject({ config: { K: 'v' } });
      const { run, created } = await store.createRun(runInput());
      expect(created).toBe(true);
      expect(run.nodes.map((n) => [n.name, n.status])).toEqual([['task', 'pending']]);
    } finally {
      await store.close();
    }
    expect(await inspect({ dataDir })).toEqual({ tables: RUN_TABLES, applied: Object.keys(migrations) });
  }, 60_000);

  it('is added when an older server’s data directory is opened again', async () => {
    const dataDir = join(root, 'older-server');
    const first = await createStore({ dataDir, image: current });
    await first.upsertProject({ name: 'p', config: {}, pluginDependencies: [] });
    await first.close();
    // What the server before 0003 left: its tables and data, no run tables, nothing from 0003 on
    // applied (later migrations' tables and columns go too: migrations only ever apply in order).
    const pglite = await PGlite.create({ dataDir });
    await pglite.exec(`
      drop table if exists replays cascade;
      drop table if exists run_attempts cascade;
      drop table run_logs, run_nodes, runs cascade;
      alter table jobs drop column lineage_key, drop column destination, drop column sources,
        drop column lineage_warnings, drop column static_deps, drop column upstreams;
      delete from kysely_migration where name >= '0003_runs';`);
    await pglite.close();
    expect((await inspect({ dataDir })).tables).toEqual([]);

    const store = await createStore({ dataDir });
    try {
      expect(await store.getProject('p')).toBeDefined();
      expect((await store.createRun({ ...runInput(), projectName: 'p' })).created).toBe(true);
    } finally {
      await store.close();
    }
    expect(await inspect({ dataDir })).toEqual({ tables: RUN_TABLES, applied: Object.keys(migrations) });
  }, 60_000);

  it('is in the image the build makes, before any migration runs on open', async () => {
    expect(await inspect({ image: current })).toEqual({
      tables: RUN_TABLES,
      applied: Object.keys(migrations),
    });
  }, 60_000);
});

describe('node attempts in an embedded store made before them (migration 0006)', () => {
  it('records each node’s last attempt from what its row held, and new attempts from then on', async () => {
    const before = Object.keys(migrations).filter((n) => n < '0006_run_attempts');
    mkdirSync(join(root, 'before-attempts'));
    const image = await oldStoreImage(
      join(root, 'before-attempts'),
      before,
      (pglite) =>
        pglite.exec(`
          insert into runs (id, project_name, namespace_name, job_name, scheduled_at, trigger, status,
            job_hash, settings, started_at, finished_at)
          values (7, 'p', 'ns', 'j', '2026-01-01T00:00:00Z', 'manual', 'failed', 'h',
            '{"maxAttempts":2,"retryDelayMs":0,"exponentialBackoff":false,"timeoutMs":1000,"dependsOnPast":false}',
            '2026-01-01T00:00:01Z', '2026-01-01T00:00:09Z');
          insert into run_nodes (run_id, name, type, stage, depends_on, ordinal, status, attempt,
            started_at, finished_at, exit_code, error)
          values
            (7, 'pre', 'shell', 'pre', '[]', 0, 'succeeded', 1, '2026-01-01T00:00:01Z', '2026-01-01T00:00:02Z', 0, null),
            (7, 'task', 'shell', 'task', '["pre"]', 1, 'failed', 2, '2026-01-01T00:00:05Z', '2026-01-01T00:00:08Z', null,
              'timed out after 1s'),
            (7, 'post', 'shell', 'post', '["task"]', 2, 'skipped', 0, null, '2026-01-01T00:00:08Z', null, null);`),
      existsSync(STORE_IMAGE_FILE) ? STORE_IMAGE_FILE : current,
    );
    const store = await createStore({ dataDir: join(root, 'before-attempts', 'data'), image });
    try {
      expect(
        (await store.attemptsOf([7])).map((a) => [
          a.node,
          a.attempt,
          a.status,
          a.finishedAt?.toISOString(),
          a.error,
        ]),
      ).toEqual([
        ['pre', 1, 'succeeded', '2026-01-01T00:00:02.000Z', null],
        ['task', 2, 'timed_out', '2026-01-01T00:00:08.000Z', 'timed out after 1s'],
      ]);
      const run = await store.getRun(7);
      expect(run?.nodes.map((n) => n.attemptsBefore)).toEqual([0, 0, 0]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
