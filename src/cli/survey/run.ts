/** What the survey commands share: starting a survey from the flags, and reporting what it left. */

import { err, out as pc } from '../colors.js';
import type { AnswerSet } from './answers.js';
import type { PluginConfig } from './plugin-config.js';
import { terminalPrompter } from './prompter.js';
import { createSurvey, type Survey } from './survey.js';

/**
 * Asks on the terminal only when stdin is one and `--yes` is not given; otherwise answers come
 * from flags and defaults, and anything missing is an error (a closed stdin must never hang).
 */
export function startSurvey(opts: Record<string, unknown>, answers: AnswerSet): Survey {
  const interactive = Boolean(process.stdin.isTTY) && !opts.yes;
  return createSurvey({
    answers,
    interactive,
    ...(interactive ? { prompter: terminalPrompter({ toStderr: Boolean(opts.json) }) } : {}),
  });
}

export function surveyReport(
  survey: Survey,
  config: PluginConfig,
  /** Flags the printed commands repeat (see nextFlags), so they act on the same project. */
  flags = '',
): { lines: string[]; json: Record<string, unknown> } {
  const unused = survey.unused();
  for (const name of unused)
    process.stderr.write(`${err.yellow('warning')} answer ${name} matches no question asked; ignored\n`);
  const lines: string[] = [];
  for (const p of config.placeholders)
    lines.push(
      `${pc.yellow('to fill in')}: ${p.key} (${p.description}) is empty; the job fails validation until it is set`,
    );
  for (const s of config.secrets)
    lines.push(
      `secret ${s} is referenced as {{ .secret.${s} }}: store it with \`optimus secret set ${s}${flags}\``,
    );
  for (const w of config.warnings) lines.push(`${pc.yellow('warning')} ${w.message}`);
  return {
    lines,
    json: {
      placeholders: config.placeholders.map((p) => p.key),
      secrets: config.secrets,
      warnings: config.warnings.map((w) => w.message),
      ignored_answers: unused,
    },
  };
}
