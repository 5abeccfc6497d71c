/**
 * Upstream documentation of 2021 wrote a hook's stage as `type: post` (or `pre`, `fail`), and
 * upstream has ignored the key ever since, so real job files still carry it. Here `type` names the
 * hook's plugin; when it names a stage and no plugin of that name exists, the hook is read the old
 * way (plugin = the hook's name, stage = the value) with a warning that says so.
 */
import type { HookSpec } from './job.js';
import { HOOK_STAGES, type HookStage } from './plugin.js';
import type { GraphIssue } from './run-graph.js';

export function readLegacyStageTypes(
  hooks: readonly HookSpec[],
  plugins: { has(name: string): boolean },
): { hooks: HookSpec[]; issues: GraphIssue[] } {
  const issues: GraphIssue[] = [];
  const out = hooks.map((hook, index) => {
    const stage = hook.type as HookStage;
    if (hook.type === hook.name || !HOOK_STAGES.includes(stage) || plugins.has(hook.type)) return hook;
    const explicit = hook.stage !== undefined && hook.stage !== stage;
    issues.push({
      severity: 'warning',
      code: 'HOOK_TYPE_IS_STAGE',
      message: explicit
        ? `type "${hook.type}" names a stage, not a plugin, and stage "${hook.stage}" is set too: read as plugin "${hook.name}" at stage "${hook.stage}"`
        : `type "${hook.type}" names a stage, not a plugin: read as plugin "${hook.name}" at stage "${hook.type}" (the old upstream form)`,
      hookIndex: index,
      field: 'type',
      hint: explicit ? 'remove `type`' : `write \`stage: ${hook.type}\` instead of \`type: ${hook.type}\``,
    });
    return { ...hook, type: hook.name, stage: hook.stage ?? stage };
  });
  return { hooks: out, issues };
}
