/** `optimus replay cancel <id>`: end a running replay; its queued and running runs are cancelled, nothing more is created. */
import { out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { printJson } from '../../output.js';
import { type ReplayView, replayHeadline, replayId, replayTarget } from './replay-support.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const id = replayId(args[0]);
  const target = replayTarget(opts);
  const { replay } = await target.client.post<{ replay: ReplayView }>(`${target.replaysPath}/${id}/cancel`);
  if (opts.json) {
    printJson({ ok: true, replay });
    return 0;
  }
  const stopping = replay.items.filter((i) => i.state === 'running' || i.state === 'queued');
  process.stdout.write(`${replayHeadline(replay, pc)}\n`);
  if (stopping.length)
    process.stdout.write(`${pc.dim(`stopping runs: ${stopping.map((i) => i.run_id).join(', ')}`)}\n`);
  return 0;
}
