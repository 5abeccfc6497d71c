/**
 * `optimus job logs <job> [--run ID] [--node NAME] [--follow]`: a run's captured output (the latest
 * run unless --run says), each line prefixed with its time and node. --follow keeps reading until
 * the run is over.
 */
import { err, out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { printJson } from '../../output.js';
import {
  type LogLine,
  type LogsPage,
  latestRun,
  POLL_MS,
  positiveInt,
  type RunView,
  runHeadline,
  runTarget,
  sleep,
} from './run-support.js';

const PAGE = 1000;

export async function run({ args, opts }: CommandContext): Promise<number> {
  const job = args[0]!;
  const id = opts.run === undefined ? undefined : positiveInt(opts.run, '--run');
  const node = typeof opts.node === 'string' ? opts.node : undefined;
  const follow = opts.follow === true;
  const json = opts.json === true;
  const target = runTarget(opts);
  const run =
    id === undefined
      ? await latestRun(target, job)
      : (await target.client.get<{ run: RunView }>(`${target.runsPath(job)}/${id}`)).run;
  if (!json) process.stderr.write(`${runHeadline(run, err)}\n`);

  const width = Math.max(...run.nodes.filter((n) => !node || n.name === node).map((n) => n.name.length), 4);
  const collected: LogLine[] = [];
  let after = 0;
  let page: LogsPage;
  for (;;) {
    const query = new URLSearchParams({ after: String(after), limit: String(PAGE) });
    if (node !== undefined) query.set('node', node);
    page = await target.client.get<LogsPage>(`${target.runsPath(job)}/${run.id}/logs?${query}`);
    after = page.next_after;
    if (json) collected.push(...page.lines);
    else if (page.lines.length)
      process.stdout.write(`${page.lines.map((l) => formatLine(l, width)).join('\n')}\n`);
    if (page.finished) break;
    if (page.lines.length < PAGE) {
      if (!follow) break;
      await sleep(POLL_MS);
    }
  }
  if (json) {
    printJson({
      ok: true,
      run: run.id,
      run_status: page.run_status,
      finished: page.finished,
      lines: collected,
    });
  } else if (follow) {
    const end = await target.client.get<{ run: RunView }>(`${target.runsPath(job)}/${run.id}`);
    process.stderr.write(`${runHeadline(end.run, err)}\n`);
  }
  return 0;
}

const STREAM_COLOUR = { stdout: pc.cyan, stderr: pc.red, system: pc.yellow } as const;

/** `06:00:01.234 check-source │ the line`; stderr and the runner's own lines stand out on a terminal. */
function formatLine(l: LogLine, width: number): string {
  const label = `${l.node}${l.attempt > 1 ? `#${l.attempt}` : ''}`.padEnd(width);
  const text = l.stream === 'system' ? pc.yellow(l.line) : l.line;
  return `${pc.dim(l.at.slice(11, 23))} ${STREAM_COLOUR[l.stream](label)} ${pc.dim('│')} ${text}`;
}
