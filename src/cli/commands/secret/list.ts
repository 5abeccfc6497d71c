import { seg } from '../../api-client.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfig, serverClient } from '../../context.js';
import { printJson } from '../../output.js';

interface ListResponse {
  secrets: { name: string; namespace: string | null; digest: string; updated_at: string }[];
}

export async function run({ opts }: CommandContext): Promise<number> {
  const config = projectConfig(opts);
  const client = serverClient(opts, config);
  const { secrets } = await client.get<ListResponse>(
    `/api/v1beta1/project/${seg(config.project.name)}/secret`,
  );
  if (opts.json) {
    printJson({ ok: true, project: config.project.name, secrets });
    return 0;
  }
  if (!secrets.length) {
    process.stdout.write(
      `no secrets in project ${config.project.name}; add one with \`optimus secret set NAME --file <path>\`\n`,
    );
    return 0;
  }
  const w = Math.max(4, ...secrets.map((s) => s.name.length));
  const nw = Math.max(9, ...secrets.map((s) => (s.namespace ?? '*').length));
  process.stdout.write(`${'NAME'.padEnd(w)}  ${'NAMESPACE'.padEnd(nw)}  ${'DIGEST'.padEnd(14)}  UPDATED\n`);
  for (const s of secrets)
    process.stdout.write(
      `${s.name.padEnd(w)}  ${(s.namespace ?? '*').padEnd(nw)}  ${`${s.digest.slice(0, 12)}…`.padEnd(14)}  ${s.updated_at}\n`,
    );
  return 0;
}
