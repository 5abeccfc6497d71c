/** `optimus replay status <id> [--watch]`: a replay's progress, per job and window; --watch follows it to its end. */
import { out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { printJson } from '../../output.js';
import {
  follow,
  gridLines,
  type ReplayView,
  replayHeadline,
  replayId,
  replayTarget,
} from './replay-support.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const id = replayId(args[0]);
  const target = replayTarget(opts);
  const { replay } = await target.client.get<{ replay: ReplayView }>(`${target.replaysPath}/${id}`);
  if (opts.watch) return follow(target, replay, opts.json === true, pc);
  if (opts.json) {
    printJson({ ok: true, replay });
    return 0;
  }
  const lines = [replayHeadline(replay, pc), ...gridLines(replay, pc, process.stdout.columns ?? 80)];
  if (!replay.over) lines.push(pc.dim(`next: optimus replay status ${id} --watch${target.flags}`));
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
