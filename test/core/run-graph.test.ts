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

describe('run graph: what a user is told', () => {
  const installed = 'installed plugins: after-audit, audit, legacy-pre, load, notify, publish';

  it('says which task plugin is missing and lists the installed ones, sorted', () => {
    const g = buildRunGraph({ task: { name: 'nope' }, hooks: [], plugins });
    expect(g.issues).toEqual([
      {
        severity: 'error',
        code: 'PLUGIN_UNKNOWN',
        message: 'task plugin "nope" is not installed',
        task: true,
        hint: installed,
      },
    ]);
  });

  it('says how to get plugins when none is installed', () => {
    const g = buildRunGraph({ task: { name: 'load' }, hooks: [], plugins: new Map() });
    expect(g.issues[0]!.hint).toBe(
      'no plugins are installed; run `optimus plugin install` or pass --plugins <dir>',
    );
  });

  it('names a missing hook plugin at `name` when the hook has no type, else at `type`', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('ghost'), hook('x', undefined, undefined, 'phantom')],
      plugins,
    });
    expect(g.issues).toEqual([
      {
        severity: 'error',
        code: 'PLUGIN_UNKNOWN',
        message: 'hook plugin "ghost" is not installed',
        hookIndex: 0,
        field: 'name',
        hint: installed,
      },
      {
        severity: 'error',
        code: 'PLUGIN_UNKNOWN',
        message: 'hook plugin "phantom" is not installed',
        hookIndex: 1,
        field: 'type',
        hint: installed,
      },
    ]);
    expect(order(g)).toEqual(['task:load', 'post:ghost', 'post:x']);
  });

  it('explains why a dependency-resolver plugin cannot be a hook', () => {
    const g = buildRunGraph({ task: { name: 'audit' }, hooks: [hook('load', 'pre')], plugins });
    expect(g.issues).toEqual([
      {
        severity: 'error',
        code: 'PLUGIN_TASK_ONLY',
        message: 'plugin "load" implements the dependency-resolver mod, so it can only be a task, not a hook',
        hookIndex: 0,
        field: 'name',
      },
    ]);
  });

  it('refuses a hook named like the task and a name used twice, with a fix', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('load', 'pre', undefined, 'audit'), hook('a'), hook('a', 'pre')],
      plugins,
    });
    expect(g.issues).toEqual([
      {
        severity: 'error',
        code: 'HOOK_NAME_CLASH',
        message: 'hook name "load" is the name of the task',
        hookIndex: 0,
        field: 'name',
        hint: 'rename the hook and set `type` to the plugin',
      },
      {
        severity: 'error',
        code: 'HOOK_DUPLICATE',
        message: 'hook name "a" is used twice in this job',
        hookIndex: 2,
        field: 'name',
        hint: 'give each hook a unique name; set `type` to reuse a plugin',
      },
    ]);
    // The first of two hooks of one name is kept; the clashing and the repeated one are left out.
    expect(order(g)).toEqual(['task:load', 'post:a']);
  });

  it('tells a hook depending on itself or on an unknown hook which hooks exist', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a', undefined, ['a', 'nope']), hook('b')],
      plugins,
    });
    expect(g.issues).toEqual([
      {
        severity: 'error',
        code: 'HOOK_SELF_DEPENDENCY',
        message: 'hook "a" depends on itself',
        hookIndex: 0,
        field: 'depends_on',
      },
      {
        severity: 'error',
        code: 'HOOK_UNKNOWN',
        message: 'hook "a" depends on "nope", which is not a hook of this job',
        hookIndex: 0,
        field: 'depends_on',
        hint: 'hooks in this job: b',
      },
    ]);
    const more = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a', undefined, ['x']), hook('b'), hook('c')],
      plugins,
    });
    expect(more.issues[0]!.hint).toBe('hooks in this job: b, c');
    const alone = buildRunGraph({ task: { name: 'load' }, hooks: [hook('a', undefined, ['x'])], plugins });
    expect(alone.issues[0]!.hint).toBe('this job has no other hooks');
  });

  it('lets a hook name the task in depends_on', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('notify', undefined, ['load'])],
      plugins,
    });
    expect(g.issues).toEqual([]);
    expect(g.nodes.find((n) => n.name === 'notify')!.dependsOn).toEqual(['load']);
  });

  it('explains a post hook depending on a fail hook', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('page', 'fail', undefined, 'notify'), hook('notify', 'post', ['page'])],
      plugins,
    });
    expect(g.issues).toEqual([
      {
        severity: 'error',
        code: 'HOOK_STAGE_CONFLICT',
        message:
          'hook "notify" (post) cannot depend on "page" (fail): post hooks run on success and fail hooks on failure, never both',
        hookIndex: 1,
        field: 'depends_on',
      },
    ]);
    expect(g.nodes.find((n) => n.name === 'notify')!.dependsOn).toEqual(['load']);
  });

  it('names a depends_on cycle once, with the edge that closes it and a hint', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a', undefined, ['b']), hook('b', undefined, ['a']), hook('c', undefined, ['b', 'a'])],
      plugins,
    });
    expect(g.issues).toEqual([
      {
        severity: 'error',
        code: 'HOOK_CYCLE',
        message: 'hook ordering has a cycle: a → b → a',
        hookIndex: 1,
        field: 'depends_on',
        hint: 'remove one of these edges',
      },
    ]);
    expect(g.nodes).toEqual([]);
  });

  it('says when a cycle runs through the task', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('notify'), hook('a', 'pre', ['notify'])],
      plugins,
    });
    expect(g.issues).toEqual([
      {
        severity: 'error',
        code: 'HOOK_CYCLE',
        message: 'hook ordering has a cycle: notify → a → load → notify',
        hookIndex: 1,
        field: 'depends_on',
        hint: 'the cycle runs through the task: a pre hook cannot run after a post or fail hook',
      },
    ]);
  });

  it('ignores, with a warning, a project rule between a post and a fail hook', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('notify'), hook('page', 'fail', undefined, 'notify')],
      plugins,
      rules: rules('notify >> page'),
    });
    expect(g.issues).toEqual([
      {
        severity: 'warning',
        code: 'HOOK_RULE_DROPPED',
        message:
          'project rule "notify >> page" is ignored for this job: "notify" and "page" are a post and a fail hook, which never run together',
        ruleIndex: 0,
      },
    ]);
    expect(g.nodes.find((n) => n.name === 'page')!.dependsOn).toEqual(['load']);
  });

  it("drops a rule contradicting the job's depends_on with the whole path in the warning", () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a'), hook('b', undefined, ['a']), hook('c', undefined, ['b'])],
      plugins,
      rules: rules('publish >> a', 'c >> a'),
    });
    expect(g.issues).toEqual([
      {
        severity: 'warning',
        code: 'HOOK_RULE_DROPPED',
        message:
          'project rule "c >> a" is dropped for this job: it contradicts the job\'s depends_on (c → a → b → c)',
        ruleIndex: 1,
      },
    ]);
    expect(order(g)).toEqual(['task:load', 'post:a', 'post:b', 'post:c']);
  });

  it('names a cycle made by project rules, once, at the rule that closes it', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a'), hook('b')],
      plugins,
      rules: rules('a >> b', 'b >> a', 'b >> a'),
    });
    expect(g.issues).toEqual([
      {
        severity: 'error',
        code: 'HOOK_CYCLE',
        message: 'project rule "b >> a" makes a cycle in this job: b → a → b',
        ruleIndex: 1,
        hint: 'remove one of these edges',
      },
    ]);
    expect(g.nodes).toEqual([]);
  });

  it('treats a rule putting a post hook before a pre hook as a cycle through the task', () => {
    // notify names the task in depends_on itself; the edge to the task is still a stage edge, so
    // this is the rule's fault, not a contradiction of the job.
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a', 'pre'), hook('notify', undefined, ['load'])],
      plugins,
      rules: rules('notify >> a'),
    });
    expect(g.issues).toEqual([
      {
        severity: 'error',
        code: 'HOOK_CYCLE',
        message: 'project rule "notify >> a" makes a cycle in this job: notify → a → load → notify',
        ruleIndex: 0,
        hint: 'the cycle runs through the task: a pre hook cannot run after a post or fail hook',
      },
    ]);
  });

  it('applies a legacy dependson hint to every hook of that plugin type', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [
        hook('after-audit'),
        hook('notify'),
        hook('in', 'post', undefined, 'audit'),
        hook('out', 'post', undefined, 'audit'),
      ],
      plugins,
    });
    expect(g.issues).toEqual([]);
    expect(order(g)).toEqual(['task:load', 'post:notify', 'post:in', 'post:out', 'post:after-audit']);
    expect(g.nodes.find((n) => n.name === 'after-audit')!.dependsOn).toEqual(['load', 'in', 'out']);
  });

  it('prefers a hook named in a hint over hooks of that plugin type', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('after-audit'), hook('audit', 'post', undefined, 'notify'), hook('a')],
      plugins,
    });
    expect(g.nodes.find((n) => n.name === 'after-audit')!.dependsOn).toEqual(['load', 'audit']);
  });

  it('ignores a hint that would make a cycle, with a warning naming it', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('after-audit', 'pre'), hook('a')],
      plugins,
    });
    expect(g.issues).toEqual([
      {
        severity: 'warning',
        code: 'HOOK_HINT_DROPPED',
        message:
          'plugin "after-audit" asks to run after "a", which would make a cycle (a → after-audit → load → a); ignored',
        hookIndex: 0,
      },
    ]);
    expect(order(g)).toEqual(['pre:after-audit', 'task:load', 'post:a']);
  });

  it('skips hints pointing at the hook itself, at a post/fail partner, or already ordered by a rule', () => {
    const selfish = new Map([...plugins, ['audit', plugin('audit', { hints: { dependsOn: ['audit'] } })]]);
    const self = buildRunGraph({ task: { name: 'load' }, hooks: [hook('a')], plugins: selfish });
    expect(self.issues).toEqual([]);
    expect(order(self)).toEqual(['task:load', 'post:a']);
    const failing = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('after-audit', 'fail'), hook('a')],
      plugins,
    });
    expect(failing.issues).toEqual([]);
    expect(failing.nodes.find((n) => n.name === 'after-audit')!.dependsOn).toEqual(['load']);
    const ruled = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a'), hook('after-audit')],
      plugins,
      rules: rules('a >> after-audit'),
    });
    expect(ruled.issues).toEqual([]);
    expect(ruled.nodes.find((n) => n.name === 'after-audit')!.dependsOn).toEqual(['load', 'a']);
  });

  it('runs post hooks before fail hooks when both are ready, whatever the declaration order', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('page', 'fail', undefined, 'notify'), hook('notify'), hook('b', 'pre'), hook('a', 'pre')],
      plugins,
    });
    expect(order(g)).toEqual(['pre:b', 'pre:a', 'task:load', 'post:notify', 'fail:page']);
  });

  it('lists upstream nodes in run order, not in the order they were written', () => {
    const g = buildRunGraph({
      task: { name: 'load' },
      hooks: [hook('a'), hook('b'), hook('notify', undefined, ['b', 'a'])],
      plugins,
    });
    expect(g.nodes.find((n) => n.name === 'notify')!.dependsOn).toEqual(['load', 'a', 'b']);
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
          const errors = g.issues.filter((i) => i.severity === 'error');
          // Every plugin is known and no hook names itself, so only these two errors can arise.
          for (const e of errors) expect(['HOOK_CYCLE', 'HOOK_STAGE_CONFLICT']).toContain(e.code);
          const cycle = errors.find((i) => i.code === 'HOOK_CYCLE');
          if (cycle) {
            expect(g.nodes).toEqual([]);
            // The cycle named is a real one: each step is an edge the job or the rules gave.
            const steps = cycle.message.slice(cycle.message.lastIndexOf(': ') + 2).split(' → ');
            expect(steps.length).toBeGreaterThan(2);
            expect(steps.at(-1)).toBe(steps[0]);
            const stageOf = (n: string) => (n === 'load' ? 'task' : st[names.indexOf(n)]!);
            const given = (from: string, to: string) =>
              (stageOf(from) === 'pre' && to === 'load') ||
              (from === 'load' && stageOf(to) !== 'pre' && to !== 'load') ||
              (hooks[names.indexOf(to)]?.dependsOn ?? []).includes(from) ||
              rs.some((r) => r.edges.some((e) => e.from === from && e.to === to));
            for (let i = 0; i + 1 < steps.length; i++) expect(given(steps[i]!, steps[i + 1]!)).toBe(true);
            return;
          }
          const pos = new Map(g.nodes.map((n, i) => [n.name, i]));
          expect(pos.size).toBe(names.length + 1);
          for (const node of g.nodes)
            for (const up of node.dependsOn) expect(pos.get(up)!).toBeLessThan(pos.get(node.name)!);
          const postAndFail = (a: HookStage, b: HookStage) =>
            (a === 'post' && b === 'fail') || (a === 'fail' && b === 'post');
          hooks.forEach((h, i) => {
            if (st[i] === 'pre') expect(pos.get(h.name)!).toBeLessThan(pos.get('load')!);
            else expect(pos.get(h.name)!).toBeGreaterThan(pos.get('load')!);
            for (const d of h.dependsOn ?? []) {
              // A post hook and a fail hook never run together: that edge is refused, not ordered.
              if (postAndFail(st[names.indexOf(d)]!, st[i]!))
                expect(errors).toContainEqual(
                  expect.objectContaining({ code: 'HOOK_STAGE_CONFLICT', hookIndex: i }),
                );
              else expect(pos.get(d)!).toBeLessThan(pos.get(h.name)!);
            }
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
