/**
 * `optimus job inspect <job>`: what the server holds for a job — run graph, configs (secret configs
 * redacted unless they are references), assets, its lineage (destination, sources, upstreams and
 * downstreams with why) — and whether the local checkout matches it.
 */
import { contentHash } from '../../../core/canonical-json.js';
import { OptimusError } from '../../../core/errors.js';
import { hasErrors } from '../../../core/problem.js';
import { isSecretReference } from '../../../core/secret-ref.js';
import { loadProjectJobs, suggest } from '../../../services/validate-project.js';
import type { ProjectConfig } from '../../../spec/project-config.js';
import { type ApiClient, ServerError, seg } from '../../api-client.js';
import { out as pc } from '../../colors.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfig, serverClient } from '../../context.js';
import { printJson } from '../../output.js';

interface ServerJob {
  name: string;
  namespace: string;
  hash: string;
  updated_at: string;
  spec: {
    task?: { name?: string; config?: Record<string, unknown> };
    hooks?: { name: string; type?: string; stage?: string; config?: Record<string, unknown> }[];
  };
  assets: Record<string, string>;
  /** A list of nodes from servers older than edge origins. */
  run_graph: GraphNode[] | { nodes: GraphNode[]; edges: GraphEdge[]; dropped: DroppedRule[] };
  /** Lineage; absent from servers older than job dependencies. */
  destination?: string | null;
  sources?: {
    urn: string;
    external: boolean;
    writers: { project: string; namespace: string; job: string }[];
  }[];
  lineage_warnings?: string[];
  upstreams?: Edge[];
  downstreams?: Edge[];
}

interface GraphNode {
  name: string;
  type: string;
  stage: string;
  depends_on: string[];
}

interface GraphEdge {
  from: string;
  to: string;
  origin: string;
  rule: number | null;
  detail: string;
}

interface DroppedRule {
  rule: number | null;
  from: string | null;
  to: string | null;
  reason: string;
}

interface Edge {
  project: string;
  namespace: string;
  job: string;
  kind: 'inferred' | 'static';
  via: string[];
}

export async function run({ args, opts }: CommandContext): Promise<number> {
  const name = args[0]!;
  const config = projectConfig(opts);
  const client = serverClient(opts, config);
  const project = seg(config.project.name);
  const { namespaces } = await client.get<{ namespaces: { name: string }[] }>(
    `/api/v1beta1/project/${project}/namespace`,
  );
  let job: ServerJob | undefined;
  for (const ns of namespaces) {
    try {
      job = (
        await client.get<{ job: ServerJob }>(
          `/api/v1beta1/project/${project}/namespace/${seg(ns.name)}/job/${seg(name)}`,
        )
      ).job;
      break;
    } catch (e) {
      if (!(e instanceof ServerError) || e.status !== 404) throw e;
    }
  }
  if (!job) {
    throw new OptimusError(
      'JOB_NOT_FOUND',
      `job "${name}" is not deployed in project ${config.project.name} on ${client.baseUrl}`,
      { category: 'not_found', hint: await notFoundHint(client, project, namespaces, config, name) },
    );
  }

  // Which configs are secrets, per plugin, as the server's specs say.
  const secretKeys = new Map<string, Set<string>>();
  for (const type of new Set(
    [job.spec.task?.name, ...(job.spec.hooks ?? []).map((h) => h.type ?? h.name)].filter(Boolean) as string[],
  )) {
    try {
      const { plugin } = await client.get<{ plugin: { configs: { name: string; secret: boolean }[] } }>(
        `/api/v1beta1/plugins/${seg(type)}`,
      );
      secretKeys.set(type, new Set(plugin.configs.filter((c) => c.secret).map((c) => c.name)));
    } catch (e) {
      if (!(e instanceof ServerError) || e.status !== 404) throw e;
    }
  }
  const redact = (plugin: string, config: Record<string, unknown> = {}) =>
    Object.fromEntries(
      Object.entries(config)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [
          k,
          secretKeys.get(plugin)?.has(k) && !isSecretReference(String(v)) ? '[redacted]' : v,
        ]),
    );

  // Only the local job's content matters here: load the jobs, no plugins or checks.
  const local = loadProjectJobs(config)
    .map((j) => j.loaded)
    .find((l) => l.spec?.name === name && l.raw && !hasErrors(l.problems));
  const localState = !local
    ? 'not in this checkout'
    : contentHash({ spec: local.raw, assets: local.spec!.assets }) === job.hash
      ? 'in sync'
      : 'differs';

  const taskName = job.spec.task?.name ?? '';
  const graph = Array.isArray(job.run_graph)
    ? { nodes: job.run_graph, edges: [], dropped: [] }
    : job.run_graph;
  const view = {
    name: job.name,
    namespace: job.namespace,
    project: config.project.name,
    hash: job.hash,
    updated_at: job.updated_at,
    local: localState,
    run_graph: graph.nodes,
    run_graph_edges: graph.edges,
    dropped_rules: graph.dropped,
    task: { plugin: taskName, config: redact(taskName, job.spec.task?.config) },
    hooks: (job.spec.hooks ?? []).map((h) => ({
      name: h.name,
      plugin: h.type ?? h.name,
      config: redact(h.type ?? h.name, h.config),
    })),
    assets: Object.fromEntries(Object.entries(job.assets).map(([k, v]) => [k, Buffer.byteLength(v)])),
    destination: job.destination ?? null,
    sources: job.sources ?? [],
    upstreams: job.upstreams ?? [],
    downstreams: job.downstreams ?? [],
    lineage_warnings: job.lineage_warnings ?? [],
  };
  if (opts.json) {
    printJson({ ok: true, ...view });
    return 0;
  }
  const lines = [
    `${pc.bold(view.name)} ${pc.dim(`(namespace ${view.namespace}, project ${view.project}, ${client.baseUrl})`)}`,
    `  deployed ${view.updated_at}, hash ${view.hash.slice(0, 12)}; local checkout: ${localState === 'in sync' ? pc.green(localState) : localState === 'differs' ? pc.yellow('differs (run `optimus deploy`)') : pc.dim(localState)}`,
    '  run order:',
    ...view.run_graph.map(
      (n, i) =>
        `    ${String(i + 1).padStart(2)}. ${n.stage.padEnd(4)} ${n.name}${n.type !== n.name ? pc.dim(` (${n.type})`) : ''}${n.depends_on.length ? pc.dim(` ← ${n.depends_on.map((d) => `${d}${edgeNote(graph.edges, d, n.name)}`).join(', ')}`) : ''}`,
    ),
    ...(view.dropped_rules.length
      ? [
          '  dropped ordering rules:',
          ...view.dropped_rules.map(
            (d) =>
              `    ${d.rule === null ? 'legacy hint' : `rule ${d.rule}`}${d.from !== null && d.to !== null ? ` ${d.from} >> ${d.to}` : ''}: ${d.reason}`,
          ),
        ]
      : []),
    `  task ${taskName}:`,
    ...Object.entries(view.task.config).map(([k, v]) => `    ${k}: ${v}`),
  ];
  for (const h of view.hooks) {
    lines.push(`  hook ${h.name}${h.plugin !== h.name ? pc.dim(` (${h.plugin})`) : ''}:`);
    for (const [k, v] of Object.entries(h.config)) lines.push(`    ${k}: ${v}`);
  }
  lines.push(
    `  assets: ${
      Object.entries(view.assets)
        .map(([k, b]) => `${k} (${b} B)`)
        .join(', ') || 'none'
    }`,
  );
  lines.push(...lineageLines(view, config.project.name));
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** Where an edge came from, when it is not the stage order (which every hook has). */
function edgeNote(edges: readonly GraphEdge[], from: string, to: string): string {
  const e = edges.find((x) => x.from === from && x.to === to);
  if (!e || e.origin === 'default') return '';
  if (e.origin === 'rule') return ` (rule ${e.rule})`;
  return ` (${e.origin.replace('_', ' ')})`;
}

