/**
 * `optimus job addhook <job>`: asks for a hook plugin (any plugin that is not task-only), the hook's
 * name, stage and upstream hooks, then the plugin's questions (from the server); the server
 * validates the answers; the hook is appended to job.yaml with the user's comments and layout kept.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { OptimusError } from '../../../core/errors.js';
import type { HookSpec, JobSpec } from '../../../core/job.js';
import type { HookStage } from '../../../core/plugin.js';
import { buildRunGraph } from '../../../core/run-graph.js';
import { suggest } from '../../../services/validate-project.js';
import { loadPluginSet } from '../../../spec/plugin-spec.js';
import type { ProjectConfig } from '../../../spec/project-config.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfig, serverClient } from '../../context.js';
import { EXIT_OK } from '../../errors.js';
import { nextFlags, printJson } from '../../output.js';
import { resolvePluginSource } from '../../plugin-source.js';
import { loadAnswers } from '../../survey/answers.js';
import { addHookToYaml } from '../../survey/job-file.js';
import { hookNameProblem, stageChoices } from '../../survey/job-questions.js';
import { type PluginConfig, surveyPluginConfig } from '../../survey/plugin-config.js';
import { projectJobs } from '../../survey/project-jobs.js';
import { startSurvey, surveyReport } from '../../survey/run.js';
import { getPlugin, listPlugins, type PluginDetail } from '../../survey/server-plugins.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const jobName = args[0]!;
  const config = projectConfig(opts);
  const jobs = projectJobs(config);
  const job = jobs.find((j) => j.name === jobName);
  if (!job) {
    throw new OptimusError('JOB_NOT_FOUND', `job "${jobName}" is not in any namespace`, {
      category: 'not_found',
      hint: suggest(
        jobName,
        jobs.map((j) => j.name),
      ),
    });
  }
  if (!job.spec) {
    throw new OptimusError('JOB_INVALID', `job "${jobName}" does not load, so no hook can be added to it`, {
      hint: `see what is wrong with \`optimus job validate ${jobName}\``,
    });
  }
  const existing = job.spec.hooks.map((h) => h.name);
  const client = serverClient(opts, config);
  const survey = startSurvey(opts, loadAnswers(opts));
  const plugins = (await listPlugins(client)).filter((p) => !p.task_only);
  if (!plugins.length) {
    throw new OptimusError(
      'PLUGIN_NONE',
      `the server at ${client.baseUrl} has no plugin that can be a hook`,
      {
        hint: 'plugins implementing the dependency-resolver mod are task-only',
      },
    );
  }

  const pluginName = await survey.ask({
    name: 'plugin',
    message: 'Hook plugin',
    choices: plugins.map((p) => ({ value: p.name, description: p.description })),
    required: true,
  });
  const summary = plugins.find((p) => p.name === pluginName);
  const hookName = await survey.ask({
    name: 'hook_name',
    message: 'Hook name (unique in the job)',
    ...(pluginName ? { default: pluginName } : {}),
    required: true,
    check: (v) => hookNameProblem(v, new Set(existing)),
  });
  const stage = await survey.ask({
    name: 'stage',
    message: 'Stage',
    choices: stageChoices(),
    default: summary?.stage_hint ?? 'post',
    required: true,
  });
  const dependsOn = await survey.askMany({
    name: 'depends_on',
    message: 'Runs after these hooks (none: the default order)',
    choices: existing.map((value) => ({ value })),
  });

  // Before the plugin's own questions: nobody should answer them for a hook that cannot be added.
  if (pluginName && hookName && stage) {
    await refuseBrokenRunOrder(opts, config, job.spec, {
      name: hookName,
      type: pluginName,
      stage: stage as HookStage,
      ...(dependsOn.length ? { dependsOn } : {}),
      config: {},
    });
  }

  let plugin: PluginDetail | undefined;
  let hookConfig: PluginConfig | undefined;
  if (pluginName) {
    plugin = await getPlugin(client, pluginName);
    hookConfig = await surveyPluginConfig(survey, client, plugin, 'hook');
  } else {
    survey.pending('(plugin questions)', "the hook plugin's own questions, asked once plugin is answered");
  }
  survey.finish('add the hook');
  if (!plugin || !hookConfig || !hookName || !stage) throw new Error('survey finished with answers missing');

  const text = addHookToYaml(readFileSync(job.file, 'utf8'), job.file, {
    name: hookName,
    ...(hookName !== plugin.name ? { type: plugin.name } : {}),
    stage,
    depends_on: dependsOn,
    config: hookConfig.config,
    placeholders: hookConfig.placeholders,
  });
  writeFileSync(job.file, text);

  const shown = relative(process.cwd(), job.file) || job.file;
  const report = surveyReport(survey, hookConfig, nextFlags(opts, config.root));
  if (opts.json) {
    printJson({
      ok: true,
      file: shown,
      job: job.name,
      hook: hookName,
      type: plugin.name,
      stage,
      depends_on: dependsOn,
      ...report.json,
    });
    return EXIT_OK;
  }
  const lines = [`added hook ${hookName} (${plugin.name}, ${stage}) to ${shown}`, ...report.lines];
  lines.push(`next: optimus job graph ${job.name}${nextFlags(opts, config.root)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}

/**
 * The run graph of the job with the new hook, on the plugin specs `job validate` would use: a hook
 * that closes a cycle (or otherwise makes the order impossible) is refused and nothing is written.
 * Plugins the specs lack are left to `job validate`; only what the new hook breaks counts here.
 */
async function refuseBrokenRunOrder(
  opts: Record<string, unknown>,
  config: ProjectConfig,
  spec: JobSpec,
  hook: HookSpec,
): Promise<void> {
  const source = await resolvePluginSource(opts);
  const plugins = source ? loadPluginSet([source.dir]).plugins : new Map();
  const graphErrors = (hooks: readonly HookSpec[]) =>
    buildRunGraph({ task: spec.task, hooks, plugins, rules: config.hookRules }).issues.filter(
      (i) => i.severity === 'error' && !i.code.startsWith('PLUGIN_'),
    );
  const before = new Set(graphErrors(spec.hooks).map((i) => `${i.code} ${i.message}`));
  const added = graphErrors([...spec.hooks, hook]).find((i) => !before.has(`${i.code} ${i.message}`));
  if (!added) return;
  throw new OptimusError(
    added.code,
    `hook "${hook.name}" cannot be added to job "${spec.name}": ${added.message}; job.yaml is unchanged`,
    {
      category: 'invalid',
      hint: added.hint ?? 'choose other upstream hooks (depends_on) or another stage',
    },
  );
}
