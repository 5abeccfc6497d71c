import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OptimusError } from '../../src/core/errors.js';
import {
  allDownstreams,
  diffUpstreams,
  downstreamsOf,
  externalSources,
  findCycles,
  jobKey,
  resolveUpstreams,
  staticDependencies,
  upstreamResolver,
} from '../../src/core/lineage.js';
import type { LineageRow, StaticDependency, UpstreamEdge } from '../../src/store/lineage-store.js';

function row(
  key: string,
  opts: {
    ns?: string;
    destination?: string | null;
    sources?: string[];
    deps?: StaticDependency[];
    upstreams?: UpstreamEdge[];
  } = {},
): LineageRow {
  const [projectName, name] = key.split('/') as [string, string];
  return {
    projectName,
    namespaceName: opts.ns ?? 'ns',
    name,
    destination: opts.destination ?? null,
    sources: opts.sources ?? [],
    staticDependencies: opts.deps ?? [],
    upstreams: opts.upstreams ?? [],
  };
}

const edge = (key: string, kind: UpstreamEdge['kind'], via: string[], ns = 'ns'): UpstreamEdge => {
  const [project, job] = key.split('/') as [string, string];
  return { project, namespace: ns, job, kind, via };
};

function refusal(f: () => unknown): OptimusError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OptimusError);
    return e as OptimusError;
  }
  throw new Error('expected a refusal');
}

describe('static dependencies of a job spec', () => {
  it('reads same-project and project/job entries with their index, and skips http-only ones', () => {
    expect(
      staticDependencies({
        dependencies: [
          { job: 'daily-orders' },
          { http: { name: 'api', url: 'https://example.com/ready' } },
          { job: 'finance/revenue', type: 'inter' },
          { job: '' },
          'not-an-entry',
          { job: 42 },
        ],
      }),
    ).toEqual([
      { job: 'daily-orders', index: 0 },
      { project: 'finance', job: 'revenue', index: 2 },
    ]);
  });

  it('finds none in a spec without a dependencies list', () => {
    expect(staticDependencies({ name: 'x' })).toEqual([]);
    expect(staticDependencies({ dependencies: { job: 'x' } })).toEqual([]);
    expect(staticDependencies(null)).toEqual([]);
    expect(staticDependencies('spec')).toEqual([]);
  });
});

describe('upstream resolution', () => {
  it('links a job to every job, in any namespace or project, whose destination it reads', () => {
    const { upstreams } = resolveUpstreams([
      row('sales/orders', { ns: 'raw', destination: 'bq://p:d.orders' }),
      row('finance/fx', { ns: 'ref', destination: 'bq://p:d.fx' }),
      row('finance/revenue', {
        ns: 'reports',
        destination: 'bq://p:d.revenue',
        sources: ['bq://p:d.fx', 'bq://p:d.orders', 'bq://p:d.external'],
      }),
    ]);
    expect(upstreams.get('finance/revenue')).toEqual([
      edge('finance/fx', 'inferred', ['bq://p:d.fx'], 'ref'),
      edge('sales/orders', 'inferred', ['bq://p:d.orders'], 'raw'),
    ]);
    expect(upstreams.get('sales/orders')).toEqual([]);
  });

  it('never makes a job its own upstream by reading what it writes', () => {
    const { upstreams } = resolveUpstreams([
      row('p/merge', { destination: 'bq://p:d.t', sources: ['bq://p:d.t'] }),
    ]);
    expect(upstreams.get('p/merge')).toEqual([]);
  });

  it('gives one edge per upstream job, listing every URN it matched, sorted', () => {
    const { upstreams } = resolveUpstreams([
      row('p/a', { destination: 'bq://p:d.a' }),
      row('p/b', { destination: 'bq://p:d.a' }),
      row('p/c', { sources: ['bq://p:d.a'] }),
    ]);
    expect(upstreams.get('p/c')).toEqual([
      edge('p/a', 'inferred', ['bq://p:d.a']),
      edge('p/b', 'inferred', ['bq://p:d.a']),
    ]);
  });

  it('resolves static dependencies in the job’s own project or the one named', () => {
    const { upstreams, unresolved } = resolveUpstreams([
      row('p/a'),
      row('q/a', { ns: 'other' }),
      row('p/c', {
        deps: [
          { job: 'a', index: 0 },
          { project: 'q', job: 'a', index: 2 },
        ],
      }),
    ]);
    expect(upstreams.get('p/c')).toEqual([
      edge('p/a', 'static', ['dependencies[0]']),
      edge('q/a', 'static', ['dependencies[2]'], 'other'),
    ]);
    expect(unresolved).toEqual([]);
  });

  it('makes an upstream both declared and inferred one static edge giving both reasons', () => {
    const { upstreams } = resolveUpstreams([
      row('p/a', { destination: 'bq://p:d.a' }),
      row('p/b', { sources: ['bq://p:d.a'], deps: [{ job: 'a', index: 1 }] }),
    ]);
    expect(upstreams.get('p/b')).toEqual([edge('p/a', 'static', ['dependencies[1]', 'bq://p:d.a'])]);
  });

  it('returns static dependencies naming no job separately, not as edges', () => {
    const { upstreams, unresolved } = resolveUpstreams([
      row('p/b', {
        ns: 'n1',
        deps: [
          { job: 'missing', index: 0 },
          { project: 'nowhere', job: 'x', index: 1 },
        ],
      }),
    ]);
    expect(upstreams.get('p/b')).toEqual([]);
    expect(unresolved).toEqual([
      { projectName: 'p', namespaceName: 'n1', name: 'b', dependency: { job: 'missing', index: 0 } },
      {
        projectName: 'p',
        namespaceName: 'n1',
        name: 'b',
        dependency: { project: 'nowhere', job: 'x', index: 1 },
      },
    ]);
  });
});