/** Destination, sources, upstreams and downstreams, each with why; other projects' jobs in full. */
function lineageLines(
  view: {
    destination: string | null;
    sources: NonNullable<ServerJob['sources']>;
    upstreams: Edge[];
    downstreams: Edge[];
    lineage_warnings: string[];
  },
  project: string,
): string[] {
  const name = (e: { project: string; namespace: string; job: string }) =>
    `${e.project === project ? '' : `${e.project}/`}${e.namespace}/${e.job}`;
  const why = (e: Edge) => {
    const deps = e.via.filter((v) => v.startsWith('dependencies['));
    const urns = e.via.filter((v) => !v.startsWith('dependencies['));
    return [...deps, ...(urns.length ? [`reads ${urns.join(', ')}`] : [])].join('; ');
  };
  const edges = (title: string, arrow: string, list: Edge[]) =>
    list.length
      ? [`  ${title}:`, ...list.map((e) => `    ${arrow} ${name(e)} ${pc.dim(`(${why(e)})`)}`)]
      : [`  ${title}: ${pc.dim('none')}`];
  return [
    `  destination: ${view.destination ?? pc.dim('none inferred')}`,
    ...(view.sources.length
      ? [
          '  sources:',
          ...view.sources.map(
            (s) =>
              `    ${s.urn} ${s.external ? pc.dim('(external: no job writes it)') : pc.dim(`(written by ${s.writers.map(name).join(', ')})`)}`,
          ),
        ]
      : [`  sources: ${pc.dim('none inferred')}`]),
    ...edges('upstreams', '←', view.upstreams),
    ...edges('downstreams', '→', view.downstreams),
    ...(view.lineage_warnings.length
      ? ['  lineage warnings:', ...view.lineage_warnings.map((w) => `    ${pc.yellow('warning')} ${w}`)]
      : []),
  ];
}

/** A job of this checkout not deployed yet: deploy it; else the nearest deployed names. */
async function notFoundHint(
  client: ApiClient,
  project: string,
  namespaces: { name: string }[],
  config: ProjectConfig,
  name: string,
): Promise<string> {
  const local = loadProjectJobs(config).some((j) => j.loaded.spec?.name === name);
  if (local) return `it is in this checkout: deploy it with \`optimus deploy\``;
  const deployed: string[] = [];
  for (const ns of namespaces) {
    const { jobs } = await client.get<{ jobs: { name: string }[] }>(
      `/api/v1beta1/project/${project}/namespace/${seg(ns.name)}/job`,
    );
    deployed.push(...jobs.map((j) => j.name));
  }
  if (!deployed.length) return 'nothing is deployed in this project yet: run `optimus deploy`';
  return suggest(name, [...new Set(deployed)].sort());
}
