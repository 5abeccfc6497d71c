/** Small helpers shared by command registration: lazy loading and the common `--json` option. */
import { type Command, Option } from 'commander';

export interface CommandContext {
  args: string[];
  opts: Record<string, unknown>;
  command: Command;
}

/** A command module exports `run(ctx)` returning the exit code. */
export type CommandLoader = () => Promise<{ run(ctx: CommandContext): Promise<number> }>;

/** Defer importing a command's module until it runs, so `--help` never loads heavy code. */
export function lazy(load: CommandLoader) {
  return async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const mod = await load();
    process.exitCode = await mod.run({ args: command.args, opts: command.optsWithGlobals(), command });
  };
}

export const jsonOption = () => new Option('--json', 'print machine-readable JSON');

export const hostOption = () =>
  new Option('--host <url>', 'server address (default: host in optimus.yaml, else http://127.0.0.1:9100)');
export const dirOption = () => new Option('--dir <dir>', 'project root holding optimus.yaml').default('.');
