/**
 * Deploy a namespace's whole state: validate every job with the same rules as the CLI, diff by
 * content hash, infer the lineage (destination, sources) of jobs whose lineage key changed, and
 * apply added, modified and deleted jobs with their resolved upstreams in one transaction. A deploy
 * with any invalid job, a failed inference or a dependency cycle changes nothing and reports every
 * problem; an unchanged re-deploy writes no job and asks no plugin. A plan runs the same steps and
 * writes nothing.
 */
import { canonicalJson, contentHash } from '../core/canonical-json.js';
import { isOptimusError, OptimusError } from '../core/errors.js';
import { parseHookRules } from '../core/hook-rules.js';
import type { JobSpec } from '../core/job.js';
import {
  diffUpstreams,
  findCycles,
  jobKey,
  resolveUpstreams,
  staticDependencies,
  type UnresolvedDependency,
  upstreamResolver,
} from '../core/lineage.js';
import { assetNameProblem, quote } from '../core/names.js';
import type { Plugin } from '../core/plugin.js';
import { errorsOf, formatPath, type PathSegment, type Problem, warningsOf } from '../core/problem.js';
import { buildRunGraph, storedRunGraph } from '../core/run-graph.js';
import { secretNames } from '../core/secret-ref.js';
import { normalisePresetName } from '../core/window.js';
import { loadJobValue } from '../spec/job-spec.js';
import type { JobLineage, LineageRow, ResolveUpstreams, UpstreamEdge } from '../store/lineage-store.js';
import type { DeployRecord, JobInput, Json, ProjectRecord, Store } from '../store/store.js';
import type { InferRequest, Inferrer } from './lineage-contract.js';
import { checkLoadedJob } from './validate-project.js';

export interface DeployRequest {
  project: ProjectRecord;
  namespace: string;
  jobs: unknown[];
  /** Jobs the client did not send because they are unchanged: each must be stored with that hash. */
  keep?: readonly KeepEntry[];
}

export interface DeployOutcome {
  deploy: DeployRecord;
  warnings: Problem[];
  /** Unchanged jobs stored again with a new lineage (their plugin or project config changed). */
  relineaged: string[];
}

export class DeployRejected extends OptimusError {
  readonly problems: Problem[];
  /** Absent for a plan, which records nothing. */
  readonly deployId: number | undefined;
  constructor(
    problems: Problem[],
    deployId: number | undefined,
    jobCount: number,
    opts: { code?: string; message?: string; hint?: string } = {},
  ) {
    const errors = errorsOf(problems);
    // Every problem of a deploy is about one job, so its path starts with jobs[i] (or keep[i]).
    // Stryker disable next-line StringLiteral: every problem here has a path
    const jobs = new Set(errors.map((p) => /^(jobs|keep)\[\d+\]/.exec(p.path ?? '')?.[0])).size;
    super(
      opts.code ?? 'DEPLOY_INVALID',
      opts.message ??
        `deploy rejected: ${errors.length} problem(s) in ${jobs} of ${jobCount} job(s); nothing was changed`,
      {
        category: 'invalid',
        hint: opts.hint ?? 'fix the listed problems (run `optimus job validate` locally) and deploy again',
      },
    );
    this.problems = problems;
    this.deployId = deployId;
  }
}

export interface DeployDeps {
  store: Store;
  plugins: ReadonlyMap<string, Plugin>;
  validated?: ValidatedJobs;
  /** Absent: jobs get no inferred lineage (static dependencies are still resolved). */
  inferrer?: Inferrer;
}

/** Jobs the client says it left unchanged and did not send (the manifest protocol). */
export interface KeepEntry {
  name: string;
  hash: string;
}

/** Kept jobs the store does not hold with the hash the client named: the client must send them. */
export class DeployStale extends OptimusError {
  readonly names: string[];
  constructor(names: string[]) {
    super(
      'DEPLOY_STALE',
      `${names.length} job(s) the client kept are not deployed here with that content: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}; nothing was changed`,
      {
        category: 'conflict',
        hint: 'send these jobs in full (someone deployed this namespace since the client read its manifest)',
      },
    );
    this.names = names;
  }
}

