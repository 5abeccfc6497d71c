/** The job model after loading, inheritance and normalisation. */
import type { HookStage } from './plugin.js';

export interface HookSpec {
  /** Unique in the job. */
  name: string;
  /** The plugin; defaults to `name`. */
  type: string;
  /** Explicit stage; when absent the plugin's hint applies, else `post`. */
  stage?: HookStage;
  /** Explicit upstream hooks; when set it replaces the project rules targeting this hook. */
  dependsOn?: string[];
  version?: string;
  config: Record<string, string>;
}

export interface TaskSpec {
  name: string;
  version?: string;
  config: Record<string, string>;
  window?: WindowSpec;
}

export interface WindowSpec {
  size?: string;
  offset?: string;
  shift_by?: string;
  truncate_to?: string;
  location?: string;
  preset?: string;
}

export interface JobDependency {
  job?: string;
  type?: string;
  http?: { name: string; url: string; headers?: Record<string, string>; params?: Record<string, string> };
}

export interface NotifySpec {
  on: string;
  config?: Record<string, string>;
  channels?: string[];
  severity?: string;
  team?: string;
}

export interface JobSpec {
  version: number;
  name: string;
  owner: string;
  description?: string;
  schedule: { start_date: string; end_date?: string; interval?: string };
  behavior: {
    depends_on_past?: boolean;
    catch_up?: boolean;
    /** Longest one attempt of a node may run (Go duration); default: the server's `scheduler.node_timeout`. */
    timeout?: string;
    retry?: { count?: number; delay?: string; exponential_backoff?: boolean };
    notify?: NotifySpec[];
    webhook?: { on: string; endpoints: { url: string; headers?: Record<string, string> }[] }[];
  };
  task: TaskSpec;
  hooks: HookSpec[];
  dependencies: JobDependency[];
  labels: Record<string, string>;
  metadata: Record<string, unknown>;
  /** Files under `assets/`, keyed by their path relative to it. */
  assets: Record<string, string>;
}