describe('cycles', () => {
  it('names a cycle across projects in run order, from its smallest job', () => {
    const rows = [
      row('marketing/a', { destination: 'u://a', sources: ['u://b'] }),
      row('finance/b', { destination: 'u://b', sources: ['u://a'] }),
    ];
    expect(findCycles(resolveUpstreams(rows).upstreams)).toEqual([['finance/b', 'marketing/a', 'finance/b']]);
  });

  it('counts a job that depends on itself', () => {
    const rows = [row('p/a', { deps: [{ job: 'a', index: 0 }] })];
    expect(findCycles(resolveUpstreams(rows).upstreams)).toEqual([['p/a', 'p/a']]);
  });

  it('walks every job of a component with two loops, each step along an edge', () => {
    // b waits for a and c; a and c wait for b: two loops through b.
    const rows = [
      row('p/a', { deps: [{ job: 'b', index: 0 }] }),
      row('p/b', {
        deps: [
          { job: 'a', index: 0 },
          { job: 'c', index: 1 },
        ],
      }),
      row('p/c', { deps: [{ job: 'b', index: 0 }] }),
    ];
    expect(findCycles(resolveUpstreams(rows).upstreams)).toEqual([['p/a', 'p/b', 'p/c', 'p/b', 'p/a']]);
  });

  it('refuses a deploy with JOB_CYCLE naming every job on every cycle', () => {
    const rows = [
      row('marketing/a', { deps: [{ project: 'finance', job: 'b', index: 0 }] }),
      row('finance/b', { deps: [{ project: 'marketing', job: 'a', index: 0 }] }),
      row('ops/x', { destination: 'u://x', sources: ['u://y'] }),
      row('ops/y', { destination: 'u://y', sources: ['u://x'] }),
      row('ops/fine', { sources: ['u://x'] }),
    ];
    const e = refusal(() => upstreamResolver()(rows));
    expect(e).toMatchObject({ code: 'JOB_CYCLE', category: 'invalid' });
    expect(e.message).toContain('finance/b → marketing/a → finance/b');
    expect(e.message).toContain('ops/x → ops/y → ops/x');
    expect(e.message).not.toContain('ops/fine');
    expect(e.hint).toBeTruthy();
  });

  it('with the deploy’s jobs given, refuses only cycles through them and reports the others', () => {
    const rows = [
      row('old/a', { deps: [{ job: 'b', index: 0 }] }),
      row('old/b', { deps: [{ job: 'a', index: 0 }] }),
      row('new/c', { deps: [{ project: 'old', job: 'a', index: 0 }] }),
    ];
    let reported: string[][] = [];
    const changed = upstreamResolver({ touched: new Set(['new/c']), onCycles: (c) => (reported = c) })(rows);
    expect(reported).toEqual([['old/a', 'old/b', 'old/a']]);
    expect([...changed.keys()].sort()).toEqual(['new/c', 'old/a', 'old/b']);
    const e = refusal(() => upstreamResolver({ touched: new Set(['old/b']) })(rows));
    expect(e.message).toContain('old/a → old/b → old/a');
  });
});

