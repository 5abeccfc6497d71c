/**
 * The `optimus` command line. Only commander is imported eagerly: each command's module is loaded
 * when it runs, so `optimus --help` stays fast however many commands exist.
 */
import { Command, CommanderError, Option } from 'commander';
import { OptimusError } from '../core/errors.js';
import { dirOption as dir, hostOption as host, jsonOption as json, lazy } from './command-kit.js';
import { registerInstallCommands } from './commands/plugin/install-commands.js';
import { registerSurveyCommands } from './commands/survey-commands.js';
import { EXIT_OK, EXIT_USAGE, handleError } from './errors.js';
import { VERSION } from './version.js';

export type { CommandContext } from './command-kit.js';

/** A repeatable option's values, in order (undefined when not given). */
const repeat = (value: string, all: string[] = []): string[] => [...all, value];

export function buildProgram(): Command {
  const program = new Command('optimus')
    .description('Plugin-driven data-job orchestrator: validate, deploy and run jobs built from plugins.')
    .version(VERSION, '-v, --version')
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: true })
    // Commander's own errors are not printed here: main() sends them through the one error funnel,
    // so they look like every other error and answer in JSON under --json. Subcommands inherit this.
    .configureOutput({ outputError: () => {} })
    .exitOverride();

  const plugin = program.command('plugin').description('inspect, validate and install plugins');
  plugin
    .command('validate')
    .description('validate plugin spec files (v1, v2 or v3) and report every problem')
    .argument('<paths...>', 'plugin spec files or directories holding them')
    .addOption(json())
    .action(lazy(() => import('./commands/plugin/validate.js')));
  plugin
    .command('schema')
    .description('print the JSON Schema of the v3 plugin spec (for editors)')
    .addOption(json())
    .action(lazy(() => import('./commands/plugin/schema.js')));
  plugin
    .command('image')
    .description(
      "write (and with --build build) a plugin's wrapper image: its executor image plus the base image's entrypoint",
    )
    .argument('[plugin]', 'installed plugin name (or --all)')
    .option('--all', 'every installed plugin')
    .option('--plugins <dir>', 'installed plugins; default: the install_location of -c, else of optimus.yaml')
    .option('-c, --config <file>', 'server config: its scheduler.base_image, scheduler.registry and plugins')
    .option(
      '--base-image <ref>',
      'base image to copy the entrypoint from (default: the server config, else optimus-ts/base:1)',
    )
    .option(
      '--registry <registry>',
      'where the wrapper images go (default: the server config, else localhost:5000/optimus)',
    )
    .option('--output <dir>', 'where build contexts are written, <dir>/<plugin>/<version>', 'wrapper-images')
    .option('--build', 'build each image with docker (podman when docker is not installed)')
    .option('--push', 'build, then push each image to the registry')
    .addOption(dir())
    .addOption(json())
    .action(lazy(() => import('./commands/plugin/image.js')));
  registerInstallCommands(plugin);
  plugin
    .command('init')
    .description('write a new plugin project: spec, sample job, tests, Dockerfile and README')
    .argument('<name>', 'plugin name (letters, digits, _ - .)')
    .addOption(
      new Option('--kind <kind>', 'yaml (a spec, no code) or binary (TypeScript on the plugin SDK)').default(
        'yaml',
      ),
    )
    .option('--mod <mod>', 'also implement a mod: dependency-resolver')
    .option('--dir <dir>', 'where to write it (default: ./<name>)')
    .option('--force', 'write into a folder that is not empty (replaces only the files it writes)')
    .addOption(json())
    .action(lazy(() => import('./commands/plugin/init.js'), { createsDir: true }));
  plugin
    .command('build')
    .description("bundle a binary plugin project's src/main.ts into one executable, dist/<name>")
    .argument('[dir]', 'plugin project folder', '.')
    .addOption(json())
    .action(lazy(() => import('./commands/plugin/build.js')));
  plugin
    .command('run')
    .description(
      "render a sample job's run input as the server would and run the plugin locally, no server needed",
    )
    .argument('<plugin>', 'plugin project folder, spec file or executable')
    .option('--job <file>', 'the job.yaml to run (default: <plugin>/sample/job.yaml)')
    .option('--scheduled-at <time>', "scheduled time, RFC 3339 (default: the job's start_date at 00:00 UTC)")
    .option('--set <key=value>', 'set a config of the node (repeatable)', repeat)
    .option(
      '--secret <key[=value]>',
      'value of {{ .secret.KEY }}; without =value, read from $KEY (repeatable)',
      repeat,
    )
    .option('--global <key=value>', 'a project config, seen as GLOBAL__KEY (repeatable)', repeat)
    .option('--hook <name>', 'run this hook of the job instead of its task')
    .option(
      '--plugins <dir>',
      "a folder of specs of the other plugins the job names (a hook's task plugin), for their defaults and JOB_DESTINATION",
    )
    .addOption(
      new Option('--executor <executor>', 'where the entrypoint runs')
        .choices(['process', 'docker'])
        .default('process'),
    )
    .option('--image <ref>', "docker executor: run this image instead of the spec's image:tag")
    .option('--network <network>', "docker executor: the container's network", 'none')
    .option('--timeout <duration>', 'stop the entrypoint after this long (e.g. 30s, 10m)', '10m')
    .option('--workdir <dir>', 'write the input here and keep it (default: a temp folder, removed after)')
    .option('--render-only', 'print the rendered input and stop')
    .option('--no-build', 'use dist/<name> as built (binary plugins)')
    .addOption(json())
    .action(lazy(() => import('./commands/plugin/run.js')));
  plugin
    .command('test')
    .description(
      "run a plugin project's checks: spec, questions, sample job, handshake, resolver and tests/*.yaml",
    )
    .argument('[dir]', 'plugin project folder', '.')
    .option('--job <file>', 'the sample job (default: <dir>/sample/job.yaml)')
    .option('--handshake-timeout <duration>', 'how long the handshake may take (e.g. 10s)', '10s')
    .option(
      '--plugins <dir>',
      "a folder of specs of the other plugins the sample job names (a hook's task plugin), to check their configs",
    )
    .option('--no-build', 'use dist/<name> as built (binary plugins)')
    .addOption(json())
    .action(lazy(() => import('./commands/plugin/test.js')));
  plugin
    .command('pack')
    .description('build the artifact `plugin install` takes, and print its sha256 and plugins.list entry')
    .argument('[dir]', 'plugin project folder', '.')
    .option('--out <dir>', 'where the artifact goes (default: <dir>/dist)')
    .option(
      '--url <base>',
      'where it will be uploaded (http(s)://, gs://, s3:// or a path), for the entry printed',
    )
    .option('--force', 'replace an artifact of the same name and tag whose bytes differ')
    .option('--no-build', 'use dist/<name> as built (binary plugins)')
    .addOption(json())
    .action(lazy(() => import('./commands/plugin/pack.js')));

  const job = program.command('job').description('create, validate, inspect and run jobs');
  job
    .command('validate')
    .description('validate jobs of every namespace (or the named jobs) against the plugin specs')
    .argument('[jobs...]', 'job names; default: every job')
    .option('--dir <dir>', 'project root holding optimus.yaml', '.')
    .addOption(pluginsOption())
    .addOption(serverOption())
    .addOption(host())
    .addOption(noCacheOption())
    .addOption(json())
    .action(lazy(() => import('./commands/job/validate.js')));
  job
    .command('graph')
    .description('print the run order of a job: hooks and task, with their upstream nodes')
    .argument('<job>', 'job name')
    .option('--dir <dir>', 'project root holding optimus.yaml', '.')
    .addOption(pluginsOption())
    .addOption(serverOption())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/job/graph.js')));

  job
    .command('inspect')
    .description('show what the server holds for a job: run graph, configs (secrets redacted), sync state')
    .argument('<job>', 'job name')
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/job/inspect.js')));
  job
    .command('run-input')
    .description('write one node’s input at a scheduled time: in/ with rendered assets, .env and .secret')
    .argument('<job>', 'job name')
    .option('--scheduled-at <time>', 'the run’s scheduled time, RFC3339 (e.g. 2026-03-01T02:00:00Z)')
    .option('--type <type>', 'task or hook')
    .option('--name <name>', "the task plugin's name, or the hook's name")
    .option('--output-dir <dir>', 'folder to write in/ into')
    .addOption(projectNameOption())
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/job/run-input.js')));
  job
    .command('run')
    .description('run a deployed job on the server now (or at --scheduled-at); --wait follows it to the end')
    .argument('<job>', 'job name')
    .option(
      '--scheduled-at <time>',
      'the run’s scheduled time, e.g. 2026-01-31T06:00:00Z (default now; no zone = UTC)',
    )
    .option('--wait', 'wait until the run ends, showing each node; exit 1 if it fails or is cancelled')
    .addOption(projectNameOption())
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/job/run.js')));
  job
    .command('runs')
    .description("list a job's runs, newest first, with each node's state and duration")
    .argument('<job>', 'job name')
    .option('--limit <n>', 'how many runs (default 20, at most 1000)')
    .addOption(projectNameOption())
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/job/runs.js')));
  job
    .command('logs')
    .description("print a run's output (default: the latest run), each line with its time and node")
    .argument('<job>', 'job name')
    .option('--run <id>', 'the run (default: the latest)')
    .option('--node <name>', 'only this task or hook')
    .option('--follow', 'keep printing until the run is over')
    .addOption(projectNameOption())
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/job/logs.js')));
  job
    .command('cancel')
    .description('cancel a run: nodes not started never start, running ones are stopped')
    .argument('<job>', 'job name')
    // Checked by the command, not commander, so a bad --dir is reported first as for every command.
    .option('--run <id>', 'the run to cancel, required (see `optimus job runs <job>`)')
    .addOption(projectNameOption())
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/job/cancel.js')));
  job
    .command('retry')
    .description(
      "run a finished run's failed nodes again (or only --node ones), with what did not succeed after them",
    )
    .argument('<job>', 'job name')
    .argument('<run-id>', 'the run (see `optimus job runs <job>`)')
    .option('--node <name>', 'only this failed, upstream failed or cancelled node (repeatable)', repeat)
    .addOption(projectNameOption())
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/job/retry.js')));
  plugin
    .command('sync')
    .description("cache the server's plugin specs locally, for offline validation (deletes nothing else)")
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/plugin/sync.js')));
  registerSurveyCommands(program, job);

  program
    .command('deploy')
    .description("validate locally with the server's plugin specs, then deploy namespaces' jobs")
    .option('-n, --namespace <name...>', 'only these namespaces (default: all)')
    .option(
      '--plan',
      'show what the deploy would add, change and delete, and how upstreams would change; apply nothing',
    )
    .addOption(noCacheOption())
    .option('--no-manifest', 'upload every job in full instead of only those the server does not hold')
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/deploy.js')));

  // `replay <job>` creates (the default subcommand); a job named like a subcommand is replayed
  // with `optimus replay create <job>`.
  const replay = program
    .command('replay')
    .description(
      'run a job again over a range of scheduled times, with its downstream jobs in dependency order',
    );
  replay
    .command('create', { isDefault: true })
    .description(
      'replay a job: `optimus replay <job> --from D --to D` (same as `optimus replay create <job> …`)',
    )
    .argument('<job>', 'job name')
    // Checked by the command, not commander, so a bad --dir is reported first as for every command.
    .option('--from <date>', 'first scheduled time, inclusive: a date (UTC) or an RFC 3339 time')
    .option('--to <date>', 'last scheduled time, inclusive: a date (the whole day, UTC) or an RFC 3339 time')
    .option('--downstream', 'also every job downstream of it, each after the upstream windows it reads')
    .option('--parallel', "run a job's windows side by side instead of one after another")
    .option('--wait', 'follow it until it ends; exit 1 if it fails or is cancelled')
    .addOption(projectNameOption())
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/replay/create.js')));
  replay
    .command('status')
    .description("show a replay's progress: a grid of jobs × windows with each window's state")
    .argument('<id>', 'replay id (see `optimus replay list`)')
    .option('--watch', 'keep showing it until it ends')
    .addOption(projectNameOption())
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/replay/status.js')));
  replay
    .command('cancel')
    .description('cancel a replay: its queued and running runs are cancelled, no more are created')
    .argument('<id>', 'replay id')
    .addOption(projectNameOption())
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/replay/cancel.js')));
  replay
    .command('list')
    .description("list the project's replays, newest first")
    .option('--job <job>', 'only replays of this job')
    .option('--limit <n>', 'how many (default 20, at most 1000)')
    .addOption(projectNameOption())
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/replay/list.js')));

  const secret = program
    .command('secret')
    .description('manage secrets on the server (values are never printed)');
  secret
    .command('set')
    .description('create or update a secret; the value comes from the argument, --file, or stdin')
    .argument('<name>', 'secret name (upper-cased by the server)')
    .argument('[value]', 'the value; prefer --file or stdin so it stays out of shell history')
    .option('--file <path>', 'read the value from a file')
    .option('-n, --namespace <name>', 'visible to this namespace only (default: the whole project)')
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/secret/set.js')));
  secret
    .command('list')
    .description('list secrets: name, namespace, digest, update time')
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/secret/list.js')));
  secret
    .command('delete')
    .description('delete a secret')
    .argument('<name>', 'secret name')
    .option('-n, --namespace <name>', 'the namespace the secret belongs to')
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/secret/delete.js')));

  const project = program.command('project').description('register and describe the project on the server');
  project
    .command('register')
    .description('register the project of optimus.yaml (config and hook rules), and its namespaces')
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/project/register.js')));
  project
    .command('describe')
    .description('show the project as the server holds it')
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/project/describe.js')));

  const namespace = program
    .command('namespace')
    .description('register, list and describe namespaces on the server');
  namespace
    .command('register')
    .description('register namespaces of optimus.yaml (default: all)')
    .argument('[names...]', 'namespace names')
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/namespace/register.js')));
  namespace
    .command('list')
    .description('list the namespaces the server holds for the project')
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/namespace/list.js')));
  namespace
    .command('describe')
    .description('show one namespace as the server holds it')
    .argument('<name>', 'namespace name')
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/namespace/describe.js')));

  program
    .command('scheduler')
    .description('compile jobs for an external scheduler (Airflow)')
    .command('compile')
    .description(
      "compile the project's jobs into Airflow DAG files (one per job, plus the shared __lib.py); only changed files are written",
    )
    .option('--dir <dir>', 'project root holding optimus.yaml', '.')
    .option(
      '--out <dir>',
      "where the DAGs go (default: the project's STORAGE_PATH, when it is a file:// path)",
    )
    .option(
      '--base-image <ref>',
      'base image of the wrapper images the tasks run (default optimus-ts/base:1)',
    )
    .option('--registry <registry>', 'registry of the wrapper images (default localhost:5000/optimus)')
    .addOption(pluginsOption())
    .addOption(serverOption())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/scheduler/compile.js')));

  program
    .command('version')
    .description("print the CLI's version and the server's, if one answers")
    .option('--wait <seconds>', 'wait up to this long for the server to answer; fail if it does not')
    .addOption(dir())
    .addOption(host())
    .addOption(json())
    .action(lazy(() => import('./commands/version.js')));

  program
    .command('serve')
    .description('run the server: HTTP API, store and plugins (embedded store in ~/.optimus by default)')
    .option('-c, --config <file>', 'server config file')
    .option('--data-dir <dir>', 'where the embedded store and the app key live (default ~/.optimus)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default 9100; 0 picks a free one)')
    .option('--install-plugins', 'install the plugins of the server config at start and on each reload')
    .option('--insecure', 'allow binding beyond loopback without auth tokens')
    .option(
      '--no-runner',
      'serve the API only: run no jobs here (another server on the same store runs them)',
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'logs on stdout: readable lines, or JSON lines (default: pretty in a terminal, else json)',
      ).choices(['pretty', 'json']),
    )
    .addOption(json())
    .action(lazy(() => import('./commands/serve.js')));

  return program;
}

