/**
 * Kysely table types for the store. JSON columns are `jsonb`: they read back as parsed values and
 * are written as JSON text (`JSON.stringify`), which both `pg` and PGlite pass to the server as is.
 */
import type { ColumnType, Generated } from 'kysely';
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

export interface Database {
  projects: ProjectsTable;
  namespaces: NamespacesTable;
  secrets: SecretsTable;
  jobs: JobsTable;
  deploys: DeploysTable;
}