describe('the resolver a deploy hands to the store', () => {
  it('returns only the upstream lists that differ from the stored ones', () => {
    const stored = [edge('p/a', 'inferred', ['u://a'])];
    const rows = [
      row('p/a', { destination: 'u://a' }),
      row('p/b', { sources: ['u://a'], upstreams: stored }),
      row('p/c', { sources: ['u://a'] }),
      row('p/d', { upstreams: [edge('p/gone', 'static', ['dependencies[0]'])] }),
    ];
    const changed = upstreamResolver()(rows);
    expect(Object.fromEntries(changed)).toEqual({ 'p/c': stored, 'p/d': [] });
  });

  it('treats stored edges as equal whatever order their keys came back in', () => {
    const reordered = { via: ['u://a'], kind: 'inferred', job: 'a', namespace: 'ns', project: 'p' } as const;
    const rows = [
      row('p/a', { destination: 'u://a' }),
      row('p/b', { sources: ['u://a'], upstreams: [{ ...reordered, via: [...reordered.via] }] }),
    ];
    expect(upstreamResolver()(rows).size).toBe(0);
  });

  it('tells the deploy which static dependencies name no job', () => {
    let unresolved: unknown[] = [];
    upstreamResolver({ onUnresolved: (u) => (unresolved = u) })([
      row('p/a', { deps: [{ job: 'ghost', index: 3 }] }),
    ]);
    expect(unresolved).toEqual([
      { projectName: 'p', namespaceName: 'ns', name: 'a', dependency: { job: 'ghost', index: 3 } },
    ]);
  });
});

describe('downstreams, external sources and upstream diffs', () => {
  const rows = [
    row('p/a', { destination: 'u://a' }),
    row('p/b', { destination: 'u://b', upstreams: [edge('p/a', 'inferred', ['u://a'])] }),
    row('q/c', {
      sources: ['u://b', 'u://ext'],
      upstreams: [edge('p/a', 'static', ['dependencies[0]']), edge('p/b', 'inferred', ['u://b'])],
    }),
    row('p/d', { upstreams: [edge('q/c', 'static', ['dependencies[0]'])] }),
  ];

  it('lists the jobs that wait for a job directly, with the kind and reasons of their edge', () => {
    expect(downstreamsOf(rows, 'p', 'a')).toEqual([
      edge('p/b', 'inferred', ['u://a']),
      edge('q/c', 'static', ['dependencies[0]']),
    ]);
    expect(downstreamsOf(rows, 'p', 'd')).toEqual([]);
  });

  it('lists every job downstream, each after its upstreams', () => {
    expect(allDownstreams(rows, 'p', 'a')).toEqual(['p/b', 'q/c', 'p/d']);
    expect(allDownstreams(rows, 'q', 'c')).toEqual(['p/d']);
    expect(allDownstreams(rows, 'p', 'd')).toEqual([]);
  });

  it('lists the sources no job writes as external', () => {
    expect(externalSources(rows[2]!, rows)).toEqual(['u://ext']);
  });

  it('diffs upstreams per job: added, removed and changed edges; a deleted job loses all', () => {
    const before = new Map([
      ['p/b', [edge('p/a', 'inferred', ['u://a'])]],
      ['p/x', [edge('p/a', 'static', ['dependencies[0]'])]],
      ['p/same', [edge('p/a', 'static', ['dependencies[0]'])]],
    ]);
    const after = new Map([
      ['p/b', [edge('p/a', 'static', ['dependencies[0]', 'u://a']), edge('p/n', 'inferred', ['u://n'])]],
      ['p/same', [edge('p/a', 'static', ['dependencies[0]'])]],
      ['p/new', [edge('p/b', 'inferred', ['u://b'])]],
    ]);
    expect(diffUpstreams(before, after)).toEqual([
      {
        job: 'p/b',
        added: [edge('p/n', 'inferred', ['u://n'])],
        removed: [],
        changed: [
          {
            before: edge('p/a', 'inferred', ['u://a']),
            after: edge('p/a', 'static', ['dependencies[0]', 'u://a']),
          },
        ],
      },
      { job: 'p/new', added: [edge('p/b', 'inferred', ['u://b'])], removed: [], changed: [] },
      { job: 'p/x', added: [], removed: [edge('p/a', 'static', ['dependencies[0]'])], changed: [] },
    ]);
  });
});

