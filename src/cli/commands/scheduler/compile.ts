/**
 * `optimus scheduler compile [--dir P] [--out DIR]`: the local project's jobs, checked as `job
 * validate` checks them (same plugin source rules), compiled into one Airflow DAG file each plus the
 * shared helper module, and synced into --out (default: the project's STORAGE_PATH when it is a
 * file:// path): only changed files are written, files of jobs gone are deleted. Upstreams are the
 * jobs' static `dependencies` within this project; inferred upstreams are known to the server only,
 * so the DAGs it compiles on deploy are the complete ones.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OptimusError } from '../../../core/errors.js';
import { staticDependencies } from '../../../core/lineage.js';
import { errorsOf, type Problem, sortProblems, warningsOf } from '../../../core/problem.js';
import {
  type DagJobSource,
  type DagUpstream,
  DEFAULT_BASE_IMAGE,
  DEFAULT_REGISTRY,
} from '../../../scheduler/airflow/contract.js';
import { displayStorageUrl, openDagStorage, syncDags } from '../../../scheduler/airflow/dag-storage.js';
import { compileProjectDags } from '../../../scheduler/airflow/publish.js';
import { type JobReport, validateProject } from '../../../services/validate-project.js';
import { normaliseHost } from '../../api-client.js';
import { err, out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { DEFAULT_HOST } from '../../context.js';
import { projectExitCode } from '../../errors.js';
import { formatProblem, plural, printJson, problemJson, relativeTo } from '../../output.js';
import { describeSource, explainForServer, resolvePluginSource, sourceJson } from '../../plugin-source.js';

export async function run({ opts }: CommandContext): Promise<number> {
  const source = await resolvePluginSource(opts);
  const dir = String(opts.dir ?? '.');
  const report = validateProject({ dir, ...(source ? { pluginsDir: source.dir } : {}) });
  const served = [...report.plugins.plugins.keys()];
  for (const problems of [report.problems, ...report.jobs.map((j) => j.problems)])
    explainForServer(problems, source, served);
  const all = [...report.problems, ...report.jobs.flatMap((j) => j.problems)];
  const errors = errorsOf(all).length;
  const config = report.config;
  if (errors || !config) return refuse(opts, report, source, errors);

  const target = await outputOf(opts, config.project.config);
  const host = normaliseHost(
    (opts.host as string | undefined) ?? config.host ?? process.env.OPTIMUS_HOST ?? DEFAULT_HOST,
  );
  const images = {
    baseImage: String(opts.baseImage ?? DEFAULT_BASE_IMAGE),
    registry: String(opts.registry ?? DEFAULT_REGISTRY),
  };
  const { sources, notes } = sourcesOf(report.jobs, config.project.name, report.plugins.plugins, images);
  const progress = (text: string) => {
    if (!opts.json) process.stderr.write(`${err.dim(text)}\n`);
  };
  progress(`compiling ${plural(sources.length, 'job')} of ${config.project.name}`);
  const compiled = compileProjectDags(sources, { optimusHost: host });
  let shown = 0;
  const sync = await syncDags(target.storage, compiled.files, {
    keep: compiled.keep,
    onProgress: (done, total) => {
      // About ten lines however many files: enough to see it move, not a flood.
      if (done === total || done - shown >= Math.max(100, Math.ceil(total / 10))) {
        shown = done;
        progress(`writing ${done}/${total}`);
      }
    },
  });
  const failed = compiled.failures.length;
  const exit = failed ? 1 : 0;
  if (opts.json) {
    printJson({
      ok: failed === 0,
      project: config.project.name,
      out: target.shown,
      plugin_source: sourceJson(source),
      summary: {
        jobs: sources.length,
        written: sync.written.length,
        unchanged: sync.unchanged,
        deleted: sync.deleted.length,
        failed,
      },
      written: sync.written,
      deleted: sync.deleted,
      failures: compiled.failures,
      notes: notes.map((p) => problemJson(p)),
      warnings: warningsOf(all).map((p) => problemJson(p)),
    });
    return exit;
  }
  const lines: string[] = [];
  for (const p of notes) lines.push(formatProblem(p));
  for (const f of compiled.failures)
    lines.push(`${pc.red('✗')} ${pc.bold(f.job)} ${pc.dim(`(${f.namespace})`)} ${f.message} [${f.code}]`);
  for (const p of sync.written) lines.push(`  ${pc.green('+')} ${p}`);
  for (const p of sync.deleted) lines.push(`  ${pc.red('-')} ${p}`);
  lines.push(
    `${failed ? pc.red('failed') : pc.green('ok')}: ${plural(sources.length, 'job')} compiled (plugins${describeSource(source)}) into ${target.shown}: ${sync.written.length} written, ${sync.unchanged} unchanged, ${sync.deleted.length} deleted${failed ? `, ${plural(failed, 'job')} not compiled` : ''}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return exit;
}

/** --out DIR, else the project's STORAGE_PATH when it is a folder on this machine. */
async function outputOf(opts: Record<string, unknown>, projectConfig: Record<string, string>) {
  if (typeof opts.out === 'string') {
    const abs = resolve(opts.out);
    return {
      storage: await openDagStorage(pathToFileURL(abs).href, { field: '--out' }),
      shown: relativeTo(abs, process.cwd()) || '.',
    };
  }
  const own = Object.entries(projectConfig).find(([k]) => k.toUpperCase() === 'STORAGE_PATH')?.[1];
  if (own && /^file:\/\//i.test(own.trim()))
    return {
      storage: await openDagStorage(own.trim(), { field: 'project config STORAGE_PATH' }),
      shown: displayStorageUrl(own.trim()),
    };
  throw new OptimusError(
    'SCHEDULER_OUT_REQUIRED',
    own
      ? `the project's STORAGE_PATH (${displayStorageUrl(own)}) is not a folder on this machine`
      : 'the project has no STORAGE_PATH to write DAGs to',
    {
      category: 'usage',
      hint: 'pass --out <dir> (buckets are written by the server on deploy when its scheduler.type is airflow)',
    },
  );
}

/** Each valid job with its static dependencies on jobs of this project as upstreams. */
function sourcesOf(
  jobs: readonly JobReport[],
  project: string,
  plugins: DagJobSource['plugins'],
  images: DagJobSource['images'],
): { sources: DagJobSource[]; notes: Problem[] } {
  const namespaceOf = new Map(jobs.map((j) => [j.name, j.namespace]));
  const notes: Problem[] = [];
  const sources: DagJobSource[] = [];
  const ordered = [...jobs].sort((a, b) =>
    a.namespace === b.namespace ? (a.name < b.name ? -1 : 1) : a.namespace < b.namespace ? -1 : 1,
  );
  for (const j of ordered) {
    if (!j.spec) continue;
    const upstreams: DagUpstream[] = [];
    for (const d of staticDependencies(j.raw ?? j.spec)) {
      const ns = (d.project ?? project) === project ? namespaceOf.get(d.job) : undefined;
      if (ns) upstreams.push({ project, namespace: ns, job: d.job });
      else
        notes.push({
          severity: 'warning',
          code: 'DAG_UPSTREAM_UNRESOLVED',
          message: `job "${j.name}": dependency "${d.project ? `${d.project}/` : ''}${d.job}" is not a job of this project, so its DAG has no sensor for it`,
          file: j.file,
          path: `dependencies[${d.index}]`,
          hint: 'the server resolves it (and inferred upstreams) when it compiles the DAGs on deploy',
        });
    }
    sources.push({
      project,
      namespace: j.namespace,
      spec: j.spec,
      nodes: j.nodes,
      plugins,
      images,
      upstreams,
    });
  }
  return { sources, notes };
}

/** Invalid project: every problem, as `job validate` shows them, and nothing written. */
function refuse(
  opts: Record<string, unknown>,
  report: ReturnType<typeof validateProject>,
  source: Awaited<ReturnType<typeof resolvePluginSource>>,
  errors: number,
): number {
  const exit = projectExitCode(report.problems, Math.max(errors, 1));
  if (opts.json) {
    printJson({
      ok: false,
      project: report.config?.project.name ?? null,
      plugin_source: sourceJson(source),
      error: {
        code: 'PROJECT_INVALID',
        message: 'the project has problems; no DAG was written',
        hint: 'fix them (`optimus job validate` lists the same) and compile again',
      },
      problems: report.problems.map((p) => problemJson(p)),
      jobs: report.jobs
        .filter((j) => errorsOf(j.problems).length)
        .map((j) => ({
          name: j.name,
          namespace: j.namespace,
          errors: errorsOf(j.problems).map((p) => problemJson(p)),
        })),
    });
    return exit;
  }
  const lines: string[] = [];
  for (const p of sortProblems([...report.problems])) lines.push(formatProblem(p, process.cwd(), err));
  for (const j of report.jobs) {
    if (!errorsOf(j.problems).length) continue;
    lines.push(`${err.red('✗')} ${err.bold(j.name)} ${err.dim(`(${j.namespace})`)}`);
    for (const p of sortProblems(errorsOf(j.problems)))
      lines.push(`    ${formatProblem(p, process.cwd(), err)}`);
  }
  lines.push(
    `${err.red('failed')}: ${plural(errors, 'error')} in the project; no DAG was written (fix them and compile again)`,
  );
  process.stderr.write(`${lines.join('\n')}\n`);
  return exit;
}