/** One changed field of a modified job: a spec leaf by value, an asset by name only. */
export type FieldChange =
  | { path: string; before?: Json; after?: Json }
  | { path: string; change: 'added' | 'removed' | 'modified' };

export interface PlanUpstreamChange {
  project: string;
  job: string;
  added: UpstreamEdge[];
  removed: UpstreamEdge[];
  /** Same upstream job, another kind or other reasons. */
  changed: { before: UpstreamEdge; after: UpstreamEdge }[];
}

export interface DeployPlan {
  added: string[];
  modified: { name: string; changes: FieldChange[] }[];
  deleted: string[];
  unchanged: number;
  /** Unchanged jobs whose lineage would be inferred again (plugin or project config changed). */
  relineaged: string[];
  /** Every job (of any namespace or project) whose upstreams would change. */
  upstreams: PlanUpstreamChange[];
  /** Cycles the deploy would create, each as `project/job` along it: the deploy would be refused. */
  cycles?: string[][];
}

/** A job the deploy holds: sent in full (`jobs[i]`) or kept from the store (`keep[k]`). */
interface Candidate {
  input: JobInput;
  path: PathSegment[];
  state: 'added' | 'modified' | 'unchanged';
  /** The validated spec, parsed only when inference needs it (a cached job skips parsing). */
  spec: () => JobSpec;
  /** Set when inference ran for this job. */
  lineage?: JobLineage;
}

interface Prepared {
  base: { projectName: string; namespaceName: string; startedAt: Date };
  candidates: Candidate[];
  upsert: JobInput[];
  added: string[];
  modified: string[];
  deleted: string[];
  unchanged: number;
  relineaged: string[];
  warnings: Problem[];
}

export async function deployNamespace(deps: DeployDeps, req: DeployRequest): Promise<DeployOutcome> {
  const { store } = deps;
  const p = await prepare(deps, req, true);
  const { base, upsert, deleted, relineaged } = p;
  const warnings = [...p.warnings];
  const record = {
    ...base,
    added: p.added,
    modified: p.modified,
    deleted,
    unchanged: p.unchanged,
    problems: [] as Json,
  };
  if (!upsert.length && !deleted.length) {
    // Nothing is written, but a static dependency on a job deleted since is still worth a warning.
    if (p.candidates.some((c) => staticDependencies(c.input.spec).length))
      warnings.push(...unresolvedWarnings(resolveUpstreams(await store.lineageRows()).unresolved, p));
    return {
      deploy: await store.recordDeploy({ ...record, status: 'unchanged', finishedAt: new Date() }),
      warnings,
      relineaged,
    };
  }
  let seen: readonly LineageRow[] = [];
  let unresolved: UnresolvedDependency[] = [];
  const touched = touchedKeys(p);
  const resolveAll = upstreamResolver({ touched, onUnresolved: (u) => (unresolved = u) });
  const resolve: ResolveUpstreams = (rows) => {
    seen = rows;
    return resolveAll(rows);
  };
  try {
    const deploy = await store.applyDeploy({
      upsert,
      delete: deleted,
      deploy: { ...record, status: 'succeeded', finishedAt: new Date() },
      resolve,
    });
    warnings.push(...unresolvedWarnings(unresolved, p));
    return { deploy, warnings, relineaged };
  } catch (e) {
    if (!isOptimusError(e) || e.code !== 'JOB_CYCLE') throw e;
    const cycles = findCycles(resolveUpstreams(seen).upstreams).filter((c) => c.some((k) => touched.has(k)));
    const problems = cycleProblems(e, cycles, p.candidates, base);
    const failed = await store.recordDeploy({
      ...record,
      added: [],
      modified: [],
      deleted: [],
      unchanged: 0,
      status: 'failed',
      finishedAt: new Date(),
      problems: problems as unknown as Json,
    });
    throw new DeployRejected(problems, failed.id, req.jobs.length, {
      code: 'DEPLOY_CYCLE',
      message: `deploy rejected: ${e.message}; nothing was changed`,
      hint: e.hint ?? 'remove one of the reads or dependencies on the cycle, then deploy again',
    });
  }
}