/** The run commands act on a project by name when there is no checkout (a script, a CI step). */
const projectNameOption = () =>
  new Option('--project-name <name>', 'the project on the server (default: the one in optimus.yaml)');

/** Where `job validate` and `job graph` get plugin specs: see plugin-source.ts. */
const pluginsOption = () =>
  new Option(
    '--plugins <dir>',
    "local plugin specs to check against; default: the install_location when it holds plugins, else the server's specs",
  );
/** The validation cache (validate-cache.ts) only saves time; this is the way to rule it out. */
const noCacheOption = () =>
  new Option('--no-cache', 'check every job again instead of reusing the checks of unchanged jobs');
const serverOption = () =>
  new Option(
    '--server',
    "use the server's plugin specs even when plugins are installed locally (refreshed when the server changes them; its cached copy when it is unreachable)",
  ).conflicts('plugins');

export async function main(argv: string[]): Promise<void> {
  quietOnClosedPipe();
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Asked-for help and version are successful exits; everything else from commander (including
      // help shown because a subcommand is missing) is bad usage.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') {
        process.exitCode = EXIT_OK;
        return;
      }
      handleError(usageError(e, commandPath(program, argv.slice(2))), json);
      process.exitCode = EXIT_USAGE;
      return;
    }
    process.exitCode = handleError(e, json);
  }
}

