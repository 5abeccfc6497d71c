/**
 * `optimus plugin build [dir]`: bundles a binary plugin project's src/main.ts into one executable,
 * dist/<name>, that runs with no node_modules (authoring/build.ts). A yaml plugin has nothing to
 * build, and a prebuilt executable is used as it is: both say so and succeed, so a project's
 * `npm run build` works whatever its kind.
 */
import { buildPluginProject, locatePluginProject } from '../../../authoring/project.js';
import { formatBytes } from '../../../plugins/install/providers/provider.js';
import { out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { EXIT_OK } from '../../errors.js';
import { printJson, relativeTo } from '../../output.js';

/** A path as the user reads it: relative to cwd when inside it, else absolute. */
const shown = (path: string): string => (path === process.cwd() ? '.' : relativeTo(path, process.cwd()));

export async function run({ args, opts }: CommandContext): Promise<number> {
  const json = Boolean(opts.json);
  const project = locatePluginProject(args[0] ?? '.');

  if (project.kind === 'yaml' || !project.entry) {
    const why =
      project.kind === 'yaml'
        ? `${shown(project.specFile!)} is a yaml plugin: it runs as written`
        : `${shown(project.executable!)} is a prebuilt executable`;
    if (json) {
      printJson({
        ok: true,
        kind: project.kind,
        built: false,
        ...(project.executable ? { executable: shown(project.executable) } : {}),
      });
    } else process.stdout.write(`nothing to build: ${why}\n`);
    return EXIT_OK;
  }

  const r = await buildPluginProject(project);
  const executable = shown(r.executable!);
  if (json) printJson({ ok: true, kind: project.kind, built: true, executable, bytes: r.bytes, ms: r.ms });
  else
    process.stdout.write(
      `${pc.green('✓')} built ${pc.bold(executable)} ${pc.dim(`(${formatBytes(r.bytes ?? 0)} in ${r.ms} ms)`)}\n`,
    );
  return EXIT_OK;
}