/**
 * What a deploy of this request would do, computed exactly as the deploy does (validation,
 * inference, upstream resolution over every project) but writing nothing: no job, no lineage, no
 * deploy record. Invalid input is refused with the deploy's problems.
 */
export async function planDeploy(
  deps: DeployDeps,
  req: DeployRequest,
): Promise<{ plan: DeployPlan; warnings: Problem[] }> {
  const { store } = deps;
  const p = await prepare(deps, req, false);
  const projectName = req.project.name;
  // The stored versions of modified jobs: a few read one by one, many in one query.
  const [rows, before] = await Promise.all([
    store.lineageRows(),
    p.modified.length > 100
      ? store.listJobs(projectName, req.namespace).then((all) => {
          const byName = new Map(all.map((j) => [j.name, j]));
          return p.modified.map((name) => byName.get(name));
        })
      : Promise.all(p.modified.map((name) => store.getJob(projectName, req.namespace, name))),
  ]);
  const byName = new Map(p.candidates.map((c) => [c.input.name, c]));
  const modified = p.modified.map((name, k) => {
    const old = before[k];
    const now = byName.get(name)!.input;
    return { name, changes: old ? specChanges(old.spec, now.spec, old.assets, now.assets) : [] };
  });

  const after = rowsAfter(rows, p, projectName, req.namespace);
  const resolution = resolveUpstreams(after);
  const touched = touchedKeys(p);
  const cycles = findCycles(resolution.upstreams).filter((c) => c.some((k) => touched.has(k)));
  const present = new Set(after.map((r) => jobKey(r.projectName, r.name)));
  const stored = new Map(rows.map((r) => [jobKey(r.projectName, r.name), r.upstreams]));
  // A deleted job's own edges go with it: only jobs that stay (or arrive) are listed.
  const upstreams = diffUpstreams(stored, resolution.upstreams)
    .filter((d) => present.has(d.job))
    .map(({ job, ...d }) => {
      const slash = job.indexOf('/');
      return { project: job.slice(0, slash), job: job.slice(slash + 1), ...d };
    });
  return {
    plan: {
      added: p.added,
      modified,
      deleted: p.deleted,
      unchanged: p.unchanged,
      relineaged: p.relineaged,
      upstreams,
      ...(cycles.length ? { cycles } : {}),
    },
    warnings: [...p.warnings, ...unresolvedWarnings(resolution.unresolved, p)],
  };
}

/**
 * For a manifest of `{name, hash}` (what the client would deploy), which jobs it must send in full
 * (new here, or content changed), which it can keep, and which the deploy would delete.
 */
export async function deployManifest(
  store: Store,
  projectName: string,
  namespace: string,
  jobs: readonly KeepEntry[],
): Promise<{ send: string[]; unchanged: string[]; deleted: string[] }> {
  const current = new Map(
    (await store.jobSummaries(projectName, { namespace })).map((s) => [s.name, s.hash]),
  );
  const send: string[] = [];
  const unchanged: string[] = [];
  for (const j of jobs) (current.get(j.name) === j.hash ? unchanged : send).push(j.name);
  const listed = new Set(jobs.map((j) => j.name));
  const deleted = [...current.keys()].filter((n) => !listed.has(n));
  const sort = (a: string[]) => a.sort((x, y) => x.localeCompare(y));
  return { send: sort(send), unchanged: sort(unchanged), deleted: sort(deleted) };
}

