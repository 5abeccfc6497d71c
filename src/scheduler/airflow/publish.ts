/**
 * Publishing DAGs: a project's jobs compiled into one DAG file each plus the shared helper module,
 * synced to the project's storage path (only changed files are written). The CLI (`optimus
 * scheduler compile`), the server (after each deploy and job delete when scheduler.type is airflow)
 * and the bench all go through `compileProjectDags` and `syncDags`.
 *
 * On the server a failed publish never fails or undoes the deploy: it becomes a warning in the
 * deploy's answer and in the log, and the next publish repairs it (the sync writes whatever the
 * manifest does not record as written).
 */
import type { Logger } from 'pino';
import { isOptimusError, OptimusError } from '../../core/errors.js';
import { jobKey } from '../../core/lineage.js';
import type { Plugin } from '../../core/plugin.js';
import type { Problem } from '../../core/problem.js';
import type { NodeStage, RunNode } from '../../core/run-graph.js';
import type { ProviderConfig } from '../../plugins/install/config.js';
import { loadJobValue } from '../../spec/job-spec.js';
import type { JobRecord, Store } from '../../store/store.js';
import {
  type DagJobSource,
  type DagUpstream,
  DEFAULT_BASE_IMAGE,
  DEFAULT_REGISTRY,
  dagPath,
  libPath,
} from './contract.js';
import { compileDag, dagJobOf } from './dag-compiler.js';
import { displayStorageUrl, openDagStorage, type SyncReport, sha256, syncDags } from './dag-storage.js';
import { libPy } from './lib-py.js';

export interface CompileFailure {
  namespace: string;
  job: string;
  code: string;
  message: string;
}

/** One job to compile: its source loaded only when its DAG is not in the cache under the same key. */
export interface DagInput {
  namespace: string;
  name: string;
  /**
   * Everything the DAG depends on besides the plugin set, images and host (which the cache checks
   * as a whole): equal keys give equal DAGs. Absent: always compiled.
   */
  key?: string;
  /** Undefined: the stored job cannot be read back (it is skipped, its previous DAG kept). */
  load: () => DagJobSource | undefined;
}

/** Compiled DAGs kept between compiles by a long-lived process (the server), per project. */
export interface DagCache {
  /** What every entry was compiled with: the plugin set (by identity), images and host. */
  context?: { plugins: unknown; images: string; host: string };
  entries: Map<string, { key: string; text: string; hash: string }>;
}

export interface CompiledProject {
  /** Storage-relative path → file text: one DAG per compiled job, and the helper module. */
  files: Map<string, string>;
  /** sha256 of the texts that came from the cache (syncDags need not hash them again). */
  hashes: Map<string, string>;
  /** Jobs that could not be compiled (their previous DAG file, if any, is kept). */
  failures: CompileFailure[];
  /** dagPath of each failed or unreadable job, for `syncDags`'s `keep`. */
  keep: Set<string>;
  /** How many DAGs were compiled (the rest came from the cache). */
  compiled: number;
}

export const dagInputOf = (source: DagJobSource): DagInput => ({
  namespace: source.namespace,
  name: source.spec.name,
  load: () => source,
});

/**
 * Every job's DAG and the helper module. Deterministic: the same sources give the same bytes. With
 * a cache, a job whose key is unchanged (under the same plugins, images and host) is neither loaded
 * nor compiled again: a re-compile after one job changed compiles one.
 */
export function compileProjectDags(
  inputs: readonly (DagJobSource | DagInput)[],
  opts: { optimusHost: string; cache?: DagCache; context?: { plugins: unknown; images: string } },
): CompiledProject {
  const files = new Map<string, string>();
  const hashes = new Map<string, string>();
  const failures: CompileFailure[] = [];
  const keep = new Set<string>();
  const cache = opts.cache;
  if (cache) {
    const ctx = {
      plugins: opts.context?.plugins,
      images: opts.context?.images ?? '',
      host: opts.optimusHost,
    };
    const same =
      cache.context?.plugins === ctx.plugins &&
      cache.context?.images === ctx.images &&
      cache.context?.host === ctx.host;
    if (!same) {
      cache.entries.clear();
      cache.context = ctx;
    }
  }
  files.set(libPath(), libPy());
  let compiled = 0;
  const seen = new Set<string>();
  for (const item of inputs) {
    const input = 'load' in item ? item : dagInputOf(item);
    const path = dagPath(input.namespace, input.name);
    seen.add(path);
    const hit = input.key !== undefined ? cache?.entries.get(path) : undefined;
    if (hit && hit.key === input.key) {
      files.set(path, hit.text);
      hashes.set(path, hit.hash);
      continue;
    }
    const source = input.load();
    if (!source) {
      keep.add(path);
      continue;
    }
    try {
      const text = compileDag(dagJobOf(source), { optimusHost: opts.optimusHost });
      compiled++;
      files.set(path, text);
      if (cache && input.key !== undefined) {
        const hash = sha256(text);
        cache.entries.set(path, { key: input.key, text, hash });
        hashes.set(path, hash);
      }
    } catch (e) {
      if (!isOptimusError(e)) throw e;
      cache?.entries.delete(path);
      keep.add(path);
      failures.push({ namespace: input.namespace, job: input.name, code: e.code, message: e.message });
    }
  }
  if (cache) for (const path of cache.entries.keys()) if (!seen.has(path)) cache.entries.delete(path);
  return { files, hashes, failures, keep, compiled };
}

