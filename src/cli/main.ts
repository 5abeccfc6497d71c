/**
 * The `optimus` command line. Only commander is imported eagerly: each command's module is loaded
 * when it runs, so `optimus --help` stays fast however many commands exist.
 */
import { Command, CommanderError } from 'commander';
import { jsonOption as json, lazy } from './command-kit.js';
import { registerInstallCommands } from './commands/plugin/install-commands.js';
import { handleError } from './errors.js';

export type { CommandContext } from './command-kit.js';

export function buildProgram(): Command {
  const program = new Command('optimus')
    .description('Plugin-driven data-job orchestrator: validate, deploy and run jobs built from plugins.')
    .version(VERSION, '-v, --version')
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: true })
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
  registerInstallCommands(plugin);

  const job = program.command('job').description('validate and inspect jobs');
  job
    .command('validate')
    .description('validate jobs of every namespace (or the named jobs) against the plugin specs')
    .argument('[jobs...]', 'job names; default: every job')
    .option('--dir <dir>', 'project root holding optimus.yaml', '.')
    .option('--plugins <dir>', 'directory of plugin specs; default: the project plugins.install_location')
    .addOption(json())
    .action(lazy(() => import('./commands/job/validate.js')));
  job
    .command('graph')
    .description('print the run order of a job: hooks and task, with their upstream nodes')
    .argument('<job>', 'job name')
    .option('--dir <dir>', 'project root holding optimus.yaml', '.')
    .option('--plugins <dir>', 'directory of plugin specs; default: the project plugins.install_location')
    .addOption(json())
    .action(lazy(() => import('./commands/job/graph.js')));

  program
    .command('serve')
    .description('run the server: HTTP API, store and plugins (embedded store in ~/.optimus by default)')
    .option('-c, --config <file>', 'server config file')
    .option('--data-dir <dir>', 'where the embedded store and the app key live (default ~/.optimus)')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default 9100; 0 picks a free one)')
    .option('--install-plugins', 'install the plugins of the server config before starting')
    .option('--insecure', 'allow binding beyond loopback without auth tokens')
    .addOption(json())
    .action(lazy(() => import('./commands/serve.js')));

  return program;
}

const VERSION = '0.1.0';

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Asked-for help and version are successful exits; everything else from commander (including
      // help shown because a subcommand is missing) is bad usage.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') {
        process.exitCode = 0;
        return;
      }
      process.exitCode = 2;
      return;
    }
    process.exitCode = handleError(e, argv.includes('--json'));
  }
}