/** Validation, the keep check, the diff and inference: everything a deploy and a plan share. */
async function prepare(deps: DeployDeps, req: DeployRequest, record: boolean): Promise<Prepared> {
  const { store, plugins } = deps;
  const startedAt = new Date();
  const projectName = req.project.name;
  const problems: Problem[] = [];
  const rules = parseHookRules(req.project.pluginDependencies).rules;
  // Only the sent jobs' names can clash with another namespace's jobs: read those, not the project.
  const sentNames = req.jobs.flatMap((j) =>
    j !== null && typeof j === 'object' && typeof (j as { name?: unknown }).name === 'string'
      ? [(j as { name: string }).name]
      : [],
  );
  const [mine, namesake, secrets] = await Promise.all([
    store.jobSummaries(projectName, { namespace: req.namespace }),
    store.jobSummaries(projectName, { names: sentNames }),
    store.secretsVisibleTo(projectName, req.namespace),
  ]);
  const elsewhere = new Map(
    namesake.filter((s) => s.namespaceName !== req.namespace).map((s) => [s.name, s.namespaceName]),
  );
  const current = new Map(mine.map((s) => [s.name, s.hash]));
  const summaryOf = new Map(mine.map((s) => [s.name, s]));
  const keep = req.keep ?? [];
  // A stale manifest is the client's to fix by sending those jobs: before any validation work.
  const stale = keep.filter((k) => current.get(k.name) !== k.hash).map((k) => k.name);
  if (stale.length) throw new DeployStale(stale.sort());
  const secretSet = new Set(secrets.map((s) => s.name));

  const candidates: Candidate[] = [];
  const seen = new Map<string, number>();
  const windowPresets = req.project.windowPresets;
  // null: the client sent no presets, so they are not checked; none sent as {}: every preset is unknown.
  const presetNames = windowPresets ? Object.keys(windowPresets).map(normalisePresetName) : null;
  const presets = presetNames === null ? null : presetNames.length ? new Set(presetNames) : undefined;
  // Stryker disable next-line StringLiteral: without a cache the fingerprint is never used
  const fingerprint = deps.validated
    ? validationFingerprint(plugins, req.project.pluginDependencies, windowPresets)
    : '';
  const at = (
    i: number,
    path: PathSegment[],
    severity: 'error' | 'warning',
    code: string,
    message: string,
    hint?: string,
  ): Problem => ({
    severity,
    code,
    message,
    path: formatPath(['jobs', i, ...path]),
    ...(hint ? { hint } : {}),
  });
  req.jobs.forEach((value, i) => {
    // A job that is not an object is refused by loadJobValue below whatever this guard decides: it
    // only keeps such a value from being destructured.
    // Stryker disable ConditionalExpression: see above
    const raw =
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
    // Stryker restore ConditionalExpression
    const { assets: rawAssets, ...rest } = raw ?? {};
    const badAssets = assetProblems(rawAssets, i);
    problems.push(...badAssets);
    const hash = contentHash({ spec: rest, assets: rawAssets ?? {} });
    // Content this process already validated under the same plugins, hook rules and presets is valid
    // again (its asset names were checked above, as they are on every deploy).
    let runGraph = raw ? deps.validated?.get(fingerprint, hash) : undefined;
    let name: string;
    let configs: Record<string, string>[];
    let validSpec: JobSpec | undefined;
    // Stryker disable next-line ConditionalExpression: skipping the cache only costs time (validation gives the same answer)
    if (runGraph !== undefined) {
      name = String(rest.name);
      configs = configMaps(rest);
    } else {
      // Refused asset names are reported once, above; the job's other problems are still found.
      const checked = badAssets.length ? { ...raw, assets: withoutBadAssets(rawAssets) } : value;
      const report = checkLoadedJob(loadJobValue(checked, ['jobs', i]), req.namespace, {
        plugins,
        rules,
        presets,
      });
      problems.push(...report.problems);
      const spec = report.spec;
      if (!spec) return;
      validSpec = spec;
      name = spec.name;
      configs = [spec.task.config, ...spec.hooks.map((h) => h.config)];
      // The report keeps the nodes only; the builder is pure and cheap, so the edges' origins and
      // the dropped rules come from building the same graph again.
      runGraph = storedRunGraph(
        buildRunGraph({ task: spec.task, hooks: spec.hooks, plugins, rules }),
      ) as unknown as Json;
      if (!errorsOf(report.problems).length) deps.validated?.set(fingerprint, hash, runGraph);
    }
    if (seen.has(name)) {
      problems.push(
        at(
          i,
          ['name'],
          'error',
          'JOB_DUPLICATE',
          `job "${name}" is also jobs[${seen.get(name)}] of this deploy`,
        ),
      );
      return;
    }
    seen.set(name, i);
    const other = elsewhere.get(name);
    if (other) {
      problems.push(
        at(
          i,
          ['name'],
          'error',
          'JOB_NAME_TAKEN',
          `job "${name}" already exists in namespace "${other}" of this project`,
          'job names are unique per project: rename it, or delete it from the other namespace first',
        ),
      );
      return;
    }
    for (const secret of new Set(configs.flatMap((c) => Object.values(c).flatMap(secretNames)))) {
      if (!secretSet.has(secret)) {
        problems.push(
          at(
            i,
            [],
            'warning',
            'SECRET_MISSING',
            `job "${name}" uses secret ${secret}, which is not set for this namespace`,
            `set it with \`optimus secret set ${secret}\` before the job runs`,
          ),
        );
      }
    }
    const stored = current.get(name);
    // An invalid job left an error above, so the deploy is rejected before `candidates` is used.
    candidates.push({
      input: {
        projectName,
        namespaceName: req.namespace,
        name,
        spec: rest as Json,
        assets: (rawAssets ?? {}) as Record<string, string>,
        hash,
        runGraph,
      },
      path: ['jobs', i],
      state: stored === undefined ? 'added' : stored === hash ? 'unchanged' : 'modified',
      spec: once(() => validSpec ?? specOf(rest, rawAssets)),
    });
  });
  keep.forEach((k, j) => {
    if (seen.has(k.name))
      problems.push({
        severity: 'error',
        code: 'JOB_DUPLICATE',
        message: `job "${k.name}" is both kept and sent as jobs[${seen.get(k.name)}]`,
        path: formatPath(['keep', j, 'name']),
        hint: 'list a job either in `jobs` (to deploy it) or in `keep` (unchanged), not both',
      });
    seen.set(k.name, -1);
  });

  const base = { projectName, namespaceName: req.namespace, startedAt };
  const reject = async (): Promise<never> => {
    const errors = errorsOf(problems);
    const failed = record
      ? await store.recordDeploy({
          ...base,
          status: 'failed',
          finishedAt: new Date(),
          added: [],
          modified: [],
          deleted: [],
          unchanged: 0,
          problems: errors.slice(0, 1000) as unknown as Json,
        })
      : undefined;
    throw new DeployRejected(problems, failed?.id, req.jobs.length + keep.length);
  };
  if (errorsOf(problems).length) await reject();

  const relineaged: string[] = [];
  if (deps.inferrer) {
    const inferrer = deps.inferrer;
    const namespace = await store.getNamespace(projectName, req.namespace);
    const nsConfig = namespace?.config ?? {};
    if (keep.length) {
      // A kept job is not read from the store when its key did not change. The key depends on the
      // job's content hash (the kept hash), the configs and its task plugin, whose name the summary
      // holds; a changed key (or a key that reads more of the spec) loads the job.
      const keyOf =
        inferrer.keyer?.(req.project.config, nsConfig) ??
        ((taskName: string, hash: string) =>
          inferrer.key({
            projectName,
            namespaceName: req.namespace,
            spec: { name: '', task: { name: taskName } } as unknown as JobSpec,
            assets: {},
            hash,
            projectConfig: req.project.config,
            namespaceConfig: nsConfig,
          }));
      const unchanged = (k: KeepEntry) => {
        const s = summaryOf.get(k.name);
        if (!s?.lineageKey || s.taskName === null) return false;
        return keyOf(s.taskName, k.hash) === s.lineageKey;
      };
      candidates.push(...(await keptCandidates(store, projectName, req.namespace, keep, unchanged)));
    }
    const todo: { c: Candidate; req: InferRequest }[] = [];
    for (const c of candidates) {
      // The key reads the task's plugin name, which the job as sent (or stored) holds as the parsed
      // spec does: parsing 10,000 unchanged jobs only to find their keys unchanged would double the
      // time of an unchanged deploy.
      const light = inferRequest(c, c.input.spec as unknown as JobSpec, req.project.config, nsConfig);
      if (c.state !== 'unchanged' || inferrer.key(light) !== summaryOf.get(c.input.name)?.lineageKey)
        todo.push({ c, req: { ...light, spec: c.spec() } });
    }
    const results = todo.length ? await inferrer.infer(todo.map((t) => t.req)) : [];
    results.forEach((r, k) => {
      const { c } = todo[k]!;
      const where = formatPath(c.path);
      if (!r.ok) {
        const sub = r.problem.path;
        problems.push({
          ...r.problem,
          severity: 'error',
          path: sub ? `${where}${sub.startsWith('[') ? '' : '.'}${sub}` : where,
        });
        return;
      }
      c.lineage = r.lineage;
      c.input = { ...c.input, lineage: r.lineage };
      if (c.state === 'unchanged') relineaged.push(c.input.name);
      for (const w of r.lineage.warnings)
        problems.push({
          severity: 'warning',
          code: 'LINEAGE_WARNING',
          message: `job "${c.input.name}": ${w}`,
          path: where,
        });
    });
    if (errorsOf(problems).length) await reject();
  }

  const added: string[] = [];
  const modified: string[] = [];
  const upsert: JobInput[] = [];
  let unchanged = keep.length;
  for (const c of candidates) {
    if (c.state === 'added') added.push(c.input.name);
    else if (c.state === 'modified') modified.push(c.input.name);
    else if (c.path[0] === 'jobs') unchanged++;
    if (c.state !== 'unchanged' || c.lineage) upsert.push(c.input);
  }
  // Stryker disable next-line MethodExpression: the store lists jobs by name already; sorting keeps the record independent of that
  const deleted = [...current.keys()].filter((name) => !seen.has(name)).sort();
  return {
    base,
    candidates,
    upsert,
    added: added.sort(),
    modified: modified.sort(),
    deleted,
    unchanged,
    relineaged: relineaged.sort(),
    warnings: warningsOf(problems),
  };
}