/** The storage path of a project: its config's STORAGE_PATH, else the server's, one folder per project. */
export function projectStoragePath(
  projectName: string,
  projectConfig: Record<string, string>,
  serverStoragePath: string | undefined,
): { url: string; field: string } | undefined {
  const own = Object.entries(projectConfig).find(([k]) => k.toUpperCase() === 'STORAGE_PATH')?.[1];
  if (own) return { url: own, field: 'project config STORAGE_PATH' };
  if (!serverStoragePath) return undefined;
  // One server path serves every project: each gets its own folder, so two projects' namespaces
  // and jobs of the same name cannot overwrite each other's DAGs or manifest.
  return {
    url: `${serverStoragePath.replace(/\/+$/, '')}/${projectName}`,
    field: 'scheduler.storage_path',
  };
}

export interface DagPublisherDeps {
  store: Store;
  /** The plugins the server serves now (they reload). */
  plugins: () => ReadonlyMap<string, Plugin>;
  scheduler: {
    storagePath?: string | undefined;
    baseImage?: string | undefined;
    registry?: string | undefined;
  };
  /** The server's plugin providers: bucket credentials and endpoints. */
  providers: readonly ProviderConfig[];
  /** Where pods reach this server: serve.ingress_host, else its own URL (known once it listens). */
  optimusHost: () => string;
  logger?: Pick<Logger, 'info' | 'warn'>;
  env?: NodeJS.ProcessEnv;
}

export interface PublishOutcome {
  project: string;
  storage?: string;
  report?: SyncReport;
  warnings: Problem[];
}

export interface DagPublisher {
  /**
   * Call before changing `project`'s jobs; the function it returns publishes, after the change, that
   * project and every project with a job whose upstreams point into it (before or after: an edge
   * that the change removed changes that job's sensors too). Never throws: failures are warnings.
   */
  track(project: string): Promise<() => Promise<PublishOutcome[]>>;
  publish(project: string): Promise<PublishOutcome>;
}

export function createDagPublisher(deps: DagPublisherDeps): DagPublisher {
  // Compiled DAGs by project: a deploy that changed one job compiles one.
  const caches = new Map<string, DagCache>();
  // Publishes of one storage path take turns: two at once would race on the manifest.
  const queues = new Map<string, Promise<unknown>>();
  const serialised = <T>(key: string, f: () => Promise<T>): Promise<T> => {
    const prev = queues.get(key) ?? Promise.resolve();
    const next = prev.then(f, f);
    const tail = next.catch(() => {});
    queues.set(key, tail);
    void tail.then(() => {
      if (queues.get(key) === tail) queues.delete(key);
    });
    return next;
  };

  const dependents = async (project: string): Promise<Set<string>> => {
    const out = new Set<string>();
    for (const row of await deps.store.lineageRows())
      if (row.projectName !== project && row.upstreams.some((u) => u.project === project))
        out.add(row.projectName);
    return out;
  };

  const publish = async (projectName: string): Promise<PublishOutcome> => {
    const warnings: Problem[] = [];
    const warn = (code: string, message: string, hint: string) => {
      warnings.push({ severity: 'warning', code, message, hint });
      deps.logger?.warn({ project: projectName, code }, message);
    };
    const project = await deps.store.getProject(projectName);
    if (!project) return { project: projectName, warnings };
    const where = projectStoragePath(projectName, project.config, deps.scheduler.storagePath);
    if (!where) {
      warn(
        'DAG_STORAGE_MISSING',
        `project "${projectName}": no storage path, so its DAGs were not written`,
        'set STORAGE_PATH in the project config (optimus.yaml project.config) or scheduler.storage_path in the server config',
      );
      return { project: projectName, warnings };
    }
    const shown = displayStorageUrl(where.url);
    try {
      return await serialised(where.url, async () => {
        const storage = await openDagStorage(where.url, {
          field: where.field,
          providers: deps.providers,
          ...(deps.env ? { env: deps.env } : {}),
        });
        const plugins = deps.plugins();
        const images = imagesOf(deps);
        const inputs = await projectInputs(deps.store, projectName, plugins, images);
        const cache = caches.get(projectName) ?? { entries: new Map() };
        caches.set(projectName, cache);
        const compiled = compileProjectDags(inputs, {
          optimusHost: deps.optimusHost(),
          cache,
          context: { plugins, images: `${images.baseImage} ${images.registry}` },
        });
        for (const f of compiled.failures)
          warn(
            'DAG_COMPILE_FAILED',
            `job "${f.job}" (${f.namespace}): its DAG was not compiled: ${f.message} [${f.code}]`,
            'deploy the job again once its plugins are served; its previous DAG file is kept until then',
          );
        const report = await syncDags(storage, compiled.files, {
          keep: compiled.keep,
          hashes: compiled.hashes,
        });
        if (report.written.length || report.deleted.length)
          deps.logger?.info(
            {
              project: projectName,
              storage: shown,
              written: report.written.length,
              deleted: report.deleted.length,
              unchanged: report.unchanged,
            },
            'DAGs published',
          );
        return { project: projectName, storage: shown, report, warnings };
      });
    } catch (e) {
      // A bug, not a storage answer: its name goes to the log (a library's message might quote a request).
      if (!isOptimusError(e))
        deps.logger?.warn(
          { project: projectName, error: (e as Error)?.name ?? typeof e },
          'DAG publish crashed',
        );
      const err = isOptimusError(e)
        ? e
        : new OptimusError('DAG_PUBLISH_FAILED', 'unexpected error', { category: 'internal' });
      warn(
        err.code === 'DAG_STORAGE_INVALID' ? err.code : 'DAG_PUBLISH_FAILED',
        `project "${projectName}": DAGs not (fully) published to ${shown}: ${err.message}`,
        `${err.hint ? `${err.hint}; ` : ''}the deploy itself succeeded, and the next deploy writes what is missing`,
      );
      return { project: projectName, storage: shown, warnings };
    }
  };

  return {
    publish,
    async track(project) {
      const before = await dependents(project).catch(() => new Set<string>());
      return async () => {
        const after = await dependents(project).catch(() => new Set<string>());
        const projects = [project, ...[...new Set([...before, ...after])].sort()];
        const out: PublishOutcome[] = [];
        for (const p of projects) out.push(await publish(p));
        return out;
      };
    },
  };
}

