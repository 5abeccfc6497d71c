/**
 * `optimus deploy`: refresh the server's plugin specs, validate every selected job locally with
 * them (jobs unchanged since their last clean check come from the validation cache; nothing is
 * uploaded when a job is invalid), register the project and its namespaces, then deploy each
 * namespace's whole state and report every job's fate.
 *
 * Per namespace the client first sends a manifest of content hashes; only the jobs the server asks
 * for travel in full, the rest are named as `keep`. A server without the manifest route (404) gets
 * every job in full, as before. `--plan` asks the server what a deploy would do and applies nothing.
 */
import { canonicalJson } from '../../core/canonical-json.js';
import { OptimusError } from '../../core/errors.js';
import { errorsOf, sortProblems } from '../../core/problem.js';
import { type JobReport, jobHash, jobPayload, validateProject } from '../../services/validate-project.js';
import type { ProjectConfig } from '../../spec/project-config.js';
import { type ApiClient, type ApiErrorBody, JsonText, ServerError, seg } from '../api-client.js';
import { err, out as pc } from '../colors.js';
import type { CommandContext } from '../command-kit.js';
import { projectConfig, registerProject, serverClient } from '../context.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../errors.js';
import { formatProblem, plural, printJson, problemJson } from '../output.js';
import { syncPluginCache } from '../plugin-cache.js';
import { openValidationCache } from '../validate-cache.js';

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

interface ManifestResponse {
  send: string[];
  unchanged: string[];
  deleted: string[];
}

interface UpstreamEdge {
  project: string;
  namespace: string;
  job: string;
  kind: 'inferred' | 'static';
  via: string[];
}

type FieldChange = {
  path: string;
  before?: unknown;
  after?: unknown;
  change?: 'added' | 'removed' | 'modified';
};

interface PlanResponse {
  plan: {
    added: string[];
    modified: { name: string; changes: FieldChange[] }[];
    deleted: string[];
    unchanged: number;
    relineaged?: string[];
    upstreams: {
      project: string;
      job: string;
      added: UpstreamEdge[];
      removed: UpstreamEdge[];
      changed?: { before: UpstreamEdge; after: UpstreamEdge }[];
    }[];
    cycles?: string[][];
  };
  warnings: { path?: string; message: string }[];
}

interface Failure {
  job?: string;
  path?: string;
  message: string;
}

interface Validation {
  cached: number;
  checked: number;
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
  failed: Failure[];
  warnings: string[];
  /** Jobs uploaded in full, and jobs named as unchanged (`keep`) instead. */
  sent: number;
  kept: number;
  validation: Validation;
}

interface NamespacePlan {
  namespace: string;
  ok: boolean;
  /** False when the namespace is not on the server yet: every job would be added. */
  registered: boolean;
  added: string[];
  modified: { name: string; changes: FieldChange[] }[];
  deleted: string[];
  unchanged: number;
  relineaged: string[];
  upstreams: PlanResponse['plan']['upstreams'];
  cycles: string[][];
  failed: Failure[];
  warnings: string[];
  validation: Validation;
}

/** What travels for one namespace: full jobs and the names and hashes of the ones kept. */
interface Upload {
  jobs: Record<string, unknown>[];
  keep: { name: string; hash: string }[];
  /** Names of `jobs`, in order (failures point at jobs[i]). */
  sentNames: string[];
  /** The request body as sent, and its size. */
  text: string;
  bytes: number;
  /** False for an old server: everything was sent, no manifest. */
  incremental: boolean;
}

