/** Registration of the plugin installer commands (install, list, diff, clean, available). */
import type { Command } from 'commander';
import { hostOption, jsonOption, lazy } from '../../command-kit.js';

const CONFIG_HELP = 'optimus.yaml or server config holding the plugins section';

export function registerInstallCommands(plugin: Command): void {
  plugin
    .command('install')
    .description(
      'install the plugins listed in the config (parallel; skips what is up to date) and write plugins.lock.yaml',
    )
    .argument('[names...]', 'only these plugins; default: every plugin in the config')
    .option('-c, --config <file>', CONFIG_HELP, './optimus.yaml')
    .option(
      '--frozen',
      'fail when the config and plugins.lock.yaml disagree instead of updating the lock (CI)',
    )
    .option('--force', 'reinstall even when up to date, and re-pin the lock to what is downloaded')
    .option('--concurrency <n>', 'plugins installed at once', '8')
    .option('--max-size <MiB>', 'largest artifact accepted, in MiB', '512')
    .addOption(jsonOption())
    .action(lazy(() => import('./install.js')));
  plugin
    .command('list')
    .description('installed plugins: name, kind, version, source, and whether the files match the lock')
    .option('-c, --config <file>', CONFIG_HELP, './optimus.yaml')
    .option('--server', 'list the plugins the server serves instead')
    .addOption(hostOption())
    .addOption(jsonOption())
    .action(lazy(() => import('./list.js')));
  plugin
    .command('diff')
    .description('differences between the config, plugins.lock.yaml and the installed files')
    .option('-c, --config <file>', CONFIG_HELP, './optimus.yaml')
    .option('--server', 'compare the local config and lock with what the server serves')
    .addOption(hostOption())
    .option('--exit-code', 'exit 1 when there are differences')
    .addOption(jsonOption())
    .action(lazy(() => import('./diff.js')));
  plugin
    .command('clean')
    .description('remove what is in install_location but not in the config')
    .option('-c, --config <file>', CONFIG_HELP, './optimus.yaml')
    .option('--dry-run', 'only print what would be removed')
    .addOption(jsonOption())
    .action(lazy(() => import('./clean.js')));
  plugin
    .command('available')
    .description("what each provider offers (an http provider's index.yaml; a listing for s3, gcs and file)")
    .argument('[providers...]', 'provider names; default: every provider')
    .option('-c, --config <file>', CONFIG_HELP, './optimus.yaml')
    .addOption(jsonOption())
    .action(lazy(() => import('./available.js')));
}