/**
 * `optimus … | head -1` closes stdout early: stop quietly with the exit code so far instead of
 * dying on an unhandled EPIPE with a stack trace. Registered once, for both streams.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') > 0) continue;
    stream.on('error', (e: NodeJS.ErrnoException) => {
      process.exit(e.code === 'EPIPE' ? Number(process.exitCode) || 0 : 1);
    });
  }
}

/** A commander error as an OptimusError: a stable code, the message, and where to read more. */
function usageError(e: CommanderError, path: string[]): OptimusError {
  const lines = e.message.replace(/^error: /, '').split('\n');
  const suggestion = lines.find((l) => /^\(Did you mean/.test(l));
  const command = ['optimus', ...path].join(' ');
  if (e.code === 'commander.help') {
    return new OptimusError('COMMAND_MISSING', `${command} needs a command`, {
      category: 'usage',
      hint: `see \`${command} --help\``,
    });
  }
  const code = e.code
    .replace(/^commander\./, '')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase();
  return new OptimusError(code, lines[0] ?? e.message, {
    category: 'usage',
    hint: suggestion
      ? suggestion.replace(/^\(Did you mean (.*)\?\)$/, 'did you mean $1?')
      : `see \`${command} --help\``,
  });
}

/** The subcommand names at the start of the arguments (`job validate` of `job validate x --json`). */
function commandPath(program: Command, args: string[]): string[] {
  const path: string[] = [];
  let current = program;
  for (const arg of args) {
    const next = current.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!next) break;
    path.push(arg);
    current = next;
  }
  return path;
}
