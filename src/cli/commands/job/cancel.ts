/** `optimus job cancel <job> --run ID`: stop a run; nodes that run are stopped by the server's runner. */
import { OptimusError } from '../../../core/errors.js';
import { out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { printJson } from '../../output.js';
import { positiveInt, type RunView, runHeadline, runTarget } from './run-support.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const job = args[0]!;
  if (opts.run === undefined) {
    throw new OptimusError('RUN_REQUIRED', `optimus job cancel needs --run <id>`, {
      category: 'usage',
      hint: `find the run with \`optimus job runs ${job}\``,
    });
  }
  const id = positiveInt(opts.run, '--run');
  const target = runTarget(opts);
  const { run } = await target.client.post<{ run: RunView }>(`${target.runsPath(job)}/${id}/cancel`);
  if (opts.json) {
    printJson({ ok: true, run });
    return 0;
  }
  const stopping = run.nodes.filter((n) => n.status === 'running').map((n) => n.name);
  process.stdout.write(`${runHeadline(run, pc)}\n`);
  if (stopping.length) process.stdout.write(`${pc.dim(`stopping: ${stopping.join(', ')}`)}\n`);
  return 0;
}
