/**
 * `optimus job run <job> [--scheduled-at T] [--wait]`: trigger a run on the server. With --wait,
 * follow it to the end: on a terminal a progress list redrawn in place, otherwise one line per
 * change; the exit code says whether it succeeded. Ctrl-C stops the waiting, never the run.
 */
import { OptimusError } from '../../../core/errors.js';
import { out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { nextFlags, printJson } from '../../output.js';
import {
  EXIT_INTERRUPTED,
  interruptible,
  nodeChanges,
  nodeLines,
  POLL_MS,
  parseScheduledAt,
  type RunTarget,
  type RunView,
  runHeadline,
  runTarget,
  sleep,
} from './run-support.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const job = args[0]!;
  const scheduledAt = opts.scheduledAt === undefined ? undefined : parseScheduledAt(String(opts.scheduledAt));
  const target = runTarget(opts);
  const { run: created } = await target.client.post<{ run: RunView }>(
    target.runsPath(job),
    scheduledAt ? { scheduled_at: scheduledAt.toISOString() } : {},
  );
  const flags = `${opts.projectName ? ` --project-name ${opts.projectName}` : ''}${nextFlags(opts)}`;
  if (!opts.wait) {
    if (opts.json) printJson({ ok: true, run: created });
    else
      process.stdout.write(
        `${runHeadline(created, pc)}\n${pc.dim(`next: optimus job logs ${job} --run ${created.id} --follow${flags}`)}\n`,
      );
    return 0;
  }
  const json = opts.json === true;
  const live = !json && process.stdout.isTTY === true;
  const view = live ? liveView() : json ? () => {} : lineView();
  const stop = interruptible();
  let current = created;
  view(current);
  try {
    while (!current.over) {
      await sleep(POLL_MS, stop.signal);
      if (stop.signal.aborted) break;
      current = await poll(target, job, current.id);
      view(current);
    }
  } finally {
    stop.dispose();
  }

  if (!current.over) {
    const cancel = `optimus job cancel ${job} --run ${current.id}${flags}`;
    if (json) {
      printJson({
        ok: false,
        error: {
          code: 'WAIT_INTERRUPTED',
          message: `stopped waiting; run ${current.id} goes on`,
          hint: `cancel it with \`${cancel}\``,
        },
        run: current,
      });
    } else {
      process.stderr.write(
        `stopped waiting; run ${current.id} goes on\nhint: cancel it with \`${cancel}\`\n`,
      );
    }
    return EXIT_INTERRUPTED;
  }
  const ok = current.status === 'succeeded';
  const logs = `optimus job logs ${job} --run ${current.id}${flags}`;
  if (json) {
    printJson(
      ok
        ? { ok, run: current }
        : {
            ok,
            error: {
              code: current.status === 'cancelled' ? 'RUN_CANCELLED' : 'RUN_FAILED',
              message: `run ${current.id} of ${job} ${current.status}`,
              hint: `see its output with \`${logs}\``,
            },
            run: current,
          },
    );
  } else if (!ok) {
    process.stderr.write(`hint: see its output with \`${logs}\`\n`);
  }
  return ok ? 0 : 1;
}

/** Polls survive a server that restarts meanwhile (a few seconds of refused connections). */
async function poll(target: RunTarget, job: string, id: number): Promise<RunView> {
  for (let failures = 0; ; failures++) {
    try {
      return (await target.client.get<{ run: RunView }>(`${target.runsPath(job)}/${id}`)).run;
    } catch (e) {
      if (!(e instanceof OptimusError) || e.category !== 'io' || failures >= 20) throw e;
      await sleep(POLL_MS * 2);
    }
  }
}

/** A terminal: the run's headline and one line per node, redrawn in place. */
function liveView(): (run: RunView) => void {
  let drawn = 0;
  return (run) => {
    const width = Math.max(20, (process.stdout.columns ?? 80) - 1);
    const lines = [runHeadline(run, pc), ...nodeLines(run, pc)].map((l) => fitWidth(l, width));
    // Back to the first line drawn last time, clear from there down, draw again.
    const up = drawn ? `\u001b[${drawn}F\u001b[J` : '';
    process.stdout.write(`${up}${lines.join('\n')}\n`);
    drawn = lines.length;
  };
}

/** Not a terminal: the headline once, then a timestamped line per node change and the end. */
function lineView(): (run: RunView) => void {
  let last: RunView | undefined;
  return (run) => {
    const stamp = new Date().toISOString().slice(11, 19);
    if (!last) process.stdout.write(`${runHeadline(run, pc)}\n`);
    for (const line of nodeChanges(last, run)) process.stdout.write(`${pc.dim(stamp)} ${line}\n`);
    if (last && run.over) process.stdout.write(`${runHeadline(run, pc)}\n`);
    last = run;
  };
}

/** Cut a line to `width` visible characters, keeping escape codes whole (a wrapped line breaks the redraw). */
function fitWidth(line: string, width: number): string {
  let visible = 0;
  let i = 0;
  while (i < line.length) {
    if (line[i] === '\u001b') {
      const end = line.indexOf('m', i);
      i = end < 0 ? line.length : end + 1;
      continue;
    }
    if (visible === width) return `${line.slice(0, i)}${line.includes('\u001b') ? '\u001b[0m' : ''}`;
    visible++;
    i += line.codePointAt(i)! > 0xffff ? 2 : 1;
  }
  return line;
}
