/**
 * `optimus plugin run <dir|spec>`: renders a sample job's run input for the plugin under
 * development exactly as the server would, prints it, and runs the plugin's entrypoint locally
 * with the server's own executor (process, or docker), streaming its output. No server, no store:
 * secrets come from `--secret`, project config from `--global`, the specs of other plugins the job
 * names (a hook's task) from `--plugins`. The work lives in
 * src/authoring/local-run.ts; this module reads flags and prints.
 *
 * Everything the run shows goes to stdout in order (input, a rule, the output, the result), so it
 * reads the same in a pipe; a build's progress goes to stderr. Secret values never appear: they
 * are listed as `****` and masked in files, output and messages.
 */

import type { Command } from 'commander';
import { parseDurationOption } from '../../../authoring/duration.js';
import {
  checkWorkdir,
  executeLocalRun,
  LocalRunProblems,
  type LocalRunResult,
  type PreparedRun,
  prepareLocalRun,
} from '../../../authoring/local-run.js';
import { OptimusError } from '../../../core/errors.js';
import { formatWindowTime } from '../../../core/window-compute.js';
import { type Colors, out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../../errors.js';
import { formatProblem, printJson, problemJson, relativeTo } from '../../output.js';

/** Lines of a file printed before it is cut. */
const FILE_LINES = 40;
/** Characters of a line of a file printed before it is cut. */
const LINE_CHARS = 300;

/** Signals that stop the entrypoint and end the run. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

type Executor = 'process' | 'docker';

interface Settings {
  executor: Executor;
  image?: string;
  network: string;
  /** From --timeout; undefined when it is commander's default (the job's behavior.timeout may apply). */
  timeoutMs?: number;
  defaultTimeoutMs: number;
  workdir?: string;
}

const usage = (message: string, hint: string) =>
  new OptimusError('USAGE', message, { category: 'usage', hint });

const given = (command: Command | undefined, key: string): boolean => {
  const source = command?.getOptionValueSource(key);
  return source !== undefined && source !== 'default';
};

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : undefined;

/** Flags that do not need the plugin, checked before anything is built. */
function settings(opts: Record<string, unknown>, command: Command | undefined): Settings {
  const executor = (opts.executor ?? 'process') as string;
  if (executor !== 'process' && executor !== 'docker')
    throw usage(
      `--executor ${JSON.stringify(executor)} is not an executor`,
      'pass --executor process or --executor docker',
    );
  if (executor === 'process' && typeof opts.image === 'string')
    throw usage('--image applies to the docker executor', 'add --executor docker, or leave out --image');
  if (executor === 'process' && given(command, 'network'))
    throw usage('--network applies to the docker executor', 'add --executor docker, or leave out --network');
  const timeoutText = typeof opts.timeout === 'string' ? opts.timeout : '10m';
  const timeoutMs = parseDurationOption(timeoutText, '--timeout');
  // Checked now: a file given as --workdir is bad usage, said before the input is listed.
  if (typeof opts.workdir === 'string') checkWorkdir(opts.workdir);
  return {
    executor,
    ...(typeof opts.image === 'string' ? { image: opts.image } : {}),
    network: typeof opts.network === 'string' ? opts.network : 'none',
    ...(given(command, 'timeout') ? { timeoutMs } : {}),
    defaultTimeoutMs: timeoutMs,
    ...(typeof opts.workdir === 'string' ? { workdir: opts.workdir } : {}),
  };
}

