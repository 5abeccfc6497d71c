/**
 * `optimus job run-input <job> --scheduled-at T --type task|hook --name N --output-dir D`: fetch
 * what one node of a deployed job receives at a scheduled time and write it as a container sees
 * it: `D/in/<assets>`, `D/in/.env` and `D/in/.secret` (`KEY='value'` lines that `sh` sources).
 * Upstream's init container runs the same command with `--project-name` and `--host`, no project.
 */
import { resolve } from 'node:path';
import { OptimusError } from '../../../core/errors.js';
import { normaliseInstanceType, parseRfc3339, writeRunInput } from '../../../services/run-input.js';
import { seg } from '../../api-client.js';
import { err as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfigIfAny, serverClient } from '../../context.js';
import { plural, printJson } from '../../output.js';

interface RunInputAnswer {
  envs: Record<string, string>;
  files: Record<string, string>;
  secrets: Record<string, string>;
  secrets_withheld: string[];
  warnings: string[];
}

const usage = (message: string, hint: string) =>
  new OptimusError('USAGE', message, { category: 'usage', hint });

export async function run({ args, opts }: CommandContext): Promise<number> {
  const job = args[0]!;
  const scheduledAt = typeof opts.scheduledAt === 'string' ? opts.scheduledAt : undefined;
  if (!scheduledAt)
    throw usage(
      '--scheduled-at is required',
      'pass the run’s scheduled time, e.g. --scheduled-at 2026-03-01T02:00:00Z',
    );
  if (!parseRfc3339(scheduledAt))
    throw usage(
      `--scheduled-at ${JSON.stringify(scheduledAt)} is not an RFC3339 time`,
      'write it with a zone, e.g. 2026-03-01T02:00:00Z or 2026-03-01T09:00:00+07:00',
    );
  const type = typeof opts.type === 'string' ? normaliseInstanceType(opts.type) : undefined;
  if (!type)
    throw usage('--type must be task or hook', 'pass --type task, or --type hook with the hook’s --name');
  if (typeof opts.name !== 'string' || !opts.name)
    throw usage(
      '--name is required',
      'pass the task plugin’s name (--type task) or the hook’s name (--type hook)',
    );
  if (typeof opts.outputDir !== 'string' || !opts.outputDir)
    throw usage('--output-dir is required', 'pass the folder to write in/ into, e.g. --output-dir /data');

  const config = projectConfigIfAny(opts);
  const project = typeof opts.projectName === 'string' ? opts.projectName : config?.project.name;
  if (!project)
    throw usage(
      'no project: pass --project-name',
      'or run it in a project folder (or --dir) holding optimus.yaml',
    );
  const client = serverClient(opts, config);
  const answer = await client.post<RunInputAnswer>(
    `/api/v1beta1/project/${seg(project)}/job/${seg(job)}/run_input`,
    { scheduled_at: scheduledAt, instance_type: type, instance_name: opts.name },
  );
  const outputDir = resolve(opts.outputDir);
  await writeRunInput(outputDir, answer);

  const written = [
    ...Object.keys(answer.files)
      .sort()
      .map((f) => `in/${f}`),
    'in/.env',
    'in/.secret',
  ];
  if (opts.json) {
    printJson({
      ok: true,
      project,
      job,
      instance_type: type,
      instance_name: opts.name,
      output_dir: outputDir,
      written,
      secrets_withheld: answer.secrets_withheld,
      warnings: answer.warnings,
    });
    return 0;
  }
  const say = (line: string) => process.stderr.write(`${line}\n`);
  for (const w of answer.warnings) say(`${pc.yellow('warning')} ${w}`);
  if (answer.secrets_withheld.length)
    say(
      `${pc.yellow('warning')} the server withheld ${plural(answer.secrets_withheld.length, 'secret')} (${answer.secrets_withheld.join(', ')}): in/.secret lacks them\n    ${pc.dim('hint: use a token the server lists with read_secrets: true (OPTIMUS_TOKEN)')}`,
    );
  process.stdout.write(
    `wrote ${plural(Object.keys(answer.files).length, 'file')}, in/.env (${plural(Object.keys(answer.envs).length, 'variable')}) and in/.secret (${plural(Object.keys(answer.secrets).length, 'variable')}) to ${outputDir}/in\n`,
  );
  return 0;
}
