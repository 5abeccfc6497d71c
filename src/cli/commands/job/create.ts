/**
 * `optimus job create`: asks the built-in questions and the task plugin's own (fetched from the
 * server, never from local plugins), has the server validate the answers, then writes
 * `<dir>/job.yaml` (version 3) and the plugin's default assets.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { OptimusError } from '../../../core/errors.js';
import { JOB_FILE } from '../../../spec/job-spec.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfig, serverClient } from '../../context.js';
import { EXIT_OK } from '../../errors.js';
import { nextFlags, printJson } from '../../output.js';
import { loadAnswers } from '../../survey/answers.js';
import { newJobYaml } from '../../survey/job-file.js';
import {
  directoryProblem,
  intervalProblem,
  jobNameProblem,
  startDateProblem,
  today,
  WINDOWS,
  type WindowChoice,
  windowChoices,
} from '../../survey/job-questions.js';
import { type PluginConfig, surveyPluginConfig } from '../../survey/plugin-config.js';
import { projectJobs } from '../../survey/project-jobs.js';
import { startSurvey, surveyReport } from '../../survey/run.js';
import { getPlugin, listPlugins } from '../../survey/server-plugins.js';

export async function run({ opts }: CommandContext): Promise<number> {
  const config = projectConfig(opts);
  const client = serverClient(opts, config);
  const survey = startSurvey(opts, loadAnswers(opts));
  // Before the first question, so an unreachable server fails before anyone types an answer.
  const plugins = await listPlugins(client);
  if (!plugins.length) {
    throw new OptimusError('PLUGIN_NONE', `the server at ${client.baseUrl} has no plugins`, {
      hint: 'install plugins on the server (its plugins section, then `optimus serve --install-plugins`)',
    });
  }
  const namespaces = config.namespaces.filter((ns) => ns.jobPath);
  if (!namespaces.length) {
    throw new OptimusError('NAMESPACE_NONE', 'optimus.yaml has no namespace with a job path', {
      category: 'usage',
      hint: 'add one under namespaces, e.g. `- {name: analytics, job: {path: analytics/jobs}}`',
    });
  }
  const taken = new Set(projectJobs(config).map((j) => j.name));

  const nsName =
    namespaces.length === 1 && !survey.has('namespace')
      ? namespaces[0]!.name
      : await survey.ask({
          name: 'namespace',
          message: 'Namespace',
          choices: namespaces.map((ns) => ({ value: ns.name })),
          required: true,
        });
  const ns = namespaces.find((n) => n.name === nsName);
  const name = await survey.ask({
    name: 'name',
    message: 'Job name',
    required: true,
    check: (v) => jobNameProblem(v, taken),
  });
  let directory: string | undefined;
  if (ns?.jobPath && name) {
    const jobPath = ns.jobPath;
    directory = await survey.ask({
      name: 'directory',
      message: 'Directory for the job (relative to the project root)',
      default: relative(config.root, join(jobPath, name)),
      required: true,
      check: (v) => directoryProblem(v, config.root, jobPath),
    });
  }
  const owner = await survey.ask({ name: 'owner', message: 'Owner (team or e-mail)', required: true });
  const task = await survey.ask({
    name: 'task',
    message: 'Task plugin',
    choices: plugins.map((p) => ({
      value: p.name,
      label: p.task_only ? `${p.name} (task only)` : p.name,
      description: p.description,
    })),
    required: true,
  });
  const startDate = await survey.ask({
    name: 'start_date',
    message: 'Schedule start date (YYYY-MM-DD)',
    default: today(),
    required: true,
    check: startDateProblem,
  });
  const interval = await survey.ask({
    name: 'interval',
    message: 'Schedule interval (cron)',
    default: '0 2 * * *',
    required: true,
    check: intervalProblem,
  });
  const window = (await survey.ask({
    name: 'window',
    message: 'Window',
    choices: windowChoices(),
    default: 'daily',
    required: true,
  })) as WindowChoice | undefined;

  let plugin: Awaited<ReturnType<typeof getPlugin>> | undefined;
  let taskConfig: PluginConfig | undefined;
  if (task) {
    plugin = await getPlugin(client, task);
    taskConfig = await surveyPluginConfig(survey, client, plugin, 'task');
  } else {
    survey.pending('(task questions)', "the task plugin's own questions, asked once task is answered");
  }
  survey.finish('create the job');
  // finish() throws unless every answer is there.
  if (!ns || !name || !directory || !owner || !startDate || !interval || !window || !plugin || !taskConfig)
    throw new Error('survey finished with answers missing');

  const dir = resolve(config.root, directory);
  const file = join(dir, JOB_FILE);
  const text = newJobYaml({
    name,
    owner,
    startDate,
    interval,
    task: plugin.name,
    config: taskConfig.config,
    window: { ...WINDOWS[window] },
    placeholders: taskConfig.placeholders,
  });
  const assets = Object.keys(plugin.default_assets).filter(safeAssetPath);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, text, { flag: 'wx' });
  for (const a of assets) {
    const target = join(dir, 'assets', a);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, plugin.default_assets[a]!, { flag: 'wx' });
  }

  const shown = relative(process.cwd(), file) || file;
  const report = surveyReport(survey, taskConfig, nextFlags(opts, config.root));
  if (opts.json) {
    printJson({
      ok: true,
      file: shown,
      job: name,
      namespace: ns.name,
      task: plugin.name,
      assets: assets.map((a) => join('assets', a)),
      ...report.json,
    });
    return EXIT_OK;
  }
  const lines = [`created ${shown} (task ${plugin.name}, namespace ${ns.name})`];
  for (const a of assets) lines.push(`  + ${relative(process.cwd(), join(dir, 'assets', a))}`);
  lines.push(...report.lines, `next: optimus job validate ${name}${nextFlags(opts, config.root)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}

/** Default assets come from a plugin: keep them inside assets/. */
function safeAssetPath(p: string): boolean {
  return p !== '' && !p.startsWith('/') && !p.split(/[/\\]/).includes('..');
}