const imagesOf = (deps: DagPublisherDeps) => ({
  baseImage: deps.scheduler.baseImage ?? DEFAULT_BASE_IMAGE,
  registry: deps.scheduler.registry ?? DEFAULT_REGISTRY,
});

/** A project's deployed jobs as the compiler takes them, in a stable order, each parsed only if compiled. */
async function projectInputs(
  store: Store,
  projectName: string,
  plugins: ReadonlyMap<string, Plugin>,
  images: DagJobSource['images'],
): Promise<DagInput[]> {
  const inputs: DagInput[] = [];
  const namespaces = await store.listNamespaces(projectName);
  for (const ns of [...namespaces].sort((a, b) => compare(a.name, b.name))) {
    const jobs = await store.listJobs(projectName, ns.name);
    for (const job of [...jobs].sort((a, b) => compare(a.name, b.name))) {
      const upstreams = storedUpstreams(job);
      inputs.push({
        namespace: ns.name,
        name: job.name,
        // The content hash covers spec and assets; the run graph and upstreams are stored beside it.
        key: `${job.hash} ${JSON.stringify(job.runGraph)} ${JSON.stringify(upstreams)}`,
        load: () => {
          const spec = storedSpec(job);
          if (!spec) return undefined;
          return {
            project: projectName,
            namespace: ns.name,
            spec,
            nodes: storedNodes(job),
            plugins,
            images,
            upstreams,
          };
        },
      });
    }
  }
  return inputs;
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function storedSpec(job: JobRecord): DagJobSource['spec'] | undefined {
  const spec = job.spec;
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return undefined;
  return loadJobValue({ ...spec, assets: job.assets }, []).spec;
}

const STAGES: readonly NodeStage[] = ['pre', 'task', 'post', 'fail'];

/** The run graph as the deploy stored it (`{name, type, stage, depends_on}`). */
function storedNodes(job: JobRecord): RunNode[] {
  const graph = Array.isArray(job.runGraph) ? job.runGraph : [];
  const nodes: RunNode[] = [];
  for (const entry of graph) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue;
    const { name, type, stage, depends_on } = entry as Record<string, unknown>;
    if (typeof name !== 'string' || !STAGES.includes(stage as NodeStage)) continue;
    nodes.push({
      name,
      type: typeof type === 'string' ? type : name,
      stage: stage as NodeStage,
      dependsOn: Array.isArray(depends_on)
        ? depends_on.filter((d): d is string => typeof d === 'string')
        : [],
    });
  }
  return nodes;
}

/** Stored upstream edges as sensors need them: one per upstream job, sorted. */
function storedUpstreams(job: JobRecord): DagUpstream[] {
  const seen = new Map<string, DagUpstream>();
  for (const u of job.upstreams)
    seen.set(jobKey(u.project, u.job), { project: u.project, namespace: u.namespace, job: u.job });
  return [...seen.entries()].sort(([a], [b]) => compare(a, b)).map(([, u]) => u);
}