/**
 * Kept jobs whose lineage key may have changed, as stored (their content is the stored content):
 * a few are read one by one, many in one query.
 */
async function keptCandidates(
  store: Store,
  projectName: string,
  namespace: string,
  keep: readonly KeepEntry[],
  unchanged: (k: KeepEntry) => boolean,
): Promise<Candidate[]> {
  const load = keep.flatMap((k, j) => (unchanged(k) ? [] : [{ k, j }]));
  if (!load.length) return [];
  const stored = new Map(
    (load.length > 100
      ? await store.listJobs(projectName, namespace)
      : (await Promise.all(load.map(({ k }) => store.getJob(projectName, namespace, k.name)))).filter(
          (j) => j !== undefined,
        )
    ).map((j) => [j.name, j]),
  );
  return load.map(({ k, j }) => {
    const job = stored.get(k.name)!;
    const { createdAt: _c, updatedAt: _u, lineage: _l, upstreams: _up, ...input } = job;
    return {
      input,
      path: ['keep', j],
      state: 'unchanged' as const,
      spec: once(() => specOf(job.spec as Record<string, unknown>, job.assets)),
    };
  });
}

function inferRequest(
  c: Candidate,
  spec: JobSpec,
  projectConfig: Record<string, string>,
  namespaceConfig: Record<string, string>,
): InferRequest {
  const { input } = c;
  return {
    projectName: input.projectName,
    namespaceName: input.namespaceName,
    spec,
    assets: input.assets,
    hash: input.hash,
    projectConfig,
    namespaceConfig,
  };
}

