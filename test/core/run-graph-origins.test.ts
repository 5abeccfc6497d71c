import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHookRules } from '../../src/core/hook-rules.js';
import type { HookSpec } from '../../src/core/job.js';
import type { HookStage, Plugin } from '../../src/core/plugin.js';
import {
  buildRunGraph,
  type RunGraph,
  runGraphView,
  storedRunGraph,
  UNRECORDED_DETAIL,
} from '../../src/core/run-graph.js';

function plugin(name: string, hints: Partial<Plugin['hints']> = {}): Plugin {
  return {
    name,
    description: '',
    dialect: 'v3',
    version: '1',
    versions: { default: { image: name, tag: '1', entrypoint: { shell: '/bin/sh', script: 'run' } } },
    questions: [],
    configs: [],
    defaultConfig: {},
    defaultAssets: {},
    mods: [],
    hints: { dependsOn: [], ...hints },
  };
}

const plugins = new Map(
  [
    plugin('bq2bq'),
    plugin('predator'),
    plugin('transporter'),
    plugin('notify'),
    plugin('pager'),
    plugin('check', { stage: 'pre' }),
    plugin('legacy-after', { dependsOn: ['predator'] }),
  ].map((p) => [p.name, p]),
);

const hook = (
  name: string,
  opts: { stage?: HookStage; dependsOn?: string[]; type?: string } = {},
): HookSpec => ({
  name,
  type: opts.type ?? name,
  config: {},
  ...(opts.stage ? { stage: opts.stage } : {}),
  ...(opts.dependsOn ? { dependsOn: opts.dependsOn } : {}),
});

const rules = (...lines: string[]) => parseHookRules(lines).rules;
const edge = (g: RunGraph, from: string, to: string) => g.edges.find((e) => e.from === from && e.to === to);

