/** JSON Schema for v3 plugin specs, generated from the validator itself. */
import { z } from 'zod';
import { pluginV3Schema } from './plugin-schema.js';

export const PLUGIN_V3_SCHEMA_ID = 'https://optimus.dev/schemas/plugin-v3.schema.json';

export function pluginV3JsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(pluginV3Schema, {
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return { $id: PLUGIN_V3_SCHEMA_ID, title: 'Optimus plugin spec (version 3)', ...schema };
}
