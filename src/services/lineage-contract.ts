/**
 * The contract between a deploy and inference: the deploy hands over the jobs whose lineage key
 * changed, inference answers each job's destination and sources (or an error for that job only).
 * Implemented by services/lineage-infer.ts (binary mods through the mod host, declarative
 * `destination_urn_template` + `asset_parsers` specs, or nothing for plugins without a resolver).
 */
import type { JobSpec } from '../core/job.js';
import type { Problem } from '../core/problem.js';
import type { JobLineage } from '../store/lineage-store.js';

export interface InferRequest {
  projectName: string;
  namespaceName: string;
  /** The job as validated (after inheritance): its task, config, window, schedule, labels. */
  spec: JobSpec;
  /** Asset path → content, as deployed (not rendered yet). */
  assets: Record<string, string>;
  /** The job's content hash (as stored in jobs.hash). */
  hash: string;
  /** Project and namespace config: GLOBAL__* when rendering, and part of the lineage key. */
  projectConfig: Record<string, string>;
  namespaceConfig: Record<string, string>;
}

export type InferResult =
  | { ok: true; lineage: JobLineage }
  /** Only this job failed (its plugin crashed, timed out, answered nonsense, a template failed). */
  | { ok: false; problem: Problem };

export interface Inferrer {
  /** The key a job's lineage would be stored under now (cheap: no plugin call). */
  key(req: InferRequest): string;
  /**
   * `key` for many jobs of one namespace: the key of a job with that task plugin and content hash,
   * the plugin's part computed once per plugin. Optional: without it `key` is called per job.
   */
  keyer?(
    projectConfig: Record<string, string>,
    namespaceConfig: Record<string, string>,
  ): (taskName: string, hash: string) => string;
  /** Results in the order of `reqs`. Never rejects for one job's failure. */
  infer(
    reqs: readonly InferRequest[],
    opts?: { onProgress?: (done: number, total: number) => void },
  ): Promise<InferResult[]>;
  /** Stops the plugin processes it started. */
  close(): Promise<void>;
}
