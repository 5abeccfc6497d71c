/**
 * `optimus plugin test <dir> [--job F] [--plugins D] [--handshake-timeout DUR] [--no-build] [--json]`:
 * a plugin author's checks (src/authoring/plugin-test.ts), one line each: `✓ name  detail`, `✗ name
 * what failed` with an indented `fix:` line, `- name  why skipped`; then a summary. Exit 1 when a
 * check fails, 2 when the folder is no plugin project or an option is malformed (a --plugins spec
 * with errors included).
 */

import { existsSync } from 'node:fs';
import { parseDurationOption } from '../../../authoring/duration.js';
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  type PluginCheck,
  testPlugin,
} from '../../../authoring/plugin-test.js';
import { OptimusError } from '../../../core/errors.js';
import { out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../../errors.js';
import { printJson } from '../../output.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const target = args[0] ?? '.';
  const handshakeTimeoutMs = timeoutOption(opts.handshakeTimeout);
  const job = typeof opts.job === 'string' ? opts.job : undefined;
  if (job !== undefined && !existsSync(job))
    throw new OptimusError('SAMPLE_JOB_NOT_FOUND', `--job ${job} does not exist`, {
      category: 'usage',
      hint: 'pass the job.yaml of a job that uses the plugin (relative to the working directory)',
    });

  const report = await testPlugin(target, {
    ...(job ? { job } : {}),
    ...(typeof opts.plugins === 'string' ? { plugins: opts.plugins } : {}),
    handshakeTimeoutMs,
    ...(opts.build === false ? { build: false } : {}),
  });
  if (opts.json) {
    printJson({ ok: report.ok, plugin: report.plugin, kind: report.kind, checks: report.checks });
    return report.ok ? EXIT_OK : EXIT_PROBLEMS;
  }
  // Aligned on the fixed checks' names; a tests case's longer name just pushes its own line.
  const width = Math.max(...report.checks.map((c) => c.name.length).filter((n) => n <= 14), 0);
  for (const c of report.checks) process.stdout.write(checkLines(c, width));
  const failed = report.checks.filter((c) => !c.ok).length;
  const skipped = report.checks.filter((c) => c.skipped).length;
  const passed = report.checks.length - failed - skipped;
  const summary = `plugin ${report.plugin}: ${passed} passed, ${failed} failed, ${skipped} skipped`;
  process.stdout.write(`\n${failed ? pc.red(summary) : pc.green(summary)}\n`);
  return report.ok ? EXIT_OK : EXIT_PROBLEMS;
}

function checkLines(c: PluginCheck, width: number): string {
  const mark = c.skipped ? pc.dim('-') : c.ok ? pc.green('✓') : pc.red('✗');
  const name = c.name.length > width ? c.name : c.name.padEnd(width);
  const message = c.skipped ? pc.dim(c.message) : c.message;
  let text = `${mark} ${pc.bold(name)}  ${message}\n`;
  for (const d of c.details ?? []) text += `    ${d}\n`;
  if (c.fix) text += `    ${pc.yellow('fix:')} ${c.fix}\n`;
  return text;
}

/** `--handshake-timeout 10s`: a Go duration (`500ms`, `10s`, `1m30s`); anything else is bad usage. */
function timeoutOption(value: unknown): number {
  if (value === undefined) return DEFAULT_HANDSHAKE_TIMEOUT_MS;
  return parseDurationOption(String(value), '--handshake-timeout');
}