export async function run({ opts }: CommandContext): Promise<number> {
  const json = opts.json === true;
  const plan = opts.plan === true;
  const step = (line: string) => {
    if (!json) process.stderr.write(`${err.dim('→')} ${line}\n`);
  };
  const config = projectConfig(opts);
  const client = serverClient(opts, config);
  const server = await client.checkVersion();
  // Kept jobs may be named without asking the manifest first only where `keep` is understood.
  const optimistic = (server.features ?? []).includes('deploy-keep');

  const wanted = (opts.namespace as string[] | undefined) ?? config.namespaces.map((n) => n.name);
  const unknown = wanted.filter((n) => !config.namespaces.some((ns) => ns.name === n));
  if (unknown.length) {
    throw new OptimusError('NAMESPACE_UNKNOWN', `namespace ${unknown.join(', ')} is not in optimus.yaml`, {
      category: 'usage',
      hint: `namespaces: ${config.namespaces.map((n) => n.name).join(', ')}`,
    });
  }

  step(`fetching plugin specs from ${client.baseUrl}`);
  const specs = await syncPluginCache(client);
  step(`validating jobs with ${plural(specs.files.length, 'plugin')} of the server`);
  const dir = String(opts.dir ?? '.');
  const cache = opts.cache === false ? undefined : openValidationCache(dir);
  const report = validateProject({ dir, pluginsDir: specs.dir, ...(cache ? { cache } : {}) });
  cache?.save();
  if (cache) {
    const cached = report.jobs.filter((j) => j.cached).length;
    step(
      `checked ${plural(report.jobs.length - cached, 'job')}, ${cached.toLocaleString('en-US')} unchanged since their last check`,
    );
  }
  const selected = new Set(wanted);
  const jobs = report.jobs.filter((j) => selected.has(j.namespace));
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
  const project = config.project.name;
  const byNamespace = new Map<string, JobReport[]>(wanted.map((ns) => [ns, []]));
  for (const j of jobs) byNamespace.get(j.namespace)?.push(j);
  const namespaceJobs = (ns: string) => byNamespace.get(ns) ?? [];
  const validation = (ns: string): Validation => {
    const own = namespaceJobs(ns);
    const cached = own.filter((j) => j.cached).length;
    return { cached, checked: own.length - cached };
  };

  if (plan) {
    const plans: NamespacePlan[] = [];
    for (const ns of wanted) {
      const own = namespaceJobs(ns);
      step(`planning ${ns}: ${plural(own.length, 'job')}`);
      plans.push(await planNamespace(client, project, ns, own, validation(ns), opts.manifest === false));
    }
    const ok = plans.every((p) => p.ok);
    if (json) printJson({ ok, project, server: client.baseUrl, applied: false, namespaces: plans });
    else printPlans(plans);
    return ok ? EXIT_OK : EXIT_PROBLEMS;
  }

  if (await projectUnchanged(client, config)) {
    const stale = await namespacesToRegister(client, config, wanted);
    step(
      stale.length
        ? `registering ${plural(stale.length, 'namespace')} (project ${project} is up to date)`
        : `project ${project} and its namespaces are up to date`,
    );
    await Promise.all(
      stale.map((ns) =>
        client.post(`/api/v1beta1/project/${seg(project)}/namespace`, {
          namespace: { name: ns, config: config.namespaces.find((n) => n.name === ns)?.config ?? {} },
        }),
      ),
    );
  } else {
    step(`registering project ${project} and ${plural(wanted.length, 'namespace')}`);
    await registerProject(client, config, wanted);
  }
  const full = opts.manifest === false;
  const outcomes: NamespaceOutcome[] = [];
  for (const ns of wanted) {
    const own = namespaceJobs(ns);
    const base = `/api/v1beta1/project/${seg(project)}/namespace/${seg(ns)}`;
    const send = full ? undefined : await jobsToSend(client, base, own, optimistic && cache !== undefined);
    let upload = buildUpload(own, send);
    step(`deploying ${ns}: ${describeUpload(upload, own.length)}`);
    const outcome: NamespaceOutcome = {
      namespace: ns,
      ok: true,
      added: [],
      modified: [],
      unchanged: [],
      deleted: [],
      failed: [],
      warnings: [],
      sent: 0,
      kept: 0,
      validation: validation(ns),
    };
    let r: DeployResponse | undefined;
    try {
      try {
        r = await client.post<DeployResponse>(`${base}/deploy`, body(upload));
      } catch (e) {
        const stale = staleNames(e, upload);
        if (!stale) throw e;
        // Someone deployed this namespace since the manifest was read: send those jobs in full, once.
        upload = buildUpload(own, new Set([...upload.sentNames, ...stale]));
        step(
          `resending ${plural(stale.length, 'job')} changed on the server meanwhile: ${describeUpload(upload, own.length)}`,
        );
        r = await client.post<DeployResponse>(`${base}/deploy`, body(upload));
      }
    } catch (e) {
      if (!(e instanceof ServerError) || e.body.code !== 'DEPLOY_INVALID') throw e;
      outcome.ok = false;
      outcome.failed = failuresOf(e.body, upload);
    }
    outcome.sent = upload.jobs.length;
    outcome.kept = upload.keep.length;
    if (r) {
      const d = r.deploy;
      const changed = new Set([...d.added, ...d.modified]);
      Object.assign(outcome, {
        deploy_id: d.id,
        status: d.status,
        added: d.added,
        modified: d.modified,
        deleted: d.deleted,
        unchanged: own
          .map((j) => j.name)
          .filter((n) => !changed.has(n))
          .sort(),
        warnings: r.warnings.map((w) => w.message),
      });
    }
    outcomes.push(outcome);
  }

  const ok = outcomes.every((o) => o.ok);
  if (json) printJson({ ok, project, server: client.baseUrl, namespaces: outcomes });
  else printOutcomes(outcomes);
  return ok ? EXIT_OK : EXIT_PROBLEMS;
}