describe('run graph edges: where each came from', () => {
  it('marks the stage order as default, per stage', () => {
    const g = buildRunGraph({
      task: { name: 'bq2bq' },
      hooks: [hook('check'), hook('notify'), hook('pager', { stage: 'fail' })],
      plugins,
    });
    expect(g.edges).toEqual([
      { from: 'check', to: 'bq2bq', origin: 'default', rule: null, detail: 'pre hooks run before the task' },
      {
        from: 'bq2bq',
        to: 'notify',
        origin: 'default',
        rule: null,
        detail: 'post hooks run after the task succeeds',
      },
      {
        from: 'bq2bq',
        to: 'pager',
        origin: 'default',
        rule: null,
        detail: 'fail hooks run after the task fails',
      },
    ]);
    expect(g.dropped).toEqual([]);
  });

  it('marks a project rule with its index and text', () => {
    const g = buildRunGraph({
      task: { name: 'bq2bq' },
      hooks: [hook('transporter'), hook('predator')],
      plugins,
      rules: rules('notify >> pager', 'predator >> transporter'),
    });
    expect(edge(g, 'predator', 'transporter')).toEqual({
      from: 'predator',
      to: 'transporter',
      origin: 'rule',
      rule: 1,
      detail: 'project rule 1 "predator >> transporter": transporter after predator',
    });
  });

  it("marks the job's own depends_on", () => {
    const g = buildRunGraph({
      task: { name: 'bq2bq' },
      hooks: [hook('predator'), hook('notify', { dependsOn: ['predator'] })],
      plugins,
    });
    expect(edge(g, 'predator', 'notify')).toMatchObject({
      origin: 'depends_on',
      rule: null,
      detail: 'hook notify depends_on predator',
    });
  });

  it("marks a plugin's legacy DependsOn hint", () => {
    const g = buildRunGraph({
      task: { name: 'bq2bq' },
      hooks: [hook('legacy-after'), hook('predator')],
      plugins,
    });
    expect(edge(g, 'predator', 'legacy-after')).toMatchObject({
      origin: 'legacy_hint',
      rule: null,
      detail: "plugin legacy-after's legacy DependsOn hint: legacy-after after predator",
    });
  });

  it("drops a project rule for a hook that sets its own depends_on, and keeps the hook's edge", () => {
    const g = buildRunGraph({
      task: { name: 'bq2bq' },
      hooks: [hook('predator'), hook('notify'), hook('transporter', { dependsOn: ['notify'] })],
      plugins,
      rules: rules('predator >> transporter'),
    });
    expect(edge(g, 'predator', 'transporter')).toBeUndefined();
    expect(edge(g, 'notify', 'transporter')?.origin).toBe('depends_on');
    expect(g.dropped).toEqual([
      {
        rule: 0,
        from: 'predator',
        to: 'transporter',
        reason: 'hook transporter sets its own depends_on, which replaces the project rules that order it',
      },
    ]);
  });

  it('drops a legacy hint for a hook that sets its own depends_on (even an empty one)', () => {
    const g = buildRunGraph({
      task: { name: 'bq2bq' },
      hooks: [hook('legacy-after', { dependsOn: [] }), hook('predator')],
      plugins,
    });
    expect(edge(g, 'predator', 'legacy-after')).toBeUndefined();
    expect(g.dropped).toEqual([
      {
        rule: null,
        from: 'predator',
        to: 'legacy-after',
        reason:
          "plugin legacy-after's legacy DependsOn hint is replaced by hook legacy-after's own depends_on",
      },
    ]);
  });

  it('drops the edge of a rule naming a hook this job lacks, or its task, but not a rule about other jobs', () => {
    const g = buildRunGraph({
      task: { name: 'bq2bq' },
      hooks: [hook('predator')],
      plugins,
      rules: rules('predator >> transporter', 'bq2bq >> predator', 'notify >> pager'),
    });
    expect(g.dropped).toEqual([
      { rule: 0, from: 'predator', to: 'transporter', reason: 'this job has no hook transporter' },
      {
        rule: 1,
        from: 'bq2bq',
        to: 'predator',
        reason: "bq2bq is this job's task, and project rules order hooks only",
      },
    ]);
    expect(g.edges.map((e) => e.origin)).toEqual(['default']);
  });

  it("drops a rule that contradicts the job's depends_on, and one ordering a post and a fail hook", () => {
    const g = buildRunGraph({
      task: { name: 'bq2bq' },
      hooks: [
        hook('predator', { dependsOn: ['transporter'] }),
        hook('transporter'),
        hook('pager', { stage: 'fail' }),
      ],
      plugins,
      rules: rules('predator >> transporter', 'transporter >> pager'),
    });
    expect(g.dropped).toEqual([
      {
        rule: 0,
        from: 'predator',
        to: 'transporter',
        reason: "it contradicts the job's depends_on (predator → transporter → predator)",
      },
      {
        rule: 1,
        from: 'transporter',
        to: 'pager',
        reason: 'transporter and pager are a post and a fail hook, which never run together',
      },
    ]);
    // The builder's own warnings say the same.
    expect(g.issues.map((i) => i.code)).toEqual(['HOOK_RULE_DROPPED', 'HOOK_RULE_DROPPED']);
  });

  it('keeps the first source of an edge asked for twice', () => {
    const g = buildRunGraph({
      task: { name: 'bq2bq' },
      hooks: [hook('legacy-after'), hook('predator')],
      plugins,
      rules: rules('predator >> legacy-after'),
    });
    expect(edge(g, 'predator', 'legacy-after')).toMatchObject({ origin: 'rule', rule: 0 });
    expect(g.dropped).toEqual([]);
  });
});

