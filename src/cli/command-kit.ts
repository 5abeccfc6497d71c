/** Small helpers shared by command registration: lazy loading and the common `--json` option. */
import { existsSync, statSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { OptimusError } from '../core/errors.js';

export interface CommandContext {
  args: string[];
  opts: Record<string, unknown>;
  command: Command;
}

/** A command module exports `run(ctx)` returning the exit code. */
export type CommandLoader = () => Promise<{ run(ctx: CommandContext): Promise<number> }>;

/**
 * Defer importing a command's module until it runs, so `--help` never loads heavy code. A `--dir`
 * that is not a folder is bad usage for every command (exit 2), checked here once so they all
 * agree; `init`, which creates its folder, says `createsDir`.
 */
export function lazy(load: CommandLoader, opts: { createsDir?: boolean } = {}) {
  return async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const options = command.optsWithGlobals();
    if (!opts.createsDir && typeof options.dir === 'string') checkDir(options.dir);
    const mod = await load();
    process.exitCode = await mod.run({ args: command.args, opts: options, command });
  };
}

function checkDir(dir: string): void {
  if (existsSync(dir) && statSync(dir).isDirectory()) return;
  throw new OptimusError(
    'DIR_NOT_FOUND',
    existsSync(dir) ? `--dir ${dir} is not a folder` : `--dir ${dir} does not exist`,
    { category: 'usage', hint: 'pass --dir <project root>, the folder holding optimus.yaml' },
  );
}

export const jsonOption = () => new Option('--json', 'print machine-readable JSON');

export const hostOption = () =>
  new Option('--host <url>', 'server address (default: host in optimus.yaml, else http://127.0.0.1:9100)');
export const dirOption = () => new Option('--dir <dir>', 'project root holding optimus.yaml').default('.');