/**
 * Whether the server already holds the project with the settings of optimus.yaml (config, hook
 * rules, presets). Registering it again would change nothing, yet costs the server a look at every
 * deployed job when a rule names hooks: an unchanged deploy skips it. Any doubt means "register".
 */
async function projectUnchanged(client: ApiClient, config: ProjectConfig): Promise<boolean> {
  let held: { config?: unknown; plugin_dependencies?: unknown; presets?: unknown };
  try {
    held = (await client.get<{ project: typeof held }>(`/api/v1beta1/project/${seg(config.project.name)}`))
      .project;
  } catch (e) {
    if (e instanceof ServerError && e.status === 404) return false;
    throw e;
  }
  return (
    canonicalJson(held.config ?? {}) === canonicalJson(serverConfig(config.project.config)) &&
    canonicalJson(held.plugin_dependencies ?? []) === canonicalJson(config.hookRules.map((r) => r.text)) &&
    canonicalJson(held.presets ?? {}) === canonicalJson(config.presetWindows ?? {})
  );
}

/** Above this many jobs re-checked (and a tenth of the namespace), the manifest is asked first. */
const OPTIMISTIC_MAX = 100;

/**
 * The jobs to send in full. With a validation cache, the jobs unchanged since their last check are
 * most likely what the server holds: those are kept and the rest sent, without asking the manifest
 * first (a server that holds something else answers DEPLOY_STALE, and those jobs are resent).
 * When many jobs were re-checked (no cache yet, new plugin specs) the manifest is asked instead.
 */
async function jobsToSend(
  client: ApiClient,
  base: string,
  jobs: JobReport[],
  cached: boolean,
): Promise<Set<string> | undefined> {
  const checked = jobs.filter((j) => !j.cached);
  if (cached && (checked.length <= OPTIMISTIC_MAX || checked.length * 10 <= jobs.length))
    return new Set(checked.map((j) => j.name));
  return askManifest(client, base, jobs);
}

/** The wanted namespaces the server lacks, or holds with another config than optimus.yaml's. */
async function namespacesToRegister(
  client: ApiClient,
  config: ProjectConfig,
  wanted: string[],
): Promise<string[]> {
  const held = new Map(
    (
      await client.get<{ namespaces: { name: string; config?: unknown }[] }>(
        `/api/v1beta1/project/${seg(config.project.name)}/namespace`,
      )
    ).namespaces.map((n) => [n.name, canonicalJson(n.config ?? {})]),
  );
  return wanted.filter(
    (ns) =>
      held.get(ns) !== canonicalJson(serverConfig(config.namespaces.find((n) => n.name === ns)?.config)),
  );
}

