import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inferDeclarative } from '../../../src/plugins/mods/declarative.js';
import { loadPluginObject } from '../../../src/spec/plugin-spec.js';

const fixtures = join(import.meta.dirname, '../../fixtures/upstream/goto-optimus');
const upstream = (file: string) => {
  const loaded = loadPluginObject(parse(readFileSync(join(fixtures, file), 'utf8')), file);
  if (!loaded.plugin) throw new Error(`${file} does not load`);
  return loaded.plugin;
};

const config = { PROJECT: 'proj', DATASET: 'mart', TABLE: 'roi' };

describe('declarative inference (upstream goto plugins)', () => {
  it('renders the destination template and reads the sources of query.sql, without the destination', async () => {
    const plugin = upstream('plugin_tests_sample_plugin_with_parser_and_destination_template.yaml');
    const r = await inferDeclarative({
      plugin,
      config,
      assets: {
        'query.sql':
          'with spend as (select * from `proj.ads.spend`) select * from spend join `proj.crm.orders` using (id) union all select * from `proj.mart.roi`',
      },
    });
    expect(r).toEqual({
      destination: 'bigquery://proj:mart.roi',
      sources: ['bigquery://proj:ads.spend', 'bigquery://proj:crm.orders'],
      warnings: [],
    });
  });

  it('gives a destination and no sources to a plugin with only a template', async () => {
    const r = await inferDeclarative({
      plugin: upstream('plugin_tests_sample_plugin_with_destination_template.yaml'),
      config,
      assets: { 'query.sql': 'select * from `a.b.c`' },
    });
    expect(r).toEqual({ destination: 'bigquery://proj:mart.roi', sources: [], warnings: [] });
  });

  it('reads sources with no destination for a plugin with only parsers, matching the asset by base name', async () => {
    const r = await inferDeclarative({
      plugin: upstream('plugin_tests_sample_plugin_with_parser.yaml'),
      config: {},
      assets: { 'sql/query.sql': 'select 1 from `x.y.z`', 'other.sql': 'select 1 from `no.not.this`' },
    });
    expect(r).toEqual({ destination: null, sources: ['bigquery://x:y.z'], warnings: [] });
  });

  it('follows a YAML path selector, replacing a value that names an asset by that asset', async () => {
    const plugin = upstream('plugin_tests_sample_plugin_with_parser_and_yamlpath_selector.yaml');
    const inline = await inferDeclarative({
      plugin,
      config: {},
      assets: { 'config.yaml': 'query: select * from `p.d.inline`\nother: select * from `p.d.no`\n' },
    });
    expect(inline.sources).toEqual(['bigquery://p:d.inline']);
    const named = await inferDeclarative({
      plugin,
      config: {},
      assets: { 'config.yaml': 'query: ./main.sql\n', 'main.sql': 'select * from `p.d.named`' },
    });
    expect(named.sources).toEqual(['bigquery://p:d.named']);
  });

  it('reads SQL from a config value, or from the assets under the /data/in/ path it names', async () => {
    const plugin = { name: 'envy', assetParsers: { bq: [{ env: 'SQL' }] } };
    const inline = await inferDeclarative({ plugin, config: { SQL: 'select * from `p.d.a`' }, assets: {} });
    expect(inline.sources).toEqual(['bigquery://p:d.a']);
    const path = await inferDeclarative({
      plugin,
      config: { SQL: '/data/in/queries/' },
      assets: {
        'queries/one.sql': 'select * from `p.d.one`',
        'queries/two.sql': 'select * from `p.d.two`',
        'x.sql': 'select * from `p.d.x`',
      },
    });
    expect(path.sources).toEqual(['bigquery://p:d.one', 'bigquery://p:d.two']);
  });

  it('reports a statement the parser cannot read as a warning naming the asset', async () => {
    const r = await inferDeclarative({
      plugin: { name: 'p', assetParsers: { bq: [{ filepath: 'query.sql' }] } },
      config: {},
      assets: { 'query.sql': 'select * from `p.d.ok`;\nthis is not sql at all;' },
    });
    expect(r.sources).toEqual(['bigquery://p:d.ok']);
    expect(r.warnings.length).toBeGreaterThan(0);
    expect(r.warnings[0]).toMatch(/^assets\.query\.sql: /);
  });

  it('warns, not fails, when the asset a parser names is missing', async () => {
    const r = await inferDeclarative({
      plugin: upstream('plugin_tests_sample_plugin_with_parser.yaml'),
      config: {},
      assets: {},
    });
    expect(r).toEqual({
      destination: null,
      sources: [],
      warnings: ['asset_parsers.bq[0].filepath: the job has no asset query.sql'],
    });
  });

  it('refuses a malformed destination template clearly, when loading the spec and when inferring', async () => {
    const file = 'plugin_tests_sample_plugin_with_unproper_destination_template.yaml';
    const loaded = loadPluginObject(parse(readFileSync(join(fixtures, file), 'utf8')), file);
    expect(loaded.problems).toContainEqual(
      expect.objectContaining({
        path: 'destination_urn_template',
        message: expect.stringContaining('unclosed "<"'),
      }),
    );
    // A spec that got past an older loader (or was built in code) is refused again, not guessed at.
    const plugin = { name: 'bq2bqtest', destinationUrnTemplate: 'bigquery://<PROJECT:<DATASET' };
    await expect(inferDeclarative({ plugin, config, assets: {} })).rejects.toMatchObject({
      code: 'DESTINATION_TEMPLATE_INVALID',
      message: expect.stringContaining('"bigquery://<PROJECT:<DATASET" of plugin bq2bqtest is malformed'),
      field: 'task',
    });
  });

  it('names the config a destination template reads when the job does not set it', async () => {
    const plugin = upstream('plugin_tests_sample_plugin_with_destination_template.yaml');
    await expect(
      inferDeclarative({ plugin, config: { PROJECT: 'p', DATASET: 'd' }, assets: {} }),
    ).rejects.toMatchObject({
      code: 'DESTINATION_CONFIG_MISSING',
      field: 'task.config.TABLE',
    });
  });
});