/** A stored or cached-valid job's spec as the validator would produce it. */
function specOf(spec: Record<string, unknown>, assets: unknown): JobSpec {
  const loaded = loadJobValue({ ...spec, assets: assets ?? {} }, []);
  // Stryker disable next-line ConditionalExpression: valid content parses; this only guards a broken store
  if (!loaded.spec)
    throw new OptimusError('JOB_SPEC_UNREADABLE', `job "${String(spec.name)}" cannot be read back`, {
      category: 'internal',
    });
  return loaded.spec;
}

function once<T>(f: () => T): () => T {
  let value: T | undefined;
  let done = false;
  return () => {
    if (!done) {
      value = f();
      done = true;
    }
    return value as T;
  };
}

/** Every job as it would be after the deploy, for a plan's resolution (the store does this for a deploy). */
function rowsAfter(
  rows: readonly LineageRow[],
  p: Prepared,
  projectName: string,
  namespace: string,
): LineageRow[] {
  const deleted = new Set(p.deleted);
  const mine = new Map(p.candidates.map((c) => [c.input.name, c]));
  const out: LineageRow[] = [];
  const present = new Set<string>();
  const rowOf = (c: Candidate, prev: LineageRow | undefined): LineageRow => ({
    projectName,
    namespaceName: namespace,
    name: c.input.name,
    destination: c.lineage ? c.lineage.destination : (prev?.destination ?? null),
    sources: c.lineage ? c.lineage.sources : (prev?.sources ?? []),
    staticDependencies: staticDependencies(c.input.spec),
    upstreams: prev?.upstreams ?? [],
  });
  for (const r of rows) {
    if (r.projectName === projectName && r.namespaceName === namespace && deleted.has(r.name)) continue;
    const c = r.projectName === projectName ? mine.get(r.name) : undefined;
    out.push(c ? rowOf(c, r) : r);
    if (c) present.add(c.input.name);
  }
  for (const c of p.candidates) if (!present.has(c.input.name)) out.push(rowOf(c, undefined));
  return out;
}