/** A config as the server keeps it: keys upper-cased, values as strings. */
const serverConfig = (c: Record<string, unknown> | undefined) =>
  Object.fromEntries(Object.entries(c ?? {}).map(([k, v]) => [k.toUpperCase(), String(v)]));

/**
 * The names the server needs in full, from the manifest of content hashes; `undefined` (send
 * everything) when the server predates the manifest route.
 */
async function askManifest(
  client: ApiClient,
  base: string,
  jobs: JobReport[],
): Promise<Set<string> | undefined> {
  try {
    const m = await client.post<ManifestResponse>(`${base}/deploy/manifest`, {
      jobs: jobs.map((j) => ({ name: j.name, hash: jobHash(j) })),
    });
    return new Set(m.send);
  } catch (e) {
    if (e instanceof ServerError && e.status === 404 && e.body.code === 'ROUTE_NOT_FOUND') return undefined;
    throw e;
  }
}

/** Without kept jobs the body is exactly what a server before the manifest protocol accepts. */
const body = (u: Upload) => new JsonText(u.text);

function buildUpload(jobs: JobReport[], send: Set<string> | undefined): Upload {
  const upload: Upload = {
    jobs: [],
    keep: [],
    sentNames: [],
    text: '',
    bytes: 0,
    incremental: send !== undefined,
  };
  for (const j of jobs) {
    if (send === undefined || send.has(j.name)) {
      upload.jobs.push(jobPayload(j));
      upload.sentNames.push(j.name);
    } else upload.keep.push({ name: j.name, hash: jobHash(j) });
  }
  upload.text = JSON.stringify(
    upload.keep.length ? { jobs: upload.jobs, keep: upload.keep } : { jobs: upload.jobs },
  );
  upload.bytes = Buffer.byteLength(upload.text);
  return upload;
}

/** `3 of 5,000 jobs changed (12.4 KiB)`, or `5,000 jobs (5.6 MiB)` when everything travels. */
function describeUpload(u: Upload, total: number): string {
  const size =
    u.bytes >= 1024 * 1024
      ? `${(u.bytes / 1024 / 1024).toFixed(1)} MiB`
      : `${(u.bytes / 1024).toFixed(1)} KiB`;
  const n = (x: number) => x.toLocaleString('en-US');
  if (!u.incremental) return `${n(total)} job${total === 1 ? '' : 's'} (${size})`;
  return `${n(u.jobs.length)} of ${n(total)} job${total === 1 ? '' : 's'} changed (${size})`;
}

/**
 * The kept jobs a DEPLOY_STALE answer names (by `keep[i]` path or by name); every kept job when it
 * names none that the client recognises. `undefined` for any other error.
 */
function staleNames(e: unknown, upload: Upload): string[] | undefined {
  if (!(e instanceof ServerError) || e.body.code !== 'DEPLOY_STALE' || !upload.keep.length) return undefined;
  const kept = new Set(upload.keep.map((k) => k.name));
  const names = new Set<string>();
  for (const d of e.body.details ?? []) {
    const i = /^(?:body\.)?keep\[(\d+)\]/.exec(d.path ?? '')?.[1];
    const byPath = i === undefined ? undefined : upload.keep[Number(i)]?.name;
    if (byPath) names.add(byPath);
    else if (kept.has(d.message)) names.add(d.message);
  }
  return names.size ? [...names] : [...kept];
}

function failuresOf(body: ApiErrorBody, upload: Upload): Failure[] {
  return (body.details ?? [])
    .filter((d) => d.severity !== 'warning')
    .map((d) => {
      const m = /^(?:body\.)?(jobs|keep)\[(\d+)\]/.exec(d.path ?? '');
      const i = Number(m?.[2]);
      const job = !m ? undefined : m[1] === 'jobs' ? upload.sentNames[i] : upload.keep[i]?.name;
      const label = job ?? m?.[0];
      return { ...(label ? { job: label } : {}), ...(d.path ? { path: d.path } : {}), message: d.message };
    });
}

