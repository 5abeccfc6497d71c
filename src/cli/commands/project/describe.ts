import { seg } from '../../api-client.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfig, serverClient } from '../../context.js';
import { printJson } from '../../output.js';

interface ProjectResponse {
  project: {
    name: string;
    config: Record<string, string>;
    plugin_dependencies: string[];
    updated_at: string;
  };
}

export async function run({ opts }: CommandContext): Promise<number> {
  const config = projectConfig(opts);
  const client = serverClient(opts, config);
  const { project } = await client.get<ProjectResponse>(`/api/v1beta1/project/${seg(config.project.name)}`);
  const { namespaces } = await client.get<{ namespaces: { name: string }[] }>(
    `/api/v1beta1/project/${seg(config.project.name)}/namespace`,
  );
  if (opts.json) {
    printJson({ ok: true, project, namespaces });
    return 0;
  }
  const lines = [`project ${project.name} on ${client.baseUrl} (updated ${project.updated_at})`, '  config:'];
  for (const [k, v] of Object.entries(project.config)) lines.push(`    ${k}: ${v}`);
  lines.push(`  hook rules: ${project.plugin_dependencies.length ? '' : 'none'}`);
  for (const r of project.plugin_dependencies) lines.push(`    ${r}`);
  lines.push(`  namespaces: ${namespaces.map((n) => n.name).join(', ') || 'none'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