/** `dependencies[i]: job x is not deployed` for the jobs this deploy sent. */
function unresolvedWarnings(unresolved: readonly UnresolvedDependency[], p: Prepared): Problem[] {
  const { projectName, namespaceName } = p.base;
  const sent = new Map(p.candidates.filter((c) => c.path[0] === 'jobs').map((c) => [c.input.name, c]));
  const out: Problem[] = [];
  for (const u of unresolved) {
    const c =
      u.projectName === projectName && u.namespaceName === namespaceName ? sent.get(u.name) : undefined;
    if (!c) continue;
    const d = u.dependency;
    const shown = d.project && d.project !== projectName ? `${d.project}/${d.job}` : d.job;
    out.push({
      severity: 'warning',
      code: 'DEPENDENCY_UNRESOLVED',
      message: `dependencies[${d.index}]: job ${shown} is not deployed; runs will not wait for it`,
      path: formatPath([...c.path, 'dependencies', d.index]),
      hint: 'deploy that job, or fix the name under dependencies',
    });
  }
  return out;
}

/** Keys of the jobs a deploy writes: only a cycle through one of them refuses it. */
function touchedKeys(p: Prepared): Set<string> {
  return new Set(p.upsert.map((j) => jobKey(j.projectName, j.name)));
}

/** A refused cycle as problems: one per job of this deploy on it, else one naming the cycle. */
function cycleProblems(
  e: OptimusError,
  cycles: readonly string[][],
  candidates: readonly Candidate[],
  base: { projectName: string },
): Problem[] {
  const byKey = new Map(candidates.map((c) => [`${base.projectName}/${c.input.name}`, c]));
  const out: Problem[] = [];
  for (const cycle of cycles) {
    // Closed walks (`a → b → a`), as core/lineage.ts writes them.
    const shown = cycle.join(' → ');
    for (const member of new Set(cycle)) {
      const c = byKey.get(member);
      if (c)
        out.push({
          severity: 'error',
          code: 'JOB_CYCLE',
          message: `job "${c.input.name}" is on a dependency cycle: ${shown}`,
          path: formatPath(c.path),
          hint: 'remove one of the reads or dependencies on the cycle',
        });
    }
  }
  if (!out.length)
    out.push({
      severity: 'error',
      code: 'JOB_CYCLE',
      message: e.message,
      ...(e.hint ? { hint: e.hint } : {}),
    });
  return out;
}

/**
 * Field-by-field changes between two versions of a job: spec leaves with their values (configs
 * hold only secret references, never values), assets by name only (they may be large).
 */
