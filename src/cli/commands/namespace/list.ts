import { seg } from '../../api-client.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfig, serverClient } from '../../context.js';
import { printJson } from '../../output.js';

export async function run({ opts }: CommandContext): Promise<number> {
  const config = projectConfig(opts);
  const client = serverClient(opts, config);
  const { namespaces } = await client.get<{ namespaces: { name: string; updated_at: string }[] }>(
    `/api/v1beta1/project/${seg(config.project.name)}/namespace`,
  );
  if (opts.json) printJson({ ok: true, project: config.project.name, namespaces });
  else if (!namespaces.length)
    process.stdout.write(`no namespaces registered; run \`optimus namespace register\`\n`);
  else for (const n of namespaces) process.stdout.write(`${n.name}\n`);
  return 0;
}
