/**
 * `optimus plugin pack [dir]`: builds the artifact `optimus plugin install` takes (authoring/pack.ts)
 * and prints what a team needs to publish it: its path, size and sha256, and the plugins.list entry
 * to paste into optimus.yaml once it is uploaded. An invalid spec exits 1 with its problems and
 * writes nothing; so does a version already packed with other bytes, unless --force.
 */
import { entryLine, PROVIDER_PLACEHOLDER, packPluginProject } from '../../../authoring/pack.js';
import { locatePluginProject } from '../../../authoring/project.js';
import { errorsOf } from '../../../core/problem.js';
import { formatBytes } from '../../../plugins/install/providers/provider.js';
import { err, out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../../errors.js';
import { formatProblem, plural, printJson, problemJson, relativeTo } from '../../output.js';

/** A path as the user reads it: relative to cwd when inside it, else absolute. */
const shown = (path: string): string => (path === process.cwd() ? '.' : relativeTo(path, process.cwd()));

export async function run({ args, opts }: CommandContext): Promise<number> {
  const json = Boolean(opts.json);
  const project = locatePluginProject(args[0] ?? '.');
  const outcome = await packPluginProject(project, {
    ...(typeof opts.out === 'string' ? { out: opts.out } : {}),
    ...(typeof opts.url === 'string' ? { url: opts.url } : {}),
    ...(opts.build === false ? { build: false } : {}),
    ...(opts.force ? { force: true } : {}),
  });

  if (!outcome.ok) {
    if (json) {
      printJson({
        ok: false,
        file: shown(outcome.file),
        problems: outcome.problems.map((p) => problemJson(p)),
      });
      return EXIT_PROBLEMS;
    }
    for (const p of outcome.problems) process.stderr.write(`${formatProblem(p, process.cwd(), err)}\n`);
    const errors = errorsOf(outcome.problems).length;
    process.stderr.write(
      `${err.red('✗')} ${shown(outcome.file)}: ${errors ? plural(errors, 'error') : 'not a plugin spec'}: nothing packed\n`,
    );
    return EXIT_PROBLEMS;
  }

  const a = outcome.artifact;
  if (json) {
    printJson({
      ok: true,
      kind: a.kind,
      name: a.name,
      version: a.version,
      file: shown(a.file),
      bytes: a.bytes,
      sha256: a.sha256,
      index: shown(a.index),
      ...(a.previous ? { previous: a.previous } : {}),
      entry: a.entry,
      ...(a.build ? { build: { ...a.build, executable: shown(a.build.executable) } } : {}),
      warnings: a.warnings.map((p) => problemJson(p)),
    });
    return EXIT_OK;
  }

  for (const p of a.warnings) process.stderr.write(`${formatProblem(p, process.cwd(), err)}\n`);
  const lines: string[] = [];
  if (a.build)
    lines.push(
      `${pc.green('✓')} built ${pc.bold(shown(a.build.executable))} ${pc.dim(`(${formatBytes(a.build.bytes)} in ${a.build.ms} ms)`)}`,
    );
  const again =
    a.previous === 'same'
      ? ' (already packed with these bytes: unchanged)'
      : a.previous === 'replaced'
        ? ' (replaced the earlier bytes of this version: --force)'
        : '';
  lines.push(
    `${pc.green('✓')} packed ${pc.bold(shown(a.file))} ${pc.dim(`(${formatBytes(a.bytes)})${again}`)}`,
    `  sha256 ${a.sha256}`,
    `  index  ${shown(a.index)} ${pc.dim('(for an http provider: upload it beside the artifact)')}`,
    'add to optimus.yaml (plugins.list), after uploading it to an http, gcs or s3 location:',
    `  ${entryLine(a.entry)}`,
  );
  if (a.entry.provider === PROVIDER_PLACEHOLDER)
    lines.push(
      pc.dim(
        `  the url is relative to the provider you upload it to: put that provider's name (plugins.providers) for ${PROVIDER_PLACEHOLDER}, or pack with --url <base> for a full url`,
      ),
    );
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}