export function specChanges(
  before: Json,
  after: Json,
  beforeAssets: Record<string, string>,
  afterAssets: Record<string, string>,
): FieldChange[] {
  const out: FieldChange[] = [];
  diffJson(before, after, [], out);
  for (const name of [...new Set([...Object.keys(beforeAssets), ...Object.keys(afterAssets)])].sort()) {
    const a = beforeAssets[name];
    const b = afterAssets[name];
    if (a === b) continue;
    out.push({
      path: `assets.${name}`,
      change: a === undefined ? 'added' : b === undefined ? 'removed' : 'modified',
    });
  }
  return out;
}

function diffJson(a: Json | undefined, b: Json | undefined, path: PathSegment[], out: FieldChange[]): void {
  const isMap = (v: unknown): v is Record<string, Json> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isMap(a) && isMap(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
      diffJson(a[k], b[k], [...path, k], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) diffJson(a[i], b[i], [...path, i], out);
    return;
  }
  if (a !== undefined && b !== undefined && canonicalJson(a) === canonicalJson(b)) return;
  out.push({
    path: formatPath(path),
    ...(a === undefined ? {} : { before: a }),
    ...(b === undefined ? {} : { after: b }),
  });
}

/** Asset names that could escape the job's assets folder or confuse a file system, as problems. */
function assetProblems(assets: unknown, i: number): Problem[] {
  const out: Problem[] = [];
  // Assets that are not a map are loadJobValue's to report. Only a map's keys are names: a string's
  // would be one per character (a huge asset string must not become millions of keys).
  // Stryker disable next-line ConditionalExpression,LogicalOperator: strings and arrays only have index keys, which are valid names
  if (assets === null || typeof assets !== 'object' || Array.isArray(assets)) return out;
  for (const name of Object.keys(assets)) {
    const why = assetNameProblem(name);
    if (why)
      out.push({
        severity: 'error',
        code: 'ASSET_NAME_INVALID',
        message: `asset ${quote(name)}: ${why}`,
        path: formatPath(['jobs', i, 'assets', name]),
        hint: 'keep assets as files under the job folder’s assets/, named by their path inside it',
      });
  }
  return out;
}

function withoutBadAssets(assets: unknown): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(assets as Record<string, unknown>).filter(([name]) => !assetNameProblem(name)),
  );
}

/** The config maps of a job given as data (task, then hooks), as strings. */
function configMaps(job: Record<string, unknown>): Record<string, string>[] {
  const asMap = (v: unknown) =>
    Object.fromEntries(
      Object.entries((v ?? {}) as Record<string, unknown>).map(([k, x]) => [
        k,
        // Stryker disable next-line StringLiteral: an empty config value names no secret, nor does any placeholder
        x === null || x === undefined ? '' : String(x),
      ]),
    );
  const task = (job.task ?? {}) as Record<string, unknown>;
  return [
    asMap(task.config),
    ...((job.hooks ?? []) as Record<string, unknown>[]).map((h) => asMap(h.config)),
  ];
}

/** What a job's validity depends on besides its own content: plugin specs, hook rules, presets. */
export function validationFingerprint(
  plugins: ReadonlyMap<string, Plugin>,
  rules: readonly string[],
  presets: Record<string, Json> | null = null,
): string {
  const specs = [...plugins.values()]
    .map(({ source: _source, ...p }) => p)
    .sort((a, b) => a.name.localeCompare(b.name));
  return contentHash({ specs, rules, presets });
}

/**
 * Job contents this process has validated, keyed by (fingerprint, content hash), with their run
 * graphs. Content-addressed, so it can never be stale; bounded, oldest entries go first.
 */
export interface ValidatedJobs {
  get(fingerprint: string, hash: string): Json | undefined;
  set(fingerprint: string, hash: string, runGraph: Json): void;
}

export function createValidatedJobs(max = 200_000): ValidatedJobs {
  const entries = new Map<string, Json>();
  return {
    get: (fp, hash) => entries.get(`${fp}:${hash}`),
    set(fp, hash, runGraph) {
      const key = `${fp}:${hash}`;
      entries.delete(key);
      entries.set(key, runGraph);
      if (entries.size > max) entries.delete(entries.keys().next().value!);
    },
  };
}
