/**
 * The lineage port: what a deploy stores about where each job writes and what it reads, and the
 * upstream edges resolved from that (inferred: a job reads what another writes; static: the job's
 * `dependencies`). Inference is incremental: a job's lineage carries the key of its inputs (content
 * hash, task plugin fingerprint, project and namespace config), so a deploy re-infers only jobs
 * whose key changed.
 *
 * Upstreams are resolved over every job of every project (a destination may be read across
 * namespaces and projects) inside the deploy's transaction, under one store-wide lock, so two
 * deploys running at once cannot together create a cycle that neither saw.
 */

/** What inference found for one job. */
export interface JobLineage {
  /** Key of the inputs this was computed from (see services/lineage-contract.ts `lineageKey`). */
  key: string;
  /** URN the job writes (e.g. `bigquery://p:d.t`); null when its task plugin infers none. */
  destination: string | null;
  /** URNs the job reads, sorted, without duplicates and without its own destination. */
  sources: string[];
  /** Problems that did not stop inference (a statement the SQL parser could not read, …). */
  warnings: string[];
}

/** A static dependency as the job spec declares it (`dependencies[index].job`, `project/job` form split). */
export interface StaticDependency {
  /** Absent: the job's own project. */
  project?: string;
  job: string;
  /** Index in the spec's `dependencies` list, for messages (`dependencies[2]`). */
  index: number;
}

/** One resolved upstream of a job. */
export interface UpstreamEdge {
  project: string;
  namespace: string;
  job: string;
  kind: 'inferred' | 'static';
  /** inferred: the source URNs the upstream writes that this job reads; static: `dependencies[i]`. */
  via: string[];
}

/** A job as upstream resolution sees it: light enough to read for every job of every project. */
export interface LineageRow {
  projectName: string;
  namespaceName: string;
  name: string;
  destination: string | null;
  sources: string[];
  staticDependencies: StaticDependency[];
  /** As stored now (resolved by the last deploy that touched this job or one it depends on). */
  upstreams: UpstreamEdge[];
}

/**
 * Given every job as it will be after the deploy, the upstream lists that differ from what is
 * stored (key `project/job`). Throws (an OptimusError) to refuse the deploy, e.g. on a cycle;
 * the transaction then rolls back and nothing is changed.
 */
export type ResolveUpstreams = (rows: readonly LineageRow[]) => Map<string, UpstreamEdge[]>;

export interface LineageStore {
  /** Every job of every project, light columns only. */
  lineageRows(): Promise<LineageRow[]>;
}
