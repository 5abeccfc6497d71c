/**
 * Kysely table types for the store. JSON columns are `jsonb`: they read back as parsed values and
 * are written as JSON text (`JSON.stringify`), which both `pg` and PGlite pass to the server as is.
 */
import type { ColumnType, Generated } from 'kysely';
import type { StaticDependency, UpstreamEdge } from './lineage-store.js';
import type { Json } from './store.js';

/** Read as T, written as JSON text. */
type JsonColumn<T> = ColumnType<T, string, string>;
/** Defaults to now() on insert. */
type CreatedAt = ColumnType<Date, never, never>;
type UpdatedAt = ColumnType<Date, Date | undefined, Date>;

export interface ProjectsTable {
  name: string;
  config: JsonColumn<Record<string, string>>;
  plugin_dependencies: JsonColumn<string[]>;
  window_presets: ColumnType<Record<string, Json> | null, string | null, string | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface NamespacesTable {
  project_name: string;
  name: string;
  config: JsonColumn<Record<string, string>>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SecretsTable {
  project_name: string;
  name: string;
  namespace_name: string | null;
  ciphertext: string;
  digest: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface JobsTable {
  project_name: string;
  namespace_name: string;
  name: string;
  spec: JsonColumn<Json>;
  assets: JsonColumn<Record<string, string>>;
  hash: string;
  run_graph: JsonColumn<Json>;
  /** Lineage (migration 0004): null key = never inferred. */
  lineage_key: string | null;
  destination: string | null;
  sources: ColumnType<string[], string | undefined, string>;
  lineage_warnings: ColumnType<string[], string | undefined, string>;
  static_deps: ColumnType<StaticDependency[], string | undefined, string>;
  /** Written only by upstream resolution (applyDeploy with `resolve`, deleteJob). */
  upstreams: ColumnType<UpstreamEdge[], string | undefined, string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface DeploysTable {
  id: Generated<number>;
  project_name: string;
  namespace_name: string;
  status: string;
  started_at: Date;
  finished_at: Date;
  added: JsonColumn<string[]>;
  modified: JsonColumn<string[]>;
  deleted: JsonColumn<string[]>;
  unchanged: number;
  problems: JsonColumn<Json>;
}

/**
 * A `bigint` id: PGlite reads it as a number (a bigint past 2^53), `pg` as a string. Mappers turn
 * it into a number.
 */
type BigId = ColumnType<number | string | bigint, number, number>;
/** A timestamp column written from a Date (or left null). */
type Timestamp = ColumnType<Date, Date, Date>;
type NullableTimestamp = ColumnType<Date | null, Date | null | undefined, Date | null>;

export interface RunsTable {
  id: ColumnType<number | string | bigint, never, never>;
  project_name: string;
  namespace_name: string;
  job_name: string;
  scheduled_at: Timestamp;
  trigger: string;
  status: string;
  job_hash: string;
  settings: JsonColumn<Json>;
  note: string | null;
  created_at: CreatedAt;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  /** The replay that created the run (migration 0005); null for scheduled and manual runs. */
  replay_id: ColumnType<number | string | bigint | null, number | null | undefined, number | null>;
}

export interface ReplaysTable {
  id: ColumnType<number | string | bigint, never, never>;
  project_name: string;
  namespace_name: string;
  job_name: string;
  range_from: Timestamp;
  range_to: Timestamp;
  downstream: boolean;
  parallel: boolean;
  status: string;
  note: string | null;
  jobs: JsonColumn<Json>;
  items: JsonColumn<Json>;
  created_at: CreatedAt;
  finished_at: NullableTimestamp;
}

export interface RunNodesTable {
  run_id: BigId;
  name: string;
  type: string;
  stage: string;
  depends_on: JsonColumn<string[]>;
  ordinal: number;
  status: string;
  attempt: ColumnType<number, number | undefined, number>;
  not_before: NullableTimestamp;
  lease_owner: string | null;
  lease_expires_at: NullableTimestamp;
  handle: ColumnType<Json | null, string | null | undefined, string | null>;
  cancel_requested: ColumnType<boolean, boolean | undefined, boolean>;
  started_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  exit_code: number | null;
  error: string | null;
  /** Attempts started before the last manual retry (migration 0006). */
  attempts_before: ColumnType<number, number | undefined, number>;
}

/** One attempt of one node (migration 0006). */
export interface RunAttemptsTable {
  run_id: BigId;
  node: string;
  attempt: number;
  status: string;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
  exit_code: number | null;
  error: string | null;
}

export interface RunLogsTable {
  id: ColumnType<number | string | bigint, never, never>;
  run_id: BigId;
  node: string;
  attempt: number;
  stream: string;
  at: Timestamp;
  line: string;
}

export interface Database {
  projects: ProjectsTable;
  namespaces: NamespacesTable;
  secrets: SecretsTable;
  jobs: JobsTable;
  deploys: DeploysTable;
  runs: RunsTable;
  run_nodes: RunNodesTable;
  run_logs: RunLogsTable;
  run_attempts: RunAttemptsTable;
  replays: ReplaysTable;
}
