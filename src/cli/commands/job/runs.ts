/** `optimus job runs <job> [--limit N]`: the job's latest runs, newest first, each with its nodes. */
import { out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { nextFlags, printJson } from '../../output.js';
import {
  formatDuration,
  nodeLines,
  positiveInt,
  type RunView,
  runTarget,
  statusTable,
} from './run-support.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const job = args[0]!;
  const limit = opts.limit === undefined ? 20 : positiveInt(opts.limit, '--limit', 1000);
  const target = runTarget(opts);
  const { runs } = await target.client.get<{ runs: RunView[] }>(`${target.runsPath(job)}?limit=${limit}`);
  if (opts.json) {
    printJson({ ok: true, project: target.project, job, runs });
    return 0;
  }
  const flags = `${opts.projectName ? ` --project-name ${opts.projectName}` : ''}${nextFlags(opts)}`;
  if (!runs.length) {
    process.stdout.write(`job ${job} has no runs yet\n${pc.dim(`next: optimus job run ${job}${flags}`)}\n`);
    return 0;
  }
  const rows = runs.map((r) => [
    String(r.id),
    r.scheduled_at.replace('.000Z', 'Z'),
    r.trigger,
    r.status.replace('_', ' '),
    formatDuration(r.duration_ms),
  ]);
  const lines = statusTable(['RUN', 'SCHEDULED AT', 'TRIGGER', 'STATUS', 'DURATION'], rows, runs, pc, (k) =>
    nodeLines(runs[k]!, pc, '    '),
  );
  const newest = runs[0]!;
  const failed = newest.over && (newest.status === 'failed' || newest.status === 'cancelled');
  lines.push(
    pc.dim(
      failed
        ? `next: optimus job logs ${job} --run ${newest.id}${flags}, then optimus job retry ${job} ${newest.id}${flags}`
        : `next: optimus job logs ${job} --run ${newest.id}${flags}`,
    ),
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
