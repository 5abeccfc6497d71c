/**
 * Registration of the survey commands: init, job create, job addhook. Only commander types and
 * `lazy` here, so `optimus --help` never loads the prompts or the YAML writer.
 */
import { type Command, Option } from 'commander';
import { dirOption, hostOption, jsonOption, lazy } from '../command-kit.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

const answerOptions = (cmd: Command) =>
  cmd
    .addOption(new Option('--answers <file>', 'YAML file of answers: question name → answer'))
    .addOption(
      new Option('--set <name=value>', 'answer one question (repeatable; wins over --answers)').argParser(
        collect,
      ),
    )
    .addOption(new Option('-y, --yes', 'never prompt: take defaults; a question with no answer is an error'));

export function registerSurveyCommands(program: Command, job: Command): void {
  const init = program
    .command('init')
    .description('write optimus.yaml and the namespace folders of a new project (asks, or by flags)')
    .option('--project <name>', 'project name (default: the folder name)')
    .option('--namespace <names...>', 'namespaces to create (each gets <name>/jobs)')
    .addOption(new Option('--host <url>', 'server address written to optimus.yaml'))
    .option('--plugins-dir <dir>', 'plugins.install_location (default .plugins)')
    .option('--force', 'overwrite an existing optimus.yaml')
    .option('--dir <dir>', 'folder of the new project (created when missing)', '.')
    .addOption(jsonOption());
  answerOptions(init).action(lazy(() => import('./init.js'), { createsDir: true }));

  answerOptions(
    job
      .command('create')
      .description(
        "create a job: asks the task plugin's questions (from the server), writes job.yaml and assets",
      )
      .addOption(dirOption())
      .addOption(hostOption())
      .addOption(jsonOption()),
  ).action(lazy(() => import('./job/create.js')));

  answerOptions(
    job
      .command('addhook')
      .description("add a hook to a job: asks the hook plugin's questions (from the server), edits job.yaml")
      .argument('<job>', 'job name')
      .addOption(dirOption())
      .addOption(hostOption())
      .addOption(jsonOption()),
  ).action(lazy(() => import('./job/addhook.js')));
}
