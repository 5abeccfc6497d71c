import type { CommandContext } from '../../command-kit.js';
import { projectConfig, registerProject, serverClient } from '../../context.js';
import { plural, printJson } from '../../output.js';

export async function run({ opts }: CommandContext): Promise<number> {
  const config = projectConfig(opts);
  const client = serverClient(opts, config);
  const { project, namespaces, warnings } = await registerProject(
    client,
    config,
    config.namespaces.map((n) => n.name),
  );
  if (opts.json) printJson({ ok: true, project, namespaces, warnings });
  else {
    for (const w of warnings) process.stderr.write(`warning: ${w.message}\n`);
    process.stdout.write(
      `registered project ${config.project.name} (${plural(config.hookRules.length, 'hook rule')}) and ${plural(namespaces.length, 'namespace')} on ${client.baseUrl}\n`,
    );
  }
  return 0;
}
