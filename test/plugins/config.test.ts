import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadPluginsConfig,
  parsePluginsSection,
  pluginsSectionSchema,
} from '../../src/plugins/install/config.js';
import { cachedSection, readConfigBytes, recordable } from '../../src/plugins/install/config-cache.js';
import { installPlugins } from '../../src/plugins/install/installer.js';
import { parseYaml } from '../../src/spec/yaml-source.js';
import { tempDir, writeConfig } from './helpers.js';

function load(yaml: string) {
  const dir = tempDir();
  return { dir, ...loadPluginsConfig(writeConfig(dir, yaml)) };
}

describe('plugins section', () => {
  it('normalises canonical providers and entries, resolving install_location beside the config', () => {
    const { dir, section, problems } = load(`install_location: vendor/plugins
providers:
  - {name: web, type: http, url: "https://plugins.example/", headers: {Authorization: "Bearer \${TOKEN}"}}
  - {name: disk, type: file, root: ./artifacts}
  - {name: bucket, type: s3, bucket: acme, region: eu-west-1, endpoint: "http://127.0.0.1:9000", force_path_style: true, access_key_id: "\${AK}", secret_access_key: "\${SK}"}
  - {name: gcs, type: gcs, bucket: acme-gcs, service_account: "\${SA}"}
list:
  - {name: wh-load, provider: web, url: wh-load.tar.gz, sha256: "sha256:${'A'.repeat(64)}"}
  - {name: notify, url: "gs://acme/notify.yaml"}
dependencies: ["a >> b,c"]`);
    expect(problems).toEqual([]);
    expect(section!.installLocation).toBe(join(dir, 'vendor/plugins'));
    expect(section!.providers.map((p) => [p.name, p.type])).toEqual([
      ['web', 'http'],
      ['disk', 'file'],
      ['bucket', 's3'],
      ['gcs', 'gcs'],
    ]);
    expect(section!.providers[0]).toMatchObject({ headers: { Authorization: `Bearer \${TOKEN}` } });
    expect(section!.providers[1]).toMatchObject({ root: join(dir, 'artifacts') });
    expect(section!.list[0]).toMatchObject({ name: 'wh-load', provider: 'web', sha256: 'a'.repeat(64) });
  });

  it("loads the proposal's literal shapes as aliases", () => {
    const { section, problems } = load(`providers:
  - http: {name: internal, url: "https://plugins.acme/"}
  - gcs: {name: team, location: "gs://acme-plugins/optimus", service_account: "\${SA}"}
list:
  - plugin: {name: warehouse-load, url: wh.tar.gz, provider: internal}`);
    expect(problems).toEqual([]);
    expect(section!.providers[0]).toMatchObject({
      name: 'internal',
      type: 'http',
      url: 'https://plugins.acme/',
    });
    expect(section!.providers[1]).toMatchObject({
      name: 'team',
      type: 'gcs',
      bucket: 'acme-plugins',
      prefix: 'optimus',
    });
    expect(section!.list[0]).toMatchObject({ name: 'warehouse-load', provider: 'internal' });
  });

  it('defaults install_location to .plugins beside the config', () => {
    const { dir, section } = load('list: []');
    expect(section!.installLocation).toBe(join(dir, '.plugins'));
  });

  it('reads the download limits in seconds, and leaves unset ones to the installer', () => {
    const both = load('download: {stall_timeout_seconds: 12, deadline_seconds: 0.5}\nlist: []');
    expect(both.problems).toEqual([]);
    expect(both.section!.download).toEqual({ stallTimeoutMs: 12_000, deadlineMs: 500 });
    const one = load('download: {deadline_seconds: 90}\nlist: []');
    expect(one.section!.download).toEqual({ deadlineMs: 90_000 });
    expect(load('list: []').section!.download).toBeUndefined();
  });

  it('refuses download limits that are not positive numbers, or unknown, with their path', () => {
    const { problems } = load(
      'download: {stall_timeout_seconds: 0, deadline_seconds: soon, retries: 3}\nlist: []',
    );
    expect(problems.map((p) => `${p.line} ${p.path} ${p.code} ${p.severity}`)).toEqual([
      '4 plugins.download.stall_timeout_seconds PLUGINS_INVALID error',
      '4 plugins.download.deadline_seconds PLUGINS_INVALID error',
      '4 plugins.download.retries PLUGINS_UNKNOWN_KEY error',
    ]);
  });

  it('reports every problem with file, line, column and path', () => {
    const { problems } = load(`providers:
  - {name: web, type: ftp, url: x}
  - {name: web2, type: http}
list:
  - {name: a, url: a.yaml, provider: nowhere}
  - {name: "bad/name", url: b.yaml}
  - {name: c, url: c.yaml, sha256: abc}
  - {name: d, url: d.yaml, colour: blue}
  - {name: d2, url: d.yaml}
  - {name: d2, url: e.yaml}`);
    // writeConfig puts three lines (version, project, plugins:) before the section.
    const brief = problems.map((p) => `${p.line}:${p.column} ${p.path} ${p.code}`);
    expect(brief).toEqual([
      expect.stringMatching(/^5:\d+ plugins\.providers\[0\]\.type PLUGINS_INVALID$/),
      expect.stringMatching(/^6:\d+ plugins\.providers\[1\]\.url PLUGINS_INVALID$/),
      expect.stringMatching(/^8:\d+ plugins\.list\[0\]\.provider PLUGINS_PROVIDER_UNKNOWN$/),
      expect.stringMatching(/^9:\d+ plugins\.list\[1\]\.name PLUGINS_INVALID$/),
      expect.stringMatching(/^10:\d+ plugins\.list\[2\]\.sha256 PLUGINS_INVALID$/),
      expect.stringMatching(/^11:\d+ plugins\.list\[3\]\.colour PLUGINS_UNKNOWN_KEY$/),
      expect.stringMatching(/^13:\d+ plugins\.list\[5\]\.name PLUGINS_DUPLICATE$/),
    ]);
    expect(problems.every((p) => p.file?.endsWith('optimus.yaml'))).toBe(true);
  });

  it('locates problems inside an aliased item', () => {
    const { problems } = load('list:\n  - plugin: {name: x}\n');
    expect(problems[0]).toMatchObject({
      path: 'plugins.list[0].plugin.url',
      line: 5,
      code: 'PLUGINS_INVALID',
      message: 'is required',
    });
  });

  it('parses a section found anywhere in another document (the server config)', () => {
    const src = parseYaml(
      'serve: {port: 9100}\nplugin_config:\n  list:\n    - {name: a, url: 5}\n',
      '/srv/server.yaml',
    );
    const { problems } = parsePluginsSection(
      (src.value as { plugin_config: unknown }).plugin_config,
      src,
      ['plugin_config'],
      '/srv',
    );
    expect(problems[0]).toMatchObject({ path: 'plugin_config.list[0].url', line: 4 });
  });

  it('exposes a schema that accepts both shapes and the dependencies key', () => {
    expect(
      pluginsSectionSchema.safeParse({
        providers: [{ http: { name: 'a', url: 'u' } }, { name: 'b', type: 'file', root: '.' }],
        list: [{ plugin: { name: 'x', url: 'y' } }, { name: 'z', url: 'w' }],
        dependencies: ['a >> b'],
      }).success,
    ).toBe(true);
  });

  it('reports a missing config file with a hint', () => {
    const { problems } = loadPluginsConfig('/nonexistent/optimus.yaml');
    expect(problems[0]).toMatchObject({ code: 'PLUGINS_CONFIG_MISSING', file: '/nonexistent/optimus.yaml' });
  });

  it('never copies a literal credential into the state file', () => {
    const ok = (providers: string) => {
      const { section } = load(`providers:\n${providers}\nlist: []`);
      return recordable(section!);
    };
    expect(ok(`  - {name: a, type: http, url: "https://h/", auth: {token: "\${TOKEN}"}}`)).toBe(true);
    expect(ok(`  - {name: a, type: s3, bucket: b, secret_access_key: "\${K}", access_key_id: "\${I}"}`)).toBe(
      true,
    );
    expect(ok('  - {name: a, type: http, url: "https://h/", auth: {token: "abcd1234"}}')).toBe(false);
    expect(ok(`  - {name: a, type: http, url: "https://h/", headers: {x-key: "pre-\${K}"}}`)).toBe(false);
    expect(ok('  - {name: a, type: http, url: "https://u:p@h/"}')).toBe(false);
    expect(ok('  - {name: a, type: gcs, bucket: b, service_account: /keys/sa.json}')).toBe(false);
  });

  it('gives the recorded section only for the exact bytes that were validated', async () => {
    const dir = tempDir();
    const file = writeConfig(dir, 'list: []');
    const { section } = loadPluginsConfig(file);
    const bytes = (await readConfigBytes(file))!;
    expect(await cachedSection(bytes)).toBeUndefined();
    await installPlugins(section!, { configSha256: bytes.sha256 });
    expect(await cachedSection(bytes)).toEqual(section);
    expect(await cachedSection({ ...bytes, sha256: 'f'.repeat(64) })).toBeUndefined();
    expect(await cachedSection({ ...bytes, file: join(dir, 'other.yaml') })).toBeUndefined();
  });
});
