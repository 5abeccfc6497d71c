import pc from 'picocolors';
import { OptimusError } from '../../../core/errors.js';
import { errorsOf, sortProblems, warningsOf } from '../../../core/problem.js';
import { validateProject } from '../../../services/validate-project.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfigIfAny, serverClient } from '../../context.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../../errors.js';
import { formatProblem, plural, printJson, problemJson, relativeTo } from '../../output.js';
import { hasPluginCache, pluginCacheDir } from '../../plugin-cache.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const report = validateProject({
    dir: String(opts.dir ?? '.'),
    ...(opts.plugins
      ? { pluginsDir: String(opts.plugins) }
      : opts.server
        ? { pluginsDir: serverCache(opts) }
        : {}),
    only: args,
  });
  const all = [...report.problems, ...report.jobs.flatMap((j) => j.problems)];
  const errors = errorsOf(all).length;
  const warnings = warningsOf(all).length;
  const invalid = report.jobs.filter((j) => errorsOf(j.problems).length > 0).length;
  if (opts.json) {
    printJson({
      ok: errors === 0,
      project: report.config?.project.name ?? null,
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
    return errors ? EXIT_PROBLEMS : EXIT_OK;
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
    `${status}: ${plural(report.jobs.length, 'job')} in ${plural(report.config?.namespaces.length ?? 0, 'namespace')} checked against ${plural(report.plugins.plugins.size, 'plugin')}; ${plural(invalid, 'invalid job')}, ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`,
  );
  if (!errors && report.jobs.length)
    out.push(pc.dim('next: `optimus job graph <job>` shows a job’s run order'));
  process.stdout.write(`${out.join('\n')}\n`);
  return errors ? EXIT_PROBLEMS : EXIT_OK;
}

/** The plugin cache of the project's server; `optimus plugin sync` fills it. */
function serverCache(opts: Record<string, unknown>): string {
  const { baseUrl } = serverClient(opts, projectConfigIfAny(opts));
  if (!hasPluginCache(baseUrl)) {
    throw new OptimusError('PLUGIN_CACHE_MISSING', `no cached plugin specs for ${baseUrl}`, {
      category: 'usage',
      hint: 'run `optimus plugin sync` once while the server is reachable',
    });
  }
  return pluginCacheDir(baseUrl);
}