export async function run({ args, opts, command }: CommandContext): Promise<number> {
  const json = Boolean(opts.json);
  const s = settings(opts, command);
  let prepared: PreparedRun;
  try {
    prepared = await prepareLocalRun({
      target: args[0] ?? '.',
      ...(typeof opts.job === 'string' ? { jobFile: opts.job } : {}),
      ...(typeof opts.scheduledAt === 'string' ? { scheduledAt: opts.scheduledAt } : {}),
      ...optional('set', strings(opts.set)),
      ...optional('secrets', strings(opts.secret)),
      ...optional('globals', strings(opts.global)),
      ...(typeof opts.hook === 'string' ? { hook: opts.hook } : {}),
      ...(typeof opts.plugins === 'string' ? { plugins: opts.plugins } : {}),
      build: opts.build !== false,
      onProgress: (line) => {
        if (!json) process.stderr.write(`${line}\n`);
      },
    });
  } catch (e) {
    if (!(e instanceof LocalRunProblems)) throw e;
    if (json)
      printJson({
        ok: false,
        error: { code: e.code, message: e.message },
        problems: e.problems.map((p) => problemJson(p)),
      });
    else {
      process.stderr.write(`error: ${e.message}\n`);
      for (const p of e.problems) process.stderr.write(`${formatProblem(p)}\n`);
    }
    return EXIT_PROBLEMS;
  }

  const timeoutMs = s.timeoutMs ?? prepared.jobTimeoutMs ?? s.defaultTimeoutMs;
  const image = s.executor === 'docker' && s.image ? s.image : prepared.input.plugin.image;
  if (!json) process.stdout.write(inputText(prepared, image, pc));
  if (opts.renderOnly) {
    if (json) printJson({ ...inputJson(prepared, image), ok: true, result: null });
    return EXIT_OK;
  }

  const controller = new AbortController();
  const stop = () => {
    if (!controller.signal.aborted && !json) process.stderr.write('stopping the entrypoint…\n');
    controller.abort();
  };
  // A closed terminal (SIGHUP) or Ctrl-\ (SIGQUIT) stops the run as Ctrl-C does: the entrypoint
  // runs in a process group of its own, which no signal to this one reaches.
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
  if (!json)
    process.stdout.write(
      `${pc.dim(`── output (${s.executor} executor${s.executor === 'docker' ? `, ${image}, network ${s.network}` : ''}, timeout ${formatMs(timeoutMs)}) ──`)}\n`,
    );
  let result: LocalRunResult;
  try {
    result = await executeLocalRun(prepared, {
      executor: s.executor,
      ...(s.image ? { image: s.image } : {}),
      network: s.network,
      timeoutMs,
      timeoutFrom:
        s.timeoutMs !== undefined
          ? '--timeout'
          : prepared.jobTimeoutMs !== undefined
            ? "the job's behavior.timeout; raise it with --timeout"
            : 'the default; raise it with --timeout',
      ...(s.workdir ? { workdir: s.workdir } : {}),
      signal: controller.signal,
      ...(json
        ? {}
        : {
            onLine: (stream: 'stdout' | 'stderr' | 'system', line: string) => {
              const text =
                stream === 'stdout'
                  ? line
                  : stream === 'stderr'
                    ? `${pc.yellow('[stderr]')} ${line}`
                    : pc.dim(line);
              process.stdout.write(`${text}\n`);
            },
          }),
    });
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, stop);
  }

  if (json) printJson({ ...inputJson(prepared, image), ok: result.succeeded, result: resultJson(result) });
  else process.stdout.write(resultText(result, pc));
  return result.succeeded ? EXIT_OK : EXIT_PROBLEMS;
}

function optional<K extends string>(key: K, value: string[] | undefined): Partial<Record<K, string[]>> {
  return (value ? { [key]: value } : {}) as Partial<Record<K, string[]>>;
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1).replace(/\.?0+$/, '')} s`;
  const m = Math.floor(ms / 60_000);
  const sec = Math.round((ms % 60_000) / 1000);
  return sec ? `${m} min ${sec} s` : `${m} min`;
}

const sorted = (o: Record<string, string>) => Object.keys(o).sort();

/** Control characters (C0 but tab, DEL, C1): shown escaped, so that no byte of a value or file
 *  moves the cursor, clears the screen or changes the terminal's state. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r' };
const escapeControls = (v: string) =>
  v.replace(CONTROL, (ch) => NAMED[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** A value on one line: backslashes, tabs and control characters shown escaped. */
const oneLine = (v: string) => escapeControls(v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t'));

/** Not text: a NUL, or bytes that were no UTF-8 (read as U+FFFD). */
const isBinary = (content: string) => content.includes('\0') || content.includes('\uFFFD');

/** One line of a file as printed: cut at LINE_CHARS (not inside a surrogate pair), controls escaped. */
function fileLine(line: string, c: Colors): string {
  if (line.length <= LINE_CHARS) return escapeControls(line);
  let end = LINE_CHARS;
  const last = line.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${escapeControls(line.slice(0, end))}${c.dim(`… (${line.length - end} more characters)`)}`;
}

/** A file of the input as listed: its size, then its first lines (or why it is not shown). */
function fileText(name: string, content: string, mask: (t: string) => string, c: Colors): string[] {
  const bytes = Buffer.byteLength(content);
  const title = `  in/${escapeControls(name)}`;
  if (isBinary(content)) return [`${title} ${c.dim(`(binary, ${bytes} bytes, not shown)`)}`];
  const lines = [`${title} ${c.dim(`(${bytes} bytes)`)}`];
  const body = mask(content).replace(/\n$/, '').split('\n');
  for (const l of body.slice(0, FILE_LINES)) lines.push(`      ${fileLine(l, c)}`);
  if (body.length > FILE_LINES)
    lines.push(
      c.dim(
        `      … ${body.length - FILE_LINES} more lines (the whole file is in/${escapeControls(name)} of --workdir)`,
      ),
    );
  return lines;
}

