/**
 * The store port: everything the server's services need from persistence. One Kysely
 * implementation serves both the embedded store (PGlite in a data directory) and PostgreSQL; one
 * contract suite (test/store/store.case.ts) runs against both.
 *
 * Conventions: names are compared exactly (callers normalise case); JSON columns round-trip plain
 * JSON values; timestamps are `Date`s. A write that would break a uniqueness rule throws an
 * `OptimusError` with category `conflict`; an update or delete of something missing returns
 * `undefined`/`false` rather than throwing, so services choose the message.
 */
import type {
  JobLineage,
  LineageStore,
  ResolveUpstreams,
  StaticDependency,
  UpstreamEdge,
} from './lineage-store.js';
import type { ReplayStore } from './replay-store.js';
import type { RunStatus, RunStore } from './run-store.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ProjectRecord {
  name: string;
  config: Record<string, string>;
  /** Project-level hook ordering rules, e.g. "a >> b,c". */
  pluginDependencies: string[];
  /** Window presets by name (the presets file's `presets`); null = none sent, presets not checked. */
  windowPresets: Record<string, Json> | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NamespaceRecord {
  projectName: string;
  name: string;
  config: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

export interface SecretRecord {
  projectName: string;
  /** Unique per project, whatever the namespace. */
  name: string;
  /** null = a project-level secret, visible to every namespace. */
  namespaceName: string | null;
  /** AES-256-GCM output (nonce + ciphertext + tag), base64. Never a plain value. */
  ciphertext: string;
  /** Digest of the ciphertext, shown in listings. */
  digest: string;
  createdAt: Date;
  updatedAt: Date;
}

export type SecretInput = Omit<SecretRecord, 'createdAt' | 'updatedAt'>;

export interface JobRecord {
  projectName: string;
  namespaceName: string;
  name: string;
  /** The job spec as deployed (job.yaml fields after inheritance, JSON). */
  spec: Json;
  /** Asset path → content. */
  assets: Record<string, string>;
  /** Content hash of spec + assets: equal hash = unchanged job. */
  hash: string;
  /** The run graph computed at deploy time (JSON). */
  runGraph: Json;
  /** What inference found; null = never inferred (no resolver, or stored before lineage). */
  lineage: JobLineage | null;
  /** Resolved by the last deploy that resolved upstreams (applyDeploy with `resolve`), sorted. */
  upstreams: UpstreamEdge[];
  createdAt: Date;
  updatedAt: Date;
}

export type JobInput = Omit<JobRecord, 'createdAt' | 'updatedAt' | 'lineage' | 'upstreams'> & {
  /** Absent or null: stored as null (never inferred). */
  lineage?: JobLineage | null;
  /** Absent: computed from `spec` (core/lineage.ts `staticDependencies`). */
  staticDependencies?: StaticDependency[];
};

export interface JobSummary {
  namespaceName: string;
  name: string;
  hash: string;
  /** The stored lineage's key: a deploy re-infers a job only when its key changed. */
  lineageKey: string | null;
  /** The task's plugin as the stored spec names it (`task.name`); null when the spec has none. */
  taskName: string | null;
  updatedAt: Date;
}

export type DeployStatus = 'succeeded' | 'unchanged' | 'failed';

export interface DeployInput {
  projectName: string;
  namespaceName: string;
  status: DeployStatus;
  startedAt: Date;
  finishedAt: Date;
  added: string[];
  modified: string[];
  deleted: string[];
  unchanged: number;
  /** Problems reported for a failed deploy (JSON). */
  problems: Json;
}

export interface DeployRecord extends DeployInput {
  id: number;
}

/** Which jobs `jobIndex` lists; every field narrows the list (absent: no narrowing). */
export interface JobIndexFilter {
  /** Case-insensitive substring of the job's name or owner. */
  q?: string;
  project?: string;
  namespace?: string;
  /** Jobs that use this plugin as their task or as one of their hooks. */
  plugin?: string;
  /** The status of the job's newest run (by scheduled time); `never`: the job has no run. */
  lastStatus?: RunStatus | 'never';
  limit: number;
  offset: number;
}

export interface JobIndexRow {
  projectName: string;
  namespaceName: string;
  name: string;
  /** The task's plugin (`task.name`). */
  task: string;
  /** The plugin of each hook, in run order (from the stored run graph). */
  hooks: string[];
  /** `schedule.interval`; null when the job has none. */
  schedule: string | null;
  owner: string | null;
  updatedAt: Date;
  /** The job's newest run by scheduled time; null when it has none. */
  lastRun: { id: number; status: RunStatus; scheduledAt: Date } | null;
}

/** One use of a plugin by a deployed job: as its task, or as one of its hooks (by hook name). */
export interface PluginUse {
  projectName: string;
  namespaceName: string;
  job: string;
  as: 'task' | 'hook';
  hook: string | null;
}

export interface Store extends RunStore, LineageStore, ReplayStore {
  readonly kind: 'pglite' | 'postgres';

  upsertProject(p: {
    name: string;
    config: Record<string, string>;
    pluginDependencies: string[];
    /** Absent or null: the client sent no presets. */
    windowPresets?: Record<string, Json> | null;
  }): Promise<ProjectRecord>;
  getProject(name: string): Promise<ProjectRecord | undefined>;
  listProjects(): Promise<ProjectRecord[]>;

  /** Throws `conflict`-category OptimusError (code PROJECT_NOT_FOUND is the caller's job) — the project must exist. */
  upsertNamespace(n: {
    projectName: string;
    name: string;
    config: Record<string, string>;
  }): Promise<NamespaceRecord>;
  getNamespace(projectName: string, name: string): Promise<NamespaceRecord | undefined>;
  listNamespaces(projectName: string): Promise<NamespaceRecord[]>;

  /** Throws a `conflict` OptimusError (SECRET_EXISTS) when the name exists in the project. */
  insertSecret(s: SecretInput): Promise<SecretRecord>;
  /** undefined when no such secret. */
  updateSecret(s: SecretInput): Promise<SecretRecord | undefined>;
  /** With a namespace, deletes only the secret of that namespace. */
  deleteSecret(projectName: string, name: string, namespaceName?: string | null): Promise<boolean>;
  getSecret(projectName: string, name: string): Promise<SecretRecord | undefined>;
  listSecrets(projectName: string): Promise<SecretRecord[]>;
  /** Project-level secrets plus those of the namespace. */
  secretsVisibleTo(projectName: string, namespaceName: string): Promise<SecretRecord[]>;

  /**
   * Every job of the project (names are unique per project), without specs; only those of one
   * namespace, or only those of these names, when asked (a deploy that sends few jobs of a large
   * project reads few rows).
   */
  jobSummaries(
    projectName: string,
    only?: { namespace?: string; names?: readonly string[] },
  ): Promise<JobSummary[]>;
  listJobs(projectName: string, namespaceName: string): Promise<JobRecord[]>;
  getJob(projectName: string, namespaceName: string, name: string): Promise<JobRecord | undefined>;
  /** Also removes the edges other jobs had to it, so none points at a job that is gone. */
  deleteJob(projectName: string, namespaceName: string, name: string): Promise<boolean>;
  /**
   * In ONE transaction: upsert `upsert` (insert or replace by project+name), delete the named jobs of
   * the namespace, record the deploy. Either all of it is visible afterwards or none of it (a crash
   * mid-way leaves the previous state). Must handle 10,000 jobs with 1 KiB assets in well under 10 s.
   *
   * With `resolve`: under one store-wide lock (deploys that resolve take turns, whatever their
   * namespace), `resolve` gets every job's lineage row as it will be after the deploy's deletes and
   * upserts, and the lists it returns are written with them; if it throws, nothing of the deploy is
   * applied and its error is rethrown as is.
   * Without it, stored upstreams are left as they are.
   */
  applyDeploy(change: {
    upsert: JobInput[];
    delete: string[];
    deploy: DeployInput;
    resolve?: ResolveUpstreams;
  }): Promise<DeployRecord>;
  /** Record a deploy that changed no job (unchanged or failed). */
  recordDeploy(deploy: DeployInput): Promise<DeployRecord>;
  /** Newest first. */
  listDeploys(projectName: string, namespaceName: string, limit?: number): Promise<DeployRecord[]>;
  /** Newest first, across namespaces and projects unless narrowed. */
  recentDeploys(filter: { project?: string; namespace?: string; limit: number }): Promise<DeployRecord[]>;

  /**
   * Every deployed job matching `filter`, across projects, sorted by project, namespace and name
   * (byte order), one page of it and how many match in all. A fixed number of statements whatever
   * the number of jobs: the filtering, the newest run of each job and the paging happen in SQL.
   */
  jobIndex(filter: JobIndexFilter): Promise<{ total: number; jobs: JobIndexRow[] }>;
  /**
   * The deployed jobs that use `plugin` (by the plugin each node of their stored run graph runs),
   * sorted by project, namespace, job and run order; at most `limit`, and how many in all.
   */
  pluginUsage(plugin: string, limit: number): Promise<{ total: number; uses: PluginUse[] }>;

  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres://… ; when absent the embedded store is used. */
  url?: string;
  /** Embedded store data directory; absent = in memory (tests). */
  dataDir?: string;
}