async function planNamespace(
  client: ApiClient,
  project: string,
  ns: string,
  jobs: JobReport[],
  validation: Validation,
  full: boolean,
): Promise<NamespacePlan> {
  const base = `/api/v1beta1/project/${seg(project)}/namespace/${seg(ns)}`;
  const out: NamespacePlan = {
    namespace: ns,
    ok: true,
    registered: true,
    added: [],
    modified: [],
    deleted: [],
    unchanged: 0,
    relineaged: [],
    upstreams: [],
    cycles: [],
    failed: [],
    warnings: [],
    validation,
  };
  // Nothing of an unregistered namespace is on the server, and a plan registers nothing: all of it is new.
  const allAdded = () => {
    out.registered = false;
    out.added = jobs.map((j) => j.name).sort();
    return out;
  };
  let send: Set<string> | undefined;
  try {
    send = full ? new Set(jobs.map((j) => j.name)) : await askManifest(client, base, jobs);
  } catch (e) {
    if (!notRegistered(e)) throw e;
    return allAdded();
  }
  if (send === undefined) throw planUnsupported(client);
  let upload = buildUpload(jobs, send);
  let r: PlanResponse;
  try {
    try {
      r = await client.post<PlanResponse>(`${base}/deploy/plan`, body(upload));
    } catch (e) {
      const stale = staleNames(e, upload);
      if (!stale) throw e;
      upload = buildUpload(jobs, new Set([...upload.sentNames, ...stale]));
      r = await client.post<PlanResponse>(`${base}/deploy/plan`, body(upload));
    }
  } catch (e) {
    if (notRegistered(e)) return allAdded();
    if (e instanceof ServerError && e.body.code === 'ROUTE_NOT_FOUND') throw planUnsupported(client);
    if (!(e instanceof ServerError) || e.body.code !== 'DEPLOY_INVALID') throw e;
    out.ok = false;
    out.failed = failuresOf(e.body, upload);
    return out;
  }
  const p = r.plan;
  Object.assign(out, {
    added: p.added,
    modified: p.modified,
    deleted: p.deleted,
    unchanged: p.unchanged,
    relineaged: p.relineaged ?? [],
    upstreams: p.upstreams,
    cycles: p.cycles ?? [],
    warnings: r.warnings.map((w) => w.message),
  });
  // A deploy with a cycle would be refused: the plan says so by failing.
  if (out.cycles.length) out.ok = false;
  return out;
}

const planUnsupported = (client: ApiClient) =>
  new OptimusError('PLAN_UNSUPPORTED', `the server at ${client.baseUrl} cannot plan a deploy`, {
    category: 'usage',
    hint: 'upgrade the server; `optimus deploy` without --plan still works with it',
  });

const notRegistered = (e: unknown) =>
  e instanceof ServerError &&
  e.status === 404 &&
  (e.body.code === 'PROJECT_NOT_FOUND' || e.body.code === 'NAMESPACE_NOT_FOUND');