describe('upstream resolution (properties)', () => {
  /**
   * n jobs `p<i%3>/j<i>`; each lists upstreams among the jobs before it (so the graph is a DAG),
   * each one either read (inferred) or declared (static).
   */
  const dag = fc.integer({ min: 1, max: 12 }).chain((n) =>
    fc.array(
      fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 3 }).map((ups) => ups),
      { minLength: n, maxLength: n },
    ),
  );
  const keyOf = (i: number) => `p${i % 3}/j${i}`;
  function rowsOf(ups: [number, boolean][][], extra?: { from: number; to: number }): LineageRow[] {
    return ups.map((list, i) => {
      const deps: StaticDependency[] = [];
      const sources: string[] = [];
      list.forEach(([u, declared], k) => {
        if (i === 0) return;
        const up = u % i;
        if (declared) deps.push({ project: `p${up % 3}`, job: `j${up}`, index: k });
        else sources.push(`u://t${up}`);
      });
      if (extra && extra.from === i)
        deps.push({ project: `p${extra.to % 3}`, job: `j${extra.to}`, index: 9 });
      return row(keyOf(i), { destination: `u://t${i}`, sources, deps });
    });
  }
  /** Direct upstreams of each job, by index. */
  function upstreamIndexes(rows: LineageRow[]): Set<number>[] {
    const { upstreams } = resolveUpstreams(rows);
    return rows.map(
      (r) => new Set(upstreams.get(jobKey(r.projectName, r.name))!.map((e) => Number(e.job.slice(1)))),
    );
  }

  it('never reports a cycle in a DAG', () => {
    fc.assert(
      fc.property(dag, (ups) => {
        const rows = rowsOf(ups);
        expect(findCycles(resolveUpstreams(rows).upstreams)).toEqual([]);
        expect(() => upstreamResolver()(rows)).not.toThrow();
      }),
    );
  });

  it('reports exactly the jobs on the cycle a back edge makes, as one walk along real edges', () => {
    fc.assert(
      fc.property(dag, fc.nat(), fc.nat(), (ups, x, y) => {
        const n = ups.length;
        const ancestors = upstreamIndexes(rowsOf(ups));
        // reach[i] = i and every job i waits for, transitively (upstreams have smaller indexes).
        const reach: Set<number>[] = [];
        for (let i = 0; i < n; i++) {
          reach.push(new Set([i, ...[...ancestors[i]!].flatMap((u) => [...reach[u]!])]));
        }
        const a = x % n;
        // Pick a job downstream of a (or a itself: then the back edge is a self-dependency).
        const downstream = [...Array(n).keys()].filter((j) => reach[j]!.has(a));
        const b = downstream[y % downstream.length]!;
        // a now also waits for b: the jobs on the cycle are those on a path from a down to b.
        const rows = rowsOf(ups, { from: a, to: b });
        const expected = [...Array(n).keys()].filter((j) => reach[b]!.has(j) && reach[j]!.has(a));
        const cycles = findCycles(resolveUpstreams(rows).upstreams);
        expect(cycles).toHaveLength(1);
        const walk = cycles[0]!;
        expect(new Set(walk)).toEqual(new Set(expected.map(keyOf)));
        expect(walk[0]).toBe(walk[walk.length - 1]);
        const after = upstreamIndexes(rows);
        for (let k = 0; k + 1 < walk.length; k++) {
          const up = Number(walk[k]!.split('/j')[1]);
          const down = Number(walk[k + 1]!.split('/j')[1]);
          expect(after[down]!.has(up)).toBe(true);
        }
        const e = refusal(() => upstreamResolver()(rows));
        for (const j of expected) expect(e.message).toContain(keyOf(j));
      }),
    );
  });

  it('gives the same answer whatever order the rows come in', () => {
    fc.assert(
      fc.property(
        dag.chain((ups) =>
          fc.tuple(fc.constant(ups), fc.shuffledSubarray(rowsOf(ups), { minLength: ups.length })),
        ),
        fc.nat(),
        ([ups, shuffled], back) => {
          const extra = { from: 0, to: back % ups.length };
          const inOrder = rowsOf(ups, extra);
          const reordered = shuffled.map((r) => inOrder.find((o) => o.name === r.name)!);
          const a = resolveUpstreams(inOrder);
          const b = resolveUpstreams(reordered);
          const sorted = (m: Map<string, UpstreamEdge[]>) => [...m].sort(([x], [y]) => (x < y ? -1 : 1));
          expect(sorted(b.upstreams)).toEqual(sorted(a.upstreams));
          expect(b.unresolved).toEqual(a.unresolved);
          expect(findCycles(b.upstreams)).toEqual(findCycles(a.upstreams));
        },
      ),
    );
  });
});
