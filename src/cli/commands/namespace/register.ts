import { OptimusError } from '../../../core/errors.js';
import { seg } from '../../api-client.js';
import type { CommandContext } from '../../command-kit.js';
import { projectConfig, serverClient } from '../../context.js';
import { printJson } from '../../output.js';

export async function run({ args, opts }: CommandContext): Promise<number> {
  const config = projectConfig(opts);
  const client = serverClient(opts, config);
  const names = args.length ? args : config.namespaces.map((n) => n.name);
  const missing = names.filter((n) => !config.namespaces.some((ns) => ns.name === n));
  if (missing.length) {
    throw new OptimusError('NAMESPACE_UNKNOWN', `namespace ${missing.join(', ')} is not in optimus.yaml`, {
      category: 'usage',
      hint: 'add it under namespaces first',
    });
  }
  const out = [];
  for (const name of names) {
    const ns = config.namespaces.find((n) => n.name === name)!;
    out.push(
      (
        await client.post<{ namespace: unknown }>(
          `/api/v1beta1/project/${seg(config.project.name)}/namespace`,
          { namespace: { name, config: ns.config } },
        )
      ).namespace,
    );
  }
  if (opts.json) printJson({ ok: true, namespaces: out });
  else process.stdout.write(`registered ${names.join(', ')} in project ${config.project.name}\n`);
  return 0;
}
