import { seg } from '../../api-client.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfig, serverClient } from '../../context.js';
import { plural, printJson } from '../../output.js';

export async function run({ opts }: CommandContext): Promise<number> {
  const config = projectConfig(opts);
  const client = serverClient(opts, config);
  const { project } = await client.post<{ project: unknown }>('/api/v1beta1/project', {
    project: {
      name: config.project.name,
      config: config.project.config,
      plugin_dependencies: config.hookRules.map((r) => r.text),
    },
  });
  const namespaces = [];
  for (const ns of config.namespaces) {
    namespaces.push(
      (
        await client.post<{ namespace: unknown }>(
          `/api/v1beta1/project/${seg(config.project.name)}/namespace`,
          { namespace: { name: ns.name, config: ns.config } },
        )
      ).namespace,
    );
  }
  if (opts.json) printJson({ ok: true, project, namespaces });
  else
    process.stdout.write(
      `registered project ${config.project.name} (${plural(config.hookRules.length, 'hook rule')}) and ${plural(namespaces.length, 'namespace')} on ${client.baseUrl}\n`,
    );
  return 0;
}
