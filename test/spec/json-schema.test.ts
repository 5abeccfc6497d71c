import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pluginV3JsonSchema } from '../../src/spec/json-schema.js';

describe('v3 plugin JSON Schema', () => {
  it('matches the committed schema (regenerate with `npm run schema`)', () => {
    const committed = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../schemas/plugin-v3.schema.json'), 'utf8'),
    );
    expect(pluginV3JsonSchema()).toEqual(committed);
  });

  it('describes the v3 fields and forbids unknown ones', () => {
    const s = pluginV3JsonSchema() as {
      properties: Record<string, unknown>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(s.required).toEqual(expect.arrayContaining(['version', 'name', 'plugin_versions']));
    expect(Object.keys(s.properties)).toEqual(
      expect.arrayContaining([
        'questions',
        'configs',
        'default_config',
        'default_assets',
        'mods',
        'destination_urn_template',
        'asset_parsers',
      ]),
    );
    expect(s.additionalProperties).toBe(false);
  });
});
