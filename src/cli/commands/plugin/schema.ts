import { pluginV3JsonSchema } from '../../../spec/json-schema.js';
import type { CommandContext } from '../../command-kit.js';
import { printJson } from '../../output.js';

export async function run({ opts }: CommandContext): Promise<number> {
  // Bare, the schema is the output (`> plugin-v3.schema.json` for an editor); with --json it is
  // wrapped like every command's answer, so a script reads `ok` first.
  if (opts.json) printJson({ ok: true, schema: pluginV3JsonSchema() });
  else process.stdout.write(`${JSON.stringify(pluginV3JsonSchema(), null, 2)}\n`);
  return 0;
}
