import { OptimusError } from '../../../core/errors.js';
import { errorsOf, sortProblems, warningsOf } from '../../../core/problem.js';
import { suggest, validateProject } from '../../../services/validate-project.js';
import { err, out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { EXIT_OK, EXIT_PROBLEMS, projectExitCode } from '../../errors.js';
import { formatProblem, printJson, problemJson } from '../../output.js';
import { explainForServer, resolvePluginSource, sourceJson } from '../../plugin-source.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const name = args[0]!;
  const source = await resolvePluginSource(opts);
  const report = validateProject({
    dir: String(opts.dir ?? '.'),
    ...(source ? { pluginsDir: source.dir } : {}),
  });
  const served = [...report.plugins.plugins.keys()];
  for (const problems of [report.problems, ...report.jobs.map((j) => j.problems)])
    explainForServer(problems, source, served);
  if (source?.kind === 'server' && source.note && !opts.json)
    process.stderr.write(`${err.yellow('note')} ${source.note}\n`);
  const job = report.jobs.find((j) => j.name === name);
  const blocking = errorsOf(report.problems).filter(
    (p) => !p.code.startsWith('PLUGIN_') && p.code !== 'FILE_UNREADABLE',
  );
  if (!job) {
    if (blocking.length)
      return printFailure(opts, blocking, name, projectExitCode(report.problems, blocking.length));
    throw new OptimusError('JOB_NOT_FOUND', `job "${name}" is not in any namespace of the project`, {
      category: 'not_found',
      hint: suggest(
        name,
        report.jobs.map((j) => j.name),
      ),
    });
  }
  const errors = errorsOf(job.problems);
  if (errors.length || !job.nodes.length) return printFailure(opts, job.problems, name, EXIT_PROBLEMS);
  const warnings = warningsOf(job.problems);
  if (opts.json) {
    printJson({
      ok: true,
      job: job.name,
      plugin_source: sourceJson(source),
      nodes: job.nodes.map((n) => ({ name: n.name, type: n.type, stage: n.stage, depends_on: n.dependsOn })),
      warnings: warnings.map((p) => problemJson(p)),
    });
    return EXIT_OK;
  }
  const w = Math.max(...job.nodes.map((n) => n.name.length));
  const lines = [`${pc.bold(job.name)} ${pc.dim(`(${job.namespace})`)}`];
  job.nodes.forEach((n, i) => {
    const stage = n.stage === 'task' ? pc.cyan('task') : n.stage === 'fail' ? pc.red('fail') : n.stage;
    const plugin = n.type === n.name ? '' : pc.dim(` (${n.type})`);
    const after = n.dependsOn.length ? pc.dim(` ← ${n.dependsOn.join(', ')}`) : '';
    lines.push(
      `  ${String(i + 1).padStart(2)}. ${stage.padEnd(n.stage === 'task' ? 4 : 4)} ${n.name.padEnd(w)}${plugin}${after}`,
    );
  });
  for (const p of warnings) lines.push(`  ${formatProblem(p)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}

function printFailure(
  opts: Record<string, unknown>,
  problems: Parameters<typeof sortProblems>[0],
  name: string,
  exit: number,
): number {
  if (opts.json) {
    printJson({
      ok: false,
      job: name,
      nodes: [],
      errors: errorsOf(problems).map((p) => problemJson(p)),
      warnings: warningsOf(problems).map((p) => problemJson(p)),
    });
  } else {
    process.stdout.write(`cannot build the run graph of ${pc.bold(name)}:\n`);
    for (const p of sortProblems([...problems])) process.stdout.write(`  ${formatProblem(p)}\n`);
  }
  return exit;
}
