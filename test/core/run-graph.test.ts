import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHookRules } from '../../src/core/hook-rules.js';
import type { HookSpec } from '../../src/core/job.js';
import type { HookStage, Plugin } from '../../src/core/plugin.js';
import { buildRunGraph } from '../../src/core/run-graph.js';

function plugin(name: string, extra: Partial<Plugin> = {}): Plugin {
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
    hints: { dependsOn: [] },
    ...extra,
  };
}

const plugins = new Map(
  [
    plugin('load', { mods: ['dependency_resolver'] }),
    plugin('audit'),
    plugin('notify'),
    plugin('publish'),
    plugin('legacy-pre', { hints: { stage: 'pre', dependsOn: [] } }),
    plugin('after-audit', { hints: { dependsOn: ['audit'] } }),
  ].map((p) => [p.name, p]),
);

const hook = (
  name: string,
  stage?: HookStage,
  dependsOn?: string[],
  type = name === 'a' || name === 'b' || name === 'c' ? 'audit' : name,
): HookSpec => ({
  name,
  type,
  config: {},
  ...(stage ? { stage } : {}),
  ...(dependsOn ? { dependsOn } : {}),
});

const rules = (...lines: string[]) => parseHookRules(lines).rules;
const order = (g: ReturnType<typeof buildRunGraph>) => g.nodes.map((n) => `${n.stage}:${n.name}`);

describe('run graph', () => {
  it('runs every pre hook before the task and every post and fail hook after it', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('notify'), hook('a', 'pre'), hook('page', 'fail', undefined, 'notify')],
      plugins,
    });
    expect(g.issues).toEqual([]);
    expect(order(g)).toEqual(['pre:a', 'task:load', 'post:notify', 'fail:page']);
    expect(g.nodes.find((n) => n.name === 'load')!.dependsOn).toEqual(['a']);
    expect(g.nodes.find((n) => n.name === 'page')!.dependsOn).toEqual(['load']);
  });

  it('takes the default stage from the plugin hint, else post', () => {
    const g = buildRunGraph({ task: { name: 'load' }, hooks: [hook('legacy-pre'), hook('notify')], plugins });
    expect(order(g)).toEqual(['pre:legacy-pre', 'task:load', 'post:notify']);
  });

  it('keeps declaration order when nothing orders two hooks', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('publish'), hook('notify'), hook('a')],
      plugins,
    });
    expect(order(g)).toEqual(['task:load', 'post:publish', 'post:notify', 'post:a']);
  });

  it('adds project rules between hooks present in the job and ignores rules naming absent hooks', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('publish'), hook('notify'), hook('a')],
      plugins,
      rules: rules('a >> notify,publish', 'ghost >> a'),
    });
    expect(g.issues).toEqual([]);
    expect(order(g)).toEqual(['task:load', 'post:a', 'post:publish', 'post:notify']);
    expect(g.nodes.find((n) => n.name === 'publish')!.dependsOn).toEqual(['load', 'a']);
  });

  it("lets a hook's depends_on replace the project rules that target it", () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a'), hook('notify'), hook('publish', undefined, ['notify'])],
      plugins,
      rules: rules('a >> notify,publish'),
    });
    expect(g.nodes.find((n) => n.name === 'publish')!.dependsOn).toEqual(['load', 'notify']);
    expect(g.nodes.find((n) => n.name === 'notify')!.dependsOn).toEqual(['load', 'a']);
  });

  it("drops, with a warning naming it, a project rule that contradicts the job's depends_on", () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a', undefined, ['notify']), hook('notify')],
      plugins,
      rules: rules('a >> notify'),
    });
    expect(g.issues).toMatchObject([{ severity: 'warning', code: 'HOOK_RULE_DROPPED', ruleIndex: 0 }]);
    expect(g.issues[0]!.message).toContain('"a >> notify"');
    expect(order(g)).toEqual(['task:load', 'post:notify', 'post:a']);
  });

  it('names the cycle when project rules contradict each other', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a'), hook('b')],
      plugins,
      rules: rules('a >> b', 'b >> a'),
    });
    expect(g.issues).toMatchObject([{ severity: 'error', code: 'HOOK_CYCLE', ruleIndex: 1 }]);
    expect(g.issues[0]!.message).toContain('b → a → b');
    expect(g.nodes).toEqual([]);
  });

  it('reports a cycle through the task: a pre hook after a post hook', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a', 'pre', ['notify']), hook('notify')],
      plugins,
    });
    const cycle = g.issues.find((i) => i.code === 'HOOK_CYCLE')!;
    expect(cycle.message).toContain('notify → a → load → notify');
    expect(cycle.hookIndex).toBe(0);
    expect(cycle.field).toBe('depends_on');
  });

  it('reports a cycle among depends_on edges', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a', undefined, ['b']), hook('b', undefined, ['c']), hook('c', undefined, ['a'])],
      plugins,
    });
    expect(g.issues.filter((i) => i.code === 'HOOK_CYCLE')).toHaveLength(1);
    expect(g.issues[0]!.message).toMatch(/a → c → b → a|c → b → a → c|b → a → c → b/);
  });

  it('rejects a hook depending on itself, an unknown hook and duplicate names', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a', undefined, ['a']), hook('b', undefined, ['nope']), hook('a')],
      plugins,
    });
    expect(g.issues.map((i) => [i.code, i.hookIndex, i.field])).toEqual([
      ['HOOK_DUPLICATE', 2, 'name'],
      ['HOOK_SELF_DEPENDENCY', 0, 'depends_on'],
      ['HOOK_UNKNOWN', 1, 'depends_on'],
    ]);
    expect(g.issues[2]!.hint).toContain('a');
  });

  it('rejects unknown plugins and a dependency-resolver plugin used as a hook', () => {
    const g = buildRunGraph({
      task: { name: 'nope' },
      hooks: [hook('mystery'), hook('x', undefined, undefined, 'load')],
      plugins,
    });
    expect(g.issues.map((i) => i.code)).toEqual(['PLUGIN_UNKNOWN', 'PLUGIN_UNKNOWN', 'PLUGIN_TASK_ONLY']);
    expect(g.issues[2]).toMatchObject({ hookIndex: 1, field: 'type' });
  });

  it('allows the same plugin twice under different names', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('in', 'pre', undefined, 'audit'), hook('out', 'post', undefined, 'audit')],
      plugins,
    });
    expect(g.issues).toEqual([]);
    expect(g.nodes.map((n) => [n.name, n.type])).toEqual([
      ['in', 'audit'],
      ['load', 'load'],
      ['out', 'audit'],
    ]);
  });

  it('refuses to order a post hook and a fail hook, which never run together', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('notify'), hook('page', 'fail', ['notify'], 'notify')],
      plugins,
    });
    expect(g.issues).toMatchObject([{ code: 'HOOK_STAGE_CONFLICT', hookIndex: 1 }]);
  });

  it('uses legacy plugin dependson as a soft default that depends_on overrides', () => {
    const soft = buildRunGraph({ task: { name: 'load' }, hooks: [hook('after-audit'), hook('a')], plugins });
    expect(order(soft)).toEqual(['task:load', 'post:a', 'post:after-audit']);
    const overridden = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('after-audit', undefined, []), hook('a')],
      plugins,
    });
    expect(order(overridden)).toEqual(['task:load', 'post:after-audit', 'post:a']);
  });
});