function printOutcomes(outcomes: NamespaceOutcome[]) {
  const out: string[] = [];
  for (const o of outcomes) {
    out.push(
      `${o.ok ? pc.green('✓') : pc.red('✗')} ${pc.bold(o.namespace)}${o.deploy_id ? pc.dim(` (deploy #${o.deploy_id})`) : ''}`,
    );
    for (const n of o.added) out.push(`    ${pc.green('+')} ${n} ${pc.dim('added')}`);
    for (const n of o.modified) out.push(`    ${pc.yellow('~')} ${n} ${pc.dim('modified')}`);
    for (const n of o.deleted) out.push(`    ${pc.red('-')} ${n} ${pc.dim('deleted')}`);
    // Named in --json; here only counted, as a plan does: thousands of lines would hide the changes.
    if (o.unchanged.length) out.push(`    ${pc.dim(`= ${plural(o.unchanged.length, 'job')} unchanged`)}`);
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

function printPlans(plans: NamespacePlan[]) {
  const out: string[] = [];
  for (const p of plans) {
    out.push(
      `${p.ok ? pc.bold(p.namespace) : `${pc.red('✗')} ${pc.bold(p.namespace)}`}${p.registered ? '' : pc.dim(' (not on the server yet: every job would be added)')}`,
    );
    for (const n of p.added) out.push(`    ${pc.green('+')} ${n} ${pc.dim('would be added')}`);
    for (const m of p.modified) {
      out.push(`    ${pc.yellow('~')} ${m.name} ${pc.dim('would change')}`);
      for (const c of m.changes) out.push(`        ${formatChange(c)}`);
    }
    for (const n of p.deleted) out.push(`    ${pc.red('-')} ${n} ${pc.dim('would be deleted')}`);
    if (p.unchanged) out.push(`    ${pc.dim(`= ${plural(p.unchanged, 'job')} unchanged`)}`);
    for (const n of p.relineaged) out.push(`    ${pc.dim(`↻ ${n}: dependencies inferred again`)}`);
    for (const u of p.upstreams) {
      out.push(`    ${pc.bold(u.job)}${pc.dim(` (${u.project})`)}`);
      for (const e of u.added) out.push(`        ${pc.green('+')} upstream ${edgeText(e, u.project)}`);
      for (const e of u.removed) out.push(`        ${pc.red('-')} upstream ${edgeText(e, u.project)}`);
      for (const c of u.changed ?? [])
        out.push(
          `        ${pc.yellow('~')} upstream ${edgeText(c.after, u.project)} ${pc.dim(`was ${why(c.before)}`)}`,
        );
    }
    for (const c of p.cycles) out.push(`    ${pc.red('✗')} dependency cycle: ${c.join(' → ')}`);
    for (const f of p.failed)
      out.push(`    ${pc.red('✗')} ${f.job ?? ''}${f.path ? pc.dim(` ${f.path}`) : ''}: ${f.message}`);
    for (const w of p.warnings) out.push(`    ${pc.yellow('!')} ${w}`);
  }
  const sum = (f: (p: NamespacePlan) => number) => plans.reduce((a, p) => a + f(p), 0);
  const failed = plans.filter((p) => !p.ok).length;
  out.push(
    `${failed ? pc.red('plan: the deploy would be refused') : pc.green('plan')}: ${sum((p) => p.added.length)} to add, ${sum((p) => p.modified.length)} to change, ${sum((p) => p.deleted.length)} to delete, ${sum((p) => p.unchanged)} unchanged; nothing was applied`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

/** `~ task.config.TABLE: "a" → "b"`, `~ assets/query.sql modified`. */
function formatChange(c: FieldChange): string {
  if (c.change) {
    const name = c.path.startsWith('assets.') ? `assets/${c.path.slice('assets.'.length)}` : c.path;
    const sym = c.change === 'added' ? pc.green('+') : c.change === 'removed' ? pc.red('-') : pc.yellow('~');
    return `${sym} ${name} ${c.change}`;
  }
  const v = (x: unknown) => JSON.stringify(x);
  if (c.before === undefined) return `${pc.green('+')} ${c.path}: ${v(c.after)}`;
  if (c.after === undefined) return `${pc.red('-')} ${c.path}: ${v(c.before)}`;
  return `${pc.yellow('~')} ${c.path}: ${v(c.before)} → ${v(c.after)}`;
}

/** `finance/revenue-daily (reads bigquery://…)`; the project only when it is another one. */
function edgeText(e: UpstreamEdge, project: string): string {
  const where = `${e.project === project ? '' : `${e.project}/`}${e.namespace}/${e.job}`;
  return `${where} ${pc.dim(`(${why(e)})`)}`;
}

function why(e: UpstreamEdge): string {
  if (e.kind === 'static') return e.via.length ? `declared: ${e.via.join(', ')}` : 'declared';
  return `reads ${e.via.join(', ')}`;
}
