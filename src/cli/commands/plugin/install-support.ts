/** Shared by the installer commands: load the plugins section and report its problems. */
import { errorsOf, warningsOf } from '../../../core/problem.js';
import { loadPluginsConfig, type PluginsSection } from '../../../plugins/install/config.js';
import { EXIT_PROBLEMS } from '../../errors.js';
import { formatProblem, printJson, problemJson } from '../../output.js';

/** The section, or the exit code after printing why there is none. */
export function loadSection(
  opts: Record<string, unknown>,
  /** The config file's content when the caller already read it. */
  content?: string,
): { section: PluginsSection; problems: number } | { exit: number } {
  const { section, problems } = loadPluginsConfig(String(opts.config ?? './optimus.yaml'), content);
  const errors = errorsOf(problems);
  if (!section || errors.length) {
    if (opts.json) printJson({ ok: false, problems: problems.map((p) => problemJson(p)) });
    else for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
    return { exit: EXIT_PROBLEMS };
  }
  if (!opts.json) for (const p of warningsOf(problems)) process.stderr.write(`${formatProblem(p)}\n`);
  return { section, problems: problems.length };
}
