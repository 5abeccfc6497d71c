/** `optimus replay list [--job J] [--limit N]`: the project's replays, newest first. */
import { out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { printJson } from '../../output.js';
import { positiveInt, statusTable } from '../job/run-support.js';
import { type ReplaySummaryView, replayTarget } from './replay-support.js';

export async function run({ opts }: CommandContext): Promise<number> {
  const limit = opts.limit === undefined ? 20 : positiveInt(opts.limit, '--limit', 1000);
  const target = replayTarget(opts);
  const job = typeof opts.job === 'string' ? opts.job : undefined;
  const query = `?limit=${limit}${job ? `&job=${encodeURIComponent(job)}` : ''}`;
  const { replays } = await target.client.get<{ replays: ReplaySummaryView[] }>(
    `${target.replaysPath}${query}`,
  );
  if (opts.json) {
    printJson({ ok: true, project: target.project, replays });
    return 0;
  }
  if (!replays.length) {
    const example = `optimus replay ${job ?? '<job>'} --from 2026-03-01 --to 2026-03-07${target.flags}`;
    process.stdout.write(`no replays${job ? ` of job ${job}` : ''} yet\n${pc.dim(`next: ${example}`)}\n`);
    return 0;
  }
  const rows = replays.map((r) => [
    String(r.id),
    r.job,
    `${r.from.replace(/:00\.000Z$/, 'Z')} → ${r.to.replace(/:00\.000Z$/, 'Z').replace(/T23:59:59\.999Z$/, '')}`,
    r.status,
    `${r.counts.succeeded}/${r.counts.total}`,
    r.created_at.slice(0, 19).replace('T', ' '),
  ]);
  const lines = statusTable(
    ['REPLAY', 'JOB', 'RANGE', 'STATUS', 'SUCCEEDED', 'CREATED (UTC)'],
    rows,
    replays,
    pc,
  );
  lines.push(pc.dim(`next: optimus replay status ${replays[0]!.id}${target.flags}`));
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