describe('stored run graphs', () => {
  it('reads back what a deploy stored, edges and dropped rules alike', () => {
    const g = buildRunGraph({
      task: { name: 'bq2bq' },
      hooks: [hook('predator'), hook('transporter', { dependsOn: ['predator'] })],
      plugins,
      rules: rules('notify >> transporter', 'predator >> notify'),
    });
    const stored = JSON.parse(JSON.stringify(storedRunGraph(g)));
    // Runs read the stored nodes as before.
    expect(stored.map((n: { name: string; depends_on: string[] }) => [n.name, n.depends_on])).toEqual([
      ['bq2bq', []],
      ['predator', ['bq2bq']],
      ['transporter', ['bq2bq', 'predator']],
    ]);
    expect(runGraphView(stored)).toEqual({
      nodes: g.nodes.map((n) => ({ name: n.name, type: n.type, stage: n.stage, depends_on: n.dependsOn })),
      edges: g.edges,
      dropped: g.dropped,
      origins_recorded: true,
    });
    expect(g.dropped.map((d) => d.rule)).toEqual([0, 1]);
  });

  it('answers a graph stored before origins: task edges by stage, the others unrecorded', () => {
    const old = [
      { name: 'check', type: 'check', stage: 'pre', depends_on: [] },
      { name: 'bq2bq', type: 'bq2bq', stage: 'task', depends_on: ['check'] },
      { name: 'predator', type: 'predator', stage: 'post', depends_on: ['bq2bq'] },
      { name: 'notify', type: 'notify', stage: 'post', depends_on: ['bq2bq', 'predator'] },
      { name: 'pager', type: 'pager', stage: 'fail', depends_on: ['bq2bq'] },
    ];
    const view = runGraphView(old);
    expect(view.origins_recorded).toBe(false);
    expect(view.dropped).toEqual([]);
    expect(view.edges.map((e) => `${e.from}>${e.to}:${e.origin}`)).toEqual([
      'check>bq2bq:default',
      'bq2bq>predator:default',
      'bq2bq>notify:default',
      'predator>notify:unrecorded',
      'bq2bq>pager:default',
    ]);
    expect(view.edges[3]!.detail).toBe(UNRECORDED_DETAIL);
    expect(view.edges[4]!.detail).toBe('fail hooks run after the task fails');
  });

  it('reads anything else stored as an empty graph, never throwing', () => {
    for (const junk of [null, {}, 'x', [null, 3, { name: 1 }, { name: 'a', stage: 'weird' }]])
      expect(runGraphView(junk)).toEqual({ nodes: [], edges: [], dropped: [], origins_recorded: false });
  });
});

describe('run graph edges: laws', () => {
  const names = ['h0', 'h1', 'h2', 'h3', 'h4'];
  it('has one edge per depends_on entry, and every rule edge is applied or dropped', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<HookStage>('pre', 'post', 'fail'), { minLength: 5, maxLength: 5 }),
        fc.array(fc.option(fc.subarray(names), { nil: undefined }), { minLength: 5, maxLength: 5 }),
        fc.array(fc.tuple(fc.constantFrom(...names, 'x', 'bq2bq'), fc.constantFrom(...names, 'y')), {
          maxLength: 6,
        }),
        fc.integer({ min: 1, max: 5 }),
        (stages, deps, ruleEdges, count) => {
          const hooks = names.slice(0, count).map((name, i) => {
            const d = deps[i]?.filter((n) => n !== name && names.indexOf(n) < count);
            return hook(name, { stage: stages[i]!, type: 'predator', ...(d ? { dependsOn: d } : {}) });
          });
          const rs = rules(...ruleEdges.filter(([a, b]) => a !== b).map(([a, b]) => `${a} >> ${b}`));
          const g = buildRunGraph({ task: { name: 'bq2bq' }, hooks, plugins, rules: rs });
          const fromNodes = g.nodes.flatMap((n) => n.dependsOn.map((d) => `${d}>${n.name}`));
          expect(g.edges.map((e) => `${e.from}>${e.to}`)).toEqual(fromNodes);
          for (const e of g.edges) expect(e.origin === 'rule').toBe(e.rule !== null);
          expect(runGraphView(JSON.parse(JSON.stringify(storedRunGraph(g)))).edges).toEqual(g.edges);
          if (!g.nodes.length) return;
          // A rule concerns this job when it names one of its hooks (the task is no hook).
          const present = new Set(hooks.map((h) => h.name));
          for (const r of rs)
            for (const { from, to } of r.edges) {
              const concerns = present.has(from) || present.has(to);
              const applied = g.edges.some((e) => e.from === from && e.to === to);
              const dropped = g.dropped.some((d) => d.rule === r.index && d.from === from && d.to === to);
              const rule = `${r.text} (${from} >> ${to})`;
              if (!concerns) expect(dropped, rule).toBe(false);
              // An edge another source added first is neither applied by this rule nor dropped.
              else if (!applied) expect(dropped, rule).toBe(true);
            }
        },
      ),
      { numRuns: 300 },
    );
  });
});