describe('hook rules', () => {
  it('parses lists and chains and rejects malformed lines', () => {
    const { rules: ok, errors } = parseHookRules(['a >> b,c', 'x >> y >> z', 'nope', 'a >> a', 'a >> ,b']);
    expect(ok.map((r) => r.edges.map((e) => `${e.from}>${e.to}`))).toEqual([
      ['a>b', 'a>c'],
      ['x>y', 'y>z'],
    ]);
    expect(errors.map((e) => e.index)).toEqual([2, 3, 4]);
  });
});

describe('run graph (property)', () => {
  const stages: HookStage[] = ['pre', 'post', 'fail'];
  it('every node comes after all of its upstream nodes, and every edge given is respected', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }).chain((n) =>
          fc.record({
            stages: fc.array(fc.constantFrom(...stages), { minLength: n, maxLength: n }),
            deps: fc.array(fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 3 }), {
              minLength: n,
              maxLength: n,
            }),
            ruleEdges: fc.array(
              fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 })),
              { maxLength: 6 },
            ),
            explicit: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
          }),
        ),
        ({ stages: st, deps, ruleEdges, explicit }) => {
          const names = st.map((_, i) => `h${i}`);
          const hooks: HookSpec[] = names.map((name, i) => ({
            name,
            type: 'audit',
            stage: st[i]!,
            config: {},
            ...(explicit[i]
              ? { dependsOn: [...new Set(deps[i]!.filter((d) => d !== i).map((d) => names[d]!))] }
              : {}),
          }));
          const rs = rules(
            ...ruleEdges.filter(([a, b]) => a !== b).map(([a, b]) => `${names[a]} >> ${names[b]}`),
          );
          const g = buildRunGraph({ task: { name: 'load' }, hooks, plugins, rules: rs });
          if (g.issues.some((i) => i.severity === 'error')) {
            expect(g.nodes).toEqual(g.issues.some((i) => i.code === 'HOOK_CYCLE') ? [] : g.nodes);
            return;
          }
          const pos = new Map(g.nodes.map((n, i) => [n.name, i]));
          expect(pos.size).toBe(names.length + 1);
          for (const node of g.nodes)
            for (const up of node.dependsOn) expect(pos.get(up)!).toBeLessThan(pos.get(node.name)!);
          hooks.forEach((h, i) => {
            if (st[i] === 'pre') expect(pos.get(h.name)!).toBeLessThan(pos.get('load')!);
            else expect(pos.get(h.name)!).toBeGreaterThan(pos.get('load')!);
            for (const d of h.dependsOn ?? []) expect(pos.get(d)!).toBeLessThan(pos.get(h.name)!);
          });
          const dropped = new Set(g.issues.filter((i) => i.ruleIndex !== undefined).map((i) => i.ruleIndex));
          for (const r of rs) {
            if (dropped.has(r.index)) continue;
            for (const e of r.edges)
              if (!explicit[names.indexOf(e.to)]) expect(pos.get(e.from)!).toBeLessThan(pos.get(e.to)!);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
