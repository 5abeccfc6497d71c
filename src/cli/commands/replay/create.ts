/**
 * `optimus replay <job> --from D --to D [--downstream] [--parallel] [--wait]`: run the job again
 * for every scheduled time in the range (and, with --downstream, every job downstream of it, in
 * dependency order). Prints the plan and the replay's id; --wait follows it to its end.
 */
import { OptimusError } from '../../../core/errors.js';
import { parseReplayTime } from '../../../services/replay.js';
import { out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { printJson } from '../../output.js';
import { follow, planLines, type ReplayView, replayHeadline, replayTarget } from './replay-support.js';

function bound(opts: Record<string, unknown>, end: 'from' | 'to', job: string): string {
  const value = opts[end];
  const example = `optimus replay ${job} --from 2026-03-01 --to 2026-03-07`;
  if (value === undefined) {
    throw new OptimusError('OPTION_MISSING', `optimus replay needs --${end} <date>`, {
      category: 'usage',
      hint: `give the range of scheduled times to run again, both ends inclusive: \`${example}\``,
    });
  }
  const text = String(value);
  const date = parseReplayTime(text, end);
  if (!date) {
    throw new OptimusError('OPTION_INVALID', `--${end} ${JSON.stringify(text)} is not a date or a time`, {
      category: 'usage',
      hint: 'write a date (2026-03-01, a whole day in UTC) or an RFC 3339 time (2026-03-01T02:00:00Z, or with its zone)',
    });
  }
  return text.trim();
}

export async function run({ args, opts }: CommandContext): Promise<number> {
  const job = args[0]!;
  const from = bound(opts, 'from', job);
  const to = bound(opts, 'to', job);
  if (parseReplayTime(from, 'from')! > parseReplayTime(to, 'to')!) {
    throw new OptimusError('OPTION_INVALID', `--from ${from} is after --to ${to}`, {
      category: 'usage',
      hint: 'give --from before --to (both are inclusive)',
    });
  }
  const target = replayTarget(opts);
  const { replay } = await target.client.post<{ replay: ReplayView }>(target.replaysPath, {
    job,
    from,
    to,
    downstream: opts.downstream === true,
    parallel: opts.parallel === true,
  });
  const json = opts.json === true;
  if (!opts.wait) {
    if (json) {
      printJson({ ok: true, replay });
      return 0;
    }
  }
  if (!json) {
    const runs = replay.counts.total;
    process.stdout.write(
      [
        `replay ${pc.bold(String(replay.id))} of ${job}: ${runs} run${runs === 1 ? '' : 's'} over ${replay.jobs.length} job${replay.jobs.length === 1 ? '' : 's'}, in this order`,
        ...planLines(replay, pc),
        '',
      ].join('\n'),
    );
    if (!opts.wait) {
      process.stdout.write(
        `${replayHeadline(replay, pc)}\n${pc.dim(`next: optimus replay status ${replay.id} --watch${target.flags}`)}\n`,
      );
      return 0;
    }
  }
  return follow(target, replay, json, pc);
}
