/**
 * `optimus job retry <job> <run-id> [--node N]…`: run a finished run's failed nodes again (all of
 * them, or the named ones) with what did not succeed downstream of them; succeeded nodes keep
 * their result. The server's runner starts them at once.
 */

import { OptimusError } from '../../../core/errors.js';
import { out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { nextFlags, printJson } from '../../output.js';
import { nodeLines, type RunView, runHeadline, runTarget } from './run-support.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const job = args[0]!;
  const id = runId(args[1]!, job);
  const nodes = opts.node === undefined ? undefined : ([] as string[]).concat(opts.node as string | string[]);
  const target = runTarget(opts);
  const { run } = await target.client.post<{ run: RunView }>(
    `${target.runsPath(job)}/${id}/retry`,
    nodes ? { nodes } : {},
  );
  if (opts.json) {
    printJson({ ok: true, run });
    return 0;
  }
  const flags = `${opts.projectName ? ` --project-name ${opts.projectName}` : ''}${nextFlags(opts)}`;
  const again = run.nodes.filter((n) => n.status === 'pending' || n.status === 'queued').map((n) => n.name);
  process.stdout.write(`${runHeadline(run, pc)}\n`);
  if (again.length) process.stdout.write(`${pc.dim(`running again: ${again.join(', ')}`)}\n`);
  process.stdout.write(`${nodeLines(run, pc).join('\n')}\n`);
  process.stdout.write(`${pc.dim(`next: optimus job logs ${job} --run ${run.id} --follow${flags}`)}\n`);
  return 0;
}

function runId(text: string, job: string): number {
  const n = Number(text);
  if (/^[1-9][0-9]*$/.test(text) && Number.isSafeInteger(n)) return n;
  throw new OptimusError('OPTION_INVALID', `run id ${JSON.stringify(text)} is not a whole number from 1 up`, {
    category: 'usage',
    hint: `find the run with \`optimus job runs ${job}\``,
  });
}
