import { pluginV3JsonSchema } from '../../../spec/json-schema.js';
import type { CommandContext } from '../../main.js';

export async function run(_ctx: CommandContext): Promise<number> {
  // The schema is JSON either way; --json is accepted for symmetry with every other command.
  process.stdout.write(`${JSON.stringify(pluginV3JsonSchema(), null, 2)}\n`);
  return 0;
}
