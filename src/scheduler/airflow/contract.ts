/**
 * What the parts of the Airflow scheduler agree on: the wrapper image a plugin's nodes run in, the
 * job as the DAG compiler sees it, where DAG files go, and the pod token a pod fetches its run
 * input with. The compiler (dag-compiler.ts), the DAG storage (dag-storage.ts), the image builder
 * (wrapper-image.ts) and the pod token service (services/pod-token.ts) each implement their part.
 */
import { createHash } from 'node:crypto';
import type { Entrypoint } from '../../core/plugin.js';

/** Default base image and registry when the server config names none (scheduler.base_image, .registry). */
export const DEFAULT_BASE_IMAGE = 'optimus-ts/base:1';
export const DEFAULT_REGISTRY = 'localhost:5000/optimus';

/** Where the base image keeps its toolbox and entrypoint; the wrapper copies this folder. */
export const WRAPPER_HOME = '/opt/optimus';

export interface WrapperImageInput {
  /** The plugin's name: the wrapper image's repository name under the registry. */
  plugin: string;
  /** The executor image as the plugin spec names it, `image:tag` (imageRef of its version). */
  executorImage: string;
  /** The plugin's entrypoint (absent: the executor image's own, for legacy v1 specs). */
  entrypoint?: Entrypoint | undefined;
  baseImage: string;
  registry: string;
}

/**
 * `<registry>/<plugin>:<executor tag>-<first 8 hex of sha256 over the executor image ref, the base
 * image ref and the entrypoint>`. Nothing else goes into the tag, so it changes exactly when one of
 * those does. An executor image without a tag counts as `latest`.
 */
export function wrapperImageRef(input: WrapperImageInput): string {
  const { tag } = splitImageRef(input.executorImage);
  const digest = createHash('sha256')
    .update(
      JSON.stringify([
        input.executorImage,
        input.baseImage,
        input.entrypoint
          ? {
              shell: input.entrypoint.shell,
              script: input.entrypoint.script,
              args: input.entrypoint.args ?? null,
            }
          : null,
      ]),
    )
    .digest('hex')
    .slice(0, 8);
  return `${input.registry.replace(/\/+$/, '')}/${input.plugin}:${sanitiseTag(tag)}-${digest}`;
}

/** `repo[:tag][@digest]` split at the tag; a registry port (`host:5000/x`) is not a tag. */
export function splitImageRef(ref: string): { name: string; tag: string } {
  const at = ref.indexOf('@');
  const noDigest = at >= 0 ? ref.slice(0, at) : ref;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  if (colon > slash) return { name: noDigest.slice(0, colon), tag: noDigest.slice(colon + 1) };
  return { name: noDigest, tag: 'latest' };
}

/** A docker tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; anything else becomes `_`, and it is cut to leave room for the digest. */
function sanitiseTag(tag: string): string {
  const clean = tag.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.-]/, '_');
  return (clean || 'latest').slice(0, 100);
}

/** One node of a job's run graph as a DAG task runs it. */
export interface DagNode {
  /** The node's name in the run graph (`optimus job graph`): the task plugin's name or the hook's. */
  name: string;
  /** The plugin it is an instance of. */
  type: string;
  stage: 'task' | 'pre' | 'post' | 'fail';
  /** Node names it runs after (the run graph's edges). */
  dependsOn: string[];
  /** The wrapper image the pod runs (wrapperImageRef of the plugin). */
  image: string;
}

/** An upstream job whose run of the same window must have succeeded. */
export interface DagUpstream {
  project: string;
  namespace: string;
  job: string;
}

export interface DagHttpDependency {
  name: string;
  url: string;
  headers: Record<string, string>;
  params: Record<string, string>;
}

/** A job as its DAG file shows it: nothing secret, nothing that changes between two compiles. */
export interface DagJob {
  project: string;
  namespace: string;
  name: string;
  owner: string;
  description: string;
  /** YYYY-MM-DD. */
  startDate: string;
  endDate?: string;
  /** A cron expression or @daily-style value; null: triggered by hand only. */
  interval: string | null;
  dependsOnPast: boolean;
  catchUp: boolean;
  retry: { count: number; delaySeconds: number; exponentialBackoff: boolean };
  /** From behavior.notify `sla_miss` config.duration. */
  slaSeconds?: number;
  /** From behavior.timeout: the longest one attempt of a node may run (`execution_timeout`). */
  timeoutSeconds?: number;
  labels: Record<string, string>;
  pool?: string;
  queue?: string;
  resources?: {
    request?: { cpu?: string; memory?: string };
    limit?: { cpu?: string; memory?: string };
  };
  serviceAccount?: string;
  nodes: DagNode[];
  upstreams: DagUpstream[];
  http: DagHttpDependency[];
}

/** Upstream Optimus's layout under storage_path: one file per job, and one shared helper module. */
export const DAGS_FOLDER = 'dags';
export const LIB_FILE = '__lib.py';
export const dagPath = (namespace: string, job: string) => `${DAGS_FOLDER}/${namespace}/${job}.py`;
export const libPath = () => `${DAGS_FOLDER}/${LIB_FILE}`;

/**
 * A pod token: what a pod presents to fetch its node's run input. Minted when the pod is launched,
 * for one job, one node and one scheduled time, signed with the server's app key; it opens nothing
 * else and expires soon. Sent as `Authorization: Bearer <POD_TOKEN_PREFIX><payload>.<signature>`.
 */
export const POD_TOKEN_PREFIX = 'optimus-pod.';
export interface PodTokenScope {
  project: string;
  job: string;
  /** `task` or `hook`, and the instance name as the run input route takes them. */
  instanceType: 'task' | 'hook';
  instanceName: string;
  /** RFC3339, as the run input request sends it. */
  scheduledAt: string;
}

/**
 * The environment a DAG gives each pod, read by the base image's entrypoint: where the server is,
 * the pod token, and which node of which job at which time (as the run input request names them).
 * The entrypoint unpacks the run input under JOB_DIR (default /data) and runs the plugin in JOB_DIR/in.
 */
export const POD_ENV = {
  host: 'OPTIMUS_HOST',
  token: 'OPTIMUS_POD_TOKEN',
  project: 'PROJECT',
  job: 'JOB_NAME',
  instanceType: 'INSTANCE_TYPE',
  instanceName: 'INSTANCE_NAME',
  scheduledAt: 'SCHEDULED_AT',
  jobDir: 'JOB_DIR',
} as const;

/** What the compiler needs besides the job: the server pods and sensors talk to. */
export interface DagCompileOptions {
  /** Base URL of the Optimus server as pods reach it (serve.ingress_host). */
  optimusHost: string;
}

/** dag-compiler.ts exports `compileDag` of this type: same input, same bytes. */
export type CompileDag = (job: DagJob, opts: DagCompileOptions) => string;

/** Input of `dagJobOf` (dag-compiler.ts): a valid job with its run graph and resolved upstreams. */
export interface DagJobSource {
  project: string;
  namespace: string;
  spec: import('../../core/job.js').JobSpec;
  nodes: readonly import('../../core/run-graph.js').RunNode[];
  plugins: ReadonlyMap<string, import('../../core/plugin.js').Plugin>;
  images: { baseImage: string; registry: string };
  upstreams: readonly DagUpstream[];
}
