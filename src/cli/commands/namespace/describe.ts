import { seg } from '../../api-client.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfig, serverClient } from '../../context.js';
import { printJson } from '../../output.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const config = projectConfig(opts);
  const client = serverClient(opts, config);
  const base = `/api/v1beta1/project/${seg(config.project.name)}/namespace/${seg(args[0]!)}`;
  const { namespace } = await client.get<{
    namespace: { name: string; config: Record<string, string>; updated_at: string };
  }>(base);
  const { jobs } = await client.get<{ jobs: { name: string }[] }>(`${base}/job`);
  if (opts.json) {
    printJson({ ok: true, namespace, jobs });
    return 0;
  }
  const lines = [
    `namespace ${namespace.name} of project ${config.project.name} (updated ${namespace.updated_at})`,
    '  config:',
  ];
  for (const [k, v] of Object.entries(namespace.config)) lines.push(`    ${k}: ${v}`);
  lines.push(`  jobs (${jobs.length}): ${jobs.map((j) => j.name).join(', ') || 'none'}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
