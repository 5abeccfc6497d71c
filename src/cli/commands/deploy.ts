/**
 * `optimus deploy`: refresh the server's plugin specs, validate every selected job locally with
 * them (nothing is uploaded when a job is invalid), register the project and its namespaces, then
 * deploy each namespace's whole state and report every job's fate.
 */
import { OptimusError } from '../../core/errors.js';
import { errorsOf, sortProblems } from '../../core/problem.js';
import { deployPayload, validateProject } from '../../services/validate-project.js';
import { type ApiErrorBody, ServerError, seg } from '../api-client.js';
import { err, out as pc } from '../colors.js';
import type { CommandContext } from '../command-kit.js';
import { projectConfig, registerProject, serverClient } from '../context.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../errors.js';
import { formatProblem, plural, printJson, problemJson } from '../output.js';
import { syncPluginCache } from '../plugin-cache.js';

interface DeployResponse {
  deploy: {
    id: number;
    status: string;
    added: string[];
    modified: string[];
    deleted: string[];
    unchanged: number;
  };
  warnings: { path?: string; message: string }[];
}

interface NamespaceOutcome {
  namespace: string;
  ok: boolean;
  deploy_id?: number;
  status?: string;
  added: string[];
  modified: string[];
  unchanged: string[];
  deleted: string[];
  failed: { job?: string; path?: string; message: string }[];
  warnings: string[];
}

export async function run({ opts }: CommandContext): Promise<number> {
  const json = opts.json === true;
  const step = (line: string) => {
    if (!json) process.stderr.write(`${err.dim('→')} ${line}\n`);
  };
  const config = projectConfig(opts);
  const client = serverClient(opts, config);
  await client.checkVersion();

  const wanted = (opts.namespace as string[] | undefined) ?? config.namespaces.map((n) => n.name);
  const unknown = wanted.filter((n) => !config.namespaces.some((ns) => ns.name === n));
  if (unknown.length) {
    throw new OptimusError('NAMESPACE_UNKNOWN', `namespace ${unknown.join(', ')} is not in optimus.yaml`, {
      category: 'usage',
      hint: `namespaces: ${config.namespaces.map((n) => n.name).join(', ')}`,
    });
  }

  step(`fetching plugin specs from ${client.baseUrl}`);
  const cache = await syncPluginCache(client);
  step(`validating jobs with ${plural(cache.files.length, 'plugin')} of the server`);
  const report = validateProject({ dir: String(opts.dir ?? '.'), pluginsDir: cache.dir });
  const jobs = report.jobs.filter((j) => wanted.includes(j.namespace));
  const problems = [
    ...report.problems.filter((p) => p.severity === 'error'),
    ...jobs.flatMap((j) => errorsOf(j.problems)),
  ];
  if (problems.length) {
    if (json) printJson({ ok: false, stage: 'validate', problems: problems.map((p) => problemJson(p)) });
    else {
      for (const p of sortProblems(problems)) process.stdout.write(`${formatProblem(p)}\n`);
      process.stdout.write(
        `${pc.red('nothing deployed')}: ${plural(problems.length, 'problem')} in ${plural(new Set(problems.map((p) => p.file)).size, 'file')}\n`,
      );
    }
    return EXIT_PROBLEMS;
  }

  step(`registering project ${config.project.name} and ${plural(wanted.length, 'namespace')}`);
  await registerProject(client, config, wanted);
  const outcomes: NamespaceOutcome[] = [];
  for (const ns of wanted) {
    const nsConfig = config.namespaces.find((n) => n.name === ns)!;
    await client.post(`/api/v1beta1/project/${seg(config.project.name)}/namespace`, {
      namespace: { name: ns, config: nsConfig.config },
    });
    const payload = deployPayload(report, ns);
    const size = Buffer.byteLength(JSON.stringify(payload));
    step(`deploying ${ns}: ${plural(payload.length, 'job')} (${(size / 1024).toFixed(1)} KiB)`);
    const outcome: NamespaceOutcome = {
      namespace: ns,
      ok: true,
      added: [],
      modified: [],
      unchanged: [],
      deleted: [],
      failed: [],
      warnings: [],
    };
    try {
      const r = await client.post<DeployResponse>(
        `/api/v1beta1/project/${seg(config.project.name)}/namespace/${seg(ns)}/deploy`,
        { jobs: payload },
      );
      const d = r.deploy;
      const changed = new Set([...d.added, ...d.modified]);
      Object.assign(outcome, {
        deploy_id: d.id,
        status: d.status,
        added: d.added,
        modified: d.modified,
        deleted: d.deleted,
        unchanged: payload
          .map((j) => String(j.name))
          .filter((n) => !changed.has(n))
          .sort(),
        warnings: r.warnings.map((w) => w.message),
      });
    } catch (e) {
      if (!(e instanceof ServerError) || e.body.code !== 'DEPLOY_INVALID') throw e;
      outcome.ok = false;
      outcome.failed = failuresOf(e.body, payload);
    }
    outcomes.push(outcome);
  }

  const ok = outcomes.every((o) => o.ok);
  if (json) printJson({ ok, project: config.project.name, server: client.baseUrl, namespaces: outcomes });
  else printOutcomes(outcomes);
  return ok ? EXIT_OK : EXIT_PROBLEMS;
}

function failuresOf(body: ApiErrorBody, payload: Record<string, unknown>[]) {
  return (body.details ?? [])
    .filter((d) => d.severity !== 'warning')
    .map((d) => {
      const i = /^jobs\[(\d+)\]/.exec(d.path ?? '')?.[1];
      const job = i === undefined ? undefined : String(payload[Number(i)]?.name ?? `jobs[${i}]`);
      return { ...(job ? { job } : {}), ...(d.path ? { path: d.path } : {}), message: d.message };
    });
}

function printOutcomes(outcomes: NamespaceOutcome[]) {
  const out: string[] = [];
  for (const o of outcomes) {
    out.push(
      `${o.ok ? pc.green('✓') : pc.red('✗')} ${pc.bold(o.namespace)}${o.deploy_id ? pc.dim(` (deploy #${o.deploy_id})`) : ''}`,
    );
    for (const n of o.added) out.push(`    ${pc.green('+')} ${n} ${pc.dim('added')}`);
    for (const n of o.modified) out.push(`    ${pc.yellow('~')} ${n} ${pc.dim('modified')}`);
    for (const n of o.deleted) out.push(`    ${pc.red('-')} ${n} ${pc.dim('deleted')}`);
    for (const n of o.unchanged) out.push(`    ${pc.dim(`= ${n} unchanged`)}`);
    for (const f of o.failed)
      out.push(`    ${pc.red('✗')} ${f.job ?? ''}${f.path ? pc.dim(` ${f.path}`) : ''}: ${f.message}`);
    for (const w of o.warnings) out.push(`    ${pc.yellow('!')} ${w}`);
  }
  const count = (k: 'added' | 'modified' | 'unchanged' | 'deleted') =>
    outcomes.reduce((a, o) => a + o[k].length, 0);
  const failed = outcomes.filter((o) => !o.ok).length;
  out.push(
    `${failed ? pc.red('failed') : pc.green('deployed')}: ${count('added')} added, ${count('modified')} modified, ${count('unchanged')} unchanged, ${count('deleted')} deleted${failed ? `; ${plural(failed, 'namespace')} rejected (nothing changed there)` : ''}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}
