/**
 * `optimus job addhook <job>`: asks for a hook plugin (any plugin that is not task-only), the hook's
 * name, stage and upstream hooks, then the plugin's questions (from the server); the server
 * validates the answers; the hook is appended to job.yaml with the user's comments and layout kept.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { OptimusError } from '../../../core/errors.js';
import { suggest } from '../../../services/validate-project.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfig, serverClient } from '../../context.js';
import { EXIT_OK } from '../../errors.js';
import { printJson } from '../../output.js';
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
  const report = surveyReport(survey, hookConfig);
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
  lines.push(`next: optimus job graph ${job.name}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}
