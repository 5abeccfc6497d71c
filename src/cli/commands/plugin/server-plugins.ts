/** `plugin list --server` and `plugin diff --server`: the server's plugins, and how they differ from ours. */
import { inspect } from '../../../plugins/install/status.js';
import { loadProjectConfig } from '../../../spec/project-config.js';
import { out as pc } from '../../colors.js';
import { serverClient } from '../../context.js';
import { EXIT_OK, EXIT_PROBLEMS } from '../../errors.js';
import { printJson } from '../../output.js';
import { loadSection } from './install-support.js';

export interface ServerPlugin {
  name: string;
  version: string;
  kind: string;
  dialect: string;
  stage_hint: string | null;
  task_only: boolean;
  mods: string[];
}

async function fetchServerPlugins(opts: Record<string, unknown>) {
  const config = loadProjectConfig(String(opts.config ?? './optimus.yaml')).config;
  const client = serverClient(opts, config);
  const { plugins } = await client.get<{ plugins: ServerPlugin[] }>('/api/v1beta1/plugins');
  return { client, plugins };
}

export async function listServer(opts: Record<string, unknown>): Promise<number> {
  const { client, plugins } = await fetchServerPlugins(opts);
  if (opts.json) {
    printJson({ ok: true, server: client.baseUrl, plugins });
    return EXIT_OK;
  }
  if (!plugins.length) {
    process.stdout.write(`the server at ${client.baseUrl} serves no plugins\n`);
    return EXIT_OK;
  }
  const table = [
    ['NAME', 'KIND', 'VERSION', 'DIALECT', 'ROLE'],
    ...plugins.map((p) => [
      p.name,
      p.kind,
      p.version,
      p.dialect,
      p.task_only ? 'task only' : `task or hook${p.stage_hint ? ` (${p.stage_hint})` : ''}`,
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  table.forEach((row, i) => {
    const text = row.map((c, j) => (j === row.length - 1 ? c : c.padEnd(widths[j]!))).join('  ');
    process.stdout.write(`${i === 0 ? pc.bold(text) : text}\n`);
  });
  process.stdout.write(pc.dim(`served by ${client.baseUrl}\n`));
  return EXIT_OK;
}

/** Local config and lock against the server: what only one side has, and version differences. */
export async function diffServer(opts: Record<string, unknown>): Promise<number> {
  const loaded = loadSection(opts);
  if ('exit' in loaded) return loaded.exit;
  const [{ views }, { client, plugins }] = await Promise.all([
    inspect(loaded.section),
    fetchServerPlugins(opts),
  ]);
  const server = new Map(plugins.map((p) => [p.name, p]));
  const changes: { name: string; change: string; detail: string }[] = [];
  for (const v of views) {
    if (!v.inConfig) continue;
    const s = server.get(v.name);
    if (!s)
      changes.push({
        name: v.name,
        change: 'only-local',
        detail: 'in the local config, not served by the server',
      });
    else if (v.locked?.version && v.locked.version !== s.version) {
      changes.push({
        name: v.name,
        change: 'version',
        detail: `local lock ${v.locked.version}, server ${s.version}`,
      });
    }
  }
  for (const s of plugins) {
    if (!views.some((v) => v.inConfig && v.name === s.name))
      changes.push({
        name: s.name,
        change: 'only-server',
        detail: `served (${s.version}), not in the local config`,
      });
  }
  changes.sort((a, b) => a.name.localeCompare(b.name));
  if (opts.json) printJson({ ok: true, server: client.baseUrl, same: changes.length === 0, changes });
  else if (!changes.length) process.stdout.write(`local plugins match the server at ${client.baseUrl}\n`);
  else
    for (const c of changes)
      process.stdout.write(
        `${c.change === 'only-server' ? pc.green('+') : c.change === 'only-local' ? pc.red('-') : pc.yellow('~')} ${c.name}: ${c.detail}\n`,
      );
  return changes.length && opts.exitCode ? EXIT_PROBLEMS : EXIT_OK;
}
