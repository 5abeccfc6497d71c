/**
 * `optimus job validate [jobs...]`: every job (or the named ones) against the plugin specs that
 * resolvePluginSource picks: local plugins when the user chose them, else the server's. Jobs whose
 * files and context are unchanged since their last clean check come from the validation cache
 * (`--no-cache` checks every job); the output is the same either way.
 */
import { errorsOf, sortProblems, warningsOf } from '../../../core/problem.js';
import { validateProject } from '../../../services/validate-project.js';
import { err, out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { projectExitCode } from '../../errors.js';
import { formatProblem, nextFlags, plural, printJson, problemJson, relativeTo } from '../../output.js';
import { describeSource, explainForServer, resolvePluginSource, sourceJson } from '../../plugin-source.js';
import { openValidationCache } from '../../validate-cache.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const source = await resolvePluginSource(opts);
  const dir = String(opts.dir ?? '.');
  const cache = opts.cache === false ? undefined : openValidationCache(dir);
  const report = validateProject({
    dir,
    ...(source ? { pluginsDir: source.dir } : {}),
    only: args,
    ...(cache ? { cache } : {}),
  });
  cache?.save();
  const served = [...report.plugins.plugins.keys()];
  for (const problems of [report.problems, ...report.jobs.map((j) => j.problems)])
    explainForServer(problems, source, served);
  if (source?.kind === 'server' && source.note && !opts.json)
    process.stderr.write(`${err.yellow('note')} ${source.note}\n`);
  const all = [...report.problems, ...report.jobs.flatMap((j) => j.problems)];
  const errors = errorsOf(all).length;
  const warnings = warningsOf(all).length;
  const invalid = report.jobs.filter((j) => errorsOf(j.problems).length > 0).length;
  const exit = projectExitCode(report.problems, errors);
  if (opts.json) {
    printJson({
      ok: errors === 0,
      project: report.config?.project.name ?? null,
      plugin_source: sourceJson(source),
      summary: {
        jobs: report.jobs.length,
        invalid_jobs: invalid,
        plugins: report.plugins.plugins.size,
        errors,
        warnings,
      },
      problems: report.problems.map((p) => problemJson(p)),
      jobs: report.jobs.map((j) => ({
        name: j.name,
        namespace: j.namespace,
        file: relativeTo(j.file, process.cwd()),
        valid: errorsOf(j.problems).length === 0,
        errors: errorsOf(j.problems).map((p) => problemJson(p)),
        warnings: warningsOf(j.problems).map((p) => problemJson(p)),
      })),
    });
    return exit;
  }
  const out: string[] = [];
  for (const p of sortProblems([...report.problems])) out.push(formatProblem(p));
  for (const j of report.jobs) {
    if (!j.problems.length) continue;
    const bad = errorsOf(j.problems).length > 0;
    out.push(`${bad ? pc.red('✗') : pc.yellow('!')} ${pc.bold(j.name)} ${pc.dim(`(${j.namespace})`)}`);
    for (const p of sortProblems([...j.problems])) out.push(`    ${formatProblem(p)}`);
  }
  const status = errors ? pc.red('failed') : pc.green('ok');
  out.push(
    `${status}: ${plural(report.jobs.length, 'job')} in ${plural(report.config?.namespaces.length ?? 0, 'namespace')} checked against ${plural(report.plugins.plugins.size, 'plugin')}${describeSource(source)}; ${plural(invalid, 'invalid job')}, ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`,
  );
  const first = report.jobs[0];
  if (!errors && first)
    out.push(pc.dim(`next: \`optimus job graph ${first.name}${nextFlags(opts)}\` shows its run order`));
  process.stdout.write(`${out.join('\n')}\n`);
  return exit;
}
