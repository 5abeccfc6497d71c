/**
 * The embedded store keeps every job's lineage row in memory between deploys (kysely-store.ts,
 * summaryCache). What it holds must always be what the database holds: checked here against the
 * rows each job reads back from the database, over a seeded random run of deploys that add,
 * change and delete jobs, deploys refused for a cycle, deploys that resolve nothing, and single
 * deletes, across two projects and two namespaces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobKey, upstreamResolver } from '../../src/core/lineage.js';
import { createStore } from '../../src/store/create-store.js';
import type { LineageRow } from '../../src/store/lineage-store.js';
import type { DeployInput, JobInput, Store } from '../../src/store/store.js';

const PROJECTS = ['p', 'q'];
const NAMESPACES = ['ns1', 'ns2'];
const NAMES = Array.from({ length: 12 }, (_, i) => `j${i}`);
const TABLES = Array.from({ length: 14 }, (_, i) => `t${i}`);
const urn = (t: string) => `bq://shared:d.${t}`;

function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const deploy = (projectName: string, namespaceName: string): DeployInput => ({
  projectName,
  namespaceName,
  status: 'succeeded',
  startedAt: new Date(),
  finishedAt: new Date(),
  added: [],
  modified: [],
  deleted: [],
  unchanged: 0,
  problems: [],
});

const sorted = (rows: readonly LineageRow[]) =>
  [...rows].sort((a, b) => (jobKey(a.projectName, a.name) < jobKey(b.projectName, b.name) ? -1 : 1));

describe('lineage rows held in memory by the embedded store', () => {
  let store: Store;
  beforeAll(async () => {
    store = await createStore({});
    for (const p of PROJECTS) {
      await store.upsertProject({ name: p, config: {}, pluginDependencies: [] });
      for (const n of NAMESPACES) await store.upsertNamespace({ projectName: p, name: n, config: {} });
    }
  });
  afterAll(() => store.close());

  /** Every job's row as the database has it, one job at a time (getJob never reads the memory). */
  async function fromDatabase(held: readonly LineageRow[]): Promise<LineageRow[]> {
    const out: LineageRow[] = [];
    for (const p of PROJECTS)
      for (const ns of NAMESPACES)
        for (const name of NAMES) {
          const job = await store.getJob(p, ns, name);
          if (!job) continue;
          const row = held.find((r) => r.projectName === p && r.name === name);
          out.push({
            projectName: p,
            namespaceName: ns,
            name,
            destination: job.lineage?.destination ?? null,
            sources: job.lineage?.sources ?? [],
            // Static dependencies come from the spec; none here.
            staticDependencies: row?.staticDependencies ?? [],
            upstreams: job.upstreams,
          });
        }
    return sorted(out);
  }

  it('always equals what the database holds, and is shared until the next write', async () => {
    const next = random(7);
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
    /** Where each job lives now: project/name → namespace (names are unique per project). */
    const placed = new Map<string, string>();
    const readable = (name: string) => {
      const i = NAMES.indexOf(name);
      return next() < 0.04 || i === 0 ? pick(TABLES) : `t${Math.floor(next() * i)}`;
    };
    let version = 0;
    let refused = 0;
    let applied = 0;
    for (let step = 0; step < 80; step++) {
      const p = pick(PROJECTS);
      const ns = pick(NAMESPACES);
      const roll = next();
      if (roll < 0.12) {
        const name = pick(NAMES);
        const where = placed.get(`${p}/${name}`);
        if (where && (await store.deleteJob(p, where, name))) placed.delete(`${p}/${name}`);
      } else {
        const upsert: JobInput[] = [];
        for (const name of NAMES) {
          const where = placed.get(`${p}/${name}`);
          if ((where && where !== ns) || next() > 0.35) continue;
          version++;
          upsert.push({
            projectName: p,
            namespaceName: ns,
            name,
            spec: { version: 1, name, task: { name: 'bq2bq', config: { V: String(version) } } },
            assets: {},
            hash: `${name}-${version}`,
            runGraph: [{ name: 'bq2bq', stage: 'task', depends_on: [] }],
            lineage: {
              key: `k${version}`,
              // Job jN writes tN (in both projects: a table may have two writers) and mostly reads
              // tables of lower numbers; now and then a higher one, which may close a cycle.
              destination: urn(`t${NAMES.indexOf(name)}`),
              sources: [...new Set([readable(name), readable(name)])].map(urn),
              warnings: [],
            },
          });
        }
        const gone = [...placed]
          .filter(([k, where]) => k.startsWith(`${p}/`) && where === ns && next() < 0.1)
          .map(([k]) => k.slice(p.length + 1))
          .filter((name) => !upsert.some((j) => j.name === name));
        // Most deploys resolve; some resolve nothing (a server without an inferrer).
        const resolves = roll < 0.9;
        try {
          await store.applyDeploy({
            upsert,
            delete: gone,
            deploy: deploy(p, ns),
            // As deploys do: only a cycle through a job this deploy touches refuses it.
            ...(resolves
              ? { resolve: upstreamResolver({ touched: new Set(upsert.map((j) => jobKey(p, j.name))) }) }
              : {}),
          });
          for (const j of upsert) placed.set(`${p}/${j.name}`, ns);
          for (const name of gone) placed.delete(`${p}/${name}`);
          applied++;
        } catch (e) {
          expect((e as { code?: string }).code).toBe('JOB_CYCLE');
          refused++;
        }
      }
      const held = await store.lineageRows();
      expect(sorted(held)).toEqual(await fromDatabase(held));
      expect(held.map((r) => `${r.projectName}/${r.name}`).sort()).toEqual([...placed.keys()].sort());
      // Held: the same frozen rows until the next write.
      expect(await store.lineageRows()).toBe(held);
      expect(Object.isFrozen(held) && held.every((r) => Object.isFrozen(r.upstreams))).toBe(true);
    }
    // The run exercised both outcomes.
    expect({ applied: applied >= 10, refused: refused > 0 }).toEqual({ applied: true, refused: true });
  });
});