/** The rendered input as the author reads it. */
export function inputText(p: PreparedRun, image: string, c: Colors): string {
  const { input, mask } = p;
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`${c.bold(label.padEnd(10))} ${value}`);
  const loc = input.window.location;
  row('plugin', `${p.plugin.name} (${p.project.kind}, ${image})`);
  row('job', `${p.job.name} (${relativeTo(p.jobFile, process.cwd())})`);
  row('node', `${p.node.type} ${p.node.name}`);
  row('scheduled', formatWindowTime(p.scheduledAt, 'UTC'));
  row('window', `${formatWindowTime(input.window.start, loc)} .. ${formatWindowTime(input.window.end, loc)}`);
  lines.push(c.bold('envs'));
  for (const k of sorted(input.envs)) lines.push(`  ${k}=${mask(oneLine(input.envs[k]!))}`);
  lines.push(c.bold('secrets'));
  const secretKeys = sorted(input.secrets);
  if (secretKeys.length === 0) lines.push(c.dim('  (none)'));
  for (const k of secretKeys) lines.push(`  ${k}=****`);
  lines.push(c.bold('files'));
  const files = sorted(input.files);
  if (files.length === 0) lines.push(c.dim('  (none)'));
  for (const name of files) lines.push(...fileText(name, input.files[name]!, mask, c));
  if (input.secretsWithheld.length) row('withheld', input.secretsWithheld.join(', '));
  const warnings = [...p.notes, ...input.warnings.map(mask)];
  for (const w of warnings) lines.push(`${c.yellow('warning')} ${w}`);
  return `${lines.join('\n')}\n`;
}

export function inputJson(p: PreparedRun, image: string): Record<string, unknown> {
  const { input, mask } = p;
  const masked = (o: Record<string, string>) => Object.fromEntries(sorted(o).map((k) => [k, mask(o[k]!)]));
  return {
    ok: true,
    plugin: {
      name: p.plugin.name,
      kind: p.project.kind,
      image,
      dir: relativeTo(p.project.dir, process.cwd()),
    },
    job: { name: p.job.name, file: relativeTo(p.jobFile, process.cwd()) },
    node: p.node,
    scheduled_at: formatWindowTime(p.scheduledAt, 'UTC'),
    window: {
      start: formatWindowTime(input.window.start, input.window.location),
      end: formatWindowTime(input.window.end, input.window.location),
      location: input.window.location,
    },
    envs: masked(input.envs),
    secrets: Object.fromEntries(sorted(input.secrets).map((k) => [k, '****'])),
    files: masked(input.files),
    secrets_withheld: input.secretsWithheld,
    warnings: [...p.notes, ...input.warnings.map(mask)],
  };
}

function kept(o: LocalRunResult['stdout']): string {
  return o.cutBytes
    ? `${o.text}… ${o.cutBytes} more bytes cut (each stream is kept up to 1 MB here; run without --json to see it all)\n`
    : o.text;
}

function resultJson(r: LocalRunResult): Record<string, unknown> {
  return {
    exit_code: r.exitCode,
    succeeded: r.succeeded,
    timed_out: r.timedOut,
    cancelled: r.cancelled,
    ...(r.error ? { error: r.error } : {}),
    duration_ms: r.durationMs,
    stdout: kept(r.stdout),
    stderr: kept(r.stderr),
    ...(r.workDir ? { workdir: r.workDir } : {}),
  };
}

function resultText(r: LocalRunResult, c: Colors): string {
  const lines = [c.dim('──')];
  const after = formatMs(r.durationMs);
  if (r.succeeded) lines.push(c.green(`✓ succeeded in ${after}`));
  else if (r.exitCode !== null && r.error === `exited with code ${r.exitCode}`)
    lines.push(c.red(`✗ exited with code ${r.exitCode} after ${after}`));
  else if (r.timedOut) lines.push(c.red(`✗ ${r.error ?? 'timed out'}`));
  else if (r.cancelled) lines.push(c.red(`✗ cancelled after ${after}`));
  else lines.push(c.red(`✗ ${r.error ?? 'failed'} (after ${after})`));
  if (r.workDir) lines.push(c.dim(`the input is kept in ${relativeTo(r.workDir, process.cwd())}/in`));
  return `${lines.join('\n')}\n`;
}
