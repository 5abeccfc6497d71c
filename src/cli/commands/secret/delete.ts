import { seg } from '../../api-client.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfig, serverClient } from '../../context.js';
import { printJson } from '../../output.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const config = projectConfig(opts);
  const client = serverClient(opts, config);
  const query = opts.namespace ? `?namespace_name=${seg(String(opts.namespace))}` : '';
  const r = await client.delete<{ deleted: string }>(
    `/api/v1beta1/project/${seg(config.project.name)}/secret/${seg(args[0]!)}${query}`,
  );
  if (opts.json) printJson({ ok: true, deleted: r.deleted });
  else process.stdout.write(`secret ${r.deleted} deleted\n`);
  return 0;
}
