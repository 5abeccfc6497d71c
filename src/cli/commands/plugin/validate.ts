import { errorsOf, warningsOf } from '../../../core/problem.js';
import { loadPluginSet } from '../../../spec/plugin-spec.js';
import { out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../../errors.js';
import { formatProblem, plural, printJson, problemJson, relativeTo } from '../../output.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const set = loadPluginSet(args);
  const results = set.results.map((r) => ({
    file: relativeTo(r.file, process.cwd()),
    name: r.plugin?.name ?? null,
    dialect: r.dialect ?? null,
    valid: errorsOf(r.problems).length === 0 && !!r.plugin,
    errors: errorsOf(r.problems).map((p) => problemJson(p)),
    warnings: warningsOf(r.problems).map((p) => problemJson(p)),
  }));
  // Problems not tied to one file's spec (missing paths, name collisions).
  const perFile = new Set(set.results.flatMap((r) => r.problems));
  const other = set.problems.filter((p) => !perFile.has(p));
  const errorCount = errorsOf(set.problems).length;
  if (opts.json) {
    printJson({ ok: errorCount === 0, plugins: results, problems: other.map((p) => problemJson(p)) });
    return errorCount ? EXIT_PROBLEMS : EXIT_OK;
  }
  for (const r of set.results) {
    const ok = errorsOf(r.problems).length === 0 && r.plugin;
    const label = r.plugin
      ? `${r.plugin.name} ${pc.dim(`(${r.dialect})`)}`
      : pc.dim(r.dialect ? `(${r.dialect}, invalid)` : '(invalid)');
    process.stdout.write(
      `${ok ? pc.green('✓') : pc.red('✗')} ${relativeTo(r.file, process.cwd())}  ${label}\n`,
    );
    for (const p of r.problems) process.stdout.write(`    ${formatProblem(p)}\n`);
  }
  for (const p of other) process.stdout.write(`${formatProblem(p)}\n`);
  const warnCount = warningsOf(set.problems).length;
  process.stdout.write(
    `${plural(set.results.length, 'plugin')} checked: ${plural(errorCount, 'error')}, ${plural(warnCount, 'warning')}\n`,
  );
  return errorCount ? EXIT_PROBLEMS : EXIT_OK;
}
